"""Natural images that ship inside installed packages, so the course works offline.

``natural_image(name)`` returns one photograph as a float tensor (3, H, W) in [-1, 1], ganlab's
range; a grey photograph is repeated to three channels, so every name gives the same kind of
tensor. ``natural_image(name, size=256)`` shrinks it so that its longer side is 256 pixels.

``NATURAL_IMAGES`` says, for each name, which package ships the file, its size (height x width)
and what it shows. Every file is installed with scikit-learn, matplotlib or scikit-image and
read from disk; none is downloaded. (scikit-image also offers pictures that it fetches from
the network on first use, such as ``eagle`` or ``skin``; those are left out on purpose.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from . import validate


@dataclass(frozen=True)
class _Source:
    package: str  # the pip name of the package that installs the file
    read: Callable[[], np.ndarray]  # -> 8-bit pixels, (H, W) grey or (H, W, 3) colour
    about: str


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def read() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)

    return read


def _matplotlib(filename: str) -> Callable[[], np.ndarray]:
    def read() -> np.ndarray:
        from matplotlib import cbook, image

        return image.imread(cbook.get_sample_data(filename, asfileobj=False))  # a JPEG: uint8

    return read


def _skimage(function: str, index: int | None = None) -> Callable[[], np.ndarray]:
    """skimage.data.<function>(), or item ``index`` of what it returns (the stereo pair)."""
    def read() -> np.ndarray:
        import skimage.data

        pixels = getattr(skimage.data, function)()
        return pixels if index is None else pixels[index]

    return read


_SOURCES: dict[str, _Source] = {
    "china": _Source("scikit-learn", _sklearn("china.jpg"), "scikit-learn, 427x640 colour: a Chinese pagoda on a "
                                                            "wooded hill above a lake"),
    "flower": _Source("scikit-learn", _sklearn("flower.jpg"), "scikit-learn, 427x640 colour: an orange dahlia in "
                                                              "close-up against dark green leaves"),
    "grace_hopper": _Source("matplotlib", _matplotlib("grace_hopper.jpg"),
                            "matplotlib, 600x512 colour: portrait of the computer scientist Grace Hopper in uniform"),
    "astronaut": _Source("scikit-image", _skimage("astronaut"),
                         "scikit-image, 512x512 colour: NASA portrait of the astronaut Eileen Collins"),
    "chelsea": _Source("scikit-image", _skimage("chelsea"), "scikit-image, 300x451 colour: Chelsea the cat"),
    "coffee": _Source("scikit-image", _skimage("coffee"),
                      "scikit-image, 400x600 colour: a cup of coffee on a wooden table"),
    "rocket": _Source("scikit-image", _skimage("rocket"),
                      "scikit-image, 427x640 colour: a SpaceX Falcon 9 lifting off with the DSCOVR satellite"),
    "hubble_deep_field": _Source("scikit-image", _skimage("hubble_deep_field"),
                                 "scikit-image, 872x1000 colour: galaxies of the Hubble eXtreme Deep Field"),
    "motorcycle_left": _Source("scikit-image", _skimage("stereo_motorcycle", 0),
                               "scikit-image, 500x741 colour: a motorcycle, left view of a Middlebury 2014 stereo "
                               "pair"),
    "motorcycle_right": _Source("scikit-image", _skimage("stereo_motorcycle", 1),
                                "scikit-image, 500x741 colour: the same motorcycle seen by the right camera"),
    "camera": _Source("scikit-image", _skimage("camera"),
                      "scikit-image, 512x512 grey: a photographer at a camera on a tripod, outdoors"),
    "coins": _Source("scikit-image", _skimage("coins"),
                     "scikit-image, 303x384 grey: Greek coins from Pompeii on a grey background"),
    "moon": _Source("scikit-image", _skimage("moon"), "scikit-image, 512x512 grey: a low-contrast patch of the "
                                                      "moon's surface"),
    "brick": _Source("scikit-image", _skimage("brick"), "scikit-image, 512x512 grey: texture of a brick wall"),
    "grass": _Source("scikit-image", _skimage("grass"), "scikit-image, 512x512 grey: texture of grass"),
    "gravel": _Source("scikit-image", _skimage("gravel"), "scikit-image, 512x512 grey: texture of gravel"),
}

NATURAL_IMAGES: dict[str, str] = {name: source.about for name, source in _SOURCES.items()}


def _to_tensor(pixels: np.ndarray) -> Tensor:
    """8-bit pixels (H, W) or (H, W, 3) -> floats (3, H, W) in [-1, 1]."""
    x = torch.tensor(pixels, dtype=torch.float32) / 127.5 - 1.0  # 0..255 -> [-1, 1]; a copy, so writable
    if x.ndim == 2:
        return x.expand(3, -1, -1).contiguous()  # grey (H, W) -> (3, H, W), the same plane three times
    return x[:, :, :3].permute(2, 0, 1).contiguous()  # (H, W, 3) -> (3, H, W)


def _shrink(x: Tensor, size: int, name: str) -> Tensor:
    """x (3, H, W) resized so that its longer side is ``size``, keeping the aspect ratio."""
    h, w = x.shape[1:]
    longer = max(h, w)
    if size > longer:
        raise ValueError(f"size must be at most {longer}, the longer side of natural image {name!r} ({h}x{w}): "
                         f"it is only shrunk, never enlarged; got {size}")
    if size == longer:
        return x
    shape = (max(1, round(h * size / longer)), max(1, round(w * size / longer)))  # the aspect ratio kept
    # antialias=True low-pass filters before sampling, so shrinking does not alias fine texture
    x = F.interpolate(x[None], size=shape, mode="bicubic", align_corners=False, antialias=True)[0]  # (3, h', w')
    return x.clamp(-1.0, 1.0)  # bicubic weights can overshoot a little past the original range


def natural_image(name: str, size: int | None = None) -> Tensor:
    """The photograph ``name`` (see ``NATURAL_IMAGES``) as floats (3, H, W) in [-1, 1]; longer side ``size`` if set."""
    validate.choice("natural image", name, NATURAL_IMAGES)
    if size is not None:
        validate.integer("size", size)
    source = _SOURCES[name]
    try:
        pixels = source.read()
    except ImportError as error:
        raise ModuleNotFoundError(f"natural image {name!r} ships with {source.package}, which is not installed "
                                  f"here; install it with: pip install {source.package}") from error
    x = _to_tensor(pixels)  # (3, H, W)
    return x if size is None else _shrink(x, size, name)

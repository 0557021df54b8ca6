"""Typeset digits: a second domain of digit images for chapter 08, rendered offline from the fonts that ship with
matplotlib, so that unpaired translation between handwriting and type can be trained and *measured*.

Each image is one digit in one of ``FONTS`` (DejaVu Sans, Sans Mono and Serif, STIX and Computer Modern, upright,
bold and italic), white on black like MNIST: the glyph is cropped to its ink, scaled so that its larger side is
between 16 and 22 px (MNIST's digits fit a 20 px box), rotated by up to 8 degrees and sheared a little, then placed
in a 28 x 28 image with its centre of mass at the centre, as MNIST's were, and moved by up to 1.5 px. Everything is
drawn from a seeded generator, so a (seed, n) pair always gives the same images.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from . import validate

FONTS = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSansMono", "DejaVuSansMono-Bold",
         "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic",
         "cmr10", "cmb10", "cmss10", "cmtt10")
SIZE = 28
GLYPH_PX = 96  # the glyph is drawn this large, then resampled down: smooth edges at every final size
TRAIN_SEED, HELDOUT_SEED = 0, 1  # the training images and the held-out ones are drawn with different seeds


def _font_path(name: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / f"{name}.ttf"


@functools.lru_cache(maxsize=None)
def _glyph(font: str, digit: int) -> np.ndarray:
    """The digit's ink in ``font``, cropped to its bounding box: a float array in [0, 1]."""
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(str(_font_path(font)), GLYPH_PX)
    canvas = Image.new("L", (2 * GLYPH_PX, 2 * GLYPH_PX), 0)
    ImageDraw.Draw(canvas).text((GLYPH_PX // 2, GLYPH_PX // 4), str(digit), fill=255, font=face)
    ink = np.asarray(canvas, dtype=np.float32) / 255.0
    rows, cols = np.nonzero(ink > 0.05)
    if len(rows) == 0:
        raise RuntimeError(f"font {font} drew nothing for the digit {digit}")
    return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def render_digit(digit: int, font: str, size: float = 20.0, angle: float = 0.0, shear: float = 0.0,
                 shift: tuple[float, float] = (0.0, 0.0)) -> Tensor:
    """One typeset digit as a (1, 28, 28) image in [-1, 1]: the glyph's larger side ``size`` px, rotated by
    ``angle`` degrees (counter-clockwise), sheared by ``shear`` (x += shear * y), centre of mass at the image
    centre moved by ``shift`` (dx, dy) px."""
    from PIL import Image

    validate.integer("digit", digit, low=0, high=9)
    validate.choice("font", font, FONTS)
    validate.number("size", size, low=4, high=26)
    validate.number("angle", angle, low=-90, high=90)
    validate.number("shear", shear, low=-1, high=1)
    ink = _glyph(font, digit)
    h, w = ink.shape
    scale = size / max(h, w)
    # inverse map for PIL's affine transform: output (u, v) around the centre -> input (x, y) in the glyph
    a = math.radians(angle)
    forward = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.array([[1.0, shear], [0, 1]])
    forward = forward * scale
    inverse = np.linalg.inv(forward)
    big = 2 * SIZE  # draw on a larger canvas, then centre by mass
    centre_out, centre_in = np.array([big / 2, big / 2]), np.array([w / 2, h / 2])
    offset = centre_in - inverse @ centre_out
    image = Image.fromarray(ink).transform((big, big), Image.AFFINE,
                                           (*inverse[0], offset[0], *inverse[1], offset[1]), resample=Image.BILINEAR)
    out = torch.from_numpy(np.array(image, dtype=np.float32)).clamp(0, 1)
    ys, xs = torch.meshgrid(torch.arange(big, dtype=torch.float32), torch.arange(big, dtype=torch.float32),
                            indexing="ij")
    mass = out.sum()
    cy, cx = (out * ys).sum() / mass, (out * xs).sum() / mass
    dx, dy = shift
    top, left = cy - (SIZE - 1) / 2 - dy, cx - (SIZE - 1) / 2 - dx
    # sample the 28 x 28 window at a sub-pixel position: bilinear, through grid_sample
    gy = (top + torch.arange(SIZE, dtype=torch.float32)) / (big - 1) * 2 - 1
    gx = (left + torch.arange(SIZE, dtype=torch.float32)) / (big - 1) * 2 - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], dim=-1)[None]
    window = torch.nn.functional.grid_sample(out[None, None], grid, align_corners=True)[0]
    return window * 2.0 - 1.0


def typeset_digits(n: int, seed: int = TRAIN_SEED, fonts: tuple[str, ...] = FONTS) -> tuple[Tensor, Tensor]:
    """``n`` typeset digits (n, 1, 28, 28) in [-1, 1] and their labels (n,): the classes in turn (0, 1, ..., 9, 0,
    ...), fonts, sizes, angles, shears and shifts drawn from ``seed``."""
    validate.integer("n", n)
    validate.integer("seed", seed, low=0)
    if isinstance(fonts, str) or not fonts or any(f not in FONTS for f in fonts):
        raise ValueError(f"fonts should be a non-empty tuple of names from typeset.FONTS {FONTS}, got {fonts!r}")
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    font = torch.randint(len(fonts), (n,), generator=g)
    u = torch.rand(n, 5, generator=g, dtype=torch.float64)
    sizes, angles, shears = 16 + 6 * u[:, 0], (u[:, 1] * 2 - 1) * 8, (u[:, 2] * 2 - 1) * 0.15
    shifts = (u[:, 3:] * 2 - 1) * 1.5
    images = torch.stack([render_digit(int(labels[i]), fonts[int(font[i])], float(sizes[i]), float(angles[i]),
                                       float(shears[i]), (float(shifts[i, 0]), float(shifts[i, 1])))
                          for i in range(n)])
    return images, labels

"""SinGAN: a generative model learnt from one natural image, as a pyramid of patch GANs.

Shaham, Dekel, Michaeli, "SinGAN: Learning a Generative Model from a Single Natural Image",
ICCV 2019, arXiv:1905.01164. Where the paper leaves a number out, the authors' code
(github.com/tamarott/SinGAN) decides it, and the comment names the file.

The image x is shrunk into a pyramid x_N, ..., x_0: x_0 is the image itself, x_N about 25 px
on its shorter side, each scale r ~ 0.75 times the size of the next finer one. Each scale has
its own generator G_n and patch discriminator D_n, both five 3 x 3 convolutions deep, so that
D_n judges 11 x 11 patches: about half the image at the coarsest scale (its layout), a small
patch of the finest (its texture). Generation runs coarse to fine (sec. 2, eqs. 1 and 2):

    x~_N = G_N(z_N)
    x~_n = G_n(z_n, up(x~_{n+1})) = up(x~_{n+1}) + psi_n(sigma_n z_n + up(x~_{n+1}))

z_n ~ N(0, I) is white noise of the size of scale n, sigma_n its amplitude (set once, when
scale n starts training; see ``singan_train``), up() resizes to the next scale. G_n adds only
the detail that up(x~_{n+1}) misses: it is residual. Every network is fully convolutional, so
a coarsest noise map of another size gives an image of another size or aspect ratio.

Indices here count from the coarsest scale, as the official code stores its lists:
``model.generators[0]`` is the paper's G_N and ``model.generators[-1]`` its G_0.

Training is in ``ganlab.singan_train``; this module holds the networks, the pyramid, sampling,
two applications (paint-to-image, harmonisation) and ``patch_fid``, an offline stand-in for
the paper's SIFID.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate
from .convnets import dcgan_init_
from .image_metrics import fid_from_features

KERNEL = 3  # every convolution is 3 x 3 (official config.py: ker_size 3)
LAYERS = 5  # convolutions per network (official config.py: num_layer 5)
MIN_SIZE = 25  # shorter side of the coarsest scale, in pixels (official config.py: min_size 25)
SCALE_FACTOR = 0.75  # size ratio of neighbouring scales, r (the paper's 4/3 = 1 / 0.75; config.py: scale_factor)
WIDTH = 32  # channels of the coarsest scale's networks (sec. 2; config.py: nfc 32)
MAX_WIDTH = 128  # the widths double every 4 scales up to this (official training.py: min(..., 128))


def receptive_field(layers: int = LAYERS, kernel: int = KERNEL) -> int:
    """Side of the square of input pixels that one output pixel depends on, through ``layers`` stride-1 convolutions.

    Each k x k convolution widens it by k - 1: 1 + layers (k - 1) = 11 for SinGAN's five 3 x 3
    layers (official training.py computes it as ker + (ker - 1)(layers - 1), the same number).
    """
    validate.integer("layers", layers)
    validate.integer("kernel", kernel)
    return 1 + layers * (kernel - 1)


def width_at(scale: int, width: int = WIDTH, max_width: int = MAX_WIDTH) -> int:
    """Channels of both networks at ``scale`` (0 = coarsest): ``width``, doubled every 4 scales, at most ``max_width``.

    Sec. 2: "32 kernels per block at the coarsest scale, increased by a factor of 2 every 4
    scales"; the cap of 128 is the official training.py's.
    """
    validate.integer("scale", scale, low=0)
    validate.integer("width", width)
    validate.integer("max_width", max_width)
    return min(width * 2 ** (scale // 4), max_width)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    """Conv 3x3 (no padding: each takes 1 px off every side), BatchNorm, LeakyReLU 0.2 (sec. 2; models.py ConvBlock)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, KERNEL), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


class ScaleGenerator(nn.Module):
    """G_n: x~_n = up + psi_n(sigma_n z + up), psi_n = four conv blocks, a last 3x3 conv and tanh (sec. 2, eq. 2).

    ``sigma`` (a buffer, so that it is saved with the weights) is this scale's noise amplitude
    sigma_n; it is 1 at the coarsest scale, whose input ``prev`` is all zeros.
    """

    def __init__(self, channels: int = 3, width: int = WIDTH):
        super().__init__()
        self.channels = validate.integer("channels", channels)
        validate.integer("width", width)
        self.blocks = nn.Sequential(_block(channels, width), *[_block(width, width) for _ in range(LAYERS - 2)])
        self.last = nn.Conv2d(width, channels, KERNEL)
        self.pad = LAYERS * (KERNEL - 1) // 2  # 5 px on every side give the output the input's size
        self.register_buffer("sigma", torch.ones(()))
        dcgan_init_(self)  # N(0, 0.02) weights, BatchNorm gains N(1, 0.02), as models.py (its conv biases: default)

    def forward(self, z: Tensor, prev: Tensor) -> Tensor:
        """z (N, 1 or C, H, W) standard normal noise, prev (N, C, H, W) the upsampled coarser image -> (N, C, H, W)."""
        dtype = self.last.weight.dtype
        validate.tensor("prev", prev, shape=("N", self.channels, "H", "W"), dtype=dtype, finite=False,
                        hint=" (the upsampled image of the coarser scale; zeros at the coarsest)")
        n, _, h, w = prev.shape
        validate.tensor("z", z, shape=(n, (1, self.channels), h, w), dtype=dtype, finite=False,
                        hint=" (noise of prev's batch and size; one channel is shared by all colours)")
        x = self.sigma * z + prev  # (N, C, H, W): sigma_n z_n + up(x~_{n+1}); a one-channel z is grey noise
        x = F.pad(x, [self.pad] * 4)  # (N, C, H + 10, W + 10), zeros, as official training.py's ZeroPad2d
        detail = torch.tanh(self.last(self.blocks(x)))  # (N, C, H, W): psi_n, each conv took 2 px
        return prev + detail  # residual: G_n adds detail to up(x~_{n+1}) (eq. 2)


class PatchDiscriminator(nn.Module):
    """D_n: four conv blocks and a last 3x3 conv to one score per 11 x 11 patch (a Markovian critic; models.py)."""

    def __init__(self, channels: int = 3, width: int = WIDTH):
        super().__init__()
        self.channels = validate.integer("channels", channels)
        validate.integer("width", width)
        self.blocks = nn.Sequential(_block(channels, width), *[_block(width, width) for _ in range(LAYERS - 2)])
        self.last = nn.Conv2d(width, 1, KERNEL)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Images (N, C, H, W) -> critic scores (N, 1, H - 10, W - 10), one per 11 x 11 patch, unbounded."""
        validate.tensor("x", x, shape=("N", self.channels, "H", "W"), dtype=self.last.weight.dtype, finite=False)
        side = receptive_field()
        if min(x.shape[-2:]) < side:
            raise ValueError(f"x should be at least {side} x {side} pixels (one patch of the critic), got "
                             f"{tuple(x.shape[-2:])}")
        return self.last(self.blocks(x))  # no padding: every score sees real pixels only


# --------------------------------------------------------------------------- the image pyramid
def _size(name: str, size: object) -> tuple[int, int]:
    if not (isinstance(size, (tuple, list)) and len(size) == 2):
        raise TypeError(f"{name} must be a pair (height, width) of positive integers, got {size!r}")
    return validate.integer(f"{name}[0] (height)", size[0]), validate.integer(f"{name}[1] (width)", size[1])


def pyramid_sizes(height: int, width: int, min_size: int = MIN_SIZE,
                  scale_factor: float = SCALE_FACTOR) -> tuple[list[tuple[int, int]], float]:
    """The (H, W) of every scale, coarsest first, and the factor r used between them.

    The number of steps N is the fewest that bring the shorter side to ``min_size`` with a
    factor of at most ``scale_factor``; r = (min_size / shorter side)^(1/N) then makes the
    coarsest shorter side exactly ``min_size``, so r lies in [scale_factor, 1) (official
    functions.py adjust_scales2image picks r so too). Scale i is the image times r^(N - i).
    """
    height, width = validate.integer("height", height), validate.integer("width", width)
    validate.integer("min_size", min_size, low=receptive_field())
    validate.number("scale_factor", scale_factor, low=0, high=1, low_open=True, high_open=True)
    shorter = min(height, width)
    if shorter < min_size:
        raise ValueError(f"the image's shorter side must be at least min_size={min_size} px, got {height}x{width}; "
                         f"use a larger image or a smaller min_size")
    steps = math.ceil(math.log(min_size / shorter) / math.log(scale_factor) - 1e-9)  # N; 0 when shorter == min_size
    r = (min_size / shorter) ** (1 / steps) if steps else scale_factor
    sizes = [(round(height * r ** (steps - i)), round(width * r ** (steps - i))) for i in range(steps + 1)]
    return sizes, r


def resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Images (N, C, H, W) resized to (N, C, *size) by bicubic interpolation, low-pass filtered when shrinking.

    The official code uses a MATLAB-style imresize (bicubic, antialiased); ``antialias=True``
    gives the same kernel. This is up() between scales and the pyramid's shrinking.
    """
    validate.tensor("x", x, shape=("N", "C", "H", "W"), finite=False)
    size = _size("size", size)
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)


def image_pyramid(image: Tensor, min_size: int = MIN_SIZE, scale_factor: float = SCALE_FACTOR) -> list[Tensor]:
    """The image (C, H, W) or (1, C, H, W) in [-1, 1] at every scale of ``pyramid_sizes``, coarsest first, (1, C, h, w).

    Every scale is shrunk from the image itself, not from the next finer scale (official
    functions.py creat_reals_pyramid), so no blur accumulates.
    """
    x = validate.images("image", image[None] if isinstance(image, Tensor) and image.ndim == 3 else image,
                        shape=(1, "C", "H", "W"))
    sizes, _ = pyramid_sizes(*x.shape[-2:], min_size, scale_factor)
    return [resize(x, size) for size in sizes[:-1]] + [x]


# --------------------------------------------------------------------------- the model and sampling
class SinGAN(nn.Module):
    """The pyramid of generators, coarsest first, and what sampling needs besides them.

    ``sizes``: (H, W) of every scale as trained; ``n_trained``: how many scales, from the
    coarsest, are trained (the others keep their initial weights); ``z_rec``: the fixed noise
    z* (1, 1, *sizes[0]) of the coarsest scale, from which {z*, 0, ..., 0} reconstructs the image
    (sec. 2.1). Each generator carries its sigma_n.
    """

    def __init__(self, sizes: Sequence[tuple[int, int]], channels: int = 3, width: int = WIDTH,
                 max_width: int = MAX_WIDTH):
        super().__init__()
        if not (isinstance(sizes, (list, tuple)) and sizes):
            raise TypeError(f"sizes must be a non-empty list of (height, width), coarsest first, as pyramid_sizes "
                            f"returns; got {sizes!r}")
        self.sizes = [_size(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
        self.channels = validate.integer("channels", channels)
        self.generators = nn.ModuleList(ScaleGenerator(channels, width_at(i, width, max_width))
                                        for i in range(len(self.sizes)))
        self.register_buffer("z_rec", torch.zeros(1, 1, *self.sizes[0]))
        self.register_buffer("n_trained", torch.zeros((), dtype=torch.long))

    @property
    def n_scales(self) -> int:
        """Number of scales, N + 1 in the paper's counting."""
        return len(self.sizes)

    def sizes_for(self, size: tuple[int, int] | None = None) -> list[tuple[int, int]]:
        """(H, W) of every scale when the coarsest is ``size`` (None: as trained); every scale grows in proportion."""
        if size is None:
            return list(self.sizes)
        h, w = _size("size", size)
        fy, fx = h / self.sizes[0][0], w / self.sizes[0][1]
        return [(max(1, round(sh * fy)), max(1, round(sw * fx))) for sh, sw in self.sizes]


def _scale(name: str, value: object, model: SinGAN) -> int:
    trained = int(model.n_trained)
    if trained == 0:
        raise ValueError("the model has no trained scale yet; train it with ganlab.singan_train.train_singan")
    return validate.integer(name, value, low=0, high=trained - 1)


def _injection_scale(model: SinGAN, start_scale: object) -> int:
    """A scale s >= 1 to inject an image at: the image is shrunk to scale s - 1 first."""
    trained = int(model.n_trained)
    if trained < 2:
        raise ValueError(f"injecting an image needs a model with at least 2 trained scales, this one has {trained}")
    s = validate.integer("start_scale", start_scale, low=0)
    if not 1 <= s < trained:
        raise ValueError(f"start_scale must be an integer from 1 to {trained - 1} when an image is injected (it is "
                         f"shrunk to scale start_scale - 1 first; 0 would start from noise alone), got {s}")
    return s


def _noise(n: int, channels: int, size: tuple[int, int], generator: torch.Generator | None,
           device: torch.device) -> Tensor:
    """Standard normal noise (n, channels, *size), drawn on the CPU (the same numbers on every device)."""
    return torch.randn(n, channels, *size, generator=generator).to(device)


class _EvalMode:
    """Put every module of a model in eval mode (BatchNorm on its running statistics), and back as they were."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self) -> None:
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        for m, training in self.modes:
            m.training = training


def _generate(model: SinGAN, n: int, sizes: list[tuple[int, int]], start: int, end: int, prev: Tensor | None,
              random_from: int, generator: torch.Generator | None) -> Tensor:
    """Run G_start .. G_end on ``prev`` (None: zeros at the coarsest scale), with random noise from scale
    ``random_from`` on and the reconstruction's noise below it; (n, C, *sizes[end])."""
    device = model.z_rec.device
    with _EvalMode(model):
        for i in range(start, end + 1):
            if prev is None:  # the coarsest scale: G_N(z_N) has no image to refine (eq. 1)
                prev = torch.zeros(n, model.channels, *sizes[0], device=device)
            if i >= random_from:  # one noise channel at the coarsest scale (official training.py), C elsewhere
                z = _noise(n, 1 if i == 0 else model.channels, sizes[i], generator, device)
            else:  # the reconstruction's noise: z* at the coarsest scale, 0 elsewhere (sec. 2.1)
                z = model.z_rec.expand(n, -1, -1, -1) if i == 0 else torch.zeros_like(prev[:, :1])
            x = model.generators[i](z, prev)  # (n, C, *sizes[i])
            if i < end:
                prev = resize(x, sizes[i + 1])  # up(x~)
    return x


@torch.no_grad()
def sample(model: SinGAN, n: int = 1, size: tuple[int, int] | None = None, start_scale: int = 0,
           start_image: Tensor | None = None, generator: torch.Generator | None = None,
           end_scale: int | None = None) -> Tensor:
    """n random images (n, C, H, W) from the pyramid, coarse to fine (eqs. 1 and 2), generators in eval mode.

    ``size``: (H, W) of the coarsest noise map; every scale grows in proportion, so another
    size or aspect ratio gives a larger, wider or taller image (sec. 3; None: as trained).
    ``start_scale`` = s > 0 without ``start_image``: scales below s follow the reconstruction
    ({z*, 0, ...}) and noise enters from scale s on, so samples keep the image's layout and
    vary in finer detail (the official gen_start_scale). With ``start_image`` (C, H, W) or
    (1 or n, C, H, W) in [-1, 1], that image, shrunk to scale s - 1 and upsampled, replaces
    up(x~) as the input of G_s: the injection behind paint-to-image, editing and
    harmonisation (sec. 4). ``end_scale``: the last scale run (default: the last trained).
    """
    validate.instance("model", model, SinGAN, "a SinGAN (the trained pyramid)")
    n = validate.integer("n", n)
    end = _scale("end_scale", int(model.n_trained) - 1 if end_scale is None else end_scale, model)
    start = _scale("start_scale", start_scale, model)
    if start > end:
        raise ValueError(f"start_scale must be at most end_scale={end}, got {start}")
    if generator is not None:
        validate.instance("generator", generator, torch.Generator, "a torch.Generator (or None)")
    sizes = model.sizes_for(size)
    device = model.z_rec.device
    if start_image is not None:
        start = _injection_scale(model, start_scale)  # start_scale=0 would start from noise alone
        image = start_image[None] if isinstance(start_image, Tensor) and start_image.ndim == 3 else start_image
        validate.images("start_image", image, shape=("N", model.channels, "H", "W"))
        if len(image) not in (1, n):
            raise ValueError(f"start_image should hold 1 or n={n} images, got {len(image)}")
        prev = resize(resize(image.to(device), sizes[start - 1]), sizes[start]).expand(n, -1, -1, -1)
        random_from = start
    else:
        if start > 0 and sizes != model.sizes:
            raise ValueError("start_scale > 0 without a start_image follows the reconstruction below start_scale, "
                             "which exists only at the training size: pass size=None, or a start_image")
        prev, random_from = None, start
        start = 0
    return _generate(model, n, sizes, start, end, prev, random_from, generator)


@torch.no_grad()
def reconstruct(model: SinGAN, end_scale: int | None = None) -> Tensor:
    """x~rec (1, C, H, W) at ``end_scale`` (default: the last trained): the pyramid on {z*, 0, ..., 0} (sec. 2.1)."""
    validate.instance("model", model, SinGAN, "a SinGAN (the trained pyramid)")
    end = _scale("end_scale", int(model.n_trained) - 1 if end_scale is None else end_scale, model)
    return _generate(model, 1, model.sizes, 0, end, None, end + 1, None)


# --------------------------------------------------------------------------- applications (sec. 4)
def paint_to_image(model: SinGAN, paint: Tensor, start_scale: int = 1, n: int = 1,
                   generator: torch.Generator | None = None) -> Tensor:
    """Paint-to-image (sec. 4): a clipart ``paint`` (C, H, W) in [-1, 1] of a layout, injected at ``start_scale``.

    The paint is shrunk to the coarse scale start_scale - 1, where its flat colours look like
    the blurry image there, and the finer generators paint the image's textures onto it.
    A coarser start (smaller ``start_scale``) keeps less of the paint. Returns (n, C, H, W).
    """
    validate.instance("model", model, SinGAN, "a SinGAN (the trained pyramid)")
    validate.images("paint", paint, shape=(model.channels, "H", "W"))
    return sample(model, n, start_scale=_injection_scale(model, start_scale), start_image=paint, generator=generator)


def harmonize(model: SinGAN, image: Tensor, mask: Tensor, start_scale: int = 1,
              generator: torch.Generator | None = None) -> Tensor:
    """Harmonisation and editing (sec. 4): a composite ``image`` (C, H, W) redrawn from ``start_scale`` in ``mask``.

    The composite (an object pasted on the training image, or part of it moved) is injected at
    ``start_scale``; the generators turn the pasted part into the image's own textures and
    colours. ``mask`` (H, W) in [0, 1] is 1 where the composite was changed; the result is
    mask * generated + (1 - mask) * image (official harmonization.py; it blurs the mask's edge
    first, which a caller can do too). Returns (1, C, H, W) at the finest training size.
    """
    validate.instance("model", model, SinGAN, "a SinGAN (the trained pyramid)")
    validate.images("image", image, shape=(model.channels, "H", "W"))
    validate.tensor("mask", mask, shape=tuple(image.shape[-2:]), hint=" (1 where the composite was changed)")
    if float(mask.min()) < 0 or float(mask.max()) > 1:
        raise ValueError(f"mask should lie in [0, 1], got values in [{float(mask.min()):.3g}, {float(mask.max()):.3g}]")
    start_scale = _injection_scale(model, start_scale)
    out = sample(model, 1, start_scale=start_scale, start_image=image, generator=generator)  # (1, C, H, W)
    device = out.device
    size = out.shape[-2:]
    image = resize(image[None].to(device), size)  # (1, C, H, W)
    mask = resize(mask[None, None].to(device, out.dtype), size).clamp(0, 1)  # (1, 1, H, W); bicubic can overshoot
    return mask * out + (1 - mask) * image


# --------------------------------------------------------------------------- an offline SIFID
def _patches(x: Tensor, k: int) -> Tensor:
    """Every k x k patch of images (N, C, H, W) as a row: (N (H - k + 1)(W - k + 1), C k k)."""
    cols = F.unfold(x.detach().cpu().double(), k)  # (N, C k k, L), in float64 for the covariances
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])


def patch_fid(real: Tensor, fake: Tensor, patch_size: int = 7) -> float:
    """Fréchet distance between the Gaussian statistics of all ``patch_size`` square pixel patches of two images.

    In the spirit of the paper's SIFID (sec. 3.2): SIFID is the FID between the feature vectors
    at every position of one image and of one sample, taken from Inception (a download); here
    the "features" are the raw pixels of every k x k patch, so it runs offline, in a second:

        d^2 = ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))

    with mu and S the mean (C k^2) and covariance (C k^2 x C k^2) over all patches. It is 0
    for the same image, barely moves when the image is shifted or cropped, and it compares
    images of different sizes (a wider sample against the real image). What it measures: the
    mean colour and, through S, how pixels within k px of each other co-vary: colour
    correlations, contrast, the power spectrum of the texture up to k px. What it misses:
    anything semantic (a face with its parts rearranged can score well), structure larger
    than k px, and whether patches were copied (a copy of the image scores 0, so read it with
    the samples' diversity); a uniform colour shift costs the squared shift times C k^2 though
    the eye forgives it, and a Gaussian model ignores higher-order statistics, so two very
    different textures with the same covariance score alike. ``real``, ``fake``: (C, H, W) or
    batches (N, C, H, W), whose patches are pooled, in [-1, 1], both at least k x k.
    """
    k = validate.integer("patch_size", patch_size)
    feats = []
    for name, x in (("real", real), ("fake", fake)):
        x = validate.images(name, x[None] if isinstance(x, Tensor) and x.ndim == 3 else x)
        if min(x.shape[-2:]) < k:
            raise ValueError(f"{name} should be at least patch_size={k} px on each side, got {tuple(x.shape[-2:])}")
        feats.append(_patches(x, k))
    if feats[0].shape[1] != feats[1].shape[1]:
        raise ValueError(f"real and fake should have the same number of channels, got {real.shape[-3]} and "
                         f"{fake.shape[-3]}")
    return max(0.0, fid_from_features(*feats))  # rounding can leave -1e-12 for identical statistics

"""Gaussian and Laplacian pyramids: an image as a stack of blurrier, half-size copies and the detail between them.

Burt & Adelson 1983 ("The Laplacian Pyramid as a Compact Image Code", IEEE Transactions on
Communications 31(4), 532-540). Everything is built from one small blur and two resamplings:

    blur(x)            x convolved with the 5x5 generating kernel w (outer(w, w), w = [1, 4, 6, 4, 1] / 16)
    downsample(x)      the paper's REDUCE: blur, keep every second row and column   (H, W) -> (ceil(H/2), ceil(W/2))
    upsample(x, size)  the paper's EXPAND: spread x over every second row and column of zeros, blur, times 4

    gaussian_pyramid   g_0 = x,  g_{l+1} = REDUCE(g_l)
    laplacian_pyramid  L_l = g_l - EXPAND(g_{l+1}) for l < n - 1,  L_{n-1} = g_{n-1}
    reconstruct        g_{n-1} = L_{n-1},  g_l = L_l + EXPAND(g_{l+1}),  ...,  g_0 = x

Each L_l keeps what g_l has and the blurrier g_{l+1} lacks: the detail of one octave of
frequencies. Reconstruction is exact (to float rounding) whatever EXPAND does, because it adds
back the very EXPAND(g_{l+1}) that was subtracted. LAPGAN (Denton et al. 2015, arXiv:1506.05751)
generates an image level by level of such a pyramid.

Images are batches (N, C, H, W) with any number of channels and any size, odd sizes included.
Borders are extended by reflection (x2, x1 | x0, x1, x2, ...), which keeps a constant image
constant. Every operator is differentiable, so it can sit inside a loss. Like a forward pass, the
functions check types and shapes but do not read the values (no GPU sync): NaN passes through.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from . import validate

_BATCH = ("N", "C", "H", "W")
_ONE_IMAGE = "; a batch of images (N, C, H, W): x[None] makes one image (C, H, W) a batch of one"


# --------------------------------------------------------------------------- the kernel and the operators, unchecked
def binomial_kernel() -> Tensor:
    """The generating kernel w = [1, 4, 6, 4, 1] / 16, shape (5,); the 2D kernel is torch.outer(w, w).

    Burt & Adelson 1983, p. 533: w = [1/4 - a/2, 1/4, a, 1/4, 1/4 - a/2], here with a = 3/8, which
    makes w the binomial filter, close to a Gaussian. Its taps sum to 1, so a blur keeps the mean;
    its even taps (1 + 6 + 1) / 16 and its odd taps (4 + 4) / 16 each sum to 1/2 (the paper's
    "equal contribution"), which is why ``upsample`` multiplies by 4.
    """
    return torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16  # (5,)


def _mirror(n: int, pad: int, device: torch.device) -> Tensor:
    """Indices extending a row of n pixels by ``pad`` each side by reflection: ..., 2, 1 | 0, 1, ..., n-1 | n-2, ...

    Reflecting about both ends repeats with period 2(n - 1), so rows shorter than ``pad`` work
    too (as numpy's ``np.pad(mode="reflect")``); a row of one pixel is extended by copies of it.
    """
    i = torch.arange(-pad, n + pad, device=device)  # (n + 2 pad,)
    if n == 1:
        return torch.zeros_like(i)
    period = 2 * (n - 1)
    i = i.remainder(period)  # into [0, 2(n - 1))
    return torch.where(i < n, i, period - i)  # fold the way back: n -> n - 2, n + 1 -> n - 3, ...


def _blur(x: Tensor) -> Tensor:
    """x (N, C, H, W) convolved with outer(w, w), one channel at a time, as a column pass then a row pass."""
    c, h, w = x.shape[1:]
    k = binomial_kernel().to(x)  # (5,), symmetric, so convolution and correlation agree
    x = x.index_select(2, _mirror(h, 2, x.device))  # (N, C, H + 4, W)
    x = F.conv2d(x, k.view(1, 1, 5, 1).repeat(c, 1, 1, 1), groups=c)  # (N, C, H, W): down each column
    x = x.index_select(3, _mirror(w, 2, x.device))  # (N, C, H, W + 4)
    return F.conv2d(x, k.view(1, 1, 1, 5).repeat(c, 1, 1, 1), groups=c)  # (N, C, H, W): along each row


def _down(x: Tensor) -> Tensor:
    """REDUCE: g_{l+1}(i, j) = sum over m, n of w(m) w(n) g_l(2i + m, 2j + n)."""
    return _blur(x)[:, :, ::2, ::2]  # (N, C, ceil(H/2), ceil(W/2)): rows and columns 0, 2, 4, ...


def _up(x: Tensor, size: tuple[int, int]) -> Tensor:
    """EXPAND to (H, W) = size: g(i, j) = 4 sum over m, n of w(m) w(n) x((i - m) / 2, (j - n) / 2), whole indices."""
    spread = x.new_zeros(*x.shape[:2], *size)  # (N, C, H, W)
    spread[:, :, ::2, ::2] = x  # x back on rows and columns 0, 2, 4, ...; zeros between
    # Three pixels in four of ``spread`` are zeros. Along a row, the 5 taps centred on any pixel
    # meet samples of x only at the even taps (1, 6, 1) / 16 or only at the odd taps (4, 4) / 16:
    # half the weight either way, and half again down the columns. The blur alone therefore
    # gives 1/4 of the brightness; times 4 restores it, so a constant image stays that constant.
    # (Reflection about a row's end pixel keeps the even/odd pattern, so this holds at the borders.)
    return 4 * _blur(spread)  # (N, C, H, W)


# --------------------------------------------------------------------------- checks
def _check_batch(name: str, x: object, hint: str = _ONE_IMAGE) -> Tensor:
    return validate.tensor(name, x, shape=_BATCH, finite=False, hint=hint)  # (N, C, H, W), floats


def _max_levels(h: int, w: int) -> int:
    """Levels of a pyramid of an h x w image until its shorter side is 1 pixel (halving, rounding up)."""
    side, levels = min(h, w), 1
    while side > 1:
        side, levels = (side + 1) // 2, levels + 1
    return levels


def _check_pyramid(pyramid: object) -> list[Tensor]:
    """``pyramid`` as a list, if it is a non-empty list or tuple of batches, each the one before halved."""
    if not isinstance(pyramid, (list, tuple)):
        raise TypeError(f"pyramid must be a list of tensors (N, C, H, W), finest first, as laplacian_pyramid "
                        f"returns; got {type(pyramid).__name__}")
    if len(pyramid) == 0:
        raise ValueError("pyramid must hold at least one level, got an empty list")
    levels = [_check_batch(f"pyramid[{i}]", level, hint="") for i, level in enumerate(pyramid)]
    for i in range(1, len(levels)):
        n, c, h, w = levels[i - 1].shape
        if min(h, w) < 2:
            raise ValueError(f"pyramid has too many levels: pyramid[{i - 1}] is {h}x{w}, too small to halve, "
                             f"yet pyramid[{i}] follows it; got {len(levels)} levels")
        want = (n, c, (h + 1) // 2, (w + 1) // 2)
        if tuple(levels[i].shape) != want:
            raise ValueError(f"pyramid[{i}] should have shape {want} (pyramid[{i - 1}] halved, rounding up), "
                             f"got {tuple(levels[i].shape)}; pass the list laplacian_pyramid returns")
    return levels


# --------------------------------------------------------------------------- public
def blur(x: Tensor) -> Tensor:
    """x (N, C, H, W) convolved with the 5x5 binomial kernel, channel by channel, borders reflected."""
    return _blur(_check_batch("x", x))  # (N, C, H, W)


def downsample(x: Tensor) -> Tensor:
    """REDUCE: blur, then keep every second row and column: (N, C, H, W) -> (N, C, ceil(H/2), ceil(W/2))."""
    h, w = _check_batch("x", x).shape[2:]
    if min(h, w) < 2:
        raise ValueError(f"x must be at least 2x2 pixels to be halved, got {h}x{w}")
    return _down(x)


def upsample(x: Tensor, size: tuple[int, int]) -> Tensor:
    """EXPAND: (N, C, h, w) -> (N, C, H, W), where (H, W) = ``size`` is the size x was downsampled from.

    ``size`` is needed because halving rounds up: a 13-pixel side came from 25 or 26 pixels.
    """
    h, w = _check_batch("x", x).shape[2:]
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size must be a pair (H, W) such as (27, 33), got {size!r}")
    size = (validate.integer("size[0]", size[0]), validate.integer("size[1]", size[1]))
    heights = [s for s in (2 * h - 1, 2 * h) if s >= 2]  # the sides that halve to h (a side of 1 does not halve)
    widths = [s for s in (2 * w - 1, 2 * w) if s >= 2]
    if size[0] not in heights or size[1] not in widths:
        raise ValueError(f"size must be the (H, W) that x was downsampled from: for x of {h}x{w}, H one of "
                         f"{heights} and W one of {widths}; got {size}")
    return _up(x, size)


def gaussian_pyramid(x: Tensor, levels: int) -> list[Tensor]:
    """[g_0, ..., g_{levels-1}], finest first: g_0 = x (N, C, H, W), g_{l+1} = downsample(g_l)."""
    h, w = _check_batch("x", x).shape[2:]
    validate.integer("levels", levels)
    most = _max_levels(h, w)
    if levels > most:
        raise ValueError(f"levels must be at most {most} for a {h}x{w} image, got {levels}: each level halves it "
                         f"(rounding up), and level {most} is already 1 pixel across")
    pyramid = [x]
    for _ in range(levels - 1):
        pyramid.append(_down(pyramid[-1]))  # (N, C, ceil(H_l / 2), ceil(W_l / 2))
    return pyramid


def laplacian_pyramid(x: Tensor, levels: int) -> list[Tensor]:
    """[L_0, ..., L_{levels-1}], finest first: L_l = g_l - upsample(g_{l+1}), and the last is the coarsest g."""
    gauss = gaussian_pyramid(x, levels)
    bands = [g - _up(coarser, tuple(g.shape[2:])) for g, coarser in zip(gauss, gauss[1:])]  # L_l, (N, C, H_l, W_l)
    return bands + [gauss[-1]]  # L_{n-1} = g_{n-1}


def reconstruct(pyramid: list[Tensor]) -> Tensor:
    """The image a Laplacian pyramid was made from: g_l = L_l + upsample(g_{l+1}), from the coarsest up."""
    levels = _check_pyramid(pyramid)
    x = levels[-1]  # g_{n-1} = L_{n-1}
    for band in reversed(levels[:-1]):
        x = band + _up(x, tuple(band.shape[2:]))  # g_l = L_l + EXPAND(g_{l+1}), (N, C, H_l, W_l)
    return x  # g_0

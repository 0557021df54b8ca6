"""Checks for chapter 06, super-resolution: the degradation, luma, PSNR (Exercises 1-3), SRResNet's sub-pixel
convolution and residual block (Exercises 4-5), SRGAN's content and generator losses (Exercises 6-7), and
interpolation between two networks (Exercise 8)."""

from __future__ import annotations

import copy
import functools
import re
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..srgan import IMAGENET_MEAN, IMAGENET_STD, ResidualBlock, SRResNet, interpolate_networks, random_features
from ..superres import degrade, rgb_to_y
from .ch04 import _as_array
from .ch05 import _IN_PLACE, _gradients, _tensor_of_shape, _unchanged
from .core import _LOGITS_NAN, _SIGMOID_TWICE, _Check, _close, _finite, _fmt, _t


class _Unsupported(RuntimeError):
    """PyTorch's NotImplementedError (an operation that a dtype lacks), told apart from the TODO's own."""


_Unsupported.__name__ = _Unsupported.__qualname__ = "NotImplementedError"  # as the student's traceback names it
_Unsupported.__module__ = "builtins"


def _call(chk: _Check, case: int, args: tuple, why: str, **shown: Any) -> Any:
    """chk.call, failing if the function drew from (or reseeded) the global random generator: nothing here is random.

    A NotImplementedError that PyTorch raises (torch.lerp on integers, say) is reported as an error of the student's
    code, not as an exercise still to do: only the TODO's message names an exercise."""
    fn = chk.fn

    @functools.wraps(fn)
    def guarded(*a: Any) -> Any:
        try:
            return fn(*a)
        except NotImplementedError as err:
            if not str(err) or re.search(r"Exercise\s+\d+", str(err)):
                raise
            raise _Unsupported(str(err)).with_traceback(err.__traceback__) from None

    state = torch.get_rng_state()
    chk.fn = guarded
    try:
        got = chk.call(case, *args, **shown)
    finally:
        chk.fn = fn
    if not torch.equal(torch.get_rng_state(), state):
        torch.set_rng_state(state)
        chk.fail("Your function drew from (or reseeded) PyTorch's global random generator.", diagnosis=why)
    return got


def _no_backward(chk: _Check, inputs: list[Tensor], net: nn.Module | None = None) -> None:
    """Fail if the function ran backward() itself: a loss function returns the loss; the step backpropagates."""
    params = list(net.parameters()) if net is not None else []
    if any(t.grad is not None for t in [*inputs, *params]):
        chk.fail("Your function called backward().", diagnosis="a loss function returns the loss: the training step "
                 "calls loss.backward() (once, after opt.zero_grad()), and a second backward through the same graph "
                 "fails.")


def _seeded(seed: int, make: Callable[[], Any]) -> Any:
    """make() with the global generator seeded, which is put back afterwards: the student's stream stays as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


# ---------------------------------------------------------------- the degradation (Exercise 1)
def _blocky(gen: torch.Generator, n: int, c: int, h: int, w: int, block: int) -> Tensor:
    """Flat regions at -1 and 1 with hard edges (where a cubic kernel overshoots), plus a little texture."""
    coarse = torch.randint(0, 2, (n, c, -(-h // block), -(-w // block)), generator=gen).float() * 2 - 1
    flat = coarse.repeat_interleave(block, 2).repeat_interleave(block, 3)[:, :, :h, :w]
    return (flat + 0.3 * torch.rand(n, c, h, w, generator=gen) * -flat).clamp(-1, 1)  # texture pulls towards 0


def _resize(x: Tensor, scale: int, mode: str, clamp: bool = True, **kw: Any) -> Tensor:
    size = (x.shape[-2] // scale, x.shape[-1] // scale)
    out = F.interpolate(x, size=size, mode=mode, **kw)
    return out.clamp(-1, 1) if clamp else out


def check_degrade(fn: Callable[[Tensor, int], Tensor]) -> None:
    """fn(hr (N, C, H, W) in [-1, 1], scale) -> the bicubic downsampling by ``scale`` with antialiasing, clamped to
    [-1, 1]: ``ganlab.superres.degrade``, MATLAB's imresize as SR papers use it."""
    gen = torch.Generator().manual_seed(61)
    shapes = [((2, 3, 24, 24), 4, 3), ((1, 3, 18, 27), 3, 5), ((2, 1, 16, 20), 2, 3), ((1, 3, 32, 16), 4, 5)]
    cases = [(_blocky(gen, *shape, block), scale) for shape, scale, block in shapes]
    chk = _Check("check_degrade", "the bicubic degradation of SR papers", fn, len(cases))
    for case, (hr, scale) in enumerate(cases, 1):
        n, c, h, w = hr.shape
        expected = degrade(hr, scale)
        chk.hints = {"is invalid for input of size": f"use the argument scale (here {scale}).",
                     "must be divisible": f"use the argument scale (here {scale})."}
        given = hr.clone()
        got = _call(chk, case, (given, scale), "downsampling draws no random numbers: F.interpolate is deterministic.",
                    hr=f"{tuple(hr.shape)}, flat regions at -1 and 1 with hard edges", scale=scale)
        _unchanged(chk, "hr", given, hr)
        shapes = {(n, c, h * scale, w * scale): "this enlarged the image: the low-resolution image is `scale` times "
                                                "SMALLER, (N, C, H / scale, W / scale).",
                  (n, c, h, w): "the image keeps its size: downsample it, to (N, C, H / scale, W / scale)."}
        for wrong in {2, 3, 4} - {scale}:
            shapes[(n, c, h // wrong, w // wrong)] = (f"this shrank by {wrong} whatever the scale: use the argument "
                                                      f"scale, here {scale}.")
        _tensor_of_shape(chk, got, expected, shapes, f"the low-resolution image has shape {tuple(expected.shape)}.")
        if not _close(got, expected, rtol=1e-4, atol=1e-4):
            variants = [
                ("no antialiasing: without it F.interpolate's cubic kernel keeps its width of 4 HR pixels whatever "
                 "the scale, so it filters too little before subsampling and detail finer than the LR grid aliases "
                 "into the result. Pass antialias=True, which widens the kernel by the scale as MATLAB's imresize "
                 "does.",
                 _resize(hr, scale, "bicubic", antialias=False)),
                ("this is bilinear (a triangle kernel): the papers' degradation is BICUBIC, mode='bicubic', with "
                 "antialias=True.", _resize(hr, scale, "bilinear", antialias=True)),
                ("this is bilinear without antialiasing: use mode='bicubic' with antialias=True.",
                 _resize(hr, scale, "bilinear", antialias=False)),
                ("this is box averaging (mode='area', or avg_pool2d): the papers' kernel is bicubic, mode='bicubic' "
                 "with antialias=True.", F.avg_pool2d(hr, scale)),
                ("this keeps every scale-th pixel with no filter (x[..., ::scale, ::scale] or mode='nearest'): "
                 "everything finer than the new grid aliases. Use mode='bicubic' with antialias=True.",
                 hr[..., ::scale, ::scale]),
                ("align_corners=True stretches the grid so that the corner pixels line up: SR's degradation keeps "
                 "pixel centres, align_corners=False (the default).",
                 _resize(hr, scale, "bicubic", antialias=True, align_corners=True)),
                ("the result is not clamped: the cubic kernel's negative lobes overshoot at hard edges (values beyond "
                 "1 here), and an image lives in [-1, 1]. Add .clamp(-1, 1).",
                 _resize(hr, scale, "bicubic", clamp=False, antialias=True)),
            ]
            chk.mismatch(expected, got.detach(), variants, problem=f"Wrong low-resolution image (scale {scale}).",
                         fallback="F.interpolate(hr, size=(H // scale, W // scale), mode='bicubic', "
                                  "align_corners=False, antialias=True), clamped to [-1, 1], gives the reference.")
    chk.passed()


# ---------------------------------------------------------------- luma (Exercise 2)
_BT601 = (65.481, 128.553, 24.966)  # 219 x (0.299, 0.587, 0.114)


def _luma(x: Tensor, weights: tuple[float, float, float] = _BT601, offset: float = 16.0, to01: bool = True) -> Tensor:
    rgb = (x + 1) / 2 if to01 else x
    return offset + sum(wk * rgb[:, k:k + 1] for k, wk in enumerate(weights))


def check_rgb_to_y(fn: Callable[[Tensor], Tensor]) -> None:
    """fn(x (N, 3, H, W) in [-1, 1]) -> (N, 1, H, W): Y = 16 + 65.481 R + 128.553 G + 24.966 B, R, G, B in [0, 1]
    (ITU-R BT.601, studio range [16, 235], MATLAB's rgb2ycbcr)."""
    gen = torch.Generator().manual_seed(62)
    colours = torch.tensor([[[-1, -1, -1], [1, 1, 1], [1, -1, -1]], [[-1, 1, -1], [-1, -1, 1], [0, 0, 0]]],
                           dtype=torch.float32).permute(2, 0, 1)[None]  # (1, 3, 2, 3)
    cases = [(colours, "black, white, red / green, blue, mid-grey (1, 3, 2, 3)")]
    cases += [(torch.rand(*s, generator=gen) * 2 - 1, f"{s}, uniform in [-1, 1]") for s in [(2, 3, 4, 5), (3, 3, 3, 2)]]
    chk = _Check("check_rgb_to_y", "the luma Y of ITU-R BT.601", fn, len(cases))
    for case, (x, text) in enumerate(cases, 1):
        n, _, h, w = x.shape
        expected = rgb_to_y(x)
        given = x.clone()
        got = _call(chk, case, (given,), "converting colours draws no random numbers.", x=text)
        _unchanged(chk, "x", given, x)
        _tensor_of_shape(chk, got, expected, {
            (n, h, w): "the channel dim was summed away: keep it, (N, 1, H, W), with keepdim=True (or x[:, 0:1] "
                       "slices for R, G and B).",
            (n, 3, h, w): "one channel per colour: Y is ONE channel, the weighted SUM of R, G and B."},
            f"Y has one channel: {(n, 1, h, w)}.")
        if not _close(got, expected):
            rgb = (x + 1) / 2
            bt709 = tuple(219 * v for v in (0.2126, 0.7152, 0.0722))
            chk.mismatch(expected, got.detach(), [
                ("these are BT.709's weights (HDTV, 0.2126, 0.7152, 0.0722): SR papers measure BT.601's luma, "
                 "Y = 16 + 65.481 R + 128.553 G + 24.966 B.", _luma(x, bt709)),
                ("the offset +16 is missing: studio-range Y starts at 16 (black) and ends at 235 (white).",
                 _luma(x, offset=0.0)),
                ("the weights were applied to x in [-1, 1]: map it to [0, 1] first, (x + 1) / 2.",
                 _luma(x, to01=False)),
                ("x + 1 lies in [0, 2]: map [-1, 1] to [0, 1] with (x + 1) / 2.", _luma(x + 1, to01=False)),
                ("this is full-range (JPEG) luma, 255 (0.299 R + 0.587 G + 0.114 B), black at 0 and white at 255: SR "
                 "papers use the studio range of BT.601, 16 + 219 (0.299 R + 0.587 G + 0.114 B).",
                 _luma(x, (76.245, 149.685, 29.07), offset=0.0)),
                ("the weights are in reverse order, as for an image stored BGR (OpenCV): here channel 0 is R, "
                 "65.481 R + 128.553 G + 24.966 B.", _luma(x, _BT601[::-1])),
                ("this is Y / 255, in [16/255, 235/255]: SR papers compute PSNR on Y in 0..255 units, "
                 "16 + 65.481 R + 128.553 G + 24.966 B.", _luma(x) / 255),
                ("the plain mean of the channels: luma weighs them unequally (green most, blue least), "
                 "Y = 16 + 65.481 R + 128.553 G + 24.966 B.", x.mean(1, keepdim=True)),
                ("the mean of the channels, scaled to [16, 235]: luma weighs them unequally (green most, blue "
                 "least), Y = 16 + 65.481 R + 128.553 G + 24.966 B.", 16 + 219 * rgb.mean(1, keepdim=True)),
                ("the mean of the channels, scaled to 0..255: luma weighs them unequally (green most, blue least), "
                 "Y = 16 + 65.481 R + 128.553 G + 24.966 B.", 255 * rgb.mean(1, keepdim=True)),
            ], problem="Wrong Y.", fallback="Y = 16 + 65.481 R + 128.553 G + 24.966 B with (R, G, B) = (x + 1) / 2.")
    chk.passed()


# ---------------------------------------------------------------- PSNR (Exercise 3)
def _psnr(sr: Tensor, hr: Tensor, s: int, r: float, top: int | None = None, bottom: int | None = None,
          left: int | None = None, right: int | None = None, measure: str = "mse", factor: float = 10.0,
          peak: str = "square", log: Callable = np.log10, batch: bool = False) -> np.ndarray:
    """PSNR per image (float64) with the crop and the formula switchable, to recognise the classic slips."""
    t, b, le, ri = (s if v is None else v for v in (top, bottom, left, right))
    a, c = sr.double().numpy(), hr.double().numpy()
    h, w = a.shape[-2:]
    d = (a - c)[..., t:h - b, le:w - ri]  # (N, C, H - t - b, W - le - ri)
    axes = (1, 2, 3)
    if measure == "pixel":  # the mean of per-pixel PSNRs
        return (factor * log(r ** 2 / d ** 2)).mean(axis=axes)
    mse = np.full(len(a), (d ** 2).mean()) if batch else (d ** 2).mean(axis=axes)
    err = np.sqrt(mse) if measure == "rmse" else mse
    return factor * log({"square": r ** 2, "plain": r}[peak] / err)


def _psnr_cases() -> list[tuple[Tensor, Tensor, int, float, str]]:
    """(sr, hr, scale, data_range, how they are shown): errors larger near the borders, and near the top-left most."""
    gen = torch.Generator().manual_seed(63)
    out = []
    for (n, c, h, w), s, r, text in [((2, 1, 20, 24), 4, 255.0, "Y in [16, 235]"), ((3, 1, 18, 26), 2, 1.0,
                                     "grey images in [0, 1]"), ((1, 3, 21, 27), 3, 2.0, "RGB in [-1, 1]"),
                                    ((2, 1, 28, 20), 4, 255.0, "Y in [16, 235]")]:
        lo = {255.0: 16.0, 1.0: 0.0, 2.0: -1.0}[r]
        hi = lo + (219.0 if r == 255 else r)
        hr = lo + (hi - lo) * F.interpolate(torch.rand(n, c, h // 3, w // 3, generator=gen), size=(h, w),
                                            mode="bilinear")
        rows, cols = torch.arange(h)[:, None], torch.arange(w)[None, :]
        border = ((rows < s) | (rows >= h - s) | (cols < s) | (cols >= w - s)).float()
        corner = ((rows < 2 * s) & (cols < 2 * s)).float()
        spread = r * (0.01 + 0.04 * torch.rand(n, 1, 1, 1, generator=gen))  # each image its own error level
        noise = torch.randn(n, c, h, w, generator=gen) * spread * (1 + 3 * border + 2 * corner)
        out.append((hr + noise, hr, s, r, f"{(n, c, h, w)}, {text}"))
    return out


def check_psnr(fn: Callable[[Tensor, Tensor, int, float], Any]) -> None:
    """fn(sr, hr (N, C, H, W), scale, data_range) -> (N,): each image's 10 log10(data_range^2 / MSE), the MSE over its
    channels and pixels after cropping ``scale`` pixels from every border."""
    cases = _psnr_cases()
    chk = _Check("check_psnr", "PSNR with the border cropped", fn, len(cases))
    for case, (sr, hr, s, r, text) in enumerate(cases, 1):
        n, _, h, w = hr.shape
        expected = _psnr(sr, hr, s, r)
        given = (sr.clone(), hr.clone())
        got = _call(chk, case, (*given, s, r), "PSNR draws no random numbers.", sr=f"{text}, hr plus noise, stronger "
                    f"near the borders", hr=text, scale=s, data_range=r)
        for name, now, before in zip(("sr", "hr"), given, (sr, hr)):
            _unchanged(chk, name, now, before)
        values = (np.array(float(got)) if isinstance(got, (float, int)) else
                  got.detach().cpu().double().numpy() if isinstance(got, Tensor) else _as_array(got))
        if values is None:
            chk.fail("It must return one PSNR per image: a tensor of shape (N,).", expected, got,
                     f"your function returned a {type(got).__name__}.")
        if values.shape != (n,):
            if values.size == 1:
                diagnosis = (f"one number for a batch of {n} images: SR papers report the PSNR of each image (and then "
                             f"average the PSNRs over a test set). Take each image's MSE over its channels and pixels, "
                             f"dim=(1, 2, 3), and return the N PSNRs.")
            elif values.size == n:
                diagnosis = "the right number of values in the wrong shape: return shape (N,), without keepdim."
            else:
                diagnosis = ("one PSNR per image: the MSE averages over every dim but the batch, dim=(1, 2, 3), so "
                             "that the result has shape (N,).")
            chk.fail(f"It returned shape {values.shape}; expected ({n},).", expected, values, diagnosis)
        if not np.isfinite(values).all():
            chk.fail("It returned NaN or inf.", expected, values, "no image here equals its reference, so the MSE "
                     "is positive after any crop; an empty crop (x[..., s:-s] with s = 0, say) makes a NaN.")
        if _close(values, expected, rtol=1e-4, atol=1e-4):
            continue
        same = dict(s=s, r=r)
        slips = [(f"{wrong} pixels were cropped whatever the scale: use the argument scale, here {s}.",
                  dict(s=wrong)) for wrong in (4,) if wrong != s]
        slips += [
            ("nothing was cropped: SR papers measure without the `scale` pixels along every border (where the network "
             "sees zero padding), x[..., scale:-scale, scale:-scale].", dict(top=0, bottom=0, left=0, right=0)),
            ("only the top and left borders were cropped (x[..., s:, s:]): crop the bottom and right too, "
             "x[..., s:H - s, s:W - s].", dict(bottom=0, right=0)),
            ("only the bottom and right borders were cropped (x[..., :-s, :-s]): crop the top and left too, "
             "x[..., s:H - s, s:W - s].", dict(top=0, left=0)),
            ("only the width was cropped: x[..., s:-s] slices the LAST dim only; crop the height too, "
             "x[..., s:-s, s:-s].", dict(top=0, bottom=0)),
            ("only the height was cropped: crop the width too, x[..., s:-s, s:-s].", dict(left=0, right=0)),
            (f"{2 * s} pixels were cropped from each border: crop `scale` = {s} pixels, x[..., s:-s, s:-s] (not "
             f"the scale on each side counted twice).", dict(top=2 * s, bottom=2 * s, left=2 * s, right=2 * s)),
            (f"{s // 2} pixels were cropped from each border: crop `scale` = {s} pixels from EACH border, "
             f"x[..., s:-s, s:-s].", dict(top=s // 2, bottom=s // 2, left=s // 2, right=s // 2)),
            ("this uses the RMSE where the MSE belongs: PSNR = 10 log10(data_range^2 / MSE) (= 20 log10(data_range "
             "/ RMSE)).", dict(measure="rmse")),
            ("20 log10 goes with the RMSE: with the MSE it is 10 log10(data_range^2 / MSE).", dict(factor=20.0)),
            ("20 log10(data_range / MSE) mixes the two forms: 10 log10(data_range^2 / MSE), or 20 log10(data_range "
             "/ RMSE).", dict(factor=20.0, peak="plain")),
            ("data_range is not squared: PSNR = 10 log10(data_range^2 / MSE), the peak signal's POWER over the "
             "noise's.", dict(peak="plain")),
            ("this is the natural log: PSNR is in decibels, 10 log10.", dict(log=np.log)),
            ("the mean of per-pixel PSNRs: average the squared errors first (the MSE of each image), then take one "
             "log.", dict(measure="pixel")),
            ("one MSE over the whole batch: each image has its own MSE, over dim=(1, 2, 3).", dict(batch=True)),
        ]
        slips += [(f"data_range = {wrong:g} was used: use the argument data_range (here {r:g}), the span of the "
                   f"pixel values: 255 for Y in 0..255 units, 1 for images in [0, 1], 2 in [-1, 1].", dict(r=wrong))
                  for wrong in (1.0, 255.0) if wrong != r]
        chk.mismatch(expected, values, [(d, _psnr(sr, hr, **{**same, **kw})) for d, kw in slips],
                     problem=f"Wrong PSNR (scale {s}, data_range {r:g}).", fallback="crop x[..., s:H - s, s:W - s] "
                     "from both images, MSE over dim=(1, 2, 3), then 10 log10(data_range^2 / MSE).")
    chk.passed()


# ---------------------------------------------------------------- the pixel shuffle (Exercise 4)
def _shuffle(x: Tensor, r: int, rrc: bool = False, transposed: bool = False, tiled: bool = False) -> Tensor:
    """(N, C r^2, H, W) -> (N, C, rH, rW), with the classic slips of the channel split and the offsets switchable."""
    n, c2, h, w = x.shape
    c = c2 // (r * r)
    # (N, C, i, j, H, W): the channel c r^2 + i r + j, or with rrc (i r + j) C + c
    y = x.reshape(n, r, r, c, h, w).permute(0, 3, 1, 2, 4, 5) if rrc else x.reshape(n, c, r, r, h, w)
    y = y.transpose(2, 3) if transposed else y
    y = y.permute(0, 1, 2, 4, 3, 5) if tiled else y.permute(0, 1, 4, 2, 5, 3)  # (N, C, H, i, W, j): row h r + i
    return y.reshape(n, c, r * h, r * w)


def check_pixel_shuffle(fn: Callable[[Tensor, int], Tensor]) -> None:
    """fn(x (N, C r^2, H, W), r) -> (N, C, rH, rW), out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]: the
    sub-pixel convolution's rearrangement (Shi et al., CVPR 2016), as nn.PixelShuffle(r)."""
    gen = torch.Generator().manual_seed(64)
    shapes = [((2, 2, 4, 6), 2), ((1, 3, 2, 3), 3), ((2, 1, 2, 2), 4), ((1, 3, 3, 2), 2), ((1, 2, 2, 3), 4)]
    cases = [(torch.randn(n, c * r * r, h, w, generator=gen), r, c) for (n, c, h, w), r in shapes]
    chk = _Check("check_pixel_shuffle", "the pixel shuffle of a sub-pixel convolution", fn, len(cases))
    for case, (x, r, c) in enumerate(cases, 1):
        n, c2, h, w = x.shape
        chk.hints = {**_IN_PLACE, "is invalid for input of size": f"a reshape that does not fit: here r = {r}, so the "
                     f"{c2} channels are C = {c} groups of r^2 = {r * r}; use the argument r.",
                     "divisible by the square of upscale_factor": f"use the argument r, here {r}.",
                     "pixel_unshuffle expects": "F.pixel_unshuffle is the inverse: it turns r x r blocks of pixels "
                                                "into r^2 channels. Here r^2 channels become an r x r block."}
        leaf = x.clone().requires_grad_(True)
        expected = F.pixel_shuffle(leaf, r)
        given = x.clone().requires_grad_(True)
        got = _call(chk, case, (given, r), "the pixel shuffle only moves values: nothing is random.",
                    x=f"{tuple(x.shape)}, C = {c} channels times r^2 = {r * r}", r=r)
        _unchanged(chk, "x", given, x)
        shapes = {(n, c, h * r * r, w): "all r^2 offsets went into the height: r of them go down (rows), r across "
                                        "(columns), (N, C, rH, rW)."}
        if h % r == 0 and w % r == 0:
            shapes[(n, c2 * r * r, h // r, w // r)] = ("this is the inverse, the pixel UNshuffle: here r^2 channels "
                                                       "become an r x r block of pixels, (N, C, rH, rW).")
        if r != 2:
            shapes[(n, c2 // 4, 2 * h, 2 * w)] = f"this upsampled by 2: use the argument r, here {r}."
        _tensor_of_shape(chk, got, expected, shapes, f"the result has shape (N, C, rH, rW) = {tuple(expected.shape)}.")
        if not _close(got, expected):
            chk.mismatch(expected.detach(), got.detach(), [
                ("the channels were split as (r, r, C), channel (i r + j) C + c (TensorFlow's depth_to_space order): "
                 "PyTorch's nn.PixelShuffle splits them as (C, r, r), channel c r^2 + i r + j.", _shuffle(x, r, True)),
                ("the two sub-pixel offsets are swapped: channel c r^2 + i r + j goes to ROW h r + i and COLUMN "
                 "w r + j; permute (N, C, r, r, H, W) to (N, C, H, r, W, r).", _shuffle(x, r, transposed=True)),
                ("the offsets are the slow index here, so the result is r x r tiles of H x W images: each pixel's "
                 "r x r block must stay together, out[h r + i, w r + j]; permute (N, C, r, r, H, W) to "
                 "(N, C, H, r, W, r).", _shuffle(x, r, tiled=True)),
                ("the channels were split as (r, r, C) and the offsets swapped: split as (C, r, r) and permute "
                 "(N, C, r, r, H, W) to (N, C, H, r, W, r).", _shuffle(x, r, True, True)),
                ("a plain reshape to (N, C, rH, rW) keeps the memory order, so whole channels become bands of rows: "
                 "split the channels as (C, r, r), then permute to (N, C, H, r, W, r) BEFORE the last reshape.",
                 x.reshape(n, c, r * h, r * w)),
            ], problem=f"Wrong arrangement (r = {r}).", fallback="out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, "
                                                                 "h, w].")
        _gradients(chk, got, expected, [leaf], [given], ["x"], "the shuffle must pass gradients to the convolution "
                   "before it: no .detach(), .numpy() or torch.no_grad().")
    chk.passed()


# ---------------------------------------------------------------- the residual block (Exercise 5)
_BLOCK_NAMES = ("conv1", "bn1", "prelu", "conv2", "bn2")


def _block_layers(seed: int, c: int, train: bool) -> list[nn.Module]:
    """The five layers of a ResidualBlock(c), with BatchNorm's scale, shift and statistics and PReLU's slopes random."""
    def make() -> list[nn.Module]:
        layers = list(ResidualBlock(c).body)
        with torch.no_grad():
            for m in layers:
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.3)
                    m.running_mean.normal_(0, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
                    m.num_batches_tracked.fill_(seed)
                elif isinstance(m, nn.PReLU):
                    m.weight.uniform_(0.05, 0.4)  # one slope per channel, far from ReLU's 0
                m.train(train)
        return layers
    return _seeded(seed, make)


def _block(x: Tensor, layers: list[nn.Module], variant: str = "right") -> Tensor:
    """The SRResNet block on copies of ``layers`` (in their modes), or one of the classic slips."""
    c1, b1, act, c2, b2 = copy.deepcopy(layers)
    relu = F.relu
    return {
        "right": lambda: x + b2(c2(act(b1(c1(x))))),
        "no skip": lambda: b2(c2(act(b1(c1(x))))),
        "act after": lambda: act(x + b2(c2(act(b1(c1(x)))))),
        "relu after": lambda: relu(x + b2(c2(act(b1(c1(x)))))),
        "skip before bn2": lambda: b2(x + c2(act(b1(c1(x))))),
        "act at the end": lambda: x + act(b2(c2(act(b1(c1(x)))))),
        "act before bn": lambda: x + b2(c2(b1(act(c1(x))))),
        "relu": lambda: x + b2(c2(relu(b1(c1(x))))),
        "default prelu": lambda: x + b2(c2(F.prelu(b1(c1(x)), torch.tensor([0.25])))),
        "bn swapped": lambda: x + b1(c2(act(b2(c1(x))))),
        "conv1 twice": lambda: x + b2(c1(act(b1(c1(x))))),
        "no bn": lambda: x + c2(act(c1(x))),
        "eval": lambda: x + b2.eval()(c2(act(b1.eval()(c1(x))))),
        "train": lambda: x + b2.train()(c2(act(b1.train()(c1(x))))),
    }[variant]()


def check_residual_block(fn: Callable[..., Tensor]) -> None:
    """fn(x, conv1, bn1, prelu, conv2, bn2) -> x + bn2(conv2(prelu(bn1(conv1(x))))): SRResNet's residual block (Ledig
    et al., CVPR 2017, fig. 4), no activation after the sum, the layers called in the mode they are in."""
    gen = torch.Generator().manual_seed(65)
    shapes = [((2, 4, 5, 5), True), ((3, 3, 4, 6), False), ((2, 6, 3, 3), True), ((1, 2, 5, 4), False)]
    cases = [(torch.randn(*s, generator=gen), _block_layers(650 + case, s[1], train))
             for case, (s, train) in enumerate(shapes)]
    chk = _Check("check_residual_block", "SRResNet's residual block", fn, len(cases))
    for case, (x, layers) in enumerate(cases, 1):
        train = layers[1].training
        mode = "train mode" if train else "eval mode"
        c = x.shape[1]
        reference = copy.deepcopy(layers)
        leaf = x.clone().requires_grad_(True)
        expected = reference[4](reference[3](reference[2](reference[1](reference[0](leaf))))) + leaf
        originals = copy.deepcopy(layers)  # as they were before the call, for the slips below
        before = [copy.deepcopy(m.state_dict()) for m in layers]
        given = x.clone().requires_grad_(True)
        chk.hints = dict(_IN_PLACE)
        got = _call(chk, case, (given, *layers), "your function created new layers (their initialisation draws "
                    "random numbers) or reseeded the generator: use the five layers you are given.",
                    x=f"{tuple(x.shape)}, standard normal",
                    conv1=f"Conv2d({c}, {c}, 3, padding=1, bias=False)", bn1=f"BatchNorm2d({c}), {mode}",
                    prelu=f"PReLU({c}), one slope per channel", conv2=f"Conv2d({c}, {c}, 3, padding=1, bias=False)",
                    bn2=f"BatchNorm2d({c}), {mode}")
        _unchanged(chk, "x", given, x)
        for name, m in zip(_BLOCK_NAMES, layers):
            if any(sub.training != train for sub in m.modules()):
                chk.fail(f"{name} was switched to {'eval' if train else 'train'} mode.", diagnosis="leave the mode to "
                         "the caller: model.train() and model.eval() set it for every layer, and the block calls each "
                         "layer as it is (BatchNorm uses the batch's statistics in train mode, its running ones in "
                         "eval mode).")
        statistics = ("running_mean", "running_var", "num_batches_tracked")
        for name, m, state in zip(_BLOCK_NAMES, layers, before):
            changed = [k for k, v in m.state_dict().items() if not torch.equal(v, state[k])
                       and not (train and k in statistics)]
            if changed and set(changed) <= set(statistics):
                chk.fail(f"{name}'s {', '.join(changed)} changed in eval mode.", diagnosis="BatchNorm ran as in "
                         "training: it used the batch's statistics in eval mode and updated its running ones (as "
                         "F.batch_norm with training=True does). Call the layers themselves, bn1(h), which pick the "
                         "statistics by their mode.")
            if changed:
                chk.fail(f"{name}'s {', '.join(changed)} changed.", diagnosis="the forward pass only reads the "
                         "weights: an optimiser changes them, not the block (no in-place operations on .weight or "
                         ".data).")
        _tensor_of_shape(chk, got, expected, {}, "the block keeps the shape of x: (N, C, H, W).")
        if not _close(got, expected, rtol=1e-4, atol=1e-4):
            chk.mismatch(expected.detach(), got.detach(), [
                ("the skip connection is missing: the block returns x + F(x).", _block(x, originals, "no skip")),
                ("an activation after the sum (as in the original ResNet): SRResNet's block ends with the sum, "
                 "x + BN(conv(PReLU(BN(conv(x))))), with nothing after it.", _block(x, originals, "act after")),
                ("a ReLU after the sum (as in the original ResNet): SRResNet's block ends with the sum, with nothing "
                 "after it.", _block(x, originals, "relu after")),
                ("x was added before the second BatchNorm: normalise first, then add, x + bn2(conv2(...)).",
                 _block(x, originals, "skip before bn2")),
                ("a second PReLU after bn2: there is ONE activation, between the two convolutions.",
                 _block(x, originals, "act at the end")),
                ("the PReLU comes before bn1: the order is conv1, bn1, PReLU, conv2, bn2.",
                 _block(x, originals, "act before bn")),
                ("this is a ReLU: use the PReLU you are given, whose learned slopes let negative values through.",
                 _block(x, originals, "relu")),
                ("a PReLU with the default slope 0.25: use the prelu you are given, with its own (learned) slopes.",
                 _block(x, originals, "default prelu")),
                ("bn1 and bn2 are swapped: bn1 follows conv1, bn2 follows conv2.", _block(x, originals, "bn swapped")),
                ("conv1 was used twice: the second convolution is conv2.", _block(x, originals, "conv1 twice")),
                ("the BatchNorm layers are missing: conv, BN, PReLU, conv, BN.", _block(x, originals, "no bn")),
                ("BatchNorm used its running statistics in train mode: call the layers themselves, bn1(h), which "
                 "pick the statistics by their mode (F.batch_norm with training=False does not).",
                 _block(x, originals, "eval")) if train else
                ("BatchNorm used the batch's statistics in eval mode: call the layers themselves, bn1(h), which pick "
                 "the statistics by their mode (F.batch_norm with training=True does not).",
                 _block(x, originals, "train")),
            ], problem=f"Wrong output (layers in {mode}).", fallback="x + bn2(conv2(prelu(bn1(conv1(x))))).")
        if train:
            for name, m, ref in zip(_BLOCK_NAMES, layers, reference):
                if name.startswith("bn") and not (_close(m.running_mean, ref.running_mean, atol=1e-6)
                                                  and _close(m.running_var, ref.running_var, atol=1e-6)):
                    chk.fail(f"The output is right but {name}'s running statistics are not.", ref.running_mean,
                             m.running_mean, "each BatchNorm layer must run exactly once per forward pass, on its "
                             "input: in train mode every call updates its running statistics (shown: the running "
                             "mean).")
        theirs = [given] + [p for m in layers for p in m.parameters()]
        mine = [leaf] + [p for m in reference for p in m.parameters()]
        names = ["x"] + [f"{name}.{k}" for name, m in zip(_BLOCK_NAMES, layers) for k, _ in m.named_parameters()]
        _gradients(chk, got, expected, mine, theirs, names, "part of the block is detached: the gradient flows "
                   "through both paths, the skip and the layers (no .detach(), .data or torch.no_grad()).")
    chk.passed()


# ---------------------------------------------------------------- the content loss (Exercise 6)
def _phi(case: int) -> tuple[nn.Module, str]:
    """A small frozen feature network in eval mode, on normalised images; BatchNorm makes its mode matter."""
    def make() -> tuple[nn.Module, str]:
        if case == 2:
            return random_features(width=4, depth=2, seed=5).net, "random_features(width=4, depth=2).net"
        w, k, act = {1: (6, 4, nn.ReLU()), 3: (5, 3, nn.LeakyReLU(0.2))}[case]
        net = nn.Sequential(nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), act, nn.Conv2d(w, k, 3, padding=1))
        with torch.no_grad():
            net[1].weight.uniform_(0.5, 1.5)
            net[1].bias.normal_(0, 0.3)
            net[1].running_mean.normal_(0, 1.0)
            net[1].running_var.uniform_(0.3, 3.0)
        return net, f"Conv2d(3, {w}, 3), BatchNorm2d({w}), {type(act).__name__}, Conv2d({w}, {k}, 3)"
    net, text = _seeded(660 + case, make)
    return net.eval().requires_grad_(False), text


def _normalize(x: Tensor, shift: bool = True, mean: bool = True, std: bool = True) -> Tensor:
    m = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) if mean else 0.0
    s = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) if std else 1.0
    return (((x + 1) / 2 if shift else x) - m) / s


def check_content_loss(fn: Callable[[nn.Module, Tensor, Tensor], Tensor]) -> None:
    """fn(phi, sr, hr) -> mean (phi(n(sr)) - phi(n(hr)))^2 with n(x) = ((x + 1) / 2 - ImageNet mean) / ImageNet std and
    phi(n(hr)) a constant: SRGAN's content loss (Ledig et al., CVPR 2017, eq. 5) for a phi trained on ImageNet."""
    gen = torch.Generator().manual_seed(66)
    cases = []
    for case, shape in enumerate([(2, 3, 12, 12), (1, 3, 16, 12), (3, 3, 10, 10)], 1):
        hr = torch.rand(*shape, generator=gen) * 2 - 1
        cases.append((*_phi(case), (hr + 0.3 * torch.randn(*shape, generator=gen)).clamp(-1, 1), hr))
    chk = _Check("check_content_loss", "SRGAN's content loss", fn, len(cases))
    for case, (phi, text, sr, hr) in enumerate(cases, 1):
        before = copy.deepcopy(phi.state_dict())
        leaves = [sr.clone().requires_grad_(True), hr.clone()]
        with torch.no_grad():
            target = phi(_normalize(leaves[1]))
        expected = F.mse_loss(phi(_normalize(leaves[0])), target)
        given = (sr.clone().requires_grad_(True), hr.clone().requires_grad_(True))
        chk.hints = dict(_IN_PLACE)
        got = _call(chk, case, (phi, *given), "the content loss draws no random numbers: use the phi you are given "
                    "(building a new network draws its weights).", phi=f"{text}, eval mode, frozen",
                    sr=f"{tuple(sr.shape)} in [-1, 1]", hr=f"{tuple(hr.shape)} in [-1, 1], requires_grad=True")
        for name, now, was in zip(("sr", "hr"), given, (sr, hr)):
            _unchanged(chk, name, now, was)
        _no_backward(chk, list(given), phi)
        if any(m.training for m in phi.modules()):
            chk.fail("phi was switched to train mode.", diagnosis="phi is a fixed measuring instrument: it stays in "
                     "eval mode (in train mode its BatchNorm would use each batch's statistics and change its running "
                     "ones). Leave phi's mode as it is.")
        if any(p.requires_grad for p in phi.parameters()):
            chk.fail("phi's weights now require gradients.", diagnosis="phi is frozen and must stay so: gradients "
                     "flow THROUGH phi to the image without phi's weights requiring grad; the generator learns, phi "
                     "does not.")
        got = got.reshape(()) if isinstance(got, Tensor) and got.numel() == 1 else got
        _tensor_of_shape(chk, got, expected, {}, "the loss is one number: the mean over every feature of every image.")
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, "every feature here is finite.")
        if not _close(got, expected):
            with torch.no_grad():
                def on(norm: Callable[[Tensor], Tensor], loss: Callable = F.mse_loss, net: nn.Module = phi) -> Tensor:
                    return loss(net(norm(sr)), net(norm(hr)))
                trained = copy.deepcopy(phi).train()
                variants = [
                    ("phi got the images as they are, in [-1, 1]: a network trained on ImageNet expects the inputs it "
                     "was trained on, ((x + 1) / 2 - mean) / std with ImageNet's mean and std per channel.",
                     on(lambda x: x)),
                    ("the ImageNet normalisation was applied to x in [-1, 1]: its mean and std are for pixels in "
                     "[0, 1], so map x to [0, 1] first, (x + 1) / 2.", on(lambda x: _normalize(x, shift=False))),
                    ("the images were mapped to [0, 1] but not normalised: subtract ImageNet's mean and divide by its "
                     "std, per channel.", on(lambda x: (x + 1) / 2)),
                    ("the mean was subtracted but the std not divided: ((x + 1) / 2 - mean) / std.",
                     on(lambda x: _normalize(x, std=False))),
                    ("divided by the std but the mean not subtracted: ((x + 1) / 2 - mean) / std.",
                     on(lambda x: _normalize(x, mean=False))),
                    ("this is the mean ABSOLUTE error: the content loss is the mean SQUARED error of the features.",
                     on(_normalize, F.l1_loss)),
                    ("the squared errors are summed: the content loss is their MEAN (F.mse_loss).",
                     on(_normalize, lambda a, b: F.mse_loss(a, b, reduction="sum"))),
                    ("this is the root of the MSE: the content loss is the mean SQUARED error.",
                     on(_normalize, lambda a, b: F.mse_loss(a, b).sqrt())),
                    ("the pixels were compared: the content loss compares phi's FEATURES of the two images.",
                     F.mse_loss(sr, hr)),
                    ("phi ran in train mode (its BatchNorm used the batch's statistics): phi is used as it is given, "
                     "in eval mode.", on(_normalize, net=trained)),
                ]
            chk.mismatch(expected.detach(), got.detach(), variants, problem="Wrong loss.",
                         fallback="F.mse_loss(phi(n(sr)), phi(n(hr))) with n(x) = ((x + 1) / 2 - mean) / std.")
        if any(not torch.equal(v, before[k]) for k, v in phi.state_dict().items()):
            chk.fail("phi's weights or statistics changed.", diagnosis="the loss only reads phi: no in-place "
                     "operations on its weights, and no forward pass in train mode.")
        if not got.requires_grad:
            chk.fail("The value is right but it carries no gradient.", diagnosis="the generator learns through this "
                     "loss: compute phi(n(sr)) with gradients (only the target phi(n(hr)) is a constant).")
        (want,) = torch.autograd.grad(expected, [leaves[0]])
        have = torch.autograd.grad(got, list(given), allow_unused=True)
        if have[0] is None or not _close(have[0], want, rtol=1e-3, atol=1e-6):
            chk.fail("The value is right but the gradient with respect to sr is not.", want, have[0],
                     "phi(n(sr)) must be computed with gradients, through phi, to sr (no .detach() or torch.no_grad() "
                     "on the SR side; the constant is the target phi(n(hr))).")
        if have[1] is not None and have[1].abs().max() > 0:
            chk.fail("The gradient reaches hr.", torch.zeros_like(hr), have[1], "phi(n(hr)) is the target, a "
                     "constant: compute it under torch.no_grad() (or .detach() it). Otherwise the loss also pulls "
                     "the high-resolution image towards the SR one, and costs a second backward pass through phi.")
    chk.passed()


# ---------------------------------------------------------------- SRGAN's generator loss (Exercise 7)
_G_CASES = [(_t(-2.3, 0.4, 1.7, -0.6, 3.1, -4.2), 0.42, 0.5), (_t(2.2, -1.3, 0.25), 1.35, 0.1),
            (_t(-3.5, -2.5, 0.6, 1.4, 4.5, -0.3, 2.7, 0.15), 0.08, 1e-3), (_t(5.0, -5.5), 2.6, 2.0)]


def _g_loss(logits: Tensor, content: Tensor, w: float) -> Tensor:
    return content + w * F.softplus(-logits).mean()  # content + w (-mean log D(G(LR)))


def check_srgan_g_loss(fn: Callable[[Tensor, Tensor, float], Tensor]) -> None:
    """fn(d_fake_logits (N,), content (0-d), adversarial_weight) -> content + adversarial_weight * mean(-log
    sigmoid(d_fake_logits)): SRGAN's perceptual loss (Ledig et al., CVPR 2017, eqs. 3 and 6), from logits."""
    chk = _Check("check_srgan_g_loss", "SRGAN's perceptual loss for the generator", fn, len(_G_CASES))
    for case, (logits, content_value, w) in enumerate(_G_CASES, 1):
        content = torch.tensor(content_value)
        leaves = [logits.clone().requires_grad_(True), content.clone().requires_grad_(True)]
        expected = _g_loss(*leaves, w)
        given = [t.clone().requires_grad_(True) for t in (logits, content)]
        chk.hints = {**_IN_PLACE, "between 0 and 1": "F.binary_cross_entropy wants probabilities, and these are "
                     "logits: use F.binary_cross_entropy_with_logits, or F.softplus(-logits)."}
        got = _call(chk, case, (*given, w), "the loss draws no random numbers.", d_fake_logits=logits,
                    content=f"{content_value} (a 0-d tensor)", adversarial_weight=w)
        for name, now, was in zip(("d_fake_logits", "content"), given, (logits, content)):
            _unchanged(chk, name, now, was)
        _no_backward(chk, given)
        if not isinstance(got, Tensor):
            chk.fail("It must return a torch tensor.", expected, got, f"your function returned a "
                     f"{type(got).__name__}: return the tensor itself (no .item() or float()), so that "
                     f"loss.backward() reaches the generator.")
        if got.numel() != 1:
            chk.fail(f"It returned shape {tuple(got.shape)}, not a scalar.", expected, got, "one loss per example: "
                     "average the adversarial term over the batch with .mean()." if got.shape == logits.shape else
                     "the loss is one number (a 0-d tensor).")
        got = got.reshape(())
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, _LOGITS_NAN)
        if not _close(got, expected):
            sp = lambda t: F.softplus(t).mean()  # noqa: E731
            l, c = logits, content
            chk.mismatch(expected.detach(), got.detach(), [
                ("the adversarial term has the wrong sign: G minimises -log D(G(LR)) = softplus(-logit), which falls "
                 "as D believes the SR image.", c - w * sp(-l)),
                ("this is the saturating form log(1 - D(G(LR))): SRGAN's generator minimises -log D(G(LR)), whose "
                 "gradient stays strong while D still rejects the SR images (Goodfellow et al. 2014, sec. 3).",
                 c - w * sp(l)),
                ("the SR images got label 0, as in D's loss: G wants D to call them real, label 1: -log D(G(LR)) "
                 "= softplus(-logit).", c + w * sp(l)),
                ("the weight is on the content term: l = content + adversarial_weight * adversarial.",
                 w * c + sp(-l)),
                ("the weight is missing: the adversarial term is scaled by adversarial_weight (10^-3 in the paper).",
                 c + sp(-l)),
                ("the content term is weighted by 1 - adversarial_weight: the paper adds the weighted adversarial "
                 "term to the content loss, content + adversarial_weight * adversarial.",
                 (1 - w) * c + w * sp(-l)),
                ("the content term is missing: l = content + adversarial_weight * adversarial.", w * sp(-l)),
                (_SIGMOID_TWICE, c + w * sp(-torch.sigmoid(l))),
                ("the adversarial term is summed over the batch: average it, .mean().", c + w * F.softplus(-l).sum()),
                ("the log of the mean, -log(mean(D(G(LR)))): the loss is the MEAN OF THE LOGS, take the log of each "
                 "example's probability first.", c - w * torch.sigmoid(l).mean().log()),
            ], problem=f"Wrong loss (adversarial_weight = {w:g}).")
        if not got.requires_grad:
            chk.fail("The value is right but it carries no gradient.", diagnosis="the result is cut off from the "
                     "graph (.detach(), torch.no_grad(), or a number wrapped in torch.tensor).")
        want = torch.autograd.grad(expected, leaves)
        have = torch.autograd.grad(got, given, allow_unused=True)
        for name, h, wnt in zip(("d_fake_logits", "content"), have, want):
            if h is None or not _close(h, wnt, rtol=1e-3):
                chk.fail(f"The value is right but its gradient with respect to {name} is not.", wnt, h,
                         "part of the loss is detached or computed outside torch.")
    extreme, exact = _t(-200.0, 30.0, 2.0), 0.5 + 0.1 * float(F.softplus(-_t(-200.0, 30.0, 2.0).double()).mean())
    with torch.no_grad():
        try:
            value = fn(extreme.clone(), torch.tensor(0.5), 0.1)
        except Exception as err:  # noqa: BLE001 - the check has passed; this only feeds the note below
            value = f"{type(err).__name__}: {err}"
    note = ""
    if not isinstance(value, Tensor) or not _finite(value) or not _close(value.reshape(()), exact, rtol=1e-4):
        note = (f"with a logit of -200 (d_fake_logits = {_fmt(extreme)}, content 0.5, weight 0.1) your loss gives "
                f"{_fmt(value)} instead of {exact:.4f}. In float32 sigmoid(-200) rounds to 0, so -log(sigmoid(-200)) "
                f"= inf (and a + 1e-8 inside the log caps it at 18.4). F.softplus(-logits) or -F.logsigmoid(logits) "
                f"stay exact; prefer them in training.")
    chk.passed(note)


# ---------------------------------------------------------------- network interpolation (Exercise 8)
def _net_pair(case: int) -> tuple[nn.Module, nn.Module, str]:
    """Two networks of one architecture with different weights and BatchNorm statistics (and batch counters)."""
    def make() -> tuple[nn.Module, nn.Module, str]:
        if case == 2:
            a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.PReLU(4), nn.Conv2d(4, 3, 1))
            text = "Sequential(Conv2d(3, 4, 3), BatchNorm2d(4), PReLU(4), Conv2d(4, 3, 1))"
        else:
            channels, blocks = (4, 1) if case == 1 else (3, 2)
            a, text = SRResNet(2, channels, blocks), f"SRResNet(scale=2, channels={channels}, blocks={blocks})"
        b = copy.deepcopy(a)
        with torch.no_grad():
            for net, count in ((a, 7), (b, 250)):
                for p in net.parameters():
                    p.add_(0.3 * torch.randn_like(p))
                for m in net.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        m.running_mean.normal_(0, 0.5)
                        m.running_var.uniform_(0.5, 2.0)
                        m.num_batches_tracked.fill_(count)
        return a.eval(), b.eval(), text
    return _seeded(680 + case, make)


def _flat(state: dict[str, Tensor], keys: list[str]) -> Tensor:
    return torch.cat([state[k].double().flatten() for k in keys]) if keys else torch.zeros(0, dtype=torch.float64)


def check_interpolate_networks(fn: Callable[[nn.Module, nn.Module, float], nn.Module]) -> None:
    """fn(a, b, alpha) -> a new network with every weight and float buffer (1 - alpha) theta_a + alpha theta_b and the
    integer buffers of a; a and b unchanged (network interpolation, ESRGAN, Wang et al. 2018, sec. 3.4)."""
    alphas = (0.3, 0.75, 1.0)
    cases = [(*_net_pair(case), alpha) for case, alpha in enumerate(alphas, 1)]
    chk = _Check("check_interpolate_networks", "interpolation between two networks", fn, len(cases))
    for case, (a, b, text, alpha) in enumerate(cases, 1):
        states = {name: copy.deepcopy(net.state_dict()) for name, net in (("a", a), ("b", b))}
        expected = interpolate_networks(a, b, alpha).state_dict()
        chk.hints = {"not implemented for 'Long'": "an integer buffer was interpolated: BatchNorm's "
                     "num_batches_tracked counts batches and cannot be mixed; copy the integer buffers from a "
                     "(v.is_floating_point() tells them apart)."}
        got = _call(chk, case, (a, b, alpha), "interpolating draws no random numbers: copy.deepcopy(a) copies the "
                    "network without drawing new weights (a new network's constructor does draw).",
                    a=f"{text}, eval mode", b="the same architecture, other weights and BatchNorm statistics",
                    alpha=alpha)
        for name, net in (("a", a), ("b", b)):
            changed = [k for k, v in net.state_dict().items() if not torch.equal(v, states[name][k])]
            if changed:
                how = (f"your function returned {name} itself, interpolated in place" if got is net else
                       f"the interpolation was written into {name}")
                chk.fail(f"{name} was changed ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''}).",
                         diagnosis=f"{how}: a and b must stay as they are (the notebook compares several alphas from "
                                   f"the same two networks). Build the result in a copy, copy.deepcopy(a), then load "
                                   f"the mixed weights into it.")
        if isinstance(got, dict):
            chk.fail("It returned a dict.", diagnosis="return a network: the mixed state dict loaded into a copy of a, "
                     "out = copy.deepcopy(a); out.load_state_dict(mixed).")
        if not isinstance(got, nn.Module):
            chk.fail("It must return a network (an nn.Module).", diagnosis=f"your function returned a "
                     f"{type(got).__name__}.")
        if got is a or got is b:
            chk.fail(f"It returned {'a' if got is a else 'b'} itself.", diagnosis="return a NEW network: the caller "
                     "may train or change it, and a and b must stay as they are; copy.deepcopy(a) makes one.")
        state = got.state_dict()
        if type(got) is not type(a) or state.keys() != expected.keys():
            chk.fail(f"It returned a {type(got).__name__} with other entries than a.", diagnosis="the result has a's "
                     "architecture, every weight and buffer: copy.deepcopy(a) and load_state_dict.")
        shared = [n for n, p in got.named_parameters() if any(p.data_ptr() == q.data_ptr() for net in (a, b)
                                                             for q in net.parameters())]
        if shared:
            chk.fail(f"The new network shares {shared[0]} with a or b.", diagnosis="training it would change a or b: "
                     "copy.deepcopy(a), not copy.copy(a), gives it tensors of its own.")
        params = [k for k, _ in a.named_parameters()]
        floats = [k for k, v in expected.items() if v.is_floating_point() and k not in params]
        ints = [k for k, v in expected.items() if not v.is_floating_point()]
        sa, sb = states["a"], states["b"]
        lerp = lambda keys, t: _flat(sa, keys) * (1 - t) + _flat(sb, keys) * t  # noqa: E731
        everything = params + floats
        if not _close(_flat(state, everything), _flat(expected, everything), atol=1e-6):
            if _close(_flat(state, everything), lerp(everything, 1 - alpha), atol=1e-6):
                chk.fail(f"alpha is reversed: alpha = {alpha} gave {alpha:g} a + {1 - alpha:g} b.", diagnosis="alpha "
                         "= 0 gives a and alpha = 1 gives b: (1 - alpha) theta_a + alpha theta_b, torch.lerp(theta_a, "
                         "theta_b, alpha).")
            if _close(_flat(state, params), _flat(expected, params), atol=1e-6):
                source = "a" if _close(_flat(state, floats), _flat(sa, floats)) else "b" if _close(
                    _flat(state, floats), _flat(sb, floats)) else ""
                chk.fail("The weights are right but the float buffers (BatchNorm's running mean and variance) are "
                         "not.", _flat(expected, floats), _flat(state, floats),
                         (f"they are {source}'s: " if source else "") + "the running statistics are part of the "
                         "network and interpolate like its weights (iterate over state_dict(), not parameters(); an "
                         "SRResNet in eval mode normalises with them).")
            chk.mismatch(_flat(expected, params), _flat(state, params), [
                ("nothing was interpolated: these are a's weights.", _flat(sa, params)),
                ("these are b's weights: mix the two, (1 - alpha) theta_a + alpha theta_b.", _flat(sb, params)),
                ("a's weights need the factor 1 - alpha: (1 - alpha) theta_a + alpha theta_b.",
                 _flat(sa, params) + alpha * _flat(sb, params)),
                ("an even mix for every alpha: weigh the two by 1 - alpha and alpha.", lerp(params, 0.5)),
            ], problem=f"Wrong weights (alpha = {alpha}; shown: all the parameters, flattened).",
                fallback="every parameter (1 - alpha) theta_a + alpha theta_b.")
        for k in ints:
            if not torch.equal(state[k], sa[k]):
                chk.fail(f"The integer buffer {k} is {int(state[k])}.", int(sa[k]), int(state[k]),
                         "integer buffers (BatchNorm's count of batches seen) cannot be mixed: take them from a, and "
                         "interpolate only the entries with v.is_floating_point().")
    chk.passed()

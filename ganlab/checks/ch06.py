"""Checks for chapter 06, super-resolution: the degradation, luma, PSNR (Exercises 1-3) and SRResNet's sub-pixel
convolution (Exercise 4). The residual block, SRGAN's losses and network interpolation (Exercises 5-8) are in
``ch06_srgan``."""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..superres import degrade, rgb_to_y
from .ch04 import _as_array
from .ch05 import _IN_PLACE, _gradients, _tensor_of_shape, _unchanged
from .core import _Check, _close


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

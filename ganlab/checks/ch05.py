"""Checks for chapter 05, multi-scale models: progressive growing's fade-in, minibatch standard deviation
and equalised learning rate, and StyleGAN's AdaIN (Exercises 3-6). The pyramids, Burt & Adelson's and
SinGAN's (Exercises 1-2 and 7-8), are checked in ``ch05_singan``."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..progressive import EqualizedConv2d, EqualizedLinear, MinibatchStdDev
from ..stylegan import adain
from .core import _Check, _close


# ---------------------------------------------------------------- shared pieces
_IN_PLACE = {"leaf Variable that requires grad": "an input was changed in place (-=, *=, .mul_(), .clamp_(), "
                                                 "[...] = ...): leave the inputs as they are and compute new tensors."}


def _unchanged(chk: _Check, name: str, now: Tensor, before: Tensor) -> None:
    if not torch.equal(now.detach(), before):
        chk.fail(f"{name} was changed in place.", before, now.detach(), f"your function overwrote the caller's {name} "
                 f"(an in-place operation such as -=, *=, .mul_(), .sub_() or [...] = ...): compute new tensors.")


def _tensor_of_shape(chk: _Check, got: Any, expected: Tensor, diagnoses: dict[tuple[int, ...], str],
                     fallback: str) -> Tensor:
    if not isinstance(got, Tensor):
        chk.fail("It must return a torch tensor.", expected, got, f"your function returned a {type(got).__name__}.")
    if got.shape != expected.shape:
        chk.fail(f"It returned shape {tuple(got.shape)}; expected {tuple(expected.shape)}.", expected, got,
                 diagnoses.get(tuple(got.shape), fallback))
    return got


def _gradients(chk: _Check, got: Tensor, expected: Tensor, mine: Sequence[Tensor], theirs: Sequence[Tensor],
               names: Sequence[str], detached: str) -> None:
    """The gradient of a fixed random projection of the output, with respect to each input, matches the reference's."""
    weights = torch.randn(expected.shape, generator=torch.Generator().manual_seed(0))
    want = torch.autograd.grad((expected * weights).sum(), list(mine))
    if not got.requires_grad:
        chk.fail("The values are right but they carry no gradient.", diagnosis=detached)
    have = torch.autograd.grad((got * weights).sum(), list(theirs), allow_unused=True)
    for name, h, w in zip(names, have, want):
        h = torch.zeros_like(w) if h is None else h  # an input that the output does not depend on (alpha = 1, say)
        if not _close(h, w, rtol=1e-3, atol=1e-4):
            chk.fail(f"The values are right but the gradient with respect to {name} is not.", w, h, detached)


# ---------------------------------------------------------------- the fade-in (Exercise 3)
def _nearest(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")  # (N, C, 2H, 2W), each pixel copied 2x2


def check_fade_in(fn: Callable[[Tensor, Tensor, float], Tensor]) -> None:
    """fn(low (N, C, S/2, S/2), high (N, C, S, S), alpha) -> (1 - alpha) nearest_up(low) + alpha high
    (ProGAN, sec. 2)."""
    g = torch.Generator().manual_seed(3)
    shapes = [((2, 1, 4, 4), 0.3), ((3, 3, 8, 8), 0.75), ((1, 3, 3, 5), 0.1), ((2, 1, 4, 4), 0.0), ((2, 2, 8, 8), 1.0)]
    cases = [(torch.randn(*s, generator=g), torch.randn(*s[:2], 2 * s[2], 2 * s[3], generator=g), a) for s, a in shapes]
    chk = _Check("check_fade_in", "progressive growing's fade-in of a new block", fn, len(cases))
    for case, (low, high, a) in enumerate(cases, 1):
        chk.hints = {**_IN_PLACE, "must match the size of tensor": "low has half the size of high: upsample it first, "
                                                                   "each pixel copied to 2 x 2 (nearest neighbour)."}
        leaves = [low.clone().requires_grad_(True), high.clone().requires_grad_(True)]
        expected = (1 - a) * _nearest(leaves[0]) + a * leaves[1]
        inputs = [t.clone().requires_grad_(True) for t in (low, high)]
        got = chk.call(case, *inputs, a, low_res_rgb=f"{tuple(low.shape)}, toRGB of the previous stage",
                       high_res_rgb=f"{tuple(high.shape)}, toRGB of the new block", alpha=a)
        for name, now, before in zip(("low_res_rgb", "high_res_rgb"), inputs, (low, high)):
            _unchanged(chk, name, now, before)
        _tensor_of_shape(chk, got, expected, {tuple(low.shape): "the high-resolution image was shrunk to the low "
                                              "resolution: that is the discriminator's side of the fade-in. G's output "
                                              "has the new, doubled size: upsample low_res_rgb."},
                         "the result has the shape of high_res_rgb.")
        if not _close(got, expected):
            up = _nearest(low)
            chk.mismatch(expected.detach(), got.detach(), [
                ("alpha and 1 - alpha are swapped: alpha is the weight of the NEW block, which fades in as alpha "
                 "goes from 0 to 1.", a * up + (1 - a) * high),
                ("this is bilinear upsampling: the paper doubles the old image by nearest neighbour, each pixel "
                 "copied to 2 x 2 (mode='nearest').", (1 - a) * F.interpolate(low, scale_factor=2, mode="bilinear")
                 + a * high),
                ("this is bilinear upsampling with align_corners=True: use nearest neighbour (mode='nearest').",
                 (1 - a) * F.interpolate(low, scale_factor=2, mode="bilinear", align_corners=True) + a * high),
                ("this is bicubic upsampling: use nearest neighbour (mode='nearest').",
                 (1 - a) * F.interpolate(low, scale_factor=2, mode="bicubic") + a * high),
                ("the image was tiled 2 x 2 (.repeat): each PIXEL is copied to 2 x 2 instead, repeat_interleave(2, "
                 "dim) along both sides or F.interpolate(..., scale_factor=2, mode='nearest').",
                 (1 - a) * low.repeat(1, 1, 2, 2) + a * high),
                ("only the new block's image: alpha blends it with the old one.", high),
                ("only the upsampled old image: alpha blends it with the new one.", up),
                ("an even mix for every alpha: weigh the two by 1 - alpha and alpha.", (up + high) / 2),
                ("the old image needs the weight 1 - alpha, so that the two weights add up to 1.", up + a * high),
            ], problem=f"Wrong blend at alpha = {a}.")
        _gradients(chk, got, expected, leaves, inputs, ("low_res_rgb", "high_res_rgb"),
                   "part of the blend is detached or computed outside torch: G learns through it.")
    chk.passed()


# ---------------------------------------------------------------- minibatch standard deviation (Exercise 4)
def _mbstd(x: Tensor, g: int, consecutive: bool = False, unbiased: bool = False, eps_outside: bool = False,
           sqrt_of_mean: bool = False, pixels: bool = True) -> Tensor:
    """The statistic with groups of g and one of the classic slips switched on; (N, C + 1, H, W)."""
    n, c, h, w = x.shape
    y = x.reshape(n // g, g, c, h, w).transpose(0, 1) if consecutive else x.reshape(g, n // g, c, h, w)  # (G, M, ...)
    var = y.var(dim=0, unbiased=unbiased)  # (M, C, H, W)
    if sqrt_of_mean:
        s = (var.mean(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
    else:
        std = var.sqrt() + 1e-8 if eps_outside else (var + 1e-8).sqrt()
        s = std.mean(dim=(1, 2, 3) if pixels else 1, keepdim=True)  # (M, 1, 1 or H, 1 or W)
    s = s.expand(-1, 1, h, w)
    return torch.cat([x, s.repeat_interleave(g, 0) if consecutive else s.repeat(g, 1, 1, 1)], dim=1)


def check_minibatch_stddev(fn: Callable[[Tensor, int], Tensor]) -> None:
    """fn(x (N, C, H, W), group_size) -> (N, C + 1, H, W): x with one more channel, the mean over features and
    positions of the std over each group (groups of G, the largest divisor of N at most group_size; example i in
    group i mod N/G)."""
    gen = torch.Generator().manual_seed(8)
    shapes = [((8, 3, 4, 4), 4), ((6, 2, 3, 3), 2), ((6, 4, 2, 2), 4), ((3, 2, 4, 4), 4), ((8, 2, 4, 4), 4)]
    cases = [(torch.randn(*s, generator=gen) * 2 + 1, size) for s, size in shapes]
    cases[-1][0][2::2] = cases[-1][0][0]  # a collapsed group: examples 0, 2, 4, 6 are the same
    chk = _Check("check_minibatch_stddev", "the minibatch standard deviation layer", fn, len(cases))
    for case, (x, size) in enumerate(cases, 1):
        n, c, h, w = x.shape
        g = max(d for d in range(1, min(size, n) + 1) if n % d == 0)
        chk.hints = {**_IN_PLACE, "is invalid for input of size": f"groups of G = {g} here: G is the largest divisor "
                                                                  f"of N = {n} that is at most group_size = {size}."}
        leaf = x.clone().requires_grad_(True)
        expected = MinibatchStdDev(size)(leaf)
        given = x.clone().requires_grad_(True)
        got = chk.call(case, given, size, x=f"{tuple(x.shape)}" + (", examples 0, 2, 4, 6 identical (a collapsed "
                                                                   "group)" if case == 5 else ""), group_size=size)
        _unchanged(chk, "x", given, x)
        _tensor_of_shape(chk, got, expected, {
            (n, 2 * c, h, w): "one map per feature: average the std over the features AND positions, to one number "
                              "per group, and append ONE channel.",
            (n, c, h, w): "the statistic was not appended: torch.cat([x, maps], dim=1).",
            (n, 1, h, w): "return x with the map appended, not the map alone."},
            f"x with one more channel: {(n, c + 1, h, w)}.")
        if not _close(got, expected):
            if _close(got[:, 1:], x) and _close(got[:, :1], expected[:, -1:]):
                chk.fail("The map is the first channel.", expected, got, "append it after the features: "
                         "torch.cat([x, maps], dim=1) puts it last, where D's next layer expects it.")
            if not _close(got[:, :c], x):
                chk.fail("The first C channels are not x itself.", x, got[:, :c], "keep x as it is and append "
                         "the map: only the new channel holds the statistic.")
            variants = [
                ("the groups are consecutive examples (0-3, 4-7, ...): here example i is in group i mod (N/G), as in "
                 "the paper's code, x.reshape(G, N // G, C, H, W) and the std over dim 0.",
                 _mbstd(x, g, consecutive=True)),
                ("one group for the whole batch: the std is taken over groups of G examples.", _mbstd(x, n)),
                ("this is the unbiased std (divides by G - 1): use the population std over the group, dividing "
                 "by G (unbiased=False, as the paper's code).", _mbstd(x, g, unbiased=True)),
                ("the square root of the mean variance: take the std of each feature and position first, "
                 "sqrt(var + 1e-8), then average those.", _mbstd(x, g, sqrt_of_mean=True)),
                ("1e-8 belongs INSIDE the square root, sqrt(var + 1e-8): a collapsed group has variance 0, where "
                 "the square root has an infinite slope.", _mbstd(x, g, eps_outside=True)),
                ("averaged over the features only: average over the positions too, to ONE number per group.",
                 _mbstd(x, g, pixels=False))]
            variants += [(f"groups of {k}: the group size is the largest divisor of N = {n} that is at most "
                          f"group_size = {size}, here {g}.", _mbstd(x, k))
                         for k in {math.gcd(n, size), 4, size} - {g, n} if n % k == 0]
            new = lambda t: t.detach()[:, -1].permute(1, 2, 0)  # noqa: E731  (H, W, N): each example's map
            chk.mismatch(new(expected), new(got), [(d, new(v)) for d, v in variants],
                         problem="Wrong statistic in the new channel (shown: its pixel (0, 0) in each example).",
                         fallback="for each group, the population std over the group of each feature at each "
                                  "position, plus 1e-8 inside the sqrt, averaged to one number, copied over H x W for "
                                  "each member of the group.")
        _gradients(chk, got, expected, [leaf], [given], ["x"], "the statistic must pass gradients: D's gradient "
                   "flows through it to G, which is how G learns to vary its batch (no .detach(), .item() or "
                   "torch.no_grad()). At a collapsed group the square root needs the 1e-8 inside it.")
    chk.passed()


# ---------------------------------------------------------------- the equalised learning rate (Exercise 5)
def check_equalized_weight(fn: Callable[[Tensor, float], Tensor]) -> None:
    """fn(weight, gain) -> weight * gain / sqrt(fan_in) computed at run time, fan_in = every dim but the first
    (in_features, or in_channels * k * k), the stored weight untouched (ProGAN, sec. 4.1)."""
    h = math.sqrt(2)
    cases = [((6, 4), h), ((8, 3, 3, 3), h), ((2, 5, 1, 1), 1.0), ((48, 6), h / 4), ((3, 7, 5, 5), 0.5)]
    chk = _Check("check_equalized_weight", "the equalised learning rate's run-time scaling", fn, len(cases))
    for case, (shape, gain) in enumerate(cases, 1):
        with torch.random.fork_rng(devices=[]):  # the student's random stream stays as it was
            torch.manual_seed(case)
            layer = (EqualizedLinear(shape[1], shape[0], gain) if len(shape) == 2 else
                     EqualizedConv2d(shape[1], shape[0], shape[2], gain))
        expected = layer.effective_weight  # w_hat * c, the reference
        weight = torch.nn.Parameter(layer.weight.detach().clone())
        chk.hints = {"leaf Variable that requires grad": "the stored weight was scaled in place: it must stay w_hat "
                                                         "~ N(0, 1); return weight * c, a new tensor.",
                     "tuple index out of range": "the weight is 2-D for a linear layer, (out, in), and 4-D for a "
                                                 "convolution, (out, in, k, k): count the inputs of ONE output unit, "
                                                 "whatever the number of dims."}
        before = weight.detach().clone()
        kind = "linear" if len(shape) == 2 else "conv"
        got = chk.call(case, weight, gain, weight=f"a parameter of shape {shape} (a {kind} layer's), N(0, 1)",
                       gain=gain)
        if not torch.equal(weight.detach(), before):
            chk.fail("The stored weight changed.", diagnosis="the scaling was applied to the parameter itself (in "
                     "place, or through .data): the optimiser must keep seeing w_hat ~ N(0, 1), and the constant c is "
                     "applied anew at every forward pass. Return weight * c, a new tensor.")
        _tensor_of_shape(chk, got, expected, {}, "the effective weight has the shape of the stored one.")
        if not _close(got, expected):
            fan_in, out, numel = math.prod(shape[1:]), shape[0], math.prod(shape)
            chk.mismatch(expected.detach(), got.detach(), [
                ("fan_in is the number of OUTPUTS here: it is the number of inputs of each output unit, "
                 "weight[0].numel() (in_features, or in_channels * k * k).", before * gain / math.sqrt(out)),
                ("fan_in forgot the kernel: a conv output unit reads in_channels * k * k inputs.",
                 before * gain / math.sqrt(shape[1])),
                ("fan_in is not the whole weight's size: it counts the inputs of ONE output unit, weight[0].numel().",
                 before * gain / math.sqrt(numel)),
                ("the gain is missing: c = gain / sqrt(fan_in).", before / math.sqrt(fan_in)),
                ("He's sqrt(2) was used whatever the gain: c = gain / sqrt(fan_in), with the gain passed in.",
                 before * h / math.sqrt(fan_in)),
                ("the square root is missing: c = gain / sqrt(fan_in).", before * gain / fan_in),
                ("sqrt(fan_in) multiplies: it divides, c = gain / sqrt(fan_in).", before * gain * math.sqrt(fan_in)),
                ("the square root covers the gain too: c = gain / sqrt(fan_in).", before * math.sqrt(gain / fan_in)),
                ("the weight was returned unscaled.", before)], problem="Wrong effective weight.")
        want = torch.full(shape, layer.scale)  # d(w_hat * c)/d(w_hat) = c
        if not got.requires_grad:
            chk.fail("The values are right but carry no gradient to the stored weight.", diagnosis="the optimiser "
                     "updates w_hat through this product: no .detach(), torch.no_grad() or new nn.Parameter.")
        (grad,) = torch.autograd.grad(got.sum(), weight, allow_unused=True)
        if grad is None or not _close(grad, want):
            chk.fail("The values are right but the gradient with respect to the weight is not c.", want, grad,
                     "compute the result from `weight` itself with torch operations: weight * c.")
    chk.passed()


# ---------------------------------------------------------------- AdaIN (Exercise 6)
def _adain(x: Tensor, s: Tensor, b: Tensor, eps: float, dims: tuple[int, ...] = (2, 3), unbiased: bool = False,
           eps_at: str = "inside", center: bool = True, power: float = 0.5) -> Tensor:
    mu = x.mean(dim=dims, keepdim=True) if center else 0.0
    var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
    norm = {"inside": (var + eps) ** power, "outside": var.sqrt() + eps, "none": var.sqrt()}[eps_at]
    return s[:, :, None, None] * (x - mu) / norm + b[:, :, None, None]


def check_adain(fn: Callable[[Tensor, Tensor, Tensor, float], Tensor]) -> None:
    """fn(x (N, C, H, W), scale (N, C), bias (N, C), eps) -> scale (x - mu) / sqrt(var + eps) + bias, with mu and the
    population var of each channel of each sample over its H x W positions (Huang & Belongie 2017, eq. 8)."""
    gen = torch.Generator().manual_seed(9)
    shapes = [((2, 3, 4, 4), 1e-8), ((3, 2, 5, 3), 1e-5), ((1, 4, 8, 8), 0.1), ((4, 1, 2, 6), 1e-3)]
    cases = []
    for shape, eps in shapes:
        n, c = shape[:2]
        x = torch.randn(*shape, generator=gen) * (0.5 + 2 * torch.rand(n, c, 1, 1, generator=gen)) \
            + 3 * torch.randn(n, c, 1, 1, generator=gen)  # each channel of each sample its own mean and spread
        cases.append((x, torch.randn(n, c, generator=gen), torch.randn(n, c, generator=gen), eps))
    cases[1][0][1, 0] = 0.05 + 1e-3 * torch.randn(5, 3, generator=gen)  # a near-constant channel: eps matters there
    chk = _Check("check_adain", "adaptive instance normalisation", fn, len(cases))
    for case, (x, s, b, eps) in enumerate(cases, 1):
        chk.hints = {**_IN_PLACE, "must match the size of tensor": "shapes that do not broadcast: keep the statistics' "
                     "dims (keepdim=True, shape (N, C, 1, 1)), and give scale and bias, shape (N, C), two trailing "
                     "dims: scale[:, :, None, None]."}
        leaves = [t.clone().requires_grad_(True) for t in (x, s, b)]
        expected = adain(*leaves, eps)
        inputs = [t.clone().requires_grad_(True) for t in (x, s, b)]
        got = chk.call(case, *inputs, eps, x=f"{tuple(x.shape)}" + (", channel 0 of sample 1 nearly constant (std "
                       "1e-3)" if case == 2 else ""), scale=s, bias=b, eps=eps)
        for name, now, before in zip(("x", "scale", "bias"), inputs, (x, s, b)):
            _unchanged(chk, name, now, before)
        _tensor_of_shape(chk, got, expected, {}, "the result has the shape of x.")
        if not _close(got, expected):
            chk.mismatch(expected.detach(), got.detach(), [
                ("the statistics are over the batch (as BatchNorm): AdaIN normalises each channel of EACH SAMPLE over "
                 "its positions, dims (2, 3).", _adain(x, s, b, eps, dims=(0, 2, 3))),
                ("the statistics are over the channels too (as LayerNorm): take them per channel, over dims (2, 3).",
                 _adain(x, s, b, eps, dims=(1, 2, 3))),
                ("the statistics are over the last dim only: take them over both H and W, dim=(2, 3).",
                 _adain(x, s, b, eps, dims=(3,))),
                ("this uses the unbiased variance (dividing by H W - 1): use the population variance, "
                 "unbiased=False (or ((x - mu) ** 2).mean(...)).", _adain(x, s, b, eps, unbiased=True)),
                ("eps belongs inside the square root, sqrt(var + eps).", _adain(x, s, b, eps, eps_at="outside")),
                ("eps is missing: divide by sqrt(var + eps), which stays finite for a constant channel.",
                 _adain(x, s, b, eps, eps_at="none")),
                ("this divides by the variance: divide by the standard deviation, sqrt(var + eps).",
                 _adain(x, s, b, eps, power=1.0)),
                ("the mean was not subtracted: (x - mu) / sqrt(var + eps).", _adain(x, s, b, eps, center=False)),
                ("scale and bias are swapped: scale multiplies, bias is added.", _adain(x, b, s, eps)),
                ("this multiplies by 1 + scale: here `scale` is y_s itself (the style layer adds the 1 before the "
                 "call).", _adain(x, 1 + s, b, eps)),
                ("the bias is missing: + bias[:, :, None, None].", _adain(x, s, torch.zeros_like(b), eps)),
                ("the scale is missing: scale[:, :, None, None] * normalised.", _adain(x, torch.ones_like(s), b, eps)),
            ], problem=f"Wrong AdaIN (eps = {eps}).")
        _gradients(chk, got, expected, leaves, inputs, ("x", "scale", "bias"),
                   "part of the computation is detached (the statistics too pass gradients: no .detach() or .item()).")
    chk.passed()

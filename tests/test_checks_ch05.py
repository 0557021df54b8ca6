"""Chapter 05's checks pass correct answers written in different ways and name each classic mistake."""

from __future__ import annotations

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganlab.pyramids
from ganlab import checks
from ganlab.losses import g_loss_wasserstein
from ganlab.progressive import MinibatchStdDev
from ganlab.singan import resize
from ganlab.singan_train import noise_amplitude
from ganlab.stylegan import adain
from checking import fails, run

pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------- the Laplacian pyramid
def lap_loop(x, levels, down, up):
    pyramid, g = [], x
    for _ in range(levels - 1):
        coarser = down(g)
        pyramid.append(g - up(coarser, g.shape[-2:]))
        g = coarser
    return pyramid + [g]


def lap_gauss_first(x, levels, down, up):
    gauss = [x]
    while len(gauss) < levels:
        gauss.append(down(gauss[-1]))
    return [fine - up(coarse, tuple(fine.shape[2:])) for fine, coarse in zip(gauss, gauss[1:])] + gauss[-1:]


def lap_recursive(x, levels, down, up):
    if levels == 1:
        return [x]
    coarser = down(x)
    return [x - up(coarser, (x.shape[2], x.shape[3]))] + lap_recursive(coarser, levels - 1, down, up)


def lap_with(**kw):
    def fn(x, levels, down, up):
        pyramid, g = [], x
        for _ in range(levels - 1 + kw.get("extra", 0)):
            coarser = down(g)
            band = kw.get("sign", 1) * (g - up(coarser, g.shape[-2:])) if not kw.get("gauss") else g
            pyramid.append(band)
            g = down(band) if kw.get("from_band") else coarser
        if kw.get("band_last"):
            g = g - up(down(g), g.shape[-2:])
        pyramid = pyramid if kw.get("no_last") else pyramid + [g]
        return pyramid[::-1] if kw.get("reverse") else pyramid
    return fn


def lap_fixed_levels(x, levels, down, up):
    return lap_loop(x, 3, down, up)


def lap_double_size(x, levels, down, up):
    pyramid, g = [], x
    for _ in range(levels - 1):
        coarser = down(g)
        pyramid.append(g - up(coarser, (2 * coarser.shape[2], 2 * coarser.shape[3])))
        g = coarser
    return pyramid + [g]


def lap_down_first(x, levels, down, up):
    pyramid, g = [], x
    for _ in range(levels - 1):
        g = down(g)
        pyramid.append(g - up(down(g), g.shape[-2:]))
    return pyramid + [down(g)]


def lap_in_place(x, levels, down, up):
    pyramid, g = [], x
    for _ in range(levels - 1):
        coarser = down(g)
        g -= up(coarser, g.shape[-2:])
        pyramid.append(g)
        g = coarser
    return pyramid + [g]


LAP_RIGHT = {"loop": lap_loop, "gaussian list first": lap_gauss_first, "recursive": lap_recursive,
             "tuple": lambda *a: tuple(lap_loop(*a))}
LAP_WRONG = {
    "gaussian pyramid": (lap_with(gauss=True), ["Gaussian level g_l itself"]),
    "sign flipped": (lap_with(sign=-1), ["sign is flipped"]),
    "downsampled the band": (lap_with(from_band=True), ["downsampled from the band"]),
    "last level a band": (lap_with(band_last=True), ["last level is another band"]),
    "reversed": (lap_with(reverse=True), ["coarsest first"]),
    "last level missing": (lap_with(no_last=True), ["coarsest level is missing"]),
    "one level too many": (lap_with(extra=1), ["one level too many"]),
    "levels ignored": (lap_fixed_levels, ["use the argument `levels`"]),
    "doubled size": (lap_double_size, ["Your function raised", "EXACTLY the size", "odd sizes"]),
    "down before the band": (lap_down_first, ["size of the next coarser one"]),
    "library operators": (lambda x, levels, down, up: ganlab.pyramids.laplacian_pyramid(x, levels),
                          ["ganlab.pyramids' operators", "case 3 of 5"]),
    "in place": (lap_in_place, ["x was changed in place"]),
    "a tensor": (lambda *a: torch.cat([t.flatten() for t in lap_loop(*a)]), ["list of tensors"]),
    "no size for up": (lambda x, levels, down, up: [x - up(down(x))], ["up(g, size)"]),
}


@pytest.mark.parametrize("name", [*LAP_RIGHT, *LAP_WRONG])
def test_laplacian_pyramid(name, capsys):
    run(checks.check_laplacian_pyramid, LAP_RIGHT, LAP_WRONG, name, capsys)


def test_the_pyramid_check_matches_the_library_and_shows_the_operators():
    x = torch.randn(2, 3, 27, 33)
    mine = lap_loop(x, 4, ganlab.pyramids.downsample, ganlab.pyramids.upsample)
    for a, b in zip(mine, ganlab.pyramids.laplacian_pyramid(x, 4)):
        torch.testing.assert_close(a, b)
    message = fails(checks.check_laplacian_pyramid, lap_with(sign=-1), "case 1 of 5")
    assert "down = ganlab.pyramids.downsample" in message and "levels = 3" in message


# ---------------------------------------------------------------- reconstruction
def rec_loop(pyramid, up):
    g = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        g = band + up(g, band.shape[-2:])
    return g


def rec_recursive(pyramid, up):
    if len(pyramid) == 1:
        return pyramid[0]
    return pyramid[0] + up(rec_recursive(pyramid[1:], up), tuple(pyramid[0].shape[2:]))


def rec_reduce(pyramid, up):
    return functools.reduce(lambda g, band: band + up(g, band.shape[2:]), pyramid[-2::-1], pyramid[-1])


def rec_with(**kw):
    def fn(pyramid, up):
        g = pyramid[-1]
        for i in reversed(range(kw.get("stop", 0), len(pyramid) - 1)):
            band = pyramid[i]
            source = pyramid[i + 1] if kw.get("no_carry") else g
            upped = (kw.get("up") or up)(source, band.shape[-2:])
            g = upped if kw.get("no_bands") else band + kw.get("sign", 1) * upped
        return g
    return fn


def rec_finest_first(pyramid, up):
    g = pyramid[0]
    for band in pyramid[1:]:
        g = band + up(g, band.shape[-2:])
    return g


def rec_no_upsample(pyramid, up):
    g = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        g = band + g
    return g


def rec_double(pyramid, up):
    g = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        g = band + up(g, (2 * g.shape[2], 2 * g.shape[3]))
    return g


def rec_pop(pyramid, up):
    g = pyramid.pop()
    while pyramid:
        band = pyramid.pop()
        g = band + up(g, band.shape[-2:])
    return g


def rec_in_place(pyramid, up):
    g = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        band += up(g, band.shape[-2:])
        g = band
    return g


def rec_gaussians(pyramid, up):
    out = [pyramid[-1]]
    for band in reversed(pyramid[:-1]):
        out.insert(0, band + up(out[0], band.shape[-2:]))
    return out


REC_RIGHT = {"loop": rec_loop, "recursive": rec_recursive, "reduce": rec_reduce}
REC_WRONG = {
    "sign": (rec_with(sign=-1), ["ADDED to the band"]),
    "bands not added": (rec_with(no_bands=True), ["bands were not added"]),
    "next band, not the image": (rec_with(no_carry=True), ["NEXT BAND"]),
    "library upsample": (rec_with(up=lambda x, s: ganlab.pyramids.upsample(x, tuple(s))),
                         ["ganlab.pyramids.upsample", "case 3 of 5"]),
    "stops one level early": (rec_with(stop=1), ["size of pyramid[1]"]),
    "finest first": (rec_finest_first, ["coarsest level to the finest"]),
    "no upsampling": (rec_no_upsample, ["Your function raised", "EXACTLY the size"]),
    "doubled size": (rec_double, ["EXACTLY the size", "case 2 of 5"]),
    "pops the list": (rec_pop, ["list `pyramid` was changed"]),
    "adds in place": (rec_in_place, ["was changed in place"]),
    "every level": (rec_gaussians, ["returned a list", "finest image g_0 alone"]),
}


@pytest.mark.parametrize("name", [*REC_RIGHT, *REC_WRONG])
def test_reconstruct(name, capsys):
    run(checks.check_reconstruct, REC_RIGHT, REC_WRONG, name, capsys)


# ---------------------------------------------------------------- the fade-in
def fade_right(low, high, alpha):
    return (1 - alpha) * F.interpolate(low, scale_factor=2, mode="nearest") + alpha * high


def fade_lerp(low, high, alpha):
    return torch.lerp(low.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3), high, alpha)


def fade_kron(low, high, alpha):
    up = torch.kron(low, torch.ones(1, 1, 2, 2))
    return up + alpha * (high - up)


def fade_branch(low, high, alpha):
    if alpha == 1:
        return high
    return fade_right(low, high, alpha)


def fade_up(mode, **kw):
    return lambda low, high, a: (1 - a) * F.interpolate(low, scale_factor=2, mode=mode, **kw) + a * high


def fade_in_place(low, high, alpha):
    high.mul_(alpha)
    return high + (1 - alpha) * F.interpolate(low, scale_factor=2)


FADE_RIGHT = {"interpolate": fade_right, "lerp of repeat_interleave": fade_lerp, "kron": fade_kron,
              "alpha = 1 apart": fade_branch, "nn.Upsample": lambda lo, hi, a: (1 - a) * nn.Upsample(scale_factor=2)(lo)
              + a * hi}
FADE_WRONG = {
    "alpha swapped": (lambda lo, hi, a: a * F.interpolate(lo, scale_factor=2) + (1 - a) * hi, ["swapped"]),
    "bilinear": (fade_up("bilinear"), ["bilinear upsampling", "nearest"]),
    "bilinear, corners aligned": (fade_up("bilinear", align_corners=True), ["align_corners=True"]),
    "bicubic": (fade_up("bicubic"), ["bicubic"]),
    "tiled": (lambda lo, hi, a: (1 - a) * lo.repeat(1, 1, 2, 2) + a * hi, ["tiled", "repeat_interleave"]),
    "alpha ignored, new only": (lambda lo, hi, a: hi, ["only the new block"]),
    "alpha ignored, old only": (lambda lo, hi, a: F.interpolate(lo, scale_factor=2), ["only the upsampled old image"]),
    "even mix": (lambda lo, hi, a: (F.interpolate(lo, scale_factor=2) + hi) / 2, ["even mix"]),
    "weights not adding to 1": (lambda lo, hi, a: F.interpolate(lo, scale_factor=2) + a * hi, ["1 - alpha"]),
    "no upsampling": (lambda lo, hi, a: (1 - a) * lo + a * hi, ["Your function raised", "upsample it first"]),
    "discriminator's side": (lambda lo, hi, a: (1 - a) * lo + a * F.avg_pool2d(hi, 2), ["discriminator's side"]),
    "detached": (lambda lo, hi, a: fade_right(lo, hi, a).detach(), ["carry no gradient"]),
    "old image detached": (lambda lo, hi, a: fade_right(lo.detach(), hi, a), ["gradient with respect to low_res_rgb"]),
    "in place": (fade_in_place, ["Your function raised", "changed in place", "compute new tensors"]),
}


@pytest.mark.parametrize("name", [*FADE_RIGHT, *FADE_WRONG])
def test_fade_in(name, capsys):
    run(checks.check_fade_in, FADE_RIGHT, FADE_WRONG, name, capsys)


def test_the_fade_in_is_the_progressive_generators():
    G = ganlab.progressive.ProgressiveGenerator(latent_dim=8, width=4)
    z = torch.randn(3, 8)
    h = G.conv4(G.dense_act(G.dense(G.norm_z(z)).view(3, 4, 4, 4) + G.dense_bias.view(1, -1, 1, 1)))
    previous = G.blocks[0](h)
    new = G.blocks[1](previous)
    mine = fade_right(G.to_rgb[0](previous), G.to_rgb[1](new), 0.3)
    torch.testing.assert_close(mine, G(z, stage=1, alpha=0.3))


# ---------------------------------------------------------------- minibatch standard deviation
def mb_group_size(n, size):
    return max(d for d in range(1, min(size, n) + 1) if n % d == 0)


def mb_right(x, group_size):
    n, c, h, w = x.shape
    g = mb_group_size(n, group_size)
    y = x.reshape(g, n // g, c, h, w)
    s = (y.var(0, unbiased=False) + 1e-8).sqrt().mean((1, 2, 3))  # (M,)
    return torch.cat([x, s.repeat(g).view(n, 1, 1, 1).expand(n, 1, h, w)], 1)


def mb_loops(x, group_size):
    n = len(x)
    g = mb_group_size(n, group_size)
    m = n // g
    maps = []
    for i in range(n):
        members = x[i % m::m]  # (G, C, H, W): the examples of i's group
        var = ((members - members.mean(0)) ** 2).mean(0)
        maps.append(torch.sqrt(var + 1e-8).mean().expand(1, *x.shape[2:]))
    return torch.cat([x, torch.stack(maps)], dim=1)


def mb_std_call(x, group_size):
    n, c, h, w = x.shape
    g = mb_group_size(n, group_size)
    std = torch.sqrt(x.view(g, -1, c, h, w).std(dim=0, correction=0) ** 2 + 1e-8)
    return torch.cat([x, std.mean(dim=[1, 2, 3]).tile(g)[:, None, None, None].expand(-1, 1, h, w)], 1)


def mb_with(g_of=mb_group_size, consecutive=False, unbiased=False, eps="inside", mean="std", pixels=True, where="last",
            detach=False, channels="one"):
    def fn(x, group_size):
        n, c, h, w = x.shape
        g = g_of(n, group_size)
        y = x.reshape(n // g, g, c, h, w).transpose(0, 1) if consecutive else x.reshape(g, n // g, c, h, w)
        var = y.var(0, unbiased=unbiased)
        if mean == "var":
            s = (var.mean((1, 2, 3), keepdim=True) + 1e-8).sqrt()
        else:
            std = {"inside": (var + 1e-8).sqrt(), "outside": var.sqrt() + 1e-8, "none": var.sqrt()}[eps]
            s = std if channels == "all" else std.mean((1, 2, 3) if pixels else (1,), keepdim=True)
        s = s.detach() if detach else s
        s = s.expand(-1, c if channels == "all" else 1, h, w)
        maps = s.repeat_interleave(g, 0) if consecutive else s.repeat(g, 1, 1, 1)
        return {"last": torch.cat([x, maps], 1), "first": torch.cat([maps, x], 1), "alone": maps,
                "none": x}[where]
    return fn


MB_RIGHT = {"reshape": mb_right, "loops over examples": mb_loops, "std, squared": mb_std_call,
            "the library's layer": lambda x, g: MinibatchStdDev(g)(x)}
MB_WRONG = {
    "consecutive groups": (mb_with(consecutive=True), ["consecutive examples", "i mod (N/G)"]),
    "whole batch": (mb_with(g_of=lambda n, s: n), ["one group for the whole batch"]),
    "unbiased": (mb_with(unbiased=True), ["unbiased", "dividing by G"]),
    "sqrt of the mean variance": (mb_with(mean="var"), ["square root of the mean variance"]),
    "eps outside the sqrt": (mb_with(eps="outside"), ["INSIDE the square root", "case 5 of 5"]),
    "no eps": (mb_with(eps="none"), ["INSIDE the square root", "case 5 of 5"]),
    "features only": (mb_with(pixels=False), ["positions too"]),
    "one map per feature": (mb_with(channels="all"), ["one map per feature"]),
    "map first": (mb_with(where="first"), ["map is the first channel"]),
    "map alone": (mb_with(where="alone"), ["not the map alone"]),
    "not appended": (mb_with(where="none"), ["not appended"]),
    "group size ignored": (mb_with(g_of=lambda n, s: 4), ["Your function raised", "groups of G = 2", "case 2 of 5"]),
    "no divisor rule": (mb_with(g_of=min), ["groups of G = 3", "case 3 of 5"]),
    "gcd": (mb_with(g_of=math.gcd), ["groups of 2", "largest divisor", "case 3 of 5"]),
    "detached": (mb_with(detach=True), ["gradient with respect to x", "D's gradient flows through it"]),
    "in place": (lambda x, g: mb_right(x.clamp_(-100, 0.5), g), ["changed in place", "compute new tensors"]),
}


@pytest.mark.parametrize("name", [*MB_RIGHT, *MB_WRONG])
def test_minibatch_stddev(name, capsys):
    run(checks.check_minibatch_stddev, MB_RIGHT, MB_WRONG, name, capsys)


# ---------------------------------------------------------------- the equalised learning rate
def eq_fan_in_from_torch(weight, gain):
    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(weight)
    return weight.mul(gain / math.sqrt(fan_in))


EQ_RIGHT = {"numel of a row": lambda w, gain: w * gain / math.sqrt(w[0].numel()),
            "prod of the shape": lambda w, gain: gain * w / math.prod(w.shape[1:]) ** 0.5,
            "torch's fan_in": eq_fan_in_from_torch}


def eq_in_place(weight, gain):
    weight.data.mul_(gain / math.sqrt(weight[0].numel()))
    return weight


EQ_WRONG = {
    "fan_in = outputs": (lambda w, gain: w * gain / math.sqrt(w.shape[0]), ["number of OUTPUTS"]),
    "kernel forgotten": (lambda w, gain: w * gain / math.sqrt(w.shape[1]), ["forgot the kernel"]),
    "whole size": (lambda w, gain: w * gain / math.sqrt(w.numel()), ["ONE output unit"]),
    "gain missing": (lambda w, gain: w / math.sqrt(w[0].numel()), ["gain is missing"]),
    "He's gain always": (lambda w, gain: w * math.sqrt(2 / w[0].numel()), ["whatever the gain", "case 3 of 5"]),
    "no sqrt": (lambda w, gain: w * gain / w[0].numel(), ["square root is missing"]),
    "multiplied": (lambda w, gain: w * gain * math.sqrt(w[0].numel()), ["divides"]),
    "sqrt of the gain": (lambda w, gain: w * math.sqrt(gain / w[0].numel()), ["covers the gain"]),
    "unscaled": (lambda w, gain: w * 1.0, ["unscaled"]),
    "scaled in place": (eq_in_place, ["stored weight changed", "every forward pass"]),
    "scaled in place, with autograd": (lambda w, gain: w.mul_(gain), ["scaled in place", "new tensor"]),
    "detached": (lambda w, gain: w.detach() * gain / math.sqrt(w[0].numel()), ["no gradient"]),
    "new parameter": (lambda w, gain: nn.Parameter(w * gain / math.sqrt(w[0].numel())), ["gradient with respect to "
                                                                                          "the weight is not c"]),
    "numpy": (lambda w, gain: w.detach().numpy() * gain / math.sqrt(w[0].numel()), ["torch tensor"]),
    "conv shapes only": (lambda w, gain: w * gain / math.sqrt(w.shape[1] * w.shape[2] * w.shape[3]),
                         ["Your function raised IndexError", "ONE output unit"]),
}


@pytest.mark.parametrize("name", [*EQ_RIGHT, *EQ_WRONG])
def test_equalized_weight(name, capsys):
    run(checks.check_equalized_weight, EQ_RIGHT, EQ_WRONG, name, capsys)




# ---------------------------------------------------------------- AdaIN
def ada_instance_norm(x, scale, bias, eps):
    return F.instance_norm(x, eps=eps) * scale[:, :, None, None] + bias[:, :, None, None]


def ada_var_mean(x, scale, bias, eps):
    var, mu = torch.var_mean(x, dim=(2, 3), keepdim=True, unbiased=False)
    return scale.view(*scale.shape, 1, 1) * (x - mu) / torch.sqrt(var + eps) + bias.view(*bias.shape, 1, 1)


def ada_module(x, scale, bias, eps):
    norm = nn.InstanceNorm2d(x.shape[1], eps=eps)
    return torch.addcmul(bias[..., None, None], scale[..., None, None], norm(x))


def ada_flat(x, scale, bias, eps):
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    mu = flat.mean(-1, keepdim=True)
    sigma = ((flat - mu) ** 2).mean(-1, keepdim=True).add(eps).rsqrt()
    return ((flat - mu) * sigma * scale.unsqueeze(-1) + bias.unsqueeze(-1)).reshape(x.shape)


def ada_with(dims=(2, 3), unbiased=False, eps_at="inside", center=True, power=0.5, swap=False, one_plus=False,
             bias=True, scale=True, detach=False):
    def fn(x, s, b, eps):
        s, b = (b, s) if swap else (s, b)
        s = 1 + s if one_plus else s
        mu = x.mean(dim=dims, keepdim=True) if center else 0.0
        var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
        mu, var = (mu.detach(), var.detach()) if detach else (mu, var)
        norm = {"inside": (var + eps) ** power, "outside": var.sqrt() + eps, "none": var.sqrt()}[eps_at]
        out = (x - mu) / norm
        out = s[:, :, None, None] * out if scale else out
        return out + b[:, :, None, None] if bias else out
    return fn


ADA_RIGHT = {"the library's": adain, "F.instance_norm": ada_instance_norm, "var_mean": ada_var_mean,
             "nn.InstanceNorm2d": ada_module, "flattened": ada_flat}
ADA_WRONG = {
    "over the batch": (ada_with(dims=(0, 2, 3)), ["over the batch", "BatchNorm"]),
    "over the channels": (ada_with(dims=(1, 2, 3)), ["over the channels", "LayerNorm"]),
    "last dim only": (ada_with(dims=(-1,)), ["last dim only"]),
    "unbiased": (ada_with(unbiased=True), ["unbiased variance"]),
    "eps outside": (ada_with(eps_at="outside"), ["eps belongs inside"]),
    "eps missing": (ada_with(eps_at="none"), ["eps is missing"]),
    "divides by the variance": (ada_with(power=1.0), ["divides by the variance"]),
    "not centred": (ada_with(center=False), ["mean was not subtracted"]),
    "scale and bias swapped": (ada_with(swap=True), ["swapped"]),
    "1 + scale": (ada_with(one_plus=True), ["1 + scale", "y_s itself"]),
    "bias missing": (ada_with(bias=False), ["bias is missing"]),
    "scale missing": (ada_with(scale=False), ["scale is missing"]),
    "not broadcast": (lambda x, s, b, eps: s * F.instance_norm(x, eps=eps) + b, ["Your function raised",
                                                                                 "scale[:, :, None, None]"]),
    "statistics detached": (ada_with(detach=True), ["gradient with respect to x", "detached"]),
    "in place": (lambda x, s, b, eps: adain(x.sub_(x.mean(dim=(2, 3), keepdim=True)), s, b, eps),
                 ["changed in place", "compute new tensors"]),
    "in place, without autograd": (lambda x, s, b, eps: adain(x.detach().sub_(x.mean()), s, b, eps),
                                   ["x was changed in place"]),
}


@pytest.mark.parametrize("name", [*ADA_RIGHT, *ADA_WRONG])
def test_adain(name, capsys):
    run(checks.check_adain, ADA_RIGHT, ADA_WRONG, name, capsys)


# ---------------------------------------------------------------- SinGAN's noise amplitudes
def sig_right(reals, recs, noise_amp):
    sigmas = [1.0]
    for coarser, real in zip(recs, reals[1:]):
        sigmas.append(noise_amplitude(resize(coarser, tuple(real.shape[-2:])), real, noise_amp))
    return sigmas


def sig_tensor(reals, recs, noise_amp):
    errors = [F.mse_loss(resize(recs[n - 1], reals[n].shape[-2:]), reals[n]) for n in range(1, len(reals))]
    return torch.cat([torch.ones(1), noise_amp * torch.stack(errors).sqrt()])


def sig_antialiased_interpolate(reals, recs, noise_amp):
    return [1.0] + [noise_amp * torch.sqrt(torch.mean((F.interpolate(recs[n - 1], size=reals[n].shape[-2:],
                                                                     mode="bicubic", antialias=True) - reals[n]) ** 2))
                    for n in range(1, len(reals))]


def sig_with(source="rec", measure="rmse", first=1.0, amp=None, up=resize, drop_first=False):
    def fn(reals, recs, noise_amp):
        a = noise_amp if amp is None else amp
        out = [] if drop_first else [first if first != "amp" else a]
        for n in range(1, len(reals)):
            size = tuple(reals[n].shape[-2:])
            x, y = {"rec": (up(recs[n - 1], size), reals[n]), "real": (up(reals[n - 1], size), reals[n]),
                    "own": (recs[n], reals[n]),
                    "coarse": (recs[n - 1], up(reals[n], tuple(recs[n - 1].shape[-2:])))}[source]
            d = x - y
            value = {"rmse": d.pow(2).mean().sqrt(), "mse": d.pow(2).mean(), "l1": d.abs().mean(),
                     "norm": d.norm(), "channel": d.pow(2).mean(dim=(0, 2, 3)).sqrt().mean()}[measure]
            out.append(a * value.item())
        return out
    return fn


def sig_shifted(reals, recs, noise_amp):
    return sig_right(reals, recs, noise_amp)[1:] + [1.0]


SIG_RIGHT = {"list of floats": sig_right, "tensor": sig_tensor,
             "interpolate with antialias": sig_antialiased_interpolate}
SIG_WRONG = {
    "MSE": (sig_with(measure="mse"), ["this is the MSE"]),
    "noise_amp missing": (sig_with(amp=1.0), ["noise_amp = 1.0 was used", "case 1 of 3"]),
    "noise_amp fixed at 0.1": (sig_with(amp=0.1), ["noise_amp = 0.1 was used", "case 2 of 3"]),
    "coarser real image": (sig_with(source="real"), ["coarser REAL image"]),
    "own reconstruction": (sig_with(source="own"), ["own reconstruction", "BEFORE G_n trains"]),
    "at the coarser size": (sig_with(source="coarse"), ["at the coarser size"]),
    "bilinear": (sig_with(up=lambda x, s: F.interpolate(x, s, mode="bilinear")), ["bilinear"]),
    "bicubic without antialias": (sig_with(up=lambda x, s: F.interpolate(x, s, mode="bicubic")), ["antialias"]),
    "mean absolute error": (sig_with(measure="l1"), ["mean absolute error"]),
    "norm": (sig_with(measure="norm"), ["SUM of squares"]),
    "per channel": (sig_with(measure="channel"), ["per channel"]),
    "coarsest 0": (sig_with(first=0.0), ["coarsest scale is 0.0000", "it is 1"]),
    "coarsest noise_amp": (sig_with(first="amp"), ["coarsest scale is 0.1000", "it is 1"]),
    "coarsest missing": (sig_with(drop_first=True), ["coarsest scale's sigma is missing"]),
    "shifted": (sig_shifted, ["shifted by one scale"]),
    "a number": (lambda reals, recs, amp: 0.1, ["one number per scale"]),
    "in place": (lambda reals, recs, amp: sig_right(reals, [r.clamp_(-1, 1) for r in recs], amp),
                 ["recs[0] was changed in place"]),
}


@pytest.mark.parametrize("name", [*SIG_RIGHT, *SIG_WRONG])
def test_noise_amplitudes(name, capsys):
    run(checks.check_noise_amplitudes, SIG_RIGHT, SIG_WRONG, name, capsys)


# ---------------------------------------------------------------- SinGAN's generator loss
def gl_right(G, D, real, z, prev, z_rec, prev_rec, alpha):
    return g_loss_wasserstein(D(G(z, prev))) + alpha * F.mse_loss(G(z_rec, prev_rec), real)


def gl_written_out(G, D, real, z, prev, z_rec, prev_rec, alpha):
    reconstruction = G(z_rec, prev_rec)
    adversarial = -D(G(z, prev)).mean()
    return adversarial + alpha * ((reconstruction - real) ** 2).mean()


def gl_with(adv="wgan", rec="mse", alpha_on="rec", z_rec_of=None, prev_rec_of=None, detach=None):
    def fn(G, D, real, z, prev, z_rec, prev_rec, alpha):
        fake = G(z, prev)
        fake = fake.detach() if detach == "fake" else fake
        scores = D(fake)
        adversarial = {"wgan": -scores.mean(), "sign": scores.mean(), "ns": F.softplus(-scores).mean(),
                       "sum": -scores.sum(), "none": 0.0}[adv]
        out = G(z if z_rec_of == "z" else z_rec, prev if prev_rec_of == "prev" else prev_rec)
        out = out.detach() if detach == "rec" else out
        error = {"mse": F.mse_loss(out, real), "sum": F.mse_loss(out, real, reduction="sum"),
                 "rmse": F.mse_loss(out, real).sqrt(), "none": 0.0}[rec]
        return {"rec": adversarial + alpha * error, "adv": alpha * adversarial + error, "none": adversarial + error}[
            alpha_on]
    return fn


GL_RIGHT = {"library losses": gl_right, "written out": gl_written_out}
GL_WRONG = {
    "adversarial sign": (gl_with(adv="sign"), ["wrong sign"]),
    "non-saturating": (gl_with(adv="ns"), ["non-saturating", "Wasserstein"]),
    "patch scores summed": (gl_with(adv="sum"), ["one score per patch"]),
    "alpha on the adversarial term": (gl_with(alpha_on="adv"), ["alpha weighs the reconstruction term"]),
    "alpha missing": (gl_with(alpha_on="none"), ["alpha is missing"]),
    "summed squared error": (gl_with(rec="sum"), ["is summed", "MEAN over the pixels"]),
    "root of the MSE": (gl_with(rec="rmse"), ["root of the MSE"]),
    "random z for the reconstruction": (gl_with(z_rec_of="z"), ["used the random z", "z_rec"]),
    "prev for the reconstruction": (gl_with(prev_rec_of="prev"), ["used prev", "case 2 of 3"]),
    "no reconstruction": (gl_with(rec="none"), ["reconstruction term is missing"]),
    "no adversarial term": (gl_with(adv="none"), ["adversarial term is missing"]),
    "fake detached": (gl_with(detach="fake"), ["fake was detached before D"]),
    "reconstruction detached": (gl_with(detach="rec"), ["reconstruction was detached"]),
    "a float": (lambda *a: gl_right(*a).item(), ["torch tensor"]),
    "per patch": (lambda G, D, real, z, prev, z_rec, prev_rec, alpha: -D(G(z, prev)) + alpha * F.mse_loss(
        G(z_rec, prev_rec), real), ["It returned shape", "one number"]),
}


@pytest.mark.parametrize("name", [*GL_RIGHT, *GL_WRONG])
def test_singan_g_loss(name, capsys):
    run(checks.check_singan_g_loss, GL_RIGHT, GL_WRONG, name, capsys)


def test_a_failure_names_the_case_the_values_and_the_diagnosis():
    message = fails(checks.check_adain, ADA_WRONG["1 + scale"][0])
    assert message.splitlines()[0].startswith("check_adain failed (adaptive instance normalisation) on case 1 of 4.")
    assert "Diagnosis:" in message and "expected:" in message and "got:" in message


def test_no_check_moves_the_global_random_stream():
    """A check that builds layers or draws inputs must leave the student's seeded stream where it was."""
    right = [(checks.check_laplacian_pyramid, lap_loop), (checks.check_reconstruct, rec_loop),
             (checks.check_fade_in, fade_right), (checks.check_minibatch_stddev, mb_right),
             (checks.check_equalized_weight, EQ_RIGHT["numel of a row"]), (checks.check_adain, adain),
             (checks.check_noise_amplitudes, sig_right), (checks.check_singan_g_loss, gl_right)]
    for check, fn in right:
        state = torch.get_rng_state()
        check(fn)
        assert torch.equal(torch.get_rng_state(), state), check.__name__

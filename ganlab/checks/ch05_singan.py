"""Checks for chapter 05's pyramids: Burt & Adelson's Laplacian pyramid and its reconstruction (Exercises 1-2),
and SinGAN's pyramid of GANs, its noise amplitudes and one scale's generator loss (Exercises 7-8)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import g_loss_wasserstein
from ..pyramids import downsample, upsample
from ..singan import PatchDiscriminator, ScaleGenerator, image_pyramid, resize
from ..singan_train import noise_amplitude
from .ch04 import _as_array
from .ch05 import _tensor_of_shape, _unchanged
from .core import _Check, _close, _finite

_SIZE_HINT = ("two levels of different sizes were combined: up(g, size) must bring the coarser level back to EXACTLY "
              "the size of the finer one, size = finer.shape[-2:]. Halving rounds up (27 px -> 14 px), so doubling "
              "(14 -> 28) overshoots odd sizes.")
_UP_HINT = ("up was asked for a size that its input was not halved from: go from the coarsest level to the finest, "
            "and ask for the size of the level you add to, up(g, band.shape[-2:]).")


# ---------------------------------------------------------------- the Laplacian pyramid (Exercises 1-2)
_OPS = {  # case -> (down, up, how the failure shows them)
    "binomial": (downsample, upsample, "ganlab.pyramids.downsample (blur, then every 2nd pixel)",
                 "ganlab.pyramids.upsample (zeros between the pixels, blur, times 4)"),
    "bilinear": (lambda x: x[:, :, ::2, ::2], lambda x, s: F.interpolate(x, size=tuple(s), mode="bilinear"),
                 "every 2nd pixel, no blur: x[:, :, ::2, ::2]", "bilinear interpolation to size"),
    "box": (lambda x: F.avg_pool2d(x, 2, ceil_mode=True),
            lambda x, s: x.repeat_interleave(2, 2).repeat_interleave(2, 3)[:, :, :s[0], :s[1]],
            "2x2 average pooling", "each pixel copied 2x2, cropped to size"),
}


def _pyramid_cases() -> list[tuple[Tensor, int, str]]:
    g = torch.Generator().manual_seed(5)
    shapes = [((2, 1, 16, 16), 3, "binomial"), ((1, 3, 27, 33), 5, "binomial"), ((3, 2, 13, 10), 2, "bilinear"),
              ((1, 1, 9, 12), 1, "box"), ((2, 3, 21, 21), 4, "box")]
    return [(torch.randn(*shape, generator=g), levels, ops) for shape, levels, ops in shapes]


def _laplacian(x: Tensor, levels: int, down: Callable, up: Callable, from_band: bool = False) -> list[Tensor]:
    """[L_0, ..., L_{n-1}]: L_l = g_l - up(g_{l+1}), L_{n-1} = g_{n-1}; ``from_band``: the slip g_{l+1} = down(L_l)."""
    bands, g = [], x
    for _ in range(levels - 1):
        coarser = down(g)  # g_{l+1}
        bands.append(g - up(coarser, tuple(g.shape[2:])))  # (N, C, H_l, W_l)
        g = down(bands[-1]) if from_band else coarser
    return bands + [g]


def _rebuild(pyramid: Sequence[Tensor], up: Callable, sign: float = 1.0, carry: bool = True) -> Tensor:
    """g_0 from [L_0, ..., L_{n-1}]; ``carry=False``: the slip of upsampling the next band, not the image so far."""
    x = pyramid[-1]  # g_{n-1}
    for level in reversed(range(len(pyramid) - 1)):
        x = pyramid[level] + sign * up(x if carry else pyramid[level + 1], tuple(pyramid[level].shape[2:]))
    return x  # g_0


def check_laplacian_pyramid(fn: Callable[[Tensor, int, Callable, Callable], Sequence[Tensor]]) -> None:
    """fn(x, levels, down, up) -> [L_0, ..., L_{levels-1}], finest first: L_l = g_l - up(g_{l+1}, size of g_l), with
    g_0 = x, g_{l+1} = down(g_l), and the last level the coarsest Gaussian level g_{levels-1} itself."""
    cases = _pyramid_cases()
    chk = _Check("check_laplacian_pyramid", "a Laplacian pyramid", fn, len(cases))
    for case, (x, levels, ops) in enumerate(cases, 1):
        down, up, down_text, up_text = _OPS[ops]
        expected = _laplacian(x, levels, down, up)
        chk.hints = {"must match the size of tensor": _SIZE_HINT, "size must be the (H, W)": _UP_HINT,
                     "required positional argument: 'size'": "up takes the size to upsample to: up(g, size)."}
        given = x.clone()
        got = chk.call(case, given, levels, down, up, x=f"{tuple(x.shape)}, standard normal", levels=levels,
                       down=down_text, up=up_text)
        _unchanged(chk, "x", given, x)
        shapes = [tuple(t.shape) for t in expected]
        want = f"a list of {levels} tensors of shapes {shapes}"
        if not isinstance(got, (list, tuple)) or not all(isinstance(t, Tensor) for t in got):
            chk.fail("It must return a list of tensors, finest level first.", want, type(got).__name__,
                     "collect the levels in a list, pyramid.append(band), and return the list.")
        if len(got) != levels:
            diagnosis = {levels - 1: "the coarsest level is missing: after the bands, append the last Gaussian level "
                                     "g_{levels-1} itself (the low-pass residue everything is rebuilt from).",
                         levels + 1: "one level too many: `levels` counts every entry, the bands and the coarsest "
                                     "level together, so downsample levels - 1 times."}.get(
                len(got), "use the argument `levels`: the pyramid has that many entries.")
            chk.fail(f"It returned {len(got)} levels.", want, f"{len(got)} levels", diagnosis)
        have = [tuple(t.shape) for t in got]
        for level, (h, w) in enumerate(zip(have, shapes)):
            if h != w:
                diagnosis = ("the list is coarsest first: return it finest first, pyramid[0] the size of x."
                             if have == shapes[::-1] else
                             "this level has the size of the next coarser one: compute each band at the size of "
                             "g_l, BEFORE moving on to g_{l+1} = down(g_l)." if h in shapes[level + 1:] else
                             "every level l has the size of g_l: x downsampled l times with the down you are given.")
                chk.fail(f"pyramid[{level}] has shape {h}.", want, f"shapes {have}", diagnosis)
        for level, (h, w) in enumerate(zip(got, expected)):
            if _close(h, w):
                continue
            gauss = _laplacian(x, level + 1, down, up)[-1]  # g_l
            variants = [("this level is the Gaussian level g_l itself: a band keeps only the detail, "
                         "L_l = g_l - up(g_{l+1}, size of g_l).", gauss) if level < levels - 1 else
                        ("the last level is another band: it must be the coarsest Gaussian level g_{levels-1} "
                         "itself, which the bands are added back to.", gauss - up(down(gauss), tuple(gauss.shape[2:]))),
                        ("g_{l+1} was downsampled from the band L_l: the Gaussian pyramid goes on from g_l, "
                         "g_{l+1} = down(g_l); the band is only stored.", _laplacian(x, levels, down, up, True)[level])]
            if ops != "binomial":
                variants.append((f"these are ganlab.pyramids' operators: use the down and up passed in (here "
                                 f"{down_text}, and {up_text}).", _laplacian(x, levels, downsample, upsample)[level]))
            chk.mismatch(w, h.detach(), variants, problem=f"Wrong values in pyramid[{level}].",
                         fallback="L_l = g_l - up(g_{l+1}, g_l.shape[-2:]) for l < levels - 1, and the last level "
                                  "is g_{levels-1}.")
    chk.passed()


def check_reconstruct(fn: Callable[[Sequence[Tensor], Callable], Tensor]) -> None:
    """fn(pyramid, up) -> the image: g_{n-1} = L_{n-1}, then g_l = L_l + up(g_{l+1}, size of L_l), up to g_0."""
    cases = _pyramid_cases()
    chk = _Check("check_reconstruct", "rebuilding an image from its Laplacian pyramid", fn, len(cases))
    for case, (x, levels, ops) in enumerate(cases, 1):
        down, up, _, up_text = _OPS[ops]
        pyramid = _laplacian(x, levels, down, up)
        given = [t.clone() for t in pyramid]
        listed = list(given)
        chk.hints = {"must match the size of tensor": _SIZE_HINT, "size must be the (H, W)": _UP_HINT}
        got = chk.call(case, listed, up, pyramid=f"{levels} levels of shapes {[tuple(t.shape) for t in pyramid]}",
                       up=up_text)
        if len(listed) != levels or any(a is not b for a, b in zip(listed, given)):
            chk.fail("The list `pyramid` was changed (pop, reverse or del on it).", diagnosis="walk it without "
                     "changing it: reversed(pyramid) or pyramid[::-1] make a new order and leave the caller's list.")
        for level, (now, before) in enumerate(zip(given, pyramid)):
            _unchanged(chk, f"pyramid[{level}]", now, before)
        if isinstance(got, (list, tuple)):
            chk.fail("It returned a list.", x, f"a list of {len(got)}", "return the finest image g_0 alone, one "
                     "tensor of the size of pyramid[0].")
        sizes = {tuple(t.shape): level for level, t in enumerate(pyramid)}
        _tensor_of_shape(chk, got, x, {s: f"this is the size of pyramid[{k}]: go on until the finest level, "
                                          f"pyramid[0]." for s, k in sizes.items() if k}, "the image has the size "
                         "of pyramid[0].")
        if not _close(got, x):
            variants = [("the bands were not added: g_l = L_l + up(g_{l+1}) adds each band on the way up.",
                         _rebuild([torch.zeros_like(t) for t in pyramid[:-1]] + [pyramid[-1]], up)),
                        ("the upsampled image must be ADDED to the band: g_l = L_l + up(g_{l+1}).",
                         _rebuild(pyramid, up, sign=-1.0)),
                        ("each band got the upsampled NEXT BAND instead of the image rebuilt so far: carry g_{l+1} "
                         "up, g_l = L_l + up(g_{l+1}).", _rebuild(pyramid, up, carry=False))]
            if ops != "binomial":
                variants.append((f"this upsamples with ganlab.pyramids.upsample: use the up passed in (here "
                                 f"{up_text}), the one the pyramid was made with.", _rebuild(pyramid, upsample)))
            chk.mismatch(x, got.detach(), variants, problem="The image is not rebuilt exactly.", fallback="start "
                         "from g = pyramid[-1]; for each band from the coarsest to the finest, g = band + up(g, "
                         "band.shape[-2:]).")
    chk.passed()


# ---------------------------------------------------------------- SinGAN's noise amplitudes (Exercise 7)
def _smooth(gen: torch.Generator, c: int, h: int, w: int) -> Tensor:
    """A random image (1, c, h, w) in [-1, 1] with structure at every scale: coarse noise upsampled, plus fine noise."""
    coarse = F.interpolate(torch.rand(1, c, h // 6, w // 6, generator=gen) * 2 - 1, size=(h, w), mode="bicubic")
    return (0.8 * coarse + 0.2 * torch.rand(1, c, h, w, generator=gen)).clamp(-1, 1)


def _sigmas(reals: Sequence[Tensor], recs: Sequence[Tensor], amp: float, source: str = "rec", measure: str = "rmse",
            up: Callable = resize) -> list[float]:
    """sigma for every scale, coarsest first; the keywords switch on the classic slips."""
    out = [1.0]
    for n in range(1, len(reals)):
        size = tuple(reals[n].shape[-2:])
        a, b = {"rec": lambda: (up(recs[n - 1], size), reals[n]), "real": lambda: (up(reals[n - 1], size), reals[n]),
                "own": lambda: (recs[n], reals[n]),
                "coarse": lambda: (recs[n - 1], up(reals[n], tuple(recs[n - 1].shape[-2:])))}[source]()
        d = a - b
        value = {"rmse": lambda: d.pow(2).mean().sqrt(), "mse": lambda: d.pow(2).mean(), "l1": lambda: d.abs().mean(),
                 "norm": lambda: d.norm(), "channel": lambda: d.pow(2).mean(dim=(0, 2, 3)).sqrt().mean()}[measure]()
        out.append(amp * float(value))
    return out


def check_noise_amplitudes(fn: Callable[[Sequence[Tensor], Sequence[Tensor], float], Any]) -> None:
    """fn(reals, recs, noise_amp) -> [sigma_0, ..., sigma_{n-1}], coarsest first: 1 at the coarsest scale, then
    noise_amp * RMSE(resize(recs[n - 1], size of reals[n]), reals[n]) (SinGAN, sec. 2.1; the official training.py)."""
    gen = torch.Generator().manual_seed(12)
    cases = []
    for (h, w), c, amp in (((36, 44), 3, 0.1), ((60, 48), 3, 0.25), ((30, 26), 1, 1.0)):
        reals = image_pyramid(_smooth(gen, c, h, w))
        recs = [r + 0.03 * (k + 1) * torch.randn(r.shape, generator=gen) + 0.02 * k for k, r in enumerate(reals)]
        cases.append((reals, recs, amp))
    chk = _Check("check_noise_amplitudes", "SinGAN's noise amplitude at every scale", fn, len(cases))
    for case, (reals, recs, amp) in enumerate(cases, 1):
        expected = np.array([1.0] + [noise_amplitude(resize(recs[n - 1], tuple(reals[n].shape[-2:])), reals[n], amp)
                                     for n in range(1, len(reals))])
        given = ([t.clone() for t in reals], [t.clone() for t in recs])
        got = chk.call(case, list(given[0]), list(given[1]), amp, reals=f"{len(reals)} scales of sizes "
                       f"{[tuple(t.shape[-2:]) for t in reals]}, coarsest first, {reals[0].shape[1]} channels",
                       recs="the reconstruction at each scale, same sizes", noise_amp=amp)
        for i, (now, before) in enumerate(zip(given[0] + given[1], reals + recs)):
            _unchanged(chk, f"reals[{i}]" if i < len(reals) else f"recs[{i - len(reals)}]", now, before)
        values = _as_array(got)
        if values is None or values.ndim != 1:
            chk.fail("It must return one number per scale: a list (or 1-D tensor) of floats.", expected, got,
                     "collect the sigmas in a list, coarsest first, and return it.")
        if len(values) != len(expected):
            chk.fail(f"It returned {len(values)} numbers for {len(reals)} scales.", expected, values,
                     "the coarsest scale's sigma is missing: the list starts with 1.0, the amplitude of G_N's pure "
                     "noise input." if len(values) == len(expected) - 1 else "one sigma per scale, coarsest first.")
        if not np.isfinite(values).all():
            chk.fail("It returned NaN or inf.", expected, values, "every image here is finite.")
        if _close(values, expected, rtol=1e-4, atol=1e-6):
            continue
        if _close(values[1:], expected[1:], rtol=1e-4, atol=1e-6):
            chk.fail(f"sigma at the coarsest scale is {values[0]:.4f}.", expected, values, "it is 1: the coarsest "
                     "generator has no coarser image to refine (its input up(...) is zeros), so its noise is the "
                     "whole signal, N(0, 1).")
        if _close(values[:-1], expected[1:], rtol=1e-4, atol=1e-6):
            chk.fail("The sigmas are shifted by one scale.", expected, values, "sigma_n belongs to scale n: the list "
                     "starts with the coarsest scale's 1.0, and sigma_n uses the reconstruction of scale n - 1.")
        slips = [("this is the MSE: sigma is proportional to the ROOT mean squared error, so that it has the units of "
                  "the pixels.", dict(measure="mse")),
                 ("the coarser REAL image was compared: sigma measures what the coarser GENERATORS miss, so it "
                  "compares their reconstruction recs[n - 1], upsampled, with reals[n].", dict(source="real")),
                 ("this scale's own reconstruction was used: sigma_n is set BEFORE G_n trains, from the coarser "
                  "scale's reconstruction recs[n - 1], upsampled to scale n.", dict(source="own")),
                 ("the comparison is at the coarser size: upsample recs[n - 1] to the size of reals[n] and compare "
                  "there.", dict(source="coarse")),
                 ("upsampled by bilinear interpolation: use ganlab.singan.resize (bicubic), the up() of training and "
                  "sampling.", dict(up=lambda x, s: F.interpolate(x, s, mode="bilinear"))),
                 ("upsampled by F.interpolate's bicubic without antialias=True, a slightly different kernel even when "
                  "enlarging: use ganlab.singan.resize, the up() of training and sampling.",
                  dict(up=lambda x, s: F.interpolate(x, s, mode="bicubic"))),
                 ("this is the mean absolute error: use the root mean squared error.", dict(measure="l1")),
                 ("this is the norm of the difference (root of the SUM of squares): take the root of the MEAN.",
                  dict(measure="norm")),
                 ("one RMSE per channel, averaged: take one RMSE over all the pixels and channels.",
                  dict(measure="channel"))]
        slips += [(f"noise_amp = {wrong} was used: multiply by the noise_amp passed in, here {amp}.", dict(amp=wrong))
                  for wrong in (1.0, 0.1) if wrong != amp]
        variants = [(d, _sigmas(reals, recs, **{"amp": amp, **kw})) for d, kw in slips]
        chk.mismatch(expected, values, variants, problem=f"Wrong sigmas (noise_amp = {amp}).", fallback=(
            "sigma_0 = 1; sigma_n = noise_amp * sqrt(mean((resize(recs[n - 1], reals[n].shape[-2:]) - reals[n])^2))."))
    chk.passed()


# ---------------------------------------------------------------- one scale's generator loss (Exercise 8)
def _g_loss_cases() -> list[tuple[nn.Module, nn.Module, tuple[Tensor, ...], float]]:
    gen, cases = torch.Generator().manual_seed(21), []
    for (h, w), z_channels, coarsest, alpha, sigma in (((26, 30), 1, True, 10.0, 1.0), ((33, 40), 3, False, 5.0, 0.2),
                                                       ((25, 25), 3, False, 0.5, 0.05)):
        with torch.random.fork_rng(devices=[]):  # the student's random stream stays as it was
            torch.manual_seed(h)
            G, D = ScaleGenerator(3, 8), PatchDiscriminator(3, 8)
        G.sigma.fill_(sigma)
        real = _smooth(gen, 3, h, w)
        prev, prev_rec = ((torch.zeros_like(real),) * 2 if coarsest else
                          (_smooth(gen, 3, h, w), (real + 0.1 * torch.randn(real.shape, generator=gen)).clamp(-1, 1)))
        z = torch.randn(1, z_channels, h, w, generator=gen)
        z_rec = torch.randn(1, 1, h, w, generator=gen) if coarsest else torch.zeros(1, 1, h, w)
        cases.append((G, D, (real, z, prev, z_rec, prev_rec), alpha))
    return cases


def check_singan_g_loss(fn: Callable[..., Tensor]) -> None:
    """fn(G, D, real, z, prev, z_rec, prev_rec, alpha) -> the generator's loss at one scale of SinGAN (sec. 2.1;
    ganlab.singan_train.g_step), -mean D(G(z, prev)) + alpha * mean (G(z_rec, prev_rec) - real)^2."""
    cases = _g_loss_cases()
    chk = _Check("check_singan_g_loss", "the generator's loss at one scale of SinGAN", fn, len(cases))
    for case, (G, D, tensors, alpha) in enumerate(cases, 1):
        real, z, prev, z_rec, prev_rec = tensors
        params = list(G.parameters())
        fake, rec = G(z, prev), G(z_rec, prev_rec)
        adv, mse = g_loss_wasserstein(D(fake)), F.mse_loss(rec, real)
        expected = adv + alpha * mse
        with torch.no_grad():
            scores, other = D(fake), G(z, prev)  # other: the reconstruction's slip of a random z
            variants = [("the adversarial term has the wrong sign: G maximises the critic's score, -mean D(G(z)).",
                         -adv + alpha * mse),
                        ("this is the non-saturating GAN loss: SinGAN's critic is a Wasserstein one (WGAN-GP), so G "
                         "minimises -mean D(G(z)), the raw scores.", F.softplus(-scores).mean() + alpha * mse),
                        ("D gives one score per patch: average them (mean), do not sum them.",
                         -scores.sum() + alpha * mse),
                        ("alpha weighs the reconstruction term, not the adversarial one.", alpha * adv + mse),
                        ("alpha is missing: the reconstruction term is alpha * MSE.", adv + mse),
                        ("the reconstruction error is summed: it is a MEAN over the pixels (nn.MSELoss), which is what "
                         "alpha = 10 is weighed against.", adv + alpha * (rec - real).pow(2).sum()),
                        ("this is the root of the MSE: the term is the mean SQUARED error.", adv + alpha * mse.sqrt()),
                        ("the reconstruction used the random z: it uses the fixed z_rec (z* at the coarsest scale, "
                         "0 above), so that {z*, 0, ..., 0} gives back the image.",
                         adv + alpha * F.mse_loss(other, real)),
                        ("the reconstruction used prev: it starts from prev_rec, the upsampled reconstruction of the "
                         "coarser scales.", adv + alpha * F.mse_loss(G(z_rec, prev), real)),
                        ("the reconstruction term is missing: + alpha * mean (G(z_rec, prev_rec) - real)^2.", adv),
                        ("the adversarial term is missing: -mean D(G(z, prev)).", alpha * mse)]
        inputs = [t.clone() for t in tensors]
        coarsest = case == 1
        got = chk.call(case, G, D, *inputs, alpha, G=f"ScaleGenerator(3, 8), sigma {float(G.sigma):.2f}",
                       D="PatchDiscriminator(3, 8)", real=tuple(real.shape), z=tuple(z.shape),
                       prev="zeros" if coarsest else tuple(prev.shape),
                       z_rec=f"{tuple(z_rec.shape)}, {'z*' if coarsest else 'zeros'}",
                       prev_rec="zeros" if coarsest else tuple(prev_rec.shape), alpha=alpha)
        for name, now, before in zip(("real", "z", "prev", "z_rec", "prev_rec"), inputs, tensors):
            _unchanged(chk, name, now, before)
        got = got.reshape(()) if isinstance(got, Tensor) and got.numel() == 1 else got
        _tensor_of_shape(chk, got, expected, {}, "the loss is one number: average D's patch scores and the errors.")
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, "every term here is finite.")
        if not _close(got, expected):
            chk.mismatch(expected.detach(), got.detach(), [(d, v.detach()) for d, v in variants],
                         problem=f"Wrong loss (alpha = {alpha}).")
        want = torch.autograd.grad(expected, params, retain_graph=True)
        if not got.requires_grad:
            chk.fail("The value is right but it carries no gradient.", diagnosis="the loss is cut off from G's weights "
                     "(.item(), .detach() or torch.no_grad()).")
        have = [torch.zeros_like(p) if h is None else h for p, h in
                zip(params, torch.autograd.grad(got, params, allow_unused=True))]
        flat = lambda grads: torch.cat([g.flatten() for g in grads])  # noqa: E731
        if not _close(flat(have), flat(want), rtol=1e-3, atol=1e-6):
            only = {part: flat(torch.autograd.grad(term, params, retain_graph=True)) for part, term in
                    (("rec", alpha * mse), ("adv", adv))}  # the gradient when the other term is detached
            chk.fail("The value is right but the gradient with respect to G's weights is not.", flat(want), flat(have),
                     "the fake was detached before D: G learns from the critic's score THROUGH the fake (detach it "
                     "only in the critic's step)." if _close(flat(have), only["rec"], rtol=1e-3, atol=1e-6) else
                     "the reconstruction was detached: G learns to reconstruct through it." if _close(
                         flat(have), only["adv"], rtol=1e-3, atol=1e-6) else "part of the loss is detached.")
    chk.passed()

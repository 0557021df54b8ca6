"""Checks for chapter 07, variational autoencoders, continued: the negative ELBO (Exercise 4), the importance-weighted
bound (Exercise 5) and the codes of a latent traversal (Exercise 6)."""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from ..vae import bernoulli_log_likelihood, gaussian_kl
from .ch05 import _gradients, _unchanged
from .ch06 import _call
from .ch07 import _NO_GRAD, _run, _values
from .core import _Check


# ---------------------------------------------------------------- the negative ELBO (Exercise 4)
def check_negative_elbo(fn: Callable[[Tensor, Tensor, Tensor, Tensor, float], Tensor]) -> None:
    """fn(recon_logits, x, mu, logvar, beta) -> the loss -ELBO_beta, one number: the batch mean of
    [-log p(x | z) summed over pixels + beta KL(q || N(0, I)) summed over latents], Bernoulli decoder, x in [0, 1]."""
    gen = torch.Generator().manual_seed(74)
    setups = [((3, 1, 28, 28), 4, 1.0), ((2, 1, 6, 6), 3, 4.0), ((4, 1, 5, 4), 2, 0.25), ((2, 3, 4, 4), 5, 2.5)]
    cases = [(2 * torch.randn(s, generator=gen), torch.rand(s, generator=gen), torch.randn(s[0], d, generator=gen),
              torch.rand(s[0], d, generator=gen) * 3 - 2, beta) for s, d, beta in setups]
    chk = _Check("check_negative_elbo", "the loss -ELBO, nats per image averaged over the batch", fn, len(cases))
    for case, (logits, x, mu, logvar, beta) in enumerate(cases, 1):
        n, d, pixels = len(x), mu.shape[1], x[0].numel()
        got, (lg, m, lv), given = _run(
            chk, case, (logits, x, mu, logvar), ("recon_logits", "x", "mu", "logvar"), (True, False, True, True),
            "the loss is computed from the decoder's logits and q's parameters given: nothing is sampled.", (beta,),
            recon_logits=f"{tuple(logits.shape)}, N(0, 4)", x=f"{tuple(x.shape)}, grey levels in [0, 1]",
            mu=f"{tuple(mu.shape)}", logvar=f"{tuple(logvar.shape)}, in [-2, 1]", beta=beta)
        rec, kl = -bernoulli_log_likelihood(lg, x), gaussian_kl(m, lv)  # (N,), (N,)
        expected = (rec + beta * kl).mean()
        r, k = rec.detach(), kl.detach()
        _values(chk, got, expected, [
            ("the reconstruction is AVERAGED over the pixels while the KL is SUMMED over the latents "
             "(F.binary_cross_entropy_with_logits with its default reduction='mean', plus a summed KL): relative to "
             f"the reconstruction, that weighs the KL by the number of pixels, a hidden beta of {pixels} x beta"
             f"{' (as on MNIST)' if pixels == 784 else ' here, 784 x beta on MNIST'}, as a widely copied VAE example "
             "does. The posterior collapses towards the prior "
             "and the reconstructions blur. Sum both terms per image, then average over the batch.",
             (r / pixels + beta * k).mean()),
            ("both terms are averaged (over pixels and over latents): the ELBO of an image is a SUM over its pixels "
             "and its latent dimensions, in nats per image. Sum both per image, then average over the batch.",
             (r / pixels + beta * k / d).mean()),
            ("beta multiplies the reconstruction: in the beta-VAE it weighs the KL, rec + beta * KL.",
             (beta * r + k).mean()),
            ("this is the ELBO itself, to be maximised: the loss that an optimiser minimises is -ELBO = "
             "rec + beta * KL (both terms positive).", -(r + beta * k).mean()),
            ("the KL enters with the wrong sign: -ELBO = rec + beta * KL, a penalty, never a reward.",
             (r - beta * k).mean()),
            (f"beta is ignored (here beta = {beta}): the loss is rec + beta * KL.", (r + k).mean()),
            ("the reconstruction term is missing: -ELBO = -log p(x | z) + beta * KL.", (beta * k).mean()),
            ("the KL term is missing: -ELBO = -log p(x | z) + beta * KL.", r.mean()),
            ("summed over the batch: the loss is the batch MEAN of the per-image losses (so that the learning rate "
             "does not depend on the batch size).", (r + beta * k).sum()),
        ], {(n,): "one loss per image: average them over the batch, .mean().",
            (1,): "the loss is a 0-d tensor: .mean() returns one."},
            "the loss is one number, a 0-d tensor.",
            "the logits are finite: compute the reconstruction term from the logits stably "
            "(F.binary_cross_entropy_with_logits, or your bernoulli_log_likelihood), not log(sigmoid(l)).")
        _gradients(chk, got, expected, [lg, m, lv], [given[0], given[2], given[3]], ["recon_logits", "mu", "logvar"],
                   "the loss trains the encoder and the decoder: " + _NO_GRAD)
    chk.passed()


# ---------------------------------------------------------------- the IWAE bound (Exercise 5)
def check_iwae_bound(fn: Callable[[Tensor], Tensor]) -> None:
    """fn(log_w (K, N)) -> (N,): log (1/K) sum_k exp(log_w[k]) = logsumexp over K - log K, the importance-weighted bound
    of Burda, Grosse & Salakhutdinov (ICLR 2016) from K log importance weights per image."""
    gen = torch.Generator().manual_seed(75)
    setups = [((5, 3), -3.0, 2.0, "around -3 nats"), ((4, 4), -20.0, 8.0, "around -20, spread widely"),
              ((8, 2), -1000.0, 3.0, "around -1000 nats, as for real images"), ((3, 6), -40.0, 5.0, "around -40")]
    cases = [(mean + spread * torch.randn(s, generator=gen), text) for s, mean, spread, text in setups]
    chk = _Check("check_iwae_bound", "the IWAE bound from K log weights", fn, len(cases))
    for case, (log_w, text) in enumerate(cases, 1):
        k, n = log_w.shape
        got, (lw,), given = _run(chk, case, (log_w,), ("log_w",), (True,), "the weights are given: nothing is sampled.",
                                 log_w=log_w, values=f"K = {k} samples of N = {n} images, {text}")
        expected = torch.logsumexp(lw, dim=0) - math.log(k)  # (N,)
        lse = torch.logsumexp(log_w, dim=0)
        nan_hint = ("exp of a log weight near -1000 is exactly 0 in float32 (and near +100 it is inf), so "
                    "log(mean(exp(log_w))) is log(0) = -inf. Use torch.logsumexp(log_w, dim=0) - log K, which "
                    "subtracts the largest log weight before the exp." if case == 3 else
                    "the log weights are finite, and so is the bound: log(mean(exp(log_w))) overflows or underflows; "
                    "use torch.logsumexp(log_w, dim=0) - log K.")
        _values(chk, got, expected, [
            ("this is the mean of the log weights, the average of K one-sample ELBO estimates: the IWAE bound takes "
             "the log of the MEAN of the weights, logsumexp - log K, which is larger (Jensen).", log_w.mean(dim=0)),
            (f"-log K is missing (K = {k}): the mean of the weights is their sum divided by K, so "
             f"log mean = logsumexp - log K.", lse),
            ("logsumexp divided by K: the mean divides the weights, so in logs it SUBTRACTS log K.", lse / k),
            ("the largest log weight alone: logsumexp is max + log sum exp(log_w - max), the other weights count too.",
             log_w.max(dim=0).values - math.log(k)),
            ("reduced over the wrong axis: log_w is (K, N), the K samples along dim 0, one bound per image.",
             torch.logsumexp(log_w, dim=1) - math.log(n)),
            ("reduced over the wrong axis: log_w is (K, N), the K samples along dim 0, one bound per image.",
             torch.logsumexp(log_w, dim=1) - math.log(k)),
        ], {(k,): "reduced over the images (dim 1): the K samples lie along dim 0, one bound per image, (N,).",
            (): "one number for the batch: reduce over the K samples only (dim 0), one bound per image, (N,).",
            (1, n): "keepdim=True leaves (1, N): one bound per image, shape (N,).",
            (k, n): "nothing was reduced: log-mean-exp over the K samples, dim 0, shape (N,)."},
            f"one bound per image: shape {(n,)}.", nan_hint)
        _gradients(chk, got, expected, [lw], given, ["log_w"], "the bound can be trained (the IWAE): " + _NO_GRAD)
    chk.passed()


# ---------------------------------------------------------------- the codes of a latent traversal (Exercise 6)
def check_latent_traversal_codes(fn: Callable[[Tensor, int, Tensor], Tensor]) -> None:
    """fn(z (D,), dim, values (V,)) -> (V, D): V copies of z whose entry ``dim`` is set to each of ``values``."""
    gen = torch.Generator().manual_seed(76)
    setups = [(4, 1, 5), (6, 0, 3), (3, 2, 7), (5, 3, 4)]
    cases = [(torch.randn(d, generator=gen), dim, torch.linspace(-2.5, 2.5, v) + 0.1 * case, v)
             for case, (d, dim, v) in enumerate(setups, 1)]
    chk = _Check("check_latent_traversal_codes", "the codes of a latent traversal", fn, len(cases))
    for case, (z, dim, values, v) in enumerate(cases, 1):
        d = len(z)
        chk.hints = {"more than one element of the written-to tensor": "z.expand(V, -1) is a view in which every "
                     "row is the same memory: writing to it is refused. Make real copies, z.repeat(V, 1) or "
                     "z.expand(V, -1).clone(), then set the column."}
        given = (z.clone(), values.clone())
        got = _call(chk, case, (given[0], dim, given[1]), "a traversal sets values: nothing is random.", z=z, dim=dim,
                    values=values)
        _unchanged(chk, "z", given[0], z)
        _unchanged(chk, "values", given[1], values)
        expected = z.repeat(v, 1)  # (V, D)
        expected[:, dim] = values
        added = z.repeat(v, 1)
        added[:, dim] += values
        variants = [("the values were ADDED to z's entry: a traversal SETS latent dim to each value, "
                     "codes[:, dim] = values.", added)]
        for other, words in ((dim + 1, "the next one"), (dim - 1, "the one before")):
            if 0 <= other < d:
                wrong = z.repeat(v, 1)
                wrong[:, other] = values
                variants.append((f"the values went into latent {other}, {words}: set column dim = {dim} "
                                 f"(indices count from 0).", wrong))
        last = z.repeat(v, 1)
        last[:, dim] = values[-1]
        variants.append(("every row holds the last value: the rows share one tensor (a list of the same z changed "
                         "in a loop, or an expanded view). Copy z for each value.", last))
        _values(chk, got, expected, variants, {
            (d,): "one code: return all V codes, one row per value, shape (V, D).",
            (d, v): "transposed: one ROW per value, shape (V, D).",
            (v,): "only the traversed column: return whole codes, shape (V, D), equal to z except column dim."},
            f"V codes of D entries: shape {(v, d)}.", "the codes are copies of z and the values: nothing can be NaN.")
    chk.passed()


"""Checks for chapter 07, variational autoencoders: the reparameterisation (Exercise 1), the Gaussian KL (Exercise 2)
and the Bernoulli log-likelihood from logits (Exercise 3). The negative ELBO, the IWAE bound and the codes of a latent
traversal (Exercises 4-6) are in ``ch07_elbo``."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..vae import bernoulli_log_likelihood, gaussian_kl
from .ch05 import _IN_PLACE, _gradients, _tensor_of_shape, _unchanged
from .ch06 import _call
from .core import _SIGMOID_TWICE, _Check, _close, _finite

_NO_GRAD = "part of the computation is detached or done outside torch (.item(), NumPy, torch.no_grad())."


def _run(chk: _Check, case: int, args: Sequence[Tensor], names: Sequence[str], grad: Sequence[bool], why: str,
         extra: tuple = (), **shown: Any) -> tuple[Any, list[Tensor], list[Tensor]]:
    """Call the student's function on clones of ``args`` (those flagged in ``grad`` as leaves that require grad), then
    ``extra``; fail if it drew random numbers or changed an input. Returns (result, the reference's leaves among the
    inputs, the student's inputs)."""
    chk.hints = {**_IN_PLACE, **chk.hints}
    mine = [a.clone().requires_grad_(True) for a, g in zip(args, grad) if g]
    given = [a.clone().requires_grad_(g) for a, g in zip(args, grad)]
    got = _call(chk, case, (*given, *extra), why, **shown)
    for name, now, before in zip(names, given, args):
        _unchanged(chk, name, now, before)
    return got, mine, given


def _values(chk: _Check, got: Any, expected: Tensor, variants: list[tuple[str, Tensor]], shapes: dict,
            shape_fallback: str, nan_hint: str, fallback: str = "", problem: str = "Wrong value.") -> None:
    """Type, shape, finiteness and value of ``got`` against ``expected``, naming the first known mistake."""
    _tensor_of_shape(chk, got, expected, shapes, shape_fallback)
    if not _finite(got):
        chk.fail("It returned NaN or inf.", expected.detach(), got.detach(), nan_hint)
    if not _close(got, expected, rtol=1e-4, atol=1e-4):
        chk.mismatch(expected.detach(), got.detach(), variants, fallback=fallback, problem=problem)


# ---------------------------------------------------------------- the reparameterisation (Exercise 1)
def check_reparameterize(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """fn(mu, logvar, eps), each (N, D) -> z = mu + exp(logvar / 2) * eps, (N, D): a sample of N(mu, diag sigma^2)
    written as a function of mu and logvar (Kingma & Welling, ICLR 2014), the noise eps given."""
    gen = torch.Generator().manual_seed(71)
    shapes = [(4, 3), (2, 5), (3, 2), (5, 4)]
    cases = [(1.5 * torch.randn(s, generator=gen), torch.rand(s, generator=gen) * 4 - 2.5,
              torch.randn(s, generator=gen)) for s in shapes]
    chk = _Check("check_reparameterize", "z = mu + sigma eps with sigma = exp(logvar / 2)", fn, len(cases))
    for case, (mu, logvar, eps) in enumerate(cases, 1):
        n, d = mu.shape
        chk.hints = {"must match the size of tensor": "mu, logvar and eps all have shape (N, D): combine them entry "
                                                      "by entry, with no sum or mean."}
        got, (m, lv), given = _run(chk, case, (mu, logvar, eps), ("mu", "logvar", "eps"), (True, True, False),
                                   "the noise eps is given: use it, and draw nothing (no torch.randn, randn_like or "
                                   "normal_) inside the function.", mu=mu, logvar=logvar, eps=eps)
        expected = m + torch.exp(0.5 * lv) * eps  # (N, D)
        _values(chk, got, expected, [
            ("exp(logvar) is the variance sigma^2 (as if logvar were log sigma): the standard deviation is "
             "sigma = exp(logvar / 2).", mu + torch.exp(logvar) * eps),
            ("logvar was used as the standard deviation itself: it is log sigma^2, so sigma = exp(logvar / 2).",
             mu + logvar * eps),
            ("exp(logvar) / 2: the half belongs inside the exponential, sigma = exp(logvar / 2).",
             mu + torch.exp(logvar) / 2 * eps),
            ("exp(-logvar / 2) is 1 / sigma: sigma = exp(+logvar / 2).", mu + torch.exp(-0.5 * logvar) * eps),
            ("eps was ignored: z = mu + sigma (eps = 1). The sample is z = mu + sigma * eps, eps the noise given.",
             mu + torch.exp(0.5 * logvar)),
            ("the noise is missing: z = mu is the mean of q, not a sample of it; z = mu + sigma * eps.", mu),
            ("mu and sigma swapped roles: z = mu + sigma * eps, the noise scaled by sigma.",
             torch.exp(0.5 * logvar) + mu * eps),
        ], {(n,): "z has one entry per latent dimension: no sum or mean, shape (N, D).",
            (): "z has one entry per latent dimension: no sum or mean, shape (N, D).",
            (n, 2 * d): "mu and sigma eps were concatenated: ADD them, z = mu + sigma * eps."},
            f"z has the shape of mu, {(n, d)}.",
            "logvar is negative where sigma < 1: sqrt(logvar) or log(logvar) gives NaN there. logvar = log sigma^2, so "
            "sigma = exp(logvar / 2), finite for every logvar.")
        _gradients(chk, got, expected, [m, lv], given[:2], ["mu", "logvar"], "z must stay a function of mu and logvar "
                   "(that is the trick): no .detach(), .item(), NumPy or torch.no_grad().")
    chk.passed()


# ---------------------------------------------------------------- the Gaussian KL (Exercise 2)
def _kl(mu: Tensor, logvar: Tensor, var: Tensor | None = None, log_var: Tensor | None = None, one: float = 1.0,
        half: float = 0.5, mean_term: bool = True) -> Tensor:
    """1/2 sum_j (mu^2 + sigma^2 - 1 - log sigma^2) with each piece switchable, to recognise the classic slips."""
    var = logvar.exp() if var is None else var
    log_var = logvar if log_var is None else log_var
    return half * ((mu.pow(2) if mean_term else 0) + var - one - log_var).sum(dim=1)


def check_gaussian_kl(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(mu, logvar), each (N, D) -> KL(N(mu, diag exp(logvar)) || N(0, I)) per example, summed over the latent
    dimensions: (N,), = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)."""
    gen = torch.Generator().manual_seed(72)
    shapes = [(3, 4), (4, 2), (2, 6), (5, 3)]
    cases = [(1.2 * torch.randn(s, generator=gen), torch.rand(s, generator=gen) * 3.5 - 2.5) for s in shapes]
    cases.append((torch.zeros(2, 3), torch.zeros(2, 3)))  # q = p: the KL is 0
    chk = _Check("check_gaussian_kl", "KL(q(z | x) || N(0, I)) per example", fn, len(cases))
    for case, (mu, logvar) in enumerate(cases, 1):
        n, d = mu.shape
        shown = {"mu": mu, "logvar": logvar}
        if case == len(cases):
            shown = {"mu": "zeros (q = N(0, I) = p)", "logvar": "zeros"}
        got, (m, lv), given = _run(chk, case, (mu, logvar), ("mu", "logvar"), (True, True),
                                   "the KL is in closed form: nothing is sampled.", **shown)
        expected = gaussian_kl(m, lv)  # (N,)
        var = logvar.exp()
        _values(chk, got, expected, [
            ("this is -KL: the ELBO's term -KL = 1/2 sum (1 + log sigma^2 - mu^2 - sigma^2), as Kingma & Welling "
             "write it, has the opposite sign. The KL itself is >= 0: 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2).",
             -_kl(mu, logvar)),
            ("the factor 1/2 is missing: KL = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2).", _kl(mu, logvar, half=1.0)),
            ("the mean over the latent dimensions: the KL of a diagonal Gaussian is the SUM of the D one-dimensional "
             "KLs (sum over dim=1).", _kl(mu, logvar) / d),
            ("logvar was treated as log sigma (sigma^2 = exp(2 logvar)): it is log sigma^2 already, so sigma^2 = "
             "exp(logvar) and log sigma^2 = logvar.", _kl(mu, logvar, (2 * logvar).exp(), 2 * logvar)),
            ("sigma (exp(logvar / 2)) stands where sigma^2 belongs: sigma^2 = exp(logvar).",
             _kl(mu, logvar, (0.5 * logvar).exp())),
            ("log sigma (logvar / 2) stands where log sigma^2 belongs: log sigma^2 = logvar itself.",
             _kl(mu, logvar, log_var=0.5 * logvar)),
            ("the -1 is missing: each dimension's KL is 1/2 (mu^2 + sigma^2 - 1 - log sigma^2), which is 0 when "
             "q = p (mu = 0, sigma = 1).", _kl(mu, logvar, one=0.0)),
            ("the mean's term mu^2 is missing: 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2).",
             _kl(mu, logvar, mean_term=False)),
            ("this is the reversed KL(p || q) = KL(N(0, I) || q) = 1/2 sum ((1 + mu^2) / sigma^2 - 1 + log sigma^2): "
             "the KL is not symmetric, and the ELBO has KL(q || p), with q's expectation outside.",
             0.5 * ((1 + mu.pow(2)) / var - 1 + logvar).sum(dim=1)),
        ], {(): "summed (or averaged) over the batch too: return one KL per example, shape (N,).",
            (n, d): "one KL per latent dimension: sum them over dim=1, one KL per example, shape (N,).",
            (n, 1): "keepdim=True leaves shape (N, 1): the KL per example has shape (N,).",
            (d,): "reduced over the batch (dim=0): sum over the latent dimensions, dim=1."},
            f"one KL per example: shape {(n,)}.",
            "the KL of two Gaussians is finite: a log of logvar or of a variance that is not exp(logvar)?")
        _gradients(chk, got, expected, [m, lv], given, ["mu", "logvar"], "the KL is a loss term: " + _NO_GRAD)
    chk.passed()


# ---------------------------------------------------------------- the Bernoulli log-likelihood (Exercise 3)
def _bll_probs(p: Tensor, x: Tensor) -> Tensor:
    return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(dim=1)


def check_bernoulli_log_likelihood(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(logits, x), each (N, C, H, W) with x in [0, 1] -> log p(x | z) per image, summed over pixels: (N,),
    sum_p [x_p log sigmoid(l_p) + (1 - x_p) log(1 - sigmoid(l_p))], computed stably from the logits."""
    gen = torch.Generator().manual_seed(73)
    shapes = [(2, 1, 4, 4), (3, 1, 5, 3), (2, 3, 3, 3)]
    cases = [(3 * torch.randn(s, generator=gen), torch.rand(s, generator=gen), f"{s}, grey levels in [0, 1]")
             for s in shapes]
    cases.append((torch.tensor([[[[60.0, -60.0], [60.0, 2.0]]], [[[-60.0, 60.0], [0.5, -1.0]]]]),
                  torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]], [[[1.0, 1.0], [0.0, 0.3]]]]),
                  "(2, 1, 2, 2), binary and grey"))
    chk = _Check("check_bernoulli_log_likelihood", "log p(x | z) of a Bernoulli decoder, from its logits", fn,
                 len(cases))
    for case, (logits, x, text) in enumerate(cases, 1):
        n = len(x)
        extreme = case == len(cases)
        got, (lg,), given = _run(chk, case, (logits, x), ("logits", "x"), (True, False),
                                 "the likelihood is computed, not sampled.", logits=logits,
                                 x=x if extreme else text)
        expected = bernoulli_log_likelihood(lg, x)  # (N,)
        if extreme:
            nan_hint = ("with logits of +-60, sigmoid(60) rounds to exactly 1 in float32, so log(1 - sigmoid(60)) = "
                        "log(0) = -inf (and 0 * -inf = NaN). Stay with logits: log sigmoid(l) = F.logsigmoid(l) and "
                        "log(1 - sigmoid(l)) = F.logsigmoid(-l), or -F.binary_cross_entropy_with_logits(l, x, "
                        "reduction='none'), exact for any l.")
            fallback = ("right on moderate logits, wrong on logits of +-60: a clamp (F.binary_cross_entropy clamps its "
                        "logs at -100, a clamp of the probability to [eps, 1 - eps] does too) or a sigmoid rounded to "
                        "1 loses the exact value. Use F.logsigmoid or F.binary_cross_entropy_with_logits on the "
                        "logits.")
        else:
            nan_hint = ("the logits are any real numbers, not probabilities: log(logits) or log(1 - logits) is NaN for "
                        "a logit outside (0, 1). The probability is sigmoid(l); better, stay with logits "
                        "(F.logsigmoid, F.binary_cross_entropy_with_logits).")
            fallback = ""
        pixels = x[0].numel()
        bce = -expected.detach()
        _values(chk, got, expected, [
            ("this is the binary cross-entropy, the NEGATIVE log-likelihood: the log-likelihood is its negative, "
             "-F.binary_cross_entropy_with_logits(l, x, reduction='none') summed over pixels.", bce),
            (f"the mean over the {pixels} pixels of each image: log p(x | z) of an image is the SUM of its pixels' "
             f"terms (the pixels are independent given z).", -bce / pixels),
            ("the logits were treated as probabilities: the probability is sigmoid(l), or better stay with logits.",
             _bll_probs(logits.clamp(1e-6, 1 - 1e-6), x)),
            (_SIGMOID_TWICE, -F.binary_cross_entropy_with_logits(torch.sigmoid(logits), x, reduction="none")
             .flatten(1).sum(dim=1)),
        ], {(): "summed (or averaged) over the batch too: return one log-likelihood per image, shape (N,).",
            tuple(x.shape): "one term per pixel: sum them over every dimension but the batch, "
                            ".flatten(1).sum(dim=1), shape (N,).",
            tuple(x.shape[:2]): "summed over the height and width only: sum over the channels too, shape (N,)."},
            f"one log-likelihood per image: shape {(n,)}.", nan_hint, fallback)
        _gradients(chk, got, expected, [lg], given[:1], ["logits"], "the likelihood trains the decoder: " + _NO_GRAD)
    chk.passed()

"""Checks for chapter 01, GAN theory: the losses on logits, D*, the JSD and V(D*, G),
mode coverage, and one discriminator step."""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import GaussianMixture
from ..losses import d_loss_bce, g_loss_minimax, g_loss_nonsaturating
from ..metrics import mode_stats
from ..nets import MLPDiscriminator, MLPGenerator
from .core import _SIGMOID_TWICE, _Check, _check_loss, _close, _finite, _t

# ---------------------------------------------------------------- losses on logits (Exercises 1-3)
_REAL = [_t(2.0, -1.0, 0.5, 3.0), _t(0.3, -2.5, 1.2, 4.0, -0.7, 0.0), _t(-3.0, -4.0, -1.0), _t(4.0, 3.5, 5.0, 2.0), _t(0.0)]
_FAKE = [_t(-1.5, 0.3, -2.0, 1.0), _t(-0.4, 1.5, -3.0), _t(2.0, 3.0, -0.5, 1.0, 0.7), _t(-4.0, -3.0, -5.0, -2.5), _t(0.0)]
_G_FAKE = [(_t(-2.0, -0.5, 0.0, 1.0, 2.5),), (_t(-3.0, -4.0, -1.5),), (_t(3.0, 4.0, 0.5, 1.5, 2.0, 1.0, 0.2, -0.1),),
           (_t(-5.0, 5.0),)]


def _sp(x: Tensor) -> Tensor:
    """mean softplus(x): -E[log(1 - sigmoid(x))], and with -x, -E[log sigmoid(x)]."""
    return F.softplus(x).mean()


def _smoothed(y_real: float, y_fake: float) -> Callable[[Tensor, Tensor], Tensor]:
    """The cross-entropy D loss with soft labels y_real and y_fake (bce(l, y) = softplus(l) - y l)."""
    return lambda r, f: (F.softplus(r) - y_real * r).mean() + (F.softplus(f) - y_fake * f).mean()


def check_d_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(real_logits, fake_logits) -> -E[log D(x)] - E[log(1 - D(G(z)))], a scalar tensor."""
    variants = [
        ("the sign is flipped (got = -expected): D maximises V, so its loss is -V.", lambda r, f: -d_loss_bce(r, f)),
        ("real and fake are swapped: real logits take label 1 (the term -log D(x)), fake logits label 0.",
         lambda r, f: d_loss_bce(f, r)),
        ("a sum where a mean belongs: average each term over its batch with .mean().",
         lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum()),
        (_SIGMOID_TWICE, lambda r, f: d_loss_bce(torch.sigmoid(r), torch.sigmoid(f))),
        ("half the expected value: the loss is the SUM of the real mean and the fake mean, not their average.",
         lambda r, f: d_loss_bce(r, f) / 2),
        ("one mean over real and fake together: average each batch separately, then add.",
         lambda r, f: F.softplus(torch.cat([-r, f])).mean()),
        ("only the real term -E[log D(x)]: add the fake term -E[log(1 - D(G(z)))].", lambda r, f: _sp(-r)),
        ("only the fake term -E[log(1 - D(G(z)))]: add the real term -E[log D(x)].", lambda r, f: _sp(f)),
        ("the real term has the wrong sign: it is -E[log D(x)] = mean(softplus(-l_real)), positive like the fake term.",
         lambda r, f: -_sp(-r) + _sp(f)),
        ("the fake term has the wrong sign: it is -E[log(1 - D(G(z)))] = mean(softplus(l_fake)), positive like the "
         "real term.", lambda r, f: _sp(-r) - _sp(f)),
        ("both batches got label 0 (-log(1 - D) for the real logits too): real logits take label 1, -log D(x).",
         lambda r, f: _sp(r) + _sp(f)),
        ("both batches got label 1 (-log D for the fake logits too): fake logits take label 0, -log(1 - D(G(z))).",
         lambda r, f: _sp(-r) + _sp(-f)),
        ("the log of the mean, -log(mean(D(x))) - log(mean(1 - D(G(z)))): the loss is the MEAN OF THE LOGS, "
         "-mean(log D(x)) - mean(log(1 - D(G(z)))); take the log of each example's probability first.",
         lambda r, f: -torch.sigmoid(r).mean().log() - torch.sigmoid(-f).mean().log()),
        *[(f"label smoothing: real label {y} (fake {y_f}); this exercise uses the hard labels 1 for real and 0 for "
           f"fake, as in V(D, G). Smoothing is a training trick, not the loss.", _smoothed(y, y_f))
          for y, y_f in ((0.9, 0.0), (0.95, 0.0), (0.85, 0.0), (0.7, 0.0), (0.9, 0.1), (1.0, 0.1))],
    ]
    _check_loss("check_d_loss", "the discriminator loss", fn, d_loss_bce, list(zip(_REAL, _FAKE)),
                ("real_logits", "fake_logits"), variants, (_t(-20.0, 15.0, 3.0), _t(20.0, -15.0, 0.5)))


def check_g_loss_minimax(fn: Callable[[Tensor], Tensor]) -> None:
    """fn(fake_logits) -> E[log(1 - D(G(z)))], the saturating generator loss, a scalar tensor."""
    variants = [
        ("the sign is flipped (got = -expected): G minimises E[log(1 - D(G(z)))] as it stands.", lambda f: _sp(f)),
        ("this is the non-saturating loss -E[log D(G(z))]; the minimax loss is E[log(1 - D(G(z)))].", lambda f: _sp(-f)),
        ("log D(G(z)) where log(1 - D(G(z))) belongs.", lambda f: -_sp(-f)),
        ("a sum where a mean belongs: use .mean().", lambda f: -F.softplus(f).sum()),
        (_SIGMOID_TWICE, lambda f: -_sp(torch.sigmoid(f))),
        ("the log of the mean, log(mean(1 - D(G(z)))): the loss is the MEAN OF THE LOGS, mean(log(1 - D(G(z)))); "
         "take the log of each example's probability first.", lambda f: torch.sigmoid(-f).mean().log()),
    ]
    _check_loss("check_g_loss_minimax", "the minimax (saturating) generator loss", fn, g_loss_minimax, _G_FAKE,
                ("fake_logits",), variants, (_t(20.0, -20.0, 1.0),))


def check_g_loss_nonsaturating(fn: Callable[[Tensor], Tensor]) -> None:
    """fn(fake_logits) -> -E[log D(G(z))], the non-saturating generator loss, a scalar tensor."""
    variants = [
        ("the sign is flipped (got = -expected): G minimises -E[log D(G(z))].", lambda f: -_sp(-f)),
        ("the fakes got label 0, as in D's loss; G wants D to call them real (label 1): -E[log D(G(z))].",
         lambda f: _sp(f)),
        ("this is the minimax loss E[log(1 - D(G(z)))]; the non-saturating loss is -E[log D(G(z))].",
         lambda f: -_sp(f)),
        ("a sum where a mean belongs: use .mean().", lambda f: F.softplus(-f).sum()),
        (_SIGMOID_TWICE, lambda f: _sp(-torch.sigmoid(f))),
        ("the log of the mean, -log(mean(D(G(z)))): the loss is the MEAN OF THE LOGS, -mean(log D(G(z))); take the "
         "log of each example's probability first.", lambda f: -torch.sigmoid(f).mean().log()),
        ("label smoothing: G's target label is 1, as in -E[log D(G(z))]; a soft label belongs (if anywhere) to D's "
         "real examples.", lambda f: (F.softplus(f) - 0.9 * f).mean()),
    ]
    _check_loss("check_g_loss_nonsaturating", "the non-saturating generator loss", fn, g_loss_nonsaturating, _G_FAKE,
                ("fake_logits",), variants, (_t(-20.0, 20.0, 1.0),))


# ---------------------------------------------------------------- D*, JSD and V(D*, G) (Exercises 4-6)
def check_optimal_discriminator(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(p_data, p_g) -> D*(x) = p_data / (p_data + p_g), elementwise (wherever p_data + p_g > 0)."""
    cases = [(_t(0.1, 0.5, 0.2, 0.05), _t(0.3, 0.5, 0.05, 0.2)), (_t(0.4, 0.0, 0.25, 1.2), _t(0.0, 0.3, 0.25, 0.0)),
             (torch.tensor([[0.05, 0.4, 0.0], [2.0, 0.1, 0.3]]), torch.tensor([[0.2, 0.1, 0.7], [0.5, 0.0, 0.3]]))]
    chk = _Check("check_optimal_discriminator", "the optimal discriminator D*", fn, len(cases))
    for case, (p, q) in enumerate(cases, 1):
        expected = p / (p + q)
        got = chk.call(case, p.clone(), q.clone(), p_data=p, p_g=q)
        if not isinstance(got, (Tensor, np.ndarray)):
            chk.fail("It must return a tensor (or array), one value per point.", expected, got,
                     f"your function returned a {type(got).__name__}; compute elementwise, without summing.")
        if tuple(got.shape) != tuple(expected.shape):
            chk.fail(f"It returned shape {tuple(got.shape)}; D* has the shape of its inputs.", expected, got,
                     "D* is computed point by point: no sum, mean or flatten.")
        if not _close(got, expected):
            chk.mismatch(expected, got, [
                ("p_data and p_g are swapped: D* = p_data / (p_data + p_g) (you got 1 - D*).", 1 - expected),
                ("D*(x) is 1/2 only where p_data = p_g.", torch.full_like(expected, 0.5)),
                ("p_data / p_g is the likelihood ratio, not D*: divide by the sum p_data + p_g.", p / q),
                ("normalised by totals over all points: D* is elementwise.", p / (p.sum() + q.sum())),
                ("sigmoid(p_data - p_g): D* = sigmoid(log p_data - log p_g), the difference of the LOG densities "
                 "(the logit of D* is the log-likelihood ratio).", torch.sigmoid(p - q)),
            ], fallback="" if _finite(got) else "NaN or inf: where p_g = 0 and p_data > 0, D* = 1 (only real data is "
                                                "there); where p_data = 0, D* = 0.")
    chk.passed()


def _kl(p: Tensor, q: Tensor) -> Tensor:
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum()  # sum p log(p / q), with 0 log 0 = 0


def _jsd(p: Tensor, q: Tensor) -> Tensor:
    m = (p + q) / 2
    return (_kl(p, m) + _kl(q, m)) / 2


_DISTRIBUTIONS = [(_t(0.5, 0.5), _t(0.9, 0.1)), (_t(0.2, 0.3, 0.5), _t(0.6, 0.3, 0.1)), (_t(0.25, 0.25, 0.25, 0.25),) * 2,
                  (_t(0.5, 0.5, 0.0), _t(0.0, 0.5, 0.5)), (_t(1.0, 0.0), _t(0.0, 1.0))]
_DISTRIBUTIONS = [(p.double(), q.double()) for p, q in _DISTRIBUTIONS]


def _check_divergence(name: str, task: str, fn: Callable, ref: Callable, variants: Callable) -> None:
    chk = _Check(name, task, fn, len(_DISTRIBUTIONS))
    for case, (p, q) in enumerate(_DISTRIBUTIONS, 1):
        expected = ref(p, q)
        has_zero = bool((p == 0).any() or (q == 0).any())
        got = chk.scalar(chk.call(case, p.clone(), q.clone(), p=p, q=q), expected, nan_hint="a term 0 * log 0 must "
                         "count as 0: use torch.xlogy(p, ...) or keep only the entries where p > 0." if has_zero else "")
        if not _close(got, expected, atol=1e-6):
            chk.mismatch(expected, got, [(d, w) for d, w in variants(p, q) if _finite(w)])
    chk.passed()


def check_jsd(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(p, q) -> JSD(p || q) of two discrete distributions, in nats (natural log)."""
    def variants(p: Tensor, q: Tensor) -> list[tuple[str, Tensor]]:
        m, jsd = (p + q) / 2, _jsd(p, q)
        return [("log base 2 (bits): use the natural log, torch.log; JSD is at most log 2 = 0.6931 nats.", jsd / math.log(2)),
                ("missing factor 1/2: JSD = (KL(p||m) + KL(q||m)) / 2.", 2 * jsd),
                ("the Jensen-Shannon DISTANCE sqrt(JSD), as scipy's jensenshannon returns it: square it.", jsd.sqrt()),
                ("KL(p || q) instead of JSD: compare each distribution with the mixture m = (p + q) / 2.", _kl(p, q)),
                ("KL(q || p) instead of JSD: compare each distribution with the mixture m = (p + q) / 2.", _kl(q, p)),
                ("only one KL term: JSD = (KL(p||m) + KL(q||m)) / 2 uses both.", _kl(p, m)),
                ("the mixture is m = (p + q) / 2, not p + q.", jsd - math.log(2)),
                ("only half of one KL term: JSD = (KL(p||m) + KL(q||m)) / 2 uses both.", _kl(p, m) / 2),
                ("the KL terms are the wrong way round: KL(p || m) sums p log(p / m).", (_kl(m, p) + _kl(m, q)) / 2),
                ("a mean over the outcomes where KL has a SUM (F.kl_div's default reduction='mean' divides by the "
                 "number of entries): use .sum(), or F.kl_div(m.log(), p, reduction='sum').", jsd / len(p)),
                ("F.kl_div(input, target) wants the LOG-probabilities log m as its input (and p as target): "
                 "F.kl_div(m.log(), p, reduction='sum') is KL(p || m).",
                 ((torch.xlogy(p, p) - p * m).sum() + (torch.xlogy(q, q) - q * m).sum()) / 2),
                ("F.kl_div(input, target) computes KL(target || exp(input)): with input = p.log() and target = m "
                 "it is KL(m || p); pass F.kl_div(m.log(), p, reduction='sum').",
                 (_kl(m, p) + _kl(m, q)) / 2 / len(p))]
    _check_divergence("check_jsd", "the Jensen-Shannon divergence", fn, _jsd, variants)


def check_value_at_optimum(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(p, q) -> V(D*, G) = sum p log D* + sum q log(1 - D*) = -log 4 + 2 JSD(p || q), in nats."""
    def variants(p: Tensor, q: Tensor) -> list[tuple[str, Tensor]]:
        jsd, value = _jsd(p, q), 2 * _jsd(p, q) - math.log(4)
        return [("log base 2: use the natural log; the smallest value is -log 4 = -1.3863.", value / math.log(2)),
                ("missing factor 2: V(D*, G) = -log 4 + 2 JSD.", jsd - math.log(4)),
                ("missing -log 4: V(D*, G) = -log 4 + 2 JSD.", 2 * jsd),
                ("+log 4 where -log 4 belongs: at p = q, D* = 1/2 and V = 2 log(1/2) = -log 4.", 2 * jsd + math.log(4)),
                ("D* and 1 - D* are swapped: p is weighted by log D*, q by log(1 - D*).",
                 (torch.xlogy(p, q / (p + q)) + torch.xlogy(q, p / (p + q))).sum()),
                ("KL instead of JSD: V(D*, G) = -log 4 + 2 JSD(p || q).", 2 * _kl(p, q) - math.log(4))]
    _check_divergence("check_value_at_optimum", "the value of the game at D*", fn,
                      lambda p, q: 2 * _jsd(p, q) - math.log(4), variants)


# ---------------------------------------------------------------- mode coverage (Exercise 7)
def _around(modes: Tensor, spec: list[tuple[int, float, float]]) -> Tensor:
    """Points at (mode index, distance, angle in degrees) from the given modes."""
    k, r, a = (torch.tensor(c, dtype=torch.float32) for c in zip(*spec))
    return modes[k.long()] + r[:, None] * torch.stack([torch.cos(a * math.pi / 180), torch.sin(a * math.pi / 180)], 1)


def _coverage(samples: Tensor, modes: Tensor, thr: float, squared: bool = False, box: bool = False,
              any_nearest: bool = False, per_mode: bool = False) -> tuple[int, float]:
    """Mode coverage with one switchable mistake, to recognise it."""
    d, idx = torch.cdist(samples, modes).min(1)
    if per_mode:  # a mode is covered by any sample within thr of it, nearest or not
        return int((torch.cdist(samples, modes) <= thr).any(0).sum()), float((d <= thr).float().mean())
    good = (samples - modes[idx]).abs().amax(1) <= thr if box else (d**2 if squared else d) <= thr
    return len(idx.unique() if any_nearest else idx[good].unique()), float(good.float().mean())


def check_mode_coverage(fn: Callable[[Tensor, Tensor, float], tuple[int, float]]) -> None:
    """fn(samples (N, 2), modes (K, 2), sigma) -> (modes_covered, high_quality_fraction), as metrics.mode_stats."""
    ring = torch.stack([torch.cos(torch.arange(8) * math.pi / 4), torch.sin(torch.arange(8) * math.pi / 4)], 1)
    grid = torch.cartesian_prod(torch.arange(3.0) * 2 - 2, torch.arange(3.0) * 2 - 2)
    g = torch.Generator().manual_seed(0)
    # Case 1 has a trap for each mistake: at 3 sigma = 0.15, a point at 0.1 (not within sigma), one at 0.25 (within
    # 3 sigma when squared), one at (0.12, 0.12) (inside a box, outside the circle), one at 0.5 (nearest, not good).
    traps = _around(ring, [(0, 0.0, 0), (0, 0.03, 10), (0, 0.03, 200), (1, 0.1, 45), (2, 0.25, 90), (4, 0.5, 180),
                           (5, 0.02, 0), (6, 0.02, 90), (7, 0.02, 300)])
    # Case 6: modes 0 and 1 are 0.2 apart, closer than 6 sigma = 0.3: the samples near mode 0 lie within 3 sigma
    # of mode 1 too, but mode 0 is their nearest mode, so mode 1 is not covered.
    close = torch.tensor([[0.0, 0.0], [0.2, 0.0], [2.0, 2.0]])
    close_samples = torch.tensor([[0.06, 0.0], [0.07, 0.02], [-0.05, 0.03], [2.03, 1.98], [2.0, 2.1], [1.2, 1.2]])
    cases = [(torch.cat([traps, ring[3:4] + 0.12]), ring, 0.05),
             (grid[torch.randint(0, 4, (40,), generator=g)] + 0.1 * torch.randn(40, 2, generator=g), grid, 0.1),
             (ring[2] + 0.01 * torch.randn(30, 2, generator=g), ring, 0.01),
             (torch.full((10, 2), 0.05), ring, 0.01),
             (ring[torch.randint(0, 8, (200,), generator=g)] + 0.01 * torch.randn(200, 2, generator=g), ring, 0.01),
             (close_samples, close, 0.05)]
    chk = _Check("check_mode_coverage", "modes covered and high-quality fraction", fn, len(cases))
    for case, (samples, modes, sigma) in enumerate(cases, 1):
        stats = mode_stats(samples, GaussianMixture("check", modes, sigma))
        expected = (stats["modes_covered"], stats["high_quality"])
        got = chk.call(case, samples.clone(), modes.clone(), sigma, samples=samples, modes=modes, sigma=sigma)
        if isinstance(got, dict) or not isinstance(got, (tuple, list)) or len(got) != 2:
            chk.fail("It must return a pair (modes_covered, high_quality_fraction).", expected, got,
                     "return the two numbers as a tuple, e.g. `return covered, fraction`." if isinstance(got, dict) else "")
        try:
            got = (float(got[0]), float(got[1]))
        except (TypeError, ValueError, RuntimeError):
            chk.fail("Both entries must be numbers.", expected, tuple(got))
        got = (int(got[0]) if got[0].is_integer() else got[0], got[1])
        if got[0] != expected[0] or abs(got[1] - expected[1]) > 1e-6:
            chk.mismatch(expected, got, [
                ("the pair is in the wrong order: return (modes_covered, high_quality_fraction).", expected[::-1]),
                ("a mode counts as covered only if a HIGH-QUALITY sample (within 3 sigma) is nearest to it, "
                 "not any nearest sample.", (_coverage(samples, modes, 3 * sigma, any_nearest=True)[0], expected[1])),
                ("a sample counts only for its NEAREST mode: here modes 0 and 1 are closer than 6 sigma, so samples "
                 "near mode 0 lie within 3 sigma of mode 1 too, yet mode 1 is not covered. Find each sample's nearest "
                 "mode (argmin over the distances), then count the modes that a high-quality sample has as nearest.",
                 _coverage(samples, modes, 3 * sigma, per_mode=True)),
                ("the threshold is 3 sigma, not sigma.", _coverage(samples, modes, sigma)),
                ("the SQUARED distance compared with 3 sigma: compare the distance (or square both sides).",
                 _coverage(samples, modes, 3 * sigma, squared=True)),
                ("a per-coordinate distance (a box): use the Euclidean distance to the nearest mode.",
                 _coverage(samples, modes, 3 * sigma, box=True)),
                ("the fraction is over ALL samples, not over the high-quality ones.",
                 (expected[0], 1.0 if expected[1] else 0.0)),
                ("the fraction is a number in [0, 1], not a percentage.", (expected[0], 100 * expected[1])),
                ("modes_covered is a count of modes, not a fraction of them.", (expected[0] / len(modes), expected[1])),
            ])
    chk.passed()


# ---------------------------------------------------------------- one discriminator step (Exercise 8)
def _d_change(D: torch.nn.Module, G: torch.nn.Module, real: Tensor, z: Tensor, loss_fn: Callable, lr: float,
              stale: float = 0.0) -> Tensor:
    """How one SGD step on loss_fn changes D's parameters (flattened); ``stale`` adds leftover gradients."""
    loss = loss_fn(D(real), D(G(z).detach()))
    return -lr * torch.cat([(g + stale).flatten() for g in torch.autograd.grad(loss, list(D.parameters()))])


def _flat(module: torch.nn.Module) -> Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _d_step_change(chk: _Check, G: torch.nn.Module, G0: torch.nn.Module, D: torch.nn.Module,
                   D0: torch.nn.Module) -> Tensor:
    """After a student's discriminator step: G untouched, trainable and without gradients, D changed; returns
    D's change."""
    for who, module in (("G", G), ("D", D)):
        frozen = [name for name, p in module.named_parameters() if not p.requires_grad]
        if frozen:
            chk.fail(f"{who}'s parameters {frozen[:3]}{' ...' if len(frozen) > 3 else ''} were left with "
                     f"requires_grad=False.", diagnosis=f"your step froze {who} (requires_grad_(False)) and did not "
                     f"unfreeze it: {who}'s next step would get no gradients. Leave requires_grad alone; to keep "
                     f"gradients out of G, detach the fakes: fake = G(z).detach() (or G(z) under torch.no_grad()).")
    if not torch.equal(_flat(G), _flat(G0)):
        chk.fail("G's parameters changed.", diagnosis="a discriminator step updates D only: opt_d.step(), nothing "
                                                       "for G.")
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters()):
        chk.fail("G's parameters received gradients.", diagnosis="the fakes are not detached: use fake = "
                 "G(z).detach() (or compute G(z) under torch.no_grad()) so that D's loss does not backpropagate "
                 "into the generator.")
    change = _flat(D) - _flat(D0)
    if not change.any():
        chk.fail("D's parameters did not change.", diagnosis="call loss.backward() and then opt_d.step() "
                 "(opt_d.zero_grad() goes before loss.backward(), not between backward and step).")
    return change


def _check_returned_loss(chk: _Check, got: Any, loss_before: float) -> None:
    """A discriminator step returns the loss it stepped on, computed before opt_d.step()."""
    if got is None:
        chk.fail("It returned None.", loss_before, got, "return the loss computed in this step (loss.item()).")
    if isinstance(got, (Tensor, np.ndarray)):
        chk.fail(f"It returned a {type(got).__name__}; the step returns its loss as a Python float.", loss_before,
                 got, "return loss.item(): a tensor that requires grad keeps the whole graph of the step alive "
                      "(memory grows with every step you record), and the training loop logs plain numbers.")
    if not _close(chk.scalar(got, loss_before), loss_before, rtol=1e-3):
        chk.fail("The update is right but the returned loss is not.", loss_before, got,
                 "return the loss you called backward() on, computed before opt_d.step().")


def check_d_step(fn: Callable[..., Any]) -> None:
    """fn(G, D, real, z, opt_d): one discriminator update on real and G(z); returns the loss before it."""
    lr, stale, sizes = 0.1, 0.5, [(8, 8), (12, 6)]
    chk = _Check("check_d_step", "one discriminator step", fn, len(sizes))
    for case, (n_real, n_fake) in enumerate(sizes, 1):
        with torch.random.fork_rng(devices=[]):  # fixed players and batches; the caller's random state is kept
            torch.manual_seed(case)
            G, D = MLPGenerator(latent_dim=2, out_dim=2, width=16, depth=2), MLPDiscriminator(in_dim=2, width=16, depth=2)
            real, z = torch.randn(n_real, 2) + 1.0, torch.randn(n_fake, 2)
        G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
        for p in D.parameters():
            p.grad = torch.full_like(p, stale)  # what an earlier backward pass (e.g. G's step) leaves behind
        opt_d = torch.optim.SGD(D.parameters(), lr=lr)
        with torch.no_grad():
            loss_before = d_loss_bce(D0(real), D0(G0(z))).item()
        got = chk.call(case, G, D, real.clone(), z.clone(), opt_d, G="MLPGenerator(latent_dim=2, width=16, depth=2)",
                       D="MLPDiscriminator(width=16, depth=2)", real=real, z=z,
                       opt_d=f"SGD(D.parameters(), lr={lr}), D's .grad holding {stale} from an earlier backward pass")
        change = _d_step_change(chk, G, G0, D, D0)
        expected = _d_change(D0, G0, real, z, d_loss_bce, lr)
        if not _close(change, expected, rtol=1e-3, atol=1e-7):
            i = int((change - expected).abs().argmax())
            with torch.no_grad():
                after = d_loss_bce(D(real), D(G0(z))).item()
            uphill = f"D's loss on this batch went UP, from {loss_before:.4f} to {after:.4f}. " if after > loss_before else ""
            chk.mismatch(expected, change, [
                ("the gradients of an earlier pass were added: call opt_d.zero_grad() before loss.backward().",
                 _d_change(D0, G0, real, z, d_loss_bce, lr, stale)),
                ("D climbed its loss: minimise d_loss (loss.backward() on the loss itself, not on -loss).",
                 _d_change(D0, G0, real, z, lambda r, f: -d_loss_bce(r, f), lr)),
                ("real and fake are swapped in the loss: it is d_loss(D(real), D(fake)).",
                 _d_change(D0, G0, real, z, lambda r, f: d_loss_bce(f, r), lr)),
                ("a sum where a mean belongs in the loss.",
                 _d_change(D0, G0, real, z, lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), lr)),
            ], fallback=uphill + "the change of D's parameters is not one SGD step on d_loss(D(real), D(G(z))). Use "
                                 "the real batch and the z you are given (draw no new noise) and the loss of Exercise 1.",
                problem=f"Wrong change of D's parameters (new - old); the largest difference is at entry {i}: expected "
                        f"{expected[i]:.5f}, got {change[i]:.5f}.")
        _check_returned_loss(chk, got, loss_before)
    chk.passed()

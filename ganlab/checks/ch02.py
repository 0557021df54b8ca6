"""Checks for chapter 02, the GAN losses: least squares, Wasserstein and hinge losses (Exercises 1-4).
Keeping the critic Lipschitz (Exercises 5-9) is checked in ``ch02_lipschitz``."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..losses import d_loss_hinge, d_loss_lsgan, d_loss_wasserstein, g_loss_lsgan, g_loss_wasserstein
from .core import _check_loss, _t

_NO_NAN = "these losses use no log: NaN or inf means a division or a log crept in; the formula is a plain mean."

_REAL = [_t(2.0, -1.0, 0.5, 3.0), _t(0.3, -2.5, 1.2, 4.0, -0.7, 0.0), _t(-3.0, -0.4, -1.0), _t(0.9, 1.5, 1.1, -0.2)]
_FAKE = [_t(-1.5, 0.3, -2.0, 1.0), _t(-0.4, 1.5, -3.0), _t(2.0, 3.0, -0.5, 1.0, 0.7), _t(-0.8, -1.2, 0.4, -3.0)]
_G_FAKE = [(_t(-2.0, -0.5, 0.0, 1.0, 2.5),), (_t(-3.0, -0.4, -1.5),), (_t(0.9, 1.3, 0.5, 1.5, 2.0, 1.0, 0.2, -0.1),)]


# ---------------------------------------------------------------- least squares (Exercises 1-2)
def check_d_loss_lsgan(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(real_out, fake_out) -> 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2] (targets b = 1 real, a = 0 fake)."""
    variants = [
        ("the targets are swapped: D regresses real outputs on 1 and fake outputs on 0.",
         lambda r, f: 0.5 * r.pow(2).mean() + 0.5 * (f - 1).pow(2).mean()),
        ("missing factor 1/2 on each term.", lambda r, f: 2 * d_loss_lsgan(r, f)),
        ("a sum where a mean belongs: average each term over its batch with .mean().",
         lambda r, f: 0.5 * (r - 1).pow(2).sum() + 0.5 * f.pow(2).sum()),
        ("fake target -1 (the a = -1, b = 1 coding) where this course uses a = 0, b = 1.",
         lambda r, f: 0.5 * (r - 1).pow(2).mean() + 0.5 * (f + 1).pow(2).mean()),
        ("absolute values where squares belong: least squares squares the error.",
         lambda r, f: 0.5 * (r - 1).abs().mean() + 0.5 * f.abs().mean()),
        ("a sigmoid was applied: the least-squares loss regresses D's raw output, no sigmoid.",
         lambda r, f: d_loss_lsgan(torch.sigmoid(r), torch.sigmoid(f))),
        ("only the real term: add 1/2 E[D(G(z))^2].", lambda r, f: 0.5 * (r - 1).pow(2).mean()),
        ("the square of the mean, 1/2 (E[D(x)] - 1)^2: least squares averages the squared errors, "
         "1/2 E[(D(x) - 1)^2].", lambda r, f: 0.5 * (r.mean() - 1) ** 2 + 0.5 * f.mean() ** 2),
        ("only the fake term: add 1/2 E[(D(x) - 1)^2].", lambda r, f: 0.5 * f.pow(2).mean()),
    ]
    _check_loss("check_d_loss_lsgan", "the least-squares discriminator loss", fn, d_loss_lsgan, list(zip(_REAL, _FAKE)),
                ("real_out", "fake_out"), variants, nan_hint=_NO_NAN)


def check_g_loss_lsgan(fn: Callable[[Tensor], Tensor]) -> None:
    """fn(fake_out) -> 1/2 E[(D(G(z)) - 1)^2] (G's target c = 1: it wants its fakes scored as real)."""
    variants = [
        ("target 0 is D's target for fakes: G regresses its fakes on c = 1, 1/2 E[(D(G(z)) - 1)^2].",
         lambda f: 0.5 * f.pow(2).mean()),
        ("missing factor 1/2.", lambda f: (f - 1).pow(2).mean()),
        ("the square of the mean, 1/2 (E[D(G(z))] - 1)^2: least squares averages the squared errors, "
         "1/2 E[(D(G(z)) - 1)^2].", lambda f: 0.5 * (f.mean() - 1) ** 2),
        ("a sum where a mean belongs: use .mean().", lambda f: 0.5 * (f - 1).pow(2).sum()),
        ("a sigmoid was applied: the least-squares loss regresses D's raw output, no sigmoid.",
         lambda f: g_loss_lsgan(torch.sigmoid(f))),
        ("minus D's loss on the fakes: in LSGAN G has its own regression target, not -d_loss.",
         lambda f: -0.5 * f.pow(2).mean()),
    ]
    _check_loss("check_g_loss_lsgan", "the least-squares generator loss", fn, g_loss_lsgan, _G_FAKE, ("fake_out",),
                variants, nan_hint=_NO_NAN)


# ---------------------------------------------------------------- Wasserstein and hinge (Exercises 3-4)
def check_d_loss_wasserstein(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(real_out, fake_out) -> E[f(G(z))] - E[f(x)]: the critic minimises minus its W1 estimate."""
    variants = [
        ("abs() of the loss: the critic's loss E[f(G(z))] - E[f(x)] is negative whenever it scores real data higher, "
         "and must be allowed to be; abs() turns the critic away once the sign changes. Return the difference itself.",
         lambda r, f: (f.mean() - r.mean()).abs()),
        ("the signs are swapped: E[f(x)] - E[f(G(z))] is the W1 estimate the critic MAXIMISES; its loss (minimised) "
         "is E[f(G(z))] - E[f(x)].", lambda r, f: r.mean() - f.mean()),
        ("a log or sigmoid was applied: the Wasserstein critic's raw scores enter the loss as they are.",
         lambda r, f: F.softplus(f).mean() + F.softplus(-r).mean()),
        ("a sum where a mean belongs.", lambda r, f: f.sum() - r.sum()),
        ("only the fake term: subtract E[f(x)].", lambda r, f: f.mean()),
        ("only the real term: add E[f(G(z))].", lambda r, f: -r.mean()),
    ]
    pairs = list(zip(_REAL, _FAKE))  # case 1 has a positive loss: there abs() is right and a swapped sign is not
    _check_loss("check_d_loss_wasserstein", "the Wasserstein critic loss", fn, d_loss_wasserstein,
                [pairs[2], pairs[0], pairs[1], pairs[3]], ("real_out", "fake_out"), variants, nan_hint=_NO_NAN)


def check_g_loss_wasserstein(fn: Callable[[Tensor], Tensor]) -> None:
    """fn(fake_out) -> -E[f(G(z))]: G raises the critic's score of its samples."""
    variants = [
        ("abs() of the loss: -E[f(G(z))] is negative once the critic scores the fakes above 0, and must be allowed "
         "to be; return -fake_out.mean() itself.", lambda f: f.mean().abs()),
        ("the sign is flipped: G minimises -E[f(G(z))], which raises the critic's score of its fakes.",
         lambda f: f.mean()),
        ("a log or sigmoid was applied: the critic's raw scores enter the loss as they are.",
         lambda f: F.softplus(-f).mean()),
        ("a sum where a mean belongs.", lambda f: -f.sum()),
    ]
    _check_loss("check_g_loss_wasserstein", "the Wasserstein generator loss", fn, g_loss_wasserstein,
                [_G_FAKE[1], _G_FAKE[0], _G_FAKE[2]], ("fake_out",), variants, nan_hint=_NO_NAN)


def check_d_loss_hinge(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(real_out, fake_out) -> E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    variants = [
        ("real and fake are swapped: real scores pay when below +1, relu(1 - D(x)); fakes when above -1, "
         "relu(1 + D(G(z))).", lambda r, f: d_loss_hinge(f, r)),
        ("the margins are missing: that is the Wasserstein critic loss; hinge clips each term with relu(1 - ...) "
         "and relu(1 + ...).", lambda r, f: f.mean() - r.mean()),
        ("the relu is missing: without max(0, .) scores beyond the margin keep being pushed.",
         lambda r, f: (1 - r).mean() + (1 + f).mean()),
        ("the signs inside the relus are wrong: relu(1 - D(x)) for real, relu(1 + D(G(z))) for fake.",
         lambda r, f: F.relu(1 + r).mean() + F.relu(1 - f).mean()),
        ("a sum where a mean belongs.", lambda r, f: F.relu(1 - r).sum() + F.relu(1 + f).sum()),
        ("relu of the mean, relu(1 - mean(D(x))): the hinge applies to EACH score, then the mean, "
         "mean(relu(1 - D(x))); scores beyond the margin must stop counting one by one.",
         lambda r, f: F.relu(1 - r.mean()) + F.relu(1 + f.mean())),
        ("half the expected value: the loss is the SUM of the two means, not their average.",
         lambda r, f: d_loss_hinge(r, f) / 2),
        ("only the real term: add E[relu(1 + D(G(z)))].", lambda r, f: F.relu(1 - r).mean()),
        ("only the fake term: add E[relu(1 - D(x))].", lambda r, f: F.relu(1 + f).mean()),
    ]
    _check_loss("check_d_loss_hinge", "the hinge discriminator loss", fn, d_loss_hinge, list(zip(_REAL, _FAKE)),
                ("real_out", "fake_out"), variants, nan_hint=_NO_NAN)


def check_g_loss_hinge(fn: Callable[[Tensor], Tensor]) -> None:
    """fn(fake_out) -> -E[D(G(z))]: in the hinge game only D has the hinge; G's loss is linear."""
    variants = [
        ("abs() of the loss: -E[D(G(z))] is negative once D scores the fakes above 0; return it as it is.",
         lambda f: f.mean().abs()),
        ("the hinge was applied to G: relu(1 - D(G(z))) stops pushing once a fake scores above 1. In the hinge game "
         "only D's loss has margins; G minimises -E[D(G(z))].", lambda f: F.relu(1 - f).mean()),
        ("D's fake term was used for G: G does not minimise relu(1 + D(G(z))); it minimises -E[D(G(z))].",
         lambda f: F.relu(1 + f).mean()),
        ("the sign is flipped: G minimises -E[D(G(z))].", lambda f: f.mean()),
        ("a sum where a mean belongs.", lambda f: -f.sum()),
    ]
    _check_loss("check_g_loss_hinge", "the hinge generator loss", fn, g_loss_wasserstein,
                [_G_FAKE[1], _G_FAKE[0], _G_FAKE[2]], ("fake_out",), variants, nan_hint=_NO_NAN)

"""GAN losses, written on the discriminator's raw output.

For the cross-entropy losses the output is a logit l: D(x) = sigmoid(l(x)). Working on
logits is exact and stable: log D = -softplus(-l) and log(1 - D) = -softplus(l), with no
sigmoid that can saturate to 0 or 1 in floating point. For the least-squares, Wasserstein
and hinge losses the same raw output is the score itself (a "critic"). Every loss below is
a mean over the batch, and every one is *minimised* by the player it belongs to.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate


def _check_logits(logits: Tensor, what: str) -> None:
    """A non-empty float tensor of D's raw outputs; not read (NaN is left to fit's divergence guard)."""
    validate.tensor(what, logits, finite=False)


# The discriminator maximises V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]
# (Goodfellow et al. 2014, eq. 1); we minimise -V, which is binary cross-entropy with
# label 1 for real and 0 for fake.
def d_loss_bce(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: the discriminator's side of the minimax game."""
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))]: the generator's side of the original, saturating game."""
    _check_logits(fake_logits, "fake_logits")
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    """-E[log D(G(z))]: same fixed point, strong gradients when D rejects the fakes."""
    _check_logits(fake_logits, "fake_logits")
    return F.softplus(-fake_logits).mean()


# Least squares (Mao et al. 2017, eq. 2 with a = 0, b = c = 1): both players regress D's raw
# output on targets, D towards 1 on real and 0 on fake, G towards 1 on its fakes.
def d_loss_lsgan(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    _check_logits(real_out, "real_out")
    _check_logits(fake_out, "fake_out")
    return 0.5 * (real_out - 1).pow(2).mean() + 0.5 * fake_out.pow(2).mean()


def g_loss_lsgan(fake_out: Tensor) -> Tensor:
    """1/2 E[(D(G(z)) - 1)^2]."""
    _check_logits(fake_out, "fake_out")
    return 0.5 * (fake_out - 1).pow(2).mean()


# Wasserstein (Arjovsky et al. 2017): the critic f maximises E[f(x)] - E[f(G(z))] over
# 1-Lipschitz functions (Kantorovich-Rubinstein duality); G maximises E[f(G(z))].
def d_loss_wasserstein(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """E[f(G(z))] - E[f(x)]: minus the critic's estimate of the Wasserstein-1 distance."""
    _check_logits(real_out, "real_out")
    _check_logits(fake_out, "fake_out")
    return fake_out.mean() - real_out.mean()


def g_loss_wasserstein(fake_out: Tensor) -> Tensor:
    """-E[f(G(z))]; also the generator's loss for the hinge game (Lim & Ye 2017; Miyato et al. 2018)."""
    _check_logits(fake_out, "fake_out")
    return -fake_out.mean()


def d_loss_hinge(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (Lim & Ye 2017)."""
    _check_logits(real_out, "real_out")
    _check_logits(fake_out, "fake_out")
    return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()


def _check_penalty_inputs(D: nn.Module, real: Tensor, fake: Tensor | None) -> None:
    if not callable(D):
        raise TypeError(f"D must be the discriminator (a module or function x -> D(x)), got {type(D).__name__}")
    validate.tensor("real", real, finite=False)
    if fake is not None and validate.tensor("fake", fake, finite=False).shape != real.shape:
        raise ValueError(f"fake should have the shape of real, {tuple(real.shape)}, got {tuple(fake.shape)}")


def _input_gradients(D: nn.Module, x: Tensor) -> Tensor:
    """dD/dx for each example, flattened to (N, everything else), kept in the graph."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)  # create_graph: the penalty is trained
    return grad.flatten(1)


def gradient_penalty(D: nn.Module, real: Tensor, fake: Tensor, weight: float = 10.0) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017, eq. 3): weight * E[(||grad D(x_hat)||_2 - 1)^2] at random
    interpolates x_hat = eps x + (1 - eps) G(z), one eps ~ U[0, 1] per example."""
    _check_penalty_inputs(D, real, fake)
    validate.number("weight", weight, low=0)
    eps = torch.rand(len(real), *([1] * (real.ndim - 1)), device=real.device, dtype=real.dtype)
    x_hat = eps * real.detach() + (1 - eps) * fake.detach()
    norms = _input_gradients(D, x_hat).norm(2, dim=1)  # (N,): one norm per example, not per batch
    return weight * (norms - 1).pow(2).mean()


def r1_penalty(D: nn.Module, real: Tensor, fake: Tensor | None = None, gamma: float = 10.0) -> Tensor:
    """R1 (Mescheder et al. 2018, eq. 9): gamma/2 * E[||grad D(x)||^2] on real data only."""
    _check_penalty_inputs(D, real, None)  # fake is accepted, and unused, so that every penalty is (D, real, fake)
    validate.number("gamma", gamma, low=0)
    return 0.5 * gamma * _input_gradients(D, real).pow(2).sum(dim=1).mean()


@dataclass(frozen=True)
class GANLoss:
    """A pair of losses, one per player, both minimised, and what keeps D in check."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]  # (real_out, fake_out) -> scalar
    g_loss: Callable[[Tensor], Tensor]  # fake_out -> scalar
    about: str
    penalty: Optional[Callable[[nn.Module, Tensor, Tensor], Tensor]] = None  # (D, real, fake) -> added to D's loss
    clip: Optional[float] = None  # clamp every weight of D to [-clip, clip] after each D step
    logits: bool = True  # is D's output a logit (D = sigmoid(output)), or a critic's score?

    def __post_init__(self) -> None:
        for field in ("d_loss", "g_loss") + (("penalty",) if self.penalty is not None else ()):
            if not callable(getattr(self, field)):
                raise TypeError(f"{field} must be a function, got {type(getattr(self, field)).__name__}")
        if self.clip is not None:
            validate.number("clip", self.clip, low=0, low_open=True)


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss(
        "minimax", d_loss_bce, g_loss_minimax,
        "Goodfellow et al. 2014, the game as written: G minimises log(1 - D(G(z))). Saturates early in training.",
    ),
    "nonsaturating": GANLoss(
        "nonsaturating", d_loss_bce, g_loss_nonsaturating,
        "Goodfellow et al. 2014, the variant used in practice: G minimises -log D(G(z)).",
    ),
    "lsgan": GANLoss(
        "lsgan", d_loss_lsgan, g_loss_lsgan,
        "Mao et al. 2017: least squares for both players, targets 1 (real) and 0 (fake) for D, 1 for G.",
        logits=False,
    ),
    "wgan": GANLoss(
        "wgan", d_loss_wasserstein, g_loss_wasserstein,
        "Arjovsky et al. 2017: Wasserstein critic kept Lipschitz by clipping its weights to [-0.01, 0.01].",
        clip=0.01, logits=False,
    ),
    "wgan-gp": GANLoss(
        "wgan-gp", d_loss_wasserstein, g_loss_wasserstein,
        "Gulrajani et al. 2017: Wasserstein critic with a gradient penalty (weight 10) at random interpolates.",
        penalty=gradient_penalty, logits=False,
    ),
    "hinge": GANLoss(
        "hinge", d_loss_hinge, g_loss_wasserstein,
        "Lim & Ye 2017; Miyato et al. 2018: hinge loss for D, -E[D(G(z))] for G.",
        logits=False,
    ),
    "r1": GANLoss(
        "r1", d_loss_bce, g_loss_nonsaturating,
        "Mescheder et al. 2018: non-saturating loss with the R1 penalty (gamma 10) on D's gradient at real data.",
        penalty=r1_penalty,
    ),
}


def with_penalty_weight(loss: GANLoss, weight: float) -> GANLoss:
    """``loss`` with its penalty's weight (WGAN-GP's lambda, R1's gamma) set to ``weight``."""
    validate.instance("loss", loss, GANLoss, "a GANLoss, e.g. get_loss('r1')")
    if loss.penalty is None:
        with_penalty = sorted(name for name, other in LOSSES.items() if other.penalty is not None)
        raise ValueError(f"loss {loss.name!r} has no penalty to weight; the losses with one are {with_penalty}")
    validate.number("the penalty weight", weight, low=0)
    key = "gamma" if loss.penalty is r1_penalty else "weight"
    return GANLoss(loss.name, loss.d_loss, loss.g_loss, loss.about,
                   functools.partial(loss.penalty, **{key: weight}), loss.clip, loss.logits)


def d_loss_bce_smoothed(real_logits: Tensor, fake_logits: Tensor, real_label: float = 0.9) -> Tensor:
    """D's cross-entropy with the target ``real_label`` (not 1) for real data and 0 for fakes."""
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    real_term = real_label * F.softplus(-real_logits) + (1 - real_label) * F.softplus(real_logits)
    return real_term.mean() + F.softplus(fake_logits).mean()


def with_label_smoothing(loss: GANLoss, real_label: float = 0.9) -> GANLoss:
    """``loss`` with one-sided label smoothing: D's target for real data is ``real_label``, for fakes still 0.

    Salimans et al. 2016 (arXiv:1606.03498, sec. 3.4): the optimal D becomes
    real_label * p_data / (p_data + p_g), so D is kept from growing arbitrarily confident on real
    data. Only the real side is smoothed: a fake target above 0 would give
    D* = (real_label p_data + fake_label p_g) / (p_data + p_g), which no longer pushes the samples
    where p_data = 0 and p_g > 0 back towards the data.
    """
    validate.instance("loss", loss, GANLoss, "a GANLoss, e.g. get_loss('nonsaturating')")
    if loss.d_loss is not d_loss_bce:
        bce = sorted(name for name, other in LOSSES.items() if other.d_loss is d_loss_bce)
        raise ValueError(f"label smoothing changes the target of a cross-entropy; loss {loss.name!r} has none. "
                         f"Use one of {bce}")
    validate.number("real_label", real_label, low=0.5, high=1, low_open=True,
                    hint=" (the target for real data, e.g. 0.9)")
    return GANLoss(f"{loss.name}, real label {real_label:g}", functools.partial(d_loss_bce_smoothed,
                   real_label=real_label), loss.g_loss, loss.about + f" D's target for real data: {real_label:g}.",
                   loss.penalty, loss.clip, loss.logits)


def get_loss(name: str) -> GANLoss:
    """The loss pair called ``name``; see ``LOSSES``."""
    return LOSSES[validate.choice("loss", name, LOSSES)]

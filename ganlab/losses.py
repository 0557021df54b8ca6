"""GAN losses, written on the discriminator's logits.

D(x) = sigmoid(l(x)) where l is the logit the discriminator returns. Working on logits is
exact and stable: log D = -softplus(-l) and log(1 - D) = -softplus(l), with no sigmoid
that can saturate to 0 or 1 in floating point. Every loss below is a mean over the batch,
and every one is *minimised* by the player it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn.functional as F
from torch import Tensor


def _check_logits(logits: Tensor, what: str) -> None:
    if not isinstance(logits, Tensor) or not logits.is_floating_point():
        raise TypeError(f"{what} must be a floating-point tensor of logits, got {type(logits).__name__}")
    if logits.numel() == 0:
        raise ValueError(f"{what} is empty")


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


@dataclass(frozen=True)
class GANLoss:
    """A pair of losses, one per player, both minimised."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]  # (real_logits, fake_logits) -> scalar
    g_loss: Callable[[Tensor], Tensor]  # fake_logits -> scalar
    about: str


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss(
        "minimax", d_loss_bce, g_loss_minimax,
        "Goodfellow et al. 2014, the game as written: G minimises log(1 - D(G(z))). Saturates early in training.",
    ),
    "nonsaturating": GANLoss(
        "nonsaturating", d_loss_bce, g_loss_nonsaturating,
        "Goodfellow et al. 2014, the variant used in practice: G minimises -log D(G(z)).",
    ),
}


def get_loss(name: str) -> GANLoss:
    """The loss pair called ``name``; see ``LOSSES``."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name]

"""Walking in a generator's latent space: linear and spherical interpolation between codes.

Chapter 03 derives both (and asks for them as exercises); later chapters import them from here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from . import validate


def _check_pair(z0: Tensor, z1: Tensor, t: float) -> float:
    """Two batches of codes (N, d) of one shape, and t in [0, 1] returned as a float."""
    pair = "; z0 and z1 must be batches of codes of the same shape (N, d): a single code z of shape (d,) is z[None]"
    validate.tensor("z0", z0, shape=("N", "d"), finite=False, nonempty=False, hint=pair)
    validate.tensor("z1", z1, shape=tuple(z0.shape), finite=False, nonempty=False, hint=pair)
    return validate.number("t", t, low=0, high=1, hint=" (0 gives z0, 1 gives z1)")


def lerp(z0: Tensor, z1: Tensor, t: float) -> Tensor:
    """(1 - t) z0 + t z1 for batches of codes (N, d): the straight line, which cuts inside the Gaussian shell."""
    t = _check_pair(z0, z1, t)
    return (1 - t) * z0 + t * z1


def slerp(z0: Tensor, z1: Tensor, t: float) -> Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016, arXiv:1609.04468) of each row of z0 towards z1.

    With w the angle between z0[i] and z1[i]: sin((1 - t) w) / sin w * z0[i] + sin(t w) / sin w * z1[i].
    Where the rows are parallel or opposite (sin w = 0, the formula is 0/0) it falls back to ``lerp``,
    row by row, so the other rows of the batch are unaffected.
    """
    t = _check_pair(z0, z1, t)
    cos = (F.normalize(z0, dim=1) * F.normalize(z1, dim=1)).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)  # (N, 1)
    omega = torch.acos(cos)
    sin = torch.sin(omega)
    degenerate = sin.abs() < 1e-6
    safe = torch.where(degenerate, torch.ones_like(sin), sin)  # no 0/0 in the rows that take the fallback
    arc = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / safe
    return torch.where(degenerate, (1 - t) * z0 + t * z1, arc)

"""Differentiable augmentation of everything the discriminator sees, for GANs on little data.

With few training images D memorises them: its outputs on the training images drift away
from its outputs on held-out images of the same distribution, and its gradients stop telling
G anything about the distribution. Augmenting the *real* images only does not help: D then
learns that augmented images are real, and G learns to produce augmented-looking images (the
"leak" that both papers below show). The fix is to put the same random transformation T in
front of D for every image it is shown, real or fake, in D's step and in G's step:

    D's loss on  D(T(x))  and  D(T(G(z))),      G's loss on  D(T(G(z))).

T must be differentiable, because G's gradient flows through T(G(z)). D then learns the
distribution of T(x), and since T is applied to both sides, matching T(p_g) to T(p_data)
still means matching p_g to p_data for transformations that lose no information on average
(translations and cutout at random positions do not map two different distributions to the
same one).

- Zhao, Liu, Lin, Zhu, Han. "Differentiable Augmentation for Data-Efficient GAN Training".
  NeurIPS 2020, arXiv:2006.10738 (DiffAugment: colour, translation by up to 1/8 of the
  image, cutout of a square half the image's side, all applied with probability 1).
- Karras, Aittala, Hellsten, Laine, Lehtinen, Aila. "Training Generative Adversarial Networks
  with Limited Data". NeurIPS 2020, arXiv:2006.06676 (ADA: the same idea with many more
  transformations, each applied with a probability p tuned during training from an overfitting
  signal, the fraction of training images on which D's output is positive).

``Augmented(D, "translation,cutout")`` is a discriminator with T in front of it: hand it to
``fit`` in place of D and every image D sees, in both players' steps, is augmented.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from . import validate

__all__ = ["brightness_contrast", "translate", "cutout", "POLICIES", "DiffAugment", "Augmented"]


def _uniform(n: int, low: float, high: float, like: Tensor) -> Tensor:
    """n draws of U(low, high), shaped (n, 1, 1, 1) to broadcast over images like ``like``."""
    return torch.empty(n, 1, 1, 1, device=like.device, dtype=like.dtype).uniform_(low, high)


def brightness_contrast(x: Tensor) -> Tensor:
    """Per image: add a brightness offset ~ U(-0.5, 0.5), then scale the contrast about the mean by ~ U(0.5, 1.5)."""
    validate.tensor("x", x, shape=("N", "C", "H", "W"), finite=False)
    x = x + _uniform(len(x), -0.5, 0.5, x)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return (x - mean) * _uniform(len(x), 0.5, 1.5, x) + mean


def translate(x: Tensor, fraction: float = 0.125, fill: float = -1.0) -> Tensor:
    """Per image: shift by a whole number of pixels, at most ``fraction`` of the side in each direction;
    the pixels shifted in take the value ``fill`` (-1: the digits' black background)."""
    validate.tensor("x", x, shape=("N", "C", "H", "W"), finite=False)
    validate.number("fraction", fraction, low=0, high=1)
    n, _, h, w = x.shape
    sy, sx = int(h * fraction + 0.5), int(w * fraction + 0.5)  # the largest shifts
    dy = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)  # (N, 1, 1)
    dx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    padded = nn.functional.pad(x, (sx, sx, sy, sy), value=fill)  # (N, C, H + 2sy, W + 2sx)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + sy - dy  # (N, H, 1): the source row of each row
    cols = torch.arange(w, device=x.device).view(1, 1, w) + sx - dx  # (N, 1, W)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)


def cutout(x: Tensor, fraction: float = 0.5, fill: float = 0.0) -> Tensor:
    """Per image: set a square of side ``fraction`` of the image's to ``fill``, centred anywhere in the image
    (so it may be cut by the border). 0 is mid-grey in [-1, 1]: visibly not part of a digit."""
    validate.tensor("x", x, shape=("N", "C", "H", "W"), finite=False)
    validate.number("fraction", fraction, low=0, high=1)
    n, _, h, w = x.shape
    ch, cw = int(h * fraction + 0.5), int(w * fraction + 0.5)
    top = torch.randint(0, h, (n, 1, 1), device=x.device) - ch // 2  # (N, 1, 1)
    left = torch.randint(0, w, (n, 1, 1), device=x.device) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)  # (N, H, W)
    return torch.where(inside.unsqueeze(1), torch.full_like(x, fill), x)  # gradient 0 inside, 1 outside


POLICIES: dict[str, Callable[[Tensor], Tensor]] = {
    "color": brightness_contrast,  # DiffAugment's saturation term is left out: the course's images are grey
    "translation": translate,
    "cutout": cutout,
}


class DiffAugment(nn.Module):
    """T(x): the transformations named in ``policy`` ("color", "translation", "cutout", comma-separated), in order."""

    def __init__(self, policy: str = "translation,cutout"):
        super().__init__()
        validate.instance("policy", policy, str, 'a comma-separated string such as "translation,cutout"')
        names = [name.strip() for name in policy.split(",") if name.strip()]
        if not names:
            raise ValueError(f"policy names no transformation; use some of {sorted(POLICIES)}, e.g. "
                             '"translation,cutout"')
        for name in names:
            validate.choice("each transformation in policy", name, POLICIES)
        self.policy = ",".join(names)

    def forward(self, x: Tensor) -> Tensor:
        for name in self.policy.split(","):
            x = POLICIES[name](x)
        return x

    def extra_repr(self) -> str:
        return f"policy={self.policy!r}"


class Augmented(nn.Module):
    """D(T(x), ...): the discriminator ``D`` shown only augmented images. Train it in D's place.

    ``augmented.D`` is the discriminator itself (its weights are the only weights here), e.g. to
    read its outputs on images that are not augmented.
    """

    def __init__(self, D: nn.Module, policy: str = "translation,cutout"):
        super().__init__()
        validate.instance("D", D, nn.Module, "a discriminator (an nn.Module)")
        self.D, self.augment = D, DiffAugment(policy)

    def forward(self, x: Tensor, *cond: Tensor) -> Tensor:
        return self.D(self.augment(x), *cond)

"""Small fully connected players for 1D and 2D data.

The discriminator returns *logits* (any real number), never probabilities: pair it with
the logits losses of ``ganlab.losses``, never with a Sigmoid and ``BCELoss``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import validate


def _mlp(sizes: list[int], act: nn.Module, spectral_norm: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        layers.append(nn.utils.parametrizations.spectral_norm(linear) if spectral_norm else linear)
        if i < len(sizes) - 2:
            layers.append(act)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """G: z ~ N(0, I) in R^latent_dim  ->  a point in R^out_dim."""

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, width: int = 128, depth: int = 3):
        super().__init__()
        for name, size in dict(latent_dim=latent_dim, out_dim=out_dim, width=width, depth=depth).items():
            validate.integer(name, size)
        self.latent_dim, self.out_dim = latent_dim, out_dim
        self.net = _mlp([latent_dim] + [width] * (depth - 1) + [out_dim], nn.ReLU())

    def forward(self, z: Tensor) -> Tensor:
        weights = next(self.parameters()).dtype
        validate.tensor("the generator's input z", z, shape=("N", self.latent_dim), dtype=weights, finite=False)
        return self.net(z)  # (N, out_dim)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n fresh samples G(z), z ~ N(0, I), drawn on the generator's device."""
        validate.integer("n", n)
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator).to(device)
        return self(z)


class MLPDiscriminator(nn.Module):
    """D: a point in R^in_dim  ->  one logit l(x); D(x) = sigmoid(l(x)) is P(x is real)."""

    def __init__(self, in_dim: int = 2, width: int = 128, depth: int = 3, spectral_norm: bool = False):
        super().__init__()
        for name, size in dict(in_dim=in_dim, width=width, depth=depth).items():
            validate.integer(name, size)
        self.in_dim = in_dim
        self.net = _mlp([in_dim] + [width] * (depth - 1) + [1], nn.LeakyReLU(0.2), spectral_norm)

    def forward(self, x: Tensor) -> Tensor:
        weights = next(self.parameters()).dtype
        validate.tensor("the discriminator's input x", x, shape=("N", self.in_dim), dtype=weights, finite=False)
        return self.net(x).squeeze(1)  # (N,) logits

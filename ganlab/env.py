"""Where the code runs: device, seeds, fast mode and whether downloads are allowed.

Every switch the course reads from the environment is read here, in one place:

- ``GANLAB_FAST=1`` shrinks steps and data so that every notebook runs in seconds
  (tests and CI use it). Without it, settings are the real ones.
- ``GANLAB_DOWNLOAD=1`` allows datasets that need the network (torchvision MNIST, ...).
  On Google Colab downloads are allowed unless ``GANLAB_DOWNLOAD=0``.
- ``GANLAB_DEVICE=cpu`` (or ``cuda``, ``mps``) overrides the automatic device choice.
"""

from __future__ import annotations

import os
import random
import sys
from typing import TypeVar

import numpy as np
import torch

from . import validate

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={os.environ[name]!r} is not understood; use 1 (on) or 0 (off).")


def is_fast() -> bool:
    """True when ``GANLAB_FAST`` is set: tiny settings for tests, CI and a quick read."""
    return _flag("GANLAB_FAST", False)


def fast(fast_value: T, full_value: T) -> T:
    """Pick ``fast_value`` in fast mode and ``full_value`` otherwise.

    Notebooks write ``steps = fast(200, 5000)`` so the same code runs in both modes.
    """
    return fast_value if is_fast() else full_value


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def downloads_allowed() -> bool:
    """May a dataset be downloaded? Yes on Colab or with ``GANLAB_DOWNLOAD=1``; else no."""
    return _flag("GANLAB_DOWNLOAD", in_colab())


def get_device(prefer: str | None = None) -> torch.device:
    """The best device available: CUDA, then Apple's MPS, then the CPU.

    ``prefer`` (or the ``GANLAB_DEVICE`` variable) forces one, e.g. ``"cpu"``.
    """
    if prefer is not None and not isinstance(prefer, (str, torch.device)):
        raise TypeError(f"prefer must be a device name such as 'cpu' or 'cuda', got {type(prefer).__name__}")
    choice = prefer or os.environ.get("GANLAB_DEVICE")
    if choice:
        what = f"prefer={choice!r}" if prefer else f"GANLAB_DEVICE={choice!r}"
        try:
            device = torch.device(choice)
        except RuntimeError:
            raise ValueError(f"{what} is not a device; use 'cpu', 'cuda', 'cuda:1' or 'mps'") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{what} asks for a CUDA GPU, but no CUDA GPU is visible; use 'cpu'.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (all devices) for a reproducible run.

    Returns a CPU ``torch.Generator`` seeded the same way, for code that wants its own stream.
    """
    seed = validate.integer("seed", seed, low=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)

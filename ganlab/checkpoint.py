"""Save and resume a GAN run: both players, both optimisers, the step, the RNG state,
the config and the history.

A checkpoint is written to a temporary file next to its target and then renamed over it
(``os.replace`` is atomic), so a run interrupted while saving leaves the previous
checkpoint as it was.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not fit the models it is loaded into."""


def _rng_state(batch_rng: torch.Generator | None) -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "batches": batch_rng.get_state() if batch_rng is not None else None,
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any], batch_rng: torch.Generator | None) -> None:
    if batch_rng is not None and state["batches"] is not None:
        batch_rng.set_state(state["batches"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])


def save_checkpoint(path: str | os.PathLike, *, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer,
                    opt_d: torch.optim.Optimizer, step: int, config: dict[str, Any],
                    history: dict[str, list[float]], batch_rng: torch.Generator | None = None,
                    ema: nn.Module | None = None) -> Path:
    """Write everything needed to resume at ``step``; atomic (see module docstring).

    ``batch_rng`` is the generator that draws the run's batches, if it has its own; ``ema`` an
    average of G's weights (``ganlab.train.ema_of``), if the run keeps one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": "ganlab-checkpoint-1",
        "G": G.state_dict(), "D": D.state_dict(),
        "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
        "step": int(step), "config": dict(config), "history": {k: list(v) for k, v in history.items()},
        "rng": _rng_state(batch_rng),
    } | ({"ema": ema.state_dict()} if ema is not None else {})
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, *, G: nn.Module, D: nn.Module,
                    opt_g: torch.optim.Optimizer | None = None, opt_d: torch.optim.Optimizer | None = None,
                    restore_rng: bool = True, batch_rng: torch.Generator | None = None,
                    ema: nn.Module | None = None) -> dict[str, Any]:
    """Load a checkpoint into the given models (and optimisers, and G's average); returns step, config, history."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, not a torch file, ...
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}: {str(err)[:200]}). It may be truncated "
            f"or corrupted; delete it to start afresh, or point to another checkpoint."
        ) from None
    if not isinstance(state, dict) or state.get("format") != "ganlab-checkpoint-1":
        raise CheckpointError(f"{path} is a PyTorch file but not a ganlab checkpoint")
    if ema is not None and "ema" not in state:
        raise CheckpointError(f"{path} holds no average of G's weights: it was saved by a run without ema")
    try:
        G.load_state_dict(state["G"])
        D.load_state_dict(state["D"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
    except RuntimeError as err:
        raise CheckpointError(
            f"{path} was saved from networks of another shape; build G and D with the config it "
            f"was saved with: {state['config']}\n{err}"
        ) from None
    if opt_g is not None:
        opt_g.load_state_dict(state["opt_g"])
    if opt_d is not None:
        opt_d.load_state_dict(state["opt_d"])
    if restore_rng:
        _set_rng_state(state["rng"], batch_rng)
    return {"step": state["step"], "config": state["config"], "history": state["history"]}

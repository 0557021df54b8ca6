"""Save and resume a run: every network, optimiser, average and random stream, the step,
the config and the history, in one file.

    save_checkpoint(path, step=100, config=cfg, history=h, G=G, D=D, opt_g=opt_g, opt_d=opt_d)
    load_checkpoint(path, G=G, D=D, opt_g=opt_g, opt_d=opt_d)

The objects are passed by name; anything with a ``state_dict`` (a network, an optimiser,
an ``AveragedModel``, a ``Precision``) or a ``torch.Generator`` can be saved, so every
model family uses the same file format. Loading fills in the objects named in the call
and ignores the others (load ``G`` alone to sample from a finished run).

Writing is crash-safe: the checkpoint goes to a temporary file next to its target, is
flushed to disk, and only then renamed over the target (``os.replace``), so a run killed
while saving, or a disk that fills up part-way, leaves the previous checkpoint as it was.
A write that fails raises ``CheckpointWriteError``, which keeps the state so that it can
be saved somewhere else (``err.save(other_path)``).
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = "ganlab-checkpoint-2"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read, or does not fit the run it is loaded into."""


class CheckpointWriteError(CheckpointError):
    """A checkpoint could not be written (disk full, folder not writable, ...); the state is kept.

    ``err.save(path)`` writes the state it failed to write to another path.
    """

    def __init__(self, message: str, payload: dict[str, Any]):
        super().__init__(message)
        self.payload = payload

    def save(self, path: str | os.PathLike) -> Path:
        """Write the state that could not be written to ``path`` instead."""
        return _write(_path(path), self.payload)


def _path(path: Any, name: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (a str or pathlib.Path), got {type(path).__name__}")
    return Path(path)


def _rng_state() -> dict[str, Any]:
    """The global random streams: PyTorch (CPU and every GPU), NumPy and Python."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])


def _state_of(name: str, obj: Any) -> Any:
    if isinstance(obj, torch.Generator):
        return obj.get_state()
    if not hasattr(obj, "state_dict"):
        raise TypeError(f"cannot save {name}={type(obj).__name__}: pass networks, optimisers, averages, "
                        "Precision objects or torch.Generators")
    return obj.state_dict()


def _digest(obj: Any, h: "hashlib._Hash | None" = None) -> str:
    """SHA-256 of a payload's values, tensors by their bytes: PyTorch's loader does not check the file's
    own checksums, so without this a flipped byte inside a weight would load silently."""
    h = h or hashlib.sha256()
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)  # 1D: a 0-dim tensor cannot be viewed as bytes
        h.update(f"tensor {obj.dtype} {tuple(obj.shape)};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        h.update(f"dict {len(obj)};".encode())
        for key, value in obj.items():
            h.update(repr(key).encode())
            _digest(value, h)
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__} {len(obj)};".encode())
        for value in obj:
            _digest(value, h)
    else:
        h.update(repr(obj).encode())
    return h.hexdigest()


def _write(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to a temporary file beside ``path``, flush it to disk, rename it over ``path``."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never a mixture
        tmp = None
    except OSError as err:
        raise CheckpointWriteError(
            f"could not write the checkpoint {path}: {err.strerror or err}. The previous checkpoint there, if any, "
            f"is unchanged. Free some space or choose a writable folder; the state of step {payload.get('step')} "
            f"is kept in this error and can be written elsewhere with err.save(other_path).", payload) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)  # a failed or interrupted write leaves nothing behind
    return path


def save_checkpoint(path: str | os.PathLike, *, step: int, config: dict[str, Any] | None = None,
                    history: dict[str, list[float]] | None = None, **objects: Any) -> Path:
    """Write ``objects`` (by name), the step, the config, the history and every RNG state to ``path``.

    ``config`` is what identifies the run (compared on resume); values ``None`` among the
    objects are skipped, so ``ema=None`` means a run without an average.
    """
    if not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be a non-negative int, got {step!r}")
    payload = {
        "format": FORMAT,
        "step": step,
        "config": dict(config or {}),
        "history": {k: list(v) for k, v in (history or {}).items()},
        "state": {name: _state_of(name, obj) for name, obj in objects.items() if obj is not None},
        "rng": _rng_state(),
    }
    payload["sha256"] = _digest(payload)
    return _write(_path(path), payload)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The contents of a ganlab checkpoint, or a ``CheckpointError`` that says what is wrong with the file."""
    path = _path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, corrupted, not a torch file, ...
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}: {str(err)[:200]}). It may be truncated "
            f"or corrupted, e.g. by a copy that did not finish; delete it to start afresh, or point to another "
            f"checkpoint.") from None
    if not isinstance(payload, dict) or not str(payload.get("format", "")).startswith("ganlab-checkpoint"):
        raise CheckpointError(f"{path} is a PyTorch file but not a ganlab checkpoint")
    if payload["format"] != FORMAT:
        raise CheckpointError(f"{path} was written by an older ganlab ({payload['format']}, this one reads "
                              f"{FORMAT}); train the run again, or load it with the ganlab version that wrote it")
    if _digest({k: v for k, v in payload.items() if k != "sha256"}) != payload.get("sha256"):
        raise CheckpointError(f"{path} is corrupted: its contents do not match the checksum saved with them (a disk "
                              f"error, or an edit or copy that changed it). Delete it to start afresh, or point to "
                              f"another checkpoint.")
    return payload


def check_same_run(path: str | os.PathLike, saved: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Refuse to resume from a checkpoint whose config differs from ``wanted``, naming every difference."""
    for name, value in (("saved", saved), ("wanted", wanted)):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict of a run's settings, got {type(value).__name__}")
    if saved.get("recipe") != wanted.get("recipe"):
        raise CheckpointError(
            f"{path} was saved by the recipe {saved.get('recipe')!r}, not {wanted.get('recipe')!r}, so it cannot be "
            f"resumed here. Use another folder for this run, or resume it with the recipe that saved it.")
    diffs = [f"{k}: {saved.get(k, '(absent)')!r} in the checkpoint, {wanted.get(k, '(absent)')!r} now"
             for k in sorted(set(saved) | set(wanted)) if saved.get(k) != wanted.get(k)]
    if diffs:
        raise CheckpointError(
            f"{path} belongs to another run, so it cannot be resumed with these settings ("
            + "; ".join(diffs) + "). Resume with the settings it was saved with, or start a new run in another "
            "folder (or without resume).")


def _check_fits(name: str, module: torch.nn.Module, state: dict[str, Any], path: Path,
                config: dict[str, Any]) -> None:
    """Refuse a saved network whose tensors differ in name or shape from ``module``'s."""
    mine = module.state_dict()
    wrong = sorted(k for k in set(mine) | set(state)
                   if k not in mine or k not in state or tuple(mine[k].shape) != tuple(state[k].shape))
    if wrong:
        raise CheckpointError(
            f"{path} was saved from networks of another shape ({name}: {', '.join(wrong[:4])}"
            f"{' ...' if len(wrong) > 4 else ''} differ); build the networks with the config it was saved "
            f"with: {config}")


# Settings that tell the kinds of optimiser apart, and stay across PyTorch versions (which add others, such as
# Adam's decoupled_weight_decay, so the full sets may differ between the version that saved and the one that loads)
_OPTIMIZER_KINDS = ("betas", "momentum", "alpha", "lr_decay", "rho", "etas", "lambd")


def _check_optimizer(name: str, opt: torch.optim.Optimizer, state: Any, path: Path) -> None:
    """Refuse a saved optimiser of another kind (Adam's state into SGD loads, then fails deep inside step())."""
    def kind(groups: list[dict]) -> set[str]:
        return {k for g in groups for k in g if k in _OPTIMIZER_KINDS}

    saved, mine = kind(state.get("param_groups", []) if isinstance(state, dict) else []), kind(opt.param_groups)
    if saved != mine:
        raise CheckpointError(
            f"{path}: the saved {name} is another kind of optimiser than the {type(opt).__name__} given (the saved "
            f"one has the settings {sorted(saved)}, this one {sorted(mine)}). Resume with the optimiser the run was "
            f"trained with, or start a new run.")


def _load_into(name: str, obj: Any, state: Any, path: Path, config: dict[str, Any]) -> None:
    if isinstance(obj, torch.Generator):
        obj.set_state(state)
        return
    try:
        obj.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path}: the saved {name} does not fit the {name} given "
                              f"({str(err).splitlines()[0][:200]}); build it with the config it was saved with: "
                              f"{config}") from None


def load_checkpoint(path: str | os.PathLike, *, restore_rng: bool = True, **objects: Any) -> dict[str, Any]:
    """Load the named ``objects`` from ``path`` (and, unless ``restore_rng=False``, the global RNG states).

    Returns ``{"step", "config", "history"}``. Every named object must be in the checkpoint;
    the checkpoint may hold more (load ``G`` alone to sample from it).
    """
    return restore(read_checkpoint(path), path, restore_rng=restore_rng, **objects)


def restore(payload: dict[str, Any], path: str | os.PathLike, *, restore_rng: bool = True,
            **objects: Any) -> dict[str, Any]:
    """``load_checkpoint`` from the contents ``read_checkpoint`` returned (``path`` only names it in messages)."""
    if not (isinstance(payload, dict) and isinstance(payload.get("state"), dict)):
        raise TypeError(f"payload must be a checkpoint's contents, as read_checkpoint returns them, got "
                        f"{type(payload).__name__}")
    path = _path(path)
    saved, config = payload["state"], payload["config"]
    objects = {name: obj for name, obj in objects.items() if obj is not None}
    for name, obj in objects.items():
        if not (isinstance(obj, torch.Generator) or hasattr(obj, "load_state_dict")):
            raise TypeError(f"cannot load into {name}={type(obj).__name__}: pass networks, optimisers, averages, "
                            "Precision objects or torch.Generators")
    missing = [name for name in objects if name not in saved]
    if missing:
        raise CheckpointError(f"{path} holds no {', '.join(missing)}: it was saved by a run without "
                              f"{'it' if len(missing) == 1 else 'them'} (it holds {', '.join(saved)})")
    for name, obj in objects.items():  # every network and optimiser is checked before any is changed
        if isinstance(obj, torch.nn.Module):
            _check_fits(name, obj, saved[name], path, config)
        elif isinstance(obj, torch.optim.Optimizer):
            _check_optimizer(name, obj, saved[name], path)
    for name, obj in objects.items():
        _load_into(name, obj, saved[name], path, config)
    if restore_rng:
        _set_rng_state(payload["rng"])
    return {"step": payload["step"], "config": config, "history": payload["history"]}

"""Mixed precision behind one switch.

With ``enabled=True`` the forward passes run under ``torch.autocast``: bfloat16 on the CPU
and on GPUs that support it natively (Ampere and later), float16 elsewhere on CUDA. Only
float16 needs loss scaling (its exponent range is small), so only then is a ``GradScaler``
active. The same code runs on CPU in CI, which is how the mixed-precision path is tested.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Callable

import torch
from torch import Tensor

from . import validate


def _device(device: str | torch.device) -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a torch.device or a name such as 'cpu' or 'cuda', got {type(device).__name__}")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not a device; use 'cpu', 'cuda', 'cuda:1' or 'mps'") from None


def amp_dtype(device: str | torch.device) -> torch.dtype:
    """bfloat16 where the hardware has it natively, else float16."""
    device = _device(device)
    if device.type == "cuda":
        try:
            native = torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # older torch has no including_emulation argument
            native = torch.cuda.is_bf16_supported()
        return torch.bfloat16 if native else torch.float16
    return torch.bfloat16


class Precision:
    """Autocast for the forward pass and (float16 only) a loss scaler for the backward pass."""

    def __init__(self, device: torch.device, enabled: bool = False,
                 after_backward: Callable[[], None] | None = None):
        """``after_backward``: called between the backward pass and the optimiser's step (e.g. to average the
        gradients over processes by hand, ``distributed.average_gradients``)."""
        self.device = _device(device)
        if after_backward is not None and not callable(after_backward):
            raise TypeError(f"after_backward must be a function of no arguments, got {type(after_backward).__name__}")
        self.after_backward = after_backward
        self.enabled = validate.flag("enabled", enabled) and self.device.type in ("cpu", "cuda")
        self.dtype = amp_dtype(self.device)
        use_scaler = self.enabled and self.dtype == torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler) if use_scaler else None

    def autocast(self) -> AbstractContextManager:
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.enabled)

    def backward_and_step(self, loss: Tensor, optimizer: torch.optim.Optimizer) -> None:
        """loss.backward() then optimizer.step(), scaled when float16 needs it."""
        validate.tensor("loss", loss, finite=False)
        if loss.numel() != 1:
            raise ValueError(f"loss must be one number to minimise (reduce it with .mean()), got shape "
                             f"{tuple(loss.shape)}")
        validate.instance("optimizer", optimizer, torch.optim.Optimizer, "an optimiser")
        if self.scaler is None:
            loss.backward()
            if self.after_backward is not None:
                self.after_backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            if self.after_backward is not None:  # on the scaled gradients: every process then sees the same infs
                self.after_backward()
            self.scaler.step(optimizer)
            self.scaler.update()

    def state_dict(self) -> dict:
        """The loss scaler's state (empty without one), so that a resumed run scales as it would have."""
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        validate.instance("state", state, dict, "a dict from Precision.state_dict()")
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)

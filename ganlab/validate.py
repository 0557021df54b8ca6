"""Checks of the arguments of ganlab's public functions, shared by every module.

Each check returns the value it was given, or raises an error whose message names the
argument, says what was expected and what was given, e.g.
"the generator's input z should have shape (N, 64), got (3, 5)". A wrong kind of object
raises ``TypeError``, a wrong value ``ValueError``; a tensor of the wrong dtype raises
:class:`DtypeError`, which is both.

The checks run at the public boundary, before a tensor reaches torch, so that a mistake is
reported in the words of the course rather than from deep inside a convolution. A forward
pass runs only the cheap ones (type, shape, dtype: nothing that reads the values, so no GPU
sync in a training loop); metrics, data loaders and plots also refuse NaN, inf and images
outside [-1, 1].
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable
from typing import Any, TypeVar, Union

import numpy as np
import torch
from torch import Tensor

T = TypeVar("T")

# A shape to check: an int is an exact size, a str any size (named in the message: "N", "d",
# "H"), a tuple of ints one of several sizes. ("N", (1, 3), "H", "W") reads "(N, 1 or 3, H, W)".
Shape = tuple[Union[int, str, tuple[int, ...]], ...]

_PIXELS = "; for pixels 0..255 use x / 127.5 - 1"
IMAGE_SLACK = 2.0  # images may reach [-2, 2] (a generator without a final tanh); [0, 255] may not


class DtypeError(TypeError, ValueError):
    """A tensor of the wrong dtype: the right type of object (a tensor) holding the wrong kind of numbers."""


def _shape_str(shape: Shape) -> str:
    parts = [" or ".join(map(str, s)) if isinstance(s, tuple) else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _fits(x: Tensor, shape: Shape) -> bool:
    return x.ndim == len(shape) and all(
        isinstance(want, str) or (size in want if isinstance(want, tuple) else size == want)
        for want, size in zip(shape, x.shape))


def _type_name(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "numpy.ndarray (torch.from_numpy(x) converts it)"
    return type(value).__name__


_DTYPES = {  # dtype= -> (does the tensor have it?, what the message says it should be)
    "float": (lambda t: t.is_floating_point(), "a floating-point tensor"),
    "int": (lambda t: not (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool), "an integer tensor"),
    "long": (lambda t: t.dtype == torch.long, "a LongTensor (torch.int64)"),
}


def _autocast_on(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch before 2.4 has one function per device type
        return torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()


def tensor(name: str, x: Any, *, shape: Shape | None = None, dtype: str | torch.dtype | None = "float",
           finite: bool = True, nonempty: bool = True, hint: str = "") -> Tensor:
    """``x`` if it is a tensor of ``shape`` and ``dtype``, non-empty and finite unless told otherwise;
    ``hint`` ends the type, shape and dtype messages.

    ``dtype``: "float", "int", "long", None for any, or a torch.dtype such as a module's weights'
    (under autocast any float dtype passes: autocast converts it). ``finite=True`` reads every
    value (a GPU sync): forward passes say ``finite=False``.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_type_name(x)}{hint}")
    if shape is not None and not _fits(x, shape):
        raise ValueError(f"{name} should have shape {_shape_str(shape)}, got {tuple(x.shape)}{hint}")
    if isinstance(dtype, torch.dtype):
        if x.dtype != dtype and not (x.is_floating_point() and _autocast_on(x.device.type)):
            raise DtypeError(f"{name} should have dtype {dtype}, got {x.dtype}; convert it with .to({dtype}){hint}")
    elif dtype is not None:
        has, what = _DTYPES[dtype]
        if not has(x):
            raise DtypeError(f"{name} should be {what}, got dtype {x.dtype}{hint}")
    if nonempty and x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    if finite and x.is_floating_point() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite, found NaN or inf")
    return x


def images(name: str, x: Any, shape: Shape = ("N", "C", "H", "W")) -> Tensor:
    """``x`` if it is a non-empty float batch of images of ``shape``, finite and in [-1, 1] (ganlab's range,
    tanh's). Up to [-2, 2] passes, for generators without a final tanh; pixels of 0..255 do not."""
    tensor(name, x, shape=shape, dtype=None, finite=False)
    if not x.is_floating_point():
        raise DtypeError(f"{name} should be floats in [-1, 1], got dtype {x.dtype}{_PIXELS}")
    tensor(name, x)  # non-empty, finite
    lo, hi = torch.stack(torch.aminmax(x)).tolist()  # one sync
    if lo < -IMAGE_SLACK or hi > IMAGE_SLACK:
        raise ValueError(f"{name} should lie in [-1, 1] like load('mnist'); got values in [{lo:.3g}, {hi:.3g}]"
                         + _PIXELS)
    return x


def labels(name: str, y: Any, n: int, n_classes: int, dtype: str = "long",
           hint: str = "; class indices, one per example") -> Tensor:
    """``y`` if it holds ``n`` class indices (n,) in [0, n_classes) of ``dtype`` ("long", or "int" for any integers)."""
    tensor(name, y, shape=(n,), dtype=dtype, finite=False, nonempty=False, hint=hint)
    if n:
        lo, hi = torch.stack(torch.aminmax(y)).tolist()  # one sync
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"{name} should lie in [0, {n_classes}), got values from {lo} to {hi}{hint}")
    return y


def integer(name: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int if it is a whole number (not a bool, not a float) of at least ``low`` (and at most ``high``)."""
    want = {1: "a positive integer", 0: "a non-negative integer"}.get(low, f"an integer >= {low}")
    if high is not None:
        want = f"an integer from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {want}, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {want}, got {value!r}")
    return int(value)


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None and low == 0:
        return "be positive" if low_open else "be non-negative"
    if high is None:
        return f"be {'greater than' if low_open else 'at least'} {low:g}"
    if low is None:
        return f"be {'less than' if high_open else 'at most'} {high:g}"
    return f"lie in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def number(name: str, value: Any, *, low: float | None = None, high: float | None = None, low_open: bool = False,
           high_open: bool = False, hint: str = "") -> float:
    """``value`` as a float if it is a finite real number (or a one-element tensor) within the bounds given."""
    if isinstance(value, Tensor) and value.numel() == 1 and not (value.is_complex() or value.dtype == torch.bool):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    ok = (math.isfinite(v) and (low is None or (v > low if low_open else v >= low))
          and (high is None or (v < high if high_open else v <= high)))
    if not ok:
        bounds = _interval(low, high, low_open, high_open) if (low, high) != (None, None) else "be finite"
        raise ValueError(f"{name} must {bounds}{hint}, got {value!r}")
    return v


def choice(name: str, value: T, options: Iterable[Any]) -> T:
    """``value`` if it is one of ``options`` (the keys of a dict of names, say); else the valid ones are listed."""
    options = list(options)
    if not (isinstance(value, Hashable) and value in options):
        raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(options, key=str)}")
    return value


def instance(name: str, value: T, kind: type | tuple[type, ...], what: str) -> T:
    """``value`` if it is an instance of ``kind``; ``what`` says what that is in words, e.g. "a GaussianMixture"."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def flag(name: str, value: Any) -> bool:
    """``value`` if it is True or False (a string such as "no" is truthy, so it is refused rather than read as on)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def replaced(config: T, **overrides: Any) -> T:
    """``dataclasses.replace(config, **overrides)``, refusing an unknown field by listing the valid ones."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(config)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise TypeError(f"{type(config).__name__} has no field {', '.join(map(repr, unknown))}; its fields are "
                        f"{names}")
    return dataclasses.replace(config, **overrides)

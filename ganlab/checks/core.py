"""The machinery behind every exercise check: call a student's function, compare, explain.

A check runs the function on small fixed inputs against a reference. On a mismatch it raises
:class:`CheckFailed` showing the input, the expected and the received values, and a diagnosis
when the mistake is a known one. Each chapter's checks live in their own module (``ch01``, ...).
"""

from __future__ import annotations

import math
import re
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor

_UNSET = object()
_LOGITS_NAN = ("the logits are finite, so NaN/inf comes from a log of a logit. Logits are any real number, not "
               "probabilities: turn a logit l into D = torch.sigmoid(l) first, or better use F.softplus, F.logsigmoid "
               "or F.binary_cross_entropy_with_logits, which take logits directly.")
_BCE_ON_LOGITS = ("F.binary_cross_entropy (nn.BCELoss) wants probabilities in [0, 1], and these are logits: use "
                  "F.binary_cross_entropy_with_logits, or apply torch.sigmoid first.")
_ERROR_HINTS = {  # a piece of an exception's message -> what it usually means in these exercises
    "must match the size of tensor": "two shapes do not broadcast. A per-row number (an angle, a norm, a dot product) "
                                     "needs shape (N, 1), i.e. keepdim=True, to scale the rows of an (N, d) tensor.",
    "between 0 and 1": _BCE_ON_LOGITS,
    "numpy() on Tensor that requires grad": "stay in torch: NumPy cuts the graph that backward() needs.",
    "does not require grad": "autograd can only differentiate with respect to a tensor that requires grad: write "
                             "x = x.detach().requires_grad_(True) BEFORE computing D(x), then "
                             "torch.autograd.grad(D(x).sum(), x, create_graph=True).",
}
_KINKS = (-1.0, 0.0, 1.0)  # where relu(1 +- x), |x| and clamp(x, min=0) have no derivative: subgradients may differ
_UNEQUAL = ("the real and fake batches have different sizes here, so they cannot be combined entry by entry: "
            "take each batch's mean separately (e.g. fake.mean() - real.mean()) and combine the means.")
_SIGMOID_TWICE = "sigmoid applied twice: the loss treats D's probability sigmoid(l) as if it were a logit."
_HERE = Path(__file__).resolve().parents[1].as_posix() + "/"  # the ganlab package: its frames are not the student's business


class CheckFailed(AssertionError):
    """A student's answer disagrees with the reference; the message says on which input and why."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows: the message first, then, if the student's code raised, only its own frames."""
        lines = str(self).splitlines()
        cause = self.__cause__
        if cause is not None and cause.__traceback__ is not None:
            frames = [f for f in traceback.extract_tb(cause.__traceback__)
                      if not Path(f.filename).resolve().as_posix().startswith(_HERE)]
            if frames:
                lines += ["", "Where your code raised it:"]
                lines += [line for chunk in traceback.format_list(frames) for line in chunk.rstrip("\n").split("\n")]
            lines += [line.rstrip("\n") for line in traceback.format_exception_only(type(cause), cause)]
        return lines


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=float)


def _close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    a, b = _np(a), _np(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _finite(x: Any) -> bool:
    return bool(np.isfinite(_np(x)).all())


def _fmt(x: Any) -> str:
    """A value printed small, on one line: 4 decimals, long arrays cut to their first values."""
    if isinstance(x, str):
        return x
    if isinstance(x, tuple):
        return "(" + ", ".join(_fmt(v) for v in x) + ")"
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray) and x.size > 12:  # e.g. all of D's parameters
        return f"{_fmt(x.ravel()[:8])[:-1]}, ...] (shape {x.shape}, first values shown)"
    if isinstance(x, np.ndarray) and x.ndim > 0:
        text = np.array2string(x.astype(float), precision=4, suppress_small=True, separator=", ", max_line_width=10**6)
        return text.replace("\n", "")
    if isinstance(x, (float, np.floating, np.ndarray)):
        return f"{float(x):.4f}"
    return repr(x)


class _Check:
    """One run of a check: calls the student's function and words a failure."""

    def __init__(self, name: str, task: str, fn: Callable, n_cases: int):
        if not callable(fn):
            raise TypeError(f"{name} takes your function itself, e.g. {name}(my_function), not {fn!r}")
        self.name, self.task, self.fn, self.n_cases = name, task, fn, n_cases
        self.case, self.inputs = 0, {}
        self.hints: dict[str, str] = {}  # error-message pieces -> hints for this case, before _ERROR_HINTS

    def call(self, case: int, *args: Any, **shown: Any) -> Any:
        """fn(*args) on case number ``case``; ``shown`` are the inputs as a failure prints them."""
        self.case, self.inputs = case, shown
        try:
            return self.fn(*args)
        except NotImplementedError as err:
            found = re.search(r"Exercise\s+(\d+)", str(err))
            raise CheckFailed(f"{'Exercise ' + found.group(1) if found else 'This exercise'} is not done yet: replace "
                              f"the `raise NotImplementedError` in `{getattr(self.fn, '__name__', 'your function')}` "
                              f"with your code, run that cell, then this check again.") from None
        except Exception as err:
            hint = next((h for key, h in [*self.hints.items(), *_ERROR_HINTS.items()] if key in str(err)),
                        "the traceback of your own code shows the failing line.")
            raise CheckFailed(self.message(f"Your function raised {type(err).__name__}: {err}", diagnosis=hint)) from err

    def message(self, problem: str, expected: Any = _UNSET, got: Any = _UNSET, diagnosis: str = "") -> str:
        lines = [f"{self.name} failed ({self.task}) on case {self.case} of {self.n_cases}. {problem}", "  input:"]
        lines += [f"    {key} = {_fmt(value)}" for key, value in self.inputs.items()]
        lines += [f"  expected: {_fmt(expected)}"] if expected is not _UNSET else []
        lines += [f"  got:      {_fmt(got)}"] if got is not _UNSET else []
        return "\n".join(lines + ([f"Diagnosis: {diagnosis}"] if diagnosis else []))

    def fail(self, problem: str, expected: Any = _UNSET, got: Any = _UNSET, diagnosis: str = "") -> None:
        raise CheckFailed(self.message(problem, expected, got, diagnosis))

    def mismatch(self, expected: Any, got: Any, variants: list[tuple[str, Any]], fallback: str = "",
                 problem: str = "Wrong value.") -> None:
        """Fail, naming the first known mistake (a variant, else a flipped sign) that reproduces ``got``."""
        for diagnosis, wrong in variants + [("the sign is flipped (got = -expected).", -_np(expected))]:
            if _close(got, wrong):
                self.fail(problem, expected, got, diagnosis)
        self.fail(problem, expected, got, fallback or "no common mistake matches; compare your code with the formula "
                                                      "above the exercise, term by term.")

    def scalar(self, got: Any, expected: Any, nan_hint: str = "") -> float:
        """``got`` as a float, failing clearly unless it is one finite number."""
        size = got.numel() if isinstance(got, Tensor) else got.size if isinstance(got, np.ndarray) else 1
        if size != 1:
            self.fail(f"It returned shape {tuple(got.shape)}; the answer is one number.", expected, got,
                      "sum (or average) over the entries: the answer is a single number.")
        try:
            value = float(got.item() if isinstance(got, (Tensor, np.ndarray)) else got)
        except (TypeError, ValueError):
            self.fail("It must return a number.", expected, got, f"your function returned a {type(got).__name__}.")
        if not math.isfinite(value):
            self.fail("It returned NaN or inf.", expected, value, nan_hint)
        return value

    def passed(self, note: str = "") -> None:
        print(f"\u2713 {self.name} passed ({self.n_cases} cases)" + (f"\n  Note (not an error): {note}" if note else ""))


def _t(*values: float, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.tensor(values, dtype=dtype)


def _check_loss(name: str, task: str, fn: Callable, ref: Callable, cases: list[tuple[Tensor, ...]],
                arg_names: tuple[str, ...], variants: list[tuple[str, Callable]],
                extreme: tuple[Tensor, ...] | None = None, nan_hint: str = _LOGITS_NAN) -> None:
    """Type, shape, value and gradient of a loss on D's outputs against ``ref``; then, for losses on
    logits (``extreme`` given), a note on numerical stability. Gradients are compared away from the kinks
    ``_KINKS``, where correct forms (clamp, abs, relu) may pick different subgradients."""
    chk = _Check(name, task, fn, len(cases))
    for case, args in enumerate(cases, 1):
        chk.hints = {"must match the size of tensor": _UNEQUAL} if len({a.shape for a in args}) > 1 else {}
        leaves = [a.clone().requires_grad_(True) for a in args]
        expected = ref(*leaves)
        got = chk.call(case, *[a.clone() for a in leaves], **dict(zip(arg_names, args)))  # clones: in-place ops are safe
        if not isinstance(got, Tensor):
            chk.fail("It must return a torch tensor.", expected, got, f"your function returned a {type(got).__name__}. "
                     f"Return the tensor itself (no .item(), float() or NumPy) so that loss.backward() reaches the weights.")
        if got.numel() != 1:
            per_example = tuple(got.shape) in {tuple(a.shape) for a in args}
            chk.fail(f"It returned shape {tuple(got.shape)}, not a scalar.", expected, got,
                     "one loss per example: average over the batch with .mean()." if per_example
                     else "the loss must be one number (a 0-d tensor).")
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, nan_hint)
        if not _close(got.reshape(()), expected):
            chk.mismatch(expected, got.reshape(()), [(d, wrong(*args)) for d, wrong in variants])
        if not got.requires_grad:
            chk.fail("The value is right but it carries no gradient.", expected, got, "the result is cut off from the "
                     "graph (.detach(), torch.no_grad(), or a number wrapped in torch.tensor). Use torch operations on "
                     "the logits you are given.")
        want, have = torch.autograd.grad(expected, leaves), torch.autograd.grad(got.sum(), leaves, allow_unused=True)
        for arg, a, w, h in zip(arg_names, args, want, have):
            smooth = ~torch.isin(a, torch.tensor(_KINKS))  # (n,): entries where the loss is differentiable
            if h is None or not _close(h[smooth], w[smooth], rtol=1e-3):
                chk.fail(f"The value is right but its gradient with respect to {arg} is not.", w, h,
                         "part of the loss is detached or computed outside torch.")
    if extreme is None:
        chk.passed()
        return
    with torch.no_grad():
        exact = ref(*extreme)
        try:
            value = fn(*[a.clone() for a in extreme])
        except Exception as err:  # noqa: BLE001 - the check has passed; this only feeds the note below
            value = f"{type(err).__name__}: {err}"
    note = ""
    if not isinstance(value, Tensor) or not _finite(value) or not _close(value.reshape(()), exact, rtol=1e-3):
        shown = ", ".join(f"{n} = {_fmt(a)}" for n, a in zip(arg_names, extreme))
        note = (f"with large logits ({shown}) your loss gives {_fmt(value)} instead of {_fmt(exact)}. In float32 "
                f"sigmoid(20) rounds to exactly 1, so log(1 - sigmoid(20)) = log(0) = -inf. Written with F.softplus, "
                f"F.logsigmoid or F.binary_cross_entropy_with_logits the same loss stays exact; prefer those in training.")
    chk.passed(note)

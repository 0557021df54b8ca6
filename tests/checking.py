"""Helpers for the tests of the exercise checks: a check passes a function, or fails naming the mistake."""

from __future__ import annotations

import pytest
import torch

from ganlab.checks import CheckFailed


def passes(check, fn, capsys) -> str:
    check(fn)
    out = capsys.readouterr().out
    assert out.startswith(f"\u2713 {check.__name__} passed (")
    return out


def fails(check, fn, *words: str) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in:\n{message}"
    return message


def slerp_from_cos(cos, z0, z1, t):
    """Slerp written by hand from the cosine of the angle, falling back to lerp where sin(omega) ~ 0:
    the body that the right answer (cosine clamped) and the wrong ones (unclamped) share."""
    omega = torch.acos(cos)
    so = torch.sin(omega)
    small = so.abs() < 1e-6
    so = torch.where(small, torch.ones_like(so), so)
    out = torch.sin((1 - t) * omega) / so * z0 + torch.sin(t * omega) / so * z1
    return torch.where(small, (1 - t) * z0 + t * z1, out)


def assert_same_state(a: dict, b: dict) -> None:
    """Two checkpoints' states hold bit-identical players (G, D) and optimiser moments (opt_g, opt_d)."""
    import torch

    for name in ("G", "D"):
        assert a[name].keys() == b[name].keys()
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}.{key} differs"
    for name in ("opt_g", "opt_d"):
        for p, state in a[name]["state"].items():
            assert all(torch.equal(v, b[name]["state"][p][k]) for k, v in state.items()), f"{name} differs"


def run(check, right: dict, wrong: dict, name: str, capsys) -> None:
    """One parametrised case: a right answer passes, a wrong one fails naming its mistake."""
    if name in right:
        passes(check, right[name], capsys)
    else:
        fn, words = wrong[name]
        fails(check, fn, f"{check.__name__} failed", *words)

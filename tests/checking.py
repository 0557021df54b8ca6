"""Helpers for the tests of the exercise checks: a check passes a function, or fails naming the mistake."""

from __future__ import annotations

import pytest

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

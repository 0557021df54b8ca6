"""Checks for chapter 03, the latent space: linear and spherical interpolation between latent codes
(Exercises 3-4)."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import _Check, _close, _finite


# ---------------------------------------------------------------- linear interpolation (Exercise 3)
def _latent_pairs() -> list[tuple[Tensor, Tensor, float]]:
    g = torch.Generator().manual_seed(3)
    z0, z1 = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    w0, w1 = torch.randn(3, 32, generator=g), torch.randn(3, 32, generator=g)
    return [(z0, z1, 0.25), (w0, w1, 0.6), (z0, z1, 0.0), (z0, z1, 1.0)]


def _untouched(chk: _Check, given: tuple[Tensor, Tensor], originals: tuple[Tensor, Tensor]) -> None:
    """Interpolation must leave the caller's codes as they were."""
    for name, now, before in zip(("z0", "z1"), given, originals):
        if not torch.equal(now, before):
            chk.fail(f"{name} was changed in place.", before, now, f"your function overwrote the caller's {name} (an "
                     f"in-place operation such as {name}.mul_(...), {name} *= ..., {name} /= {name}.norm(...) or "
                     f"{name}[...] = ...): compute new tensors instead, e.g. (1 - t) * z0 + t * z1 or "
                     f"F.normalize(z0, dim=1).")


def _interp_output(chk: _Check, got: Any, expected: Tensor, shape: tuple[int, ...],
                   hint: str = "one interpolated vector per row of z0 and z1.") -> None:
    if not isinstance(got, Tensor):
        chk.fail("It must return a torch tensor.", expected, got, f"your function returned a {type(got).__name__}.")
    if tuple(got.shape) != shape:
        chk.fail(f"It returned shape {tuple(got.shape)}; the result has the shape of z0, {shape}.", expected, got,
                 hint)


def check_lerp(fn: Callable[[Tensor, Tensor, float], Tensor]) -> None:
    """fn(z0 (N, d), z1 (N, d), t) -> (1 - t) z0 + t z1; t = 0 gives z0, t = 1 gives z1."""
    cases = _latent_pairs()
    chk = _Check("check_lerp", "linear interpolation between latent codes", fn, len(cases))
    for case, (a, b, t) in enumerate(cases, 1):
        expected = (1 - t) * a + t * b
        given = (a.clone(), b.clone())
        got = chk.call(case, *given, t, z0=a, z1=b, t=t)
        _untouched(chk, given, (a, b))
        _interp_output(chk, got, expected, tuple(a.shape))
        if not _close(got, expected):
            chk.mismatch(expected, got.detach(), [
                ("the endpoints are swapped: t = 0 must give z0 and t = 1 give z1, so z0 carries the weight (1 - t).",
                 t * a + (1 - t) * b),
                ("the weights do not add up to 1: z0 + t (z1 - z0) = (1 - t) z0 + t z1.", a + t * b),
                ("the weights do not add up to 1: z0 + t (z1 - z0) = (1 - t) z0 + t z1.", (1 - t) * a + b),
                ("the midpoint (z0 + z1) / 2 for every t: use t.", (a + b) / 2),
                ("only the step t (z1 - z0): start from z0, z0 + t (z1 - z0).", t * (b - a)),
            ], problem=f"Wrong interpolation at t = {t}.")
    chk.passed()


# ---------------------------------------------------------------- spherical interpolation (Exercise 4)
def _slerp(z0: Tensor, z1: Tensor, t: float, per_row: bool = True, unit: bool = False, divide: bool = True) -> Tensor:
    """Shoemake's slerp of each row of z0 towards the same row of z1 (linear where the rows are parallel)."""
    a, b = (F.normalize(z0, dim=1), F.normalize(z1, dim=1)) if unit else (z0, z1)
    if per_row:
        cos = (F.normalize(z0, dim=1) * F.normalize(z1, dim=1)).sum(1, keepdim=True)
    else:
        cos = (F.normalize(z0.flatten(), dim=0) * F.normalize(z1.flatten(), dim=0)).sum().reshape(1, 1)
    omega = torch.acos(cos.clamp(-1.0, 1.0))  # (N, 1) angle between the rows
    so = torch.sin(omega)
    small = so.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(so), so if divide else torch.ones_like(so))
    out = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / safe
    return torch.where(small, (1 - t) * a + t * b, out)


def check_slerp(fn: Callable[[Tensor, Tensor, float], Tensor]) -> None:
    """fn(z0 (N, d), z1 (N, d), t) -> the spherical interpolation of each row, sin((1-t) w)/sin w z0 + sin(t w)/sin w z1,
    where w is the angle between z0[i] and z1[i]; t = 0 gives z0, t = 1 gives z1.

    Where z0[i] and z1[i] are parallel (w = 0) or opposite (w = pi) the formula is 0/0. Between opposite
    vectors every great circle is as short as any other, so slerp is undefined there; any finite answer
    whose norm stays within that of the endpoints is accepted (e.g. the common fallback to linear
    interpolation, which passes through 0).
    """
    g = torch.Generator().manual_seed(11)
    z0, z1 = torch.randn(6, 16, generator=g), torch.randn(6, 16, generator=g)
    z1[1] *= 3.0  # rows of different lengths
    w0, w1 = torch.randn(4, 64, generator=g), torch.randn(4, 64, generator=g)
    same = w0.clone()
    same[2:] = w1[2:]  # rows 2 and 3 of `same` equal those of w1: parallel rows, angle 0
    g = torch.Generator().manual_seed(5)
    o0, o1 = torch.randn(4, 16, generator=g), torch.randn(4, 16, generator=g)
    o1[1], o1[3] = -o0[1], -2.0 * o0[3]  # rows 1 and 3 point in opposite directions: the angle is pi
    cases = [(z0, z1, 0.3), (z0, z1, 0.75), (w0, w1, 0.5), (z0, z1, 0.0), (z0, z1, 1.0), (same, w1, 0.4),
             (o0, o1, 0.3)]
    chk = _Check("check_slerp", "spherical interpolation between latent codes", fn, len(cases))
    for case, (a, b, t) in enumerate(cases, 1):
        expected = _slerp(a, b, t)
        about = {6: "rows 2 and 3 are the same vectors as in z1",
                 7: "z1[1] = -z0[1] and z1[3] = -2 z0[3] point the opposite way"}.get(case, "standard normal rows")
        given = (a.clone(), b.clone())
        got = chk.call(case, *given, t, z0=f"{tuple(a.shape)}, standard normal rows", z1=f"{tuple(b.shape)}, {about}",
                       t=t)
        _untouched(chk, given, (a, b))
        _interp_output(chk, got, expected, tuple(a.shape), "one interpolated vector per row of z0 and z1; the angle "
                       "needs keepdim=True (shape (N, 1)) so that it broadcasts over each row.")
        if case == 7:
            _check_opposite_rows(chk, got, expected, a, b, t)
            continue
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, "where z0[i] and z1[i] are parallel the angle is 0 and "
                     "sin(omega) = 0: clamp the cosine to [-1, 1] before acos (rounding can push it past 1), and "
                     "fall back to linear interpolation where sin(omega) is about 0." if case == 6 else
                     "the cosine of the angle must divide the dot product by BOTH norms, and be clamped to [-1, 1] "
                     "before torch.acos.")
        if _close(got, expected, rtol=1e-4, atol=1e-4):
            continue
        variants = [
            ("this is LINEAR interpolation (1 - t) z0 + t z1: it cuts through the inside of the sphere, where "
             "Gaussian latent codes are rare (their norm is about sqrt(d)). Use the sine weights of slerp.",
             (1 - t) * a + t * b),
            ("the endpoints are swapped: t = 0 must give z0 and t = 1 give z1, so z0 carries sin((1 - t) omega).",
             _slerp(b, a, t)),
            ("one angle for the whole batch: compute omega separately for each row (sum over dim=1, keepdim=True).",
             _slerp(a, b, t, per_row=False)),
            ("the inputs were normalised: the result is on the unit sphere, but latent codes have norm about "
             "sqrt(d). Use the normalised vectors only for the angle and interpolate z0 and z1 themselves.",
             _slerp(a, b, t, unit=True)),
            ("the division by sin(omega) is missing.", _slerp(a, b, t, divide=False)),
        ]
        if case == 6 and _close(got[:2], expected[:2], rtol=1e-4, atol=1e-4):
            chk.fail("Rows 2 and 3, where z0[i] = z1[i], are wrong.", expected, got, "there the angle is 0 and slerp "
                     "reduces to linear interpolation, which returns z0[i]: treat the rows with sin(omega) ~ 0 apart "
                     "(torch.where, row by row), and clamp the cosine to [-1, 1] before torch.acos.")
        chk.mismatch(expected, got.detach(), variants, problem=f"Wrong interpolation at t = {t}.",
                     fallback="slerp(z0, z1; t) = sin((1 - t) omega) / sin(omega) * z0 + sin(t omega) / sin(omega) * "
                              "z1, with cos(omega) = <z0, z1> / (|z0| |z1|) for each row.")
    chk.passed()


def _check_opposite_rows(chk: _Check, got: Tensor, expected: Tensor, a: Tensor, b: Tensor, t: float) -> None:
    """Case 7: rows 1 and 3 are opposite (any finite answer no longer than the endpoints), rows 0 and 2 ordinary."""
    bound = torch.maximum(a.norm(dim=1), b.norm(dim=1)) * 1.001 + 1e-4
    cosines = [(F.normalize(a, dim=1) * F.normalize(b, dim=1)).sum(1),
               (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))]
    if bool(torch.isnan(got).any()) and any(bool((c.abs() > 1).any()) for c in cosines):
        chk.fail(f"Rows 1 and 3, where z1[i] = -c z0[i], give NaN at t = {t}.", expected, got, "torch.acos of a "
                 "cosine that rounding pushed just below -1 (here it computes as "
                 f"{min(float(c[[1, 3]].min()) for c in cosines):.8f}) is NaN: clamp the cosine to [-1, 1] before torch.acos. "
                 "Then sin(omega) ~ 0 for these opposite rows: fall back to linear interpolation there, as for "
                 "parallel ones.")
    if not _finite(got) or (got.detach().norm(dim=1) > bound).any():
        chk.fail(f"Rows 1 and 3, where z1[i] = -c z0[i], give NaN, inf or a huge vector at t = {t}.", expected,
                 got, "for opposite vectors the angle is pi and sin(omega) = 0 again (not only for parallel ones, "
                 "where it is 0): test |sin(omega)| < eps (or |cos(omega)| close to 1, both signs) and fall back "
                 "to linear interpolation there; clamp the cosine to [-1, 1] before torch.acos.")
    rows = [0, 2]
    if not _close(got[rows], expected[rows], rtol=1e-4, atol=1e-4):
        chk.fail("Rows 0 and 2, ordinary pairs, are wrong when other rows of the batch are opposite.",
                 expected[rows], got[rows], "one angle per row (keepdim=True); a fallback decided for the whole "
                 "batch (an `if` on any row) changes rows that need no fallback: use torch.where row by row.")



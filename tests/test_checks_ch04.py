"""Chapter 04's checks pass correct answers written in different ways and name each classic mistake."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganlab import checks
from checking import fails, passes


# ---------------------------------------------------------------- the bilinear game
def bilinear_right(x, y, lr, steps, mode):
    points = [(x, y)]
    for _ in range(steps):
        if mode == "simultaneous":
            x, y = x - lr * y, y + lr * x
        else:
            x = x - lr * y
            y = y + lr * x
        points.append((x, y))
    return torch.tensor(points)


def bilinear_matrix(x, y, lr, steps, mode):
    sim = np.array([[1.0, -lr], [lr, 1.0]])
    alt = np.array([[1.0, -lr], [lr, 1.0 - lr**2]])  # y's step uses the new x: [[1, 0], [lr, 1]] @ [[1, -lr], [0, 1]]
    A = sim if mode == "simultaneous" else alt
    z = np.array([x, y])
    out = [z]
    for _ in range(steps):
        z = A @ z
        out.append(z)
    return np.stack(out)


def bilinear_autograd(x, y, lr, steps, mode):
    """The players as tensors with requires_grad, each stepping on its own loss: x on f, y on -f."""
    px, py = torch.tensor(float(x), requires_grad=True), torch.tensor(float(y), requires_grad=True)
    rows = [[px.item(), py.item()]]
    for _ in range(steps):
        if mode == "simultaneous":
            gx, gy = torch.autograd.grad(px * py, (px, py))
            with torch.no_grad():
                px -= lr * gx
                py += lr * gy
        else:
            (gx,) = torch.autograd.grad(px * py, px)
            with torch.no_grad():
                px -= lr * gx
            (gy,) = torch.autograd.grad(-(px * py), py)
            with torch.no_grad():
                py -= lr * gy
        rows.append([px.item(), py.item()])
    return rows  # a list of lists is accepted too


def bilinear_with(**kw):
    def fn(x, y, lr, steps, mode):
        sim = mode == "simultaneous"
        pts = [] if kw.get("no_start") else [(x, y)]
        for _ in range(steps):
            if sim != kw.get("swap_modes", False):
                x, y = x - lr * y, y + kw.get("y_sign", 1) * lr * x
            else:
                x = x - lr * y
                y = y + kw.get("y_sign", 1) * lr * x
            pts.append((x, y))
        return torch.tensor(pts)
    return fn


def bilinear_alternating_old_x(x, y, lr, steps, mode):
    pts = [(x, y)]
    for _ in range(steps):
        x_old = x
        x = x - lr * y
        y = y + lr * x_old  # right for simultaneous steps; the classic mistake for alternating ones
        pts.append((x, y))
    return torch.tensor(pts)


def bilinear_same_tensor(x, y, lr, steps, mode):
    z, pts = torch.tensor([x, y]), []
    pts.append(z)
    for _ in range(steps):
        if mode == "simultaneous":
            z[:] = torch.stack([z[0] - lr * z[1], z[1] + lr * z[0]])
        else:
            z[0] -= lr * z[1]
            z[1] += lr * z[0]
        pts.append(z)  # the same tensor each time
    return torch.stack(pts)


def bilinear_lagging(x, y, lr, steps, mode):
    pts = [(x, y)]
    for _ in range(steps):
        pts.append((x, y))  # recorded before the update
        if mode == "simultaneous":
            x, y = x - lr * y, y + lr * x
        else:
            x = x - lr * y
            y = y + lr * x
    return torch.tensor(pts)


def test_bilinear_updates(capsys):
    for fn in (bilinear_right, bilinear_matrix, bilinear_autograd):
        passes(checks.check_bilinear_updates, fn, capsys)
    fails(checks.check_bilinear_updates, bilinear_with(y_sign=-1), "y descends instead of ascending")
    fails(checks.check_bilinear_updates, bilinear_with(swap_modes=True), "the ALTERNATING trajectory",
          "simultaneous mode", "old point")
    fails(checks.check_bilinear_updates, bilinear_with(no_start=True), "starting point is missing")
    fails(checks.check_bilinear_updates, lambda *a: bilinear_right(*a).T, "transposed")
    fails(checks.check_bilinear_updates, bilinear_same_tensor, "same point", "clone")
    fails(checks.check_bilinear_updates, bilinear_lagging, "lags one step", "AFTER its update")


def test_bilinear_alternating_with_the_old_x_is_named():
    message = fails(checks.check_bilinear_updates, bilinear_alternating_old_x, "SIMULTANEOUS trajectory", "NEW x")
    assert "case 2 of 5" in message  # case 1 (simultaneous) passes; case 2 is the first alternating one


def test_bilinear_roles_swapped_and_y_first():
    def roles_swapped(x, y, lr, steps, mode):
        return _signs(x, y, lr, steps, mode, 1, -1)  # x ascends, y descends

    def y_first(x, y, lr, steps, mode):
        if mode == "simultaneous":
            return bilinear_right(x, y, lr, steps, mode)
        pts = [(x, y)]
        for _ in range(steps):
            y = y + lr * x
            x = x - lr * y
            pts.append((x, y))
        return torch.tensor(pts)

    fails(checks.check_bilinear_updates, roles_swapped, "roles are swapped")
    fails(checks.check_bilinear_updates, y_first, "y moved first")


def _signs(x, y, lr, steps, mode, sx, sy):
    pts = [(x, y)]
    for _ in range(steps):
        if mode == "simultaneous":
            x, y = x + sx * lr * y, y + sy * lr * x
        else:
            x = x + sx * lr * y
            y = y + sy * lr * x
        pts.append((x, y))
    return torch.tensor(pts)


# ---------------------------------------------------------------- the projection discriminator
def projection_right(phi, w, b, embed, y):
    return F.linear(phi, w, b).squeeze(1) + (embed[y] * phi).sum(dim=1)


def projection_einsum(phi, w, b, embed, y):
    return (phi @ w.T + b).squeeze(-1) + torch.einsum("nc,nc->n", F.embedding(y, embed), phi)


def projection_gather(phi, w, b, embed, y):
    scores = phi @ embed.T  # (N, K): every class
    return (phi * w).sum(1) + b + scores.gather(1, y[:, None]).squeeze(1)


def projection_one_hot(phi, w, b, embed, y):
    v = F.one_hot(y, len(embed)).float() @ embed  # (N, C): the rows embed[y]
    return torch.nn.functional.linear(phi, w).flatten() + b + (v * phi).sum(-1)


def test_projection_logit(capsys):
    for fn in (projection_right, projection_einsum, projection_gather, projection_one_hot):
        passes(checks.check_projection_logit, fn, capsys)
    check = checks.check_projection_logit
    fails(check, lambda phi, w, b, e, y: (e[y] * phi).sum(1), "psi term is missing")
    fails(check, lambda phi, w, b, e, y: (phi @ w.T).squeeze(1) + (e[y] * phi).sum(1), "bias is missing")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b).squeeze(1) + (e[y] * phi).sum(), "summed over the whole batch")
    fails(check, lambda phi, w, b, e, y: (F.linear(phi, w, b).squeeze(1) + (e[y] * phi).sum(1)).sum(), "summed",
          "one logit per example")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b).squeeze(1) + e[y].sum(1), "one-hot", "INNER PRODUCT")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b).squeeze(1) + (e[(y + 1) % len(e)] * phi).sum(1),
          "wrong class", "embed_weight[y]")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b).squeeze(1) + (e[y.flip(0)] * phi).sum(1), "wrong class")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b).squeeze(1) + (phi @ e.T).sum(1), "all classes")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b) + (e[y] * phi).sum(1), "(N, N)", ".squeeze(1)")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b).squeeze(1) + (e[y] @ phi.T), "(N, N)")
    fails(check, lambda phi, w, b, e, y: F.linear(phi + e[y], w, b).squeeze(1), "added to phi before psi")
    fails(check, lambda phi, w, b, e, y: projection_right(phi, w, b, e, y).detach(), "no gradient")
    fails(check, lambda phi, w, b, e, y: F.linear(phi, w, b).squeeze(1) + (e[y] * phi.detach()).sum(1),
          "gradient with respect to phi")


# ---------------------------------------------------------------- the truncated normal
def truncated_right(n, dim, threshold, generator):
    z = torch.randn(n, dim, generator=generator)
    while (out := z.abs() > threshold).any():
        z[out] = torch.randn(int(out.sum()), generator=generator)
    return z


def truncated_where(n, dim, threshold, generator):
    z = torch.randn(n, dim, generator=generator)
    for _ in range(1000):
        bad = z.abs() > threshold
        if not bad.any():
            break
        z = torch.where(bad, torch.randn(n, dim, generator=generator), z)
    return z


def truncated_rows(n, dim, threshold, generator):
    """Rejects whole vectors: the accepted rows are still independent truncated normals in every entry."""
    rows = []
    while sum(len(r) for r in rows) < n:
        z = torch.randn(4 * n, dim, generator=generator, dtype=torch.float64)
        rows.append(z[(z.abs() <= threshold).all(dim=1)])
    return torch.cat(rows)[:n]


def truncated_init(n, dim, threshold, generator):
    return torch.nn.init.trunc_normal_(torch.empty(n, dim), a=-threshold, b=threshold, generator=generator)


def truncated_inverse_cdf(n, dim, threshold, generator):
    normal = torch.distributions.Normal(0.0, 1.0)
    lo, hi = normal.cdf(torch.tensor(-threshold)), normal.cdf(torch.tensor(threshold))
    u = lo + (hi - lo) * torch.rand(n, dim, generator=generator)
    return normal.icdf(u)


def truncated_one_round(n, dim, threshold, generator):
    z = torch.randn(n, dim, generator=generator)
    out = z.abs() > threshold
    z[out] = torch.randn(int(out.sum()), generator=generator)
    return z


def truncated_upper_only(n, dim, threshold, generator):
    z = torch.randn(n, dim, generator=generator)
    while (out := z > threshold).any():
        z[out] = torch.randn(int(out.sum()), generator=generator)
    return z


def test_truncated_normal(capsys):
    for fn in (truncated_right, truncated_where, truncated_rows, truncated_init, truncated_inverse_cdf):
        passes(checks.check_truncated_normal, fn, capsys)
    check = checks.check_truncated_normal
    fails(check, lambda n, d, a, g: torch.randn(n, d, generator=g).clamp(-a, a), "CLAMPED", "piles up")
    fails(check, lambda n, d, a, g: (z := torch.randn(n, d, generator=g)) * a / z.abs().max(), "squeezed", "rescale")
    fails(check, lambda n, d, a, g: torch.randn(n, d, generator=g) * a, "N(0, threshold^2)")
    fails(check, lambda n, d, a, g: torch.randn(n, d, generator=g), "nothing was truncated")
    fails(check, lambda n, d, a, g: (2 * torch.rand(n, d, generator=g) - 1) * a, "uniform")
    fails(check, truncated_one_round, "one round of resampling is not enough")
    fails(check, truncated_upper_only, "only one tail", "below -threshold")
    fails(check, lambda n, d, a, g: truncated_right(n, d, a, None), "generator")
    fails(check, lambda n, d, a, g: truncated_right(d, n, a, g), "shape")
    fails(check, lambda n, d, a, g: truncated_right(n, d, a, g).tolist(), "torch tensor")


def test_truncated_normal_catches_a_rescaled_normal_that_stays_in_range():
    def squashed(n, d, a, g):
        return a * torch.tanh(torch.randn(n, d, generator=g))
    fails(checks.check_truncated_normal, squashed, "do not follow a truncated N(0, 1)")


# ---------------------------------------------------------------- EMA of the weights
def ema_right(ema_params, params, decay):
    with torch.no_grad():
        for e, p in zip(ema_params, params):
            e.mul_(decay).add_(p, alpha=1 - decay)


def ema_lerp(ema_params, params, decay):
    with torch.no_grad():
        for e, p in zip(ema_params, params):
            e.lerp_(p, 1 - decay)


def ema_copy_(ema_params, params, decay):
    for e, p in zip(ema_params, params):
        e.copy_(decay * e + (1 - decay) * p.detach())


def ema_foreach(ema_params, params, decay):
    with torch.no_grad():
        torch._foreach_mul_(list(ema_params), decay)
        torch._foreach_add_(list(ema_params), list(params), alpha=1 - decay)


def ema_data(ema_params, params, decay):
    for e, p in zip(ema_params, params):
        e.data = decay * e.data + (1 - decay) * p.data


def test_ema_update(capsys):
    for fn in (ema_right, ema_lerp, ema_copy_, ema_foreach, ema_data):
        passes(checks.check_ema_update, fn, capsys)
    check = checks.check_ema_update

    def swapped(ema_params, params, decay):
        with torch.no_grad():
            for e, p in zip(ema_params, params):
                e.copy_((1 - decay) * e + decay * p)

    def not_in_place(ema_params, params, decay):
        for e, p in zip(ema_params, params):
            e = decay * e + (1 - decay) * p.detach()  # noqa: F841 - the mistake: rebinds the name only

    def copying(ema_params, params, decay):
        with torch.no_grad():
            for e, p in zip(ema_params, params):
                e.copy_(p)

    def new_list(ema_params, params, decay):
        for i, (e, p) in enumerate(zip(ema_params, params)):
            ema_params[i] = (decay * e + (1 - decay) * p).detach()

    def into_params(ema_params, params, decay):
        with torch.no_grad():
            for e, p in zip(ema_params, params):
                p.mul_(decay).add_(e, alpha=1 - decay)

    def no_no_grad(ema_params, params, decay):
        for e, p in zip(ema_params, params):
            e.copy_(decay * e + (1 - decay) * p)

    def no_one_minus(ema_params, params, decay):
        with torch.no_grad():
            for e, p in zip(ema_params, params):
                e.mul_(decay).add_(p)

    fails(check, swapped, "decay and 1 - decay are swapped")
    fails(check, not_in_place, "not done in place", "rebinds")
    fails(check, copying, "copied")
    fails(check, new_list, "replaced by new ones")
    fails(check, into_params, "model's parameters changed")
    fails(check, no_no_grad, "requires grad", "torch.no_grad()")
    fails(check, no_one_minus, "factor 1 - decay")


@pytest.mark.parametrize("check", [checks.check_bilinear_updates, checks.check_projection_logit,
                                   checks.check_truncated_normal, checks.check_ema_update],
                         ids=lambda c: c.__name__)
def test_unfinished_exercise_says_so(check):
    def todo(*args):
        raise NotImplementedError("Exercise 3: write your code here")
    fails(check, todo, "Exercise 3 is not done yet")


def test_the_truncated_moments_match_a_large_sample():
    from ganlab.checks.ch04 import _truncated_moments
    z = truncated_right(200_000, 1, 1.5, torch.Generator().manual_seed(0))
    mass, std = _truncated_moments(1.5)
    assert abs(mass - (2 * 0.5 * (1 + math.erf(1.5 / math.sqrt(2))) - 1)) < 1e-12
    assert abs(z.std().item() - std) < 3e-3

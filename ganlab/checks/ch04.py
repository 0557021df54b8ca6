"""Checks for chapter 04, training dynamics and scale: gradient steps on the bilinear game,
the projection discriminator's logit, BigGAN's truncated normal and the EMA of the generator's
weights. (Spherical interpolation, which chapter 04 uses again, is chapter 03's check_slerp.)"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from .core import CheckFailed, _Check, _close, _finite


class _Check4(_Check):
    """A check that words this chapter's common exceptions (shapes that do not broadcast, ...)."""

    HINTS = {
        "cannot be multiplied": "a matrix product with mismatched shapes: psi_weight is (1, C), so psi(phi) = phi @ "
                                "psi_weight.T + psi_bias (or F.linear(phi, psi_weight, psi_bias)); embed_weight is "
                                "(K, C), and embed_weight[y] is (N, C).",
        "must be tuple of ints": "a size must be a Python int: torch.randn(int(mask.sum()), generator=generator).",
        "leaf Variable that requires grad": "an in-place change of a tensor that requires grad: the update of the "
                                            "average belongs inside `with torch.no_grad():`, and only the average "
                                            "changes, never the model's parameters.",
        "tensors used as indices must be long": "index the embedding with integer labels: embed_weight[y] with y a "
                                                "LongTensor.",
    }

    def call(self, case: int, *args: Any, **shown: Any) -> Any:
        try:
            return super().call(case, *args, **shown)
        except CheckFailed as failure:
            err = failure.__cause__
            hint = next((h for key, h in self.HINTS.items() if err is not None and key in str(err)), None)
            if hint is None:
                raise
            raise CheckFailed(self.message(f"Your function raised {type(err).__name__}: {err}", diagnosis=hint)) from err


# ---------------------------------------------------------------- the bilinear game (Exercise 1)
def _bilinear(x: float, y: float, lr: float, steps: int, mode: str, y_sign: float = 1.0, x_sign: float = -1.0,
              y_first: bool = False) -> np.ndarray:
    """Gradient steps on f(x, y) = x y: x descends (x_sign = -1), y ascends (y_sign = +1). Rows (steps + 1, 2)."""
    rows = [(x, y)]
    for _ in range(steps):
        if mode == "simultaneous":
            x, y = x + x_sign * lr * y, y + y_sign * lr * x  # both gradients at the old point
        elif y_first:
            y = y + y_sign * lr * x
            x = x + x_sign * lr * y
        else:
            x = x + x_sign * lr * y  # df/dx = y
            y = y + y_sign * lr * x  # df/dy = x, at the NEW x
        rows.append((x, y))
    return np.array(rows, dtype=float)


def _as_array(got: Any) -> np.ndarray | None:
    """A list, array or tensor of numbers as a float array; None if it is not one."""
    try:
        if isinstance(got, Tensor):
            return got.detach().cpu().double().numpy()
        if isinstance(got, (list, tuple)):
            got = [g.detach().cpu().double().numpy() if isinstance(g, Tensor) else g for g in got]
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None
    return arr if arr.ndim >= 1 else None


def check_bilinear_updates(fn: Callable[[float, float, float, int, str], Any]) -> None:
    """fn(x, y, lr, steps, mode) -> the trajectory (steps + 1, 2) of min_x max_y x*y under gradient steps:
    x descends, y ascends; mode "simultaneous" (both at the old point) or "alternating" (x first, then y at the new x)."""
    cases = [(1.0, 0.5, 0.1, 20, "simultaneous"), (1.0, 0.5, 0.1, 20, "alternating"),
             (-0.3, 2.0, 0.5, 12, "alternating"), (0.8, -0.6, 0.3, 15, "simultaneous"), (0.5, 0.5, 1.5, 8, "alternating")]
    chk = _Check4("check_bilinear_updates", "gradient descent-ascent on f(x, y) = x y", fn, len(cases))
    for case, (x, y, lr, steps, mode) in enumerate(cases, 1):
        expected = _bilinear(x, y, lr, steps, mode)
        raw = chk.call(case, x, y, lr, steps, mode, x=x, y=y, lr=lr, steps=steps, mode=repr(mode))
        got = _as_array(raw)
        if got is None:
            chk.fail("It must return the trajectory: a tensor, array or list of (x, y) rows.", expected,
                     type(raw).__name__, "collect the points in a list, [(x0, y0), (x1, y1), ...], and return "
                                         "torch.tensor(points) (or the list itself).")
        if got.shape != expected.shape:
            if got.shape == (steps, 2) and _close(got, expected[1:]):
                chk.fail(f"It returned {steps} rows; the trajectory has steps + 1 = {steps + 1}.", expected, got,
                         "the starting point is missing: the first row is (x0, y0) itself, before any step; "
                         "append the start before the loop.")
            if got.shape == (2, steps + 1):
                chk.fail(f"It returned shape {got.shape}: transposed.", expected, got,
                         "one row per point, shape (steps + 1, 2): stack the points with dim=0 (or return .T).")
            if got.shape == (steps + 2, 2):
                chk.fail(f"It returned {steps + 2} rows, one step too many.", expected, got,
                         f"take exactly `steps` steps: the trajectory is the start plus {steps} points.")
            chk.fail(f"It returned shape {got.shape}; the trajectory has shape (steps + 1, 2) = {expected.shape}.",
                     expected, got, "one row (x_t, y_t) per time t = 0, 1, ..., steps.")
        if not np.isfinite(got).all():
            chk.fail("The trajectory contains NaN or inf.", expected, got, "with these inputs every point is finite.")
        if _close(got, expected, rtol=1e-4, atol=1e-5):
            continue
        other = "alternating" if mode == "simultaneous" else "simultaneous"
        if np.allclose(got, got[-1], rtol=0, atol=0) and not np.allclose(expected, expected[-1]):
            chk.fail("Every row is the same point.", expected, got, "the list holds the same tensor several times, "
                     "changed in place after it was appended: append a copy (z.clone(), or new Python floats).")
        variants = [
            ("y descends instead of ascending: y is the MAXIMISING player, y <- y + lr * df/dy = y + lr * x.",
             _bilinear(x, y, lr, steps, mode, y_sign=-1.0)),
            ("the roles are swapped: x minimises (x <- x - lr * y) and y maximises (y <- y + lr * x).",
             _bilinear(x, y, lr, steps, mode, y_sign=-1.0, x_sign=1.0)),
            ("x ascends instead of descending: x is the MINIMISING player, x <- x - lr * df/dx = x - lr * y.",
             _bilinear(x, y, lr, steps, mode, x_sign=1.0)),
        ]
        if mode == "alternating":
            variants.insert(0, ("this is the SIMULTANEOUS trajectory: in alternating mode y's step must use the NEW x "
                                "(update x first, then y <- y + lr * x with that x); you used the old x.",
                                _bilinear(x, y, lr, steps, other)))
            variants.append(("y moved first: here x takes its step first, then y responds to the new x.",
                             _bilinear(x, y, lr, steps, mode, y_first=True)))
        else:
            variants.insert(0, ("this is the ALTERNATING trajectory: in simultaneous mode both gradients are taken at "
                                "the old point; keep the old x for y's step (x, y = x - lr * y, y + lr * x).",
                                _bilinear(x, y, lr, steps, other)))
        if _close(got[1:], expected[:-1]):
            chk.fail("The trajectory lags one step behind.", expected, got, "the start appears twice and the last "
                     "point is missing: record the start once before the loop, then append each point AFTER its update.")
        chk.mismatch(expected, got, variants, problem=f"Wrong trajectory ({mode} updates).",
                     fallback="no common mistake matches. Simultaneous: x_{t+1} = x_t - lr * y_t, y_{t+1} = y_t + lr * "
                              "x_t. Alternating: x_{t+1} = x_t - lr * y_t, then y_{t+1} = y_t + lr * x_{t+1}.")
    chk.passed()


# ---------------------------------------------------------------- the projection discriminator (Exercise 2)
def _projection(phi: Tensor, w: Tensor, b: Tensor, embed: Tensor, y: Tensor) -> Tensor:
    return (phi @ w.T).squeeze(1) + b + (embed[y] * phi).sum(dim=1)  # (N,): psi(phi) + <embed[y], phi>


def check_projection_logit(fn: Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]) -> None:
    """fn(phi (N, C), psi_weight (1, C), psi_bias (1,), embed_weight (K, C), y (N,)) -> psi(phi) + <embed[y], phi>, (N,)."""
    g = torch.Generator().manual_seed(4)
    sizes = [(5, 4, 3), (6, 8, 10), (7, 3, 7)]  # (N, C, K); in case 3, N = K
    cases = []
    for n, c, k in sizes:
        y = torch.randint(k, (n,), generator=g)
        y[:2] = torch.tensor([k - 1, 0])  # both ends of the class range, and classes repeat
        cases.append((torch.randn(n, c, generator=g), torch.randn(1, c, generator=g), torch.randn(1, generator=g),
                      torch.randn(k, c, generator=g), y))
    chk = _Check4("check_projection_logit", "the projection discriminator's logit", fn, len(cases))
    for case, (phi, w, b, embed, y) in enumerate(cases, 1):
        n, k = len(phi), len(embed)
        leaves = [t.clone().requires_grad_(True) for t in (phi, w, b, embed)]
        expected = _projection(*leaves, y)
        inputs = [t.clone().requires_grad_(True) for t in (phi, w, b, embed)]
        got = chk.call(case, *inputs, y.clone(),
                       phi=f"{tuple(phi.shape)} features", psi_weight=w, psi_bias=b,
                       embed_weight=f"{tuple(embed.shape)}: one row per class", y=str(y.tolist()))
        if not isinstance(got, Tensor):
            chk.fail("It must return a torch tensor.", expected, got, f"your function returned a {type(got).__name__}; "
                     "keep the computation in torch so that gradients reach phi, psi and the embedding.")
        if got.shape != (n,):
            diagnosis = {(n, n): "an (N, N) result comes from broadcasting a column (N, 1) against a row (N,): "
                                 "psi(phi) = phi @ psi_weight.T has shape (N, 1), so squeeze it (.squeeze(1)); and "
                                 "embed[y] @ phi.T pairs every label with every example: take the row-wise inner "
                                 "product (embed[y] * phi).sum(dim=1).",
                         (n, 1): "psi(phi) = phi @ psi_weight.T has shape (N, 1): squeeze it to (N,) before adding.",
                         (): "the logits were summed (or averaged) over the batch: D returns one logit per example.",
                         (1,): "the logits were summed (or averaged) over the batch: D returns one logit per example.",
                         (n, k): "one score per class: pick the embedding of each example's own class, embed_weight[y]."
                         }.get(tuple(got.shape), "one logit per example: the result has shape (N,).")
            chk.fail(f"It returned shape {tuple(got.shape)}; D gives one logit per example, shape ({n},).", expected,
                     got, diagnosis)
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, "the projection is a plain sum of products; no log or "
                                                               "division is needed.")
        if not _close(got, expected):
            psi = (phi @ w.T).squeeze(1) + b
            inner = phi @ embed.T  # (N, K): <embed[c], phi_i> for every class c
            variants = [
                ("the psi term is missing: the logit is psi(phi) + <embed[y], phi>, psi(phi) = psi_weight . phi + bias "
                 "(the unconditional part, log q(x)/p(x) in the derivation).", inner[torch.arange(n), y]),
                ("the projection term <embed[y], phi> is missing: the logit is psi(phi) + <embed[y], phi>, where "
                 "<embed[y], phi> = (embed_weight[y] * phi).sum(dim=1) brings in the class.", psi),
                ("psi's bias is missing: psi(phi) = phi @ psi_weight.T + psi_bias.", psi - b + inner[torch.arange(n), y]),
                ("the projection was summed over the whole batch: <embed[y_i], phi_i> is one number per example, "
                 "sum over the feature dimension only (dim=1).", psi + (embed[y] * phi).sum()),
                ("the class enters as an additive score that ignores phi (embed[y] summed, or a one-hot of y "
                 "concatenated and fed to a linear layer): a projection discriminator takes the INNER PRODUCT "
                 "<embed[y], phi(x)>, so the class decides which feature directions count.", psi + embed[y].sum(1)),
                ("the scores of all classes were added: use only the example's own class, embed_weight[y].",
                 psi + inner.sum(1)),
                ("the embedding was added to phi before psi: psi(phi + embed[y]) is linear in the class, not a "
                 "projection; add <embed[y], phi> to psi(phi).", ((phi + embed[y]) @ w.T).squeeze(1) + b),
                ("the projection term has the wrong sign: D(x, y) = psi(phi) + <embed[y], phi>.",
                 psi - inner[torch.arange(n), y]),
            ]
            resid = got.detach() - psi  # what the student's class term contributes
            match = (resid[:, None] - inner).abs() < 1e-4 * (1 + inner.abs())  # (N, K): classes that explain it
            if match.any(dim=1).all() and not match[torch.arange(n), y].all():
                used = [int(row.nonzero()[0]) for row in match]
                chk.fail("Wrong value.", expected, got, f"the embedding of the wrong class: for the labels y = "
                         f"{y.tolist()} you used the rows {used} of embed_weight. Index it with the labels themselves, "
                         f"embed_weight[y] (F.embedding(y, embed_weight)), without shifting or reordering them.")
            chk.mismatch(expected.detach(), got.detach(), [(d, v) for d, v in variants],
                         fallback="no common mistake matches: compute psi = phi @ psi_weight.T + psi_bias (squeezed to "
                                  "(N,)) and add (embed_weight[y] * phi).sum(dim=1).")
        if not got.requires_grad:
            chk.fail("The value is right but it carries no gradient.", expected, got, "the result is cut off from the "
                     "graph (.detach(), NumPy, .item() or torch.no_grad()); D is trained through this logit.")
        want = torch.autograd.grad(expected.sum(), leaves)
        have = torch.autograd.grad(got.sum(), inputs, allow_unused=True)
        for name, h, want_g in zip(("phi", "psi_weight", "psi_bias", "embed_weight"), have, want):
            if h is None or not _close(h, want_g, rtol=1e-3):
                chk.fail(f"The value is right but its gradient with respect to {name} is not.", want_g, h,
                         f"part of the computation involving {name} is detached or done outside torch.")
    chk.passed()


# ---------------------------------------------------------------- the truncation trick (Exercise 3)
def _truncated_moments(a: float) -> tuple[float, float]:
    """P(|Z| <= a) and the standard deviation of Z ~ N(0, 1) conditioned on |Z| <= a."""
    mass = math.erf(a / math.sqrt(2))  # 2 Phi(a) - 1
    density = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    return mass, math.sqrt(1 - 2 * a * density / mass)


def _truncated_cdf(t: np.ndarray, a: float) -> np.ndarray:
    """CDF of N(0, 1) truncated to [-a, a]."""
    phi = lambda u: 0.5 * (1 + np.vectorize(math.erf)(u / math.sqrt(2)))  # noqa: E731
    return (phi(np.clip(t, -a, a)) - phi(-a)) / (phi(a) - phi(-a))


def _reference_truncated(n: int, dim: int, a: float, generator: torch.Generator) -> Tensor:
    z = torch.randn(n, dim, generator=generator)
    out = z.abs() > a
    while out.any():  # resample exactly the entries that fell outside, until none does
        z[out] = torch.randn(int(out.sum()), generator=generator)
        out = z.abs() > a
    return z


def check_truncated_normal(fn: Callable[[int, int, float, torch.Generator], Tensor]) -> None:
    """fn(n, dim, threshold, generator) -> (n, dim) draws of N(0, 1) truncated to [-threshold, threshold], each
    out-of-range entry resampled (BigGAN's truncation trick), every draw from ``generator``."""
    cases = [(2000, 16, 2.0), (4000, 8, 1.0), (6000, 3, 0.5)]
    chk = _Check4("check_truncated_normal", "samples of a truncated normal", fn, len(cases))
    for case, (n, dim, a) in enumerate(cases, 1):
        shown = dict(n=n, dim=dim, threshold=a, generator=f"torch.Generator().manual_seed({case})")
        global_state = torch.get_rng_state()
        got = chk.call(case, n, dim, a, torch.Generator().manual_seed(case), **shown)
        if not torch.equal(torch.get_rng_state(), global_state):
            torch.set_rng_state(global_state)
            chk.fail("Your function drew from (or reseeded) PyTorch's global random generator.", diagnosis="draw every "
                     "random number from the `generator` argument, torch.randn(..., generator=generator), also for "
                     "the resampled entries; leave torch.manual_seed to the caller.")
        if not isinstance(got, Tensor):
            chk.fail("It must return a torch tensor.", f"a tensor of shape ({n}, {dim})", type(got).__name__,
                     "draw with torch.randn(..., generator=generator) and return the tensor.")
        if got.shape != (n, dim):
            chk.fail(f"It returned shape {tuple(got.shape)}.", f"shape ({n}, {dim})", tuple(got.shape),
                     "n rows (one latent vector each) of dim entries: torch.randn(n, dim, generator=generator)."
                     if got.numel() != n * dim else "the entries are there but in the wrong shape: keep (n, dim).")
        if not got.is_floating_point() or not _finite(got):
            chk.fail("The samples must be finite floats.", diagnosis="NaN or inf (or an integer tensor) in the result.")
        z = got.detach().double().cpu().numpy()
        mass, std = _truncated_moments(a)
        outside = np.abs(z) > a * (1 + 1e-6)
        if outside.any():
            frac, below, above = outside.mean(), (z < -a).any(), (z > a).any()
            if below != above:
                diagnosis = (f"only one tail was truncated: entries {'below -' if below else 'above +'}threshold "
                             f"remain. Test the magnitude, z.abs() > threshold, so that both tails are resampled.")
            elif abs(frac - (1 - mass)) < 0.02 and abs(z.std() - 1) < 0.05:
                diagnosis = ("nothing was truncated: these look like plain N(0, 1) draws. Find the entries with "
                             "|z| > threshold and draw them again, until none is left.")
            elif abs(z.std() - a) < 0.05 * a:
                diagnosis = ("these look like N(0, threshold^2): multiplying by the threshold changes the scale; it does "
                             "not bound the entries. Resample the entries with |z| > threshold instead.")
            elif frac < 0.5 * (1 - mass):
                diagnosis = ("a few entries are still out of range: one round of resampling is not enough, because "
                             "the new draws can fall outside too. Repeat until no entry is out of range (a while loop).")
            else:
                diagnosis = "resample every entry with |z| > threshold until none is left."
            chk.fail(f"{outside.sum()} of {z.size} entries ({frac:.2%}) have |z| > threshold = {a}.",
                     f"every |z| <= {a}", f"max |z| = {np.abs(z).max():.4f}", diagnosis)
        at_edge = (np.abs(z) >= a * (1 - 1e-6)).mean()
        if at_edge > 1e-3:
            chk.fail(f"{at_edge:.1%} of the entries sit exactly at +-threshold.",
                     f"about 0% (a continuous distribution); N(0, 1) puts {1 - mass:.1%} of its mass beyond +-{a}",
                     f"{at_edge:.1%}", "the entries were CLAMPED (torch.clamp): all the mass of the tails piles up on "
                     "the boundary. The truncation trick resamples the out-of-range entries instead, so they land "
                     "inside with the shape of the normal density.")
        values = np.sort(z.ravel())
        ks = np.abs(_truncated_cdf(values, a) - (np.arange(1, values.size + 1) - 0.5) / values.size).max()
        if ks > 2.5 / math.sqrt(values.size) or abs(values.mean()) > 6 * std / math.sqrt(values.size):
            if abs(z.std() - a / math.sqrt(3)) < 0.01 * a and abs(z.std() - std) > 0.004:
                diagnosis = "these look uniform on [-threshold, threshold]: draw from the normal, torch.randn."
            elif z.std() < std:
                diagnosis = ("the entries are squeezed towards 0 compared with a truncated normal: do not rescale "
                             "(z * threshold / z.abs().max(), z / 3, tanh ...) nor wrap (torch.fmod, %); keep the "
                             "in-range entries as drawn and redraw only the others.")
            else:
                diagnosis = ("the in-range entries must keep the shape of the N(0, 1) density on [-threshold, "
                             "threshold]: keep them as drawn and redraw only the others, from N(0, 1).")
            chk.fail(f"The entries do not follow a truncated N(0, 1): mean {values.mean():.3f}, standard deviation "
                     f"{z.std():.3f}, largest CDF gap {ks:.3f}.", f"mean 0, standard deviation {std:.3f}",
                     f"mean {values.mean():.3f}, standard deviation {z.std():.3f}", diagnosis)
        again = chk.call(case, n, dim, a, torch.Generator().manual_seed(case), **shown)
        if not isinstance(again, Tensor) or not torch.equal(again, got):
            chk.fail("Two calls with identically seeded generators gave different samples.", diagnosis="draw every "
                     "random number from the `generator` argument: torch.randn(..., generator=generator), also for "
                     "the resampled entries, so that a seed reproduces the latent codes.")
        other = chk.call(case, n, dim, a, torch.Generator().manual_seed(100 + case),
                         **{**shown, "generator": f"torch.Generator().manual_seed({100 + case})"})
        if isinstance(other, Tensor) and other.shape == got.shape and torch.equal(other, got):
            chk.fail("Generators with different seeds gave the same samples.", diagnosis="your function reseeds the "
                     "generator it is given (generator.manual_seed(...)) or makes its own: the caller's seed must "
                     "decide the codes. Draw from `generator` as it comes, torch.randn(..., generator=generator).")
    chk.passed()


# ---------------------------------------------------------------- EMA of the generator's weights (Exercise 4)
def _ema_cases() -> list[tuple[list[Tensor], list[Tensor], float]]:
    g = torch.Generator().manual_seed(7)
    shapes = [[(3, 2), (2,), (4, 1, 2)], [(5,), (2, 3)]]
    cases = []
    for shapes_, decay in zip(shapes, (0.9, 0.999)):
        ema = [torch.randn(*s, generator=g) for s in shapes_]
        params = [torch.nn.Parameter(torch.randn(*s, generator=g) + 2.0) for s in shapes_]
        params[-1] = params[-1].detach()  # a buffer (say BatchNorm's running mean): it is averaged too
        cases.append((ema, params, decay))
    return cases


def check_ema_update(fn: Callable[[Sequence[Tensor], Sequence[Tensor], float], Any]) -> None:
    """fn(ema_params, params, decay): in place, theta_ema <- decay * theta_ema + (1 - decay) * theta, for each pair."""
    cases = _ema_cases()
    chk = _Check4("check_ema_update", "one update of the exponential moving average", fn, len(cases))
    for case, (ema, params, decay) in enumerate(cases, 1):
        ema0 = [e.clone() for e in ema]
        params0 = [p.detach().clone() for p in params]
        ema_list, ids = list(ema), [id(e) for e in ema]
        chk.call(case, ema_list, params, decay, ema_params=f"{len(ema)} tensors of shapes {[tuple(e.shape) for e in ema]}",
                 params=f"the model's {len(params) - 1} parameters (requires_grad=True) and one buffer (the last, "
                        f"requires_grad=False)", decay=decay)
        if any(not torch.equal(p.detach(), p0) for p, p0 in zip(params, params0)):
            chk.fail("The model's parameters changed.", diagnosis="only the average moves: write into ema_params, "
                     "never into params (the model keeps training from its own weights).")
        if [id(e) for e in ema_list] != ids:
            chk.fail("The tensors in ema_params were replaced by new ones.", diagnosis="whoever holds the average "
                     "(the EMA model) still sees the old tensors: change each one in place, e.g. "
                     "e.mul_(decay).add_(p, alpha=1 - decay) or e.lerp_(p, 1 - decay), inside torch.no_grad().")
        right = [_close(e, decay * e0 + (1 - decay) * p, rtol=1e-5, atol=1e-6) for e, e0, p in zip(ema, ema0, params0)]
        same = [torch.equal(e, e0) for e, e0 in zip(ema, ema0)]
        skipped = [i for i, (ok, still) in enumerate(zip(right, same)) if still and not ok]
        if skipped and any(right):
            buffer = skipped == [len(ema) - 1]
            chk.fail(f"ema_params{skipped} did not change; the others were updated right.",
                     diagnosis="the last pair is a buffer (requires_grad=False, like BatchNorm's running statistics): "
                               "it is averaged too, so do not skip tensors that do not require grad." if buffer else
                               "not every pair was updated: a return (or break) inside the loop stops after the first "
                               "one. Update every pair of zip(ema_params, params), then return.")
        for i, (e, e0, p) in enumerate(zip(ema, ema0, params0)):
            expected = decay * e0 + (1 - decay) * p
            if right[i]:
                continue
            if same[i]:
                chk.fail(f"ema_params[{i}] did not change.", expected, e, "the update was not done in place: "
                         "`e = decay * e + (1 - decay) * p` only rebinds the name e. Write into the tensor itself: "
                         "e.mul_(decay).add_(p, alpha=1 - decay), e.copy_(...) or e.lerp_(p, 1 - decay), inside "
                         "torch.no_grad(). (The return value is ignored.)")
            chk.mismatch(expected, e.detach(), [
                ("decay and 1 - decay are swapped: the OLD average keeps weight decay (close to 1), the new weights "
                 "get 1 - decay.", (1 - decay) * e0 + decay * p),
                ("the weights were copied into the average: that is decay = 0, no averaging at all.", p),
                ("the mean of the two is decay = 0.5: weight the average by decay and the weights by 1 - decay.",
                 0.5 * (e0 + p)),
                ("the new weights need the factor 1 - decay: decay * e + (1 - decay) * p.", decay * e0 + p),
                ("the average needs the factor decay: decay * e + (1 - decay) * p.", e0 + (1 - decay) * p),
                ("both terms are weighted by decay: the new weights get 1 - decay (add_(p, alpha=1 - decay)).",
                 decay * e0 + decay * p),
            ], problem=f"Wrong value of ema_params[{i}] after one update (decay = {decay}).")
        if any(e.requires_grad for e in ema):
            chk.fail("The values are right, but the average now requires grad.", diagnosis="the update was recorded "
                     "by autograd (it read the model's parameters outside torch.no_grad()): the average would join "
                     "every training graph. Wrap the update in `with torch.no_grad():`.")
    chk.passed()

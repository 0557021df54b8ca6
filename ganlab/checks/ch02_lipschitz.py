"""Checks for chapter 02, keeping the critic Lipschitz: weight clipping, the WGAN-GP gradient
penalty (interpolates, then the penalty), R1, and the power iteration behind spectral
normalisation (Exercises 5-9)."""

from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nets import MLPDiscriminator
from .core import _Check, _close, _finite, _fmt


# ---------------------------------------------------------------- weight clipping (Exercise 5)
def _clip_critic(case: int, c: float, batchnorm: bool) -> nn.Module:
    """A critic with weights ~ N(0, 3c) and .grad filled; with BatchNorm, running statistics outside [-c, c]."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(case)
        D = (nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 1)) if batchnorm
             else MLPDiscriminator(in_dim=2, width=8, depth=2))
        with torch.no_grad():
            for p in D.parameters():
                p.normal_(0.0, 3 * c)  # about a third of the entries inside [-c, c]
                p.grad = torch.randn_like(p)
            for name, b in D.named_buffers():
                if b.is_floating_point():
                    b.copy_(torch.rand_like(b) + 2.0 if "var" in name else torch.randn_like(b))
    return D


def check_clip_weights(fn: Callable[[nn.Module, float], None]) -> None:
    """fn(D, c) clamps every parameter of D (weights and biases) to [-c, c], in place; buffers (BatchNorm's
    running statistics) are not parameters and stay as they are."""
    cases = [(0.01, False), (0.5, False), (0.05, True)]
    chk = _Check("check_clip_weights", "weight clipping", fn, len(cases))
    for case, (c, batchnorm) in enumerate(cases, 1):
        D = _clip_critic(case, c, batchnorm)
        before = copy.deepcopy(D)
        params = list(D.parameters())
        grads = [p.grad.clone() for p in params]
        about = ("Linear(2, 8), BatchNorm1d(8), LeakyReLU, Linear(8, 1), running statistics outside [-c, c]"
                 if batchnorm else "MLPDiscriminator(width=8, depth=2)")
        chk.hints = {"can't be cast to the desired output type": "you clamped BatchNorm's num_batches_tracked, an "
                     "integer buffer: buffers are not parameters and are not clipped. Loop over D.parameters(), not "
                     "D.state_dict() or D.buffers()."}
        chk.call(case, D, c, D=f"{about}, weights ~ N(0, 3c), .grad filled", c=c)
        after = list(D.parameters())
        if len(after) != len(params) or any(a is not p for a, p in zip(after, params)):
            chk.fail("D's parameters were replaced by new tensors.", diagnosis="the optimiser still holds the old "
                     "ones, so it would keep training unclipped weights. Change them in place: inside torch.no_grad(), "
                     "p.clamp_(-c, c) for every p in D.parameters().")
        for (name, b), b0 in zip(D.named_buffers(), before.buffers()):
            if not torch.equal(b, b0):
                chk.fail(f"The buffer {name} changed.", b0, b, "BatchNorm's running statistics (running_mean, "
                         "running_var) are buffers, not parameters: WGAN clips the weights it trains. Loop over "
                         "D.parameters(), not D.state_dict() or D.buffers(); a variance clipped to [-c, c] can even "
                         "turn negative.")
        named = list(D.named_parameters())
        expected = [p0.detach().clamp(-c, c) for p0 in before.parameters()]
        right = [_close(p, e, rtol=0, atol=1e-7) for (_, p), e in zip(named, expected)]
        if all(right):
            continue
        unchanged = [name for (name, p), p0, ok in zip(named, before.parameters(), right)
                     if not ok and _close(p, p0, rtol=0, atol=0)]
        if unchanged and any(right):
            missed = ", ".join(unchanged)
            chk.fail(f"Some parameters were clipped, but not {missed}.", diagnosis="every parameter is clipped, biases "
                     "included (WGAN's Algorithm 1 clamps all of the critic's parameters w)." if all("bias" in n for n in
                     unchanged) else "only some of the layers were clipped (one layer picked by name or index, or a "
                     "return inside the loop): clip every parameter, for p in D.parameters(): p.clamp_(-c, c).")
        i = next(i for i, ok in enumerate(right) if not ok)
        (name, p), p0, g0 = named[i], list(before.parameters())[i], grads[i]
        if unchanged:
            clipped_grad = p.grad is not None and not _close(p.grad, g0, rtol=0, atol=0)
            chk.fail(f"{name} did not change.", expected[i], p, "the gradients were clipped, not the weights: WGAN "
                     "clips the parameters themselves after each critic step." if clipped_grad else
                     "p.clamp(-c, c) returns a new tensor and leaves p as it was; use the in-place p.clamp_(-c, c) "
                     "inside torch.no_grad().")
        chk.mismatch(expected[i], p, [
            ("clipped to [0, c]: the range is [-c, c], negative weights stay negative.", p0.detach().clamp(0, c)),
            ("the sign of each weight was lost: clamp p itself, not p.abs().", p0.detach().abs().clamp(-c, c)),
            ("scaled instead of clipped: clipping leaves weights inside [-c, c] unchanged and sets the rest to +-c.",
             p0.detach() * c / p0.detach().abs().max()),
        ], problem=f"Wrong values of {name} after clipping.")
    chk.passed()


# ---------------------------------------------------------------- the gradient penalty (Exercises 6-7)
def check_interpolates(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(real, fake) -> eps * real + (1 - eps) * fake, one eps ~ U[0, 1] per example, shared by its features."""
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn(512, 2, generator=g) + 3.0, torch.randn(512, 2, generator=g) - 3.0),
             (torch.rand(256, 1, 4, 4, generator=g), -torch.rand(256, 1, 4, 4, generator=g) - 1.0)]
    chk = _Check("check_interpolates", "random interpolates between real and fake", fn, len(cases))
    for case, (real, fake) in enumerate(cases, 1):
        got = chk.call(case, real.clone(), fake.clone().requires_grad_(True),
                       real=f"{len(real)} points of shape {tuple(real.shape[1:])}",
                       fake=f"{len(fake)} points, away from every real one, requiring grad as G(z) does")
        if not isinstance(got, Tensor) or got.shape != real.shape:
            chk.fail(f"It must return a tensor of the inputs' shape {tuple(real.shape)}.",
                     got=tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__,
                     diagnosis="eps needs one entry per example and 1s elsewhere so that it broadcasts: "
                               "torch.rand(N, 1) for (N, 2) data, torch.rand(N, 1, 1, 1) for images.")
        x, r, f = got.detach().flatten(1), real.flatten(1), fake.flatten(1)
        eps = ((x - f) * (r - f)).sum(1) / (r - f).pow(2).sum(1)  # the eps that best explains each row
        on_segment = _close(x, eps[:, None] * r + (1 - eps[:, None]) * f, rtol=1e-4, atol=1e-4)
        if not on_segment:
            chk.fail("Some results are not on the line between their real and fake points.", diagnosis="use ONE eps "
                     "per example for all its coordinates (torch.rand(N, 1, ...), not torch.rand_like(real)), and "
                     "pair real[i] with fake[i]." if _finite(x) else "NaN in the result.")
        if eps.min() < -1e-4 or eps.max() > 1 + 1e-4:
            chk.fail(f"eps ranges over [{eps.min():.3f}, {eps.max():.3f}], outside [0, 1].", diagnosis="eps ~ U[0, 1]: "
                     "torch.rand, not torch.randn; the interpolates lie BETWEEN real and fake points.")
        if eps.std() < 0.05:
            chk.fail(f"Every example got the same eps ({eps.mean():.3f}).", diagnosis="draw one eps per example, "
                     "torch.rand(N, 1, ...), not one number for the whole batch: the penalty should see points all "
                     "along the lines between real and fake samples.")
        if abs(eps.mean() - 0.5) > 0.06 or abs(eps.std() - 12 ** -0.5) > 0.04:
            chk.fail(f"eps has mean {eps.mean():.3f} and standard deviation {eps.std():.3f}; U[0, 1] has 0.5 and "
                     f"0.289.", diagnosis="draw eps from torch.rand (uniform on [0, 1]).")
        if got.requires_grad:
            chk.fail("The interpolates are right, but they carry a graph back to G.", diagnosis="detach the inputs, "
                     "eps * real.detach() + (1 - eps) * fake.detach(): the penalty trains D, not G, and the graph "
                     "through G would be kept (and differentiated) for nothing.")
    chk.passed()


def _grads(D: nn.Module, x: Tensor, reduce: str = "sum", create_graph: bool = True) -> Tensor:
    x = x.detach().requires_grad_(True)
    out = D(x).sum() if reduce == "sum" else D(x).mean()
    (grad,) = torch.autograd.grad(out, x, create_graph=create_graph)
    return grad


def _gp(D: nn.Module, x: Tensor, weight: float, norm: Callable[[Tensor], Tensor] = lambda g: g.flatten(1).norm(dim=1),
        reduce: str = "sum", shape: Callable[[Tensor], Tensor] = lambda n: (n - 1).pow(2)) -> Tensor:
    """The gradient penalty, with one switchable mistake to recognise it."""
    return weight * shape(norm(_grads(D, x, reduce))).mean()


def _r1(D: nn.Module, x: Tensor, gamma: float, norm: Callable[[Tensor], Tensor] = lambda g: g.flatten(1).pow(2).sum(1),
        reduce: str = "sum", scale: float = 0.5) -> Tensor:
    return scale * gamma * norm(_grads(D, x, reduce)).mean()


class _TinyConvCritic(nn.Module):
    """A critic on (N, 1, 4, 4) images, where a norm over dim=1 (channels) is not a norm per example."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 16, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(F.leaky_relu(self.conv(x), 0.2).flatten(1)).squeeze(1)



def _penalty_cases() -> list[tuple[nn.Module, Tensor, str, str]]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        mlp, conv = MLPDiscriminator(in_dim=2, width=16, depth=3), _TinyConvCritic()
        return [(mlp, 2 * torch.randn(8, 2), "MLPDiscriminator(width=16, depth=3)", "8 points in 2D"),
                (conv, torch.randn(6, 1, 4, 4), "a small conv critic on (N, 1, 4, 4) images", "6 images (6, 1, 4, 4)")]


def _check_penalty(name: str, task: str, fn: Callable, ref: Callable, weights: list[float], arg: str,
                   variants: Callable[[nn.Module, Tensor, float], list[tuple[str, Tensor]]]) -> None:
    """Value and gradient (with respect to D's parameters) of a penalty fn(D, x, weight) against ``ref``; the
    weight changes from case to case, so that an answer that ignores it fails."""
    cases = _penalty_cases()
    chk = _Check(name, task, fn, len(cases))
    for case, ((D, x, about_d, about_x), weight) in enumerate(zip(cases, weights), 1):
        expected = ref(D, x, weight)
        D.zero_grad(set_to_none=True)
        got = chk.call(case, D, x.clone(), weight, **{"D": about_d, "x": f"{about_x}, not requiring grad", arg: weight})
        if any(p.grad is not None for p in D.parameters()):
            chk.fail("D's parameters received .grad inside your function.", diagnosis="compute the input gradient "
                     "with torch.autograd.grad(..., create_graph=True), not .backward(): backward() fills every "
                     "parameter's .grad, and the optimiser step would apply it twice.")
        value = chk.scalar(got, expected)
        if not _close(value, expected.detach(), rtol=1e-4, atol=1e-6):
            ignored = [(f"the {arg} is missing or ignored: your value is the penalty for {arg} = {w:g}, and here "
                        f"{arg} = {weight:g}. Multiply by the {arg} you are given.", ref(D, x, w))
                       for w in (10.0, 1.0) if w != weight]
            chk.mismatch(expected.detach(), torch.tensor(value),
                         [(d, w.detach()) for d, w in ignored + variants(D, x, weight)])
        if not isinstance(got, Tensor) or not got.requires_grad:
            chk.fail("The value is right, but it carries no gradient to D's parameters.", diagnosis="pass "
                     "create_graph=True to torch.autograd.grad: the penalty is a function of D's weights through the "
                     "input gradient, and D's optimiser must be able to differentiate it (double backpropagation).")
        params = list(D.parameters())  # the last bias does not reach the input gradient: its gradient is zero
        want = torch.autograd.grad(expected, params, allow_unused=True)
        have = torch.autograd.grad(got, params, allow_unused=True)
        zero = torch.zeros(())
        if any(not _close(zero if h is None else h, zero if w is None else w, rtol=1e-3, atol=1e-6)
               for h, w in zip(have, want)):
            chk.fail("The value is right, but its gradient with respect to D's parameters is not.", diagnosis="part "
                     "of the computation is detached; keep it in torch, with create_graph=True in autograd.grad.")
    chk.passed()


def check_gradient_penalty(fn: Callable[[nn.Module, Tensor, float], Tensor]) -> None:
    """fn(D, x_hat, weight) -> weight * E[(||grad_x D(x_hat)||_2 - 1)^2], one norm per example."""
    def variants(D: nn.Module, x: Tensor, w: float) -> list[tuple[str, Tensor]]:
        per_dim1 = lambda g: g.norm(dim=1)  # noqa: E731 - one norm per channel and pixel on images
        return [
            ("the norm is taken over the wrong dimension: dim=0 runs over the batch. Take one norm per example, over "
             "all its other dimensions: grad.flatten(1).norm(2, dim=1).", _gp(D, x, w, lambda g: g.flatten(1).norm(dim=0))),
            ("one norm of the whole batch's gradient: the penalty needs ||grad D(x_hat_i)|| for each example i, then "
             "the mean of (norm - 1)^2.", _gp(D, x, w, lambda g: g.norm().reshape(1))),
            ("on images, norm(dim=1) takes the norm over channels only, one per pixel: flatten each example first, "
             "grad.flatten(1).norm(2, dim=1).", _gp(D, x, w, per_dim1)),
            ("the gradient of D(x_hat).mean() divides each example's gradient by N: differentiate D(x_hat).sum() "
             "(each output depends only on its own input).", _gp(D, x, w, reduce="mean")),
            ("the SQUARED norm is compared with 1: use the norm itself, (||g|| - 1)^2.",
             _gp(D, x, w, lambda g: g.flatten(1).pow(2).sum(1))),
            ("the penalty is (||g|| - 1)^2, centred at 1; you penalised ||g||^2 (that is zero-centred, like R1).",
             _gp(D, x, w, shape=lambda n: n.pow(2))),
            ("one-sided: relu(||g|| - 1)^2 only penalises norms above 1; WGAN-GP's penalty is two-sided, (||g|| - 1)^2.",
             _gp(D, x, w, shape=lambda n: F.relu(n - 1).pow(2))),
            ("|| g || - 1 without the square: the penalty is (||g|| - 1)^2.", _gp(D, x, w, shape=lambda n: n - 1)),
            ("the weight was applied twice.", _gp(D, x, w * w)),
            ("a sum over the batch where a mean belongs: E[(||g|| - 1)^2] is the mean over the examples.",
             len(x) * _gp(D, x, w)),
            ("the square of the mean, (E[||g||] - 1)^2: the penalty is the mean of the squares, E[(||g|| - 1)^2].",
             w * (_grads(D, x).flatten(1).norm(dim=1).mean() - 1).pow(2)),
            ("the root MEAN square of each example's gradient is not its norm: sum the squares over the example's "
             "coordinates, grad.flatten(1).norm(2, dim=1).", _gp(D, x, w, lambda g: g.flatten(1).pow(2).mean(1).sqrt())),
        ]
    _check_penalty("check_gradient_penalty", "the WGAN-GP gradient penalty", fn, lambda D, x, w: _gp(D, x, w),
                   [10.0, 2.5], "weight", variants)


def check_r1_penalty(fn: Callable[[nn.Module, Tensor, float], Tensor]) -> None:
    """fn(D, real, gamma) -> gamma / 2 * E[||grad_x D(x)||_2^2] on real data."""
    def variants(D: nn.Module, x: Tensor, w: float) -> list[tuple[str, Tensor]]:
        return [
            ("missing factor 1/2: R1 is gamma/2 * E[||grad D(x)||^2].", _r1(D, x, w, scale=1.0)),
            ("the norm is not squared: R1 penalises ||grad D(x)||^2.", _r1(D, x, w, lambda g: g.flatten(1).norm(dim=1))),
            ("(||g|| - 1)^2 is WGAN-GP's penalty; R1 is zero-centred: gamma/2 * ||g||^2.",
             _r1(D, x, w, lambda g: (g.flatten(1).norm(dim=1) - 1).pow(2))),
            ("the gradient of D(x).mean() divides each example's gradient by N: differentiate D(x).sum().",
             _r1(D, x, w, reduce="mean")),
            ("a sum over the batch where a mean belongs.", len(x) * _r1(D, x, w)),
            ("a mean over all the entries of the gradient: sum the squares over each example's coordinates, "
             "grad.flatten(1).pow(2).sum(1), then average over the batch.",
             _r1(D, x, w, lambda g: g.flatten(1).pow(2).mean(1))),
            ("gamma was applied twice.", _r1(D, x, w * w)),
        ]
    _check_penalty("check_r1_penalty", "the R1 penalty", fn, lambda D, x, g: _r1(D, x, g), [10.0, 0.5], "gamma",
                   variants)


# ---------------------------------------------------------------- spectral normalisation (Exercise 9)
def check_top_singular_value(fn: Callable[[Tensor, int], Tensor]) -> None:
    """fn(W, n_iters) -> sigma_max(W), estimated by power iteration, as spectral normalisation does."""
    def with_singular_values(rows: int, cols: int, values: list[float], seed: int) -> Tensor:
        g = torch.Generator().manual_seed(seed)
        u, _ = torch.linalg.qr(torch.randn(rows, rows, generator=g))
        v, _ = torch.linalg.qr(torch.randn(cols, cols, generator=g))
        s = torch.zeros(rows, cols)
        s[range(len(values)), range(len(values))] = torch.tensor(values)
        return u @ s @ v.T

    cases = [with_singular_values(6, 4, [3.0, 1.0, 0.5, 0.2], 0), with_singular_values(3, 8, [0.7, 0.3, 0.1], 1),
             with_singular_values(5, 5, [2.0, 1.5, 1.0, 0.5, 0.1], 2)]
    cases[2] = cases[2] @ torch.diag(torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0]))  # not symmetric: eigen != singular
    # Cases 4 and 5: sigma_2 / sigma_1 = 0.9975, so power iteration needs about 2000 rounds to reach float32's
    # precision; a fixed number of rounds (20, 100) stops short of it, n_iters = 5000 does not. W has full rank and
    # several singular values near the top, so that a random start close enough to the top singular vectors for 100
    # rounds to suffice is too rare to matter (with rank 2 or 3 it happened about once in 300 starts).
    cases += [with_singular_values(6, 8, [2.0, 1.995, 1.99, 1.985, 1.0, 0.4], 3),
              with_singular_values(7, 6, [3.0, 2.9925, 2.985, 1.5, 0.9, 0.6], 4)]
    n_iters, rtols = [100, 50, 100, 5000, 5000], [1e-3, 1e-3, 1e-3, 3e-6, 3e-6]
    chk = _Check("check_top_singular_value", "the top singular value by power iteration", fn, len(cases))
    for case, (W, n, rtol) in enumerate(zip(cases, n_iters, rtols), 1):
        expected = torch.linalg.matrix_norm(W, ord=2)
        about = f"{tuple(W.shape)}, singular values {_fmt(torch.linalg.svdvals(W))}"
        got = chk.scalar(chk.call(case, W.clone(), n, W=about, n_iters=n), expected, nan_hint="without normalising u "
                         "and v after each product they grow (or shrink) like sigma_max^n and overflow: divide each by "
                         "its norm in every round, v = F.normalize(W.T @ u, dim=0), u = F.normalize(W @ v, dim=0).")
        if not _close(got, expected, rtol=rtol, atol=1e-4 if rtol > 1e-4 else 0.0):
            svals = torch.linalg.svdvals(W)
            variants = [("sigma_max squared: ||W^T W v|| is sigma^2; return u^T W v (or ||W v||) for unit u, v.",
                         expected**2),
                        ("the Frobenius norm sqrt(sum W_ij^2) is an upper bound, not sigma_max: iterate "
                         "v <- W^T u / ||W^T u||, u <- W v / ||W v||.", torch.linalg.matrix_norm(W)),
                        ("the smallest singular value: power iteration finds the largest.", svals[-1])]
            if W.shape[0] == W.shape[1]:
                variants.append(("the largest |eigenvalue| of W is not its top singular value unless W is symmetric: "
                                 "iterate with W^T and W.", torch.linalg.eigvals(W).abs().max()))
            if got > expected:
                fallback = ("the estimate is ABOVE sigma_max, which u^T W v cannot exceed for unit vectors u and v: "
                            "normalise both in every round (F.normalize(..., dim=0)).")
            else:
                fallback = (f"the estimate is below sigma_max: the iteration has not converged. Run exactly n_iters = "
                            f"{n} rounds (the argument, not a fixed number), and in each round update BOTH vectors, "
                            f"v <- W^T u / ||W^T u||, then u <- W v / ||W v||.")
            chk.mismatch(expected, torch.tensor(got), variants, fallback=fallback)
    chk.passed()

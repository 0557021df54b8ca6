"""Checks for chapter 09, debugging GANs: the cross-entropy losses on logits, stable for any logit (Exercise 3), a
least-squares loss whose labels cannot broadcast against D's output (Exercise 4) and the gradient penalty with one norm
per example (Exercise 5). The players' steps (Exercises 1-2) are checked in ``ch09_steps``, saving and resuming a run
(Exercise 6) in ``ch09_resume``; this module gathers all of the chapter's checks, so that ``from ganlab.checks import
ch09`` gives every one."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .ch02_lipschitz import _gp, _grads
from .ch05 import _gradients, _unchanged
from .ch06 import _call, _seeded
from .ch07 import _run, _values
from .ch08 import _grads_of, _same_grads
from .ch09_resume import check_save_and_resume
from .ch09_steps import BAR, _trains, check_d_step_detached, check_g_step, tiny_run
from .core import _SIGMOID_TWICE, _Check, _close, _fmt

__all__ = ["check_d_step_detached", "check_g_step", "check_logit_losses", "check_least_squares_loss",
           "check_penalty_per_example", "check_save_and_resume", "tiny_run", "critic_run", "least_squares_steps",
           "BAR", "NORM_BAR"]

NORM_BAR = 2.0  # critic_run's gradient norms: about 1.2 with the penalty, 6.3 without, 5.1 with one norm per pixel
_NOT_RANDOM = "the loss is a formula of the tensors given: nothing is drawn at random."
_SATURATED = ("in float32, sigmoid(l) rounds to exactly 1 for l above about 17 (and to 0 for l below about -88), so "
              "log(1 - sigmoid(l)) or log(sigmoid(l)) becomes log(0) = -inf exactly where D is confidently wrong, and "
              "the run turns to NaN. Write each term with F.softplus (-log sigmoid(l) = softplus(-l), "
              "-log(1 - sigmoid(l)) = softplus(l)), F.logsigmoid or F.binary_cross_entropy_with_logits: exact for "
              "every logit.")
_CAPPED = ("your loss is right for moderate logits but not for large ones: a clamp of the probabilities, or an "
           "epsilon inside the log, caps each term at -log(eps) and kills its gradient exactly where D is most wrong. "
           "Write the terms with F.softplus, F.logsigmoid or F.binary_cross_entropy_with_logits, exact for any logit.")


def _t(*values: float) -> Tensor:
    return torch.tensor(values, dtype=torch.float32)


# ---------------------------------------------------------------- the losses on logits (Exercise 3)
# D's raw outputs on real data and on fakes; the last two with logits where D is confidently wrong. No logit is 0,
# where the stable forms written with clamp(min=0) and abs() have a kink and their gradients may differ.
_LOGIT_CASES = [
    (_t(2.0, -1.0, 0.5, 3.0), _t(-1.5, 0.3, -2.0, 1.0)),
    (_t(0.7, -2.2, 1.4, 3.1, -0.3).view(5, 1), _t(-0.8, 2.5, 0.1).view(3, 1)),
    (_t(1.2, -0.4, 2.0, 0.3, -1.1, 0.8, 1.6, -2.0, 0.2, 2.4, -0.7, 1.0).view(2, 1, 2, 3),
     _t(-1.0, 0.6, -2.2, 0.9, -0.3, -1.7, 1.3, -0.5, -2.6, 0.4, -1.4, 0.1).view(2, 1, 2, 3)),
    (_t(-120.0, 3.0, 30.0, -0.5).view(4, 1), _t(40.0, -60.0, 0.3, 100.0).view(4, 1)),
    (_t(-20.0, -110.0, 60.0), _t(25.0, -130.0, 18.0, 0.4, -3.0)),
]


def _large(*logits: Tensor) -> bool:
    return any(bool((t.abs() > 15).any()) for t in logits)


def check_logit_losses(d_loss_fn: Callable[[Tensor, Tensor], Tensor], g_loss_fn: Callable[[Tensor], Tensor]) -> None:
    """d_loss_fn(real_logits, fake_logits) -> -E[log D(x)] - E[log(1 - D(G(z)))] and g_loss_fn(fake_logits) ->
    -E[log D(G(z))], D = sigmoid(logit), each a 0-d tensor, each mean over its own batch and every entry; exact, and
    finite, for logits of any size (in float32, log(sigmoid(l)) is -inf below l = -88, log(1 - sigmoid(l)) above 17)."""
    chk = _Check("check_logit_losses", "the discriminator's loss on logits", d_loss_fn, len(_LOGIT_CASES))
    for case, (real, fake) in enumerate(_LOGIT_CASES, 1):
        chk.hints = {"must be the same as input size": "the targets have another shape than the logits: build them "
                                                       "with torch.ones_like(logits) and torch.zeros_like(logits)."}
        if real.shape != fake.shape:
            chk.hints["must match the size of tensor"] = ("the real and fake batches have different sizes here: take "
                                                          "a mean over each batch separately, then add the two.")
        got, (r, f), given = _run(chk, case, (real, fake), ("real_logits", "fake_logits"), (True, True), _NOT_RANDOM,
                                  real_logits=real, fake_logits=fake)
        expected = F.softplus(-r).mean() + F.softplus(f).mean()
        term_r, term_f = F.softplus(-real), F.softplus(fake)
        sig_r, sig_f = torch.sigmoid(real), torch.sigmoid(fake)
        _values(chk, got, expected, [
            (_SIGMOID_TWICE + " Here D's outputs are logits (D ends in a Linear layer, no Sigmoid): feed them to the "
             "logits loss as they are.", F.softplus(-sig_r).mean() + F.softplus(sig_f).mean()),
            ("real and fake are swapped: real data has target 1, -log D(x) = softplus(-l_real); fakes target 0, "
             "-log(1 - D(G(z))) = softplus(l_fake).", F.softplus(real).mean() + F.softplus(-fake).mean()),
            ("a sum where a mean belongs: each term is a mean over its batch.", term_r.sum() + term_f.sum()),
            ("real and fake terms were pooled into one mean: the loss is the SUM of a mean over the real batch and a "
             "mean over the fakes.", torch.cat([term_r.flatten(), term_f.flatten()]).mean()),
            ("the two terms were averaged: the loss is their SUM.", (term_r.mean() + term_f.mean()) / 2),
            ("only the real term: add -E[log(1 - D(G(z)))] = mean softplus(l_fake).", term_r.mean()),
            ("only the fake term: add -E[log D(x)] = mean softplus(-l_real).", term_f.mean()),
            ("the fake term has the wrong sign inside: -log(1 - D(G(z))) = softplus(+l_fake).",
             term_r.mean() + F.softplus(-fake).mean()),
        ], {tuple(real.shape): "one loss per example: average over the batch with .mean().", (1,): "the loss is one "
            "number, a 0-d tensor: .mean() returns one."}, "the loss is one number, a 0-d tensor.", _SATURATED,
            fallback=_CAPPED if _large(real, fake) else "", problem="Wrong discriminator loss.")
        _gradients(chk, got, expected, [r, f], given, ["real_logits", "fake_logits"], "part of the loss is detached or "
                   "computed outside torch; where D is confidently wrong a clamped log has no gradient at all.")
    chk = _Check("check_logit_losses", "the generator's non-saturating loss on logits", g_loss_fn, len(_LOGIT_CASES))
    for case, (_, fake) in enumerate(_LOGIT_CASES, 1):
        chk.hints = {"must be the same as input size": "the target has another shape than the logits: "
                                                       "torch.ones_like(logits)."}
        got, (f,), given = _run(chk, case, (fake,), ("fake_logits",), (True,), _NOT_RANDOM, fake_logits=fake)
        expected = F.softplus(-f).mean()
        _values(chk, got, expected, [
            ("this is the minimax (saturating) loss E[log(1 - D(G(z)))]: its gradient vanishes when D rejects the "
             "fakes. Use the non-saturating -E[log D(G(z))] = mean softplus(-l).", -F.softplus(fake).mean()),
            ("G trained towards the fakes' target 0: G wants its fakes called real, -log D(G(z)) = softplus(-l).",
             F.softplus(fake).mean()),
            (_SIGMOID_TWICE + " Feed D's logits to the loss as they are.", F.softplus(-torch.sigmoid(fake)).mean()),
            ("a sum where a mean belongs: average over the batch.", F.softplus(-fake).sum()),
        ], {tuple(fake.shape): "one loss per example: average over the batch with .mean().", (1,): "the loss is one "
            "number, a 0-d tensor."}, "the loss is one number, a 0-d tensor.", _SATURATED,
            fallback=_CAPPED if _large(fake) else "", problem="Wrong generator loss.")
        _gradients(chk, got, expected, [f], given, ["fake_logits"], "part of the loss is detached or computed outside "
                   "torch; where D rejects the fakes a clamped log has no gradient at all, and G learns nothing.")
    chk.passed()


# ---------------------------------------------------------------- least squares against per-example labels (Exercise 4)
_LS_GEN = torch.Generator().manual_seed(94)
_LS_CASES = [  # D's outputs on a batch, one label per example; real and fake labels mixed in each batch
    (torch.randn(6, 1, generator=_LS_GEN) * 0.6 + 0.4, _t(1, 1, 1, 0, 0, 0),
     "(6, 1): an MLP's head, real and fake batches concatenated"),
    (torch.randn(5, generator=_LS_GEN) * 0.6 + 0.4, _t(1, 0, 1, 0, 0), "(5,): a head that squeezes its last dimension"),
    (torch.randn(4, 1, 3, 4, generator=_LS_GEN) * 0.6 + 0.4, _t(1, 0, 0, 1), "(4, 1, 3, 4): a PatchGAN's map, 3 x 4 "
                                                                             "patches"),
    (torch.randn(3, 1, 3, 3, generator=_LS_GEN) * 0.6 + 0.4, _t(0.9, 0, 1), "(3, 1, 3, 3): a PatchGAN's map, real "
                                                                            "label smoothed to 0.9"),
]


def _per_example(labels: Tensor, out: Tensor) -> Tensor:
    return labels.view(-1, *([1] * (out.dim() - 1)))  # (N, 1, ..., 1): one label for every entry of its example


def _broadcast(diagnosis: str, out: Tensor, labels: Tensor) -> list[tuple[str, Tensor]]:
    """The value of (out - labels)^2 averaged, as broadcasting computes it, if it does."""
    try:
        diff = out - labels
    except RuntimeError:
        return []
    return [(diagnosis.format(out=tuple(out.shape), labels=tuple(labels.shape), diff=tuple(diff.shape)),
             diff.pow(2).mean())]


def least_squares_steps(loss_fn: Callable[[Tensor, Tensor], Tensor]) -> tuple[Callable, Callable]:
    """LSGAN's two steps (Mao et al. 2017, targets 1 for real and 0 for fake) built on loss_fn(out, labels): D judges
    the real batch and the detached fakes as one batch, G its fakes with label 1; for ``tiny_run``."""
    def d_step(G: nn.Module, D: nn.Module, opt_d: torch.optim.Optimizer, real: Tensor, z: Tensor) -> float:
        fake = G(z).detach()
        labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))])  # (2N,)
        loss = loss_fn(D(torch.cat([real, fake])), labels)
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss.item()

    def g_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, z: Tensor) -> float:
        loss = loss_fn(D(G(z)), torch.ones(len(z)))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return loss.item()
    return d_step, g_step


def check_least_squares_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """fn(out, labels) -> the mean, over every entry of D's output ``out`` (N,), (N, 1) or (N, 1, H, W), of the squared
    distance to the label of its example, labels (N,); a 0-d tensor. Then LSGAN trained with it must train."""
    chk = _Check("check_least_squares_loss", "a least-squares loss against one label per example", fn,
                 len(_LS_CASES) + 1)
    for case, (out, labels, text) in enumerate(_LS_CASES, 1):
        chk.hints = {key: f"out has shape {tuple(out.shape)} and labels {tuple(labels.shape)}: broadcasting lines up "
                          f"their LAST dimensions, not the batch. Give the labels one size-1 dimension for each of "
                          f"out's other dimensions, labels.view(-1, *[1] * (out.dim() - 1)), shape "
                          f"{tuple(_per_example(labels, out).shape)}."
                     for key in ("must match the size of tensor", "The expanded size of the tensor")}
        got, (o,), given = _run(chk, case, (out, labels), ("out", "labels"), (True, False), _NOT_RANDOM,
                                out=f"{_fmt(out)} {text}" if out.numel() <= 12 else f"{text}, values from "
                                f"{out.min():.2f} to {out.max():.2f}", labels=labels)
        expected = (o - _per_example(labels, o)).pow(2).mean()
        right = out - _per_example(labels, out)
        variants = _broadcast("broadcasting: with out of shape {out} and labels of shape {labels}, out - labels "
                              "lines the labels up with out's LAST dimension, not with the batch, and has shape "
                              "{diff}: outputs are compared with the labels of other examples (with labels of 1s and "
                              "0s, D is pulled towards their mean, 0.5). F.mse_loss only warns about it. Give the "
                              "labels one size-1 dimension for each of out's other dimensions, labels.view(-1, *[1] * "
                              "(out.dim() - 1)), or build targets of out's shape.", out, labels)
        if out.dim() > 2:
            variants += _broadcast("broadcasting: labels.view(-1, 1) fits an (N, 1) output only; against out of "
                                   "shape {out} the (N, 1) labels line up with the LAST two dimensions and broadcast "
                                   "to {diff}. Use one size-1 dimension for each of out's other dimensions, "
                                   "labels.view(-1, *[1] * (out.dim() - 1)).", out, labels.view(-1, 1))
            variants += _broadcast("broadcasting: out.squeeze() only removes the size-1 channel, and labels of shape "
                                   "{labels} then line up with the last dimension of the patch map. Reshape the "
                                   "labels to (N, 1, 1, 1) instead.", out.squeeze(), labels)
        variants += [
            ("the 1/2 is not part of this loss: the mean squared distance to the labels.", 0.5 * right.pow(2).mean()),
            ("a sum where a mean belongs: average over every entry of every example.", right.pow(2).sum()),
            ("absolute values where squares belong: least squares squares the distance.", right.abs().mean()),
            ("a sigmoid was applied: least squares regresses D's raw output on the label, no sigmoid.",
             (torch.sigmoid(out) - _per_example(labels, out)).pow(2).mean()),
            ("the square of the mean distance: average the squares instead.", right.mean().pow(2)),
        ]
        _values(chk, got, expected, variants, {tuple(out.shape): "one loss per entry: average them with .mean().",
                                               (len(out),): "one loss per example: average over the batch too."},
                "the loss is one number, a 0-d tensor.", "least squares has no log: NaN or inf means a log or a "
                "division crept in.", problem="Wrong loss.")
        _unchanged(chk, "labels", given[1], labels)
        _gradients(chk, got, expected, [o], given[:1], ["out"], "the loss trains D (and G) through out: no .detach(), "
                   ".item() or NumPy here.")
    _trains(chk, *least_squares_steps(fn), logits=False,
            reference=least_squares_steps(lambda out, labels: (out - _per_example(labels, out)).pow(2).mean()))
    chk.passed()


# ---------------------------------------------------------------- the gradient penalty (Exercise 5)
class _ConvCritic(nn.Module):
    """A small convolutional critic: one score per image, or a map of patch scores."""

    def __init__(self, c: int, h: int, w: int, patches: bool):
        super().__init__()
        self.conv = nn.Conv2d(c, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 1, 3, padding=1) if patches else nn.Linear(4 * h * w, 1)
        self.patches = patches

    def forward(self, x: Tensor) -> Tensor:
        h = F.leaky_relu(self.conv(x), 0.2)  # (N, 4, H, W)
        return self.head(h) if self.patches else self.head(h.flatten(1))  # (N, 1, H, W) or (N, 1)


_GP_SETUPS = [  # batch, the shape of one example, the critic
    (6, (2,), "an MLP critic on points in 2-D: Linear(2, 16), Tanh, Linear(16, 1)"),
    (4, (3, 4, 4), "a conv critic, one score per image"), (5, (2, 3, 3), "a conv critic returning a 3 x 3 map of patch "
                                                                         "scores"),
    (3, (1, 5, 3), "a conv critic on one-channel images")]


def _gp_cases() -> list[tuple[nn.Module, Tensor, Tensor, Tensor, str]]:
    gen = torch.Generator().manual_seed(95)
    cases = []
    for case, (n, shape, text) in enumerate(_GP_SETUPS, 1):
        D = _seeded(950 + case, lambda: nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))  # smooth: its
                    if len(shape) == 1 else _ConvCritic(*shape, patches=case == 3))  # gradient changes along a line
        spread = 2.0 if len(shape) == 1 else 0.5  # points far enough apart for the MLP's tanh to bend
        real = torch.randn(n, *shape, generator=gen) * spread + 0.5
        fake = torch.randn(n, *shape, generator=gen) * spread - 0.5
        t = torch.rand(n, *([1] * len(shape)), generator=gen) * 0.9 + 0.05  # (N, 1, ...): one t per example
        cases.append((D, real, fake, t, text))
    return cases


def _penalty(D: nn.Module, x: Tensor, norm: Callable[[Tensor], Tensor] = lambda g: g.flatten(1).norm(dim=1),
             **kw) -> Tensor:
    return _gp(D, x, 1.0, norm, **kw)


def critic_run(penalty: Callable[[nn.Module, Tensor, Tensor, Tensor], Tensor], steps: int = 100,
               seed: int = 0) -> float:
    """Train a small conv critic for ``steps`` Adam steps on E[D(fake)] - E[D(real)] + 10 penalty(D, real, fake, t),
    real and fake images (32, 2, 4, 4) from two Gaussians; returns the mean norm of its input gradient at fresh
    interpolates, which WGAN-GP keeps near 1."""
    D = _seeded(seed, lambda: _ConvCritic(2, 4, 4, patches=False))
    opt = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.9))
    gen = torch.Generator().manual_seed(seed + 1)

    def batch(n: int) -> tuple[Tensor, Tensor, Tensor]:
        real = 0.5 + 0.3 * torch.randn(n, 2, 4, 4, generator=gen)
        fake = -0.5 + 0.3 * torch.randn(n, 2, 4, 4, generator=gen)
        return real, fake, torch.rand(n, 1, 1, 1, generator=gen)

    with torch.random.fork_rng(devices=[]):
        for _ in range(steps):
            real, fake, t = batch(32)
            loss = D(fake).mean() - D(real).mean() + 10 * penalty(D, real, fake, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
    real, fake, t = batch(256)
    return _grads(D, t * real + (1 - t) * fake, create_graph=False).flatten(1).norm(dim=1).mean().item()


def check_penalty_per_example(fn: Callable[[nn.Module, Tensor, Tensor, Tensor], Tensor]) -> None:
    """fn(D, real, fake, t) -> E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = t real + (1 - t) fake, the norm taken per
    example over all of its dimensions (WGAN-GP, Gulrajani et al. 2017), t (N, 1, ...) given; a 0-d tensor that
    D's optimiser can differentiate (create_graph=True). Then a critic trained with it must keep gradient norms
    near 1."""
    cases = _gp_cases()
    chk = _Check("check_penalty_per_example", "the gradient penalty, one norm per example", fn, len(cases) + 1)
    for case, (D, real, fake, t, text) in enumerate(cases, 1):
        x_hat = t * real + (1 - t) * fake  # (N, ...)
        expected = _penalty(D, x_hat)
        D.zero_grad(set_to_none=True)
        given = [real.clone(), fake.clone(), t.clone()]
        got = _call(chk, case, (D, *given), "t is given: draw nothing (no torch.rand) inside the function.",
                    D=text, real=f"{tuple(real.shape)}", fake=f"{tuple(fake.shape)}",
                    t=f"{tuple(t.shape)}, values {_fmt(t.flatten())}")
        for name, now, before in zip(("real", "fake", "t"), given, (real, fake, t)):
            _unchanged(chk, name, now, before)
            if now.requires_grad:
                chk.fail(f"{name} was set to require grad.", diagnosis="that changes the caller's tensor: build "
                         "x_hat first, then x_hat.requires_grad_(True) (x_hat is a new tensor of your own).")
        if any(p.grad is not None for p in D.parameters()):
            chk.fail("D's parameters received .grad inside your function.", diagnosis="take the input gradient with "
                     "torch.autograd.grad(..., create_graph=True), not .backward(): backward() fills every "
                     "parameter's .grad, and D's step would then add it twice.")
        value = chk.scalar(got, expected.detach())
        if not _close(value, expected.detach(), rtol=1e-4, atol=1e-6):
            swapped = (1 - t) * real + t * fake
            chk.mismatch(expected.detach(), torch.tensor(value), [(d, v.detach()) for d, v in [
                ("on images, norm(dim=1) takes the norm over the channels only, one per pixel: flatten each example "
                 "first, grad.flatten(1).norm(2, dim=1), one norm over all of an example's dimensions.",
                 _penalty(D, x_hat, lambda g: g.norm(dim=1))),
                ("one norm of the whole batch's gradient: the penalty needs ||grad D(x_hat_i)|| for each example i, "
                 "then the mean of (norm - 1)^2.", _penalty(D, x_hat, lambda g: g.norm().reshape(1))),
                ("the norm is taken over the batch dimension (dim=0): take one norm per example, "
                 "grad.flatten(1).norm(2, dim=1).", _penalty(D, x_hat, lambda g: g.flatten(1).norm(dim=0))),
                ("t and 1 - t are swapped: x_hat = t * real + (1 - t) * fake.", _penalty(D, swapped)),
                ("the gradient of D(x_hat).mean() divides each example's gradient by the number of outputs: "
                 "differentiate D(x_hat).sum() (each output depends only on its own example).",
                 _penalty(D, x_hat, reduce="mean")),
                ("the SQUARED norm is compared with 1: use the norm itself, (||g|| - 1)^2.",
                 _penalty(D, x_hat, lambda g: g.flatten(1).pow(2).sum(1))),
                ("the penalty is (||g|| - 1)^2, centred at 1; this penalises ||g||^2 (zero-centred, like R1).",
                 _penalty(D, x_hat, shape=lambda v: v.pow(2))),
                ("one-sided: relu(||g|| - 1)^2 penalises norms above 1 only; WGAN-GP's penalty is two-sided.",
                 _penalty(D, x_hat, shape=lambda v: F.relu(v - 1).pow(2))),
                ("a sum over the batch where a mean belongs.", len(x_hat) * _penalty(D, x_hat)),
                ("the weight lambda = 10 was applied here: return the penalty itself; the caller weighs it when it "
                 "adds it to the critic's loss.", 10 * _penalty(D, x_hat)),
                ("the penalty was taken at the real data, not at the interpolates x_hat = t real + (1 - t) fake.",
                 _penalty(D, real)),
                ("the penalty was taken at the fakes, not at the interpolates x_hat = t real + (1 - t) fake.",
                 _penalty(D, fake)),
            ]])
        if not isinstance(got, Tensor) or not got.requires_grad:
            chk.fail("The value is right, but it carries no gradient to D's parameters.", diagnosis="pass "
                     "create_graph=True to torch.autograd.grad: the penalty depends on D's weights through the input "
                     "gradient, and without the graph of that gradient it is a constant: added to D's loss it "
                     "changes nothing, and the critic is not kept Lipschitz at all (double backpropagation).")
        if not _same_grads(_grads_of(got, D), _grads_of(expected, D)):  # a patch critic's last bias gets none
            chk.fail("The value is right, but its gradient with respect to D's parameters is not.", diagnosis="part "
                     "of the computation is detached; keep it in torch, with create_graph=True in autograd.grad.")
    chk.case, chk.inputs = chk.n_cases, {"run": "a conv critic, 100 Adam steps on the Wasserstein loss + 10 x your "
                                                "penalty, images (32, 2, 4, 4)"}
    norm = critic_run(fn)
    if not norm < NORM_BAR:
        chk.fail(f"The other cases passed, but a critic trained with your penalty is not kept Lipschitz: its mean "
                 f"gradient norm at fresh interpolates is {norm:.2f} (with the reference penalty: "
                 f"{critic_run(lambda D, r, f, t: _penalty(D, t * r + (1 - t) * f)):.2f}; below {NORM_BAR} passes).",
                 diagnosis="compare your code with the formula above the exercise, term by term.")
    chk.passed()

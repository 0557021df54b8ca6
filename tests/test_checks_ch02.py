"""Chapter 02's checks pass correct answers written in different ways and name each classic mistake."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ganlab
from ganlab import checks
from ganlab.checks import CheckFailed
from checking import fails, passes

L = ganlab.losses


# ---------------------------------------------------------------- the losses
RIGHT = {
    checks.check_d_loss_lsgan: [L.d_loss_lsgan,
                                lambda r, f: 0.5 * F.mse_loss(r, torch.ones_like(r)) + 0.5 * F.mse_loss(f, torch.zeros_like(f)),
                                lambda r, f: ((r - 1) ** 2).sum() / (2 * len(r)) + (f**2).sum() / (2 * len(f))],
    checks.check_g_loss_lsgan: [L.g_loss_lsgan, lambda f: 0.5 * F.mse_loss(f, torch.ones_like(f))],
    checks.check_d_loss_wasserstein: [L.d_loss_wasserstein, lambda r, f: -(r.mean() - f.mean())],
    checks.check_g_loss_wasserstein: [L.g_loss_wasserstein, lambda f: -f.sum() / len(f)],
    checks.check_d_loss_hinge: [L.d_loss_hinge, lambda r, f: torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean(),
                                lambda r, f: -torch.minimum(r - 1, torch.zeros_like(r)).mean() - torch.minimum(-f - 1, torch.zeros_like(f)).mean()],
    checks.check_g_loss_hinge: [L.g_loss_wasserstein, lambda f: -torch.mean(f)],
}

WRONG = [
    (checks.check_d_loss_lsgan, lambda r, f: 0.5 * r.pow(2).mean() + 0.5 * (f - 1).pow(2).mean(), "targets are swapped"),
    (checks.check_d_loss_lsgan, lambda r, f: (r - 1).pow(2).mean() + f.pow(2).mean(), "missing factor 1/2"),
    (checks.check_d_loss_lsgan, lambda r, f: 0.5 * (r - 1).pow(2).mean() + 0.5 * (f + 1).pow(2).mean(), "a = -1"),
    (checks.check_d_loss_lsgan, lambda r, f: L.d_loss_lsgan(torch.sigmoid(r), torch.sigmoid(f)), "no sigmoid"),
    (checks.check_d_loss_lsgan, lambda r, f: 0.5 * (r - 1).pow(2) + 0.5 * f.pow(2).mean(), ".mean()"),
    (checks.check_g_loss_lsgan, lambda f: 0.5 * f.pow(2).mean(), "target 0 is d's target"),
    (checks.check_g_loss_lsgan, lambda f: F.mse_loss(f, torch.ones_like(f)), "missing factor 1/2"),
    (checks.check_d_loss_wasserstein, lambda r, f: r.mean() - f.mean(), "signs are swapped"),
    (checks.check_d_loss_wasserstein, lambda r, f: L.d_loss_bce(r, f), "raw scores"),
    (checks.check_d_loss_wasserstein, lambda r, f: (f.mean() - r.mean()).detach(), "no gradient"),
    (checks.check_g_loss_wasserstein, lambda f: f.mean(), "sign is flipped"),
    (checks.check_d_loss_hinge, lambda r, f: F.relu(1 - f).mean() + F.relu(1 + r).mean(), "swapped"),
    (checks.check_d_loss_hinge, lambda r, f: (1 - r).mean() + (1 + f).mean(), "relu is missing"),
    (checks.check_d_loss_hinge, lambda r, f: f.mean() - r.mean(), "margins are missing"),
    (checks.check_g_loss_hinge, lambda f: F.relu(1 - f).mean(), "hinge was applied to g"),
    (checks.check_g_loss_hinge, lambda f: F.relu(1 + f).mean(), "d's fake term"),
    (checks.check_g_loss_hinge, lambda f: f.mean(), "sign is flipped"),
]


@pytest.mark.parametrize("check", RIGHT, ids=lambda c: c.__name__)
def test_loss_checks_pass_correct_answers(check, capsys):
    for fn in RIGHT[check]:
        passes(check, fn, capsys)


@pytest.mark.parametrize("check, fn, diagnosis", WRONG, ids=[f"{c.__name__}-{d}" for c, _, d in WRONG])
def test_loss_checks_name_the_mistake(check, fn, diagnosis):
    message = fails(check, fn, check.__name__, diagnosis)
    assert "expected" in message or "Diagnosis" in message


# ---------------------------------------------------------------- weight clipping
def clip_right(D, c):
    with torch.no_grad():
        for p in D.parameters():
            p.clamp_(-c, c)


def clip_data(D, c):
    for p in D.parameters():
        p.data = p.data.clamp(-c, c)


def clip_weights_only(D, c):
    with torch.no_grad():
        for name, p in D.named_parameters():
            if "weight" in name:
                p.clamp_(-c, c)


def clip_grads(D, c):
    for p in D.parameters():
        p.grad.clamp_(-c, c)


def clip_not_in_place(D, c):
    for p in D.parameters():
        p = p.clamp(-c, c)  # noqa: F841 - the mistake: rebinds the name, p is unchanged


def clip_to_positive(D, c):
    with torch.no_grad():
        for p in D.parameters():
            p.clamp_(0, c)


def clip_new_parameters(D, c):
    for module in D.modules():
        if isinstance(module, torch.nn.Linear):
            module.weight = torch.nn.Parameter(module.weight.detach().clamp(-c, c))
            module.bias = torch.nn.Parameter(module.bias.detach().clamp(-c, c))


def test_clip_weights(capsys):
    passes(checks.check_clip_weights, clip_right, capsys)
    passes(checks.check_clip_weights, clip_data, capsys)
    fails(checks.check_clip_weights, clip_weights_only, "biases included")
    fails(checks.check_clip_weights, clip_grads, "gradients were clipped")
    fails(checks.check_clip_weights, clip_not_in_place, "clamp_")
    fails(checks.check_clip_weights, clip_to_positive, "[0, c]")
    fails(checks.check_clip_weights, clip_new_parameters, "replaced by new tensors")


# ---------------------------------------------------------------- interpolates
def interp_right(real, fake):
    eps = torch.rand(len(real), *[1] * (real.ndim - 1))
    return eps * real.detach() + (1 - eps) * fake.detach()


def interp_lerp(real, fake):
    eps = torch.rand(real.shape[0], *[1] * (real.ndim - 1))
    return torch.lerp(fake.detach(), real.detach(), eps)


def interp_no_grad(real, fake):
    with torch.no_grad():
        eps = torch.rand(len(real), *[1] * (real.ndim - 1))
        return eps * real + (1 - eps) * fake


def test_interpolates(capsys):
    passes(checks.check_interpolates, interp_right, capsys)
    passes(checks.check_interpolates, interp_lerp, capsys)
    passes(checks.check_interpolates, interp_no_grad, capsys)
    fails(checks.check_interpolates, lambda r, f: (e := torch.rand(len(r), *[1] * (r.ndim - 1))) * r + (1 - e) * f,
          "carry a graph back to G", "detach")
    fails(checks.check_interpolates, lambda r, f: (e := torch.rand_like(r)) * r + (1 - e) * f, "one eps per example")
    fails(checks.check_interpolates, lambda r, f: (e := torch.rand(1)) * r + (1 - e) * f, "same eps")
    fails(checks.check_interpolates, lambda r, f: (e := torch.randn(len(r), *[1] * (r.ndim - 1))) * r + (1 - e) * f,
          "outside [0, 1]")
    fails(checks.check_interpolates, lambda r, f: 0.5 * (r + f), "same eps")
    fails(checks.check_interpolates, lambda r, f: (e := torch.rand(len(r), 1)) * r.flatten(1) + (1 - e) * f.flatten(1),
          "shape")
    fails(checks.check_interpolates, lambda r, f: (e := torch.rand(len(r), *[1] * (r.ndim - 1)) ** 3) * r + (1 - e) * f,
          "torch.rand")


# ---------------------------------------------------------------- the gradient penalty and R1
def gp_right(D, x, weight):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return weight * (g.flatten(1).norm(2, dim=1) - 1).pow(2).mean()


def gp_grad_outputs(D, x, weight):
    x.requires_grad_(True)
    out = D(x)
    g = torch.autograd.grad(out, x, grad_outputs=torch.ones_like(out), create_graph=True)[0]
    return weight * ((g.reshape(len(g), -1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()


def gp_with(norm=lambda g: g.flatten(1).norm(dim=1), requires_grad=True, create_graph=True, reduce="sum"):
    def gp(D, x, weight):
        if requires_grad:
            x = x.detach().requires_grad_(True)
        out = D(x).sum() if reduce == "sum" else D(x).mean()
        (g,) = torch.autograd.grad(out, x, create_graph=create_graph)
        return weight * (norm(g) - 1).pow(2).mean()
    return gp


def gp_backward(D, x, weight):
    x = x.detach().requires_grad_(True)
    D(x).sum().backward(create_graph=True)
    return weight * (x.grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph=True")
def test_gradient_penalty(capsys):
    passes(checks.check_gradient_penalty, gp_right, capsys)
    passes(checks.check_gradient_penalty, gp_grad_outputs, capsys)
    passes(checks.check_gradient_penalty, lambda D, x, w: L.gradient_penalty(D, x, x, weight=w), capsys)
    fails(checks.check_gradient_penalty, gp_with(norm=lambda g: g.flatten(1).norm(dim=0)), "wrong dimension")
    fails(checks.check_gradient_penalty, gp_with(norm=lambda g: g.norm()), "whole batch")
    fails(checks.check_gradient_penalty, gp_with(norm=lambda g: g.norm(dim=1)), "channels only")
    fails(checks.check_gradient_penalty, gp_with(requires_grad=False), "does not require grad", "requires_grad_(True)")
    fails(checks.check_gradient_penalty, gp_with(create_graph=False), "create_graph=True")
    fails(checks.check_gradient_penalty, gp_with(reduce="mean"), ".sum()")
    fails(checks.check_gradient_penalty, gp_with(norm=lambda g: g.flatten(1).pow(2).sum(1)), "squared norm")
    fails(checks.check_gradient_penalty, lambda D, x, w: gp_right(D, x, 1.0), "weight is missing")
    fails(checks.check_gradient_penalty, gp_backward, "autograd.grad", "not .backward()")


def r1_right(D, x, gamma):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return gamma / 2 * g.pow(2).flatten(1).sum(1).mean()


def r1_with(norm):
    def r1(D, x, gamma):
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
        return gamma / 2 * norm(g).mean()
    return r1


def test_r1_penalty(capsys):
    passes(checks.check_r1_penalty, r1_right, capsys)
    passes(checks.check_r1_penalty, lambda D, x, gamma: L.r1_penalty(D, x, gamma=gamma), capsys)
    fails(checks.check_r1_penalty, lambda D, x, g: 2 * r1_right(D, x, g), "missing factor 1/2")
    fails(checks.check_r1_penalty, r1_with(lambda g: g.flatten(1).norm(dim=1)), "not squared")
    fails(checks.check_r1_penalty, lambda D, x, g: g / 2 * gp_with()(D, x, 1.0), "zero-centred")
    fails(checks.check_r1_penalty, lambda D, x, g: r1_right(D, x, g) * len(x), "sum over the batch")

    def r1_no_graph(D, x, gamma):
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(D(x).sum(), x)
        return gamma / 2 * g.pow(2).sum(1).mean()
    fails(checks.check_r1_penalty, r1_no_graph, "create_graph=True")


# ---------------------------------------------------------------- power iteration
def power_iteration(W, n_iters):
    u = torch.randn(W.shape[0])
    for _ in range(n_iters):
        v = F.normalize(W.T @ u, dim=0)
        u = F.normalize(W @ v, dim=0)
    return u @ W @ v


def test_top_singular_value(capsys):
    passes(checks.check_top_singular_value, power_iteration, capsys)
    passes(checks.check_top_singular_value, lambda W, n: torch.linalg.svdvals(W)[0], capsys)
    fails(checks.check_top_singular_value, lambda W, n: torch.linalg.matrix_norm(W), "frobenius")
    fails(checks.check_top_singular_value, lambda W, n: power_iteration(W, n) ** 2, "squared")

    def eigen(W, n):
        v = torch.randn(W.shape[1])
        for _ in range(n):
            v = F.normalize(W @ v, dim=0)
        return (W @ v).norm()
    message = fails(checks.check_top_singular_value, eigen)  # fails on the first (non-square) case, by shape
    assert "check_top_singular_value failed" in message


# ---------------------------------------------------------------- unfinished exercises
CH02 = [checks.check_d_loss_lsgan, checks.check_g_loss_lsgan, checks.check_d_loss_wasserstein,
        checks.check_g_loss_wasserstein, checks.check_d_loss_hinge, checks.check_g_loss_hinge, checks.check_clip_weights,
        checks.check_interpolates, checks.check_gradient_penalty, checks.check_r1_penalty,
        checks.check_top_singular_value]


@pytest.mark.parametrize("check", CH02, ids=lambda c: c.__name__)
def test_unfinished_exercise_gets_the_friendly_message(check):
    def mine(*args):
        raise NotImplementedError("Exercise 4: write it")

    with pytest.raises(CheckFailed, match="Exercise 4 is not done yet"):
        check(mine)

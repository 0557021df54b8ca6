"""Chapter 09's checks pass correct answers written in different ways, name each classic mistake, and end with a
short run that the broken code of the notebook fails and the fixed code passes."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from ganlab.checks import ch09
from checking import fails, run

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.filterwarnings("ignore:Using a target size"),  # the broadcasting answers, on purpose
              pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")]


# ---------------------------------------------------------------- the discriminator's step
def bce(out, target):
    return F.binary_cross_entropy_with_logits(out, torch.full_like(out, target))


def d_step_with(detach=True, zero="before", targets=(1.0, 0.0), squash=False, sign=1.0, reduce="mean",
                item=True, after=False):
    def fn(G, D, opt_d, real, z):
        fake = G(z).detach() if detach else G(z)
        r, f = D(real), D(fake)
        r, f = (torch.sigmoid(r), torch.sigmoid(f)) if squash else (r, f)
        if reduce == "mean":
            loss = bce(r, targets[0]) + bce(f, targets[1])
        elif reduce == "sum":
            loss = F.softplus(-r).sum() + F.softplus(f).sum()
        else:  # one mean over both batches
            loss = torch.cat([F.softplus(-r).flatten(), F.softplus(f).flatten()]).mean()
        if zero == "before":
            opt_d.zero_grad()
        (sign * loss).backward()
        if zero == "after":
            opt_d.zero_grad()
        opt_d.step()
        if after:
            loss = bce(D(real), 1.0) + bce(D(G(z)), 0.0)
        return loss.item() if item else loss
    return fn


def d_step_no_grad_softplus(G, D, opt_d, real, z):
    with torch.no_grad():
        fake = G(z)  # (N, d)
    loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
    for p in D.parameters():
        p.grad = None
    loss.backward()
    opt_d.step()
    return float(loss.detach())


def d_step_one_pass(G, D, opt_d, real, z):
    """Real and fake through D as one batch (this D has no batch statistics), the means taken apart."""
    out = D(torch.cat([real, G(z).detach()]))
    loss = -F.logsigmoid(out[: len(real)]).mean() - F.logsigmoid(-out[len(real):]).mean()
    opt_d.zero_grad(set_to_none=False)
    loss.backward()
    opt_d.step()
    return loss.item()


def d_step_frozen_g(G, D, opt_d, real, z):
    G.requires_grad_(False)  # the fakes carry no graph back to G
    fake = G(z)
    G.requires_grad_(True)
    return _finish(D, opt_d, real, fake)


def _finish(D, opt_d, real, fake):
    loss = bce(D(real), 1.0) + bce(D(fake), 0.0)
    D.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def d_step_leaves_g_frozen(G, D, opt_d, real, z):
    G.requires_grad_(False)
    return _finish(D, opt_d, real, G(z))


def d_step_eval(G, D, opt_d, real, z):
    D.eval()
    return d_step_with()(G, D, opt_d, real, z)


def d_step_targets_flat(G, D, opt_d, real, z):
    r, f = D(real), D(G(z).detach())
    loss = (F.binary_cross_entropy_with_logits(r, torch.ones(len(real)))
            + F.binary_cross_entropy_with_logits(f, torch.zeros(len(z))))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def d_step_fresh_noise(G, D, opt_d, real, z):
    return d_step_with()(G, D, opt_d, real, torch.randn_like(z))


def d_step_own_optimiser(G, D, opt_d, real, z):
    return d_step_with()(G, D, torch.optim.SGD(D.parameters(), lr=0.1), real, z)


def d_step_in_place(G, D, opt_d, real, z):
    real.sub_(0.0).mul_(1.0001)
    return d_step_with()(G, D, opt_d, real, z)


def broken_d_step(G, D, opt_d, real, z):
    """The notebook's: no detach, zero_grad between backward and step, the tensor returned."""
    return d_step_with(detach=False, zero="after", item=False)(G, D, opt_d, real, z)


D_RIGHT = {"BCE with logits": d_step_with(), "softplus under no_grad": d_step_no_grad_softplus,
           "one pass through D": d_step_one_pass, "G frozen while it makes the fakes": d_step_frozen_g}
D_WRONG = {
    "the notebook's broken step": (broken_d_step, ["fakes were not detached"]),
    "fakes not detached": (d_step_with(detach=False), ["G's gradients changed", "fakes were not detached"]),
    "no zero_grad": (d_step_with(zero="never"), ["not cleared first"]),
    "zero_grad after backward": (d_step_with(zero="after"), ["did not change", "BEFORE the backward pass"]),
    "labels swapped": (d_step_with(targets=(0.0, 1.0)), ["real and fake are swapped"]),
    "fakes labelled 1": (d_step_with(targets=(1.0, 1.0)), ["fakes were given the target 1 too"]),
    "sigmoid twice": (d_step_with(squash=True), ["sigmoid applied twice"]),
    "ascent": (d_step_with(sign=-1.0), ["climbed its loss"]),
    "sum": (d_step_with(reduce="sum"), ["a sum where a mean belongs"]),
    "one mean over both batches": (d_step_with(reduce="joint"), ["pooled into one mean"]),
    "tensor returned": (d_step_with(item=False), ["Python float", "loss.item()"]),
    "loss after the step": (d_step_with(after=True), ["computed after opt_d.step()"]),
    "G left frozen": (d_step_leaves_g_frozen, ["G's parameters were left with requires_grad=False"]),
    "D left in eval mode": (d_step_eval, ["D was left in eval mode"]),
    "targets of the wrong shape": (d_step_targets_flat, ["case 1 of 5", "torch.ones_like"]),
    "fresh noise": (d_step_fresh_noise, ["global random generator"]),
    "its own optimiser": (d_step_own_optimiser, ["case 2 of 5", "no common slip"]),
    "real changed in place": (d_step_in_place, ["real was changed in place"]),
}


@pytest.mark.parametrize("name", [*D_RIGHT, *D_WRONG])
def test_d_step(name, capsys):
    run(ch09.check_d_step_detached, D_RIGHT, D_WRONG, name, capsys)


# ---------------------------------------------------------------- the generator's step
def g_step_with(detach=False, target=1.0, minimax=False, zero=True, squash=False, step=True, item=True):
    def fn(G, D, opt_g, z):
        fake = G(z).detach() if detach else G(z)
        out = D(fake)
        out = torch.sigmoid(out) if squash else out
        loss = -F.softplus(out).mean() if minimax else bce(out, target)
        if zero:
            opt_g.zero_grad()
        loss.backward()
        if step:
            opt_g.step()
        return loss.item() if item else loss
    return fn


def g_step_frozen_d(G, D, opt_g, z):
    D.requires_grad_(False)  # no gradients for D's weights in G's step
    try:
        loss = -F.logsigmoid(D(G(z))).mean()
        G.zero_grad()
        loss.backward()
        opt_g.step()
    finally:
        D.requires_grad_(True)
    return loss.item()


def g_step_zeros_kept(G, D, opt_g, z):
    opt_g.zero_grad(set_to_none=False)
    loss = F.softplus(-D(G(z))).mean()
    loss.backward()
    opt_g.step()
    return loss.item()


def g_step_steps_d(G, D, opt_g, z):
    loss = g_step_with()(G, D, opt_g, z)
    torch.optim.SGD(D.parameters(), lr=0.01).step()  # D's .grad holds what G's loss left there
    return loss


def g_step_leaves_d_frozen(G, D, opt_g, z):
    D.requires_grad_(False)
    return g_step_with()(G, D, opt_g, z)


def broken_g_step(G, D, opt_g, z):
    """The notebook's: copied from D's step, fakes detached and labelled 0."""
    return g_step_with(detach=True, target=0.0)(G, D, opt_g, z)


G_RIGHT = {"BCE with logits": g_step_with(), "logsigmoid, D frozen": g_step_frozen_d,
           "zeros kept": g_step_zeros_kept}
G_WRONG = {
    "the notebook's broken step": (broken_g_step, ["G's weights did not change", "detached"]),
    "fakes detached": (g_step_with(detach=True), ["did not change", "detached"]),
    "target 0": (g_step_with(target=0.0), ["D's label for fakes"]),
    "minimax": (g_step_with(minimax=True), ["minimax (saturating)"]),
    "no zero_grad": (g_step_with(zero=False), ["not cleared first"]),
    "sigmoid twice": (g_step_with(squash=True), ["sigmoid applied twice"]),
    "no step": (g_step_with(step=False), ["opt_g.step() was not called"]),
    "tensor returned": (g_step_with(item=False), ["Python float"]),
    "D stepped too": (g_step_steps_d, ["D's weights changed"]),
    "D left frozen": (g_step_leaves_d_frozen, ["D's parameters were left with requires_grad=False"]),
}


@pytest.mark.parametrize("name", [*G_RIGHT, *G_WRONG])
def test_g_step(name, capsys):
    run(ch09.check_g_step, G_RIGHT, G_WRONG, name, capsys)


# ---------------------------------------------------------------- the short run, both ways
def test_the_short_run_trains_with_the_fixed_steps_and_not_with_the_broken_ones():
    assert ch09.tiny_run()["w1"] < ch09.BAR
    assert ch09.tiny_run(D_RIGHT["one pass through D"], G_RIGHT["logsigmoid, D frozen"])["w1"] < ch09.BAR
    fixed_d, fixed_g = D_RIGHT["BCE with logits"], G_RIGHT["BCE with logits"]
    for d_step, g_step in ((broken_d_step, fixed_g), (d_step_with(zero="never"), fixed_g), (fixed_d, broken_g_step),
                           (fixed_d, g_step_with(target=0.0))):
        assert ch09.tiny_run(d_step, g_step)["w1"] > ch09.BAR


def test_a_step_that_passes_the_cases_but_does_not_train_fails_on_the_run():
    def lazy(G, D, opt_d, real, z):  # skips its update on the run's 1-D batches of 64
        return d_step_with()(G, D, opt_d, real, z) if len(real) != 64 else 1.0

    fails(ch09.check_d_step_detached, lazy, "case 5 of 5", "does not train", "Wasserstein distance")


def test_the_run_keeps_the_callers_random_stream():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    ch09.tiny_run(steps=3)
    assert torch.equal(torch.rand(3), expected)


# ---------------------------------------------------------------- the losses on logits
def d_loss_stable_by_hand(r, f):
    """max(l, 0) - l y + log(1 + exp(-|l|)), the form binary_cross_entropy_with_logits uses."""
    def bce_by_hand(logits, y):
        return (logits.clamp(min=0) - logits * y + torch.log1p(torch.exp(-logits.abs()))).mean()
    return bce_by_hand(r, 1.0) + bce_by_hand(f, 0.0)


def naive_d(r, f):
    return -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean()


def clamped_d(r, f):
    p_r, p_f = torch.sigmoid(r).clamp(1e-7, 1 - 1e-7), torch.sigmoid(f).clamp(1e-7, 1 - 1e-7)
    return -torch.log(p_r).mean() - torch.log(1 - p_f).mean()


def right_d(r, f):
    return F.softplus(-r).mean() + F.softplus(f).mean()


def right_g(f):
    return F.softplus(-f).mean()


LOGIT_RIGHT = {
    "softplus": (right_d, right_g),
    "BCEWithLogitsLoss modules": (lambda r, f: torch.nn.BCEWithLogitsLoss()(r, torch.ones_like(r))
                                  + torch.nn.BCEWithLogitsLoss()(f, torch.zeros_like(f)),
                                  lambda f: torch.nn.BCEWithLogitsLoss()(f, torch.ones_like(f))),
    "logsigmoid": (lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()), lambda f: -F.logsigmoid(f).mean()),
    "stable by hand": (d_loss_stable_by_hand,
                       lambda f: torch.log1p(torch.exp(-f.abs())).mean() + (-f).clamp(min=0).mean()),
}
LOGIT_WRONG = {
    "log of a sigmoid": ((naive_d, right_g), ["case 4 of 5", "NaN or inf", "rounds to exactly 1"]),
    "clamped probabilities": ((clamped_d, right_g), ["right for moderate logits but not for large ones"]),
    "an epsilon in the log": ((lambda r, f: -torch.log(torch.sigmoid(r) + 1e-8).mean()
                               - torch.log(1 - torch.sigmoid(f) + 1e-8).mean(), right_g), ["caps each term"]),
    "sigmoid twice": ((lambda r, f: right_d(torch.sigmoid(r), torch.sigmoid(f)), right_g), ["sigmoid applied twice"]),
    "BCELoss on logits": ((lambda r, f: F.binary_cross_entropy(r, torch.ones_like(r))
                           + F.binary_cross_entropy(f, torch.zeros_like(f)), right_g), ["wants probabilities"]),
    "swapped": ((lambda r, f: right_d(f, r) if r.shape == f.shape else F.softplus(r).mean() + F.softplus(-f).mean(),
                 right_g), ["real and fake are swapped"]),
    "sum": ((lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), right_g), ["a sum where a mean belongs"]),
    "pooled": ((lambda r, f: torch.cat([F.softplus(-r).flatten(), F.softplus(f).flatten()]).mean(), right_g),
               ["pooled into one mean"]),
    "per example": ((lambda r, f: F.softplus(-r) + F.softplus(f), right_g), ["one loss per example"]),
    "detached": ((lambda r, f: right_d(r, f).detach(), right_g), ["carry no gradient"]),
    "flat targets": ((lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones(len(r)))
                      + F.binary_cross_entropy_with_logits(f, torch.zeros(len(f))), right_g), ["torch.ones_like"]),
    "G: log of a sigmoid": ((right_d, lambda f: -torch.log(torch.sigmoid(f)).mean()),
                            ["generator's", "case 5 of 5", "rounds to exactly 1"]),
    "G: minimax": ((right_d, lambda f: -F.softplus(f).mean()), ["minimax (saturating)"]),
    "G: target 0": ((right_d, lambda f: F.softplus(f).mean()), ["the fakes' target 0"]),
    "G: clamped": ((right_d, lambda f: -torch.log(torch.sigmoid(f).clamp(min=1e-7)).mean()), ["caps each term"]),
}


def run_pair(check, right: dict, wrong: dict, name: str, capsys) -> None:
    """``run`` for a check that takes two functions: each dict maps a name to a pair (and, when wrong, the words)."""
    if name in right:
        check(*right[name])
        assert capsys.readouterr().out.startswith(f"\u2713 {check.__name__} passed (")
    else:
        pair, words = wrong[name]
        fails(lambda fns: check(*fns), pair, f"{check.__name__} failed", *words)


@pytest.mark.parametrize("name", [*LOGIT_RIGHT, *LOGIT_WRONG])
def test_logit_losses(name, capsys):
    run_pair(ch09.check_logit_losses, LOGIT_RIGHT, LOGIT_WRONG, name, capsys)


# ---------------------------------------------------------------- least squares against per-example labels
def ls_by_view(out, labels):
    return (out - labels.view(-1, *([1] * (out.dim() - 1)))).pow(2).mean()


def ls_expanded_mse(out, labels):
    targets = labels.reshape(len(labels), *([1] * (out.ndim - 1))).expand_as(out)
    return F.mse_loss(out, targets)


def ls_per_example(out, labels):
    return torch.stack([((o - label) ** 2).mean() for o, label in zip(out, labels)]).mean()


def ls_unsqueezed(out, labels):
    while labels.dim() < out.dim():
        labels = labels.unsqueeze(-1)
    return ((out - labels) ** 2).mean()


def ls_labels_in_place(out, labels):
    labels.unsqueeze_(-1)
    return ls_unsqueezed(out, labels)


LS_RIGHT = {"view": ls_by_view, "expanded targets, mse_loss": ls_expanded_mse, "per example": ls_per_example,
            "unsqueezed in a loop": ls_unsqueezed}
LS_WRONG = {
    "mse_loss against the labels": (lambda o, l: F.mse_loss(o, l), ["case 1 of 5", "broadcasting", "(6, 6)"]),
    "subtraction that broadcasts": (lambda o, l: ((o - l) ** 2).mean(), ["broadcasting"]),
    "labels (N, 1)": (lambda o, l: ((o - l.view(-1, 1)) ** 2).mean() if o.dim() > 1 else ((o - l) ** 2).mean(),
                      ["case 3 of 5", "broadcasting lines up their LAST dimensions"]),
    "squeezed output": (lambda o, l: F.mse_loss(o.squeeze(), l), ["case 3 of 5", "broadcasting"]),
    "flattened output": (lambda o, l: F.mse_loss(o.flatten(), l), ["case 3 of 5", "broadcasting"]),
    "halved": (lambda o, l: 0.5 * ls_by_view(o, l), ["the 1/2 is not part of this loss"]),
    "sum": (lambda o, l: (o - l.view(-1, *([1] * (o.dim() - 1)))).pow(2).sum(), ["a sum where a mean belongs"]),
    "absolute": (lambda o, l: (o - l.view(-1, *([1] * (o.dim() - 1)))).abs().mean(), ["absolute values"]),
    "sigmoid": (lambda o, l: ls_by_view(torch.sigmoid(o), l), ["a sigmoid was applied"]),
    "labels changed in place": (ls_labels_in_place, ["labels was changed in place"]),
    "detached": (lambda o, l: ls_by_view(o.detach(), l), ["carry no gradient"]),
}


@pytest.mark.parametrize("name", [*LS_RIGHT, *LS_WRONG])
def test_least_squares_loss(name, capsys):
    run(ch09.check_least_squares_loss, LS_RIGHT, LS_WRONG, name, capsys)


def test_lsgan_trains_with_per_example_labels_and_not_with_broadcast_ones():
    assert ch09.tiny_run(*ch09.least_squares_steps(ls_by_view), logits=False)["w1"] < ch09.BAR
    with pytest.warns(UserWarning, match="target size"):
        broken = ch09.tiny_run(*ch09.least_squares_steps(lambda o, l: F.mse_loss(o, l)), logits=False)
    assert broken["w1"] > ch09.BAR and abs(broken["d_real"] - 0.5) < 0.05 and abs(broken["d_fake"] - 0.5) < 0.05


# ---------------------------------------------------------------- the gradient penalty
def gp_with(norm=lambda g: g.flatten(1).norm(2, dim=1), graph=True, swap=False, reduce="sum", weight=1.0):
    def fn(D, real, fake, t):
        x_hat = ((1 - t) * real + t * fake) if swap else (t * real + (1 - t) * fake)
        x_hat = x_hat.requires_grad_(True)
        out = D(x_hat)
        (grad,) = torch.autograd.grad(out.sum() if reduce == "sum" else out.mean(), x_hat, create_graph=graph)
        return weight * (norm(grad) - 1).pow(2).mean()
    return fn


def gp_grad_outputs(D, real, fake, t):
    x_hat = torch.lerp(fake, real, t).detach().requires_grad_()
    out = D(x_hat)
    (grad,) = torch.autograd.grad(out, x_hat, grad_outputs=torch.ones_like(out), create_graph=True)
    return ((grad.reshape(len(grad), -1).pow(2).sum(1).sqrt() - 1) ** 2).mean()


def gp_vector_norm(D, real, fake, t):
    x_hat = (t * real + (1 - t) * fake).clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), [x_hat], create_graph=True)
    norms = torch.linalg.vector_norm(grad, dim=tuple(range(1, grad.dim())))
    return torch.mean((norms - 1) ** 2)


def gp_backward(D, real, fake, t):
    x_hat = (t * real + (1 - t) * fake).requires_grad_(True)
    D(x_hat).sum().backward(create_graph=True)
    return (x_hat.grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def gp_real_requires_grad(D, real, fake, t):
    real.requires_grad_(True)
    return gp_with()(D, real.detach(), fake, t)


def broken_penalty(D, real, fake, t):
    """The notebook's: the norm over the channels only, and no create_graph."""
    return gp_with(norm=lambda g: g.norm(2, dim=1), graph=False)(D, real, fake, t)


GP_RIGHT = {"flatten and norm": gp_with(), "grad_outputs, lerp": gp_grad_outputs, "vector_norm": gp_vector_norm}
GP_WRONG = {
    "the notebook's broken penalty": (broken_penalty, ["case 1 of 5", "create_graph=True"]),
    "no create_graph": (gp_with(graph=False), ["carries no gradient to D's parameters", "create_graph=True"]),
    "norm over the channels": (gp_with(norm=lambda g: g.norm(2, dim=1)), ["case 2 of 5", "over the channels only"]),
    "one norm of the batch": (gp_with(norm=lambda g: g.norm().reshape(1)), ["whole batch's gradient"]),
    "norm over dim 0": (gp_with(norm=lambda g: g.flatten(1).norm(dim=0)), ["batch dimension (dim=0)"]),
    "t swapped": (gp_with(swap=True), ["t and 1 - t are swapped"]),
    "mean of D": (gp_with(reduce="mean"), ["D(x_hat).mean()"]),
    "squared norm": (gp_with(norm=lambda g: g.flatten(1).pow(2).sum(1)), ["SQUARED norm"]),
    "the weight inside": (gp_with(weight=10.0), ["lambda = 10 was applied here"]),
    "backward inside": (gp_backward, [".grad inside your function"]),
    "real set to require grad": (gp_real_requires_grad, ["real was set to require grad"]),
    "t drawn again": (lambda D, r, f, t: gp_with()(D, r, f, torch.rand_like(t)), ["t is given"]),
    "at the real data": (lambda D, r, f, t: gp_with()(D, r, r, t), ["at the real data"]),
}


@pytest.mark.parametrize("name", [*GP_RIGHT, *GP_WRONG])
def test_penalty_per_example(name, capsys):
    run(ch09.check_penalty_per_example, GP_RIGHT, GP_WRONG, name, capsys)


def test_the_critic_is_kept_lipschitz_by_the_fixed_penalty_only():
    assert ch09.critic_run(gp_with()) < ch09.NORM_BAR
    for wrong in (broken_penalty, gp_with(graph=False), gp_with(norm=lambda g: g.norm(2, dim=1))):
        assert ch09.critic_run(wrong) > ch09.NORM_BAR


# ---------------------------------------------------------------- saving and resuming
def save_all(path, G, D, opt_g, opt_d, step):
    torch.save({"G": G.state_dict(), "D": D.state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                "step": step}, path)


def load_all(path, G, D, opt_g, opt_d):
    checkpoint = torch.load(path)
    for name, obj in (("G", G), ("D", D), ("opt_g", opt_g), ("opt_d", opt_d)):
        obj.load_state_dict(checkpoint[name])
    return int(checkpoint["step"])


def save_with_rng(path, G, D, opt_g, opt_d, step):
    torch.save({"nets": [G.state_dict(), D.state_dict()], "opts": [opt_g.state_dict(), opt_d.state_dict()],
                "rng": torch.get_rng_state(), "at": step}, str(path))


def load_with_rng(path, G, D, opt_g, opt_d):
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    for obj, state in zip((G, D, opt_g, opt_d), checkpoint["nets"] + checkpoint["opts"]):
        obj.load_state_dict(state)
    torch.set_rng_state(checkpoint["rng"])
    return checkpoint["at"]


def save_weights(path, G, D, opt_g, opt_d, step):
    torch.save({"G": G.state_dict(), "D": D.state_dict(), "step": step}, path)


def load_weights(path, G, D, opt_g, opt_d):
    checkpoint = torch.load(path)
    G.load_state_dict(checkpoint["G"])
    D.load_state_dict(checkpoint["D"])
    return checkpoint["step"]


def save_parameters(path, G, D, opt_g, opt_d, step):
    torch.save({"G": dict(G.named_parameters()), "D": D.state_dict(), "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(), "step": step}, path)


def load_with(strict=True, swap_optimisers=False):
    def fn(path, G, D, opt_g, opt_d):
        checkpoint = torch.load(path)
        G.load_state_dict(checkpoint["G"], strict=strict)
        D.load_state_dict(checkpoint["D"])
        g_key, d_key = ("opt_d", "opt_g") if swap_optimisers else ("opt_g", "opt_d")
        opt_g.load_state_dict(checkpoint[g_key])
        opt_d.load_state_dict(checkpoint[d_key])
        return checkpoint["step"]
    return fn


def load_into_a_copy(path, G, D, opt_g, opt_d):
    G = copy.deepcopy(G)
    return load_all(path, G, D, opt_g, opt_d)


_MEMORY = {}


def save_in_memory(path, G, D, opt_g, opt_d, step):
    torch.save({}, path)
    _MEMORY.update(copy.deepcopy({"G": G.state_dict(), "D": D.state_dict(), "opt_g": opt_g.state_dict(),
                                  "opt_d": opt_d.state_dict(), "step": step}))


def load_from_memory(path, G, D, opt_g, opt_d):
    for name, obj in (("G", G), ("D", D), ("opt_g", opt_g), ("opt_d", opt_d)):
        obj.load_state_dict(_MEMORY[name])
    return _MEMORY["step"]


def save_modules(path, G, D, opt_g, opt_d, step):
    torch.save({"G": G, "D": D, "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step}, path)


def save_in_half_precision(path, G, D, opt_g, opt_d, step):
    """A smaller file, but half() converts the caller's network in place."""
    save_all(path, G.half(), D, opt_g, opt_d, step)


RESUME_RIGHT = {"one dict": (save_all, load_all), "lists, with the random state": (save_with_rng, load_with_rng)}
RESUME_WRONG = {
    "weights only (the notebook's)": ((save_weights, load_weights), ["opt_g's state was not restored",
                                                                     "optimisers' state was not saved"]),
    "parameters without buffers, loaded loosely": ((save_parameters, load_with(strict=False)),
                                                   ["case 2 of 4", "buffers"]),
    "parameters without buffers": ((save_parameters, load_all), ["Missing key(s)", "BatchNorm's running statistics"]),
    "optimisers swapped": ((save_all, load_with(swap_optimisers=True)), ["opt_g holds opt_d's state"]),
    "loaded into a copy": ((save_all, load_into_a_copy), ["G still has its new, untrained weights"]),
    "kept in memory": ((save_in_memory, load_from_memory), ["another run's checkpoint"]),
    "no step returned": ((save_all, lambda *args: load_all(*args) and None), ["load_state returned None"]),
    "the wrong step": ((save_all, lambda *args: load_all(*args) + 1), ["wrong step"]),
    "the step as a tensor": ((save_all, lambda *args: torch.tensor(load_all(*args))), ["as a Python int"]),
    "whole modules saved": ((save_modules, load_all), ["Weights only load failed", "save state_dict()s"]),
    "save changes the run": ((save_in_half_precision, load_all), ["save_state changed the run"]),
}


@pytest.mark.parametrize("name", [*RESUME_RIGHT, *RESUME_WRONG])
def test_save_and_resume(name, capsys):
    run_pair(ch09.check_save_and_resume, RESUME_RIGHT, RESUME_WRONG, name, capsys)


def test_a_check_of_two_functions_says_it_passed_once(capsys):
    ch09.check_logit_losses(*LOGIT_RIGHT["softplus"])
    assert capsys.readouterr().out == "\u2713 check_logit_losses passed (5 cases)\n"


def test_a_failure_shows_the_input_and_the_diagnosis():
    message = fails(ch09.check_least_squares_loss, LS_WRONG["mse_loss against the labels"][0])
    assert message.startswith("check_least_squares_loss failed (a least-squares loss against one label per example) "
                              "on case 1 of 5.")
    assert "  input:" in message and "labels = [1., 1., 1., 0., 0., 0.]" in message
    assert "Diagnosis: broadcasting" in message


# ---------------------------------------------------------------- unfinished exercises
def save_state(path, G, D, opt_g, opt_d, step):
    raise NotImplementedError("Exercise 6: write it")


def load_state(path, G, D, opt_g, opt_d):
    raise NotImplementedError("Exercise 6: write it")


def unfinished(*args):
    raise NotImplementedError("Exercise 6: write it")


@pytest.mark.parametrize("check, fns, name", [
    (ch09.check_d_step_detached, (unfinished,), "unfinished"), (ch09.check_g_step, (unfinished,), "unfinished"),
    (ch09.check_logit_losses, (unfinished, right_g), "unfinished"),
    (ch09.check_logit_losses, (right_d, unfinished), "unfinished"),
    (ch09.check_least_squares_loss, (unfinished,), "unfinished"),
    (ch09.check_penalty_per_example, (unfinished,), "unfinished"),
    (ch09.check_save_and_resume, (save_state, load_all), "save_state"),
    (ch09.check_save_and_resume, (save_all, load_state), "load_state")])
def test_an_unfinished_exercise_is_named(check, fns, name):
    message = fails(lambda pair: check(*pair), fns)
    assert message.startswith(f"Exercise 6 is not done yet: replace the `raise NotImplementedError` in `{name}`")

"""Checks for chapter 09, debugging GANs: the two players' steps (Exercises 1-2), each checked for its wiring on small
set-ups (the update against the reference, the other player left alone, stale gradients cleared, the loss returned as
a number), then trained: ``tiny_run`` trains tiny players on a 1-D Gaussian with the student's step, and the check
asks that G's samples end near the data, which the broken step of the notebook does not achieve."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .ch01 import _flat
from .ch05 import _IN_PLACE, _unchanged
from .ch06 import _call, _seeded
from .core import _SIGMOID_TWICE, CheckFailed, _Check, _close

Step = Callable[..., Any]
DATA_MEAN, DATA_STD = 2.0, 0.5  # the short run's data: a 1-D Gaussian N(2, 0.5^2)
BAR = 0.4  # a run trains when G's samples end within this 1-D Wasserstein distance of the data (untrained: about 2)
_NOT_RANDOM = "a step draws nothing at random: the batch and the noise z are given."


# ---------------------------------------------------------------- the reference steps and the short run
def reference_d_step(G: nn.Module, D: nn.Module, opt_d: torch.optim.Optimizer, real: Tensor, z: Tensor) -> float:
    """One update of D on -E[log D(x)] - E[log(1 - D(G(z)))], from logits, the fakes detached."""
    fake = G(z).detach()  # (N, ...): a constant in D's step
    loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def reference_g_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, z: Tensor) -> float:
    """One update of G on the non-saturating loss -E[log D(G(z))], from logits."""
    loss = F.softplus(-D(G(z))).mean()
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.item()


def _tiny_players(seed: int) -> tuple[nn.Module, nn.Module]:
    def make() -> tuple[nn.Module, nn.Module]:
        return (nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)),
                nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.LeakyReLU(0.2),
                              nn.Linear(16, 1)))
    return _seeded(seed, make)


def tiny_run(d_step: Step = reference_d_step, g_step: Step = reference_g_step, steps: int = 300, seed: int = 0,
             logits: bool = True) -> dict[str, float]:
    """Train two tiny MLPs on N(2, 0.5^2) with d_step(G, D, opt_d, real, z) and g_step(G, D, opt_g, z), Adam at 2e-3
    with betas (0.5, 0.999) for each, batches of 64. Returns the mean and standard deviation of G's samples, their
    1-D Wasserstein distance to the data ("w1"), and D's mean output on real and on fake data ("d_real", "d_fake":
    probabilities D = sigmoid(logit) when ``logits``, else the raw scores). The caller's random streams are kept."""
    G, D = _tiny_players(seed)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.random.fork_rng(devices=[]):
        for _ in range(steps):
            real = DATA_MEAN + DATA_STD * torch.randn(64, 1, generator=gen)  # (64, 1)
            d_step(G, D, opt_d, real, torch.randn(64, 1, generator=gen))
            g_step(G, D, opt_g, torch.randn(64, 1, generator=gen))
    n = 2000
    with torch.no_grad():
        samples = G(torch.randn(n, 1, generator=gen)).flatten()  # (n,)
        real = DATA_MEAN + DATA_STD * torch.randn(n, 1, generator=gen)
        squash = torch.sigmoid if logits else (lambda t: t)
        d_real, d_fake = squash(D(real)).mean().item(), squash(D(samples[:, None])).mean().item()
    # W1 in 1-D: the mean distance between the sorted samples and the data's quantiles at the same levels
    levels = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    quantiles = DATA_MEAN + DATA_STD * torch.special.ndtri(levels)
    w1 = (samples.double().sort().values - quantiles).abs().mean().item()
    w1 = w1 if math.isfinite(w1) else math.inf
    return {"mean": samples.mean().item(), "std": samples.std().item(), "w1": w1, "d_real": d_real, "d_fake": d_fake}


def _run_text(run: dict[str, float]) -> str:
    return (f"G's samples have mean {run['mean']:.2f} and standard deviation {run['std']:.2f} (the data: "
            f"{DATA_MEAN:.2f} and {DATA_STD:.2f}), 1-D Wasserstein distance {run['w1']:.2f} to the data")


def _trains(chk: _Check, d_step: Step, g_step: Step, logits: bool = True, hint: str = "",
            reference: tuple[Step, Step] = (reference_d_step, reference_g_step)) -> None:
    """The last test of a step check: the short run with the student's piece ends with G's samples near the data
    (a failure quotes the run with the ``reference`` steps)."""
    chk.case, chk.inputs = chk.n_cases, {"run": "300 steps on N(2, 0.5^2), tiny MLPs, Adam 2e-3, batches of 64"}
    try:
        run = tiny_run(d_step, g_step, logits=logits)
    except Exception as err:  # noqa: BLE001 - worded for the student
        raise CheckFailed(chk.message(f"The short training run raised {type(err).__name__}: {err}", diagnosis=(
            "the cases above passed, so the run fed your code something they did not: batches of 64 of 1-D data, "
            "shape (64, 1)."))) from err
    if run["w1"] < BAR:
        return
    chk.fail(f"The other cases passed, but a short training run with your code does not train: {_run_text(run)}; a "
             f"run that trains ends below {BAR} (the reference: {tiny_run(*reference, logits=logits)['w1']:.2f}).",
             diagnosis=hint or "something that the cases above did not show differs from the reference; compare "
             "your code with the description of the exercise line by line.")


# ---------------------------------------------------------------- the set-ups of the step checks
_OPTIMISERS = {"SGD": lambda params, lr: torch.optim.SGD(params, lr=lr),
               "SGD+momentum": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.5),
               "Adam": lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999)),
               "RMSprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr)}
# latent size, data size, real batch, fake batch, optimiser, learning rate, D's output, G holds stale gradients
_SETUPS = [(2, 2, 8, 8, "SGD", 0.1, "column", True), (3, 1, 6, 9, "Adam", 0.01, "flat", False),
           (1, 2, 10, 5, "SGD+momentum", 0.05, "column", False), (2, 3, 7, 7, "RMSprop", 0.005, "flat", True)]


def _build(case: int, player: str) -> dict[str, Any]:
    """A fresh, identical set-up for case ``case``: small G and D, an optimiser of ``player`` ("G" or "D") that has
    already stepped (so it has moments to keep), D holding the gradients that G's step leaves behind, G holding its
    own from its last step in some cases, a real batch and the noise."""
    latent, dim, n_real, n_fake, kind, lr, head, stale_g = _SETUPS[case - 1]

    def make() -> tuple[nn.Module, nn.Module]:
        G = nn.Sequential(nn.Linear(latent, 8), nn.ReLU(), nn.Linear(8, dim))
        D = nn.Sequential(nn.Linear(dim, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1),
                          *([nn.Flatten(0)] if head == "flat" else []))
        return G, D

    G, D = _seeded(900 + case, make)
    gen = torch.Generator().manual_seed(910 + case)
    trained = D if player == "D" else G
    opt = _OPTIMISERS[kind](trained.parameters(), lr)
    for _ in range(2):  # earlier steps
        for p in trained.parameters():
            p.grad = torch.randn(p.shape, generator=gen)
        opt.step()
    for p in D.parameters():  # left by G's step, whose loss backpropagates through D
        p.grad = torch.randn(p.shape, generator=gen)
    for p in G.parameters():
        p.grad = torch.randn(p.shape, generator=gen) if stale_g or player == "G" else None
    shown = dict(G=f"Linear({latent}, 8), ReLU, Linear(8, {dim})" + (", .grad left from its last step" if stale_g
                                                                       or player == "G" else ""),
                 D=f"Linear({dim}, 8), LeakyReLU(0.2), Linear(8, 1)" + (", Flatten(0): logits (N,)" if head == "flat"
                                                                         else ": logits (N, 1)")
                 + ", .grad left by G's step",
                 opt=f"{kind}, lr {lr}, over {player}'s parameters, after two earlier steps")
    return dict(G=G, D=D, opt=opt, real=torch.randn(n_real, dim, generator=gen) * 0.5 + 1.0,
                z=torch.randn(n_fake, latent, generator=gen), shown=shown)


def _grads(net: nn.Module) -> list[Tensor | None]:
    return [None if p.grad is None else p.grad.clone() for p in net.parameters()]


def _left_alone(chk: _Check, who: str, net: nn.Module, weights: Tensor | None = None, why: str = "") -> None:
    """``net`` is still trainable and in training mode; and, when ``weights`` is given, it kept them."""
    if not all(p.requires_grad for p in net.parameters()):
        chk.fail(f"{who}'s parameters were left with requires_grad=False.", diagnosis=f"your step froze {who} and did "
                 f"not unfreeze it: {who}'s own step would then get no gradient and {who} would stop learning, "
                 f"silently. Restore the flags ({who}.requires_grad_(True)) before returning, or leave them alone.")
    if not net.training:
        chk.fail(f"{who} was left in eval mode.", diagnosis=f"a step leaves the networks' modes as it found them: "
                 f"{who}.eval() switches layers such as BatchNorm and Dropout to their test behaviour for the rest "
                 f"of training; call {who}.train() again, or leave the mode alone.")
    if weights is not None and not torch.equal(_flat(net), weights):
        chk.fail(f"{who}'s weights changed.", weights, _flat(net), why)


def _returned_loss(chk: _Check, got: Any, expected: float, variants: list[tuple[str, float]], step: str) -> None:
    """A step returns, as a Python float, the loss it stepped on, computed before the update."""
    if isinstance(got, (Tensor, bool)) or not isinstance(got, numbers.Real):
        chk.fail(f"It returned a {type(got).__name__}; the step returns its loss as a Python float.", expected, got,
                 "return loss.item(): a tensor carries its autograd history, so a loop that adds it up (total += loss) "
                 "builds one graph across all its steps, as the PyTorch FAQ warns; and a log wants plain numbers."
                 if isinstance(got, Tensor) else
                 "return loss.item(), the loss this step computed.")
    if not _close(float(got), expected, rtol=1e-4, atol=1e-6):
        problem = "The update is right but the returned loss is not."
        for diagnosis, value in variants:
            if _close(float(got), value, rtol=1e-4, atol=1e-6):
                chk.fail(problem, expected, float(got), diagnosis)
        chk.fail(problem, expected, float(got), f"return the loss you called backward() on, computed before "
                 f"{step}.step().")


def _diagnose_update(chk: _Check, got: Tensor, expected: Tensor, start: Tensor, who: str,
                     simulate: Callable[[str], dict[str, Any]], variants: dict[str, str], unmoved: str) -> None:
    """Fail, naming the first simulated slip whose update matches ``got``."""
    gap = float((got - expected).abs().max())
    problem = f"Wrong update of {who}'s weights (they differ from the expected ones by up to {gap:.2g})."
    if torch.equal(got, start):
        chk.fail(f"{who}'s weights did not change.", expected, got, unmoved)
    for variant, diagnosis in variants.items():
        if _close(got, simulate(variant)["weights"], rtol=1e-4, atol=1e-6):
            chk.fail(problem, expected, got, diagnosis)
    chk.fail(problem, expected, got, "no common slip matches: clear the gradients, compute the loss of the "
             "exercise from the logits, backward, then one step of the optimiser you are given.")


# ---------------------------------------------------------------- D's step (Exercise 1)
_D_VARIANTS = {  # a slip in D's step -> what it does wrong
    "no_zero_grad": "the gradients were not cleared first: D's .grad still held what G's step left there (G's loss "
                    "backpropagates through D), and backward() ADDS to it. Call opt_d.zero_grad() before "
                    "loss.backward().",
    "swapped": "real and fake are swapped: D's targets are 1 for real data and 0 for the fakes, "
               "-log D(x) - log(1 - D(G(z))).",
    "sigmoid_twice": _SIGMOID_TWICE + " The logits go straight into the loss: F.softplus or "
                                      "F.binary_cross_entropy_with_logits apply the sigmoid themselves.",
    "ascent": "D climbed its loss: minimise it (loss.backward() on the loss itself, not on its negative).",
    "sum": "a sum where a mean belongs: each term is a mean over its batch.",
    "joint_mean": "real and fake logits were pooled into one mean: the loss is the SUM of two means, one over the "
                  "real batch and one over the fakes (the batches may differ in size).",
    "fakes_as_real": "the fakes were given the target 1 too: D's target for them is 0, -log(1 - D(G(z))) = "
                     "softplus(l_fake).",
}


def _d_losses(real_out: Tensor, fake_out: Tensor, variant: str) -> Tensor:
    if variant == "sigmoid_twice":
        real_out, fake_out = torch.sigmoid(real_out), torch.sigmoid(fake_out)
    if variant == "swapped":
        return F.softplus(real_out).mean() + F.softplus(-fake_out).mean()
    if variant == "sum":
        return F.softplus(-real_out).sum() + F.softplus(fake_out).sum()
    if variant == "joint_mean":
        return torch.cat([F.softplus(-real_out).flatten(), F.softplus(fake_out).flatten()]).mean()
    if variant == "fakes_as_real":
        return F.softplus(-real_out).mean() + F.softplus(-fake_out).mean()
    return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()


def _simulate(case: int, player: str, variant: str = "right") -> dict[str, Any]:
    """What the step of ``player`` (or one of the slips ``_D_VARIANTS``, ``_G_VARIANTS``) returns and leaves in that
    player's weights on case ``case``."""
    s = _build(case, player)
    G, D, opt = s["G"], s["D"], s["opt"]
    if player == "D":
        net, loss = D, _d_losses(D(s["real"]), D(G(s["z"]).detach()), variant)
    else:
        net, loss = G, _g_loss(D(G(s["z"])), variant)
    if variant != "no_zero_grad":
        opt.zero_grad()
    (-loss if variant == "ascent" else loss).backward()
    opt.step()
    return {"loss": loss.item(), "weights": _flat(net)}


def check_d_step_detached(fn: Callable[..., float]) -> None:
    """fn(G, D, opt_d, real, z) -> float: one update of D on the loss -E[log D(x)] - E[log(1 - D(G(z)))] written on
    logits, the fakes detached, the gradients that G's step left in D cleared first; G's weights and gradients left
    alone; returns the loss as a Python float. Then a short run with it must train."""
    chk = _Check("check_d_step_detached", "one discriminator step, fakes detached", fn, len(_SETUPS) + 1)
    for case in range(1, len(_SETUPS) + 1):
        s = _build(case, "D")
        G, D = s["G"], s["D"]
        g_weights, g_grads, d_start = _flat(G), _grads(G), _flat(D)
        keep = {k: s[k].clone() for k in ("real", "z")}
        chk.hints = dict(_IN_PLACE)
        chk.hints["must be the same as input size"] = ("the targets have another shape than the logits (here D "
                                                       "returns " + ("(N,)" if case % 2 == 0 else "(N, 1)") + "): "
                                                       "build them with torch.ones_like(logits) and "
                                                       "torch.zeros_like(logits).")
        got = _call(chk, case, (G, D, s["opt"], s["real"], s["z"]), _NOT_RANDOM, G=s["shown"]["G"],
                    D=s["shown"]["D"], opt_d=s["shown"]["opt"], real=f"{tuple(s['real'].shape)}",
                    z=f"{tuple(s['z'].shape)}")
        for name, before in keep.items():
            _unchanged(chk, name, s[name], before)
        _left_alone(chk, "G", G, g_weights, "D's step updates D only: opt_d.step(), nothing for G.")
        _left_alone(chk, "D", D)
        leaked = any(a is not None and (b is None or not torch.equal(a, b)) and bool(a.any())
                     for a, b in zip(_grads(G), g_grads))
        if leaked:
            chk.fail("G's gradients changed in D's step.", diagnosis="the fakes were not detached: D's loss "
                     "backpropagated into G and added to G's .grad. Use fake = G(z).detach() (or compute G(z) under "
                     "torch.no_grad()): in D's step the fakes are constants, and G's gradients belong to G's step.")
        right = _simulate(case, "D")
        if not _close(_flat(D), right["weights"], rtol=1e-4, atol=1e-6):
            _diagnose_update(chk, _flat(D), right["weights"], d_start, "D", lambda v: _simulate(case, "D", v),
                             _D_VARIANTS, "call loss.backward() and then opt_d.step(), and clear the gradients "
                             "BEFORE the backward pass (opt_d.zero_grad() between backward and step throws the "
                             "new gradients away).")
        with torch.no_grad():
            fresh = _build(case, "D")  # D before the step
            real_out, fake_out = fresh["D"](s["real"]), fresh["D"](fresh["G"](s["z"]))
        _returned_loss(chk, got, right["loss"], [
            (_D_VARIANTS["joint_mean"], _d_losses(real_out, fake_out, "joint_mean").item()),
            ("the loss was computed after opt_d.step(): return the loss of this step, the one you called backward() "
             "on.", _d_losses(D(s["real"]), D(G(s["z"])), "right").item()),
        ], "opt_d")
    _trains(chk, fn, reference_g_step, hint="D's step leaves D untrained or mis-trained in a way the four cases "
            "did not catch; a common cause is creating a new optimiser inside the step (its moments restart "
            "every step): use the opt_d you are given.")
    chk.passed()


# ---------------------------------------------------------------- G's step (Exercise 2)
_G_VARIANTS = {  # a slip in G's step -> what it does wrong
    "target_zero": "G trained towards D's label for fakes: G wants its fakes called REAL, target 1, "
                   "-log D(G(z)) = softplus(-l). With target 0, G runs away from the data.",
    "minimax": "this is the minimax (saturating) loss log(1 - D(G(z))): the same game, but its gradient vanishes "
               "when D rejects the fakes, early in training. Use the non-saturating -log D(G(z)), target 1.",
    "no_zero_grad": "the gradients were not cleared first: G's .grad still held gradients from its last step, and "
                    "backward() ADDS to them. Call opt_g.zero_grad() before loss.backward().",
    "sigmoid_twice": _SIGMOID_TWICE + " Feed D's logits to the loss as they are.",
    "ascent": "G climbed its own loss: minimise -log D(G(z)) (backward() on the loss itself, not its negative).",
    "sum": "a sum where a mean belongs: the loss is a mean over the batch.",
}


def _g_loss(out: Tensor, variant: str) -> Tensor:
    if variant == "sigmoid_twice":
        out = torch.sigmoid(out)
    return {"target_zero": lambda: F.softplus(out).mean(), "minimax": lambda: -F.softplus(out).mean(),
            "sum": lambda: F.softplus(-out).sum()}.get(variant, lambda: F.softplus(-out).mean())()


def check_g_step(fn: Callable[..., float]) -> None:
    """fn(G, D, opt_g, z) -> float: one update of G on the non-saturating loss -E[log D(G(z))] written on logits,
    gradients flowing through D into G (no detach), G's stale gradients cleared first; D's weights left alone;
    returns the loss as a Python float. Then a short run with it must train."""
    chk = _Check("check_g_step", "one generator step", fn, len(_SETUPS) + 1)
    for case in range(1, len(_SETUPS) + 1):
        s = _build(case, "G")
        G, D = s["G"], s["D"]
        d_weights, g_start = _flat(D), _flat(G)
        z = s["z"].clone()
        chk.hints = {**_IN_PLACE, "must be the same as input size": "the target has another shape than the logits: "
                     "torch.ones_like(logits)."}
        got = _call(chk, case, (G, D, s["opt"], s["z"]), _NOT_RANDOM, G=s["shown"]["G"], D=s["shown"]["D"],
                    opt_g=s["shown"]["opt"], z=f"{tuple(z.shape)}")
        _unchanged(chk, "z", s["z"], z)
        _left_alone(chk, "D", D, d_weights, "G's step updates G only: opt_g.step(). D is a fixed function "
                    "here, which G's gradient passes through.")
        _left_alone(chk, "G", G)
        right = _simulate(case, "G")
        if not _close(_flat(G), right["weights"], rtol=1e-4, atol=1e-6):
            fresh = _build(case, "G")
            grads = torch.autograd.grad(_g_loss(fresh["D"](fresh["G"](z)), "right"), list(fresh["G"].parameters()))
            stepped_not = all(p.grad is not None and _close(p.grad, g) for p, g in zip(G.parameters(), grads))
            _diagnose_update(chk, _flat(G), right["weights"], g_start, "G", lambda v: _simulate(case, "G", v),
                             _G_VARIANTS, "opt_g.step() was not called after loss.backward()." if stepped_not else
                             "no gradient reached G's weights: G(z) was detached (copied from D's step?), or the "
                             "gradients were cleared between backward() and step(). In G's step the gradient must "
                             "flow from D's logits back through G(z): fake = G(z), no .detach(), no torch.no_grad().")
        with torch.no_grad():
            fresh = _build(case, "G")
            out = fresh["D"](fresh["G"](z))
        _returned_loss(chk, got, right["loss"], [(_G_VARIANTS[v], _g_loss(out, v).item())
                                                 for v in ("target_zero", "minimax")], "opt_g")
    _trains(chk, reference_d_step, fn)
    chk.passed()

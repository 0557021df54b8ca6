"""Checks for chapter 08, CycleGAN, continued: the discriminators' step (Exercise 7), checked for its wiring: the
fakes detached, each drawn through its own domain's pool, the stale gradients cleared, one update of both
discriminators, and the losses returned as numbers."""

from __future__ import annotations

import itertools
import numbers
from typing import Any, Callable

import torch
from torch import nn

from ..cyclegan import ImagePool, d_loss
from .ch05 import _IN_PLACE, _unchanged
from .ch06 import _call, _seeded
from .core import _Check, _close

# batch, pool size, optimiser, learning rate, image side: every argument changes from case to case
_SETUPS = [(4, 3, "SGD", 0.1, 8), (3, 2, "SGD+momentum", 0.05, 8), (2, 0, "Adam", 0.01, 4), (5, 4, "SGD", 0.2, 4)]
_VARIANTS = {  # a slip in the step -> what it does wrong
    "no_zero_grad": "the gradients were not cleared first: D's weights still hold gradients from the generators' "
                    "step (g_loss backpropagates through D), and backward() ADDS to them. Call opt_d.zero_grad() "
                    "before the backward pass.",
    "no_pool": "the pools are not used: D sees only this step's fakes. Draw the fakes that D judges through the pool "
               "of their domain, pool_a.query(fake_a.detach()) and pool_b.query(fake_b.detach()).",
    "pools_swapped": "the pools are swapped: pool_a keeps the history of domain A's fakes, F(b) = fake_a; pool_b "
                     "that of fake_b.",
    "fakes_swapped": "each discriminator judged the other domain's fakes: D_A separates real a from fake_a = F(b) "
                     "(images in domain A), D_B real b from fake_b = G(a).",
    "real_fake_swapped": "real and fake are swapped in the loss: d_loss(D(real), D(fake)), real images towards 1.",
    "no_half": "the 1/2 is missing from D's loss: CycleGAN halves it, (E[(D(y) - 1)^2] + E[D(G(x))^2]) / 2.",
    "only_a": "only D_A's loss was backpropagated: the step updates both discriminators, (d_a + d_b).backward().",
    "only_b": "only D_B's loss was backpropagated: the step updates both discriminators, (d_a + d_b).backward().",
}


def _build(case: int) -> dict[str, Any]:
    """A fresh, identical set-up for case ``case``: two generators and the fakes they made (graphs attached), two
    small PatchGAN-like discriminators holding stale gradients from a generator step, two pools already full, an
    optimiser of both discriminators."""
    n, size, kind, lr, side = _SETUPS[case - 1]

    def nets() -> list[nn.Module]:
        def disc() -> nn.Module:
            return nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3, 1, 1))
        return [nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Tanh()) for _ in range(2)] + [disc(), disc()]

    G, F, D_A, D_B = _seeded(870 + case, nets)
    gen = torch.Generator().manual_seed(880 + case)
    a, b = (torch.rand(n, 1, side, side, generator=gen) * 2 - 1 for _ in range(2))
    pool_a, pool_b = ImagePool(size, torch.Generator().manual_seed(890 + case)), \
        ImagePool(size, torch.Generator().manual_seed(895 + case))
    for pool in (pool_a, pool_b):  # earlier fakes fill the pools
        pool.query(torch.rand(size, 1, side, side, generator=gen) * 2 - 1) if size else None
    for p in itertools.chain(D_A.parameters(), D_B.parameters()):  # left by the generators' step
        p.grad = torch.randn(p.shape, generator=gen)
    params = list(itertools.chain(D_A.parameters(), D_B.parameters()))
    opt = {"SGD": lambda: torch.optim.SGD(params, lr=lr),
           "SGD+momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.5),
           "Adam": lambda: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))}[kind]()
    fake_b, fake_a = G(a), F(b)  # (N, 1, S, S) each, with the generators' graphs
    return dict(G=G, F=F, D_A=D_A, D_B=D_B, opt_d=opt, a=a, b=b, fake_a=fake_a, fake_b=fake_b, pool_a=pool_a,
                pool_b=pool_b, text=f"{kind}, lr {lr}", size=size)


def _simulate(case: int, variant: str = "right") -> dict[str, Any]:
    """What the step (or one of the slips ``_VARIANTS``) returns and leaves behind on case ``case``."""
    s = _build(case)
    D_A, D_B, opt, a, b, pool_a, pool_b = (s[k] for k in ("D_A", "D_B", "opt_d", "a", "b", "pool_a", "pool_b"))
    fake_a, fake_b = s["fake_a"].detach(), s["fake_b"].detach()
    if variant == "no_pool":
        seen_a, seen_b = fake_a, fake_b
    elif variant == "pools_swapped":
        seen_a, seen_b = pool_b.query(fake_a), pool_a.query(fake_b)
    elif variant == "fakes_swapped":
        seen_a, seen_b = pool_a.query(fake_b), pool_b.query(fake_a)
    else:
        seen_a, seen_b = pool_a.query(fake_a), pool_b.query(fake_b)
    scale = 2.0 if variant == "no_half" else 1.0
    if variant == "real_fake_swapped":
        loss_a, loss_b = d_loss(D_A(seen_a), D_A(a)), d_loss(D_B(seen_b), D_B(b))
    else:
        loss_a, loss_b = scale * d_loss(D_A(a), D_A(seen_a)), scale * d_loss(D_B(b), D_B(seen_b))
    if variant != "no_zero_grad":
        opt.zero_grad()
    {"only_a": loss_a, "only_b": loss_b}.get(variant, loss_a + loss_b).backward()
    opt.step()
    return {"losses": {"d_a": loss_a.item(), "d_b": loss_b.item()}, **_state(s)}


def _state(s: dict[str, Any]) -> dict[str, Any]:
    return {"params": torch.cat([p.detach().flatten() for p in itertools.chain(s["D_A"].parameters(),
                                                                               s["D_B"].parameters())]),
            "pools": [([t.clone() for t in pool.images], pool.generator.get_state())
                      for pool in (s["pool_a"], s["pool_b"])]}


def _same(x: dict[str, Any], y: dict[str, Any]) -> bool:
    pools = all(len(ia) == len(ib) and all(torch.equal(u, v) for u, v in zip(ia, ib)) and torch.equal(ga, gb)
                for (ia, ga), (ib, gb) in zip(x["pools"], y["pools"]))
    losses = all(abs(x["losses"][k] - y["losses"][k]) <= 1e-5 + 1e-4 * abs(y["losses"][k]) for k in ("d_a", "d_b"))
    return pools and losses and _close(x["params"], y["params"], rtol=1e-4, atol=1e-6)


def check_cyclegan_d_step(fn: Callable[..., dict[str, float]]) -> None:
    """fn(D_A, D_B, opt_d, a, b, fake_a, fake_b, pool_a, pool_b) -> {"d_a": float, "d_b": float}: one update of both
    discriminators on the halved least-squares loss, D_A judging real a against pool_a.query(fake_a.detach()) and
    D_B real b against pool_b.query(fake_b.detach()), after clearing the gradients the generators' step left."""
    chk = _Check("check_cyclegan_d_step", "one update of both discriminators", fn, len(_SETUPS))
    for case in range(1, len(_SETUPS) + 1):
        s = _build(case)
        start = _state(s)["params"]
        right = _simulate(case)
        n, side = len(s["a"]), s["a"].shape[-1]
        keep = {k: s[k].detach().clone() for k in ("a", "b", "fake_a", "fake_b")}
        chk.hints = dict(_IN_PLACE)
        got = _call(chk, case, tuple(s[k] for k in ("D_A", "D_B", "opt_d", "a", "b", "fake_a", "fake_b", "pool_a",
                                                     "pool_b")),
                    "the step's only randomness is the pools', each with its own generator.",
                    D_A="Conv2d(1, 4, 4, 2, 1), LeakyReLU(0.2), Conv2d(4, 1, 3, 1, 1); D_B the same, other weights",
                    opt_d=f"{s['text']} over both discriminators' weights, which hold stale gradients",
                    a=f"({n}, 1, {side}, {side}) real images of A", b=f"({n}, 1, {side}, {side}) real images of B",
                    fake_a=f"F(b), ({n}, 1, {side}, {side}), with F's graph", fake_b="G(a), with G's graph",
                    pool_a=f"ImagePool({s['size']})" + (", full" if s["size"] else ": off"),
                    pool_b=f"ImagePool({s['size']})" + (", full" if s["size"] else ": off"))
        for name, before in keep.items():
            _unchanged(chk, name, s[name], before)
        leaked = [name for name in ("G", "F") if any(p.grad is not None for p in s[name].parameters())]
        if leaked:
            chk.fail(f"The generator{'s' if len(leaked) > 1 else ''} {' and '.join(leaked)} got gradients from D's "
                     f"step.", diagnosis="the fakes were not detached: D's loss backpropagated into the generators "
                     "(here the pools are off, so nothing detached them for you). Use fake_a.detach() and "
                     "fake_b.detach(): in D's step the fakes are constants, and the generators' gradients belong to "
                     "their own step.")
        if not isinstance(got, dict) or set(got) != {"d_a", "d_b"}:
            chk.fail("It must return a dict {'d_a': ..., 'd_b': ...}.", diagnosis=f"it returned "
                     f"{sorted(got) if isinstance(got, dict) else type(got).__name__}: return both discriminators' "
                     f"losses by name.")
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in got.values()):
            chk.fail("The losses must be Python floats.", diagnosis="a returned tensor keeps its graph (and the "
                     "activations behind it) alive: return loss.item().")
        mine = {"losses": {k: float(v) for k, v in got.items()}, **_state(s)}
        if _same(mine, right):
            continue
        expected, received = (f"d_a {r['losses']['d_a']:.4f}, d_b {r['losses']['d_b']:.4f}"
                              for r in (right, mine))
        gap = float((mine["params"] - right["params"]).abs().max())
        received += f"; D's weights after the step differ from the expected ones by up to {gap:.2g}" if gap else ""
        problem = "Wrong losses or update."
        if torch.equal(mine["params"], start):
            chk.fail(problem, expected, received, "the discriminators' weights did not change: call opt_d.step() "
                     "after loss.backward(), and clear the gradients BEFORE the backward pass, not between it and "
                     "the step.")
        for variant, diagnosis in _VARIANTS.items():
            if _same(mine, _simulate(case, variant)):
                chk.fail(problem, expected, received, diagnosis)
        untouched = _build(case)
        if all(torch.equal(ga, gb) for (_, ga), (_, gb) in zip(mine["pools"], _state(untouched)["pools"])) and \
                s["size"]:
            chk.fail(problem, expected, received, _VARIANTS["no_pool"])
        chk.fail(problem, expected, received, "no common slip matches: for each domain, the fakes detached and "
                 "drawn through that domain's pool, the halved least-squares loss, then zero_grad, backward of the "
                 "sum, step.")
    chk.passed()

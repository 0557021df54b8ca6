"""Checks for chapter 08, CycleGAN: the cycle-consistency loss (Exercise 1), the identity loss (Exercise 2) and the
least-squares losses of both players (Exercise 6). The image pool, the learning-rate schedule and the receptive field
(Exercises 3-5) are checked in ``ch08_parts``, the discriminator step (Exercise 7) in ``ch08_step``; this module
gathers all of the chapter's checks, so that ``from ganlab.checks import ch08`` gives every one."""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
import torch.nn.functional as nnf
from torch import Tensor, nn

from ..cyclegan import cycle_loss, d_loss, g_loss, identity_loss
from .ch05 import _gradients, _unchanged
from .ch06 import _call, _no_backward, _seeded
from .ch07 import _run, _values
from .ch08_parts import check_image_pool, check_linear_decay, check_receptive_field
from .ch08_step import check_cyclegan_d_step
from .core import _Check, _close

__all__ = ["check_cycle_loss", "check_identity_loss", "check_image_pool", "check_linear_decay",
           "check_receptive_field", "check_lsgan_losses", "check_cyclegan_d_step"]

_SHADOWED = {"has no attribute": "inside this function the name F is the generator B -> A, which hides "
                                 "torch.nn.functional if you imported it as F: write (x - y).abs().mean(), or "
                                 "import torch.nn.functional under another name."}
_NOT_RANDOM = "the loss is computed from the networks and batches given: nothing is drawn at random."
_ONE_NUMBER = {(1,): "the loss is a 0-d tensor: .mean() returns one."}


# ---------------------------------------------------------------- shared pieces
def _translators(seed: int, ca: int, cb: int) -> tuple[nn.Module, nn.Module, str]:
    """Two small image-to-image networks with different weights, G: A -> B and F: B -> A."""
    def make() -> tuple[nn.Module, nn.Module]:
        return (nn.Sequential(nn.Conv2d(ca, cb, 3, padding=1), nn.Tanh()),
                nn.Sequential(nn.Conv2d(cb, ca, 3, padding=1), nn.Tanh()))
    G, F = _seeded(800 + seed, make)
    return G, F, f"Conv2d({ca}, {cb}, 3, padding=1) + Tanh; F: Conv2d({cb}, {ca}, 3, padding=1) + Tanh"


def _call_nets(chk: _Check, case: int, nets: tuple[nn.Module, nn.Module], batches: tuple[Tensor, Tensor],
               extra: tuple, shown: dict[str, Any]) -> Any:
    """fn(G, F, a, b, *extra) on copies of the batches; fail if it drew random numbers, changed a batch or ran
    backward() itself."""
    a, b = batches
    given = (a.clone(), b.clone())
    got = _call(chk, case, (*nets, *given, *extra), _NOT_RANDOM, **shown)
    _unchanged(chk, "a", given[0], a)
    _unchanged(chk, "b", given[1], b)
    for net in nets:
        _no_backward(chk, [], net)
    return got


def _grads_of(loss: Tensor, net: nn.Module) -> list[Tensor]:
    params = list(net.parameters())
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True) if loss.requires_grad else \
        [None] * len(params)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def _same_grads(a: list[Tensor], b: list[Tensor]) -> bool:
    return all(_close(x, y, rtol=1e-3, atol=1e-6) for x, y in zip(a, b))


def _network_gradients(chk: _Check, got: Tensor, expected: Tensor, nets: tuple[nn.Module, nn.Module],
                       refs: tuple[nn.Module, nn.Module], detached: list[tuple[str, Callable[[], Tensor]]]) -> None:
    """The gradients of ``got`` reach G's and F's weights as the reference's do; else name the detached path."""
    if not got.requires_grad:
        chk.fail("The value is right but it carries no gradient.", diagnosis="the loss trains both generators: no "
                 ".detach(), .item(), NumPy or torch.no_grad() anywhere on the way.")
    for name, net, ref in zip(("G", "F"), nets, refs):
        want, have = _grads_of(expected, ref), _grads_of(got, net)
        if _same_grads(have, want):
            continue
        problem = f"The value is right but the gradient reaching {name}'s weights is not."
        for diagnosis, wrong in detached:
            if _same_grads(have, _grads_of(wrong(), ref)):
                chk.fail(problem, want[0], have[0], diagnosis)
        chk.fail(problem, want[0], have[0], "part of the loss is detached or computed outside torch: every term must "
                 "train the generators it passes through.")


def _batches(gen: torch.Generator, n: int, ca: int, cb: int, h: int, w: int) -> tuple[Tensor, Tensor]:
    """Two unpaired batches from different distributions: A darker, in [-0.9, 0.3], B lighter, in [-0.3, 0.9]."""
    return (torch.rand(n, ca, h, w, generator=gen) * 1.2 - 0.9, torch.rand(n, cb, h, w, generator=gen) * 1.2 - 0.3)


# ---------------------------------------------------------------- the cycle-consistency loss (Exercise 1)
def check_cycle_loss(fn: Callable[[nn.Module, nn.Module, Tensor, Tensor, float], Tensor]) -> None:
    """fn(G, F, a, b, lambda_cyc) -> lambda_cyc (mean |F(G(a)) - a| + mean |G(F(b)) - b|), one number: the
    cycle-consistency loss of CycleGAN (Zhu, Park, Isola & Efros, ICCV 2017, eq. 2) in both directions."""
    gen = torch.Generator().manual_seed(81)
    setups = [(1, 2, 1, 1, (5, 5), 10.0), (2, 3, 3, 3, (4, 6), 2.5), (3, 2, 1, 2, (4, 4), 7.0),
              (4, 4, 2, 2, (3, 5), 0.5)]
    cases = [(*_translators(seed, ca, cb), *_batches(gen, n, ca, cb, *hw), lam) for seed, n, ca, cb, hw, lam in setups]
    chk = _Check("check_cycle_loss", "the cycle-consistency loss, both directions", fn, len(cases))
    for case, (G, F, text, a, b, lam) in enumerate(cases, 1):
        Gr, Fr = copy.deepcopy(G), copy.deepcopy(F)
        chk.hints = dict(_SHADOWED)
        if a.shape != b.shape:
            chk.hints["must match the size of tensor"] = (
                f"here A has {a.shape[1]} channel(s) and B {b.shape[1]}: was F(G(a)) compared with b, or G(F(b)) with "
                f"a? Each cycle returns to its own domain: |F(G(a)) - a| and |G(F(b)) - b|.")
        got = _call_nets(chk, case, (G, F), (a, b), (lam,), dict(
            G=text, a=f"{tuple(a.shape)} in [-0.9, 0.3]", b=f"{tuple(b.shape)} in [-0.3, 0.9], unpaired with a",
            lambda_cyc=lam))
        expected = lam * (cycle_loss(Fr(Gr(a)), a) + cycle_loss(Gr(Fr(b)), b))
        with torch.no_grad():
            rec_a, rec_b = Fr(Gr(a)), Gr(Fr(b))  # (N, C_A, H, W), (N, C_B, H, W)
            err_a, err_b = (rec_a - a).abs(), (rec_b - b).abs()
            l1a, l1b = err_a.mean(), err_b.mean()
            variants = [
                ("this is the squared error (L2): the cycle loss is the mean ABSOLUTE error (L1), |F(G(a)) - a|.",
                 lam * ((rec_a - a).pow(2).mean() + (rec_b - b).pow(2).mean())),
                ("only the forward cycle a -> G(a) -> F(G(a)): add the backward cycle |G(F(b)) - b|, so that each "
                 "generator is undone by the other in both directions.", lam * l1a),
                ("only the backward cycle b -> F(b) -> G(F(b)): add the forward cycle |F(G(a)) - a|.", lam * l1b),
                (f"lambda_cyc is ignored (here {lam}): the loss is lambda_cyc times the sum of both terms.", l1a + l1b),
                ("lambda_cyc multiplies the forward term only: it weighs BOTH cycles, lambda_cyc (term_a + term_b).",
                 lam * l1a + l1b),
                ("lambda_cyc multiplies the backward term only: it weighs BOTH cycles, lambda_cyc (term_a + term_b).",
                 l1a + lam * l1b),
                ("a sum where a mean belongs: each term is the MEAN absolute error over pixels and batch.",
                 lam * (err_a.sum() + err_b.sum())),
                ("summed over each image's pixels, then averaged over the batch: each term is the mean over the "
                 "pixels too.", lam * (err_a.flatten(1).sum(1).mean() + err_b.flatten(1).sum(1).mean())),
                ("the two directions were averaged: the loss is the SUM of the two means.", lam * (l1a + l1b) / 2),
                ("all the errors were pooled into one mean: the loss is the SUM of the two directions' means, "
                 "lambda_cyc (mean_a + mean_b).", lam * torch.cat([err_a.flatten(), err_b.flatten()]).mean()),
            ]
            try:  # broadcasts when one domain has a single channel
                crossed = lam * ((rec_a - b).abs().mean() + (rec_b - a).abs().mean())
                variants.append(("F(G(a)) was compared with b (and G(F(b)) with a): a cycle returns to where it "
                                 "started, |F(G(a)) - a| and |G(F(b)) - b|; a and b are unpaired.", crossed))
            except RuntimeError:
                pass
        _values(chk, got, expected, variants, {(len(a),): "one loss per image: average over the batch too.",
                                               **_ONE_NUMBER},
                "the loss is one number, a 0-d tensor.", "the generators end in tanh, so every value is finite.",
                problem=f"Wrong loss (lambda_cyc = {lam}).")
        _network_gradients(chk, got, expected, (G, F), (Gr, Fr), [
            ("G(a) was detached before F: the forward cycle's error never reaches G, so nothing asks G to keep what F "
             "needs to undo it. Keep the graph through both generators.",
             lambda: lam * (cycle_loss(Fr(Gr(a).detach()), a) + cycle_loss(Gr(Fr(b)), b))),
            ("F(b) was detached before G: the backward cycle's error never reaches F. Keep the graph through both "
             "generators.", lambda: lam * (cycle_loss(Fr(Gr(a)), a) + cycle_loss(Gr(Fr(b).detach()), b))),
            ("G(a) and F(b) were detached before the way back: each generator learns only as the second half of a "
             "cycle. Keep the graph through both generators.",
             lambda: lam * (cycle_loss(Fr(Gr(a).detach()), a) + cycle_loss(Gr(Fr(b).detach()), b))),
        ])
    chk.passed()


# ---------------------------------------------------------------- the identity loss (Exercise 2)
def check_identity_loss(fn: Callable[[nn.Module, nn.Module, Tensor, Tensor, float, float], Tensor]) -> None:
    """fn(G, F, a, b, lambda_cyc, lambda_id) -> lambda_id lambda_cyc (mean |G(b) - b| + mean |F(a) - a|), one number:
    each generator, given an image of its own output domain, should leave it unchanged (Zhu et al. 2017, sec. 5.2)."""
    gen = torch.Generator().manual_seed(82)
    setups = [(5, 2, 1, (5, 5), 10.0, 0.5), (6, 3, 3, (4, 6), 4.0, 0.1), (7, 2, 2, (4, 4), 2.5, 2.0),
              (8, 4, 1, (3, 5), 6.0, 0.25)]
    cases = [(*_translators(seed, c, c), *_batches(gen, n, c, c, *hw), lam, lam_id)
             for seed, n, c, hw, lam, lam_id in setups]
    chk = _Check("check_identity_loss", "the identity loss of both generators", fn, len(cases))
    for case, (G, F, _, a, b, lam, lam_id) in enumerate(cases, 1):
        Gr, Fr = copy.deepcopy(G), copy.deepcopy(F)
        chk.hints = dict(_SHADOWED)
        got = _call_nets(chk, case, (G, F), (a, b), (lam, lam_id), dict(
            G=f"Conv2d({a.shape[1]}, {a.shape[1]}, 3, padding=1) + Tanh; F the same, other weights",
            a=f"{tuple(a.shape)} in [-0.9, 0.3]", b=f"{tuple(b.shape)} in [-0.3, 0.9]", lambda_cyc=lam,
            lambda_id=lam_id))
        w = lam_id * lam
        expected = w * (identity_loss(Gr(b), b) + identity_loss(Fr(a), a))
        with torch.no_grad():
            gb, fa, ga, fb = Gr(b), Fr(a), Gr(a), Fr(b)
            ib, ia = (gb - b).abs().mean(), (fa - a).abs().mean()
            variants = [
                ("the domains are swapped: G maps A to B, so G's identity term feeds it an image of B, its OUTPUT "
                 "domain, |G(b) - b| (and |F(a) - a| for F). G(a) - a would ask G not to translate at all.",
                 w * ((ga - a).abs().mean() + (fb - b).abs().mean())),
                ("each generator's output was compared with the other domain: |G(b) - b| and |F(a) - a|, each image "
                 "with itself.", w * ((gb - a).abs().mean() + (fa - b).abs().mean())),
                ("this is the squared error (L2): the identity loss is the mean ABSOLUTE error (L1).",
                 w * ((gb - b).pow(2).mean() + (fa - a).pow(2).mean())),
                (f"lambda_id is ignored (here {lam_id}): the weight is lambda_id times lambda_cyc, as lambda_id is a "
                 f"fraction of the cycle weight.", lam * (ib + ia)),
                (f"lambda_cyc is ignored (here {lam}): the weight is lambda_id times lambda_cyc (the paper's 0.5 is "
                 f"relative to lambda_cyc).", lam_id * (ib + ia)),
                ("both weights are ignored: the loss is lambda_id lambda_cyc (term_G + term_F).", ib + ia),
                ("the weights were added: the weight is their PRODUCT, lambda_id * lambda_cyc.",
                 (lam_id + lam) * (ib + ia)),
                ("only G's term: add F's, |F(a) - a|.", w * ib),
                ("only F's term: add G's, |G(b) - b|.", w * ia),
                ("a sum where a mean belongs: each term is the MEAN absolute error.",
                 w * ((gb - b).abs().sum() + (fa - a).abs().sum())),
                ("the two terms were averaged: the loss is the SUM of the two means.", w * (ib + ia) / 2),
            ]
        _values(chk, got, expected, variants, {(len(a),): "one loss per image: average over the batch too.",
                                               **_ONE_NUMBER},
                "the loss is one number, a 0-d tensor.", "the generators end in tanh, so every value is finite.",
                problem=f"Wrong loss (lambda_cyc = {lam}, lambda_id = {lam_id}).")
        _network_gradients(chk, got, expected, (G, F), (Gr, Fr), [])
    chk.passed()


# ---------------------------------------------------------------- the least-squares losses (Exercise 6)
def check_lsgan_losses(d_loss_fn: Callable[[Tensor, Tensor], Tensor], g_loss_fn: Callable[[Tensor], Tensor]) -> None:
    """d_loss_fn(real_out, fake_out) -> (mean (D(y) - 1)^2 + mean D(G(x))^2) / 2 and g_loss_fn(fake_out) ->
    mean (D(G(x)) - 1)^2: the least-squares losses (Mao et al., ICCV 2017) in CycleGAN's convention, D halved, G not;
    each mean over patches and batch, from D's raw outputs (no sigmoid)."""
    gen = torch.Generator().manual_seed(86)
    shapes = [(2, 1, 3, 3), (3, 1, 2, 4), (1, 1, 5, 5), (4, 1, 2, 2)]
    cases = [(torch.randn(s, generator=gen) * 0.8 + 0.6, torch.randn(s, generator=gen) * 0.8 + 0.2) for s in shapes]
    chk = _Check("check_lsgan_losses", "the discriminator's least-squares loss, halved", d_loss_fn, len(cases))
    for case, (real, fake) in enumerate(cases, 1):
        n = len(real)
        got, (r, f), given = _run(chk, case, (real, fake), ("real_out", "fake_out"), (True, True), _NOT_RANDOM,
                                  real_out=real, fake_out=fake, note="D's patch maps, raw outputs (no sigmoid)")
        expected = d_loss(r, f)
        half = lambda x, y: 0.5 * ((x - 1).pow(2).mean() + y.pow(2).mean())  # noqa: E731
        _values(chk, got, expected, [
            ("the 1/2 is missing: CycleGAN halves D's loss, (E[(D(y) - 1)^2] + E[D(G(x))^2]) / 2, so that D learns "
             "at half the rate of G (sec. 7.1).", 2 * half(real, fake)),
            ("the targets are swapped: D regresses real outputs on 1 and fake outputs on 0.", half(fake, real)),
            ("this is the binary cross-entropy on logits: CycleGAN replaces it by least squares, the squared distance "
             "of D's raw output to its target.",
             nnf.softplus(-real).mean() + nnf.softplus(fake).mean()),
            ("this is half the binary cross-entropy on logits: CycleGAN uses least squares, (D(y) - 1)^2 and "
             "D(G(x))^2.", 0.5 * (nnf.softplus(-real).mean() + nnf.softplus(fake).mean())),
            ("a sum where a mean belongs: average each term over every patch of every image.",
             0.5 * ((real - 1).pow(2).sum() + fake.pow(2).sum())),
            ("fake target -1 (Mao's a = -1, b = 1 coding): CycleGAN uses 0 for fakes and 1 for real images.",
             0.5 * ((real - 1).pow(2).mean() + (fake + 1).pow(2).mean())),
            ("a sigmoid was applied: least squares regresses D's raw output, no sigmoid.",
             half(torch.sigmoid(real), torch.sigmoid(fake))),
            ("only the real term: add E[D(G(x))^2], then halve.", 0.5 * (real - 1).pow(2).mean()),
            ("only the fake term: add E[(D(y) - 1)^2], then halve.", 0.5 * fake.pow(2).mean()),
            ("absolute values where squares belong: least squares squares the error.",
             0.5 * ((real - 1).abs().mean() + fake.abs().mean())),
        ], {(n,): "one loss per image: average over the batch too.", tuple(real.shape): "one loss per patch: average "
            "over every patch of every image.", **_ONE_NUMBER}, "the loss is one number, a 0-d tensor.",
            "least squares has no log: NaN or inf means a log or a division crept in.",
            problem="Wrong discriminator loss.")
        _gradients(chk, got, expected, [r, f], given, ["real_out", "fake_out"],
                   "the loss trains D through both outputs: no .detach(), .item() or NumPy here (the fakes are "
                   "detached where D is called on them, in the step).")
    chk = _Check("check_lsgan_losses", "the generator's least-squares loss", g_loss_fn, len(cases))  # then G's
    for case, (_, fake) in enumerate(cases, 1):
        n = len(fake)
        got, (f,), given = _run(chk, case, (fake,), ("fake_out",), (True,), _NOT_RANDOM, fake_out=fake,
                                note="D's patch map of G's images, raw outputs")
        expected = g_loss(f)
        _values(chk, got, expected, [
            ("the 1/2 belongs to D's loss only: CycleGAN's generator minimises E[(D(G(x)) - 1)^2], not halved (the "
             "scale against which lambda_cyc = 10 was set).", 0.5 * (fake - 1).pow(2).mean()),
            ("target 0 is D's target for fakes: G wants its images scored as real, E[(D(G(x)) - 1)^2].",
             fake.pow(2).mean()),
            ("this is the non-saturating loss on logits, -log sigmoid(D(G(x))): CycleGAN's G uses least squares, "
             "E[(D(G(x)) - 1)^2].", nnf.softplus(-fake).mean()),
            ("minus D's loss on the fakes: in least squares G has its own target, 1, E[(D(G(x)) - 1)^2].",
             -fake.pow(2).mean()),
            ("minus D's halved loss on the fakes: G has its own target, 1, E[(D(G(x)) - 1)^2].",
             -0.5 * fake.pow(2).mean()),
            ("a sum where a mean belongs: average over every patch of every image.", (fake - 1).pow(2).sum()),
            ("the square of the mean, (E[D(G(x))] - 1)^2: least squares averages the squared errors.",
             (fake.mean() - 1) ** 2),
            ("a sigmoid was applied: least squares regresses D's raw output, no sigmoid.",
             (torch.sigmoid(fake) - 1).pow(2).mean()),
        ], {(n,): "one loss per image: average over the batch too.", tuple(fake.shape): "one loss per patch: average "
            "over every patch of every image.", **_ONE_NUMBER}, "the loss is one number, a 0-d tensor.",
            "least squares has no log: NaN or inf means a log or a division crept in.",
            problem="Wrong generator loss.")
        _gradients(chk, got, expected, [f], given, ["fake_out"], "the loss trains G through D's output on its "
                   "images: no .detach(), .item() or NumPy here.")
    chk.passed()

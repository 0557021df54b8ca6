"""The bug clinic: classic GAN training bugs, each reproduced in a small runnable setting beside its fix.

Every case trains the same small GAN on the ring of 8 Gaussians (chapter 01's setting) with one
training step written out in full, once with the bug and once with the one-line fix, from the
same seed, and measures both runs the same way: modes covered, high-quality fraction, reverse
KL (``ganlab.metrics``) and what the training doctor (``ganlab.doctor``) says about the run.

    result = clinic.run_case("fakes_not_detached")
    result["buggy"]["modes_covered"], result["fixed"]["modes_covered"], result["buggy"]["doctor"]

``CASES`` lists them, each with its symptom, its diagnosis and its fix in words. The step
functions are short on purpose, in the form students write them (zero_grad, forward, loss,
backward, step), so that each bug is one visible line.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from . import data, validate
from .doctor import Doctor, diagnose
from .loop import History, run_steps
from .metrics import evaluate_generator
from .nets import MLPDiscriminator, MLPGenerator

__all__ = ["Case", "CASES", "run_case"]

BATCH = 256  # examples per step, real and fake each
STEPS = 1500  # steps of each run: enough for the fixed runs to cover all 8 modes
LR = 1e-3  # Adam, both players, betas (0.5, 0.999) as in DCGAN


@dataclass(frozen=True)
class Case:
    """One bug: what a run shows, why, and the fix."""

    name: str
    symptom: str
    diagnosis: str
    fix: str
    step: Callable[..., Callable[[int], dict[str, float]]]  # step(G, D, opt_g, opt_d, sample, z, buggy) -> step_fn
    loss: str = "bce"  # what D's outputs are: "bce" (logits), "lsgan" (scores regressed on 0 and 1)


def _probabilities(real_out: Tensor, fake_out: Tensor, loss: str) -> dict[str, float]:
    """D's mean outputs as the doctor reads them: probabilities for logits, the raw scores for least squares."""
    squash = torch.sigmoid if loss == "bce" else (lambda t: t)
    return {"d_real": squash(real_out.detach()).mean().item(), "d_fake": squash(fake_out.detach()).mean().item()}


def _ones(t: Tensor) -> Tensor:
    return torch.ones_like(t)


# ----------------------------------------------------------------------------------------------- the cases' steps
def _fakes_not_detached(G, D, opt_g, opt_d, sample, z, buggy):
    def step(i: int) -> dict[str, float]:
        real = sample(BATCH)
        if buggy:
            opt_g.zero_grad()  # cleared once, at the top, before D's step
        fake = G(z(BATCH))
        opt_d.zero_grad()
        real_out, fake_out = D(real), D(fake if buggy else fake.detach())  # BUG: no .detach()
        loss_d = (F.binary_cross_entropy_with_logits(real_out, _ones(real_out))
                  + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))
        loss_d.backward()  # with the bug, this also leaves D's gradient in G's weights ...
        opt_d.step()
        if not buggy:
            opt_g.zero_grad()
        out = D(G(z(BATCH)))
        loss_g = F.binary_cross_entropy_with_logits(out, _ones(out))
        loss_g.backward()  # ... and G's step then follows G's loss plus the gradient that helps D
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), **_probabilities(real_out, fake_out, "bce")}
    return step


def _bce_step(G, D, opt_g, opt_d, sample, z, squash=lambda t: t, real_target=1.0, fake_target=0.0):
    """The plain step (D on real and detached fakes, then G through D), with what the next cases change."""
    def step(i: int) -> dict[str, float]:
        real, fake = sample(BATCH), G(z(BATCH))
        opt_d.zero_grad()
        real_out, fake_out = squash(D(real)), squash(D(fake.detach()))
        loss_d = (F.binary_cross_entropy_with_logits(real_out, torch.full_like(real_out, real_target))
                  + F.binary_cross_entropy_with_logits(fake_out, torch.full_like(fake_out, fake_target)))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = squash(D(fake))
        loss_g = F.binary_cross_entropy_with_logits(out, _ones(out))
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), **_probabilities(real_out, fake_out, "bce")}
    return step


def _sigmoid_then_logits_loss(G, D, opt_g, opt_d, sample, z, buggy):
    # BUG: a Sigmoid at the end of D, and then a loss on logits (which applies the sigmoid again): what the loss
    # takes for logits are probabilities in (0, 1), so its own sigmoid of them lies in (0.5, 0.73)
    return _bce_step(G, D, opt_g, opt_d, sample, z, squash=torch.sigmoid if buggy else (lambda t: t))


def _labels_swapped(G, D, opt_g, opt_d, sample, z, buggy):
    real_target, fake_target = (0.0, 1.0) if buggy else (1.0, 0.0)  # BUG: real labelled 0, fake 1
    return _bce_step(G, D, opt_g, opt_d, sample, z, real_target=real_target, fake_target=fake_target)


def _broadcast_targets(G, D, opt_g, opt_d, sample, z, buggy):
    def step(i: int) -> dict[str, float]:
        real, fake = sample(BATCH), G(z(BATCH))
        opt_d.zero_grad()
        out = D(torch.cat([real, fake.detach()]))[:, None]  # (2N, 1), as from a head nn.Linear(width, 1)
        targets = torch.cat([torch.ones(BATCH), torch.zeros(BATCH)])  # (2N,)
        if not buggy:
            targets = targets[:, None]  # (2N, 1), as D's output
        # BUG: (2N, 1) against (2N,) broadcasts to (2N, 2N): every output regressed on every target, i.e. on 0.5
        with warnings.catch_warnings():  # torch warns once, in a message easily missed; the symptom is what counts
            warnings.filterwarnings("ignore", message="Using a target size")
            loss_d = 0.5 * F.mse_loss(out, targets)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        fake_out = D(fake)[:, None]
        loss_g = 0.5 * F.mse_loss(fake_out, torch.ones_like(fake_out))
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                **_probabilities(out[:BATCH], out[BATCH:], "lsgan")}
    return step


def _g_optimiser_on_d(G, D, opt_g, opt_d, sample, z, buggy):
    if buggy:  # BUG: G's optimiser built on D's parameters (a copy-paste of the line above it)
        opt_g = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    return _bce_step(G, D, opt_g, opt_d, sample, z)


CASES = {case.name: case for case in (
    Case("fakes_not_detached",
         "G learns slowly and unevenly; its loss and D's move together",
         "D's step runs D's loss back into G (no .detach() on the fakes) and G's gradients, cleared once at the top "
         "of the iteration, keep that part: G's update follows its own loss plus the gradient that makes D's job "
         "easier",
         "fake.detach() in D's step (and opt_g.zero_grad() right before G's backward)", _fakes_not_detached),
    Case("sigmoid_then_logits_loss",
         "D's outputs stay between 0.5 and 0.73 whatever it sees; G learns slowly",
         "D ends with a Sigmoid and the loss is BCEWithLogits, which applies a sigmoid again: D can never be "
         "confident, and its gradients shrink by the sigmoid's slope",
         "remove the Sigmoid (or use BCELoss on probabilities, less stable)", _sigmoid_then_logits_loss),
    Case("labels_swapped",
         "D rates the fakes as more real than the real data; G drifts away from the data",
         "D's targets are swapped: real labelled 0 and fakes 1, so D learns to call the fakes real and G is pushed "
         "to where D already agrees",
         "ones for real data, zeros for the fakes, in D's step", _labels_swapped),
    Case("broadcast_targets",
         "D's outputs sit at 0.5 for real and fake alike; G learns nothing useful",
         "D's output has shape (2N, 1) and the targets (2N,): the least-squares loss broadcasts them to (2N, 2N), "
         "regressing every output on every target, that is on their mean 0.5 (torch warns once, in a message "
         "easily missed)",
         "targets of D's output's shape: targets[:, None], or out.squeeze(1)", _broadcast_targets, loss="lsgan"),
    Case("g_optimiser_on_d",
         "D wins outright (its outputs go to 1 on real data and 0 on fakes) and G's samples never move",
         "G's optimiser was built on D's parameters: G's step changes D, and G never changes",
         "torch.optim.Adam(G.parameters(), ...)", _g_optimiser_on_d),
)}


def run_case(name: str, steps: int = STEPS, seed: int = 0) -> dict[str, dict]:
    """Train the case's buggy step and its fixed step from the same seed; for each, the modes covered, the
    high-quality fraction, the reverse KL, the history and the doctor's findings (``"doctor"``: their codes)."""
    validate.choice("name", name, CASES)
    validate.integer("steps", steps)
    validate.integer("seed", seed, low=0)
    case, ring = CASES[name], data.toy("ring")
    result = {}
    for buggy in (True, False):
        torch.manual_seed(seed)
        G, D = MLPGenerator(latent_dim=2, out_dim=2, width=128, depth=3), MLPDiscriminator(in_dim=2, width=128, depth=3)
        opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
        stream = torch.Generator().manual_seed(seed)
        sample = lambda n: ring.sample(n, generator=stream)  # noqa: E731
        z = lambda n: torch.randn(n, 2, generator=stream)  # noqa: E731
        watcher = Doctor({"G": G, "D": D}, quiet=True)
        history: History = run_steps(case.step(G, D, opt_g, opt_d, sample, z, buggy), steps=steps, state={
            "G": G, "D": D}, doctor=watcher, log_every=max(1, steps // 40), progress=False)
        findings = {f.code for f in diagnose(history)} | {f.code for f in watcher.findings}
        result["buggy" if buggy else "fixed"] = {**evaluate_generator(G, ring), "history": dict(history),
                                                 "doctor": sorted(findings)}
    return result

"""The training doctor: reads what a run shows and says, in plain words, what is wrong with it.

A GAN's losses do not fall to zero when training goes well, so "the loss went down" says
little. What an experienced practitioner reads instead are a few signals, each with a healthy
range, and this module reads the same ones:

- D's outputs on real and on fake data (``d_real``, ``d_fake``: the mean probabilities that
  ``ganlab.fit`` logs for the logistic losses, SinGAN's too);
- the losses, and whether any value became NaN or infinite;
- the gradient norm of each network, and the diversity of a fixed batch of samples, which
  only a live ``Doctor`` can measure (they are not in a checkpoint's history);
- for a VAE, the KL term (``kl``).

``diagnose(history)`` returns a list of ``Finding`` s: what was seen, from which step, the
evidence in numbers, the usual causes and the usual remedies, and whether the signal is
unambiguous. ``Doctor`` watches a run live as a callback of ``fit`` or ``run_steps`` and
warns with step numbers; ``ganlab doctor RUN_DIR`` reads a run folder after the fact.

The thresholds, and why:

- *D wins outright*: over the last fifth of the run, D gives real data more than 0.9 and fakes
  less than 0.1 on average. At those odds (9:1 each way) the minimax generator loss
  log(1 - D(G(z))) is nearly flat (its gradient in D's logit is D(G(z)) <= 0.1), and even the
  non-saturating loss only pushes G towards what D rejects today. A healthy run hovers nearer
  0.5 on both sides, D ahead by a margin (chapter 01).
- *D learns nothing*: over the first half of the run D never tells real from fake by more than
  0.02 in mean probability, or its output on real data never moves 0.02 from its first value.
  A D that trains at all moves within its first steps (on the ring of chapter 01, healthy runs
  moved 0.09 to 0.12, a D whose optimiser did not step it 0.005); if it never does, its
  optimiser is not stepping its weights (a wrong parameter list, a learning rate of 0,
  ``step()`` called on something else), or its loss does not reach it.
- *A sigmoid applied twice*: every D(real) and D(fake) of the run lies in (0.5, 0.731), the image
  of (0, 1) under the sigmoid: D's "logits" are probabilities (a Sigmoid at the end of D before a
  logits loss). A healthy D's output on fakes falls below 0.5 within its first steps.
- *Frozen weights* (live): a network has gradients, yet not one of its weights has moved since
  the doctor's first reading: its optimiser steps something else, or never steps.
- *D prefers the fakes*: over the last fifth D(fake) averages 0.05 more than D(real): swapped
  labels, or a D that barely learns while G exploits it (ambiguous between the two).
- *Diverged*: a value became NaN or infinite (the loop stops there and names the step).
- *Exploding gradients* (live): a network's gradient norm exceeds 100 times its median so far.
- *Mode collapse* (live, with samples): the mean distance between samples of a fixed batch of z
  falls below half the mean distance between real examples (twice running), after having been
  at least 0.8 of it; or, given ``label``, the share of a real batch's classes that the samples
  cover falls the same way.
- *Posterior collapse* (VAE): the KL term averages below 0.1 nats per example over the last
  fifth: the code carries (almost) no information about the input (chapter 07).

A run of fewer than 50 logged steps is too short to judge (a D that has not moved yet, a KL that
has not grown yet): on those the doctor reports divergence only. Where a signal is ambiguous the
finding says so (``certain=False``): D winning near the very end
of a short run, for instance, may be a run that has not reached its balance yet. A finding about
where a live run stands (D ahead, D preferring the fakes, collapse, frozen weights) that no longer
holds at the run's end moves to ``Doctor.passed``: GANs go through such phases and recover.

What it does not diagnose: oscillation and a learning rate that is too high but does not make the
gradients explode have no rule of their own. The signal tried for them, D's output on real data
jumping from one logged step to the next, measured 0.13 to 0.24 in healthy image GANs of the
course, too close to what a broken run shows to tell them apart. Bugs that leave D's outputs in a
normal range (chapter 09's fakes not detached, a gradient penalty over the wrong dimension) leave
nothing for it to read; a known-good run to compare with finds those.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from . import validate

__all__ = ["Finding", "diagnose", "Doctor", "grad_norm", "diversity", "examine_run", "report", "summary"]

D_WINS_REAL, D_WINS_FAKE = 0.9, 0.1  # D's mean outputs beyond which it has won outright
SEPARATION = 0.02  # how far D's outputs must move (or differ, real against fake) to show D learning
PREFERS_FAKES = 0.05  # D(fake) above D(real) by this much, on average at the end
DOUBLE_SIGMOID = 1 / (1 + math.exp(-1))  # 0.731: sigmoid(p) for p in (0, 1) never leaves (0.5, 0.731)
EXPLODING = 100.0  # a gradient norm this many times its median so far
COLLAPSED_DIVERSITY = 0.5  # samples this close together, relative to real examples ...
HEALTHY_DIVERSITY = 0.8  # ... after having been at least this far apart (the same two bars for the share of the
# real data's classes that a batch of samples covers, where the data has labels: below half, after 0.8 or more)
COLLAPSED_KL = 0.1  # nats per example
MIN_POINTS = 5  # logged steps a window needs before the doctor reads it
MIN_HISTORY = 50  # logged steps a run needs before the doctor judges where it stands (a NaN counts at any length)
_STATES = ("d_wins", "d_prefers_fakes")  # findings about where the run stands, rather than about an event
# findings that a run can recover from: one seen while it trained but no longer true at its end has passed (GANs on
# the ring hop between modes, and a D can lead for a while), and the run's findings are about how it ended
_PASSING = _STATES + ("mode_collapse", "weights_frozen")
# judged on the whole run only: a D with a small learning rate moves slowly at first, and a D that starts above 0.5
# on both sides (as initial weights can put it) stays inside the double sigmoid's band for its first steps
_AT_THE_END = ("d_learns_nothing", "double_sigmoid")


@dataclass
class Finding:
    """One diagnosis: ``code`` names it, ``step`` is where it was first seen."""

    code: str
    step: int
    title: str
    evidence: str
    causes: list[str] = field(default_factory=list)
    remedies: list[str] = field(default_factory=list)
    certain: bool = True

    def __str__(self) -> str:
        lines = [f"[step {self.step}] {self.title}{'' if self.certain else ' (possibly: the signal is ambiguous)'}",
                 f"  evidence: {self.evidence}"]
        lines += [f"  usual cause: {c}" for c in self.causes] + [f"  remedy: {r}" for r in self.remedies]
        return "\n".join(lines)


def _series(history: Mapping[str, list], key: str) -> list[tuple[int, float]]:
    steps = history.get("step") or list(range(1, len(history.get(key, [])) + 1))
    return [(int(s), float(v)) for s, v in zip(steps, history.get(key, []))]


def _mean(points: list[tuple[int, float]]) -> float:
    return sum(v for _, v in points) / len(points)


def _last_fifth(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    return points[-max(MIN_POINTS, len(points) // 5):]


def _since(points: list[tuple[int, float]], holds: Callable[[int], bool], window: int) -> tuple[int, bool]:
    """(the step from which ``holds(i)`` is true for every point to the end, or the window's first step if that
    is earlier; whether it held over at least the whole window)."""
    first = len(points)
    while first > 0 and holds(first - 1):
        first -= 1
    start = min(first, len(points) - window)
    return points[start][0], len(points) - first >= window


def diagnose(history: Mapping[str, list], *, status: str | None = None) -> list[Finding]:
    """The findings that a run's logged values support (see the module docstring for each threshold).

    ``history``: a ``History`` (or the dict in a checkpoint): lists by name, ``history["step"]`` the x axis.
    ``status``: the run's status from metrics.json, if known ("diverged", ...)."""
    validate.instance("history", history, Mapping, "a History, or the 'history' dict of a checkpoint")
    findings: list[Finding] = []
    steps = history.get("step") or []
    for key, values in history.items():
        bad = [(s, v) for s, v in _series(history, key) if not math.isfinite(v)]
        if key != "step" and bad:
            findings.append(_diverged(bad[0][0], f"{key} = {bad[0][1]} at step {bad[0][0]}"))
            break
    else:
        if status == "diverged":
            last = steps[-1] if steps else 0
            findings.append(_diverged(last, f"metrics.json records status 'diverged' after step {last}"))
    if len(steps) < MIN_HISTORY:  # too short to tell a trend from a start: divergence is all it can say
        return findings
    real, fake = _series(history, "d_real"), _series(history, "d_fake")
    probabilities = all(0 <= v <= 1 for _, v in real + fake)  # a critic's scores (SinGAN's) are not read so
    if len(real) >= 2 * MIN_POINTS and len(fake) == len(real) and probabilities:
        findings += _read_d_outputs(real, fake)
    kl = _series(history, "kl")
    if len(kl) >= 2 * MIN_POINTS:
        end = _last_fifth(kl)
        if _mean(end) < COLLAPSED_KL:
            findings.append(Finding(
                "posterior_collapse", _since(kl, lambda i: kl[i][1] < COLLAPSED_KL, len(end))[0], "posterior collapse: the code carries almost nothing",
                f"the KL term averages {_mean(end):.3f} nats per example over steps {end[0][0]}-{end[-1][0]} "
                f"(below {COLLAPSED_KL})",
                ["the KL weight (beta) is too large for the likelihood, e.g. a KL summed over the latent dimensions "
                 "against a reconstruction averaged over the pixels (a hidden beta of 784 on MNIST)",
                 "a decoder strong enough to model the data without the code"],
                ["use the same reduction for both terms (sums per example, then the batch mean)",
                 "free bits (a floor on each dimension's KL) or a KL warm-up; a weaker decoder"]))
    return findings


def _diverged(step: int, evidence: str) -> Finding:
    return Finding("diverged", step, "training diverged: a value became NaN or infinite", evidence,
                   ["a learning rate too high for the loss", "NaN or inf in the data (a normalisation that divides by "
                    "a standard deviation of 0)", "a log or division of a value that reached 0 (a "
                    "sigmoid followed by a log instead of a loss on logits)", "mixed precision without loss scaling"],
                   ["restart from the last checkpoint with a lower learning rate", "compute losses on logits "
                    "(BCEWithLogits), never log(sigmoid(x))", "clip or penalise gradients (R1, spectral norm)"])


def _read_d_outputs(real: list[tuple[int, float]], fake: list[tuple[int, float]]) -> list[Finding]:
    findings = []
    end_r, end_f = _last_fifth(real), _last_fifth(fake)
    if _mean(end_r) > D_WINS_REAL and _mean(end_f) < D_WINS_FAKE:
        step, held = _since(real, lambda i: real[i][1] > D_WINS_REAL and fake[i][1] < D_WINS_FAKE, len(end_r))
        findings.append(Finding(
            "d_wins", step, "the discriminator wins outright: G gets little useful gradient",
            f"over steps {end_r[0][0]}-{end_r[-1][0]}, D(real) averages {_mean(end_r):.3f} and D(fake) "
            f"{_mean(end_f):.3f} (thresholds {D_WINS_REAL} and {D_WINS_FAKE})",
            ["G does not learn: its optimiser steps other weights, its learning rate is far too small, or its "
             "loss does not reach it (fakes detached in G's step)", "D is much stronger or faster than G (a "
             "higher learning rate, more steps per G step, a much larger network)",
             "the minimax (saturating) G loss, whose gradient vanishes when D rejects the fakes"],
            ["check that G's weights change from step to step", "balance the players: the non-saturating loss, "
             "a lower learning rate for D or a higher one for G (TTUR), one D step per G step",
             "regularise D: R1, spectral norm, label smoothing, augmentation (DiffAugment)"],
            certain=held))
    half = real[:max(MIN_POINTS, len(real) // 2)]
    low, high = min(v for _, v in real + fake), max(v for _, v in real + fake)
    if low >= 0.5 and high <= DOUBLE_SIGMOID:
        return findings + [Finding(
            "double_sigmoid", real[0][0], "D's outputs never leave (0.5, 0.731): a sigmoid is applied twice",
            f"every logged D(real) and D(fake) lies between {low:.3f} and {high:.3f}; sigmoid(p) for a probability p "
            f"in (0, 1) lies in (0.5, {DOUBLE_SIGMOID:.3f}), so what the loss takes for logits are probabilities",
            ["D ends with a Sigmoid (nn.Sigmoid in its last layer) and the loss applies one again "
             "(BCEWithLogitsLoss, binary_cross_entropy_with_logits)"],
            ["remove the Sigmoid from D: the logits loss is the numerically stable way"])]
    gap = max(abs(r - f) for (_, r), (_, f) in zip(half, fake[:len(half)]))
    moved = max(abs(v - real[0][1]) for _, v in real)
    if gap < SEPARATION or moved < SEPARATION:
        evidence = (f"over steps {half[0][0]}-{half[-1][0]}, D's mean outputs on real and fake data never differ by "
                    f"more than {gap:.4f}" if gap < SEPARATION else
                    f"D's mean output on real data never moves more than {moved:.4f} from its first value "
                    f"({real[0][1]:.3f}) in steps {real[0][0]}-{real[-1][0]}, while its output on fakes goes from "
                    f"{fake[0][1]:.3f} to {fake[-1][1]:.3f}: D's weights are not changing, and G is exploiting "
                    f"a fixed D")
        findings.append(Finding(
            "d_learns_nothing", real[0][0], "the discriminator learns nothing",
            evidence + f" (a learning D moves by more than {SEPARATION} in its first steps)",
            ["D's optimiser does not step D's weights (built on G's parameters, step() called on the model, a "
             "learning rate of 0)", "D's loss does not reach D (computed on detached outputs, or on outputs that "
             "do not depend on the input)", "D sees the same tensor as real and as fake"],
            ["check that D's weights change after its step (compare a copy before and after)",
             "build D's optimiser on D.parameters() and call opt_d.step() after loss_d.backward()"]))
    elif _mean(end_f) > _mean(end_r) + PREFERS_FAKES:
        findings.append(Finding(
            "d_prefers_fakes", end_r[0][0], "the discriminator rates the fakes as more real than the real data",
            f"over steps {end_r[0][0]}-{end_r[-1][0]}, D(fake) averages {_mean(end_f):.3f} and D(real) "
            f"{_mean(end_r):.3f}",
            ["D's labels are swapped (real labelled 0, fake 1) or its loss has the wrong sign",
             "D barely learns (a learning rate far too small) while G exploits it"],
            ["check D's targets: ones for real data, zeros for fakes, in the D step",
             "check that D's loss falls when D is trained alone against a fixed G"], certain=False))
    return findings


def _flat_weights(module: nn.Module) -> Tensor:
    return torch.cat([p.detach().reshape(-1).cpu().clone() for p in module.parameters()]) if any(
        True for _ in module.parameters()) else torch.zeros(0)


def grad_norm(module: nn.Module) -> float:
    """The L2 norm of all of ``module``'s gradients together (0 where there are none yet)."""
    validate.instance("module", module, nn.Module, "a network")
    grads = [p.grad.detach().float().pow(2).sum() for p in module.parameters() if p.grad is not None]
    return math.sqrt(float(sum(grads))) if grads else 0.0


@torch.no_grad()
def diversity(x: Tensor) -> float:
    """The mean Euclidean distance between the examples of a batch (N, ...), over all pairs."""
    validate.tensor("x", x)
    if len(x) < 2:
        raise ValueError(f"diversity needs a batch of at least 2 examples, got {len(x)}")
    flat = x.detach().float().flatten(1)
    d = torch.cdist(flat, flat)
    return float(d.sum() / (len(x) * (len(x) - 1)))


def _classes(label: Callable[[Tensor], Tensor], x: Tensor) -> set[int]:
    """The classes (not -1) that ``label`` finds in the batch ``x``."""
    with torch.no_grad():
        found = label(x)
    validate.tensor("label(x)", found, shape=(len(x),), dtype=None, hint=" (one class index per example, -1 for none)")
    return {int(c) for c in found.flatten().tolist() if int(c) >= 0}


class Doctor:
    """Watch a run live. ``run_steps(..., doctor=True)`` (and ``fit``'s, which every recipe asks for) makes one of
    the networks in its state; pass your own as ``fit(..., doctor=Doctor(...))`` or ``run_steps(..., doctor=...)``
    to watch the samples' diversity too, to keep it quiet or to draw the panel.

    Every time it is called (every ``log_every`` steps), it reads the gradient norms of ``networks`` (the
    gradients of their last step, still in place), and, given ``sample`` (a function of no arguments returning
    a batch of samples of the model, e.g. G on a fixed z) and ``real`` (a batch of real examples), the samples'
    diversity against the real examples'. Given ``label`` as well (a function from a batch to one class per
    example, -1 for none: a classifier's argmax for digits, the nearest mode for a mixture), the share of the real
    batch's classes that the samples cover. Then it diagnoses the history and prints each new finding once, with
    its step (``quiet=True`` keeps them in ``findings`` only). ``report()`` returns everything found.

    ``panel=True``, in a notebook: instead of printing, one compact table under the cell, redrawn at every call,
    shows the latest signals and the findings so far (outside a notebook it prints as without it).
    """

    def __init__(self, networks: Mapping[str, nn.Module] | None = None, *, sample: Callable[[], Tensor] | None = None,
                 real: Tensor | None = None, label: Callable[[Tensor], Tensor] | None = None, quiet: bool = False,
                 print_fn: Callable[[str], Any] | None = None, panel: bool = False):
        self.networks = dict(networks or {})
        for name, net in self.networks.items():
            validate.instance(f"networks[{name!r}]", net, nn.Module, "a network")
        if (sample is None) != (real is None):
            raise ValueError("pass sample and real together: the samples' diversity is read against the real data's")
        self.sample, self.real_diversity = sample, (diversity(real) if real is not None else None)
        if label is not None and sample is None:
            raise ValueError("label needs sample and real: the classes the samples cover are read against the real "
                             "batch's")
        self.label, self.real_classes = label, (_classes(label, real) if label is not None else None)
        if self.real_classes is not None and not self.real_classes:
            raise ValueError("label(real) gave no class (every example -1): it should return one class index per "
                             "example, e.g. a classifier's argmax")
        from tqdm.auto import tqdm

        self.quiet, self.print_fn = validate.flag("quiet", quiet), print_fn or tqdm.write  # above a progress bar
        self.signals: dict[str, list[float]] = {"step": []}
        self.findings: list[Finding] = []
        self.passed: list[Finding] = []  # seen while the run trained, no longer true at its end (see finish)
        self._last_codes: set[str] = set()
        self.panel, self._handle = validate.flag("panel", panel) and _in_notebook(), None
        self._first = {name: _flat_weights(net) for name, net in self.networks.items()}  # to see whether they move

    def __call__(self, step: int, *args: Any) -> None:
        history = args[-1]  # run_steps calls (step, history); fit calls (step, G, D, history)
        self.signals["step"].append(step)
        for name, net in self.networks.items():
            self.signals.setdefault(f"grad_norm_{name}", []).append(grad_norm(net))
        if self.sample is not None:
            samples = self.sample()
            self.signals.setdefault("diversity", []).append(diversity(samples) / self.real_diversity)
            if self.label is not None:
                covered = _classes(self.label, samples) & self.real_classes
                self.signals.setdefault("coverage", []).append(len(covered) / len(self.real_classes))
        seen = {f.code for f in self.findings}
        # "D learns nothing" and the double sigmoid wait for the end (finish): see _AT_THE_END
        now = [f for f in diagnose(history) if f.code not in _AT_THE_END] + self._live()
        for finding in now:
            # a finding about the state of the run (D ahead, D preferring fakes) counts live only when two readings
            # in a row show it: early in a run the last fifth is a few steps, and transients pass
            if finding.code in seen or (finding.code in _STATES and finding.code not in self._last_codes):
                continue
            self.findings.append(finding)
            seen.add(finding.code)
            if not (self.quiet or self.panel):
                self.print_fn(f"doctor: {finding}")
        self._last_codes = {f.code for f in now}
        self._show(history)

    def finish(self, history: Mapping[str, list]) -> None:
        """After the last step: what the whole history shows that the live readings did not report. A finding about
        where the run stood (D ahead, D preferring the fakes, collapse, weights that did not move) that no longer
        holds at the end moves to ``passed``: the run recovered from it."""
        final = diagnose(history)
        holds = {f.code for f in final} | {f.code for f in self._live()}
        for finding in [f for f in self.findings if f.code in _PASSING and f.code not in holds]:
            self.findings.remove(finding)
            self.passed.append(finding)
            if not (self.quiet or self.panel):
                self.print_fn(f"doctor: passed: {finding.title} (from step {finding.step}) no longer shows at the "
                              f"end of the run")
        seen = {f.code for f in self.findings}
        for finding in final:
            if finding.code not in seen:
                self.findings.append(finding)
                if not (self.quiet or self.panel):
                    self.print_fn(f"doctor: {finding}")
        self._show(history)

    def _show(self, history: Mapping[str, list]) -> None:
        if self.panel:
            from IPython.display import HTML, display

            if self._handle is None:
                self._handle = display(HTML(self.panel_html(history)), display_id=True)
            else:
                self._handle.update(HTML(self.panel_html(history)))

    def panel_html(self, history: Mapping[str, list]) -> str:
        """The live panel: the latest value of each signal, and every finding so far."""
        import html

        latest = {k: v[-1] for k, v in history.items() if k != "step" and v}
        latest |= {k: v[-1] for k, v in self.signals.items() if k != "step" and v}
        cells = "".join(f"<td style='padding:0 8px'><b>{html.escape(k)}</b><br>{v:.4g}</td>" for k, v in latest.items())
        step = self.signals["step"][-1] if self.signals["step"] else 0
        verdict = ("<span style='color:#2a7'>no trouble found so far</span>" if not self.findings else
                   "<br>".join(f"<span style='color:#c33'>step {f.step}: {html.escape(f.title)}</span> "
                               f"<small>{html.escape(f.evidence)}</small>" for f in self.findings))
        verdict += "".join(f"<br><span style='color:#888'>passed: step {f.step}: {html.escape(f.title)}, no longer "
                           f"at the end of the run</span>" for f in self.passed)
        return (f"<div style='font-family:monospace;font-size:12px'><b>doctor</b> at step {step}"
                f"<table><tr>{cells}</tr></table>{verdict}</div>")

    def _live(self) -> list[Finding]:
        findings, steps = [], self.signals["step"]
        for name, net in self.networks.items():
            gradient = self.signals.get(f"grad_norm_{name}", [0.0])[-1]
            if len(steps) >= 2 and gradient > 0 and torch.equal(_flat_weights(net), self._first[name]):
                findings.append(Finding(
                    "weights_frozen", steps[-1], f"{name}'s weights have not changed since the first reading",
                    f"{name} has gradients (norm {gradient:.3g} at step {steps[-1]}) but not one of its weights has "
                    f"moved since step {steps[0]}",
                    [f"{name}'s optimiser was built on another network's parameters (a copy-pasted line)",
                     f"optimizer.step() is never called for {name}, or its learning rate is 0",
                     f"{name}'s weights are frozen (requires_grad_(False) left on after a step)"],
                    [f"build {name}'s optimiser on {name}.parameters() and call its step() after backward()"]))
        for key, values in self.signals.items():
            if key.startswith("grad_norm_") and len(values) >= MIN_POINTS:
                median = statistics.median(values[:-1])
                if median > 0 and values[-1] > EXPLODING * median:
                    findings.append(Finding(
                        "exploding_gradients", steps[-1], f"exploding gradients in {key[len('grad_norm_'):]}",
                        f"gradient norm {values[-1]:.3g} at step {steps[-1]}, {values[-1] / median:.0f} times its "
                        f"median so far ({median:.3g})",
                        ["a learning rate too high", "a loss without a bound (a critic without a Lipschitz "
                         "constraint)", "inputs outside the range the network expects"],
                        ["lower the learning rate; clip gradients (torch.nn.utils.clip_grad_norm_)",
                         "a gradient penalty or spectral normalisation for the critic"]))
        cov = self.signals.get("coverage", [])
        if len(cov) >= 3 and max(cov[:-2]) >= HEALTHY_DIVERSITY and max(cov[-2:]) < COLLAPSED_DIVERSITY:
            findings.append(Finding(
                "mode_collapse", steps[-1], "mode collapse: the samples cover few of the data's classes",
                f"a fixed batch of samples covers {cov[-1]:.0%} of the classes of a real batch (below "
                f"{COLLAPSED_DIVERSITY:.0%} at the last two readings; it was {max(cov):.0%} at its highest)",
                ["G has found a few outputs D does not reject, and D chases them from one to the next",
                 "a D too weak to see the missing modes, or a learning rate too high for G"],
                ["minibatch standard deviation or minibatch discrimination in D; unrolled or Wasserstein losses",
                 "a lower learning rate for G; an average of G's weights (EMA)"]))
        div = self.signals.get("diversity", [])
        # collapse is a fall: the samples were once diverse (at least HEALTHY_DIVERSITY) and are no longer, twice
        # running (an untrained G's samples start close together; that is not a collapse)
        if (len(div) >= 3 and max(div[:-2]) >= HEALTHY_DIVERSITY and max(div[-2:]) < COLLAPSED_DIVERSITY
                and not any(f.code == "mode_collapse" for f in findings)):
            findings.append(Finding(
                "mode_collapse", steps[-1], "mode collapse: the samples are too alike",
                f"samples of a fixed batch of z are on average {div[-1]:.2f} times as far apart as real examples "
                f"(below {COLLAPSED_DIVERSITY} at the last two readings; it was {max(div):.2f} at its highest)",
                ["G has found a few outputs D does not reject, and D chases them from one to the next",
                 "a D too weak to see the missing modes, or a learning rate too high for G"],
                ["minibatch standard deviation or minibatch discrimination in D; unrolled or Wasserstein losses",
                 "a lower learning rate for G; an average of G's weights (EMA)"]))
        return findings

    @classmethod
    def of(cls, state: Mapping[str, Any], **options: Any) -> "Doctor":
        """A doctor for the networks among a run's ``state`` (what ``run_steps`` checkpoints)."""
        return cls({name: obj for name, obj in state.items() if isinstance(obj, nn.Module)}, **options)

    def report(self) -> str:
        return report(self.findings)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ != "TerminalInteractiveShell"


def summary(findings: Sequence[Finding]) -> list[str]:
    """One line per finding, "step N: title", for a run's metrics.json."""
    return [f"step {f.step}: {f.title}" for f in findings]


def report(findings: Sequence[Finding]) -> str:
    """The findings in plain words, or a line saying that nothing was found."""
    if not findings:
        return "doctor: no trouble found in the signals this run logged."
    return "\n\n".join(str(f) for f in findings)


def examine_run(folder: str | Path) -> tuple[list[Finding], int]:
    """(``diagnose`` on a run folder, the fewest steps logged by any of its checkpoints): the history in its
    checkpoint and the status in its metrics.json. A run trained in stages (LAPGAN's levels, progressive growing's
    stages, SinGAN's scales) keeps one checkpoint per stage; each is read, and its findings name the stage."""
    import json

    from .checkpoint import read_checkpoint

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a run folder (a folder with checkpoint.pt, e.g. runs/dcgan)")
    checkpoints = ([folder / "checkpoint.pt"] if (folder / "checkpoint.pt").is_file() else
                   sorted(folder.glob("checkpoint_*.pt")) or sorted(folder.glob("*/checkpoint.pt")))
    if not checkpoints:
        raise FileNotFoundError(f"{folder} has no checkpoint.pt (nor one per stage), which holds the history the "
                                f"doctor reads")
    status = None
    try:
        status = json.loads((folder / "metrics.json").read_text()).get("status")
    except (OSError, ValueError):
        pass
    findings, logged = [], []
    for i, path in enumerate(checkpoints):
        last = i == len(checkpoints) - 1
        history = read_checkpoint(path)["history"]
        logged.append(len(history.get("step", [])))
        for finding in diagnose(history, status=status if last else None):
            if len(checkpoints) > 1:
                stage = path.parent.name if path.name == "checkpoint.pt" else path.stem.removeprefix("checkpoint_")
                finding.title = f"{stage}: {finding.title}"
            findings.append(finding)
    return findings, min(logged)

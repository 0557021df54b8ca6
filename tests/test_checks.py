"""Every check passes correct answers written in different ways, and fails wrong ones with the right diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ganlab
from ganlab import checks
from ganlab.checks import CheckFailed
from checking import fails, passes


# ---------------------------------------------------------------- the discriminator loss
def bce(logits, label):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


D_LOSS_RIGHT = {
    "reference": ganlab.losses.d_loss_bce,
    "softplus": lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(),
    "bce with logits": lambda r, f: bce(r, 1.0) + bce(f, 0.0),
    "log sigmoid, sum / len": lambda r, f: -F.logsigmoid(r).sum() / len(r) - F.logsigmoid(-f).sum() / len(f),
    "naive log(sigmoid)": lambda r, f: -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean(),
    "bce on sigmoid": lambda r, f: (F.binary_cross_entropy(torch.sigmoid(r), torch.ones_like(r))
                                    + F.binary_cross_entropy(torch.sigmoid(f), torch.zeros_like(f))),
}

D_LOSS_WRONG = {
    "sign flipped": (lambda r, f: -(bce(r, 1.0) + bce(f, 0.0)), ["sign"]),
    "sum not mean": (lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), ["sum", "mean"]),
    "sigmoid twice": (lambda r, f: bce(torch.sigmoid(r), 1.0) + bce(torch.sigmoid(f), 0.0), ["sigmoid applied twice"]),
    "swapped real and fake": (lambda r, f: bce(f, 1.0) + bce(r, 0.0), ["swapped"]),
    "labels swapped": (lambda r, f: bce(r, 0.0) + bce(f, 1.0), ["swapped"]),
    "logits as probabilities": (lambda r, f: -torch.log(r).mean() - torch.log(1 - f).mean(), ["NaN", "logit"]),
    "BCELoss on logits": (lambda r, f: F.binary_cross_entropy(r, torch.ones_like(r)), ["binary_cross_entropy_with_logits"]),
    "average of the two terms": (lambda r, f: (bce(r, 1.0) + bce(f, 0.0)) / 2, ["sum of the real mean"]),
    "only the real term": (lambda r, f: bce(r, 1.0), ["only the real term"]),
    "no reduction": (lambda r, f: F.softplus(-r) + F.softplus(f).mean(), ["shape (4,)", ".mean()"]),
    "python float": (lambda r, f: (bce(r, 1.0) + bce(f, 0.0)).item(), ["float", "tensor"]),
    "numpy": (lambda r, f: np.float32(bce(r, 1.0).detach() + bce(f, 0.0).detach()), ["tensor"]),
    "numpy inside": (lambda r, f: torch.tensor(r.numpy()).mean(), ["Can't call numpy()", "stay in torch"]),
    "detached": (lambda r, f: (bce(r, 1.0) + bce(f, 0.0)).detach(), ["no gradient"]),
    "fake term detached": (lambda r, f: bce(r, 1.0) + bce(f.detach(), 0.0), ["gradient with respect to fake_logits"]),
}


@pytest.mark.parametrize("name", D_LOSS_RIGHT)
def test_d_loss_passes_correct_answers(name, capsys):
    passes(checks.check_d_loss, D_LOSS_RIGHT[name], capsys)


@pytest.mark.parametrize("name", D_LOSS_WRONG)
def test_d_loss_fails_wrong_answers(name):
    fn, words = D_LOSS_WRONG[name]
    message = fails(checks.check_d_loss, fn, "check_d_loss failed", *words)
    assert "real_logits = [" in message and "fake_logits = [" in message  # the input is in view


def test_d_loss_message_shows_inputs_and_both_values():
    message = fails(checks.check_d_loss, D_LOSS_WRONG["sign flipped"][0])
    assert "case 1 of 5" in message
    assert "real_logits = [ 2. , -1. ,  0.5,  3. ]" in message
    assert "expected: 1.1147" in message and "got:      -1.1147" in message


def test_stability_note_for_naive_log_sigmoid(capsys):
    out = passes(checks.check_d_loss, D_LOSS_RIGHT["naive log(sigmoid)"], capsys)
    assert "Note (not an error)" in out and "inf" in out and "softplus" in out
    out = passes(checks.check_d_loss, D_LOSS_RIGHT["softplus"], capsys)
    assert "Note" not in out


# ---------------------------------------------------------------- the generator losses
G_MINIMAX_RIGHT = {
    "reference": ganlab.losses.g_loss_minimax,
    "minus softplus": lambda f: -F.softplus(f).mean(),
    "minus bce label 0": lambda f: -bce(f, 0.0),
    "naive": lambda f: torch.log(1 - torch.sigmoid(f)).mean(),
    "logsigmoid of -f, sum / len": lambda f: F.logsigmoid(-f).sum() / len(f),
}
G_MINIMAX_WRONG = {
    "sign flipped": (lambda f: bce(f, 0.0), ["sign"]),
    "non-saturating instead": (lambda f: bce(f, 1.0), ["non-saturating"]),
    "log D instead of log(1 - D)": (lambda f: F.logsigmoid(f).mean(), ["log D(G(z)) where"]),
    "sum not mean": (lambda f: F.logsigmoid(-f).sum(), ["sum", "mean"]),
    "sigmoid twice": (lambda f: torch.log(1 - torch.sigmoid(torch.sigmoid(f))).mean(), ["sigmoid applied twice"]),
    "logits as probabilities": (lambda f: torch.log(1 - f).mean(), ["NaN", "logit"]),
}
G_NS_RIGHT = {
    "reference": ganlab.losses.g_loss_nonsaturating,
    "bce label 1": lambda f: bce(f, 1.0),
    "minus logsigmoid": lambda f: -F.logsigmoid(f).mean(),
    "naive": lambda f: -torch.log(torch.sigmoid(f)).mean(),
    "softplus, sum / len": lambda f: F.softplus(-f).sum() / f.numel(),
}
G_NS_WRONG = {
    "sign flipped": (lambda f: F.logsigmoid(f).mean(), ["sign"]),
    "label 0": (lambda f: bce(f, 0.0), ["label 0"]),
    "minimax instead": (lambda f: -bce(f, 0.0), ["minimax"]),
    "sum not mean": (lambda f: F.softplus(-f).sum(), ["sum", "mean"]),
    "sigmoid twice": (lambda f: bce(torch.sigmoid(f), 1.0), ["sigmoid applied twice"]),
    "python float": (lambda f: float(bce(f, 1.0).detach()), ["float"]),
}


@pytest.mark.parametrize("check, answers", [(checks.check_g_loss_minimax, G_MINIMAX_RIGHT),
                                            (checks.check_g_loss_nonsaturating, G_NS_RIGHT)])
def test_g_losses_pass_correct_answers(check, answers, capsys):
    for fn in answers.values():
        passes(check, fn, capsys)


@pytest.mark.parametrize("check, case", [(checks.check_g_loss_minimax, c) for c in G_MINIMAX_WRONG.values()]
                         + [(checks.check_g_loss_nonsaturating, c) for c in G_NS_WRONG.values()])
def test_g_losses_fail_wrong_answers(check, case):
    fn, words = case
    fails(check, fn, check.__name__, *words)


# ---------------------------------------------------------------- D*, JSD and V(D*, G)
D_STAR_RIGHT = [lambda p, q: p / (p + q),
                lambda p, q: torch.sigmoid(torch.log(p) - torch.log(q)),
                lambda p, q: 1 / (1 + q / p),
                lambda p, q: np.asarray(p) / (np.asarray(p) + np.asarray(q))]
D_STAR_WRONG = [(lambda p, q: q / (p + q), ["swapped"]),
                (lambda p, q: p / q, ["likelihood ratio"]),
                (lambda p, q: torch.full_like(p, 0.5), ["1/2"]),
                (lambda p, q: p / (p.sum() + q.sum()), ["elementwise"]),
                (lambda p, q: (p / (p + q)).mean(), ["shape"]),
                (lambda p, q: torch.where(q > 0, p / (p + q), torch.nan), ["NaN", "D* = 1"])]


def jsd_masked(p, q):
    m, total = (p + q) / 2, 0.0
    for a in (p, q):
        keep = a > 0
        total = total + 0.5 * (a[keep] * torch.log(a[keep] / m[keep])).sum()
    return total


def jsd_numpy(p, q):
    p, q = np.asarray(p), np.asarray(q)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.nansum(p * np.log(p / m)) + 0.5 * np.nansum(q * np.log(q / m))


def entropy(p):
    return -torch.xlogy(p, p).sum()


JSD_RIGHT = [jsd_masked, jsd_numpy, lambda p, q: entropy((p + q) / 2) - (entropy(p) + entropy(q)) / 2,
             lambda p, q: float(jsd_masked(p, q))]
JSD_WRONG = [(lambda p, q: jsd_masked(p, q) / math.log(2), ["base 2"]),
             (lambda p, q: 2 * jsd_masked(p, q), ["1/2"]),
             (lambda p, q: jsd_masked(p, q).sqrt(), ["sqrt"]),
             (lambda p, q: (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(), ["KL(p || q)"]),
             (lambda p, q: 0.5 * ((p * torch.log(2 * p / (p + q))).sum() + (q * torch.log(2 * q / (p + q))).sum()),
              ["NaN", "0 * log 0", "xlogy"]),
             (lambda p, q: torch.stack([p, q]), ["one number"])]
V_RIGHT = [lambda p, q: -math.log(4) + 2 * jsd_masked(p, q),
           lambda p, q: (torch.xlogy(p, p / (p + q)) + torch.xlogy(q, q / (p + q))).sum(),
           lambda p, q: float(torch.xlogy(p, p / (p + q)).sum() + torch.xlogy(q, 1 - p / (p + q)).sum())]
V_WRONG = [(lambda p, q: -math.log(4) + jsd_masked(p, q), ["factor 2"]),
           (lambda p, q: (-math.log(4) + 2 * jsd_masked(p, q)) / math.log(2), ["base 2"]),
           (lambda p, q: 2 * jsd_masked(p, q), ["missing -log 4"]),
           (lambda p, q: math.log(4) + 2 * jsd_masked(p, q), ["+log 4"]),
           (lambda p, q: -math.log(4) + 2 * (p * torch.log(p / q)).sum(), ["KL instead of JSD"]),
           (lambda p, q: (torch.xlogy(p, q / (p + q)) + torch.xlogy(q, p / (p + q))).sum(), ["swapped"])]


@pytest.mark.parametrize("check, answers", [(checks.check_optimal_discriminator, D_STAR_RIGHT),
                                            (checks.check_jsd, JSD_RIGHT), (checks.check_value_at_optimum, V_RIGHT)])
def test_theory_checks_pass_correct_answers(check, answers, capsys):
    for fn in answers:
        passes(check, fn, capsys)


@pytest.mark.parametrize("check, case", [(checks.check_optimal_discriminator, c) for c in D_STAR_WRONG]
                         + [(checks.check_jsd, c) for c in JSD_WRONG] + [(checks.check_value_at_optimum, c) for c in V_WRONG])
def test_theory_checks_fail_wrong_answers(check, case):
    fn, words = case
    fails(check, fn, check.__name__, *words)


# ---------------------------------------------------------------- mode coverage
def coverage(samples, modes, sigma, n_std=3.0, squared=False, box=False, any_nearest=False, over_good=False):
    dist, nearest = torch.cdist(samples, modes).min(dim=1)
    good = (dist**2 if squared else dist) <= n_std * sigma
    if box:
        good = (samples - modes[nearest]).abs().max(dim=1).values <= n_std * sigma
    covered = len(set((nearest if any_nearest else nearest[good]).tolist()))
    fraction = float(good.sum() / good.sum().clamp(min=1)) if over_good else good.float().mean().item()
    return covered, fraction


def coverage_loops(samples, modes, sigma):
    squared = ((samples[:, None, :] - modes[None, :, :]) ** 2).sum(-1)  # (N, K)
    nearest = squared.argmin(1)
    good = squared.min(1).values <= (3 * sigma) ** 2  # both sides squared: correct
    covered = sum(1 for k in range(len(modes)) if (good & (nearest == k)).any())
    return covered, good.sum().item() / len(samples)


def coverage_numpy(samples, modes, sigma):
    d = np.linalg.norm(samples.numpy()[:, None] - modes.numpy()[None], axis=-1)
    good = d.min(1) <= 3 * sigma
    return np.int64(len(np.unique(d.argmin(1)[good]))), torch.tensor(good.mean())


def coverage_library(samples, modes, sigma):
    stats = ganlab.metrics.mode_stats(samples, ganlab.GaussianMixture("mine", modes, sigma))
    return stats["modes_covered"], stats["high_quality"]


COVERAGE_WRONG = [(lambda s, m, sg: coverage(s, m, sg, any_nearest=True), ["HIGH-QUALITY sample"]),
                  (lambda s, m, sg: coverage(s, m, sg, n_std=1.0), ["3 sigma, not sigma"]),
                  (lambda s, m, sg: coverage(s, m, sg, squared=True), ["SQUARED distance"]),
                  (lambda s, m, sg: coverage(s, m, sg, box=True), ["per-coordinate"]),
                  (lambda s, m, sg: coverage(s, m, sg, over_good=True), ["over ALL samples"]),
                  (lambda s, m, sg: coverage(s, m, sg)[::-1], ["wrong order"]),
                  (lambda s, m, sg: (coverage(s, m, sg)[0], 100 * coverage(s, m, sg)[1]), ["percentage"]),
                  (lambda s, m, sg: ganlab.metrics.mode_stats(s, ganlab.GaussianMixture("x", m, sg)), ["pair", "tuple"])]


def test_mode_coverage_passes_correct_answers(capsys):
    for fn in (coverage, coverage_loops, coverage_numpy, coverage_library):
        passes(checks.check_mode_coverage, fn, capsys)


@pytest.mark.parametrize("case", COVERAGE_WRONG)
def test_mode_coverage_fails_wrong_answers(case):
    fn, words = case
    fails(checks.check_mode_coverage, fn, "check_mode_coverage", *words)


# ---------------------------------------------------------------- one discriminator step
def make_d_step(detach=True, zero_grad=True, sign=1.0, swap=False, step=True, new_z=False, reduce="mean",
                update_g=False):
    def d_step(G, D, real, z, opt_d):
        if zero_grad:
            opt_d.zero_grad()
        if new_z:
            z = torch.randn_like(z)
        fake = G(z).detach() if detach else G(z)
        real_logits, fake_logits = D(real), D(fake)
        if swap:
            real_logits, fake_logits = fake_logits, real_logits
        loss = getattr(F.softplus(-real_logits), reduce)() + getattr(F.softplus(fake_logits), reduce)()
        (sign * loss).backward()
        if step:
            opt_d.step()
        if update_g:
            with torch.no_grad():
                for p in G.parameters():
                    p.add_(0.01)
        return loss.item()
    return d_step


def d_step_library(G, D, real, z, opt_d):
    return ganlab.d_step(G, D, real, z, opt_d, ganlab.get_loss("minimax"))["loss_d"]


def d_step_no_grad(G, D, real, z, opt_d):
    with torch.no_grad():
        fake = G(z)
    D.zero_grad()
    loss = bce(D(real), 1.0) + bce(D(fake), 0.0)
    loss.backward()
    opt_d.step()
    return loss.item()



D_STEP_WRONG = [(make_d_step(detach=False), ["not detached", "detach()"]),
                (make_d_step(zero_grad=False), ["zero_grad"]),
                (make_d_step(sign=-1.0), ["climbed"]),
                (make_d_step(swap=True), ["swapped"]),
                (make_d_step(step=False), ["did not change", "opt_d.step()"]),
                (make_d_step(reduce="sum"), ["sum"]),
                (make_d_step(new_z=True), ["draw no new noise"]),
                (make_d_step(update_g=True), ["G's parameters changed"]),
                (lambda *a: torch.tensor(make_d_step()(*a)), ["Tensor", "Python float", "loss.item()"])]


def test_d_step_passes_correct_answers(capsys):
    for fn in (make_d_step(), d_step_library, d_step_no_grad):
        passes(checks.check_d_step, fn, capsys)


@pytest.mark.parametrize("case", D_STEP_WRONG)
def test_d_step_fails_wrong_answers(case):
    fn, words = case
    fails(checks.check_d_step, fn, "check_d_step", *words)


def test_d_step_wrong_returned_loss():
    def returns_nothing(G, D, real, z, opt_d):
        make_d_step()(G, D, real, z, opt_d)

    fails(checks.check_d_step, returns_nothing, "returned None")


# ---------------------------------------------------------------- unfinished exercises and misuse
@pytest.mark.parametrize("check, n_args", [(checks.check_d_loss, 2), (checks.check_g_loss_minimax, 1),
                                           (checks.check_g_loss_nonsaturating, 1),
                                           (checks.check_optimal_discriminator, 2), (checks.check_jsd, 2),
                                           (checks.check_value_at_optimum, 2), (checks.check_mode_coverage, 3),
                                           (checks.check_d_step, 5)])
def test_not_implemented_gives_the_friendly_message(check, n_args):
    def my_function(*args):
        assert len(args) == n_args
        raise NotImplementedError("Exercise 7: write it")

    with pytest.raises(CheckFailed) as info:
        check(my_function)
    assert str(info.value).startswith("Exercise 7 is not done yet: replace the `raise NotImplementedError` in "
                                      "`my_function` with your code")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_an_error_in_the_student_code_is_shown_and_chained():
    def broken(real_logits, fake_logits):
        return real_logits @ torch.ones(3)

    with pytest.raises(CheckFailed) as info:
        checks.check_d_loss(broken)
    assert "Your function raised RuntimeError" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_check_failed_is_an_assertion_error_and_a_check_needs_a_function():
    assert issubclass(CheckFailed, AssertionError)
    with pytest.raises(TypeError, match="takes your function itself"):
        checks.check_d_loss(ganlab.losses.d_loss_bce(torch.zeros(2), torch.zeros(2)))


def test_all_checks_are_exported():
    names = [n for n in checks.__all__ if n.startswith("check_")]
    assert len(names) >= 8 and all(callable(getattr(checks, n)) for n in names)

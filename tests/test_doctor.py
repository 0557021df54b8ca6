"""The training doctor: deliberately broken runs on the ring of 8 Gaussians, each with a fixed seed, trigger their
diagnosis; healthy runs trigger nothing; ``ganlab doctor`` reads a run folder."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from ganlab import cli, data, doctor
from ganlab.losses import get_loss
from ganlab.metrics import mode_labels
from ganlab.loop import TrainingDiverged
from ganlab.nets import MLPDiscriminator, MLPGenerator
from ganlab.recipes import Toy2DConfig, train_in_folder
from ganlab.train import TrainConfig, fit, make_optimizers

pytestmark = pytest.mark.usefixtures("one_thread")
RING = data.toy("ring")


def ring_run(bug: str = "", steps: int = 600, lr: float = 1e-3, loss: str = "nonsaturating",
             checkpoint=None, resume: bool = False) -> tuple[dict, doctor.Doctor]:
    """A small GAN on the ring, 600 steps, with one bug (or none); the history and the live doctor that watched it."""
    torch.manual_seed(0)
    G, D = MLPGenerator(latent_dim=2, out_dim=2, width=64, depth=3), MLPDiscriminator(in_dim=2, width=64, depth=3)
    config = TrainConfig(steps=steps, batch_size=128, lr_g=lr, lr_d=lr, loss=loss, log_every=20, progress=False)
    opt_g, opt_d = make_optimizers(G, D, config)
    gan_loss = get_loss(loss)
    if bug == "d_optimiser_on_g":  # D's optimiser built on the wrong network: D never changes
        opt_d = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    elif bug == "g_optimiser_on_d":  # and the other way round: G never changes
        opt_g = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    elif bug == "labels_swapped":  # D trained to call the fakes real
        gan_loss = dataclasses.replace(gan_loss, d_loss=lambda real, fake: get_loss(loss).d_loss(fake, real))
    sample = RING.sample
    if bug == "nan_data":  # a data pipeline that divides by a standard deviation of 0
        sample = lambda n: (RING.sample(n) - 0.0) / torch.zeros(1)  # noqa: E731
    z = torch.randn(256, 2, generator=torch.Generator().manual_seed(1))
    watcher = doctor.Doctor({"G": G, "D": D}, sample=lambda: G(z), real=RING.sample(256), label=nearest_mode,
                            quiet=True)
    history = fit(G, D, sample, config, opt_g=opt_g, opt_d=opt_d, loss=gan_loss, doctor=watcher,
                  checkpoint=checkpoint, resume=resume)
    return history, watcher


def nearest_mode(x):
    return mode_labels(x, RING)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax"])
def test_healthy_runs_trigger_nothing(loss):
    history, watcher = ring_run(loss=loss)
    assert codes(doctor.diagnose(history)) == [] and codes(watcher.findings) == []
    assert "no trouble" in doctor.report([])


@pytest.mark.parametrize("bug, expected", [
    ("g_optimiser_on_d", "d_wins"),
    ("d_optimiser_on_g", "d_learns_nothing"),
    ("labels_swapped", "d_prefers_fakes"),
])
def test_each_broken_run_gets_its_diagnosis_after_the_fact_and_live(bug, expected):
    history, watcher = ring_run(bug)
    after = doctor.diagnose(history)
    assert codes(after) == [expected]
    assert expected in codes(watcher.findings)
    finding = after[0]
    assert finding.evidence and finding.causes and finding.remedies and str(finding).startswith(f"[step {finding.step}]")


def test_d_learns_nothing_when_its_learning_rate_is_zero_in_effect():
    torch.manual_seed(0)
    G, D = MLPGenerator(latent_dim=2, out_dim=2, width=64, depth=3), MLPDiscriminator(in_dim=2, width=64, depth=3)
    history = fit(G, D, RING.sample, TrainConfig(steps=300, batch_size=128, lr_d=1e-9, progress=False))
    finding, = doctor.diagnose(history)
    assert finding.code == "d_learns_nothing" and "never moves" in finding.evidence


def test_a_learning_rate_far_too_high_shows_exploding_gradients_live():
    history, watcher = ring_run(lr=5e-2)
    assert "exploding_gradients" in codes(watcher.findings)
    assert "d_wins" not in codes(doctor.diagnose(history))


def test_divergence_is_read_from_the_run_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    ring_run(steps=100, checkpoint=run / "checkpoint.pt")  # trains for 100 steps; resumed on broken data, diverges
    with pytest.raises(TrainingDiverged):
        train_in_folder(run, Toy2DConfig(out=str(run)), lambda: ring_run("nan_data", steps=200,
                                                                         checkpoint=run / "checkpoint.pt",
                                                                         resume=True)[0])
    assert json.loads((run / "metrics.json").read_text())["status"] == "diverged"
    findings, logged = doctor.examine_run(run)
    assert codes(findings) == ["diverged"] and logged == 100  # the checkpoint keeps the last good step


def test_posterior_collapse_reads_the_kl_term():
    steps = list(range(1, 101))
    collapsed = {"step": steps, "kl": [5.0] * 30 + [0.02] * 70, "loss": [100.0] * 100}
    finding, = doctor.diagnose(collapsed)
    assert finding.code == "posterior_collapse" and finding.step == 31
    assert doctor.diagnose({"step": steps, "kl": [20.0] * 100}) == []
    assert doctor.diagnose({"step": steps[:40], "kl": [0.0] * 40}) == [], "40 steps are too few to judge"


def test_a_critic_s_scores_are_not_read_as_probabilities():
    steps = list(range(1, 101))
    assert doctor.diagnose({"step": steps, "d_real": [9.0] * 100, "d_fake": [-3.0] * 100}) == []


def test_ganlab_doctor_reads_a_run_folder(tmp_path, capsys):
    ring_run(checkpoint=tmp_path / "healthy" / "checkpoint.pt")
    assert cli.main(["doctor", str(tmp_path / "healthy")]) == 0
    assert "no trouble found" in capsys.readouterr().out
    ring_run("g_optimiser_on_d", checkpoint=tmp_path / "broken" / "checkpoint.pt")
    assert cli.main(["doctor", str(tmp_path / "broken")]) == 1
    out = capsys.readouterr().out
    assert "discriminator wins outright" in out and "remedy:" in out
    assert cli.main(["doctor", str(tmp_path / "nothing here")]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="History"):
        doctor.diagnose([1, 2, 3])
    with pytest.raises(ValueError, match="sample and real together"):
        doctor.Doctor(sample=lambda: torch.zeros(2, 2))
    with pytest.raises(ValueError, match="at least 2"):
        doctor.diversity(torch.zeros(1, 2))


def test_the_live_panel_shows_the_latest_signals_and_the_findings():
    history, watcher = ring_run("g_optimiser_on_d")
    page = watcher.panel_html(history)
    assert "at step 600" in page and "d_real" in page and "grad_norm_D" in page and "diversity" in page
    assert "discriminator wins outright" in page and "no trouble" not in page
    history, healthy = ring_run()
    assert "no trouble found so far" in healthy.panel_html(history)
    assert not doctor.Doctor(panel=True).panel  # outside a notebook there is nothing to draw into: it prints


def test_the_shared_loop_has_the_doctor_watch_when_asked(capsys):
    torch.manual_seed(0)
    G, D = MLPGenerator(latent_dim=2, out_dim=2, width=64, depth=3), MLPDiscriminator(in_dim=2, width=64, depth=3)
    config = TrainConfig(steps=300, batch_size=128, log_every=20, progress=False)
    opt_g, opt_d = make_optimizers(G, D, config)
    opt_g = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))  # G's optimiser on D's weights
    history = fit(G, D, RING.sample, config, opt_g=opt_g, opt_d=opt_d, doctor=True)  # the loop's own doctor
    assert "weights_frozen" in codes(history.findings) and "doctor: [step" in capsys.readouterr().out
    quiet = fit(G, D, RING.sample, dataclasses.replace(config, steps=20), opt_g=opt_g, opt_d=opt_d)  # by default none
    assert quiet.findings == () and capsys.readouterr().out == ""
    with pytest.raises(TypeError, match="doctor must be True, False or a ganlab.doctor.Doctor"):
        fit(G, D, RING.sample, config, doctor="yes")


def test_classes_covered_falling_is_mode_collapse():
    spread = RING.sample(256, generator=torch.Generator().manual_seed(0))  # every mode
    calls = {"n": 0}

    def sample():  # a G whose samples cover the ring for three readings, then a single mode
        calls["n"] += 1
        return spread if calls["n"] <= 3 else RING.means[:1] + 0.5 * (spread - spread.mean(0))
    watcher = doctor.Doctor(sample=sample, real=RING.sample(256), label=nearest_mode, quiet=True)
    history = {"step": []}
    for step in range(1, 6):
        watcher(step, history)
    assert watcher.signals["coverage"][:3] == [1.0, 1.0, 1.0] and watcher.signals["coverage"][-1] <= 0.25
    assert codes(watcher.findings) == ["mode_collapse"] and "classes" in watcher.findings[0].title


def test_label_needs_samples_and_some_class():
    with pytest.raises(ValueError, match="label needs sample and real"):
        doctor.Doctor(label=nearest_mode)
    with pytest.raises(ValueError, match="no class"):
        doctor.Doctor(sample=lambda: RING.sample(8), real=RING.sample(8) + 10, label=nearest_mode)


def test_a_d_that_starts_inside_the_double_sigmoid_band_is_not_a_double_sigmoid():
    """Initial weights can put D's outputs at 0.55 on both sides; a slow D leaves the band after its first steps."""
    watcher = doctor.Doctor(quiet=True)
    history = {"step": [], "d_real": [], "d_fake": []}
    for step in range(1, 301):  # in the band for 100 steps, then a healthy D around 0.5 on both sides
        inside = step <= 100
        history["step"].append(step)
        history["d_real"].append(0.56 if inside else 0.52 + 0.04 * (step % 2))
        history["d_fake"].append(0.55 if inside else 0.47 + 0.04 * (step % 2))
        if step % 10 == 0:
            watcher(step, history)
    watcher.finish(history)
    assert codes(watcher.findings) == []
    stuck = {key: values[:100] for key, values in history.items()}  # a run that ends inside the band
    watcher = doctor.Doctor(quiet=True)
    watcher(100, stuck)
    assert codes(watcher.findings) == []  # not while it trains ...
    watcher.finish(stuck)
    assert codes(watcher.findings) == ["double_sigmoid"]  # ... but at its end


def test_a_collapse_the_run_recovers_from_has_passed_at_its_end(capsys):
    spread = RING.sample(256, generator=torch.Generator().manual_seed(0))
    calls = {"n": 0}

    def sample():  # the ring, then a single mode for two readings, then the ring again
        calls["n"] += 1
        return RING.means[:1] + 0.5 * (spread - spread.mean(0)) if calls["n"] in (4, 5) else spread
    watcher = doctor.Doctor(sample=sample, real=RING.sample(256), label=nearest_mode, print_fn=print)
    history = {"step": []}
    for step in range(1, 6):
        watcher(step, history)
    assert codes(watcher.findings) == ["mode_collapse"]  # reported live ...
    for step in range(6, 9):
        watcher(step, history)
    watcher.finish(history)
    assert codes(watcher.findings) == [] and codes(watcher.passed) == ["mode_collapse"]  # ... and gone by the end
    assert "passed: mode collapse" in capsys.readouterr().out


def test_a_d_that_led_for_a_while_is_not_a_finding_at_the_end():
    history = {"step": [], "d_real": [], "d_fake": []}
    watcher = doctor.Doctor(quiet=True)
    for step in range(1, 401):  # fakes rated above real data for a stretch, then a healthy D near 0.5
        ahead = 100 <= step <= 200
        history["step"].append(step)
        history["d_real"].append(0.40 if ahead else 0.52)
        history["d_fake"].append(0.60 if ahead else 0.48)
        if step % 20 == 0:
            watcher(step, history)
    assert "d_prefers_fakes" in codes(watcher.findings)
    watcher.finish(history)
    assert codes(watcher.findings) == [] and codes(watcher.passed) == ["d_prefers_fakes"]

import dataclasses
import json
import math
import signal
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganlab import progressive_train
from ganlab.checkpoint import CheckpointError, read_checkpoint
from ganlab.image_metrics import evaluate_images
from ganlab.progressive import ProgressiveGenerator
from ganlab.progressive_train import (PROGRESSIVE_LOSSES, ProgressiveConfig, d_loss_wasserstein_drift,
                                      default_progressive, generate_digits, load_or_train_progressive, real_batches,
                                      train_progressive)
from checking import assert_same_state

SCORES = {"fid", "kid", "kid_std", "precision", "recall", "classes_covered", "label_kl", "confident_fraction"}


def tiny(tmp_path, name="run", **overrides) -> ProgressiveConfig:
    """A run of seconds: players 4 maps wide, 2 steps per phase, 8 scored samples."""
    settings = dict(stable_steps=2, fade_steps=2, batch_size=8, width=4, latent_dim=8, eval_samples=8,
                    out=str(tmp_path / name))
    return default_progressive(**(settings | overrides))


def final_state(config: ProgressiveConfig) -> dict:
    return read_checkpoint(f"{config.out}/checkpoint_stage{config.stages - 1}.pt")["state"]



@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """One run through all three stages, the reference for the resume tests."""
    config = tiny(tmp_path_factory.mktemp("progressive"), "whole")
    return config, train_progressive(config, progress=False)


def test_defaults_are_the_papers_betas_and_fast_mode_is_short():
    full = ProgressiveConfig()
    assert (full.beta1, full.beta2) == (0.0, 0.99) and full.lr == 2e-3  # appendix A.1's betas; its lr is 1e-3
    assert full.stable_steps + 2 * (full.fade_steps + full.stable_steps) == 3000  # the dcgan recipe's budget
    assert full.equalized and full.pixel_norm and full.minibatch_std and full.reset_adam and full.stages == 3
    fast = default_progressive(width=8)
    assert fast.stable_steps == fast.fade_steps == 10 and fast.eval_samples == 200 and fast.width == 8


def test_alpha_rises_linearly_over_the_fade_in_then_stays_1():
    config = ProgressiveConfig(stable_steps=3, fade_steps=4)
    assert [config.stage_steps(s) for s in range(3)] == [3, 7, 7]
    assert [config.alpha(0, i) for i in (1, 3)] == [1.0, 1.0]  # nothing to fade in at the first stage
    assert [config.alpha(1, i) for i in range(1, 8)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert dataclasses.replace(config, fade_steps=0).alpha(2, 1) == 1.0


def test_real_batches_are_pooled_and_faded_like_the_generators_output():
    digits = torch.rand(5, 1, 32, 32) * 2 - 1
    sample = real_batches(digits, torch.Generator().manual_seed(0))
    x = sample(0, 1.0, 4)
    assert x.shape == (4, 1, 8, 8)
    pick = torch.randint(5, (3,), generator=torch.Generator().manual_seed(0))  # the same draws
    at_16 = F.avg_pool2d(digits[pick], 2)
    for stage, alpha, want in [
        (2, 1.0, digits[pick]),
        (1, 0.0, F.interpolate(F.avg_pool2d(at_16, 2), scale_factor=2, mode="nearest")),
        (1, 0.25, 0.75 * F.interpolate(F.avg_pool2d(at_16, 2), scale_factor=2) + 0.25 * at_16),
    ]:
        torch.testing.assert_close(real_batches(digits, torch.Generator().manual_seed(0))(stage, alpha, 3), want)


def test_drift_term_adds_epsilon_times_the_mean_square_real_score():
    real, fake = torch.tensor([2.0, -4.0]), torch.tensor([1.0, 3.0])
    assert d_loss_wasserstein_drift(real, fake).item() == pytest.approx(2.0 - (-1.0) + 0.001 * 10)
    loss = PROGRESSIVE_LOSSES["wgan-gp-drift"]
    assert loss.penalty is not None and not loss.logits and "nonsaturating" in PROGRESSIVE_LOSSES


def test_generated_digits_are_28px_in_the_image_range_at_every_stage():
    G = ProgressiveGenerator(latent_dim=8, width=4)
    with torch.no_grad():
        G.to_rgb[0].bias.fill_(5.0)  # far outside [-1, 1]: clipped
    for stage in range(3):
        G.stage = stage
        digits = generate_digits(G, torch.randn(6, 8))
        assert digits.shape == (6, 1, 28, 28) and digits.abs().max() <= 1
    z = torch.randn(2, 8)
    G.stage = 0
    with torch.no_grad():  # by hand: 8 px -> 32 px, each pixel a 4 x 4 square, clipped, 2 px border cropped
        want = G(z).repeat_interleave(4, dim=2).repeat_interleave(4, dim=3).clamp(-1, 1)[:, :, 2:30, 2:30]
    assert torch.equal(generate_digits(G, z), want)


def test_a_two_step_run_per_stage_writes_the_run_folder(uninterrupted):
    config, metrics = uninterrupted
    out = config.out
    assert SCORES <= metrics.keys() and metrics["status"] == "finished"
    assert (metrics["stage"], metrics["resolution"], metrics["alpha"], metrics["steps_done"]) == (2, 32, 1.0, 10)
    for name in ["metrics.json", "losses.png"] + [f"samples_stage{s}.png" for s in range(3)] + [
            f"checkpoint_stage{s}.pt" for s in range(3)]:
        assert (Path(out) / name).is_file(), name
    assert json.loads(open(f"{out}/metrics.json").read())["config"]["stages"] == 3
    history = read_checkpoint(f"{out}/checkpoint_stage1.pt")["history"]
    assert history["step"] == [1, 2, 3, 4] and history["alpha"] == [0.0, 0.5, 1.0, 1.0]
    assert all(math.isfinite(v) for v in history["loss_d"] + history["loss_g"])


def test_adam_moments_are_reset_when_a_fade_in_and_a_stabilisation_start(uninterrupted, tmp_path):
    config, _ = uninterrupted
    steps = read_checkpoint(f"{config.out}/checkpoint_stage2.pt")["state"]["opt_g"]["state"]
    assert {int(s["step"]) for s in steps.values()} == {2}  # only the stabilisation's 2 steps since the last reset
    kept = tiny(tmp_path, reset_adam=False, stages=2)
    train_progressive(kept, progress=False)
    steps = read_checkpoint(f"{kept.out}/checkpoint_stage1.pt")["state"]["opt_g"]["state"]
    assert max(int(s["step"]) for s in steps.values()) == 2 + 4  # G's trunk: stage 0 and stage 1


def test_a_run_stopped_after_stage_0_and_resumed_ends_exactly_as_an_uninterrupted_one(uninterrupted, tmp_path):
    whole, _ = uninterrupted
    first = tiny(tmp_path, "resumed", stages=1)
    metrics = train_progressive(first, progress=False)
    assert (metrics["resolution"], metrics["steps_done"]) == (8, 2)
    with pytest.raises(CheckpointError, match="lr: 0.002 in the checkpoint, 0.001 now"):
        train_progressive(dataclasses.replace(first, lr=1e-3, stages=3), resume=True, progress=False)
    metrics = train_progressive(dataclasses.replace(first, stages=3), resume=True, progress=False)
    assert metrics["steps_done"] == 10 and metrics["resolution"] == 32
    assert_same_state(final_state(whole), final_state(dataclasses.replace(first, stages=3)))
    again = train_progressive(dataclasses.replace(first, stages=3), resume=True, progress=False)
    assert again["nothing_to_do"]


def test_a_run_that_fails_within_a_stage_resumes_exactly_from_its_last_checkpoint(uninterrupted, tmp_path,
                                                                                  monkeypatch):
    whole, _ = uninterrupted
    config = tiny(tmp_path, "crashed", checkpoint_every=1)
    calls, d_step = [], progressive_train.d_step

    def failing_d_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # stage 1, step 3: the first step after the fade-in
            raise RuntimeError("the power went out")
        return d_step(*args, **kwargs)
    monkeypatch.setattr(progressive_train, "d_step", failing_d_step)
    with pytest.raises(RuntimeError, match="power"):
        train_progressive(config, progress=False)
    assert read_checkpoint(f"{config.out}/checkpoint_stage1.pt")["step"] == 2
    assert json.loads(open(f"{config.out}/metrics.json").read())["status"] == "failed"
    monkeypatch.setattr(progressive_train, "d_step", d_step)
    train_progressive(config, resume=True, progress=False)
    assert_same_state(final_state(whole), final_state(config))


def test_ctrl_c_within_a_stage_stops_the_run_there_and_resume_finishes_it_exactly(uninterrupted, tmp_path,
                                                                                   monkeypatch):
    whole, _ = uninterrupted
    config = tiny(tmp_path, "stopped")
    calls, d_step = [], progressive_train.d_step

    def d_step_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # stage 1, step 2, in the middle of the fade-in
            signal.raise_signal(signal.SIGINT)  # the loop finishes this step, saves it and returns
        return d_step(*args, **kwargs)
    monkeypatch.setattr(progressive_train, "d_step", d_step_then_ctrl_c)
    metrics = train_progressive(config, progress=False)
    assert (metrics["status"], metrics["stage"], metrics["alpha"], metrics["steps_done"]) == ("interrupted", 1, 0.5, 4)
    assert not (Path(config.out) / "checkpoint_stage2.pt").exists()
    monkeypatch.setattr(progressive_train, "d_step", d_step)
    assert train_progressive(config, resume=True, progress=False)["status"] == "finished"
    assert_same_state(final_state(whole), final_state(config))


@pytest.mark.parametrize("field, value, error, message", [
    ("stable_steps", 0, ValueError, "stable_steps must be a positive integer, got 0"),
    ("fade_steps", -1, ValueError, "fade_steps must be a non-negative integer, got -1"),
    ("stages", 4, ValueError, "stages must be an integer from 1 to 3, got 4"),
    ("batch_size", 2.0, TypeError, "batch_size must be a positive integer, got float"),
    ("loss", "wgan_gp", ValueError, r"unknown loss 'wgan_gp'; choose one of \[.*'wgan-gp-drift'"),
    ("lr", 0, ValueError, "lr must be positive, got 0"),
    ("beta2", 1.0, ValueError, r"beta2 must lie in \[0, 1\), got 1.0"),
    ("pixel_norm", "yes", TypeError, "pixel_norm must be True or False, got str"),
    ("checkpoint_every", -2, ValueError, "checkpoint_every must be a non-negative integer"),
    ("out", 3, TypeError, "out must be a folder name, got int"),
    ("eval_samples", 4, ValueError, "eval_samples must be an integer >= 8, got 4"),
])
def test_bad_config_values_are_clear_errors(field, value, error, message):
    with pytest.raises(error, match=message):
        ProgressiveConfig(**{field: value})


def test_bad_calls_are_clear_errors(tmp_path):
    with pytest.raises(TypeError, match="config must be a ProgressiveConfig, e.g. default_progressive\\(\\), got dict"):
        train_progressive({"stages": 1})
    with pytest.raises(TypeError, match="resume must be True or False, got str"):
        train_progressive(tiny(tmp_path), resume="yes")
    with pytest.raises(TypeError, match="ProgressiveConfig has no field 'steps'"):
        default_progressive(steps=3)
    with pytest.raises(ValueError, match="step must be an integer from 1 to 4, got 5"):
        ProgressiveConfig(stable_steps=2, fade_steps=2).alpha(1, 5)
    with pytest.raises(TypeError, match="G must be a ProgressiveGenerator, got Linear"):
        generate_digits(torch.nn.Linear(2, 2), torch.randn(2, 2))
    with pytest.raises(ValueError, match=r"digits should have shape \(N, C, 32, 32\), got \(2, 1, 28, 28\)"):
        real_batches(torch.zeros(2, 1, 28, 28), torch.Generator())
    sample = real_batches(torch.zeros(2, 1, 32, 32), torch.Generator())
    with pytest.raises(ValueError, match="stage must be an integer from 0 to 2, got 3"):
        sample(3, 1.0, 4)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\], got 2"):
        sample(1, 2, 4)


def test_load_or_train_trains_once_then_loads_the_scored_generator(tmp_path, monkeypatch):
    config = tiny(tmp_path)
    G, metrics = load_or_train_progressive(config, progress=False)
    assert metrics["status"] == "finished" and G.stage == config.stages - 1 and not G.training
    monkeypatch.setattr(progressive_train, "train_progressive", lambda *a, **k: pytest.fail("trained again"))
    G2, again = load_or_train_progressive(dataclasses.replace(config, threads=2), progress=False)
    z = torch.randn(16, config.latent_dim, generator=torch.Generator().manual_seed(5))
    assert torch.equal(G(z), G2(z)) and again["fid"] == metrics["fid"]
    z_eval = torch.randn(config.eval_samples, config.latent_dim, generator=torch.Generator().manual_seed(config.seed + 2))
    assert again["fid"] == pytest.approx(evaluate_images(generate_digits(G2, z_eval))["fid"], rel=1e-6)  # scored G

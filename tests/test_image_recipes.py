import dataclasses
import json

import pytest
import torch

import ganlab
from ganlab import cli, image_recipes
from ganlab.image_recipes import DCGANConfig, build_players, default_dcgan, load_or_train_dcgan, train_dcgan
from ganlab.losses import get_loss
from ganlab.stylegan import StyleGenerator
from ganlab.train import TrainConfig, fit

SCORES = {"fid", "kid", "kid_std", "precision", "recall", "classes_covered", "label_kl", "confident_fraction"}


def tiny(tmp_path, conditional=False, **overrides) -> DCGANConfig:
    """A recipe run of seconds: 8 px-wide players, a few steps, 64 scored samples."""
    settings = dict(steps=6, batch_size=16, width=8, latent_dim=8, sample_every=3, eval_samples=64,
                    out=str(tmp_path / ("cgan" if conditional else "dcgan")))
    return default_dcgan(conditional, **(settings | overrides))


@pytest.fixture(autouse=True)
def small_reference(monkeypatch):
    """Score the real-vs-real reference on 64 digits whatever the run asks, to keep the tests fast."""
    real = image_recipes.real_reference.__wrapped__
    monkeypatch.setattr(image_recipes, "real_reference", lambda n, conditional, seed=0: real(64, conditional, seed))


def test_defaults_apply_fast_mode_and_overrides():
    config = default_dcgan(steps=7)
    assert config.steps == 7 and config.sample_every == 10 and not config.conditional  # GANLAB_FAST=1 in the tests
    assert default_dcgan(True).out == "runs/cgan" and default_dcgan().out == "runs/dcgan"
    assert config.threads == 1 and DCGANConfig().threads == 2
    full = DCGANConfig()
    assert full.batch_size == 64 and full.beta1 == 0.5 and full.image_size == 32  # batch and beta1: Radford et al. 2015


@pytest.mark.parametrize("field, value, message", [
    ("loss", "wgan_gp", "unknown loss"),
    ("ema", 1.0, "decay in"),
    ("width", 0, "width must be a positive int"),
    ("eval_samples", 4, "at least 8"),
    ("threads", -1, "threads"),
    ("generator", "stylegan", "unknown generator"),
])
def test_bad_config_values_are_clear_errors(field, value, message):
    with pytest.raises(ValueError, match=message):
        DCGANConfig(**{field: value})


def test_the_style_generator_is_for_the_unconditional_recipe_at_32px():
    G, D = build_players(DCGANConfig(generator="style", width=8, latent_dim=8))
    assert isinstance(G, StyleGenerator) and G.latent_dim == 8 and isinstance(D, ganlab.DCGANDiscriminator)
    assert G(torch.randn(3, 8)).shape == (3, 1, 32, 32)
    for bad in ({"conditional": True}, {"image_size": 28}):
        with pytest.raises(ValueError, match="unconditional recipe at 32 px"):
            DCGANConfig(generator="style", **bad)


def test_digits_are_padded_for_32px_players_and_generated_digits_cropped_back():
    digits28, digits32 = image_recipes.training_digits(False), image_recipes.training_digits(False, 32)
    assert digits28.shape == (4000, 1, 28, 28) and digits32.shape == (4000, 1, 32, 32)
    assert torch.equal(digits32[:, :, 2:30, 2:30], digits28) and (digits32[:, :, :2] == -1).all()
    with pytest.raises(ValueError, match=r"shape \(N, C, 28, 28\)"):
        image_recipes.pad_digits(digits32)
    with pytest.raises(ValueError, match="image_size must be one of"):
        image_recipes.training_digits(False, 64)
    x, y = image_recipes.training_digits(True)
    assert y.shape == (4000,) and torch.equal(torch.bincount(y), torch.full((10,), 400))  # 100 per class held out
    for size in (28, 32):
        G, _ = image_recipes.build_players(DCGANConfig(width=8, latent_dim=8, image_size=size))
        assert image_recipes.generate(G, torch.randn(5, 8)).shape == (5, 1, 28, 28) and G.training


def test_dcgan_run_writes_the_run_folder(tmp_path):
    config = tiny(tmp_path)
    result = train_dcgan(config, progress=False)
    out = tmp_path / "dcgan"
    assert {p.name for p in out.iterdir()} == {"samples_step3.png", "samples_step6.png", "samples.png",
                                               "losses.png", "metrics.json", "checkpoint.pt"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert SCORES <= set(metrics) and "conditional_accuracy" not in metrics
    assert SCORES <= set(metrics["real_reference"])
    assert metrics["steps_done"] == 6 and metrics["evaluated"] == "ema" and metrics["steps_per_second"] > 0
    assert metrics["config"] == dataclasses.asdict(config) and result["fid"] == metrics["fid"]


def test_load_or_train_loads_a_finished_run_instead_of_retraining(tmp_path, monkeypatch):
    config = tiny(tmp_path, ema=0.0)
    G, metrics = load_or_train_dcgan(config, progress=False)
    assert not G.training and metrics["evaluated"] == "G"
    monkeypatch.setattr(image_recipes, "train_dcgan", lambda *a, **k: pytest.fail("retrained a finished run"))
    G2, metrics2 = load_or_train_dcgan(dataclasses.replace(config, threads=2), progress=False)
    assert metrics2 == metrics
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G2.state_dict().values()))
    calls = []
    monkeypatch.setattr(image_recipes, "train_dcgan", lambda c, **k: calls.append(c) or metrics)
    load_or_train_dcgan(dataclasses.replace(config, lr_g=5e-4), progress=False)  # another recipe: trains
    assert len(calls) == 1


def test_a_few_dcgan_steps_change_both_players_and_keep_losses_finite():
    config = DCGANConfig(width=8, latent_dim=8)
    torch.manual_seed(0)
    G, D = image_recipes.build_players(config)
    before = [torch.cat([p.detach().flatten() for p in m.parameters()]) for m in (G, D)]
    digits = image_recipes.training_digits(False, config.image_size)[:256]
    history = fit(G, D, digits, TrainConfig(steps=3, batch_size=16, lr_g=1e-3, lr_d=1e-3, progress=False),
                  loss=get_loss("nonsaturating"))
    after = [torch.cat([p.detach().flatten() for p in m.parameters()]) for m in (G, D)]
    assert all(not torch.equal(b, a) for b, a in zip(before, after))
    assert all(torch.isfinite(torch.tensor(history[k])).all() for k in ("loss_d", "loss_g"))


def test_cli_trains_a_cgan_resumes_it_and_refuses_a_checkpoint_of_other_players(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "cgan", "--batch-size", "16", "--latent-dim", "8", "--out", str(out), "--no-progress"]
    assert cli.main(base + ["--steps", "3", "--width", "8"]) == 0
    assert cli.main(base + ["--steps", "6", "--width", "8", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "conditional accuracy" in printed and "FID" in printed and "real digits" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["conditional"] is True and metrics["steps_done"] == 6
    assert 0 <= metrics["conditional_accuracy"] <= 1 and "conditional_accuracy" in metrics["real_reference"]
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 6 and state["history"]["step"] == list(range(1, 7)) and "ema" in state["state"]
    assert cli.main(base + ["--steps", "9", "--width", "16", "--resume"]) == 2
    assert "width: 8 in the checkpoint, 16 now" in capsys.readouterr().err

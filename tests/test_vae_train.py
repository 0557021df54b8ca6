"""The VAE recipe: its run folder, exact resume, load-or-train, the command line."""

import json
import os

import pytest
import torch

import ganlab.vae
from ganlab import cli
from ganlab.checkpoint import CheckpointError, read_checkpoint
from ganlab.vae import ConvVAE
from ganlab.vae_train import VAEConfig, default_vae, heldout_digits, load_or_train_vae, load_vae, train_vae
from test_resume import assert_identical, ctrl_c_at_call, python_sigint_handler  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(out, **overrides) -> VAEConfig:
    return default_vae(latent_dim=4, width=4, steps=8, batch_size=16, eval_samples=20, iwae_k=2, out=str(out),
                       **overrides)


def test_a_run_writes_its_folder_and_scores_in_nats_per_image(tmp_path):
    r = train_vae(tiny(tmp_path / "a"), progress=False)
    assert r["status"] == "finished" and r["steps_done"] == 8
    for name in ("samples.png", "reconstructions.png", "losses.png", "metrics.json", "checkpoint.pt"):
        assert (tmp_path / "a" / name).is_file(), name
    assert r["elbo"] == pytest.approx(-(r["reconstruction"] + r["kl"]), rel=1e-5)
    assert 100 < r["reconstruction"] < 800  # a sum over 784 pixels: hundreds of nats, not a per-pixel mean
    assert r["iwae"] > r["elbo"] - 1.0  # k = 2 is at least the ELBO, up to sampling noise
    assert {"fid", "precision", "recall", "classes_covered"} <= r.keys()
    history = read_checkpoint(tmp_path / "a" / "checkpoint.pt")["history"]
    assert set(history) >= {"step", "loss", "reconstruction", "kl", "elbo", "beta"}


def test_training_sees_binary_digits_and_the_baseline_is_scored_on_the_same_held_out_images(tmp_path, monkeypatch):
    seen = []
    real = ganlab.vae_train.negative_elbo
    monkeypatch.setattr(ganlab.vae_train, "negative_elbo",
                        lambda model, x, *a, **k: seen.append(x) or real(model, x, *a, **k))
    r = train_vae(tiny(tmp_path / "b"), progress=False)
    assert all(set(x.unique().tolist()) == {-1.0, 1.0} for x in seen[:8])
    assert not torch.equal(seen[0], seen[1])
    assert -215 < r["baseline"] < -200  # about 206.6 nats: the independent pixels of the held-out digits
    held_out = heldout_digits()
    assert torch.equal(held_out, heldout_digits()) and set(held_out.unique().tolist()) == {-1.0, 1.0}
    grey = train_vae(tiny(tmp_path / "g", binarize=False), progress=False)
    assert "baseline" not in grey and grey["elbo"] != r["elbo"]


def test_the_gan_term_trains_a_discriminator_and_is_logged(tmp_path):
    train_vae(tiny(tmp_path / "adv", adversarial=2.0), progress=False)
    saved = read_checkpoint(tmp_path / "adv" / "checkpoint.pt")
    assert {"d_loss", "g_adv"} <= set(saved["history"]) and "D" in saved["state"]


def test_kl_warmup_ramps_beta_and_beta_scales_the_loss(tmp_path):
    train_vae(tiny(tmp_path / "w", beta=2.0, kl_warmup=0.5), progress=False)
    betas = read_checkpoint(tmp_path / "w" / "checkpoint.pt")["history"]["beta"]
    assert betas == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0, 2.0])  # 4 warm-up steps of 8, up to beta 2
    h = read_checkpoint(tmp_path / "w" / "checkpoint.pt")["history"]
    for loss, rec, kl, beta in zip(h["loss"], h["reconstruction"], h["kl"], h["beta"]):
        assert loss == pytest.approx(rec + beta * kl, rel=1e-5)


def ctrl_c_at_step(monkeypatch, n):
    return ctrl_c_at_call(monkeypatch, ganlab.vae_train, "negative_elbo", n)


@pytest.mark.parametrize("adversarial", [0.0, 2.0], ids=["vae", "with-gan-term"])
def test_stop_and_resume_is_bitwise_exact(tmp_path, monkeypatch, python_sigint_handler, adversarial):  # noqa: F811
    straight = train_vae(tiny(tmp_path / "straight", adversarial=adversarial), progress=False)
    undo = ctrl_c_at_step(monkeypatch, 4)
    stopped = train_vae(tiny(tmp_path / "stopped", adversarial=adversarial), progress=False)
    undo()
    assert stopped["status"] == "interrupted" and stopped["steps_done"] == 4
    assert json.loads((tmp_path / "stopped" / "metrics.json").read_text())["steps_done"] == 4
    resumed = train_vae(tiny(tmp_path / "stopped", adversarial=adversarial), resume=True, progress=False)
    assert resumed["status"] == "finished"
    a, b = (read_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "stopped"))
    assert_identical(a["state"], b["state"], "state")
    assert a["history"] == b["history"]
    assert straight["elbo"] == resumed["elbo"] and straight["fid"] == resumed["fid"]
    assert ("D" in a["state"]) == bool(adversarial)
    again = train_vae(tiny(tmp_path / "stopped", adversarial=adversarial), resume=True, progress=False)
    assert again.get("nothing_to_do")


def test_load_or_train_trains_once_then_loads(tmp_path):
    config = tiny(tmp_path / "l")
    model, metrics = load_or_train_vae(config, progress=False)
    stamp = os.path.getmtime(tmp_path / "l" / "checkpoint.pt")
    again, metrics_again = load_or_train_vae(config, progress=False)
    assert os.path.getmtime(tmp_path / "l" / "checkpoint.pt") == stamp and metrics_again == metrics
    assert isinstance(again, ConvVAE) and not again.training
    for p, q in zip(model.parameters(), again.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(CheckpointError, match="no VAE checkpoint"):
        load_vae(tmp_path / "nowhere")


def test_load_or_train_continues_a_stopped_run_of_the_same_config(tmp_path, monkeypatch,
                                                                  python_sigint_handler):  # noqa: F811
    train_vae(tiny(tmp_path / "straight"), progress=False)
    undo = ctrl_c_at_step(monkeypatch, 4)
    assert train_vae(tiny(tmp_path / "stopped"), progress=False)["status"] == "interrupted"
    undo()
    steps_run = []
    real = ganlab.vae_train.negative_elbo
    monkeypatch.setattr(ganlab.vae_train, "negative_elbo",
                        lambda model, *a, **k: steps_run.append(model.training) or real(model, *a, **k))
    load_or_train_vae(tiny(tmp_path / "stopped"), progress=False)
    monkeypatch.setattr(ganlab.vae_train, "negative_elbo", real)
    assert steps_run.count(True) == 4  # training steps 5 to 8 only (the evaluation calls it in eval mode)
    a, b = (read_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "stopped"))
    assert_identical(a["state"], b["state"], "state")


def test_the_command_line_trains_a_vae(tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["train", "vae", "--beta", "4", "--latent-dim", "2", "--steps", "6", "--out", str(out),
                     "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "ELBO" in text and "IWAE bound" in text and "FID" in text
    saved = read_checkpoint(out / "checkpoint.pt")["config"]
    assert saved["beta"] == 4.0 and saved["latent_dim"] == 2 and saved["binarize"] and saved["adversarial"] == 0
    assert "nats better" in text  # beside the independent-pixel baseline
    assert cli.main(["train", "vae", "--grey", "--adversarial", "1.5", "--steps", "2", "--out", str(tmp_path / "g"),
                     "--no-progress"]) == 0
    saved = read_checkpoint(tmp_path / "g" / "checkpoint.pt")["config"]
    assert not saved["binarize"] and saved["adversarial"] == 1.5
    with pytest.raises(SystemExit):
        cli.main(["train", "vae", "--decoder", "poisson"])


def test_load_vae_refuses_another_recipes_checkpoint(tmp_path):
    from ganlab.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "checkpoint.pt", step=1, config={"recipe": "cyclegan"}, G=torch.nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match="recipe 'cyclegan', not a VAE"):
        load_vae(tmp_path)

import json
import subprocess
import sys

import pytest

from ganlab import cli


def test_train_toy2d_writes_a_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "toy2d", "--steps", "30", "--out", str(out), "--no-progress"]) == 0
    assert {p.name for p in out.iterdir()} == {"samples.png", "losses.png", "metrics.json", "checkpoint.pt"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_modes"] == 8 and metrics["steps_done"] == 30 and 0 <= metrics["high_quality"] <= 1
    assert metrics["config"]["dataset"] == "ring"
    assert "modes covered" in capsys.readouterr().out


def test_resume_continues_from_the_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    cli.main(["train", "toy2d", "--dataset", "grid", "--steps", "20", "--out", out, "--no-progress"])
    cli.main(["train", "toy2d", "--dataset", "grid", "--steps", "40", "--out", out, "--no-progress", "--resume"])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["steps_done"] == 40 and metrics["n_modes"] == 25


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path, monkeypatch):
    import ganlab.train

    out = tmp_path / "run"
    real_g_step, calls = ganlab.train.g_step, []

    def g_step_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 25:
            raise KeyboardInterrupt
        return real_g_step(*args, **kwargs)

    monkeypatch.setattr(ganlab.train, "g_step", g_step_then_ctrl_c)
    assert cli.main(["train", "toy2d", "--steps", "40", "--out", str(out), "--no-progress"]) == 130
    monkeypatch.setattr(ganlab.train, "g_step", real_g_step)
    from ganlab import checkpoint, nets

    state = checkpoint.load_checkpoint(out / "checkpoint.pt", G=nets.MLPGenerator(), D=nets.MLPDiscriminator())
    assert state["step"] == 24  # saved every 40 // 10 = 4 steps
    assert cli.main(["train", "toy2d", "--steps", "40", "--out", str(out), "--no-progress", "--resume"]) == 0
    assert json.loads((out / "metrics.json").read_text())["steps_done"] == 40


def test_corrupted_checkpoint_on_resume_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    code = cli.main(["train", "toy2d", "--steps", "5", "--out", str(out), "--resume", "--no-progress"])
    assert code == 2
    assert "corrupted" in capsys.readouterr().err
    assert (out / "checkpoint.pt").read_bytes() == b"not a checkpoint"  # left for the user to inspect


@pytest.mark.parametrize("recipe, args, message", [
    ("toy2d", ["--loss", "wgan_gp"], "invalid choice: 'wgan_gp'"),
    ("toy2d", ["--dataset", "spiral"], "invalid choice: 'spiral'"),
    ("toy2d", ["--lr", "-1"], "must be a positive number"),
    ("toy2d", ["--lr", "fast"], "expected a number"),
    ("toy2d", ["--steps", "0"], "must be at least 1"),
    ("toy2d", ["--seed", "-3"], "must be at least 0"),
    ("toy2d", ["--lr-decay", "2"], "between 0 and 1"),
    ("toy2d", ["--beta2", "1"], "must be in [0, 1)"),
    ("toy2d", ["--penalty-weight", "-1"], "non-negative"),
    ("dcgan", ["--loss", "wgan_gp"], "invalid choice: 'wgan_gp'"),
    ("dcgan", ["--lr", "0"], "must be a positive number"),
    ("dcgan", ["--ema", "1"], "decay in (0, 1)"),
    ("dcgan", ["--steps", "0"], "must be at least 1"),
    ("dcgan", ["--width", "x"], "expected a whole number"),
    ("srresnet", ["--channels", "0"], "must be at least 1"),
    ("srresnet", ["--blocks", "-1"], "must be at least 0"),
    ("srresnet", ["--lr", "0"], "must be a positive number"),
    ("srresnet", ["--threads", "-1"], "must be at least 0"),
    ("srgan", ["--content", "vgg"], "invalid choice: 'vgg'"),
    ("srgan", ["--adversarial-weight", "-1"], "non-negative"),
    ("srgan", ["--pixel-weight", "x"], "expected a number"),
    ("srgan", ["--steps", "0"], "must be at least 1"),
])
def test_bad_option_values_are_clear_errors(recipe, args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", recipe, *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_explains_every_option():
    result = subprocess.run([sys.executable, "-m", "ganlab", "train", "toy2d", "--help"],
                            capture_output=True, text=True, check=True)
    for option in ("--dataset", "--loss", "--steps", "--batch-size", "--lr", "--lr-decay", "--width", "--depth",
                   "--latent-dim", "--seed", "--out", "--resume", "--threads", "--no-progress"):
        assert option in result.stdout
    assert "sigma 0.01" in result.stdout and "non" in result.stdout


def test_penalty_weight_for_a_loss_without_penalty_is_a_clear_error(tmp_path, capsys):
    code = cli.main(["train", "toy2d", "--loss", "hinge", "--penalty-weight", "1", "--out", str(tmp_path), "--no-progress"])
    assert code == 2 and "has no penalty to weight" in capsys.readouterr().err


def test_the_recommended_setting_runs(tmp_path):
    out = tmp_path / "rec"
    assert cli.main(["train", "toy2d", "--loss", "r1", "--penalty-weight", "1", "--lr", "3e-3", "--beta2", "0.99",
                     "--steps", "20", "--out", str(out), "--no-progress"]) == 0
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert (config["penalty_weight"], config["beta2"], config["lr"]) == (1.0, 0.99, 3e-3)


def test_train_singan_writes_a_run_folder_and_resumes_with_more_iterations(tmp_path, capsys):
    out = tmp_path / "sg"
    args = ["train", "singan", "--image", "brick", "--max-size", "32", "--out", str(out), "--no-progress"]
    assert cli.main(args + ["--iterations", "3"]) == 0
    assert {"samples.png", "samples_wide.png", "reconstruction.png", "metrics.json"} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["image"] == "brick" and max(metrics["sizes"][-1]) == 32
    assert "patch distance" in capsys.readouterr().out
    assert cli.main(args + ["--iterations", "3", "--resume"]) == 0  # a finished run: nothing changes
    assert json.loads((out / "metrics.json").read_text()) == metrics


# --------------------------------------------------------------------------- chapter 06: srresnet and srgan
@pytest.mark.slow  # two runs of the commands' own batch of 16 crops of 64 px: about 9 s
def test_train_srresnet_then_srgan_write_run_folders(tmp_path, capsys, monkeypatch):
    from test_sr_train import small_held_out

    small_held_out(monkeypatch)  # score 96 px crops of the held-out images: seconds less per run
    a, b = str(tmp_path / "srresnet"), str(tmp_path / "srgan")
    args = ["--threads", "1", "--no-progress"]
    assert cli.main(["train", "srresnet", "--channels", "8", "--blocks", "1", "--steps", "3", "--out", a] + args) == 0
    assert {p.name for p in (tmp_path / "srresnet").iterdir()} == {"crops.png", "losses.png", "metrics.json",
                                                                  "checkpoint.pt"}
    metrics = json.loads((tmp_path / "srresnet" / "metrics.json").read_text())
    assert metrics["steps_done"] == 3 and metrics["config"]["channels"] == 8 and metrics["config"]["blocks"] == 1
    out = capsys.readouterr().out
    assert "astronaut: Y-PSNR" in out and "coffee: Y-PSNR" in out and "(bicubic" in out
    assert cli.main(["train", "srgan", "--init", a, "--steps", "2", "--out", b] + args) == 0
    metrics = json.loads((tmp_path / "srgan" / "metrics.json").read_text())
    assert metrics["steps_done"] == 2 and metrics["config"]["content"] == "random" and "psnr_init" in metrics
    assert "coffee: Y-PSNR" in capsys.readouterr().out
    before = (tmp_path / "srgan" / "metrics.json").read_bytes()
    assert cli.main(["train", "srgan", "--init", a, "--steps", "2", "--out", b, "--resume"] + args) == 0
    assert "Nothing to do" in capsys.readouterr().out and (tmp_path / "srgan" / "metrics.json").read_bytes() == before


def test_srgan_without_a_finished_srresnet_run_is_a_clear_error(tmp_path, capsys):
    code = cli.main(["train", "srgan", "--init", str(tmp_path / "none"), "--out", str(tmp_path / "gan"),
                     "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("ganlab: error: SRGAN starts from a trained SRResNet")
    assert f"`ganlab train srresnet --out {tmp_path / 'none'}`" in err
    assert not (tmp_path / "gan" / "checkpoint.pt").exists()


def capture_sr_configs(monkeypatch):
    """The configs the commands build, without training (each call returns as a resume with nothing to do)."""
    from ganlab import sr_train

    seen = []
    for name in ("train_srresnet", "train_srgan"):
        monkeypatch.setattr(sr_train, name, lambda config, **kw: seen.append(config) or {"nothing_to_do": True})
    return seen


def test_srresnet_options_reach_the_config(monkeypatch):
    from ganlab.sr_train import default_srresnet, paper_srresnet

    seen = capture_sr_configs(monkeypatch)
    assert cli.main(["train", "srresnet", "--out", "x", "--no-progress"]) == 0
    assert seen[-1] == default_srresnet(out="x")
    assert cli.main(["train", "srresnet", "--channels", "12", "--blocks", "0", "--no-batch-norm", "--no-bicubic-skip",
                     "--steps", "7", "--lr", "5e-4", "--seed", "3", "--threads", "1", "--out", "x"]) == 0
    assert seen[-1] == default_srresnet(channels=12, blocks=0, batch_norm=False, bicubic_skip=False, steps=7, lr=5e-4,
                                        seed=3, threads=1, out="x")
    assert cli.main(["train", "srresnet", "--paper", "--out", "x"]) == 0
    assert seen[-1] == paper_srresnet(out="x", threads=default_srresnet().threads)
    assert cli.main(["train", "srresnet", "--paper", "--channels", "32", "--out", "x"]) == 0
    assert seen[-1].channels == 32 and seen[-1].blocks == 16  # an option given beside --paper wins


def test_srgan_options_reach_the_config(monkeypatch):
    from ganlab.sr_train import default_srgan

    seen = capture_sr_configs(monkeypatch)
    assert cli.main(["train", "srgan", "--init", "i", "--content", "pixel", "--adversarial-weight", "0.01",
                     "--pixel-weight", "0.5", "--steps", "9", "--out", "x"]) == 0
    assert seen[-1] == default_srgan(init="i", content="pixel", adversarial_weight=0.01, pixel_weight=0.5, steps=9,
                                     out="x")


def test_srgan_paper_uses_the_vgg54_content_loss(monkeypatch):
    from ganlab.sr_train import paper_srgan

    seen = capture_sr_configs(monkeypatch)
    assert cli.main(["train", "srgan", "--paper", "--init", "i", "--out", "x"]) == 0
    assert seen[-1].d_width == 64 and seen[-1].lr_patch == 24  # the rest of --paper arrives
    assert seen[-1] == paper_srgan(init="i", out="x", threads=seen[-1].threads)


@pytest.mark.parametrize("recipe", ["srresnet", "srgan"])
def test_sr_help_lists_every_option(recipe, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", recipe, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    options = {"srresnet": ("--channels", "--blocks", "--no-batch-norm", "--no-bicubic-skip", "--lr"),
               "srgan": ("--init", "--content", "--adversarial-weight", "--pixel-weight")}[recipe]
    for option in options + ("--steps", "--paper", "--seed", "--out", "--resume", "--threads", "--no-progress"):
        assert option in text

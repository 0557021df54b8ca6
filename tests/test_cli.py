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

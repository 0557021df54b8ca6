"""Every recipe stops and resumes exactly, and its run folder always agrees with itself.

N steps straight, and N/2 steps, a stop and a resume to N, give bitwise-identical weights,
optimiser states, averages, random states and history. A stopped, diverged or finished run's
checkpoint, metrics.json, history and printed message name the same step.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import ganlab.train
from ganlab import cli
from ganlab.checkpoint import read_checkpoint
from ganlab.image_recipes import default_dcgan, train_dcgan
from ganlab.recipes import Toy2DConfig, train_toy2d


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """A process started in the background ignores SIGINT; these tests need Python's handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def assert_identical(a, b, where="checkpoint"):
    """Recursive bitwise equality of two checkpoint payloads (tensors by torch.equal)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_identical(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def ctrl_c_at_call(monkeypatch, owner, name, n):
    """Press Ctrl-C (a real SIGINT) during the n-th call of ``owner.name`` (a module's function or a class's
    method); returns what puts the original back."""
    real, calls = getattr(owner, name), []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return lambda: monkeypatch.setattr(owner, name, real)


def ctrl_c_after_generator_step(monkeypatch, n):
    """Press Ctrl-C during the n-th generator step."""
    return ctrl_c_at_call(monkeypatch, ganlab.train, "g_step", n)


def train(recipe, config, **kwargs):
    return (train_toy2d if recipe == "toy2d" else train_dcgan)(config, progress=False, **kwargs)


def config_for(recipe, out, steps):
    torch.set_num_threads(1)  # the same kernels in every run
    if recipe == "toy2d":
        return Toy2DConfig(steps=steps, width=16, batch_size=32, out=str(out))
    style = {"generator": "style"} if recipe == "style" else {}  # the dcgan recipe with chapter 05's generator
    return default_dcgan(recipe == "cgan", steps=steps, width=8, latent_dim=8, batch_size=16, sample_every=4,
                         eval_samples=8, threads=1, out=str(out), **style)


@pytest.mark.parametrize("recipe", ["toy2d", "dcgan", "cgan", "style"])
def test_stop_and_resume_is_bitwise_exact(recipe, tmp_path, monkeypatch, capsys):
    n = 12
    straight = train(recipe, config_for(recipe, tmp_path / "straight", n))
    undo = ctrl_c_after_generator_step(monkeypatch, n // 2)
    stopped = train(recipe, config_for(recipe, tmp_path / "stopped", n))
    undo()
    assert stopped["status"] == "interrupted" and stopped["steps_done"] == n // 2
    assert f"Interrupted after step {n // 2} of {n}" in capsys.readouterr().out
    on_disk = read_checkpoint(tmp_path / "stopped" / "checkpoint.pt")
    assert on_disk["step"] == n // 2 and on_disk["history"]["step"][-1] == n // 2
    assert json.loads((tmp_path / "stopped" / "metrics.json").read_text())["steps_done"] == n // 2
    resumed = train(recipe, config_for(recipe, tmp_path / "stopped", n), resume=True)
    assert resumed["steps_done"] == n and resumed["status"] == "finished"
    a, b = (read_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "stopped"))
    assert_identical(a["state"], b["state"], "state")  # weights, optimiser states, EMA, scalers, batch RNG
    assert_identical(a["rng"], b["rng"], "rng")
    assert a["history"] == b["history"] and a["step"] == b["step"] == n
    score = "modes_covered" if recipe == "toy2d" else "fid"
    assert straight[score] == resumed[score]


def test_dcgan_trains_on_to_a_larger_step_count_exactly(tmp_path):
    train("dcgan", config_for("dcgan", tmp_path / "straight", 12))
    train("dcgan", config_for("dcgan", tmp_path / "longer", 6))
    train("dcgan", config_for("dcgan", tmp_path / "longer", 12), resume=True)
    a, b = (read_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "longer"))
    assert_identical(a["state"], b["state"], "state")
    assert a["history"] == b["history"]


def test_resuming_a_finished_run_with_fewer_steps_changes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "toy2d", "--width", "16", "--out", str(out), "--no-progress"]
    assert cli.main(args + ["--steps", "20"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    for steps in ("20", "8"):
        assert cli.main(args + ["--steps", steps, "--resume"]) == 0
        assert "Nothing to do" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_diverged_run_says_where_it_stopped_in_every_file(tmp_path, monkeypatch, capsys):
    from ganlab import data

    ring, calls = data.toy("ring"), []

    class PoisonedRing:  # real data until the 15th batch, then NaN: training diverges at step 15
        name, sample = "ring", None

    def sample(n):
        calls.append(1)
        x = ring.sample(n)
        return x * float("nan") if len(calls) >= 15 else x

    poisoned = PoisonedRing()
    poisoned.sample = sample
    monkeypatch.setattr("ganlab.recipes.data.toy", lambda name: poisoned)
    out = tmp_path / "run"
    assert cli.main(["train", "toy2d", "--width", "16", "--steps", "40", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "diverged at step 15" in err and "holds step 12 and is unchanged" in err  # saved every 40 // 10 steps
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "diverged" and metrics["diverged_at_step"] == 15 and metrics["steps_done"] == 12
    assert read_checkpoint(out / "checkpoint.pt")["step"] == 12


def test_a_checkpoint_of_another_recipe_or_setting_is_refused(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "toy2d", "--width", "16", "--steps", "4", "--out", out, "--no-progress"]) == 0
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert cli.main(["train", "dcgan", "--steps", "8", "--out", out, "--no-progress", "--resume"]) == 2
    assert "saved by the recipe 'toy2d', not 'dcgan'" in capsys.readouterr().err
    assert cli.main(["train", "toy2d", "--width", "16", "--steps", "8", "--dataset", "grid", "--out", out,
                     "--no-progress", "--resume"]) == 2
    assert "dataset: 'ring' in the checkpoint, 'grid' now" in capsys.readouterr().err
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before


def test_ctrl_c_in_a_terminal_then_resume_as_a_new_user_would(tmp_path):
    """The README's commands in a real process: start, Ctrl-C, look at the files, resume, resume again."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "ganlab", "train", "toy2d", "--width", "32", "--steps", "3000",
               "--out", str(out), "--no-progress"]
    env = {**os.environ, "GANLAB_FAST": "0"}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:  # the first is saved at step 300
        time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    step = read_checkpoint(out / "checkpoint.pt")["step"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert 300 <= step < 3000 and metrics["steps_done"] == step and metrics["status"] == "interrupted"
    assert read_checkpoint(out / "checkpoint.pt")["history"]["step"][-1] == step
    assert f"Interrupted after step {step} of 3000: saved" in stdout and f"(step {step})" in stdout
    done = subprocess.run(command + ["--steps", "3200", "--resume"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "metrics.json").read_text())["steps_done"] == 3200
    before = (out / "metrics.json").read_bytes()
    again = subprocess.run(command + ["--resume"], capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "Nothing to do" in again.stdout and (out / "metrics.json").read_bytes() == before


def test_a_full_disk_stops_the_run_and_the_state_is_written_elsewhere(tmp_path, monkeypatch, capsys):
    import errno
    import tempfile

    out, rescue_dir = tmp_path / "run", tmp_path / "tmp"
    rescue_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(rescue_dir))
    real_save, saves = torch.save, []

    def save_fills_the_disk(obj, f):  # the second checkpoint of the run (step 8) meets a full disk
        saves.append(1)
        real_save(obj, f)
        if len(saves) == 2:
            f.truncate(f.tell() // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", save_fills_the_disk)
    args = ["train", "toy2d", "--width", "16", "--steps", "40", "--out", str(out), "--no-progress"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "could not write the checkpoint" in err and "No space left on device" in err
    assert read_checkpoint(out / "checkpoint.pt")["step"] == 4  # the previous checkpoint, intact
    rescued = list(rescue_dir.glob("ganlab-rescued-step8-*.pt"))
    assert len(rescued) == 1 and str(rescued[0]) in err and read_checkpoint(rescued[0])["step"] == 8
    # as the message says: copy it into a run folder and resume; the run ends as one that never stopped
    monkeypatch.setattr(torch, "save", real_save)
    (out / "checkpoint.pt").write_bytes(rescued[0].read_bytes())
    assert cli.main(args + ["--resume"]) == 0
    assert cli.main(args[:-3] + ["--out", str(tmp_path / "straight"), "--no-progress"]) == 0
    a, b = (read_checkpoint(folder / "checkpoint.pt") for folder in (out, tmp_path / "straight"))
    assert_identical(a["state"], b["state"], "state")


# --------------------------------------------------------------------------- chapter 06: srresnet and srgan
def ctrl_c_at_patch_batch(monkeypatch, n):
    """Press Ctrl-C while the n-th batch of training patches is drawn, inside step n."""
    from ganlab.superres import SRPatches

    return ctrl_c_at_call(monkeypatch, SRPatches, "sample", n)


def sr_recipe(recipe, tmp_path):
    """(config for a folder and a number of steps, train) of a tiny run of ``recipe``; srgan's starts from a
    2-step SRResNet run."""
    from ganlab.sr_train import train_srgan, train_srresnet
    from test_sr_train import tiny_srgan, tiny_srresnet

    if recipe == "srresnet":
        return lambda out, steps, **kw: tiny_srresnet(out, steps=steps, **kw), train_srresnet
    init = tmp_path / "init"
    train_srresnet(tiny_srresnet(init, steps=2), progress=False)
    return lambda out, steps, **kw: tiny_srgan(init, out, steps=steps, **kw), train_srgan


@pytest.mark.slow  # three tiny runs (four for srgan): about 5 s
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("recipe", ["srresnet", "srgan"])
def test_sr_recipes_stop_and_resume_bitwise_exact(recipe, tmp_path, monkeypatch, capsys):
    from test_sr_train import small_held_out

    small_held_out(monkeypatch)
    config, train = sr_recipe(recipe, tmp_path)
    n = 6
    straight = train(config(tmp_path / "straight", n), progress=False)
    undo = ctrl_c_at_patch_batch(monkeypatch, n // 2)
    stopped = train(config(tmp_path / "stopped", n), progress=False)
    undo()
    assert stopped["status"] == "interrupted" and stopped["steps_done"] == n // 2
    assert f"Interrupted after step {n // 2} of {n}" in capsys.readouterr().out
    assert read_checkpoint(tmp_path / "stopped" / "checkpoint.pt")["step"] == n // 2
    assert json.loads((tmp_path / "stopped" / "metrics.json").read_text())["steps_done"] == n // 2
    resumed = train(config(tmp_path / "stopped", n), resume=True, progress=False)
    assert resumed["status"] == "finished" and resumed["steps_done"] == n
    a, b = (read_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "stopped"))
    assert_identical(a["state"], b["state"], "state")  # G (and D), Adam's moments, the stream of crops
    assert_identical(a["rng"], b["rng"], "rng")
    assert a["history"] == b["history"] and a["step"] == b["step"] == n
    assert straight["psnr"] == resumed["psnr"] and straight["ssim"] == resumed["ssim"]


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("recipe", ["srresnet", pytest.param("srgan", marks=pytest.mark.slow)])  # srgan: about 5 s
def test_sr_recipes_train_on_to_a_larger_step_count_exactly(recipe, tmp_path, monkeypatch):
    """With a constant learning rate (lr_decay=0; the schedule is stretched over ``steps``), 3 steps then 3 more
    are 6 steps."""
    from test_sr_train import small_held_out

    small_held_out(monkeypatch)
    config, train = sr_recipe(recipe, tmp_path)
    train(config(tmp_path / "straight", 6, lr_decay=0.0), progress=False)
    train(config(tmp_path / "longer", 3, lr_decay=0.0), progress=False)
    train(config(tmp_path / "longer", 6, lr_decay=0.0), resume=True, progress=False)
    a, b = (read_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "longer"))
    assert_identical(a["state"], b["state"], "state")
    assert a["history"] == b["history"]

"""The shared training loop: how a run ends (last step, Ctrl-C, divergence, an exception), what
is on disk then, resume, and a checkpoint write that fails part-way."""

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

import ganlab
from ganlab import checkpoint as ckpt
from ganlab.loop import History, TrainingDiverged, run_steps


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """A process started in the background ignores SIGINT; these tests need Python's handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class Regression:
    """A family of one model and one loss, as a VAE or SRResNet brings: y = w x fitted by Adam."""

    def __init__(self, seed=0):
        torch.manual_seed(seed)
        self.net = nn.Linear(3, 1)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-2)
        self.data = torch.Generator().manual_seed(seed)
        self.w = torch.tensor([[1.0, -2.0, 0.5]])

    def step(self, step):
        x = torch.randn(16, 3, generator=self.data)
        loss = (self.net(x) - x @ self.w.T).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": loss.item()}

    def state(self):
        return {"net": self.net, "opt": self.opt, "data": self.data}

    def run(self, steps, **kwargs):
        return run_steps(self.step, steps=steps, state=self.state(), progress=False, **kwargs)


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_one_model_family_trains_and_resumes_exactly(tmp_path):
    straight = Regression()
    h1 = straight.run(20)
    assert h1["step"] == list(range(1, 21)) and h1["loss"][-1] < h1["loss"][0]
    first = Regression()
    first.run(10, checkpoint=tmp_path / "c.pt")
    resumed = Regression(seed=5)  # other weights and data stream: everything must come from the file
    h2 = resumed.run(20, checkpoint=tmp_path / "c.pt", resume=True)
    assert h2 == h1 and h2.start_step == 10 and same_weights(resumed.net, straight.net)
    assert resumed.opt.state_dict()["state"][0]["exp_avg"].equal(straight.opt.state_dict()["state"][0]["exp_avg"])


def test_ctrl_c_finishes_the_step_saves_it_and_everything_names_that_step(tmp_path, capsys):
    family = Regression()

    def press_ctrl_c(step, history):
        if step == 7:
            os.kill(os.getpid(), signal.SIGINT)  # a real signal, handled as the terminal's Ctrl-C is

    history = family.run(20, checkpoint=tmp_path / "c.pt", checkpoint_every=5, log_every=1, callback=press_ctrl_c)
    assert history.interrupted and history.last_step == 7
    saved = ckpt.read_checkpoint(tmp_path / "c.pt")
    assert saved["step"] == 7 and saved["history"]["step"] == list(range(1, 8))
    printed = capsys.readouterr()
    assert "Interrupted after step 7 of 20" in printed.out and "at step 7" in printed.out
    assert "stopping after this step" in printed.err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_ctrl_c_inside_a_step_waits_for_the_step_to_finish(tmp_path):
    family, calls = Regression(), []

    def step(step):
        if step == 4:
            os.kill(os.getpid(), signal.SIGINT)
        stats = family.step(step)
        calls.append(step)
        return stats

    history = run_steps(step, steps=10, state=family.state(), checkpoint=tmp_path / "c.pt", progress=False)
    assert calls == [1, 2, 3, 4] and history.last_step == 4 and ckpt.read_checkpoint(tmp_path / "c.pt")["step"] == 4


def test_a_second_ctrl_c_stops_at_once_and_saves_nothing(tmp_path, capsys):
    family = Regression()
    family.run(3, checkpoint=tmp_path / "c.pt")
    before = (tmp_path / "c.pt").read_bytes()

    def step(step):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return family.step(step)

    with pytest.raises(KeyboardInterrupt):
        run_steps(step, steps=10, state=family.state(), checkpoint=tmp_path / "c.pt", resume=True, progress=False)
    assert (tmp_path / "c.pt").read_bytes() == before
    assert "in the middle of step 4; nothing was saved" in capsys.readouterr().err


def test_ctrl_c_is_left_alone_where_it_is_ignored():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    Regression().run(2)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_divergence_names_the_step_and_the_checkpoint_it_left_alone(tmp_path):
    family = Regression()

    def step(step):
        stats = family.step(step)
        return {"loss": float("nan")} if step == 8 else stats

    with pytest.raises(TrainingDiverged, match=r"diverged at step 8: loss=nan.*holds step 5 and is unchanged") as info:
        run_steps(step, steps=10, state=family.state(), checkpoint=tmp_path / "c.pt", checkpoint_every=5,
                  progress=False)
    assert info.value.step == 8 and info.value.checkpoint_step == 5 and info.value.history.last_step == 7
    assert ckpt.read_checkpoint(tmp_path / "c.pt")["step"] == 5


def test_resume_past_the_end_changes_nothing(tmp_path, capsys):
    family = Regression()
    family.run(10, checkpoint=tmp_path / "c.pt")
    before, weights = (tmp_path / "c.pt").read_bytes(), [p.clone() for p in family.net.parameters()]
    for steps in (10, 6):
        history = Regression(seed=3).run(steps, checkpoint=tmp_path / "c.pt", resume=True)
        assert history.start_step == 10 and history.last_step == 10
        assert "Nothing to do" in capsys.readouterr().out
    assert (tmp_path / "c.pt").read_bytes() == before
    assert all(torch.equal(p, q) for p, q in zip(family.net.parameters(), weights))


def test_resume_refuses_another_runs_checkpoint(tmp_path):
    Regression().run(3, checkpoint=tmp_path / "c.pt", config={"recipe": "regression", "lr": 0.01})
    with pytest.raises(ckpt.CheckpointError, match=r"another run.*lr: 0.01 in the checkpoint, 0.1 now"):
        Regression().run(6, checkpoint=tmp_path / "c.pt", resume=True, config={"recipe": "regression", "lr": 0.1})
    with pytest.raises(ckpt.CheckpointError, match=r"saved by the recipe 'regression', not 'vae'"):
        Regression().run(6, checkpoint=tmp_path / "c.pt", resume=True, config={"recipe": "vae", "lr": 0.01})


def test_learning_rate_schedule_and_averages_are_the_loops():
    family = Regression()
    avg = ganlab.ema_of(family.net, decay=0.5)
    run_steps(family.step, steps=4, state=family.state(), lr_factor=lambda step: 1 / step,
              averages={"ema": (avg, family.net)}, progress=False)
    assert family.opt.param_groups[0]["lr"] == pytest.approx(1e-2 / 4)
    assert avg.n_averaged.item() == 4 and not same_weights(avg.module, family.net)


@pytest.mark.parametrize("bad, message", [(dict(steps=0), "steps must be a positive int"),
                                          (dict(steps=3, log_every=0), "log_every must be a positive int"),
                                          (dict(steps=3, checkpoint_every=-1), "checkpoint_every must be a non-neg")])
def test_bad_loop_settings(bad, message):
    with pytest.raises(ValueError, match=message):
        Regression().run(**bad)


# ---------------------------------------------------------------- faults while writing
def test_a_write_that_fails_part_way_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    family = Regression()
    family.run(5, checkpoint=tmp_path / "c.pt")
    before = (tmp_path / "c.pt").read_bytes()
    real_save = torch.save

    def disk_fills_up(obj, f):
        real_save(obj, f)
        f.truncate(f.tell() // 2)  # half of it reached the disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", disk_fills_up)
    with pytest.raises(ckpt.CheckpointWriteError, match="No space left on device.*unchanged.*err.save") as info:
        family.run(10, checkpoint=tmp_path / "c.pt", resume=True)
    monkeypatch.setattr(torch, "save", real_save)
    assert (tmp_path / "c.pt").read_bytes() == before and os.listdir(tmp_path) == ["c.pt"]
    assert ckpt.read_checkpoint(tmp_path / "c.pt")["step"] == 5
    # the state of step 10 was kept in the error: written elsewhere, it resumes as if nothing had happened
    info.value.save(tmp_path / "elsewhere" / "c.pt")
    assert ckpt.read_checkpoint(tmp_path / "elsewhere" / "c.pt")["step"] == 10
    straight, resumed = Regression(), Regression(seed=1)
    straight.run(15)
    resumed.run(15, checkpoint=tmp_path / "elsewhere" / "c.pt", resume=True)
    assert same_weights(straight.net, resumed.net)


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(ckpt.CheckpointWriteError, match=r"could not write the checkpoint .*a_file/run/c.pt"):
        Regression().run(2, checkpoint=tmp_path / "a_file" / "run" / "c.pt")


def test_a_process_killed_while_writing_leaves_the_previous_checkpoint_loadable(tmp_path):
    """A real crash: the child is killed with SIGKILL in the middle of writing its second checkpoint."""
    script = textwrap.dedent(f"""
        import sys, time, torch
        from torch import nn
        from ganlab import checkpoint as ckpt
        net = nn.Linear(512, 512)
        ckpt.save_checkpoint({str(tmp_path / 'c.pt')!r}, step=1, net=net)
        real_save = torch.save
        def slow_save(obj, f):
            real_save(obj, f)
            f.truncate(f.tell() // 3)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)  # killed here, a third of the file written
        torch.save = slow_save
        with torch.no_grad():
            net.weight.add_(1.0)
        ckpt.save_checkpoint({str(tmp_path / 'c.pt')!r}, step=2, net=net)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "c.pt"]
    assert len(leftovers) == 1 and leftovers[0].endswith(".tmp")  # the half-written file, never renamed
    net = nn.Linear(512, 512)
    assert ckpt.load_checkpoint(tmp_path / "c.pt", net=net)["step"] == 1


def test_truncated_and_corrupted_checkpoints_are_refused(tmp_path):
    family = Regression()
    family.run(3, checkpoint=tmp_path / "c.pt")
    data = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "c.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ckpt.CheckpointError, match="not a readable checkpoint.*truncated or corrupted"):
        Regression().run(6, checkpoint=tmp_path / "c.pt", resume=True)
    (tmp_path / "good.pt").write_bytes(data)
    good = ckpt.read_checkpoint(tmp_path / "good.pt")
    refused = 0
    for where in range(0, len(data), 97):  # one flipped byte anywhere: refused, or loaded with the right values
        flipped = bytearray(data)
        flipped[where] ^= 0x10
        (tmp_path / "c.pt").write_bytes(bytes(flipped))
        try:
            loaded = ckpt.read_checkpoint(tmp_path / "c.pt")
        except ckpt.CheckpointError as err:
            assert re.search("not a readable checkpoint|is corrupted|not a ganlab checkpoint", str(err)), err
            refused += 1
            continue
        # the byte was padding or a name the loader does not use: every value is intact
        assert loaded["step"] == good["step"] and loaded["history"] == good["history"]
        for name, state in good["state"]["net"].items():
            assert torch.equal(loaded["state"]["net"][name], state)
    assert refused > 0.5 * len(range(0, len(data), 97))


def test_a_checkpoint_without_what_the_run_needs_is_refused(tmp_path):
    ckpt.save_checkpoint(tmp_path / "c.pt", step=2, net=nn.Linear(3, 1))
    with pytest.raises(ckpt.CheckpointError, match="holds no opt, data: it was saved by a run without them"):
        Regression().run(6, checkpoint=tmp_path / "c.pt", resume=True)


def test_a_checkpoint_of_another_kind_of_optimiser_is_refused_before_anything_changes(tmp_path):
    net = nn.Linear(3, 1)
    ckpt.save_checkpoint(tmp_path / "c.pt", step=2, net=net, opt=torch.optim.Adam(net.parameters()))
    fresh = nn.Linear(3, 1)
    sgd = torch.optim.SGD(fresh.parameters(), lr=0.1)
    before = [p.detach().clone() for p in fresh.parameters()]
    # Adam's state loads into SGD without complaint and fails later, deep inside SGD.step(), with a KeyError
    with pytest.raises(ckpt.CheckpointError, match=r"another kind of optimiser than the SGD given.*\['betas'\]"):
        ckpt.load_checkpoint(tmp_path / "c.pt", net=fresh, opt=sgd)
    assert all(torch.equal(a, b) for a, b in zip(before, fresh.parameters())), "no network may change first"
    ckpt.load_checkpoint(tmp_path / "c.pt", net=fresh, opt=torch.optim.AdamW(fresh.parameters()))  # a kin of Adam


def test_history_last_step():
    h = History()
    assert h.last_step == 0
    h.append({"step": 3, "loss": 1.0})
    assert h.last_step == 3

"""The CycleGAN recipe: its run folder and scores, exact resume after Ctrl-C, load-or-train, the command line."""

import json
import os

import pytest
import torch

import ganlab.cyclegan_train
from ganlab import cli
from ganlab.checkpoint import CheckpointError, read_checkpoint
from ganlab.cyclegan_train import (CycleGANConfig, default_cyclegan, domains, evaluate_translation, heldout_domains,
                                   load_cyclegan, load_or_train_cyclegan, paper_cyclegan, train_cyclegan)
from test_resume import assert_identical, ctrl_c_at_call, python_sigint_handler  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(out, **overrides) -> CycleGANConfig:
    sizes = dict(width=4, blocks=1, d_width=4, steps=6, batch_size=4, pool=3, eval_images=40, threads=1)
    return default_cyclegan(**(sizes | overrides), out=str(out))


def test_a_run_writes_its_folder_and_scores_both_directions(tmp_path):
    r = train_cyclegan(tiny(tmp_path / "a", lambda_identity=0.5), progress=False)
    assert r["status"] == "finished" and r["steps_done"] == 6
    for name in ("translations.png", "losses.png", "metrics.json", "checkpoint.pt"):
        assert (tmp_path / "a" / name).is_file(), name
    for key in ("content_a2b", "content_b2a"):
        assert 0 <= r[key] <= 1
    assert r["cycle_a"] > 0 and r["fid_a"] > 0 and r["fid_b"] > 0
    history = read_checkpoint(tmp_path / "a" / "checkpoint.pt")["history"]
    assert {"g_adv_a", "g_adv_b", "cycle_a", "cycle_b", "identity_a", "identity_b", "d_a", "d_b"} <= set(history)


def test_the_learning_rate_is_constant_then_decays_linearly(tmp_path, monkeypatch):
    seen = []
    real = ganlab.cyclegan_train.d_loss

    def spy(*a):
        seen.append(opt_lr())
        return real(*a)

    opt_lr = lambda: None  # noqa: E731  (replaced once the optimiser exists)
    real_adam = torch.optim.Adam

    def adam(params, **kw):
        nonlocal opt_lr
        opt = real_adam(params, **kw)
        opt_lr = lambda: opt.param_groups[0]["lr"]  # noqa: E731
        return opt

    monkeypatch.setattr(ganlab.cyclegan_train.torch.optim, "Adam", adam)
    monkeypatch.setattr(ganlab.cyclegan_train, "d_loss", spy)
    train_cyclegan(tiny(tmp_path / "lr", steps=8, decay=0.5, lr=1e-3), progress=False)
    lrs = seen[::2]  # two D losses per step
    assert lrs == pytest.approx([1e-3] * 4 + [1e-3 * f for f in (4 / 5, 3 / 5, 2 / 5, 1 / 5)])


def test_without_identity_loss_it_is_neither_computed_nor_logged(tmp_path):
    assert default_cyclegan().lambda_identity == 0  # the recipe's default (see CycleGANConfig)
    train_cyclegan(tiny(tmp_path / "n"), progress=False)
    assert "identity_a" not in read_checkpoint(tmp_path / "n" / "checkpoint.pt")["history"]


def ctrl_c_at_step(monkeypatch, n):
    return ctrl_c_at_call(monkeypatch, ganlab.cyclegan_train, "cycle_loss", 2 * n - 1)  # two cycle losses a step


def test_stop_and_resume_is_bitwise_exact(tmp_path, monkeypatch, python_sigint_handler):  # noqa: F811
    straight = train_cyclegan(tiny(tmp_path / "straight"), progress=False)
    undo = ctrl_c_at_step(monkeypatch, 4)
    stopped = train_cyclegan(tiny(tmp_path / "stopped"), progress=False)
    undo()
    assert stopped["status"] == "interrupted" and stopped["steps_done"] == 4  # the step under way finishes
    resumed = train_cyclegan(tiny(tmp_path / "stopped"), resume=True, progress=False)
    assert resumed["status"] == "finished"
    a, b = (read_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "stopped"))
    assert_identical(a["state"], b["state"], "state")  # networks, optimisers, both pools and the batch generator
    assert a["history"] == b["history"]
    assert straight["fid_a"] == resumed["fid_a"] and straight["content_a2b"] == resumed["content_a2b"]


def test_load_or_train_trains_once_then_loads(tmp_path):
    config = tiny(tmp_path / "l")
    nets, metrics = load_or_train_cyclegan(config, progress=False)
    stamp = os.path.getmtime(tmp_path / "l" / "checkpoint.pt")
    again, metrics_again = load_or_train_cyclegan(config, progress=False)
    assert os.path.getmtime(tmp_path / "l" / "checkpoint.pt") == stamp and metrics_again == metrics
    assert set(again) == {"G", "F", "D_A", "D_B"} and not again["G"].training
    for p, q in zip(nets["F"].parameters(), again["F"].parameters()):
        assert torch.equal(p, q)
    assert evaluate_translation(again["G"], again["F"], 40)["content_a2b"] == metrics["content_a2b"]
    with pytest.raises(CheckpointError, match="no CycleGAN checkpoint"):
        load_cyclegan(tmp_path / "nowhere")


def test_the_domains_are_unpaired_digits_and_the_held_out_ones_are_new():
    A, B = domains()
    held = heldout_domains()
    assert A.shape == B.shape == (4000, 1, 28, 28)
    assert held["A"][0].shape == held["B"][0].shape == (1000, 1, 28, 28)
    assert not any(torch.equal(held["B"][0][i], B[i]) for i in range(50))


def test_the_papers_configuration():
    c = paper_cyclegan()
    assert (c.width, c.blocks, c.d_width, c.d_layers, c.batch_size, c.lr, c.beta1, c.pool, c.lambda_cycle) == \
        (64, 9, 64, 3, 1, 2e-4, 0.5, 50, 10.0)


def test_the_command_line_trains_a_cyclegan(tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["train", "cyclegan", "--steps", "3", "--blocks", "1", "--width", "4", "--lambda-identity", "0.25",
                     "--out", str(out), "--no-progress", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "handwritten -> typeset" in text and "content kept" in text
    saved = json.loads((out / "metrics.json").read_text())["config"]
    assert saved["blocks"] == 1 and saved["lambda_identity"] == 0.25


def photo_archive(tmp_path, name="horse2zebra", n=(3, 2)):
    """A small NAME.zip laid out as the authors' archives are: NAME/trainA, trainB, testA, testB."""
    import zipfile

    from PIL import Image

    path = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as z:
        for split in ("train", "test"):
            for side, count in zip("AB", n):
                for i in range(count):
                    local = tmp_path / f"{split}{side}{i}.png"
                    Image.new("RGB", (40, 30), (60 * i, 200 if side == "A" else 20, 90)).save(local)
                    z.write(local, f"{name}/{split}{side}/{i}.png")
    return path


def test_photo_domains_read_local_files_and_fetch_an_archive_only_where_allowed(tmp_path, monkeypatch):
    from ganlab.data import DownloadNotAllowed

    archive = photo_archive(tmp_path)
    root = tmp_path / "data"
    with pytest.raises(DownloadNotAllowed, match="GANLAB_DOWNLOAD=1"):
        ganlab.cyclegan_train.photo_domains("horse2zebra", root=root, download=False)
    monkeypatch.setattr(ganlab.cyclegan_train, "PHOTO_URL", archive.as_uri().replace("horse2zebra", "{name}"))
    a, b = ganlab.cyclegan_train.photo_domains("horse2zebra", size=16, root=root, download=True)
    assert a.shape == (3, 3, 16, 16) and b.shape == (2, 3, 16, 16)
    assert a.min() >= -1 and a.max() <= 1 and a[:, 1].mean() > b[:, 1].mean()  # A's images are the green ones
    assert not list(root.glob("**/*.zip"))  # the archive is unpacked, then removed
    monkeypatch.setattr(ganlab.cyclegan_train, "PHOTO_URL", "https://nowhere.invalid/{name}.zip")
    test_a, _ = ganlab.cyclegan_train.photo_domains("horse2zebra", "test", size=8, root=root, download=False, limit=2)
    assert test_a.shape == (2, 3, 8, 8)  # found locally: nothing fetched


def test_the_pictures_show_one_digit_of_each_class_from_both_domains():
    from ganlab.cyclegan_train import _first_of_each_class

    for images, labels in heldout_domains().values():  # blocks of a class (A), classes in turn (B)
        picked = _first_of_each_class(images, labels)
        assert picked.shape == (10, 1, 28, 28)
        rows = [int(((images == p).flatten(1).all(1)).nonzero()[0]) for p in picked]
        assert labels[rows].tolist() == list(range(10))


def test_a_small_evaluation_is_class_balanced_in_both_domains():
    from ganlab.cyclegan_train import _balanced

    for _, labels in heldout_domains().values():  # blocks of a class (A), classes in turn (B)
        for n in (10, 100, 250):
            counts = torch.bincount(labels[_balanced(labels, n)], minlength=10)
            assert counts.max() - counts.min() <= 1 and counts.sum() == n

"""The super-resolution recipes (ganlab.sr_train): configs, scoring, tiny SRResNet and SRGAN runs and their folders,
resuming, refusing what does not fit, and load-or-train.

Scoring a run on the whole held-out photographs costs seconds (SSIM in float64 on 512 x 512 and 400 x 600 px), so
most tests score 96 px crops of them instead (``held_out_crops``); one slow test scores a run on the whole images.
"""

import dataclasses
import json
import shutil
import time
from pathlib import Path

import pytest
import torch

from ganlab import sr_train, superres
from ganlab.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from ganlab.data import DownloadNotAllowed
from ganlab.env import seed_everything
from ganlab.srgan import FeatureExtractor, SRResNet
from ganlab.sr_train import (SRGANConfig, SRResNetConfig, content_network, default_srgan, default_srresnet,
                             evaluate_sr, load_or_train_srgan, load_or_train_srresnet, load_srresnet, paper_srgan,
                             paper_srresnet, save_crops, train_srgan, train_srresnet, worst_window)
from ganlab.superres import HELD_OUT, SCALE, SRImage, degrade, psnr_y, quantize, ssim_y, upscale_bicubic

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py

_CROPS = {}


def held_out_crops(scale=SCALE, names=HELD_OUT):
    """The held-out images as 96 px squares (rows and columns 128 to 224, on every scale's grid), degraded as
    ``held_out_images`` degrades the whole images: a run is scored in a fraction of a second."""
    key = (scale, tuple(names))
    if key not in _CROPS:
        crops = [(im.name, im.hr[:, 128:224, 128:224]) for im in superres.held_out_images(scale, names)]
        _CROPS[key] = [SRImage(name, hr, quantize(degrade(hr, scale))) for name, hr in crops]
    return _CROPS[key]


def small_held_out(monkeypatch):
    """The recipes (evaluate_sr, save_crops) score ``held_out_crops``."""
    monkeypatch.setattr(sr_train, "held_out_images", held_out_crops)


def tiny_srresnet(out, **overrides) -> SRResNetConfig:
    """8 channels, 1 block, 8 px LR patches, batches of 4, 6 steps: a run of about a second."""
    settings = dict(channels=8, blocks=1, steps=6, batch_size=4, lr_patch=8, threads=1, out=str(out))
    return default_srresnet(**(settings | overrides))


def tiny_srgan(init, out, **overrides) -> SRGANConfig:
    """4 steps from the SRResNet in ``init``, batches of 4 crops of 32 px, fast mode's narrow D."""
    settings = dict(init=str(init), steps=4, batch_size=4, lr_patch=8, threads=1, out=str(out))
    return default_srgan(**(settings | overrides))


@pytest.fixture(autouse=True)
def _score_crops(monkeypatch):
    small_held_out(monkeypatch)


@pytest.fixture(scope="module")
def srresnet_run(tmp_path_factory):
    """One finished tiny SRResNet run: (config, metrics). Tests copy its folder before changing anything."""
    config = tiny_srresnet(tmp_path_factory.mktemp("srresnet") / "run")
    with pytest.MonkeyPatch.context() as mp:
        small_held_out(mp)
        metrics = train_srresnet(config, progress=False)
    return config, metrics


@pytest.fixture(scope="module")
def srgan_run(srresnet_run, tmp_path_factory):
    """One finished tiny SRGAN run from ``srresnet_run``: (config, metrics)."""
    config = tiny_srgan(srresnet_run[0].out, tmp_path_factory.mktemp("srgan") / "run")
    with pytest.MonkeyPatch.context() as mp:
        small_held_out(mp)
        metrics = train_srgan(config, progress=False)
    return config, metrics


def copied(run, tmp_path, name="copy"):
    shutil.copytree(run.out, tmp_path / name)
    return tmp_path / name


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def parameters(G):
    return {k: v.detach().clone() for k, v in G.named_parameters()}


# --------------------------------------------------------------------------- configs
def test_defaults_fast_mode_and_the_papers_settings():
    full = SRResNetConfig()
    assert (full.scale, full.channels, full.blocks, full.steps, full.lr_patch, full.batch_size) == (4, 32, 6, 3000,
                                                                                                     16, 16)
    assert full.batch_norm and full.bicubic_skip and full.outer_kernel == 9
    fast = default_srresnet(seed=2)  # GANLAB_FAST=1 in the tests
    assert (fast.channels, fast.blocks, fast.steps, fast.seed) == (16, 2, 30, 2)
    paper = paper_srresnet()
    assert (paper.channels, paper.blocks, paper.lr_patch, paper.steps, paper.lr, paper.lr_decay) == (
        64, 16, 24, 1_000_000, 1e-4, 0.0)
    assert paper.batch_norm and not paper.bicubic_skip and paper.batch_size == 16
    G = paper.generator()
    assert sum(p.numel() for p in G.parameters()) == sum(p.numel() for p in SRResNet().parameters())  # the paper's
    assert not G.bicubic_skip
    gan = SRGANConfig()
    assert (gan.content, gan.adversarial_weight, gan.lr, gan.steps, gan.d_width, gan.d_dense, gan.d_stride_kernel) == (
        "random", 1e-3, 1e-4, 1000, 16, 128, 4)
    fast_gan = default_srgan()
    assert (fast_gan.steps, fast_gan.d_width, fast_gan.d_dense) == (20, 8, 32)
    paper_gan = paper_srgan()
    assert (paper_gan.content, paper_gan.d_width, paper_gan.d_dense, paper_gan.lr_patch, paper_gan.steps) == (
        "vgg19", 64, 1024, 24, 200_000)
    assert paper_gan.adversarial_weight == 1e-3 and paper_gan.lr == 1e-4 and paper_gan.d_stride_kernel == 3


def test_configs_refuse_bad_settings():
    with pytest.raises(ValueError, match="scale must be 2, 4 or 8"):
        SRResNetConfig(scale=6)
    with pytest.raises(ValueError, match="lr_decay"):
        SRResNetConfig(lr_decay=1.5)
    with pytest.raises(ValueError, match="unknown content loss 'vgg'"):
        SRGANConfig(content="vgg")
    with pytest.raises(ValueError, match="adversarial_weight must be non-negative"):
        SRGANConfig(adversarial_weight=-1e-3)
    with pytest.raises(TypeError, match="SRGANConfig has no field 'scale'"):
        default_srgan(scale=2)


def test_content_network_of_each_setting(tmp_path, monkeypatch):
    assert isinstance(content_network(SRGANConfig()), FeatureExtractor)
    assert content_network(SRGANConfig(content="pixel")) is None
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("GANLAB_DOWNLOAD", "0")
    with pytest.raises(DownloadNotAllowed, match="random_features"):
        content_network(SRGANConfig(content="vgg19"))


# --------------------------------------------------------------------------- scoring and pictures
def test_evaluate_sr_scores_each_whole_held_out_image(monkeypatch):
    monkeypatch.setattr(sr_train, "held_out_images", superres.held_out_images)  # the whole photograph, here
    scores = evaluate_sr(None, 4, names=("coffee",))
    (coffee,) = superres.held_out_images(4, ("coffee",))
    bicubic = upscale_bicubic(coffee.lr[None], 4)
    assert list(scores) == ["coffee"]
    assert scores["coffee"]["psnr"] == psnr_y(bicubic, coffee.hr[None]).item()
    assert scores["coffee"]["ssim"] == ssim_y(bicubic, coffee.hr[None]).item()
    assert 20 < scores["coffee"]["psnr"] < 40 and 0.5 < scores["coffee"]["ssim"] < 1


def test_evaluate_sr_of_a_model_uses_its_super_resolve():
    torch.manual_seed(0)
    G = SRResNet(4, channels=4, blocks=0, bicubic_skip=True)
    with torch.no_grad():
        G.tail.weight.zero_()
        G.tail.bias.zero_()  # G is bicubic exactly
    assert evaluate_sr(G) == evaluate_sr(None) and set(evaluate_sr(None)) == set(HELD_OUT)
    with torch.no_grad():
        G.tail.bias.fill_(0.2)  # every pixel a fifth too bright
    assert all(evaluate_sr(G)[k]["psnr"] < evaluate_sr(None)[k]["psnr"] - 3 for k in HELD_OUT)


def test_worst_window_finds_where_the_error_is():
    error = torch.zeros(60, 80)
    error[37, 51] = 1.0
    top, left = worst_window(error, 16)
    assert top <= 37 < top + 16 and left <= 51 < left + 16
    error[4:12, 60:68] = 0.5  # a larger error elsewhere wins; windows start every size // 4 = 2 px
    assert worst_window(error, 8) == (4, 60)
    with pytest.raises(ValueError, match="size"):
        worst_window(error, 61)


def test_worst_window_of_a_small_size():
    error = torch.zeros(10, 10)
    error[6, 7] = 1.0
    assert worst_window(error, 2) in {(5, 6), (5, 7), (6, 6), (6, 7)}


def test_save_crops_draws_a_column_per_model(tmp_path):
    from PIL import Image

    torch.manual_seed(0)
    G = SRResNet(4, channels=4, blocks=0)
    save_crops(tmp_path / "one.png", {"A": G})
    save_crops(tmp_path / "two.png", {"A": G, "B": G}, size=48)
    with Image.open(tmp_path / "one.png") as one, Image.open(tmp_path / "two.png") as two:
        assert two.width > one.width and one.height == two.height  # one more column; one row per held-out image


# --------------------------------------------------------------------------- SRResNet
def test_a_tiny_srresnet_run_writes_its_folder(srresnet_run):
    config, metrics = srresnet_run
    out = Path(config.out)
    assert {p.name for p in out.iterdir()} == {"crops.png", "losses.png", "metrics.json", "checkpoint.pt"}
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["status"] == "finished" and metrics["steps_done"] == 6
    for key in ("psnr", "ssim", "psnr_bicubic", "ssim_bicubic"):
        assert set(metrics[key]) == set(HELD_OUT)
    assert metrics["psnr_mean"] == pytest.approx(sum(metrics["psnr"].values()) / 2)
    assert metrics["ssim_bicubic_mean"] == pytest.approx(sum(metrics["ssim_bicubic"].values()) / 2)
    assert metrics["config"]["channels"] == 8 and metrics["threads"] == 1
    saved = read_checkpoint(out / "checkpoint.pt")
    assert saved["step"] == 6 and saved["config"]["recipe"] == "srresnet" and set(saved["state"]) == {"G", "opt",
                                                                                                     "crops"}
    assert saved["history"]["step"] == list(range(1, 7)) and len(saved["history"]["loss_pixel"]) == 6
    G = load_srresnet(config.out)
    assert isinstance(G, SRResNet) and not G.training and metrics["weights"] == sum(p.numel() for p in G.parameters())
    scores, bicubic = evaluate_sr(G), evaluate_sr(None)
    assert {k: v["psnr"] for k, v in scores.items()} == metrics["psnr"]  # the saved network is the scored one
    assert {k: v["ssim"] for k, v in bicubic.items()} == metrics["ssim_bicubic"]


def test_resuming_a_finished_run_at_its_steps_changes_nothing(srresnet_run, tmp_path, capsys):
    config, metrics = srresnet_run
    out = copied(config, tmp_path)
    before = files(out)
    again = train_srresnet(dataclasses.replace(config, out=str(out)), resume=True, progress=False)
    assert again["nothing_to_do"] and again["psnr"] == metrics["psnr"]
    assert "Nothing to do" in capsys.readouterr().out
    assert files(out) == before


def test_a_checkpoint_of_other_settings_is_refused(srresnet_run, tmp_path):
    config, _ = srresnet_run
    out = copied(config, tmp_path)
    before = files(out)
    for change in ({"channels": 16}, {"seed": 1}, {"bicubic_skip": False}):
        with pytest.raises(CheckpointError, match=f"belongs to another run.*{next(iter(change))}"):
            train_srresnet(tiny_srresnet(out, steps=8, **change), resume=True, progress=False)
    assert files(out) == before
    toy = tmp_path / "toy"
    save_checkpoint(toy / "checkpoint.pt", step=1, config={"recipe": "toy2d"}, G=torch.nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match="saved by the recipe 'toy2d', not 'srresnet'"):
        train_srresnet(tiny_srresnet(toy), resume=True, progress=False)
    with pytest.raises(CheckpointError, match="recipe 'toy2d', not an SR generator"):
        load_srresnet(toy)
    with pytest.raises(CheckpointError, match="no SRResNet checkpoint"):
        load_srresnet(tmp_path / "nowhere")


def test_the_last_step_of_a_run_moves_the_weights(tmp_path):
    config = tiny_srresnet(tmp_path / "one", steps=1)
    train_srresnet(config, progress=False)
    seed_everything(config.seed)
    initial = parameters(config.generator())  # as train_srresnet builds it
    trained = parameters(load_srresnet(config.out))
    assert any(not torch.equal(initial[k], trained[k]) for k in initial)


def test_load_or_train_srresnet_trains_once_continues_a_stopped_run_and_retrains_another(tmp_path, monkeypatch):
    calls, real = [], sr_train.train_srresnet
    monkeypatch.setattr(sr_train, "train_srresnet", lambda config, **kw: calls.append(kw["resume"]) or
                        real(config, **kw))
    config = tiny_srresnet(tmp_path / "run", steps=4)
    G, metrics = load_or_train_srresnet(config, progress=False)
    assert calls == [False] and metrics["status"] == "finished" and not G.training
    again, same = load_or_train_srresnet(tiny_srresnet(tmp_path / "run", steps=4, threads=2), progress=False)
    assert calls == [False] and same == metrics  # finished with these settings: loaded, not trained
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), again.state_dict().values()))
    load_or_train_srresnet(tiny_srresnet(tmp_path / "run", steps=6), progress=False)  # more steps: continued
    assert calls == [False, True] and read_checkpoint(tmp_path / "run" / "checkpoint.pt")["step"] == 6
    load_or_train_srresnet(tiny_srresnet(tmp_path / "run", steps=6, seed=1), progress=False)  # another run: afresh
    assert calls == [False, True, False] and read_checkpoint(tmp_path / "run" / "checkpoint.pt")["config"]["seed"] == 1


@pytest.mark.slow  # scores the run on the whole held-out photographs: about 10 s
def test_a_run_is_scored_on_the_whole_held_out_images(tmp_path, monkeypatch):
    monkeypatch.setattr(sr_train, "held_out_images", superres.held_out_images)
    config = tiny_srresnet(tmp_path / "run", steps=2)
    metrics = train_srresnet(config, progress=False)
    G = load_srresnet(config.out)
    for im in superres.held_out_images(4):
        assert metrics["psnr"][im.name] == psnr_y(G.super_resolve(im.lr[None]), im.hr[None]).item()
        assert metrics["psnr_bicubic"][im.name] == psnr_y(upscale_bicubic(im.lr[None]), im.hr[None]).item()
    assert (tmp_path / "run" / "crops.png").is_file()


# --------------------------------------------------------------------------- SRGAN
def test_srgan_needs_a_finished_srresnet_run(srresnet_run, srgan_run, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`ganlab train srresnet --out .*nowhere`"):
        train_srgan(tiny_srgan(tmp_path / "nowhere", tmp_path / "gan"), progress=False)
    unfinished = copied(srresnet_run[0], tmp_path, "unfinished")
    metrics = json.loads((unfinished / "metrics.json").read_text())
    (unfinished / "metrics.json").write_text(json.dumps(metrics | {"status": "interrupted"}))
    with pytest.raises(CheckpointError, match="has not finished.*--resume"):
        train_srgan(tiny_srgan(unfinished, tmp_path / "gan"), progress=False)
    (unfinished / "metrics.json").unlink()
    with pytest.raises(CheckpointError, match="has not finished"):
        train_srgan(tiny_srgan(unfinished, tmp_path / "gan"), progress=False)
    with pytest.raises(CheckpointError, match="not an SRResNet checkpoint.*'srgan'"):
        train_srgan(tiny_srgan(srgan_run[0].out, tmp_path / "gan"), progress=False)
    assert not (tmp_path / "gan" / "checkpoint.pt").exists()


def test_a_tiny_srgan_run_writes_its_folder(srresnet_run, srgan_run):
    config, metrics = srgan_run
    out = Path(config.out)
    assert {p.name for p in out.iterdir()} == {"crops.png", "losses.png", "metrics.json", "checkpoint.pt"}
    assert metrics["status"] == "finished" and metrics["steps_done"] == 4 and metrics["config"]["content"] == "random"
    assert {k: v["psnr"] for k, v in metrics["psnr_init"].items()} == srresnet_run[1]["psnr"]  # the SRResNet's
    saved = read_checkpoint(out / "checkpoint.pt")
    assert set(saved["state"]) == {"G", "D", "opt_g", "opt_d", "crops"}
    assert saved["config"]["recipe"] == "srgan" and saved["config"]["generator"]["channels"] == 8
    assert set(saved["history"]) == {"step", "loss_d", "loss_adversarial", "loss_content", "loss_pixel", "d_real",
                                     "d_fake"}
    G = load_srresnet(config.out)  # the SRGAN generator, by the SRResNet's architecture
    assert all(torch.equal(G.state_dict()[k], v) for k, v in saved["state"]["G"].items())
    assert {k: v["psnr"] for k, v in evaluate_sr(G).items()} == metrics["psnr"]


def test_srgan_starts_from_the_srresnets_weights(srresnet_run, tmp_path):
    config = tiny_srgan(srresnet_run[0].out, tmp_path / "gan", lr=1e-12, steps=2)  # Adam moves each weight ~1e-12
    train_srgan(config, progress=False)
    start, tuned = parameters(load_srresnet(srresnet_run[0].out)), parameters(load_srresnet(config.out))
    for k in start:
        assert torch.allclose(tuned[k], start[k], rtol=0, atol=1e-9), k
    torch.manual_seed(123)
    other = parameters(srresnet_run[0].generator())
    assert all((other[k] - start[k]).abs().max() > 1e-3 for k in start if k.endswith("conv.weight") or
               k.startswith(("head.0", "tail")))  # another network of the architecture is far from it


def test_srgan_on_the_pixel_loss_reports_it_as_the_content(srresnet_run, tmp_path):
    config = tiny_srgan(srresnet_run[0].out, tmp_path / "gan", content="pixel", steps=2)
    train_srgan(config, progress=False)
    history = read_checkpoint(tmp_path / "gan" / "checkpoint.pt")["history"]
    assert history["loss_content"] == history["loss_pixel"]


def test_load_or_train_srgan_trains_once_then_loads(srresnet_run, tmp_path, monkeypatch):
    calls, real = [], sr_train.train_srgan
    monkeypatch.setattr(sr_train, "train_srgan", lambda config, **kw: calls.append(kw["resume"]) or
                        real(config, **kw))
    config = tiny_srgan(srresnet_run[0].out, tmp_path / "gan", steps=2)
    G, metrics = load_or_train_srgan(config, progress=False)
    assert calls == [False] and metrics["status"] == "finished" and not G.training
    checkpoint = tmp_path / "gan" / "checkpoint.pt"
    stamp, before = checkpoint.stat().st_mtime_ns, files(tmp_path / "gan")
    time.sleep(0.01)
    again, same = load_or_train_srgan(config, progress=False)
    assert calls == [False] and same == metrics
    assert checkpoint.stat().st_mtime_ns == stamp and files(tmp_path / "gan") == before
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), again.state_dict().values()))


def test_load_or_train_srgan_continues_a_stopped_run(srresnet_run, tmp_path, monkeypatch):
    train_srgan(tiny_srgan(srresnet_run[0].out, tmp_path / "gan", steps=2), progress=False)  # stopped at 2 of 4
    calls, real = [], sr_train.train_srgan
    monkeypatch.setattr(sr_train, "train_srgan", lambda config, **kw: calls.append(kw["resume"]) or
                        real(config, **kw))
    _, metrics = load_or_train_srgan(tiny_srgan(srresnet_run[0].out, tmp_path / "gan", steps=4), progress=False)
    assert metrics["steps_done"] == 4
    assert calls == [True]

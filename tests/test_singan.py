"""SinGAN: the pyramid, the fully convolutional residual networks, one scale's losses against a hand
computation, a tiny two-scale run, exact resume between and within scales, sampling at other sizes,
injection, and the offline patch distance."""

import copy
import json
import os
import shutil
import signal

import pytest
import torch
import torch.nn.functional as F

from ganlab import singan_train
from ganlab.checkpoint import CheckpointError, read_checkpoint
from ganlab.singan import (PatchDiscriminator, ScaleGenerator, SinGAN, harmonize, image_pyramid, paint_to_image,
                           patch_fid, pyramid_sizes, receptive_field, reconstruct, resize, sample, width_at)
from ganlab.singan_train import (SinGANConfig, d_step, default_singan, g_step, load_or_train_singan, load_singan,
                                 noise_amplitude, paper_singan, train_singan)


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """A process started in the background ignores SIGINT; the Ctrl-C test needs Python's handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def tiny(out, **overrides) -> SinGANConfig:
    """Two scales (24 and 32 px of the brick texture), 8 channels, a few iterations: a run of seconds."""
    return SinGANConfig(**(dict(image="brick", max_size=32, min_size=24, width=8, max_width=8, iterations=3,
                                n_samples=2, threads=1, out=str(out)) | overrides))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished tiny run, shared by the sampling tests: (config, metrics, model)."""
    config = tiny(tmp_path_factory.mktemp("singan") / "run")
    metrics = train_singan(config, progress=False)
    return config, metrics, load_singan(config.out)


# --------------------------------------------------------------------------- networks and pyramid
def test_receptive_field_is_11_by_formula_and_by_gradient():
    assert receptive_field() == 11 == 3 + (3 - 1) * (5 - 1)  # official training.py's formula
    assert receptive_field(layers=2, kernel=5) == 9
    torch.manual_seed(0)
    D = PatchDiscriminator(3, width=4).eval()
    x = torch.randn(1, 3, 31, 31, requires_grad=True)
    D(x)[0, 0, 10, 10].backward()  # one patch score: which input pixels does it see?
    rows, cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1))).unbind(1)
    assert (rows.min().item(), rows.max().item(), cols.min().item(), cols.max().item()) == (10, 20, 10, 20)
    G = ScaleGenerator(3, width=4).eval()
    z = torch.randn(1, 1, 31, 31, requires_grad=True)
    G(z, torch.zeros(1, 3, 31, 31))[0, :, 15, 15].sum().backward()
    rows, cols = torch.nonzero(z.grad[0, 0]).unbind(1)
    assert rows.max() - rows.min() + 1 == 11 and cols.max() - cols.min() + 1 == 11


def test_pyramid_of_the_papers_setting():
    sizes, r = pyramid_sizes(167, 250)  # china.jpg (427 x 640) at max_size 250: 8 scales, as official code
    assert len(sizes) == 8 and sizes[-1] == (167, 250) and min(sizes[0]) == 25
    assert r == pytest.approx((25 / 167) ** (1 / 7)) and 0.75 <= r < 0.8
    for (h0, w0), (h1, w1) in zip(sizes, sizes[1:]):
        assert h0 / h1 == pytest.approx(r, abs=0.02) and w0 / w1 == pytest.approx(r, abs=0.02)
    assert pyramid_sizes(25, 40) == ([(25, 40)], 0.75)  # already at min_size: one scale
    assert pyramid_sizes(32, 32, min_size=24) == ([(24, 24), (32, 32)], 0.75)


def test_image_pyramid_shrinks_the_image_itself():
    image = torch.rand(3, 40, 60) * 2 - 1
    pyramid = image_pyramid(image, min_size=20)
    sizes, _ = pyramid_sizes(40, 60, min_size=20)
    assert [tuple(x.shape[-2:]) for x in pyramid] == sizes and all(x.shape[:2] == (1, 3) for x in pyramid)
    assert torch.equal(pyramid[-1][0], image)
    for x in pyramid:  # shrinking keeps each channel's mean colour
        assert torch.allclose(x.mean(dim=(0, 2, 3)), image.mean(dim=(1, 2)), atol=0.02)


@pytest.mark.parametrize("size", [(11, 11), (16, 40), (33, 20), (25, 38)])
def test_generator_and_discriminator_are_fully_convolutional(size):
    torch.manual_seed(0)
    G, D = ScaleGenerator(3, width=8), PatchDiscriminator(3, width=8)
    prev = torch.rand(2, 3, *size) * 2 - 1
    assert G(torch.randn(2, 1, *size), prev).shape == prev.shape  # grey noise at the coarsest scale
    assert G(torch.randn(2, 3, *size), prev).shape == prev.shape
    assert D(prev).shape == (2, 1, size[0] - 10, size[1] - 10)  # one score per 11 x 11 patch


def test_generator_is_residual():
    torch.manual_seed(0)
    G = ScaleGenerator(3, width=8)
    with torch.no_grad():
        G.last.weight.zero_()
        G.last.bias.zero_()
    prev, z = torch.rand(2, 3, 20, 30) * 2 - 1, torch.randn(2, 3, 20, 30)
    assert torch.equal(G(z, prev), prev)  # tanh(0) = 0: x~_n = up(x~_{n+1}) + 0
    G = ScaleGenerator(3, width=8).eval()
    G.sigma.fill_(0.0)  # sigma_n = 0: the noise has no effect
    assert torch.equal(G(z, prev), G(torch.zeros_like(z), prev))


def test_widths_double_every_four_scales_up_to_128():
    assert [width_at(i) for i in range(14)] == [32] * 4 + [64] * 4 + [128] * 6
    assert width_at(5, width=8, max_width=12) == 12
    G, D = ScaleGenerator(3, 32), PatchDiscriminator(3, 32)
    block = 32 * 32 * 9 + 32 + 2 * 32  # conv weights and bias, BatchNorm gain and bias
    first = 3 * 32 * 9 + 32 + 2 * 32
    assert sum(p.numel() for p in G.parameters()) == first + 3 * block + (32 * 3 * 9 + 3)
    assert sum(p.numel() for p in D.parameters()) == first + 3 * block + (32 * 9 + 1)


# --------------------------------------------------------------------------- one scale's training
def test_noise_amplitude_is_a_tenth_of_the_rmse():
    real = torch.full((1, 3, 10, 12), 0.5)
    upsampled = torch.zeros(1, 3, 10, 12)  # RMSE 0.5
    assert noise_amplitude(upsampled, real) == pytest.approx(0.05)
    assert noise_amplitude(upsampled, real, noise_amp=0.2) == pytest.approx(0.1)
    assert noise_amplitude(real, real) == 0.0


def test_one_scales_losses_match_a_hand_computation():
    torch.manual_seed(0)
    G, D = ScaleGenerator(3, width=4), PatchDiscriminator(3, width=4)
    G.sigma.fill_(0.3)
    real, prev = torch.rand(1, 3, 16, 18) * 2 - 1, torch.rand(1, 3, 16, 18) * 2 - 1
    z, prev_rec = torch.randn(1, 3, 16, 18), torch.rand(1, 3, 16, 18) * 2 - 1
    z_rec = torch.zeros(1, 1, 16, 18)
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    opt_d = torch.optim.Adam(D.parameters(), lr=5e-4, betas=(0.5, 0.999))
    torch.manual_seed(1)
    stats = d_step(G, D, opt_d, real, z, prev, gp_weight=0.1)

    with torch.no_grad():
        fake = G0(z, prev)
    torch.manual_seed(1)
    eps = torch.rand(1, 1, 1, 1)  # the same draw as d_step's
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D0(x_hat).sum(), x_hat)
    per_pixel = grad.pow(2).sum(dim=1).sqrt()  # (1, H, W): one norm per pixel, over the colours
    gp = 0.1 * ((per_pixel - 1) ** 2).mean()
    with torch.no_grad():
        d_real, d_fake = D0(real).mean(), D0(fake).mean()
    assert stats["gp"] == pytest.approx(gp.item(), rel=1e-5)
    assert stats["d_real"] == pytest.approx(d_real.item(), rel=1e-5)
    assert stats["d_fake"] == pytest.approx(d_fake.item(), rel=1e-5)
    assert stats["loss_d"] == pytest.approx((d_fake - d_real + gp).item(), rel=1e-5)
    assert not all(torch.equal(a, b) for a, b in zip(D.parameters(), D0.parameters()))  # D moved, G did not
    assert all(torch.equal(a, b) for a, b in zip(G.parameters(), G0.parameters()))

    D1 = copy.deepcopy(D)
    opt_g = torch.optim.Adam(G.parameters(), lr=5e-4, betas=(0.5, 0.999))
    stats = g_step(G, D, opt_g, real, z, prev, z_rec, prev_rec, alpha=10.0)
    with torch.no_grad():
        adversarial = -D1(G0(z, prev)).mean()
        reconstruction = 10.0 * ((G0(z_rec, prev_rec) - real) ** 2).mean()  # alpha ||G(0, up(x~rec)) - x||^2 / pixels
    assert stats["loss_g"] == pytest.approx(adversarial.item(), rel=1e-5)
    assert stats["loss_rec"] == pytest.approx(reconstruction.item(), rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(D.parameters(), D1.parameters()))  # G's step leaves D alone


# --------------------------------------------------------------------------- the recipe
def test_defaults_paper_settings_and_fast_mode():
    paper = paper_singan()
    assert (paper.max_size, paper.iterations, paper.min_size, paper.scale_factor) == (250, 2000, 25, 0.75)
    assert (paper.lr_g, paper.lr_d, paper.beta1, paper.beta2, paper.d_steps, paper.g_steps) == (
        5e-4, 5e-4, 0.5, 0.999, 3, 3)
    assert (paper.gp_weight, paper.alpha, paper.noise_amp, paper.lr_gamma, paper.width, paper.max_width) == (
        0.1, 10.0, 0.1, 0.1, 32, 128)
    assert round(paper.lr_drop_at * paper.iterations) == 1600
    fast = default_singan(seed=3)  # GANLAB_FAST=1 in the tests
    assert (fast.max_size, fast.iterations, fast.seed) == (40, 5, 3)
    assert SinGANConfig().max_size == 80 and SinGANConfig().iterations == 400


def test_a_tiny_two_scale_run_writes_its_folder(trained):
    config, metrics, model = trained
    assert metrics["status"] == "finished" and metrics["scales"] == 2 and metrics["sizes"] == [[24, 24], [32, 32]]
    with open(os.path.join(config.out, "metrics.json")) as f:
        assert json.load(f) == metrics
    for name in ("samples.png", "samples_wide.png", "reconstruction.png", "metrics.json"):
        assert os.path.isfile(os.path.join(config.out, name))
    for scale in (0, 1):
        for name in ("checkpoint.pt", "reconstruction.png", "samples.png", "metrics.json"):
            assert os.path.isfile(os.path.join(config.out, f"scale{scale}", name))
        assert read_checkpoint(os.path.join(config.out, f"scale{scale}", "checkpoint.pt"))["step"] == 3
    assert metrics["sigmas"][0] == 1.0 and int(model.n_trained) == 2
    # sigma_1 = 0.1 RMSE(up(x~rec_0), x_1), from the coarsest scale's reconstruction
    real = image_pyramid(singan_train.natural_image("brick", 32), min_size=24)
    upsampled = resize(reconstruct(model, 0), (32, 32))
    assert model.generators[1].sigma.item() == pytest.approx(0.1 * F.mse_loss(upsampled, real[1]).sqrt().item(),
                                                             rel=1e-5)
    assert metrics["sigmas"][1] == pytest.approx(model.generators[1].sigma.item())
    assert metrics["patch_fid_samples"] >= 0 and metrics["patch_fid_reconstruction"] >= 0


def test_resuming_a_finished_run_changes_nothing(trained, capsys):
    config, metrics, _ = trained
    again = train_singan(config, resume=True, progress=False)
    assert again["nothing_to_do"] and again["sizes"] == metrics["sizes"]


def assert_same_checkpoints(a, b):
    for scale in (0, 1):
        pa, pb = (read_checkpoint(os.path.join(out, f"scale{scale}", "checkpoint.pt")) for out in (a, b))
        assert pa["step"] == pb["step"] and pa["history"] == pb["history"]
        for name in pa["state"]["model"]:
            assert torch.equal(pa["state"]["model"][name], pb["state"]["model"][name]), f"scale {scale}: {name}"
        for name in pa["state"]["D"]:
            assert torch.equal(pa["state"]["D"][name], pb["state"]["D"][name]), f"scale {scale}: D {name}"
        assert torch.equal(pa["rng"]["torch"], pb["rng"]["torch"])


def test_resume_between_scales_gives_the_weights_of_a_straight_run(tmp_path):
    straight = train_singan(tiny(tmp_path / "straight"), progress=False)
    shutil.copytree(tmp_path / "straight", tmp_path / "stopped")
    shutil.rmtree(tmp_path / "stopped" / "scale1")  # as if the run had stopped after scale 0
    os.remove(tmp_path / "stopped" / "metrics.json")
    resumed = train_singan(tiny(tmp_path / "stopped"), resume=True, progress=False)
    assert_same_checkpoints(tmp_path / "straight", tmp_path / "stopped")
    assert resumed["sigmas"] == straight["sigmas"] and resumed["patch_fid_samples"] == straight["patch_fid_samples"]


def test_load_or_train_loads_a_finished_run_continues_a_stopped_one_and_retrains_another(tmp_path, monkeypatch):
    straight = train_singan(tiny(tmp_path / "straight"), progress=False)
    shutil.copytree(tmp_path / "straight", tmp_path / "stopped")
    shutil.rmtree(tmp_path / "stopped" / "scale1")  # stopped after scale 0
    os.remove(tmp_path / "stopped" / "metrics.json")
    calls = []
    real_train = singan_train.train_singan
    monkeypatch.setattr(singan_train, "train_singan", lambda config, **kw: calls.append(kw["resume"]) or
                        real_train(config, **kw))
    model, metrics = load_or_train_singan(tiny(tmp_path / "stopped"), progress=False)
    assert calls == [True] and metrics["sigmas"] == straight["sigmas"]
    assert_same_checkpoints(tmp_path / "straight", tmp_path / "stopped")
    again, same = load_or_train_singan(tiny(tmp_path / "stopped", threads=2), progress=False)  # finished: loaded
    assert calls == [True] and same == metrics and again.n_scales == model.n_scales == 2
    load_or_train_singan(tiny(tmp_path / "stopped", seed=1), progress=False)  # another run: trained afresh
    assert calls == [True, False] and read_checkpoint(tmp_path / "stopped" / "scale1" / "checkpoint.pt")["config"]["seed"] == 1


def test_ctrl_c_within_a_scale_and_resume_give_the_weights_of_a_straight_run(tmp_path, monkeypatch):
    config = tiny(tmp_path / "straight", iterations=4, d_steps=1, g_steps=1)
    train_singan(config, progress=False)
    real, calls = singan_train.g_step, []

    def g_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:  # the second iteration of scale 1
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(singan_train, "g_step", g_step)
    stopped = singan_train.dataclasses.replace(config, out=str(tmp_path / "stopped"))
    result = train_singan(stopped, progress=False)
    assert result["status"] == "interrupted" and result["scale"] == 1 and result["steps_done"] == 2
    assert read_checkpoint(tmp_path / "stopped" / "scale1" / "checkpoint.pt")["step"] == 2
    monkeypatch.setattr(singan_train, "g_step", real)
    assert train_singan(stopped, resume=True, progress=False)["status"] == "finished"
    assert_same_checkpoints(tmp_path / "straight", tmp_path / "stopped")
    with pytest.raises(CheckpointError, match="belongs to another run"):
        train_singan(singan_train.dataclasses.replace(stopped, alpha=5.0), resume=True, progress=False)


# --------------------------------------------------------------------------- sampling and injection
def test_samples_at_the_training_size_and_at_other_sizes(trained):
    _, _, model = trained
    g = torch.Generator().manual_seed(0)
    x = sample(model, 3, generator=g)
    assert x.shape == (3, 3, 32, 32) and not torch.equal(x[0], x[1])
    assert torch.equal(sample(model, 3, generator=torch.Generator().manual_seed(0)), x)  # seeded
    assert sample(model, 2, size=(24, 48)).shape == (2, 3, 32, 64)  # a wider coarsest noise map: a wider image
    assert sample(model, 1, size=(36, 18)).shape == (1, 3, 48, 24)  # taller
    assert sample(model, 2, end_scale=0).shape == (2, 3, 24, 24)
    rec = reconstruct(model)
    assert rec.shape == (1, 3, 32, 32) and torch.equal(rec, reconstruct(model))  # {z*, 0, ...}: no randomness
    late = sample(model, 4, start_scale=1, generator=g)  # the layout of the reconstruction, new fine detail
    early = sample(model, 4, generator=g)
    assert (late - rec).pow(2).mean() < (early - rec).pow(2).mean()


def test_injection_paint_to_image_and_harmonisation(trained):
    _, _, model = trained
    paint = torch.zeros(3, 20, 20)
    paint[:, :, 10:] = 0.8  # two flat colours, at another size than the image
    out = paint_to_image(model, paint, start_scale=1, n=2, generator=torch.Generator().manual_seed(1))
    assert out.shape == (2, 3, 32, 32)
    assert torch.equal(out, paint_to_image(model, paint, n=2, generator=torch.Generator().manual_seed(1)))
    image = torch.rand(3, 32, 32) * 2 - 1
    assert torch.allclose(harmonize(model, image, torch.zeros(32, 32))[0], image, atol=1e-6)  # nothing to redraw
    inside = harmonize(model, image, torch.ones(32, 32), generator=torch.Generator().manual_seed(2))
    redrawn = sample(model, 1, start_scale=1, start_image=image, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(inside, redrawn)


# --------------------------------------------------------------------------- the patch distance
def texture(size=48, seed=0):
    """A smooth random colour texture in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    return resize(torch.rand(1, 3, size // 4, size // 4, generator=g) * 2 - 1, (size, size))[0].clamp(-1, 1)


def test_patch_fid_is_zero_for_the_same_image_small_for_a_shift_and_large_for_noise():
    big = texture(64)
    real, shifted = big[:, :48, :48], big[:, 5:53, 3:51]
    noise = torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(1)) * 2 - 1
    same = patch_fid(real, real.clone())
    near = patch_fid(real, shifted)
    far = patch_fid(real, noise)
    assert same < 1e-6
    assert near < 0.1 * far and far > 10
    assert patch_fid(real, texture(48, seed=5)) > near  # another texture of the same kind
    assert patch_fid(real, big[None], patch_size=5) >= 0  # another size, a batch, another patch size
    assert patch_fid(real, (real + 0.3).clamp(-1, 1)) > near  # a colour shift costs


# --------------------------------------------------------------------------- bad input
def untrained():
    return SinGAN([(24, 24), (32, 32)], width=8, max_width=8)


IMAGE = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1

# (call on the trained model, error, words the message contains)
BAD_INPUTS = [
    (lambda model: receptive_field(layers=0), ValueError, "layers must be a positive integer"),
    (lambda model: width_at(-1), ValueError, "scale must be a non-negative integer"),
    (lambda model: pyramid_sizes(20, 30), ValueError, "shorter side must be at least min_size=25"),
    (lambda model: pyramid_sizes(100, 100, scale_factor=1.0), ValueError, "scale_factor must lie in (0, 1)"),
    (lambda model: pyramid_sizes(100, 100, min_size=5), ValueError, "min_size must be an integer >= 11"),
    (lambda model: pyramid_sizes(100.0, 100), TypeError, "height must be a positive integer"),
    (lambda model: image_pyramid(IMAGE * 255), ValueError, "should lie in [-1, 1]"),
    (lambda model: image_pyramid(IMAGE.numpy()), TypeError, "image must be a torch.Tensor"),
    (lambda model: ScaleGenerator()(torch.randn(1, 2, 20, 20), torch.zeros(1, 3, 20, 20)), ValueError,
     "z should have shape (1, 1 or 3, 20, 20)"),
    (lambda model: ScaleGenerator()(torch.randn(1, 1, 20, 20), torch.zeros(1, 1, 20, 20)), ValueError,
     "prev should have shape (N, 3, H, W)"),
    (lambda model: PatchDiscriminator()(torch.zeros(1, 3, 10, 30)), ValueError, "at least 11 x 11 pixels"),
    (lambda model: SinGAN([]), TypeError, "sizes must be a non-empty list"),
    (lambda model: SinGAN([(24, 0)]), ValueError, "sizes[0][1] (width) must be a positive integer"),
    (lambda model: sample(untrained()), ValueError, "no trained scale"),
    (lambda model: sample("model"), TypeError, "model must be a SinGAN"),
    (lambda model: sample(model, 0), ValueError, "n must be a positive integer"),
    (lambda model: sample(model, 1, start_scale=2), ValueError, "start_scale must be an integer from 0 to 1"),
    (lambda model: sample(model, 1, end_scale=-1), ValueError, "end_scale must be an integer from 0 to 1"),
    (lambda model: sample(model, 1, start_scale=1, end_scale=0), ValueError, "start_scale must be at most end_scale"),
    (lambda model: sample(model, 1, size=(0, 5)), ValueError, "size[0] (height) must be a positive integer"),
    (lambda model: sample(model, 1, size=24), TypeError, "size must be a pair (height, width)"),
    (lambda model: sample(model, 1, size=(20, 30), start_scale=1), ValueError, "only at the training size"),
    (lambda model: sample(model, 1, start_image=IMAGE), ValueError, "0 would start from noise alone"),
    (lambda model: sample(model, 3, start_scale=1, start_image=torch.zeros(2, 3, 9, 9)), ValueError,
     "start_image should hold 1 or n=3 images"),
    (lambda model: sample(model, 1, generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda model: paint_to_image(model, IMAGE[:1], start_scale=1), ValueError, "paint should have shape (3, H, W)"),
    (lambda model: paint_to_image(model, IMAGE, start_scale=0), ValueError,
     "start_scale must be an integer from 1 to 1"),
    (lambda model: paint_to_image(untrained(), IMAGE), ValueError, "at least 2 trained scales"),
    (lambda model: ScaleGenerator()(torch.randn(1, 1, 20, 20).double(), torch.zeros(1, 3, 20, 20).double()),
     TypeError, "should have dtype torch.float32"),
    (lambda model: PatchDiscriminator()(torch.zeros(1, 3, 20, 20, dtype=torch.long)), TypeError,
     "x should have dtype torch.float32"),
    (lambda model: d_step(model.generators[1], "D", None, torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32),
                          torch.zeros(1, 3, 32, 32)), TypeError, "D must be the critic of this scale"),
    (lambda model: d_step(model.generators[1], PatchDiscriminator(3, 8), torch.optim.Adam(model.parameters()),
                          torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 24, 24)), ValueError,
     "prev should have shape (1, 3, 32, 32)"),
    (lambda model: g_step(model.generators[1], PatchDiscriminator(3, 8), torch.optim.Adam(model.parameters()),
                          torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32),
                          torch.zeros(1, 1, 32, 32), torch.zeros(1, 3, 32, 32), alpha=-1.0), ValueError,
     "alpha must be non-negative"),
    (lambda model: singan_train.patch_gradient_penalty(PatchDiscriminator(3, 8), torch.zeros(1, 3, 16, 16),
                                                      torch.zeros(1, 3, 16, 20)), ValueError,
     "fake should have shape (1, 3, 16, 16)"),
    (lambda model: singan_train.scale_step(model, 2, PatchDiscriminator(3, 8), None, None, None, None, None, None),
     ValueError, "scale must be an integer from 0 to 1"),
    (lambda model: singan_train.scale_step(model, 1, PatchDiscriminator(3, 8), torch.optim.Adam(model.parameters()),
                                           torch.optim.Adam(model.parameters()), torch.zeros(1, 3, 24, 24),
                                           torch.zeros(1, 3, 24, 24), torch.Generator(), SinGANConfig()),
     ValueError, "real should have shape (1, 3, 32, 32)"),
    (lambda model: harmonize(model, IMAGE, torch.full((32, 32), 2.0)), ValueError, "mask should lie in [0, 1]"),
    (lambda model: harmonize(model, IMAGE, torch.ones(16, 16)), ValueError, "mask should have shape (32, 32)"),
    (lambda model: patch_fid(IMAGE, IMAGE[:2]), ValueError, "same number of channels"),
    (lambda model: patch_fid(IMAGE, IMAGE[:, :5, :5]), ValueError, "fake should be at least patch_size=7 px"),
    (lambda model: patch_fid(IMAGE, IMAGE, patch_size=0), ValueError, "patch_size must be a positive integer"),
    (lambda model: patch_fid(IMAGE.numpy(), IMAGE), TypeError, "real must be a torch.Tensor"),
    (lambda model: noise_amplitude(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 9, 8)), ValueError,
     "real should have shape (1, 3, 8, 8)"),
    (lambda model: noise_amplitude(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), -1), ValueError,
     "noise_amp must be non-negative"),
    (lambda model: SinGANConfig(image="lena"), ValueError, "unknown natural image 'lena'"),
    (lambda model: SinGANConfig(min_size=5), ValueError, "min_size must be an integer >= 11"),
    (lambda model: SinGANConfig(max_size=20), ValueError, "max_size must be at least min_size=25"),
    (lambda model: SinGANConfig(iterations=0), ValueError, "iterations must be a positive integer"),
    (lambda model: SinGANConfig(lr_drop_at=1.5), ValueError, "lr_drop_at must lie in [0, 1]"),
    (lambda model: SinGANConfig(scale_factor=0.0), ValueError, "scale_factor must lie in (0, 1)"),
    (lambda model: SinGANConfig(out=3), TypeError, "out must be a folder name"),
    (lambda model: default_singan(bogus=1), TypeError, "SinGANConfig has no field 'bogus'"),
    (lambda model: train_singan("config"), TypeError, "config must be a SinGANConfig"),
    (lambda model: train_singan(SinGANConfig(), resume="yes"), TypeError, "resume must be True or False"),
    (lambda model: load_singan(3), TypeError, "out must be a run folder"),
]


@pytest.mark.parametrize("call, error, words", BAD_INPUTS, ids=[words for _, _, words in BAD_INPUTS])
def test_bad_input_is_refused_with_a_clear_message(trained, call, error, words):
    with pytest.raises(error) as info:
        call(trained[2])
    assert words in str(info.value), f"{words!r} not in {info.value}"


def test_loading_a_folder_without_a_run_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="no SinGAN checkpoint"):
        load_singan(tmp_path)

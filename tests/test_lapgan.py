import dataclasses
import json
import math
import signal
from pathlib import Path

import pytest
import torch

from ganlab import lapgan_train
from ganlab.checkpoint import CheckpointError, read_checkpoint
from ganlab.image_recipes import training_digits
from ganlab.lapgan import (SIZES, CoarseDiscriminator, CoarseGenerator, ResidualDiscriminator, ResidualGenerator,
                           real_pairs, refine, sample)
from ganlab.lapgan_train import (LAPGANConfig, build_levels, default_lapgan, generate_digits, load_or_train_lapgan,
                                 train_lapgan)
from ganlab.pyramids import gaussian_pyramid, reconstruct, upsample
from checking import assert_same_state

pytestmark = pytest.mark.usefixtures("one_thread")

SCORES = {"fid", "kid", "kid_std", "precision", "recall", "classes_covered", "label_kl", "confident_fraction"}


def tiny(tmp_path, name="run", **overrides) -> LAPGANConfig:
    """A run of seconds: 3 steps at 8 px and 2 at each level above, players 4 channels or 8 units wide, 8 scored
    samples."""
    settings = dict(steps=(3, 2, 2), batch_size=8, width=4, coarse_width=8, coarse_d_width=4, latent_dim=4,
                    eval_samples=8, out=str(tmp_path / name))
    return default_lapgan(**(settings | overrides))


def tiny_levels(seed: int = 0) -> list[torch.nn.Module]:
    torch.manual_seed(seed)
    return [CoarseGenerator(latent_dim=4, channels=1, width=8), ResidualGenerator(16, 1, width=4),
            ResidualGenerator(32, 1, width=4)]


def level_state(config: LAPGANConfig, level: int) -> dict:
    return read_checkpoint(f"{config.out}/checkpoint_level{level}.pt")["state"]


def assert_same_run_state(a: dict, b: dict) -> None:
    assert_same_state(a, b)
    assert torch.equal(a["batches"], b["batches"])


def assert_same_run(a: LAPGANConfig, b: LAPGANConfig) -> None:
    for level in range(len(SIZES)):
        assert_same_run_state(level_state(a, level), level_state(b, level))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """One run through all three levels, the reference for the resume tests."""
    config = tiny(tmp_path_factory.mktemp("lapgan"), "whole")
    return config, train_lapgan(config, progress=False)


# --------------------------------------------------------------------------- the levels
def test_each_level_has_the_shapes_of_its_resolution():
    z = torch.randn(5, 4)
    G0, D0 = CoarseGenerator(latent_dim=4, channels=1, width=8), CoarseDiscriminator(channels=1, width=8)
    x0 = G0(z)
    assert x0.shape == (5, 1, 8, 8) and x0.abs().max() <= 1 and D0(x0).shape == (5,)
    for size in SIZES[1:]:
        G, D = ResidualGenerator(size, 1, width=4), ResidualDiscriminator(size, 1, width=4)
        z, l = G.noise(5), torch.rand(5, 1, size, size) * 2 - 1
        assert z.shape == (5, 1, size, size)  # the noise is a map, one more colour plane of l
        h = G(z, l)
        assert h.shape == (5, 1, size, size) and D(h, l).shape == (5,)
    assert G0.noise(3).shape == (3, 4)
    rgb = ResidualGenerator(16, channels=3, width=4)  # the paper's CIFAR-10 setting: RGB plus a noise plane
    assert rgb.net[0].in_channels == 4 and rgb(rgb.noise(2), torch.zeros(2, 3, 16, 16)).shape == (2, 3, 16, 16)


def count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_the_conditional_players_default_to_the_official_cifar10_models():
    # train_cifar_coarse_to_fine.lua, 32 px: G convolves 3 + 1 planes to 128 (7 x 7), 128 to 128 (7 x 7), 128 to 3
    # (5 x 5); D convolves to 128 (5 x 5), 128 to 128 (5 x 5, stride 2), then a linear layer on 128 x 12 x 12
    assert count(ResidualGenerator()) == (4 * 128 * 49 + 128) + (128 * 128 * 49 + 128) + (128 * 3 * 25 + 3)
    official_d = (3 * 128 * 25 + 128) + (128 * 128 * 25 + 128) + (128 * 12 * 12 + 1)
    assert count(ResidualDiscriminator()) == official_d + 3 * 128 * 25  # and the weights that read l apart from h
    assert ResidualDiscriminator()(torch.zeros(2, 3, 32, 32), torch.zeros(2, 3, 32, 32)).shape == (2,)


def test_the_coarsest_discriminator_sees_how_much_its_batch_varies():
    torch.manual_seed(0)
    x, others = torch.rand(4, 1, 8, 8) * 2 - 1, torch.rand(4, 1, 8, 8) * 2 - 1
    batch = torch.cat([x[:1], others[1:]])  # the same first image among other companions
    D = CoarseDiscriminator(channels=1, width=4)
    assert not torch.allclose(D(x)[0], D(batch)[0])  # the minibatch standard deviation map
    plain = CoarseDiscriminator(channels=1, width=4, minibatch_std=False)
    torch.testing.assert_close(plain(x)[0], plain(batch)[0])


def test_the_image_at_a_level_is_its_low_pass_image_plus_the_generated_detail():
    torch.manual_seed(0)
    G, coarse, z = ResidualGenerator(16, 1, width=4), torch.rand(3, 1, 8, 8) * 2 - 1, torch.randn(3, 1, 16, 16)
    l = upsample(coarse, (16, 16))
    torch.testing.assert_close(refine(G, coarse, z), l + G(z, l), rtol=0, atol=0)
    with torch.no_grad():  # a generator that draws no detail leaves the expanded coarse image
        G.net[-1].weight.zero_()
        G.net[-1].bias.zero_()
    assert torch.equal(refine(G, coarse, z), l)


def test_real_pairs_are_the_laplacian_pyramid_and_reconstruct_the_digit():
    x = training_digits(image_size=32)[:16]  # (16, 1, 32, 32)
    pairs = real_pairs(x)
    assert [h.shape[-1] for h, _ in pairs] == list(SIZES) and all(h.shape == l.shape for h, l in pairs)
    gauss = gaussian_pyramid(x, 3)[::-1]  # coarse first
    assert torch.equal(pairs[0][0], gauss[0]) and torch.equal(pairs[0][1], torch.zeros(16, 1, 8, 8))  # l_0 = 0
    for i in (1, 2):
        h, l = pairs[i]
        torch.testing.assert_close(l, upsample(gauss[i - 1], (SIZES[i], SIZES[i])), rtol=0, atol=0)  # l_i = u(g_{i-1})
        torch.testing.assert_close(h + l, gauss[i], rtol=0, atol=1e-6)  # the image at level i is l_i + h_i
        assert h.abs().max() > 0.1  # a real detail, not zero
    torch.testing.assert_close(reconstruct([h for h, _ in pairs][::-1]), x, rtol=0, atol=1e-6)


def test_both_players_of_a_conditional_level_read_the_low_pass_image():
    torch.manual_seed(0)
    G, D = ResidualGenerator(16, 1, width=4), ResidualDiscriminator(16, 1, width=4)
    z, h = G.noise(4), torch.randn(4, 1, 16, 16)
    l, other = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(4, 1, 16, 16) * 2 - 1
    assert not torch.allclose(G(z, l), G(z, other))
    assert not torch.allclose(D(h, l), D(h, other))
    assert not torch.allclose(D(h, l), D(torch.randn(4, 1, 16, 16), l))


# --------------------------------------------------------------------------- sampling
def test_sampling_chains_the_levels_coarse_to_fine():
    levels = tiny_levels()
    x = sample(levels, 6, torch.Generator().manual_seed(3))
    assert x.shape == (6, 1, 32, 32) and torch.isfinite(x).all() and x.abs().max() <= 1 and x.std() > 0
    g = torch.Generator().manual_seed(3)  # by hand: each level's noise drawn in turn from the same stream
    with torch.no_grad():
        x0 = levels[0](levels[0].noise(6, g))
        x1 = refine(levels[1], x0, levels[1].noise(6, g)).clamp(-1, 1)
        x2 = refine(levels[2], x1, levels[2].noise(6, g)).clamp(-1, 1)
    assert torch.equal(x, x2)
    assert torch.equal(sample(levels, 6, torch.Generator().manual_seed(3), upto=0), x0)
    assert torch.equal(sample(levels, 6, torch.Generator().manual_seed(3), upto=1), x1)
    assert torch.equal(sample(levels[:2], 6, torch.Generator().manual_seed(3)), x1)


def test_generated_digits_are_28px_and_a_short_chain_is_expanded_to_32px():
    levels = tiny_levels()
    digits = generate_digits(levels, 5, torch.Generator().manual_seed(0))
    assert digits.shape == (5, 1, 28, 28) and digits.abs().max() <= 1
    x0 = sample(levels, 5, torch.Generator().manual_seed(0), upto=0)
    want = upsample(upsample(x0, (16, 16)), (32, 32))[:, :, 2:30, 2:30]  # details of 0 above 8 px, border cropped
    assert torch.equal(generate_digits(levels[:1], 5, torch.Generator().manual_seed(0)), want)


# --------------------------------------------------------------------------- training
def test_defaults_and_fast_mode():
    full = LAPGANConfig()
    assert (full.steps, full.levels, full.batch_size, full.loss, full.width) == ((4000, 3000, 1500), 3, 64,
                                                                                 "nonsaturating", 16)
    assert [full.level_steps(i) for i in range(3)] == [4000, 3000, 1500]
    short = default_lapgan(width=8)
    assert (short.steps, short.sample_every, short.eval_samples, short.threads, short.width) == ((20, 20, 20), 10, 200,
                                                                                                 1, 8)
    assert LAPGANConfig(steps=[5, 6, 7]).steps == (5, 6, 7)  # as read back from metrics.json


def test_a_two_step_run_per_level_writes_the_run_folder(uninterrupted):
    config, metrics = uninterrupted
    assert SCORES <= metrics.keys() and metrics["status"] == "finished"
    assert (metrics["level"], metrics["resolution"], metrics["steps_done"]) == (2, 32, [3, 2, 2])
    assert SCORES <= metrics["real_reference"].keys()
    names = ["metrics.json", "real_pyramid.png"] + [f"{kind}_level{i}{end}" for i in range(3) for kind, end in
                                                    (("samples", ".png"), ("samples", f"_step{3 if i == 0 else 2}.png"),
                                                     ("losses", ".png"), ("checkpoint", ".pt"))]
    for name in names:
        assert (Path(config.out) / name).is_file(), name
    assert json.loads((Path(config.out) / "metrics.json").read_text())["config"]["width"] == 4
    initial = build_levels(config)
    for level in range(3):
        saved = read_checkpoint(f"{config.out}/checkpoint_level{level}.pt")
        assert saved["config"]["level"] == level
        assert saved["history"]["step"] == ([1, 2, 3] if level == 0 else [1, 2])
        assert all(math.isfinite(v) for v in saved["history"]["loss_d"] + saved["history"]["loss_g"])
        start = initial[level][0].state_dict()  # G_i as built: training moved every weight of it
        assert all(not torch.equal(v, start[k]) for k, v in saved["state"]["G"].items())


def test_each_level_trains_on_real_pyramids_alone(uninterrupted, tmp_path):
    whole, _ = uninterrupted
    other = tiny(tmp_path, "other_coarse", coarse_width=16, latent_dim=3)  # another 8 px level altogether
    train_lapgan(other, progress=False)
    for level in (1, 2):  # the finer levels never see level 0's output, so they end the same
        assert_same_run_state(level_state(whole, level), level_state(other, level))


def test_a_run_stopped_after_level_0_and_resumed_ends_exactly_as_an_uninterrupted_one(uninterrupted, tmp_path):
    whole, _ = uninterrupted
    first = tiny(tmp_path, "resumed", levels=1)
    metrics = train_lapgan(first, progress=False)
    assert (metrics["resolution"], metrics["steps_done"]) == (8, [3])
    assert not (Path(first.out) / "checkpoint_level1.pt").exists()
    with pytest.raises(CheckpointError, match="lr_g: 0.001 in the checkpoint, 0.002 now"):
        train_lapgan(dataclasses.replace(first, lr_g=2e-3, levels=3), resume=True, progress=False)
    metrics = train_lapgan(dataclasses.replace(first, levels=3), resume=True, progress=False)
    assert (metrics["resolution"], metrics["steps_done"]) == (32, [3, 2, 2])
    assert_same_run(whole, first)
    again = train_lapgan(dataclasses.replace(first, levels=3), resume=True, progress=False)
    assert again["nothing_to_do"]


def test_ctrl_c_within_a_level_stops_the_run_there_and_resume_finishes_it_exactly(uninterrupted, tmp_path,
                                                                                  monkeypatch):
    whole, _ = uninterrupted
    config = tiny(tmp_path, "stopped")
    calls, d_step = [], lapgan_train.d_step

    def d_step_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # level 1, step 1
            signal.raise_signal(signal.SIGINT)  # the loop finishes this step, saves it and returns
        return d_step(*args, **kwargs)
    monkeypatch.setattr(lapgan_train, "d_step", d_step_then_ctrl_c)
    metrics = train_lapgan(config, progress=False)
    assert (metrics["status"], metrics["level"], metrics["steps_done"]) == ("interrupted", 1, [3, 1])
    assert not (Path(config.out) / "checkpoint_level2.pt").exists()
    monkeypatch.setattr(lapgan_train, "d_step", d_step)
    assert train_lapgan(config, resume=True, progress=False)["status"] == "finished"
    assert_same_run(whole, config)


def test_a_run_that_fails_within_a_level_resumes_exactly_from_its_last_checkpoint(uninterrupted, tmp_path,
                                                                                 monkeypatch):
    whole, _ = uninterrupted
    config = tiny(tmp_path, "crashed", sample_every=1)  # a checkpoint after every step
    calls, d_step = [], lapgan_train.d_step

    def failing_d_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 7:  # level 2, step 2
            raise RuntimeError("the power went out")
        return d_step(*args, **kwargs)
    monkeypatch.setattr(lapgan_train, "d_step", failing_d_step)
    with pytest.raises(RuntimeError, match="power"):
        train_lapgan(config, progress=False)
    assert read_checkpoint(f"{config.out}/checkpoint_level2.pt")["step"] == 1
    assert json.loads((Path(config.out) / "metrics.json").read_text())["status"] == "failed"
    monkeypatch.setattr(lapgan_train, "d_step", d_step)
    train_lapgan(config, resume=True, progress=False)
    assert_same_run(whole, config)
    train_lapgan(dataclasses.replace(config, levels=1), progress=False)  # a new run, not resumed: starts afresh
    assert not (Path(config.out) / "checkpoint_level2.pt").exists()


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("field, value, error, message", [
    ("steps", 1500, TypeError, r"steps must be 3 numbers of G updates, one per level, coarse first, such as "
                               r"\(4000, 3000, 1500\); got 1500"),
    ("steps", (10, 10), TypeError, r"steps must be 3 numbers of G updates, .* got \(10, 10\)"),
    ("steps", (10, 0, 10), ValueError, r"steps\[1\] must be a positive integer, got 0"),
    ("steps", (10, 10, 2.5), TypeError, r"steps\[2\] must be a positive integer, got float 2.5"),
    ("levels", 4, ValueError, "levels must be an integer from 1 to 3, got 4"),
    ("batch_size", 2.0, TypeError, "batch_size must be a positive integer, got float"),
    ("loss", "wgan_gp", ValueError, r"unknown loss 'wgan_gp'; choose one of \[.*'wgan-gp'"),
    ("lr_d", 0, ValueError, "lr_d must be positive, got 0"),
    ("beta2", 1.0, ValueError, r"beta2 must lie in \[0, 1\), got 1.0"),
    ("width", -3, ValueError, "width must be a positive integer, got -3"),
    ("kernel", 4, ValueError, "kernel must be odd, so that a 'same' convolution keeps the size, got 4"),
    ("sample_every", 0, ValueError, "sample_every must be a positive integer, got 0"),
    ("eval_samples", 4, ValueError, "eval_samples must be an integer >= 8, got 4"),
    ("threads", -1, ValueError, "threads must be a non-negative integer, got -1"),
    ("out", 3, TypeError, "out must be a folder name, got int"),
])
def test_bad_config_values_are_clear_errors(field, value, error, message):
    with pytest.raises(error, match=message):
        LAPGANConfig(**{field: value})


def test_bad_calls_are_clear_errors(tmp_path):
    with pytest.raises(TypeError, match=r"config must be a LAPGANConfig, e.g. default_lapgan\(\), got dict"):
        train_lapgan({"levels": 1})
    with pytest.raises(TypeError, match="resume must be True or False, got str"):
        train_lapgan(tiny(tmp_path), resume="yes")
    with pytest.raises(TypeError, match="LAPGANConfig has no field 'stages'"):
        default_lapgan(stages=3)
    with pytest.raises(ValueError, match="level must be an integer from 0 to 2, got 3"):
        LAPGANConfig().run_identity(3)
    levels = tiny_levels()
    with pytest.raises(TypeError, match="levels must be a non-empty list of generators.*got list of length 0"):
        sample([], 4)
    with pytest.raises(TypeError, match="levels\\[0\\] must be a CoarseGenerator \\(the coarsest level\\), got "
                                        "ResidualGenerator"):
        sample(levels[1:], 4)
    with pytest.raises(ValueError, match="levels\\[1\\] makes 1-channel images of 32 px, but it must make "
                                         "1-channel images of 16 px"):
        sample([levels[0], levels[2]], 4)
    with pytest.raises(ValueError, match="upto must be an integer from 0 to 2, got 3"):
        sample(levels, 4, upto=3)
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        sample(levels, 0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator, or None, got int"):
        sample(levels, 4, generator=0)


def test_bad_network_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="size must be even: .* got 15"):
        ResidualGenerator(15)
    with pytest.raises(ValueError, match="size must be an integer >= 10, got 8"):
        ResidualDiscriminator(8)
    with pytest.raises(ValueError, match=r"kernels\[1\] must be odd, .* got 4"):
        ResidualGenerator(16, kernels=(5, 4, 5))
    with pytest.raises(TypeError, match=r"kernels must be three odd kernel sizes, .* got 5"):
        ResidualGenerator(16, kernels=5)
    with pytest.raises(TypeError, match="width must be a positive integer, got float"):
        CoarseGenerator(width=8.0)
    with pytest.raises(TypeError, match="minibatch_std must be True or False, got str 'no'"):
        CoarseDiscriminator(minibatch_std="no")
    G, D = ResidualGenerator(16, 1, width=4), ResidualDiscriminator(16, 1, width=4)
    with pytest.raises(ValueError, match=r"the generator's noise z should have shape \(N, 1, 16, 16\), got "
                                         r"\(2, 16\); draw it with G.noise\(n\)"):
        G(torch.randn(2, 16), torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match=r"the generator's low-pass image l should have shape \(2, 1, 16, 16\), "
                                         r"got \(3, 1, 16, 16\)"):
        G(G.noise(2), torch.zeros(3, 1, 16, 16))
    with pytest.raises(ValueError, match=r"the discriminator's low-pass image l should have shape \(2, 1, 16, 16\), "
                                         r"got \(2, 1, 8, 8\)"):
        D(torch.zeros(2, 1, 16, 16), torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"the generator's input z should have shape \(N, 100\), got \(2, 3\)"):
        CoarseGenerator()(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"the discriminator's input x should have shape \(N, 1, 8, 8\), got "
                                         r"\(2, 1, 16, 16\)"):
        CoarseDiscriminator(channels=1)(torch.zeros(2, 1, 16, 16))
    with pytest.raises(TypeError, match="G must be a ResidualGenerator \\(a level above the coarsest\\), got "
                                        "CoarseGenerator"):
        refine(CoarseGenerator(), torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match=r"coarse should have shape \(N, 1, 8, 8\), got \(2, 1, 16, 16\); the "
                                         r"images of the level below"):
        refine(G, torch.zeros(2, 1, 16, 16), G.noise(2))
    with pytest.raises(ValueError, match=r"z should have shape \(2, 1, 16, 16\), got \(3, 1, 16, 16\); one noise map "
                                         r"per coarse image"):
        refine(G, torch.zeros(2, 1, 8, 8), G.noise(3))
    with pytest.raises(ValueError, match="size must be even, so that the strided convolution halves it, got 7"):
        CoarseDiscriminator(channels=1, size=7)
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        real_pairs([[0.0]])
    with pytest.raises(ValueError, match=r"x should have shape \(N, C, H, W\), got \(32, 32\)"):
        real_pairs(torch.zeros(32, 32))
    with pytest.raises(ValueError, match="levels must be at most 2 for a 2x2 image, got 3"):
        real_pairs(torch.zeros(1, 1, 2, 2))


def test_load_or_train_trains_once_then_loads_the_same_generators(tmp_path, monkeypatch):
    config = tiny(tmp_path)
    levels, metrics = load_or_train_lapgan(config, progress=False)
    assert metrics["status"] == "finished" and len(levels) == 3 and not any(G.training for G in levels)
    monkeypatch.setattr(lapgan_train, "train_lapgan", lambda *a, **k: pytest.fail("trained again"))
    again, same = load_or_train_lapgan(dataclasses.replace(config, threads=2), progress=False)
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    assert torch.equal(sample(levels, 6, g()), sample(again, 6, g())) and same["fid"] == metrics["fid"]
    monkeypatch.undo()
    retrained, other = load_or_train_lapgan(dataclasses.replace(config, seed=1), progress=False)  # another run
    assert not torch.equal(sample(levels, 6, g()), sample(retrained, 6, g()))

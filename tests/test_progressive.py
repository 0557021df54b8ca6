import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.losses import get_loss
from ganlab.progressive import (SIZES, EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm,
                                ProgressiveDiscriminator, ProgressiveGenerator)
from ganlab.train import d_step, g_step


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tiny_players(**switches):
    torch.manual_seed(0)
    G = ProgressiveGenerator(latent_dim=8, channels=1, width=4,
                             **{k: v for k, v in switches.items() if k in ("equalized", "pixel_norm")})
    D = ProgressiveDiscriminator(channels=1, width=4,
                                 **{k: v for k, v in switches.items() if k in ("equalized", "minibatch_std")})
    return G, D


@pytest.mark.parametrize("stage", [0, 1, 2])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_at_each_stage(stage, channels):
    G = ProgressiveGenerator(latent_dim=8, channels=channels, width=4)
    D = ProgressiveDiscriminator(channels=channels, width=4)
    G.stage = D.stage = stage
    G.alpha = D.alpha = 0.5
    size = SIZES[stage]
    x = G(torch.randn(6, 8))
    assert x.shape == (6, channels, size, size) and G.size == D.size == size == 8 * 2 ** stage
    assert D(x).shape == (6,)
    assert G.sample(3).shape == (3, channels, size, size)
    assert G(torch.randn(2, 8), stage=0).shape == (2, channels, 8, 8) and G.stage == stage  # an argument, not a change


@pytest.mark.parametrize("stage", [1, 2])
def test_generator_fade_in_goes_from_the_smaller_network_upsampled_to_the_larger_one(stage):
    G, _ = tiny_players()
    z = torch.randn(5, 8)
    smaller = G(z, stage=stage - 1)  # (5, 1, S/2, S/2)
    assert torch.equal(G(z, stage=stage, alpha=0.0), F.interpolate(smaller, scale_factor=2, mode="nearest"))
    start, end = G(z, stage=stage, alpha=0.0), G(z, stage=stage, alpha=1.0)
    torch.testing.assert_close(G(z, stage=stage, alpha=0.25), 0.75 * start + 0.25 * end)
    with torch.no_grad():  # at alpha = 1 the old toRGB is not used at all: not even 0 * NaN
        G.to_rgb[stage - 1].weight.fill_(float("nan"))
    assert torch.equal(G(z, stage=stage, alpha=1.0), end)
    with torch.no_grad():  # at alpha = 0 the new block does not matter
        G.blocks[stage][1].weight.add_(1.0)
        G.to_rgb[stage].weight.add_(1.0)
    assert G(z, stage=stage, alpha=0.0).isnan().all()  # the NaN toRGB is back in use
    G2, _ = tiny_players()
    with torch.no_grad():
        G2.blocks[stage][1].weight.add_(1.0)
    assert torch.equal(G2(z, stage=stage, alpha=0.0), start)
    assert not torch.allclose(G2(z, stage=stage, alpha=1.0), end)


@pytest.mark.parametrize("stage", [1, 2])
def test_discriminator_fade_in_goes_from_the_smaller_network_on_pooled_images_to_the_larger_one(stage):
    _, D = tiny_players()
    x = torch.randn(8, 1, SIZES[stage], SIZES[stage])
    smaller = D(F.avg_pool2d(x, 2), stage=stage - 1)  # (8,)
    assert torch.equal(D(x, stage=stage, alpha=0.0), smaller)
    end = D(x, stage=stage, alpha=1.0)
    with torch.no_grad():
        D.from_rgb[stage - 1][0].weight.fill_(float("nan"))
    assert torch.equal(D(x, stage=stage, alpha=1.0), end)  # the old fromRGB is not used at alpha = 1
    assert D(x, stage=stage, alpha=0.5).isnan().all()
    _, D2 = tiny_players()
    with torch.no_grad():
        D2.from_rgb[stage][0].weight.add_(1.0)
    assert torch.equal(D2(x, stage=stage, alpha=0.0), smaller)  # the new fromRGB does not matter at alpha = 0


def test_attributes_and_arguments_agree():
    G, D = tiny_players()
    z = torch.randn(4, 8)
    G.stage, G.alpha = 2, 0.3
    assert torch.equal(G(z), G(z, stage=2, alpha=0.3))
    D.stage, D.alpha = 1, 0.7
    x = torch.randn(4, 1, 16, 16)
    assert torch.equal(D(x), D(x, stage=1, alpha=0.7))


@pytest.mark.parametrize("make, fan_in", [(lambda: EqualizedConv2d(64, 128, 3), 64 * 9),
                                          (lambda: EqualizedLinear(512, 256), 512),
                                          (lambda: EqualizedConv2d(32, 256, 1), 32)])
def test_equalized_layers_store_unit_weights_and_use_he_scaled_ones(make, fan_in):
    torch.manual_seed(0)
    layer = make()  # at least 8,192 weights: their std is within 2% of its expectation
    he = math.sqrt(2 / fan_in)
    assert layer.scale == pytest.approx(he) and layer.fan_in == fan_in
    assert layer.weight.std().item() == pytest.approx(1.0, rel=0.05)
    assert layer.effective_weight.std().item() == pytest.approx(he, rel=0.05)
    assert torch.equal(layer.bias, torch.zeros_like(layer.bias))


def test_plain_layers_store_he_scaled_weights():
    plain = EqualizedConv2d(64, 128, 3, equalized=False)
    assert plain.scale == 1.0 and plain.weight.std().item() == pytest.approx(math.sqrt(2 / 576), rel=0.05)
    assert EqualizedLinear(8, 4, gain=1.0).scale == pytest.approx(1 / math.sqrt(8))


def test_equalized_layers_compute_with_the_effective_weight():
    conv, lin = EqualizedConv2d(3, 5, 3), EqualizedLinear(7, 2)
    with torch.no_grad():
        conv.bias.normal_()
        lin.bias.normal_()
    x, v = torch.randn(2, 3, 6, 6), torch.randn(4, 7)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight * conv.scale, conv.bias, padding=1))
    torch.testing.assert_close(lin(v), v @ (lin.weight * lin.scale).T + lin.bias)


@pytest.mark.parametrize("equalized", [True, False])
def test_one_adam_step_moves_narrow_and_wide_layers_alike_only_when_equalized(equalized):
    """Sec. 4.1: Adam's first step is lr * sign(gradient) in every stored parameter."""
    torch.manual_seed(0)
    narrow, wide = (EqualizedConv2d(c, 8, 3, equalized=equalized) for c in (1, 64))
    before = [m.effective_weight.detach().clone() for m in (narrow, wide)]
    opt = torch.optim.Adam([narrow.weight, wide.weight], lr=1e-3)
    (narrow(torch.randn(2, 1, 5, 5)).pow(2).sum() + wide(torch.randn(2, 64, 5, 5)).pow(2).sum()).backward()
    opt.step()
    relative = [((m.effective_weight - b).abs().mean() / b.std()).item() for m, b in zip((narrow, wide), before)]
    ratio = relative[0] / relative[1]
    assert ratio == pytest.approx(1.0, rel=0.1) if equalized else ratio == pytest.approx(1 / 8, rel=0.1)


def test_pixel_norm_gives_each_pixel_unit_rms_over_channels():
    torch.manual_seed(0)
    x = torch.randn(3, 16, 5, 5) * (0.1 + 10 * torch.rand(3, 1, 5, 5))  # pixels of very different magnitudes
    y = PixelNorm()(x)
    torch.testing.assert_close(y.pow(2).mean(dim=1).sqrt(), torch.ones(3, 5, 5))
    torch.testing.assert_close(y, x / x.pow(2).mean(dim=1, keepdim=True).add(1e-8).sqrt())


@pytest.mark.parametrize("n, group", [(8, 4), (6, 3), (4, 4), (5, 1), (2, 2)])
def test_minibatch_stddev_appends_the_hand_computed_group_std(n, group):
    x = torch.randn(n, 3, 2, 2)
    y = MinibatchStdDev()(x)
    assert y.shape == (n, 4, 2, 2) and torch.equal(y[:, :3], x)
    groups = n // group
    for i in range(n):  # example i belongs to the group of i, i +- groups, i +- 2 groups, ...
        members = x[i % groups::groups]
        assert len(members) == group
        std = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        torch.testing.assert_close(y[i, 3], std.expand(2, 2))


def test_minibatch_stddev_sees_a_collapsed_batch():
    layer = MinibatchStdDev()
    same = torch.randn(1, 4, 3, 3).expand(8, 4, 3, 3)
    assert layer(same)[:, -1].max() < 1e-3 < layer(torch.randn(8, 4, 3, 3))[:, -1].min()


def test_parameter_counts_are_the_papers_up_to_32px():
    """Table 2 of Karras et al. 2018 (latent 512, 512 maps up to 32 x 32, RGB): 'Conv 4x4' 4.2M, 'Conv 3x3' 2.4M,
    toRGB 1x1 3 x 512 + 3, fromRGB 512 x 3 + 512, D's last 'Conv 3x3' 513 -> 512, 'Conv 4x4' 4.2M and 'FC' 513."""
    G = ProgressiveGenerator(latent_dim=512, channels=3, width=512)
    D = ProgressiveDiscriminator(channels=3, width=512)
    conv3 = 512 * 512 * 9 + 512
    assert round(n_params(G.dense) + G.dense_bias.numel(), -5) == 4_200_000 and round(conv3, -5) == 2_400_000
    assert n_params(G.dense) + G.dense_bias.numel() == 512 * 512 * 16 + 512
    assert n_params(G.conv4) == conv3 and all(n_params(b) == 2 * conv3 for b in G.blocks)
    assert all(n_params(t) == 3 * 512 + 3 for t in G.to_rgb)
    assert n_params(G) == (512 * 512 * 16 + 512) + 7 * conv3 + 3 * (3 * 512 + 3) == 20_718_089
    assert all(n_params(f) == 3 * 512 + 512 for f in D.from_rgb) and all(n_params(b) == 2 * conv3 for b in D.blocks)
    head = [n_params(m) for m in D.head if n_params(m)]
    assert head == [513 * 512 * 9 + 512, 512 * 16 * 512 + 512, 513]
    assert n_params(D) == 3 * 2048 + 6 * conv3 + sum(head) == 20_724_737


def test_tiny_parameter_counts():
    G, D = tiny_players()  # latent 8, width 4, one channel
    conv3 = 4 * 4 * 9 + 4
    assert n_params(G) == (8 * 64 + 4) + 7 * conv3 + 3 * (4 + 1)
    assert n_params(D) == 3 * (4 + 4) + 6 * conv3 + (5 * 4 * 9 + 4) + (64 * 4 + 4) + 5


def count(module: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in module.modules())


def test_each_switch_removes_what_it_names():
    G, D = tiny_players()
    assert count(G, PixelNorm) == 9  # z, the 4x4 dense and conv, two convs in each of 3 blocks
    assert count(D, PixelNorm) == 0 and count(D, MinibatchStdDev) == 1
    assert D.head[1].weight.shape[1] == 5  # width + the std map
    layers = [m for net in (G, D) for m in net.modules() if isinstance(m, (EqualizedConv2d, EqualizedLinear))]
    assert all(m.equalized for m in layers) and len(layers) == 1 + 7 + 3 + 3 + 6 + 3

    G, D = tiny_players(pixel_norm=False, minibatch_std=False, equalized=False)
    assert count(G, PixelNorm) == 0 and count(D, MinibatchStdDev) == 0
    assert D.head[0].weight.shape[1] == 4
    layers = [m for net in (G, D) for m in net.modules() if isinstance(m, (EqualizedConv2d, EqualizedLinear))]
    assert not any(m.equalized for m in layers) and all(m.scale == 1.0 for m in layers)
    for stage in range(3):
        assert D(G(torch.randn(4, 8), stage=stage), stage=stage).shape == (4,)


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_players_train_with_ganlab_steps_at_every_stage(loss):
    G, D = tiny_players()
    opt_g = torch.optim.Adam(G.parameters(), 1e-3, (0.0, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), 1e-3, (0.0, 0.99))
    for stage in range(3):
        G.stage, D.stage = stage, stage
        G.alpha = D.alpha = 0.5
        before = D.from_rgb[stage][0].weight.detach().clone()
        real = torch.rand(8, 1, SIZES[stage], SIZES[stage]) * 2 - 1
        stats = d_step(G, D, real, torch.randn(8, 8), opt_d, get_loss(loss))
        stats |= g_step(G, D, torch.randn(8, 8), opt_g, get_loss(loss))
        assert all(math.isfinite(v) for v in stats.values())
        assert not torch.equal(before, D.from_rgb[stage][0].weight)
        faded = {stage, stage - 1} if stage else {0}  # the toRGBs in use at alpha = 0.5
        assert [G.to_rgb[s].weight.grad is not None for s in range(3)] == [s in faded for s in range(3)]


@pytest.mark.parametrize("make, message", [
    (lambda: ProgressiveGenerator(latent_dim=0), "latent_dim must be a positive integer"),
    (lambda: ProgressiveGenerator(width=2.5), "width must be a positive integer, got float"),
    (lambda: ProgressiveGenerator(pixel_norm="no"), "pixel_norm must be True or False"),
    (lambda: ProgressiveDiscriminator(channels=-1), "channels must be a positive integer"),
    (lambda: ProgressiveDiscriminator(minibatch_std=1), "minibatch_std must be True or False"),
    (lambda: EqualizedConv2d(3, 4, 2), "kernel_size must be odd"),
    (lambda: EqualizedLinear(3, 4, gain=0), "gain must be positive"),
    (lambda: EqualizedLinear(3, 4, equalized=None), "equalized must be True or False"),
    (lambda: PixelNorm(eps=-1), "eps must be positive"),
    (lambda: MinibatchStdDev(group_size=0), "group_size must be a positive integer"),
])
def test_bad_construction_is_a_clear_error(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_bad_calls_are_clear_errors():
    G, D = tiny_players()
    with pytest.raises(ValueError, match=r"the generator's input z should have shape \(N, 8\), got \(4, 7\)"):
        G(torch.randn(4, 7))
    with pytest.raises(TypeError, match="z must be a torch.Tensor, got list"):
        G([0.0] * 8)
    with pytest.raises(ValueError, match=r"stage must be an integer from 0 to 2, got 3"):
        G.stage = 3
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\] \(the weight of the new block\), got 1.5"):
        D.alpha = 1.5
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\], got -0.1"):
        G(torch.randn(2, 8), stage=1, alpha=-0.1)
    D.stage = 1
    with pytest.raises(ValueError, match=r"should have shape \(N, 1, 16, 16\), got \(2, 1, 32, 32\) \(at stage 1 D "
                                         r"reads 16 px images\)"):
        D(torch.randn(2, 1, 32, 32))
    with pytest.raises(TypeError, match="should have dtype torch.float32, got torch.float64"):
        D(torch.randn(2, 1, 16, 16, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"MinibatchStdDev's input should have shape \(N, C, H, W\), got \(2, 3\)"):
        MinibatchStdDev()(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"PixelNorm's input should have shape \(N, C, ...\), got \(5,\)"):
        PixelNorm()(torch.randn(5))
    with pytest.raises(ValueError, match=r"EqualizedConv2d's input should have shape \(N, 3, H, W\)"):
        EqualizedConv2d(3, 4, 3)(torch.randn(1, 4, 5, 5))

"""Multi-scale discriminators: the PatchGAN, its receptive field, the pyramid of scales, and training with them."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab import losses
from ganlab.convnets import DCGANGenerator
from ganlab.multiscale import NORMS, WEIGHTINGS, MultiScaleDiscriminator, PatchGANDiscriminator, receptive_field
from ganlab.train import TrainConfig, d_step, fit, g_step, make_optimizers

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def images(n=4, c=1, h=32, w=None, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, c, h, w or h, generator=g, dtype=dtype) * 2 - 1)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def map_side(side: int, n_layers: int) -> int:
    """The side of a PatchGAN's map of logits, by hand: floor(s/2) + 1 per stride-2 conv, + 1 per stride-1 conv."""
    for _ in range(n_layers):
        side = side // 2 + 1
    return side + 2


def manual_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 mean, stride 2, over the pixels of each window that lie inside the image, written out by hand."""
    n, c, h, w = x.shape
    out = torch.zeros(n, c, math.ceil(h / 2), math.ceil(w / 2), dtype=x.dtype)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            rows = slice(max(2 * i - 1, 0), min(2 * i + 2, h))  # rows 2i - 1, 2i, 2i + 1, clipped to the image
            cols = slice(max(2 * j - 1, 0), min(2 * j + 2, w))
            out[:, :, i, j] = x[:, :, rows, cols].mean(dim=(2, 3))
    return out


def shares(D: MultiScaleDiscriminator, x: torch.Tensor) -> list[float]:
    """Each scale's share of the entries of D(x): its weight in a mean over them."""
    counts = [m[0].numel() for m in D.scale_logits(x)]
    copies = [round(counts[0] / n) for n in counts] if D.weighting == "scale" else [1] * len(counts)
    total = sum(r * n for r, n in zip(copies, counts))
    assert D(x).shape[1] == total
    return [r * n / total for r, n in zip(copies, counts)]


# --------------------------------------------------------------------------- the PatchGAN
def test_the_paper_patchgan_has_its_layout_and_weight_count():
    D = PatchGANDiscriminator(channels=3, width=64, n_layers=3)
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (3, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 1), (512, 1, 1)]
    assert all(c.kernel_size == (4, 4) and c.padding == (2, 2) for c in convs)
    by_hand = sum(c_in * c_out * 16 + c_out for c_in, c_out, _ in
                  [(3, 64, 0), (64, 128, 0), (128, 256, 0), (256, 512, 0), (512, 1, 0)])
    assert n_params(D) == by_hand == 2_764_737  # instance norm without a learnt gain adds no weights
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in D.modules()) == 3  # none after the input conv or the last
    assert receptive_field(3) == 70  # pix2pix's 70 x 70 PatchGAN
    widths = [c.out_channels for c in PatchGANDiscriminator(1, 256, 3).modules() if isinstance(c, nn.Conv2d)]
    assert widths == [256, 512, 512, 512, 1]  # at most 512 channels


@pytest.mark.parametrize("norm", list(NORMS))
@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_patchgan_returns_a_map_of_logits(n_layers, norm):
    D = PatchGANDiscriminator(channels=1, width=4, n_layers=n_layers, norm=norm)
    for h, w in ((32, 32), (29, 40)):
        assert D(images(3, 1, h, w)).shape == (3, 1, map_side(h, n_layers), map_side(w, n_layers))
    assert D(images(2, 1, 2 ** n_layers)).shape[-1] >= 2  # the smallest input allowed still gives a map


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_receptive_field_is_the_set_of_pixels_one_logit_depends_on(n_layers):
    """Backpropagate one logit from the middle of the map; the pixels with a gradient form a square of that side."""
    side = receptive_field(n_layers)
    size = side + 20
    D = PatchGANDiscriminator(channels=1, width=2, n_layers=n_layers, norm="none").double()
    x = images(1, 1, size, dtype=torch.float64).requires_grad_(True)
    out = D(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    seen = x.grad[0, 0] != 0
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    assert rows.min() > 0 and cols.min() > 0 and rows.max() < size - 1 and cols.max() < size - 1  # not cut off
    assert len(rows) == len(cols) == side
    assert seen.sum() == side * side  # a full square


def test_receptive_field_grows_by_the_pooling_at_each_scale():
    assert [receptive_field(3, k) for k in range(3)] == [70, 141, 283]
    for n_layers in range(1, 5):
        for k in range(4):
            assert receptive_field(n_layers, k) == 2 ** k * (9 * 2 ** n_layers - 1) - 1


@pytest.mark.parametrize("scale", [0, 1, 2])
def test_each_scale_sees_its_receptive_field_of_the_full_image(scale):
    size = 96
    D = MultiScaleDiscriminator(channels=1, width=2, n_scales=3, n_layers=1, norm="none").double()
    x = images(1, 1, size, dtype=torch.float64).requires_grad_(True)
    out = D.scale_logits(x)[scale]
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    seen = x.grad[0, 0] != 0
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    assert rows.min() > 0 and cols.min() > 0 and rows.max() < size - 1 and cols.max() < size - 1
    side = receptive_field(1, scale)
    assert len(rows) == len(cols) == side and seen.sum() == side * side


# --------------------------------------------------------------------------- the scales
@pytest.mark.parametrize("weighting", list(WEIGHTINGS))
@pytest.mark.parametrize("n_layers", [1, 3])
@pytest.mark.parametrize("n_scales", [1, 2, 3])
def test_shapes_at_32_px(n_scales, n_layers, weighting):
    D = MultiScaleDiscriminator(channels=1, width=4, n_scales=n_scales, n_layers=n_layers, weighting=weighting)
    x = images(5)
    maps = D.scale_logits(x)
    sides = [map_side(math.ceil(32 / 2 ** k), n_layers) for k in range(n_scales)]  # pooled to 32, 16, 8 px
    assert [tuple(m.shape) for m in maps] == [(5, 1, s, s) for s in sides]
    counts = [s * s for s in sides]
    copies = [round(counts[0] / n) for n in counts] if weighting == "scale" else [1] * n_scales
    assert D(x).shape == (5, sum(r * n for r, n in zip(copies, counts)))
    assert D.min_size == 2 ** (n_layers + n_scales - 1)
    assert D(images(2, 1, D.min_size)).shape[0] == 2  # the smallest input allowed works


def test_the_manual_pool_is_pix2pixhds_average_pool():
    x = images(2, 3, 9, 12)
    pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    assert torch.allclose(manual_pool(x), pool(x), atol=1e-6)
    edge = manual_pool(torch.ones(1, 1, 5, 5))
    assert torch.allclose(edge, torch.ones_like(edge))  # the padding does not count: a flat image stays flat
    assert not torch.allclose(F.avg_pool2d(torch.ones(1, 1, 5, 5), 3, 2, 1), torch.ones(1, 1, 3, 3))  # it would


@pytest.mark.parametrize("size", [(32, 32), (33, 27)])
def test_scale_k_reads_the_image_average_pooled_k_times(size):
    D = MultiScaleDiscriminator(channels=2, width=4, n_scales=3, n_layers=1)
    x = images(3, 2, *size)
    pooled = x
    for k, logits in enumerate(D.scale_logits(x)):
        if k:
            pooled = manual_pool(pooled)
        assert pooled.shape[-2:] == (math.ceil(size[0] / 2 ** k), math.ceil(size[1] / 2 ** k))
        assert torch.allclose(logits, D.discriminators[k](pooled), atol=1e-5)


@pytest.mark.parametrize("weighting", list(WEIGHTINGS))
def test_one_scale_is_a_single_patchgan(weighting):
    D = MultiScaleDiscriminator(channels=1, width=4, n_scales=1, n_layers=2, weighting=weighting)
    single = PatchGANDiscriminator(channels=1, width=4, n_layers=2)
    single.load_state_dict(D.discriminators[0].state_dict())
    x = images(4)
    assert torch.equal(D(x), single(x).flatten(1))
    assert n_params(D) == n_params(single)


@pytest.mark.parametrize("norm", list(NORMS))
@pytest.mark.parametrize("n_scales", [1, 2, 3])
def test_n_scales_discriminators_of_one_architecture_and_their_own_weights(n_scales, norm):
    D = MultiScaleDiscriminator(channels=1, width=4, n_scales=n_scales, n_layers=2, norm=norm)
    assert n_params(D) == n_scales * n_params(PatchGANDiscriminator(channels=1, width=4, n_layers=2, norm=norm))
    assert len(D.discriminators) == n_scales
    first = D.discriminators[0].net[0].weight
    assert all(not torch.equal(first, other.net[0].weight) for other in D.discriminators[1:])  # drawn apart


@pytest.mark.parametrize("n_layers", [1, 2, 3])
@pytest.mark.parametrize("weighting", list(WEIGHTINGS))
def test_a_mean_over_the_output_weighs_each_scales_loss_by_its_share(weighting, n_layers):
    D = MultiScaleDiscriminator(channels=1, width=4, n_scales=3, n_layers=n_layers, weighting=weighting)
    real, fake = images(4, seed=1), images(4, seed=2)
    share = shares(D, real)
    per_scale = [(losses.d_loss_bce(r, f), losses.d_loss_hinge(r, f))
                 for r, f in zip(D.scale_logits(real), D.scale_logits(fake))]
    bce, hinge = losses.d_loss_bce(D(real), D(fake)), losses.d_loss_hinge(D(real), D(fake))
    assert torch.allclose(bce, sum(s * b for s, (b, _) in zip(share, per_scale)), atol=1e-6)
    assert torch.allclose(hinge, sum(s * h for s, (_, h) in zip(share, per_scale)), atol=1e-6)
    if weighting == "scale":  # about pix2pixHD's sum over scales / 3
        assert all(abs(s - 1 / 3) < 0.06 for s in share)
    else:  # every patch once: the finest scale, with the most patches, counts most
        assert share[0] > share[1] > share[2]


# --------------------------------------------------------------------------- training with it
def players(n_scales=3, norm="instance"):
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=8, channels=1, width=4, image_size=32)
    D = MultiScaleDiscriminator(channels=1, width=4, n_scales=n_scales, n_layers=1, norm=norm)
    return G, D


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def moved(before: list[torch.Tensor], module: nn.Module) -> list[bool]:
    return [not torch.equal(b, p) for b, p in zip(before, module.parameters())]


@pytest.mark.parametrize("loss_name", list(losses.LOSSES))
def test_d_step_and_g_step_take_it_with_every_loss(loss_name):
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, TrainConfig())
    loss = losses.get_loss(loss_name)
    real, z = images(8), torch.randn(8, 8)
    g0, d0 = snapshot(G), snapshot(D)
    stats = d_step(G, D, real, z, opt_d, loss)
    assert all(math.isfinite(v) for v in stats.values())
    assert ("penalty" in stats) == (loss.penalty is not None)
    assert not any(moved(g0, G)) and any(moved(d0, D))
    d1 = snapshot(D)
    assert all(math.isfinite(v) for v in g_step(G, D, z, opt_g, loss).values())
    assert all(moved(g0, G)) and not any(moved(d1, D))


@pytest.mark.parametrize("penalty", [losses.gradient_penalty, losses.r1_penalty])
def test_the_penalties_take_its_output_and_reach_every_scale(penalty):
    G, D = players()
    real = images(6)
    fake = G(torch.randn(6, 8)).detach()
    value = penalty(D, real, fake)
    assert value.shape == () and math.isfinite(value.item()) and value > 0
    value.backward()
    for sub in D.discriminators:
        # every conv weight (a bias does not change D's input gradient: LeakyReLU is piecewise linear)
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in sub.parameters() if p.ndim == 4)


def test_the_d_step_moves_every_scales_weights():
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, TrainConfig())
    before = [snapshot(sub) for sub in D.discriminators]
    d_step(G, D, images(8), torch.randn(8, 8), opt_d, losses.get_loss("nonsaturating"))
    assert all(moved(b, sub)[0] for b, sub in zip(before, D.discriminators))  # the first conv's weight of each


@pytest.mark.parametrize("loss_name", ["nonsaturating", "r1", "wgan-gp"])
@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_fit_trains_the_dcgan_generator_against_it(norm, loss_name):
    G, D = players(norm=norm)
    data = images(32, seed=3)
    config = TrainConfig(steps=2, batch_size=8, loss=loss_name, reuse_fakes=True, progress=False, log_every=1)
    history = fit(G, D, data, config)
    assert len(history["loss_d"]) == 2 and all(math.isfinite(v) for v in history["loss_d"] + history["loss_g"])


# --------------------------------------------------------------------------- bad input
def ms(**kwargs):
    return MultiScaleDiscriminator(**{"channels": 1, "width": 2, "n_scales": 3, "n_layers": 2, **kwargs})


BAD = [
    ("n_scales 0", lambda: ms(n_scales=0), ValueError, ["n_scales", "positive integer", "0"]),
    ("n_scales float", lambda: ms(n_scales=2.0), TypeError, ["n_scales", "integer", "float"]),
    ("n_scales bool", lambda: ms(n_scales=True), TypeError, ["n_scales", "bool"]),
    ("n_layers 0", lambda: ms(n_layers=0), ValueError, ["n_layers", "positive integer", "0"]),
    ("width negative", lambda: ms(width=-4), ValueError, ["width", "positive integer", "-4"]),
    ("channels str", lambda: ms(channels="1"), TypeError, ["channels", "integer", "str"]),
    ("norm unknown", lambda: ms(norm="layer"), ValueError, ["norm", "'layer'", "instance", "batch", "none"]),
    ("weighting unknown", lambda: ms(weighting="mean"), ValueError, ["weighting", "'mean'", "scale", "patch"]),
    ("patch n_layers 0", lambda: PatchGANDiscriminator(n_layers=0), ValueError, ["n_layers", "positive", "0"]),
    ("patch norm None", lambda: PatchGANDiscriminator(norm=None), ValueError, ["norm", "None", "instance"]),
    ("image too small", lambda: ms()(images(2, 1, 8)), ValueError,
     ["input x", "at least 16 x 16", "8 x 8", "2 poolings and 2 stride-2 convolutions divide its side by 16"]),
    ("image too small, 2 scales of 1 layer", lambda: ms(n_scales=2, n_layers=1)(images(2, 1, 3)), ValueError,
     ["at least 4 x 4", "1 pooling and 1 stride-2 convolution divide", "3 x 3"]),
    ("image too narrow", lambda: ms()(images(2, 1, 32, 12)), ValueError, ["at least 16 x 16", "32 x 12"]),
    ("image too small for the maps", lambda: ms().scale_logits(images(2, 1, 15)), ValueError,
     ["at least 16 x 16", "15 x 15"]),
    ("patch image too small", lambda: PatchGANDiscriminator(1, 2, 3)(images(2, 1, 7)), ValueError,
     ["at least 8 x 8", "7 x 7", "3 stride-2 convolutions divide its side by 8"]),
    ("no batch dimension", lambda: ms()(images(1, 1, 32)[0]), ValueError, ["input x", "(N, 1, H, W)", "(1, 32, 32)"]),
    ("wrong channels", lambda: ms()(images(2, 3, 32)), ValueError, ["input x", "(N, 1, H, W)", "(2, 3, 32, 32)"]),
    ("numpy", lambda: ms()(np.zeros((2, 1, 32, 32), np.float32)), TypeError, ["input x", "torch.Tensor", "numpy"]),
    ("float64", lambda: ms()(images(2, dtype=torch.float64)), TypeError, ["input x", "float32", "float64"]),
    ("integers", lambda: PatchGANDiscriminator(1, 2, 1)(torch.zeros(2, 1, 8, 8, dtype=torch.long)), TypeError,
     ["input x", "float32", "int64"]),
    ("empty batch", lambda: ms()(images(0)), ValueError, ["input x", "empty"]),
    ("receptive_field n_layers 0", lambda: receptive_field(0), ValueError, ["n_layers", "positive", "0"]),
    ("receptive_field scale negative", lambda: receptive_field(3, -1), ValueError, ["scale", "non-negative", "-1"]),
    ("receptive_field scale float", lambda: receptive_field(3, 1.0), TypeError, ["scale", "float"]),
]


@pytest.mark.parametrize("call, error, words", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_raises_a_clear_error(call, error, words):
    with pytest.raises(error) as excinfo:
        call()
    for word in words:
        assert word in str(excinfo.value), f"{word!r} not in {str(excinfo.value)!r}"

"""CycleGAN (ganlab.cyclegan): the paper's networks counted and shaped, the PatchGAN's receptive field measured by
back-propagation, the image pool's rule, the learning-rate schedule, the losses by hand; the typeset digits."""

import pytest
import torch
from torch import nn

from ganlab.cyclegan import (ImagePool, PatchDiscriminator, ResidualBlock, ResNetGenerator, cycle_loss, d_loss,
                             g_loss, identity_loss, linear_decay, receptive_field)
from ganlab.typeset import FONTS, render_digit, typeset_digits

pytestmark = pytest.mark.usefixtures("one_thread")


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_the_papers_networks_have_the_authors_weight_counts_and_shapes():
    # the authors' code prints 11.378 M for resnet_9blocks and 2.765 M for the basic 70 x 70 PatchGAN
    G, D = ResNetGenerator(), PatchDiscriminator()
    assert n_params(G) == 11_378_179 and n_params(D) == 2_764_737
    assert n_params(ResNetGenerator(blocks=6)) == 11_378_179 - 3 * 2 * (256 * 256 * 9 + 256)  # the 128 px variant
    with torch.no_grad():
        assert D(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # 30 x 30 patches of 70 x 70 px
        assert G(torch.zeros(1, 3, 64, 64)).shape == (1, 3, 64, 64)
    kinds = {type(m) for m in G.modules()}
    assert nn.ReflectionPad2d in kinds and nn.InstanceNorm2d in kinds and nn.BatchNorm2d not in kinds
    assert sum(isinstance(m, ResidualBlock) for m in G.modules()) == 9


def test_the_small_networks_translate_digits_to_digits():
    G, D = ResNetGenerator(1, 1, 8, 2), PatchDiscriminator(1, 8, 2)
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        y = G(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert D(x).shape == (3, 1, 5, 5)
    with pytest.raises(ValueError, match="multiple of 4"):
        G(torch.zeros(1, 1, 30, 30))


def measured_receptive_field(D, size=96):
    """Back-propagate from the centre output of D (positive weights, no normalisation effect on support) and count
    the input pixels with a non-zero gradient along one row."""
    D = D.double()
    for m in D.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 0.01)
            nn.init.zeros_(m.bias)
        if isinstance(m, nn.InstanceNorm2d):  # keep the support local: normalisation mixes the whole map
            m.forward = lambda x: x
    x = torch.rand(1, D.channels, size, size, dtype=torch.float64, requires_grad=True)
    out = D(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    touched = (x.grad[0, 0].abs() > 0).any(dim=0)
    return int(touched.sum())


@pytest.mark.parametrize("layers, expected", [(1, 16), (2, 34), (3, 70)])
def test_receptive_field_is_computed_and_matches_back_propagation(layers, expected):
    D = PatchDiscriminator(1, 4, layers)
    assert receptive_field(D) == expected
    assert measured_receptive_field(D, size=160) == expected


def test_receptive_field_of_a_dilated_stack():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3, stride=2))
    assert receptive_field(net) == 1 * 2 + (3 - 2) + (2 * 2)  # 3 px through the second, then 5 more for dilation 2
    with pytest.raises(ValueError, match="no convolution"):
        receptive_field(nn.Linear(2, 2))


def test_the_pool_fills_then_returns_a_stored_image_half_the_time_and_keeps_its_size():
    pool = ImagePool(4, torch.Generator().manual_seed(0))
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool.images) == 4  # filling: everything passes through
    swapped, n = 0, 2000
    for i in range(n):
        new = torch.full((1, 1, 1, 1), 100.0 + i)
        out = pool.query(new)
        assert len(pool.images) == 4
        if out.item() != new.item():  # a stored image came back, and the new one took its place
            swapped += 1
            assert any(im.item() == new.item() for im in pool.images)
        else:
            assert all(im.item() != new.item() for im in pool.images)
    assert swapped / n == pytest.approx(0.5, abs=0.04)


def test_the_pool_is_off_at_size_zero_and_resumes_exactly():
    x = torch.randn(3, 1, 2, 2)
    assert ImagePool(0).query(x) is x
    a = ImagePool(2, torch.Generator().manual_seed(1))
    a.query(torch.randn(5, 1, 2, 2))
    b = ImagePool(2)
    b.load_state_dict(a.state_dict())
    batch = torch.randn(6, 1, 2, 2)
    assert torch.equal(a.query(batch), b.query(batch))


def test_the_pool_returns_fakes_cut_from_the_graph():
    fake = torch.randn(2, 1, 2, 2, requires_grad=True) * 2
    assert not ImagePool(10).query(fake).requires_grad


def test_linear_decay_is_constant_then_falls_to_zero_like_the_authors_schedule():
    factors = [linear_decay(s, 3, 4) for s in range(8)]
    assert factors == pytest.approx([1, 1, 1, 4 / 5, 3 / 5, 2 / 5, 1 / 5, 0])
    assert linear_decay(10, 5, 0) == 0.0 and linear_decay(4, 5, 0) == 1.0


def test_the_losses_by_hand():
    real, fake = torch.tensor([[0.5, 1.5]]), torch.tensor([[0.2, -0.4]])
    assert d_loss(real, fake).item() == pytest.approx(0.5 * ((0.25 + 0.25) / 2 + (0.04 + 0.16) / 2))
    assert g_loss(fake).item() == pytest.approx((0.64 + 1.96) / 2)
    a, b = torch.zeros(2, 1, 2, 2), torch.full((2, 1, 2, 2), 0.5)
    assert cycle_loss(b, a).item() == pytest.approx(0.5) and identity_loss(a, b).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shape"):
        cycle_loss(a, torch.zeros(2, 1, 4, 4))


def test_typeset_digits_are_reproducible_centred_and_read_by_the_classifier():
    from ganlab.classifier import load_classifier

    x, y = typeset_digits(200, seed=3)
    assert x.shape == (200, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert torch.equal(y[:12], torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]))
    assert torch.equal(x, typeset_digits(200, seed=3)[0]) and not torch.equal(x, typeset_digits(200, seed=4)[0])
    ink = (x + 1) / 2
    grid = torch.arange(28.0)
    cy = (ink.sum(dim=3) * grid).sum(dim=(1, 2)) / ink.sum(dim=(1, 2, 3))
    assert (cy - 13.5).abs().max() < 2.0  # centre of mass within the 1.5 px jitter (plus resampling)
    with torch.no_grad():
        accuracy = (load_classifier()(x).argmax(1) == y).double().mean().item()
    assert accuracy > 0.93  # the MNIST classifier reads type too: one classifier serves both domains


@pytest.mark.parametrize("font", FONTS)
def test_every_font_draws_every_digit(font):
    images = torch.stack([render_digit(d, font) for d in range(10)])
    ink = (images + 1) / 2
    assert (ink.sum(dim=(1, 2, 3)) > 10).all()  # some ink for each digit
    assert not torch.equal(images[1], images[7])

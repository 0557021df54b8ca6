"""SRResNet and SRGAN's networks (ganlab.srgan): sub-pixel upsampling, the generator's shapes and size, the bicubic
skip, the discriminator, the frozen feature networks of the content loss (random offline; VGG19 from a local cache
file, without the network) and network interpolation."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.data import DownloadNotAllowed
from ganlab.srgan import (IMAGENET_MEAN, IMAGENET_STD, VGG19_LAYERS, FeatureExtractor, ResidualBlock, SRDiscriminator,
                          SRResNet, SubPixelUpsample, content_loss, imagenet_normalize, interpolate_networks,
                          random_features, vgg19_features)
from ganlab.superres import upscale_bicubic

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def images(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --------------------------------------------------------------------------- sub-pixel convolution
def test_pixel_shuffle_moves_channels_into_space_as_shi_et_al():
    x = torch.arange(2 * 4 * 2 * 3, dtype=torch.float).view(2, 4, 2, 3)  # C r^2 = 4 channels, r = 2
    y = nn.PixelShuffle(2)(x)
    assert y.shape == (2, 1, 4, 6)
    for i in range(2):
        for j in range(2):  # output pixel (2h + i, 2w + j) is channel 2 i + j at (h, w)
            assert torch.equal(y[:, 0, i::2, j::2], x[:, 2 * i + j])


@pytest.mark.parametrize("factor", [2, 3])
def test_sub_pixel_upsample_shapes(factor):
    up = SubPixelUpsample(8, factor)
    conv, shuffle, prelu = up
    assert conv.out_channels == 8 * factor ** 2 and conv.kernel_size == (3, 3)
    assert isinstance(shuffle, nn.PixelShuffle) and shuffle.upscale_factor == factor
    assert isinstance(prelu, nn.PReLU) and prelu.num_parameters == 8
    assert up(torch.randn(2, 8, 5, 7)).shape == (2, 8, 5 * factor, 7 * factor)
    with pytest.raises(ValueError, match="factor"):
        SubPixelUpsample(8, 1)


# --------------------------------------------------------------------------- the generator
@pytest.mark.parametrize("scale, stages", [(2, 1), (4, 2), (8, 3)])
def test_srresnet_upsamples_by_its_scale_in_x2_stages(scale, stages):
    torch.manual_seed(0)
    G = SRResNet(scale, channels=8, blocks=1)
    assert len(G.upsample) == stages
    assert G(images(2, 3, 6, 7)).shape == (2, 3, 6 * scale, 7 * scale)


def test_srresnet_refuses_a_scale_that_is_not_a_power_of_2():
    for scale in (3, 6):
        with pytest.raises(ValueError, match="power of 2"):
            SRResNet(scale)
    with pytest.raises(ValueError, match="outer_kernel must be odd"):
        SRResNet(outer_kernel=8)


def srresnet_weights(C, B, k, scale, batch_norm=True):
    """SRResNet's weights counted by hand from the paper's Figure 4."""
    bias = 0 if batch_norm else C  # a convolution before BatchNorm has no bias
    bn = 2 * C if batch_norm else 0  # BatchNorm's gain and shift
    head = 3 * C * k * k + C + C  # conv 9x9 with bias, PReLU (one slope per channel)
    block = 2 * (C * C * 9 + bias + bn) + C  # conv, BN, PReLU, conv, BN
    after_blocks = C * C * 9 + bias + bn  # conv, BN before the long skip
    up = C * 4 * C * 9 + 4 * C + C  # conv to 4C with bias, pixel shuffle, PReLU: per x2 stage
    tail = C * 3 * k * k + 3
    return head + B * block + after_blocks + (scale.bit_length() - 1) * up + tail


def test_the_papers_srresnet_has_1_55_million_weights():
    G = SRResNet()  # the paper's configuration: x4, 64 channels, 16 blocks, BatchNorm, 9x9 outer kernels
    count = sum(p.numel() for p in G.parameters())
    assert count == srresnet_weights(64, 16, 9, 4)
    assert round(count / 1e6, 2) == 1.55
    assert len([m for m in G.modules() if isinstance(m, ResidualBlock)]) == 16
    for args in ((2, 16, 5, 4, False), (8, 0, 3, 8, True), (12, 3, 9, 2, True)):
        C, B, k, scale, bn = args
        G = SRResNet(scale, C, B, batch_norm=bn, outer_kernel=k)
        assert sum(p.numel() for p in G.parameters()) == srresnet_weights(*args), args
    assert not any(isinstance(m, nn.BatchNorm2d) for m in SRResNet(channels=4, blocks=2, batch_norm=False).modules())


def test_residual_block_is_the_identity_plus_its_body():
    block = ResidualBlock(4).eval()
    x = torch.randn(2, 4, 6, 6)
    assert torch.allclose(block(x), x + block.body(x))
    with torch.no_grad():
        block.body[-1].weight.zero_()  # the last BatchNorm's gain: the body's output is its shift, 0
    assert torch.equal(block(x), x)


def test_bicubic_skip_with_a_silent_tail_gives_the_bicubic_upscale():
    torch.manual_seed(0)
    lr = images(2, 3, 8, 10)
    G = SRResNet(4, channels=8, blocks=1, bicubic_skip=True)
    with torch.no_grad():
        G.tail.weight.zero_()
        G.tail.bias.zero_()
    bicubic = F.interpolate(lr, scale_factor=4, mode="bicubic", align_corners=False, antialias=True)
    assert torch.equal(G(lr), bicubic)  # unclamped: the network's output is not squashed
    assert torch.equal(G.super_resolve(lr), upscale_bicubic(lr, 4))  # clamped to [-1, 1], as the baseline
    G.bicubic_skip = False
    assert torch.equal(G(lr), torch.zeros(2, 3, 32, 40))


def test_super_resolve_runs_in_eval_mode_and_restores_the_flag():
    torch.manual_seed(0)
    G = SRResNet(2, channels=4, blocks=1)
    lr = images(1, 3, 6, 6)
    running = G.body[0].body[1].running_mean.clone()
    with torch.no_grad():
        expected = G.eval()(lr).clamp(-1, 1)
    G.train()
    out = G.super_resolve(lr)
    assert G.training and torch.equal(G.body[0].body[1].running_mean, running)  # BN's statistics untouched
    assert torch.equal(out, expected) and not out.requires_grad
    assert torch.equal(G.super_resolve(lr[0]), expected[0])  # (3, h, w) in, (3, 2h, 2w) out
    G.eval()
    G.super_resolve(lr)
    assert not G.training


# --------------------------------------------------------------------------- the discriminator
@pytest.mark.parametrize("patch", [32, 96])
def test_discriminator_gives_one_logit_per_image(patch):
    torch.manual_seed(0)
    D = SRDiscriminator(patch, width=8, dense=16)
    assert D(images(3, 3, patch, patch)).shape == (3,)
    convs = [m for m in D.features if isinstance(m, nn.Conv2d)]
    assert [c.stride[0] for c in convs] == [1, 2] * 4 and [c.out_channels for c in convs] == [8, 8, 16, 16, 32, 32,
                                                                                               64, 64]
    assert len([m for m in D.features if isinstance(m, nn.BatchNorm2d)]) == 7  # all but after the first
    with pytest.raises(ValueError, match=f"x should have shape \\(N, 3, {patch}, {patch}\\)"):
        D(images(3, 3, patch + 16, patch + 16))


def test_the_papers_discriminator_by_hand():
    D = SRDiscriminator()  # 96 px, widths 64 .. 512, dense 1024
    widths = [64, 64, 128, 128, 256, 256, 512, 512]
    convs = 3 * 64 * 9 + 64 + sum(a * b * 9 + 2 * b for a, b in zip(widths, widths[1:]))
    dense = 512 * 6 * 6 * 1024 + 1024 + 1024 + 1
    assert sum(p.numel() for p in D.parameters()) == convs + dense


def _input_gradient(D, size):
    """The gradient, with respect to a flat white image, of the sum of D's features: D's backward pattern alone."""
    x = torch.ones(1, 3, size, size, requires_grad=True)
    D.features(x).sum().backward()
    return x.grad[0, 0, 32:-32, 32:-32]  # away from the borders, which the deepest layers see from 30 px in


def test_the_stride_kernel_sets_the_four_stride_2_layers_and_4_removes_the_backward_checkerboard():
    torch.manual_seed(0)
    D3, D4 = SRDiscriminator(128, 4, 8, stride_kernel=3).eval(), SRDiscriminator(128, 4, 8, stride_kernel=4).eval()
    kernels = lambda D: [m.kernel_size[0] for m in D.features if isinstance(m, nn.Conv2d)]  # noqa: E731
    assert kernels(D3) == [3] * 8 and kernels(D4) == [3, 4] * 4
    assert D4(images(2, 3, 128, 128)).shape == (2,)  # the same sizes at every layer
    for D in (D3, D4):  # every weight 1, every bias 0: only the layers' overlaps shape the gradient
        for m in D.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.ones_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def unevenness(g):  # how much the gradient varies over a flat image, relative to its mean
        return (g.std() / g.mean()).item()

    assert unevenness(_input_gradient(D3, 128)) > 0.1  # 3x3 kernels at stride 2 cover pixels unevenly (0.16): a grid
    assert unevenness(_input_gradient(D4, 128)) < 1e-5  # 4x4 kernels at stride 2 cover every pixel equally


def test_discriminator_patch_must_be_a_multiple_of_16():
    with pytest.raises(ValueError, match="multiple of 16"):
        SRDiscriminator(40)
    with pytest.raises(ValueError, match="patch"):
        SRDiscriminator(8)


# --------------------------------------------------------------------------- feature networks
def test_imagenet_normalize_by_hand():
    x = torch.tensor([-1.0, 0.0, 1.0]).view(3, 1, 1).expand(3, 3, 2).permute(1, 0, 2)[None]  # channel c: -1, 0, 1
    y = imagenet_normalize(x)
    for c in range(3):
        for k, v in enumerate((0.0, 0.5, 1.0)):
            assert y[0, c, k, 0].item() == pytest.approx((v - IMAGENET_MEAN[c]) / IMAGENET_STD[c], rel=1e-6)


def test_random_features_are_seeded_frozen_and_pass_gradients_to_the_image():
    torch.manual_seed(1)
    a = random_features()
    torch.manual_seed(2)  # the global stream plays no part in the weights
    b = random_features()
    c = random_features(seed=1)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa if k.endswith("weight"))
    assert all(not p.requires_grad for p in a.parameters())
    a.train()
    assert not a.training and not any(m.training for m in a.modules())
    nn.Sequential(a).train()  # as a part of a model that trains
    assert not a.training
    x = images(2, 3, 24, 24).requires_grad_(True)
    y = a(x)
    assert y.shape == (2, 128, 6, 6)  # widths 32, 64, 128; two 2x2 pools
    y.square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in a.parameters())


def test_random_features_see_a_32_px_window():
    """Two 3x3 convs (5 px), a pool (6), two convs at stride 2 (14), a pool (16), two at stride 4: 32 px. Measured by
    gradient on the same stack made linear (max-pools as average pools, no ReLU), where no path is switched off."""
    phi = random_features()
    linear = nn.Sequential(*[nn.AvgPool2d(2) if isinstance(m, nn.MaxPool2d) else nn.Identity() if isinstance(
        m, nn.ReLU) else m for m in phi.net])
    x = torch.zeros(1, 3, 64, 64, requires_grad=True)
    linear(x)[0, :, 8, 8].sum().backward()
    rows, cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1))).unbind(1)
    assert rows.max() - rows.min() + 1 == 32 and cols.max() - cols.min() + 1 == 32


def test_a_new_feature_extractor_says_it_is_in_eval_mode():
    phi = random_features(width=4, depth=1)
    assert not any(m.training for m in phi.net.modules())  # what the forward pass uses: eval
    assert not phi.training


def test_feature_extractor_scales_and_refuses_what_is_not_a_network():
    net = nn.Conv2d(3, 2, 1)
    phi = FeatureExtractor(net, normalize=lambda x: x, scale=0.5)
    x = images(1, 3, 4, 4)
    with torch.no_grad():
        assert torch.allclose(phi(x), 0.5 * net(x))
    assert "scale=0.5" in repr(phi)
    with pytest.raises(TypeError, match="net must be an nn.Module"):
        FeatureExtractor(lambda x: x)
    with pytest.raises(ValueError, match="scale must be positive"):
        FeatureExtractor(net, scale=0.0)


def test_content_loss_is_the_feature_mse_with_a_constant_target():
    phi = random_features(width=8, depth=2)
    hr = images(2, 3, 16, 16).requires_grad_(True)
    sr = images(2, 3, 16, 16, seed=1).requires_grad_(True)
    assert content_loss(phi, hr.detach(), hr.detach()).item() == 0.0
    loss = content_loss(phi, sr, hr)
    with torch.no_grad():
        assert loss.item() == pytest.approx(F.mse_loss(phi(sr), phi(hr)).item(), rel=1e-6)
    loss.backward()
    assert hr.grad is None and sr.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"hr should have shape \(2, 3, 16, 16\)"):
        content_loss(phi, sr, hr[:, :, :8])


def test_vgg19_offline_without_cached_weights_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("GANLAB_DOWNLOAD", "0")
    with pytest.raises(DownloadNotAllowed, match="random_features"):
        vgg19_features()
    monkeypatch.setenv("GANLAB_DOWNLOAD", "1")
    with pytest.raises(DownloadNotAllowed, match=str(tmp_path / "hub" / "checkpoints")):
        vgg19_features(download=False)
    with pytest.raises(ValueError, match="unknown layer 'relu6_1'"):
        vgg19_features("relu6_1")


@pytest.mark.slow  # builds VGG19 twice (143 M weights): about 5 s
def test_vgg19_loads_a_cached_file_without_the_network(tmp_path, monkeypatch):
    from torchvision.models import vgg19

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("GANLAB_DOWNLOAD", "0")
    torch.manual_seed(0)
    net = vgg19()  # random weights, saved where torchvision's cache keeps the ImageNet ones
    # the classifier's 120 M weights are never used by the features: saved as one zero, broadcast, to keep the file
    # at 80 MB (the loader copies them into the full-size tensors all the same)
    state = {k: v if k.startswith("features.") else torch.zeros(()).expand(v.shape)
             for k, v in net.state_dict().items()}
    cache = tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cache.parent.mkdir(parents=True)
    torch.save(state, cache)

    def no_network(*args, **kwargs):
        raise AssertionError("vgg19_features went to the network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    phi = vgg19_features()
    assert isinstance(phi, FeatureExtractor) and not any(m.training for m in phi.net.modules())
    assert all(not p.requires_grad for p in phi.parameters())
    x = images(2, 3, 32, 32)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        out = phi(x)
        expected = net.features[:36](((x + 1) / 2 - mean) / std) / 12.75  # VGG54, ImageNet input, the paper's scale
        unnormalised = net.features[:36]((x + 1) / 2) / 12.75
    assert out.shape == (2, 512, 2, 2) and expected.abs().max() > 0
    assert torch.allclose(out, expected, rtol=1e-4, atol=1e-7)
    assert not torch.allclose(out, unnormalised, rtol=1e-2, atol=1e-5)
    shallow = vgg19_features("relu2_2")
    assert len(shallow.net) == VGG19_LAYERS["relu2_2"] and shallow(x).shape == (2, 128, 16, 16)


# --------------------------------------------------------------------------- network interpolation
def trained_pair():
    """Two SRResNets of one architecture with different weights and BatchNorm statistics."""
    torch.manual_seed(0)
    a = SRResNet(2, channels=4, blocks=1)
    torch.manual_seed(1)
    b = SRResNet(2, channels=4, blocks=1)
    a(images(2, 3, 8, 8))  # train mode: running statistics move, the batch counter counts
    for seed in (1, 2, 3):
        b(images(2, 3, 8, 8, seed=seed) * 0.5)
    return a, b


def test_interpolation_at_0_and_1_gives_the_two_networks():
    a, b = trained_pair()
    sa, sb = a.state_dict(), b.state_dict()
    at_0, at_1 = interpolate_networks(a, b, 0.0).state_dict(), interpolate_networks(a, b, 1).state_dict()
    for k in sa:
        assert torch.equal(at_0[k], sa[k]), k
        if sa[k].is_floating_point():
            assert torch.equal(at_1[k], sb[k]), k
        else:  # BatchNorm's batch counter comes from a
            assert torch.equal(at_1[k], sa[k]) and not torch.equal(sa[k], sb[k]), k


def test_interpolation_halfway_is_the_mean_of_weights_and_statistics_and_changes_neither_input():
    a, b = trained_pair()
    before_a, before_b = copy.deepcopy(a.state_dict()), copy.deepcopy(b.state_dict())
    mid = interpolate_networks(a, b, 0.5)
    assert type(mid) is SRResNet and mid is not a
    sm = mid.state_dict()
    keys = [k for k in sm if "running" in k]
    assert keys and all(not torch.equal(before_a[k], before_b[k]) for k in keys)
    for k, v in sm.items():
        if v.is_floating_point():
            assert torch.allclose(v, (before_a[k] + before_b[k]) / 2, atol=1e-7), k
        else:
            assert torch.equal(v, before_a[k])
    for net, before in ((a, before_a), (b, before_b)):
        assert all(torch.equal(net.state_dict()[k], before[k]) for k in before)
    with torch.no_grad():
        next(mid.parameters()).add_(1.0)  # the new network shares no tensor with a
    assert all(torch.equal(a.state_dict()[k], before_a[k]) for k in before_a)


def test_interpolation_refuses_networks_of_other_architectures():
    a, _ = trained_pair()
    for other in (SRResNet(2, channels=8, blocks=1), SRResNet(2, channels=4, blocks=2), SRResNet(4, 4, 1),
                  SRDiscriminator(32, 4, 8)):
        with pytest.raises(ValueError, match="same architecture"):
            interpolate_networks(a, other, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        interpolate_networks(a, a, 1.5)

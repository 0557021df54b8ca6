import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab import losses
from ganlab.convnets import (ConditionalBatchNorm2d, ConditionalDCGANGenerator, DCGANDiscriminator, DCGANGenerator,
                             ProjectionDiscriminator, dcgan_init_)
from ganlab.train import d_step, g_step

SIZES = [28, 32, 64]


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("image_size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_output_shapes(image_size, channels):
    G = DCGANGenerator(latent_dim=16, channels=channels, width=8, image_size=image_size)
    D = DCGANDiscriminator(channels=channels, width=8, image_size=image_size)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, channels, image_size, image_size)
    assert D(x).shape == (5,)
    assert G(torch.randn(5, 16, 1, 1)).shape == x.shape  # z as a 1x1 map works too
    assert G.sample(3).shape == (3, channels, image_size, image_size)
    assert DCGANDiscriminator(channels, 8, image_size, spectral_norm=True)(x).shape == (5,)

    y = torch.tensor([0, 1, 2, 3, 9])
    cG = ConditionalDCGANGenerator(n_classes=10, latent_dim=16, channels=channels, width=8, image_size=image_size)
    pD = ProjectionDiscriminator(n_classes=10, channels=channels, width=8, image_size=image_size)
    assert cG(torch.randn(5, 16), y).shape == x.shape
    assert pD(x, y).shape == (5,)
    assert cG.sample(4).shape == (4, channels, image_size, image_size)


def test_generator_output_is_in_tanh_range():
    x = DCGANGenerator(latent_dim=8, channels=1, width=8, image_size=28).sample(16)
    assert x.abs().max() <= 1 and isinstance(DCGANGenerator().net[-1], nn.Tanh)


def test_paper_architecture_at_64px():
    """Radford et al. 2015, fig. 1, as in pytorch/examples dcgan: kernel 4, stride 2, padding 1, no biases."""
    G, D = DCGANGenerator(latent_dim=100, channels=3, width=64), DCGANDiscriminator(channels=3, width=64)
    convs = [(type(m).__name__, m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.bias)
             for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    T = "ConvTranspose2d"
    assert convs == [(T, 100, 512, (4, 4), (1, 1), (0, 0), None), (T, 512, 256, (4, 4), (2, 2), (1, 1), None),
                     (T, 256, 128, (4, 4), (2, 2), (1, 1), None), (T, 128, 64, (4, 4), (2, 2), (1, 1), None),
                     (T, 64, 3, (4, 4), (2, 2), (1, 1), None)]
    assert [type(m).__name__ for m in G.net] == ["ConvTranspose2d", "BatchNorm2d", "ReLU"] * 4 + [T, "Tanh"]

    convs = [(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.bias)
             for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(3, 64, (4, 4), (2, 2), (1, 1), None), (64, 128, (4, 4), (2, 2), (1, 1), None),
                     (128, 256, (4, 4), (2, 2), (1, 1), None), (256, 512, (4, 4), (2, 2), (1, 1), None),
                     (512, 1, (4, 4), (1, 1), (0, 0), None)]
    layers = [type(m).__name__ for m in list(D.features) + [D.head]]
    assert layers == ["Conv2d", "LeakyReLU"] + ["Conv2d", "BatchNorm2d", "LeakyReLU"] * 3 + ["Conv2d"]
    assert all(m.negative_slope == 0.2 for m in D.modules() if isinstance(m, nn.LeakyReLU))
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


def test_paper_configuration_parameter_counts():
    """Summed by hand from the layer list: every conv k*k*c_in*c_out (no bias), every BatchNorm 2c."""
    def conv(c_in: int, c_out: int) -> int:
        return 4 * 4 * c_in * c_out

    def bn(c: int) -> int:
        return 2 * c  # gain and bias

    w, nz, nc = 64, 100, 3
    g = (conv(nz, 8 * w) + bn(8 * w) + conv(8 * w, 4 * w) + bn(4 * w) + conv(4 * w, 2 * w) + bn(2 * w)
         + conv(2 * w, w) + bn(w) + conv(w, nc))
    d = (conv(nc, w) + conv(w, 2 * w) + bn(2 * w) + conv(2 * w, 4 * w) + bn(4 * w) + conv(4 * w, 8 * w) + bn(8 * w)
         + conv(8 * w, 1))
    assert (g, d) == (3_576_704, 2_765_568)  # the pytorch/examples dcgan's counts
    assert n_params(DCGANGenerator(latent_dim=nz, channels=nc, width=w, image_size=64)) == g
    assert n_params(DCGANDiscriminator(channels=nc, width=w, image_size=64)) == d


def test_28px_layout_projects_to_7x7_and_mirrors_it():
    G, D = DCGANGenerator(latent_dim=10, channels=1, width=8, image_size=28), DCGANDiscriminator(1, 8, 28)
    assert G.net[0].kernel_size == (7, 7) and G.net[:3](torch.randn(2, 10, 1, 1)).shape == (2, 16, 7, 7)
    assert D.features(torch.randn(2, 1, 28, 28)).shape == (2, 16, 7, 7) and D.head.kernel_size == (7, 7)
    assert DCGANDiscriminator(1, 8, 32).features(torch.randn(2, 1, 32, 32)).shape == (2, 32, 4, 4)


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_init_statistics(spectral_norm):
    torch.manual_seed(0)
    for net in (DCGANGenerator(), DCGANDiscriminator(spectral_norm=spectral_norm)):
        convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        weights = torch.cat([(m.parametrizations.weight.original if spectral_norm and isinstance(net, DCGANDiscriminator)
                              else m.weight).detach().flatten() for m in convs])
        assert abs(weights.mean()) < 1e-3 and weights.std() == pytest.approx(0.02, rel=0.01)
        bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        assert bool(bns) != (spectral_norm and isinstance(net, DCGANDiscriminator))  # SN replaces BN in D
        if bns:
            gains = torch.cat([m.weight.detach() for m in bns])
            assert gains.mean() == pytest.approx(1, abs=0.005) and gains.std() == pytest.approx(0.02, rel=0.1)
            assert all((m.bias == 0).all() for m in bns)


def test_dcgan_init_resets_any_module():
    net = dcgan_init_(nn.Sequential(nn.Conv2d(64, 64, 3), nn.BatchNorm2d(64), nn.Linear(64, 64)))
    assert net[0].weight.std().item() == pytest.approx(0.02, rel=0.05) and (net[0].bias == 0).all()
    assert net[1].weight.mean().item() == pytest.approx(1, abs=0.01) and (net[2].bias == 0).all()


def test_spectral_norm_discriminator_has_no_batchnorm_and_bounded_layers():
    D = DCGANDiscriminator(channels=1, width=8, image_size=28, spectral_norm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in convs)
    for _ in range(30):  # power iteration converges while training
        D(torch.randn(4, 1, 28, 28))
    for m in convs:
        assert torch.linalg.matrix_norm(m.weight.flatten(1), ord=2) <= 1.05


def test_discriminator_returns_logits_not_probabilities():
    D = DCGANDiscriminator(channels=1, width=8, image_size=28)
    with torch.no_grad():
        D.head.weight.mul_(1000)
    out = D(torch.randn(64, 1, 28, 28))
    assert out.shape == (64,) and (out.min() < 0 or out.max() > 1)


def test_wrong_shapes_get_clear_errors():
    G, D = DCGANGenerator(latent_dim=16, channels=1, width=8, image_size=28), DCGANDiscriminator(1, 8, 28)
    with pytest.raises(ValueError, match=r"generator's input z should have shape \(N, 16\), got \(4, 15\)"):
        G(torch.randn(4, 15))
    with pytest.raises(ValueError, match=r"should have shape \(N, 16, 1, 1\), got \(4, 16, 2, 2\)"):
        G(torch.randn(4, 16, 2, 2))
    with pytest.raises(ValueError, match=r"discriminator's input x should have shape \(N, 1, 28, 28\), got \(2, 1, 32, 32\)"):
        D(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"should have shape \(N, 1, 28, 28\), got \(2, 3, 28, 28\)"):
        D(torch.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"should have shape \(N, 1, 28, 28\), got \(1, 28, 28\)"):
        D(torch.randn(1, 28, 28))
    with pytest.raises(TypeError, match="torch.Tensor"):
        D([[0.0]])
    pD = ProjectionDiscriminator(n_classes=10, channels=3, width=8, image_size=32)
    with pytest.raises(ValueError, match=r"should have shape \(N, 3, 32, 32\), got \(2, 1, 28, 28\)"):
        pD(torch.randn(2, 1, 28, 28), torch.tensor([0, 1]))


@pytest.mark.parametrize("make", [DCGANGenerator, DCGANDiscriminator, ConditionalDCGANGenerator,
                                  ProjectionDiscriminator])
def test_bad_image_size_lists_the_valid_ones(make):
    with pytest.raises(ValueError, match=r"image_size must be one of \[28, 32, 64\], got 48"):
        make(image_size=48)


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="width must be a positive integer"):
        DCGANGenerator(width=0)
    with pytest.raises(ValueError, match="n_classes must be a positive integer"):
        ProjectionDiscriminator(n_classes=0)


@pytest.mark.parametrize("labels, message", [
    (torch.tensor([0.0, 1.0, 2.0, 3.0]), r"labels y should be a LongTensor \(torch.int64\).*got dtype torch.float32"),
    (torch.tensor([0, 1, 2, 3], dtype=torch.int32), r"labels y should be a LongTensor \(torch.int64\).*got dtype torch.int32"),
    (torch.tensor([[0], [1], [2], [3]]), r"labels y should have shape \(4,\).*got \(4, 1\)"),
    (torch.tensor([0, 1, 2]), r"labels y should have shape \(4,\).*got \(3,\)"),
    (torch.tensor([0, 1, 2, 10]), r"labels y should lie in \[0, 10\), got values from 0 to 10"),
    (torch.tensor([-1, 1, 2, 3]), r"labels y should lie in \[0, 10\), got values from -1 to 3"),
])
def test_bad_labels_get_clear_errors(labels, message):
    G = ConditionalDCGANGenerator(n_classes=10, latent_dim=8, channels=1, width=8, image_size=28)
    D = ProjectionDiscriminator(n_classes=10, channels=1, width=8, image_size=28)
    with pytest.raises(ValueError, match="generator's " + message):
        G(torch.randn(4, 8), labels)
    with pytest.raises(ValueError, match="discriminator's " + message):
        D(torch.randn(4, 1, 28, 28), labels)
    with pytest.raises(TypeError, match="class indices"):
        D(torch.randn(4, 1, 28, 28), [0, 1, 2, 3])


def test_conditional_batchnorm_matches_batchnorm_with_per_class_affine():
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(num_features=6, n_classes=3)
    x, y = torch.randn(8, 6, 5, 5), torch.tensor([0, 1, 2, 0, 1, 2, 2, 2])
    assert torch.allclose(cbn(x, y), F.batch_norm(x, None, None, training=True), atol=1e-6)  # gamma 1, beta 0
    with torch.no_grad():
        cbn.gain.weight.normal_()
        cbn.bias.weight.normal_()
    gamma, beta = cbn.gain.weight[y][:, :, None, None], cbn.bias.weight[y][:, :, None, None]
    expected = gamma * F.batch_norm(x, None, None, training=True) + beta
    assert torch.allclose(cbn(x, y), expected, atol=1e-5)
    # only the rows of the classes in the batch receive gradients
    cbn.zero_grad()
    cbn(x, torch.full((8,), 1)).square().sum().backward()
    for table in (cbn.gain, cbn.bias):
        assert table.weight.grad[1].abs().sum() > 0 and (table.weight.grad[[0, 2]] == 0).all()


def test_conditional_generator_depends_on_the_label():
    torch.manual_seed(0)
    G = ConditionalDCGANGenerator(n_classes=10, latent_dim=8, channels=1, width=8, image_size=28).eval()
    cbns = [m for m in G.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(cbns) == 2 and not any(isinstance(m, nn.BatchNorm2d) and m.affine for m in G.modules())
    z = torch.randn(1, 8).repeat(2, 1)
    y = torch.tensor([3, 7])
    x = G(z, y)
    assert torch.allclose(x[0], x[1])  # at init every class has gain 1 and bias 0
    with torch.no_grad():  # as after training: each class its own gains and biases
        for m in cbns:
            m.gain.weight.normal_(1, 0.2)
            m.bias.weight.normal_(0, 0.2)
    x = G(z, y)
    assert (x[0] - x[1]).abs().max() > 1e-3
    assert torch.equal(G(z, torch.tensor([3, 3]))[1], x[0])  # same z, same label: same image


def test_conditional_sample_cycles_over_classes_by_default():
    G = ConditionalDCGANGenerator(n_classes=3, latent_dim=8, channels=1, width=8, image_size=28).eval()
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.bias.weight.normal_()
    default = G.sample(7, generator=torch.Generator().manual_seed(1))
    explicit = G.sample(7, labels=torch.tensor([0, 1, 2, 0, 1, 2, 0]), generator=torch.Generator().manual_seed(1))
    assert torch.equal(default, explicit)
    with pytest.raises(ValueError, match=r"labels to sample should have shape \(7,\)"):
        G.sample(7, labels=torch.tensor([0, 1]))


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_projection_discriminator_is_psi_plus_inner_product(spectral_norm):
    """Miyato & Koyama 2018, eq. 3: f(x, y) = psi(phi(x)) + <embed(y), phi(x)>, computed by hand."""
    torch.manual_seed(0)
    D = ProjectionDiscriminator(n_classes=5, channels=3, width=8, image_size=32, spectral_norm=spectral_norm)
    D(torch.randn(8, 3, 32, 32), torch.arange(8) % 5)  # one training step of BN statistics / power iteration
    D.eval()
    x, y = torch.randn(6, 3, 32, 32), torch.tensor([0, 4, 2, 2, 1, 3])
    phi = D.features(x).sum(dim=(2, 3))  # global sum pooling
    assert phi.shape == (6, 32)
    psi = phi @ D.psi.weight.T + D.psi.bias  # (6, 1)
    projection = (D.embed.weight[y] * phi).sum(dim=1)
    assert torch.allclose(D(x, y), psi[:, 0] + projection, atol=1e-5)
    assert not torch.allclose(D(x, y), D(x, (y + 1) % 5))  # the class changes the logit
    assert (not spectral_norm) == any(isinstance(m, nn.BatchNorm2d) for m in D.modules())


def _changed(before: nn.Module, after: nn.Module) -> bool:
    """Every weight moved (a last bias may not: under the hinge loss its gradient is 1 - 1 = 0)."""
    pairs = zip(before.named_parameters(), after.parameters())
    return all(not torch.equal(p, q) for (name, p), q in pairs if "weight" in name)


@pytest.mark.parametrize("loss_name, spectral_norm", [("nonsaturating", False), ("hinge", True), ("r1", False)])
def test_a_few_training_steps_on_28px_data(loss_name, spectral_norm):
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=8, channels=1, width=8, image_size=28)
    D = DCGANDiscriminator(channels=1, width=8, image_size=28, spectral_norm=spectral_norm)
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))  # Radford et al. 2015, sec. 4
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loss, real = losses.get_loss(loss_name), torch.rand(8, 1, 28, 28) * 2 - 1
    for _ in range(3):
        stats = d_step(G, D, real, torch.randn(8, 8), opt_d, loss) | g_step(G, D, torch.randn(8, 8), opt_g, loss)
        assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert _changed(G0, G) and _changed(D0, D)


def test_a_few_conditional_training_steps_on_28px_data():
    torch.manual_seed(0)
    G = ConditionalDCGANGenerator(n_classes=10, latent_dim=8, channels=1, width=8, image_size=28)
    D = ProjectionDiscriminator(n_classes=10, channels=1, width=8, image_size=28, spectral_norm=True)
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    opt_g, opt_d = torch.optim.Adam(G.parameters(), lr=2e-4), torch.optim.Adam(D.parameters(), lr=2e-4)
    real, y = torch.rand(8, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (8,))
    for _ in range(3):
        opt_d.zero_grad()
        fake = G(torch.randn(8, 8), y).detach()
        loss_d = losses.d_loss_hinge(D(real, y), D(fake, y))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = losses.g_loss_wasserstein(D(G(torch.randn(8, 8), y), y))
        loss_g.backward()
        opt_g.step()
        assert torch.isfinite(loss_d) and torch.isfinite(loss_g)
    assert _changed(G0, G) and _changed(D0, D)


def test_bfloat16_autocast_on_cpu():
    G = DCGANGenerator(latent_dim=8, channels=1, width=8, image_size=28)
    D = DCGANDiscriminator(channels=1, width=8, image_size=28)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = D(G(torch.randn(4, 8)))
    assert out.shape == (4,) and torch.isfinite(out.float()).all()


@pytest.mark.cuda
def test_cuda_channels_last_autocast():
    device = torch.device("cuda")
    G = ConditionalDCGANGenerator(n_classes=10, latent_dim=16, channels=3, width=16, image_size=32)
    D = ProjectionDiscriminator(n_classes=10, channels=3, width=16, image_size=32)
    uG = DCGANGenerator(latent_dim=16, channels=3, width=16, image_size=32)
    uD = DCGANDiscriminator(channels=3, width=16, image_size=32, spectral_norm=True)
    for net in (G, D, uG, uD):
        net.to(device, memory_format=torch.channels_last)
    y = torch.arange(8, device=device) % 10
    with torch.autocast("cuda", dtype=torch.float16):
        x = G(torch.randn(8, 16, device=device), y).contiguous(memory_format=torch.channels_last)
        logits = D(x, y)
        u_logits = uD(uG(torch.randn(8, 16, device=device)))
    assert x.shape == (8, 3, 32, 32) and x.is_cuda and logits.shape == u_logits.shape == (8,)
    (logits.float().mean() + u_logits.float().mean()).backward()
    assert torch.isfinite(logits.float()).all() and torch.isfinite(u_logits.float()).all()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in D.parameters())

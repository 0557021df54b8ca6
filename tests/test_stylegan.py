import functools
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganlab
from ganlab.convnets import DCGANDiscriminator
from ganlab.image_recipes import training_digits
from ganlab.stylegan import AdaIN, MappingNetwork, NoiseInjection, StyleGenerator, adain
from ganlab.train import TrainConfig, ema_of, fit


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def tiny(**overrides) -> StyleGenerator:
    """A generator of a few thousand weights: 8 channels, 8-d z and w, 2 mapping layers."""
    torch.manual_seed(0)
    return StyleGenerator(**(dict(latent_dim=8, w_dim=8, channels=1, width=8, image_size=32, mapping_layers=2)
                             | overrides))


def with_noise_weights(G: StyleGenerator, value: float = 0.3) -> StyleGenerator:
    """Noise weights start at 0 (noise has no effect yet); give them a value so that tests can see the noise."""
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, NoiseInjection):
                m.weight.fill_(value)
    return G


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_adain_sets_each_channels_mean_and_std():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 8, 8) * 5 + 2
    scale, bias = torch.rand(4, 3) + 0.1, torch.randn(4, 3)
    y = adain(x, scale, bias)
    assert torch.allclose(y.mean(dim=(2, 3)), bias, atol=1e-4)
    assert torch.allclose(y.std(dim=(2, 3), unbiased=False), scale, atol=1e-4)
    reference = F.instance_norm(x, eps=1e-8) * scale[:, :, None, None] + bias[:, :, None, None]  # torch's own
    assert torch.allclose(y, reference, atol=1e-5)


def test_adain_module_applies_one_plus_its_affine_map_of_w():
    torch.manual_seed(0)
    layer, x, w = AdaIN(w_dim=5, channels=3), torch.randn(2, 3, 4, 4), torch.randn(2, 5)
    s, b = layer.affine(w).chunk(2, dim=1)
    assert torch.allclose(layer(x, w), adain(x, 1 + s, b))
    assert n_params(layer) == 5 * 6 + 6


def test_noise_injection_starts_silent_and_scales_noise_per_channel():
    layer, x = NoiseInjection(3), torch.randn(2, 3, 4, 4)
    assert torch.equal(layer(x), x)  # weights start at 0
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.0, 1.0, 2.0]))
    noise = torch.randn(2, 1, 4, 4)
    y = layer(x, noise)
    assert torch.equal(y[:, 0], x[:, 0]) and torch.allclose(y[:, 2] - x[:, 2], 2 * noise[:, 0])
    assert torch.equal(layer(x, noise), y) and not torch.equal(layer(x), layer(x))  # given: fixed; None: fresh
    assert torch.allclose(layer(x, noise[:1]) - x, layer.weight[None, :, None, None] * noise[:1])  # one for all


def test_mapping_network_normalises_z_and_has_the_paper_size():
    torch.manual_seed(0)
    f = MappingNetwork(latent_dim=6, w_dim=5, layers=3)
    z = torch.randn(4, 6)
    assert f(z).shape == (4, 5) and torch.allclose(f(3 * z), f(z), atol=1e-5)  # pixel norm: only z's direction
    assert n_params(MappingNetwork(512, 512, 8)) == 8 * (512 * 512 + 512) == 2_101_248  # sec. 2: 8 layers of 512
    first = f.net[0]  # lr_mul 0.01: weights stored 100x larger, applied at (0.01 sqrt(2) / sqrt(fan_in)) times that
    assert first.weight.std().item() == pytest.approx(100, rel=0.4)
    assert first.scale == pytest.approx(0.01 * 2 ** 0.5 / 6 ** 0.5)


@pytest.mark.parametrize("image_size, n_styles", [(8, 4), (16, 6), (32, 8)])
def test_output_shape_range_and_number_of_styles(image_size, n_styles):
    G = tiny(image_size=image_size, channels=3)
    x = G(torch.randn(5, 8) * 10)
    assert x.shape == (5, 3, image_size, image_size) and x.abs().max() <= 1
    assert G.n_styles == n_styles and G.latent_dim == 8
    assert G.sample(2).shape == (2, 3, image_size, image_size)
    assert [n.shape[-1] for n in G.make_noise(1)] == G.noise_sizes() == [4 * 2 ** (i // 2) for i in range(n_styles)]


def test_paper_configuration_parameter_counts():
    """The paper's G cut at 32 px (512 channels at 4 to 32 px, as in the paper), summed by hand."""
    c, w_dim, rgb = 512, 512, 3
    epilogue = c + c + (w_dim * 2 * c + 2 * c)  # noise weights, bias, A: w -> (y_s, y_b)
    conv = 3 * 3 * c * c  # convs have no bias of their own: the epilogue adds it after the noise
    synthesis = (c * 4 * 4 + epilogue) + (conv + epilogue) + 3 * 2 * (conv + epilogue) + (c * rgb + rgb)
    assert (c * 4 * 4 + epilogue, conv + epilogue) == (534_528, 2_885_632)  # the 4x4 Const and Conv layers
    G = StyleGenerator(latent_dim=512, w_dim=512, channels=rgb, width=c, image_size=32, mapping_layers=8)
    assert n_params(G.mapping) == 2_101_248 and n_params(G) == 2_101_248 + synthesis == 22_836_739
    assert n_params(tiny()) == 2 * (8 * 8 + 8) + 8 * 16 + 8 * (8 + 8 + 8 * 16 + 16) + 7 * 9 * 64 + 8 + 1


def test_one_w_for_every_style_is_the_plain_forward():
    G = with_noise_weights(tiny()).eval()
    z, noise = torch.randn(4, 8), G.make_noise(4)
    ws = G.mapping(z)[:, None].expand(-1, G.n_styles, -1)
    assert torch.equal(G(z, noise=noise), G.synthesis(ws, noise))
    assert torch.equal(G.mix_styles(z, z, 3, noise), G(z, noise=noise))


def test_mix_styles_takes_styles_below_the_crossover_from_z1():
    G = with_noise_weights(tiny()).eval()
    z1, z2, noise = torch.randn(3, 8), torch.randn(3, 8), G.make_noise(1)  # one noise image for the whole batch
    w1, w2 = G.mapping(z1), G.mapping(z2)

    def all_from(w):
        return G.synthesis(w[:, None].expand(-1, G.n_styles, -1), noise)

    assert torch.equal(G.mix_styles(z1, z2, 0, noise), all_from(w2))
    assert torch.equal(G.mix_styles(z1, z2, G.n_styles, noise), all_from(w1))
    ws = torch.stack([w1, w1, w1, w2, w2, w2, w2, w2], dim=1)  # crossover 3
    mixed = G.mix_styles(z1, z2, 3, noise)
    assert torch.equal(mixed, G.synthesis(ws, noise)) and not torch.equal(mixed, all_from(w1))


def test_truncation_to_the_tracked_average():
    G = with_noise_weights(tiny()).train()
    for _ in range(5):  # move w_avg away from 0
        G(torch.randn(16, 8))
    G.eval()
    assert G.w_avg.abs().sum() > 0
    z, noise = torch.randn(4, 8), G.make_noise(1)
    w = G.mapping(z)
    average = G.synthesis(G.w_avg.expand(1, G.n_styles, -1), noise)  # (1, 1, 32, 32)
    truncated = G.synthesis(G.truncate(w, 0.0)[:, None].expand(-1, G.n_styles, -1), noise)
    assert torch.allclose(truncated, average.expand(4, -1, -1, -1), atol=1e-5)  # batch of 4 vs 1: rounding
    assert torch.equal(G.truncate(w, 1.0), w) and torch.allclose(G.truncate(w, 0.5), (w + G.w_avg) / 2)
    ws = G.truncate(w, 0.0, cutoff=2)  # only the two 4 px styles
    assert ws.shape == (4, G.n_styles, 8) and torch.allclose(ws[:, :2], G.w_avg.expand(4, 2, -1))
    assert torch.equal(ws[:, 2:], w[:, None].expand(-1, G.n_styles - 2, -1))
    g = torch.Generator().manual_seed(1)
    z = torch.randn(3, 8, generator=g)  # what sample draws from its generator: z, then the noise
    by_hand = G.synthesis(G.mapping(z)[:, None].expand(-1, G.n_styles, -1), G.make_noise(3, g))
    assert torch.equal(G.sample(3, generator=torch.Generator().manual_seed(1)), by_hand)
    first, second = (G.sample(3, psi=p, generator=torch.Generator().manual_seed(1)) for p in (0.0, 1.0))
    assert not torch.allclose(first, second)


def test_sample_with_psi_zero_gives_the_same_image_for_every_z():
    G = tiny()  # noise weights 0 at init: the image is a function of w alone
    G.train()(torch.randn(16, 8))
    x = G.eval().sample(6, psi=0.0)
    assert torch.allclose(x, x[:1].expand(6, -1, -1, -1), atol=1e-6)


def test_w_avg_is_a_moving_average_in_training_mode_only():
    G = tiny(mixing_prob=0.0)
    z = torch.randn(16, 8)
    G.eval()(z)
    G.sample(4)
    G.mix_styles(z, z, 2)
    assert torch.equal(G.w_avg, torch.zeros(8))
    G.train()
    G.sample(4)
    assert torch.equal(G.w_avg, torch.zeros(8))  # sampling is inference, in any mode
    before = torch.randn(8)
    G.w_avg.copy_(before)
    G(z)
    assert torch.allclose(G.w_avg, 0.995 * before + 0.005 * G.mapping(z).mean(0), atol=1e-6)
    assert "w_avg" in dict(G.named_buffers()) and not G.w_avg.requires_grad


def test_fixed_noise_is_deterministic_and_fresh_noise_changes_the_image():
    G = with_noise_weights(tiny()).eval()
    z, noise = torch.randn(2, 8), G.make_noise(2)
    assert torch.equal(G(z, noise=noise), G(z, noise=noise))
    assert not torch.allclose(G(z), G(z))
    assert torch.equal(tiny().eval()(z), tiny().eval()(z))  # noise weights 0 at init: no effect yet


def test_mixing_regularisation_in_training_mode_only():
    G = with_noise_weights(tiny(mixing_prob=1.0))
    z, noise = torch.randn(4, 8), G.make_noise(4)
    plain = G.eval()(z, noise=noise)
    assert torch.equal(G(z, noise=noise), plain)  # eval: never mixed
    G.train()
    torch.manual_seed(0)
    assert all(not torch.allclose(G(z, noise=noise), plain) for _ in range(3))  # always mixed at probability 1
    assert torch.equal(G(z, mix=False, noise=noise), plain)  # switched off for one call
    assert not torch.allclose(G.eval()(z, mix=True, noise=noise), plain)  # or on in eval mode
    assert torch.equal(tiny(mixing_prob=0.0).train()(z, noise=noise), tiny().eval()(z, noise=noise))


def test_fit_trains_it_against_a_dcgan_discriminator():
    torch.manual_seed(0)
    G, D = tiny(), DCGANDiscriminator(channels=1, width=8, image_size=32)
    digits = training_digits(image_size=32, n=64)
    before = [p.detach().clone() for p in G.parameters()]
    ema = ema_of(G, 0.9)
    history = fit(G, D, digits, TrainConfig(steps=2, batch_size=8, log_every=1, progress=False), ema=ema)
    assert history.last_step == 2 and len(history["loss_g"]) == 2
    assert all(not torch.equal(a, b) for a, b in zip(before, G.parameters()) if b.grad is not None)
    assert G.w_avg.abs().sum() > 0 and ema.module.w_avg.abs().sum() > 0
    assert ganlab.image_recipes.generate(ema.module, torch.randn(3, 8)).shape == (3, 1, 28, 28)


def _error(fn, kind, *words):
    with pytest.raises(kind) as info:
        fn()
    for word in words:
        assert re.search(re.escape(word), str(info.value)), (word, str(info.value))


@functools.lru_cache(maxsize=1)
def g8() -> StyleGenerator:
    """One tiny generator (8 styles, 8-d z and w) shared by the bad-input cases."""
    return tiny()


@pytest.mark.parametrize("call, kind, words", [
    (lambda: g8()(torch.randn(3, 5)), ValueError, ("the generator's input z", "(N, 8)", "(3, 5)")),
    (lambda: g8()(torch.randn(3, 8).double()), TypeError, ("z", "torch.float32", "torch.float64")),
    (lambda: g8()([0.0] * 8), TypeError, ("z", "torch.Tensor", "list")),
    (lambda: g8()(torch.randn(3, 8), mix="yes"), TypeError, ("mix", "True or False", "str")),
    (lambda: g8().mix_styles(torch.randn(2, 8), torch.randn(2, 8), 9), ValueError, ("crossover", "0 to 8", "9")),
    (lambda: g8().mix_styles(torch.randn(2, 8), torch.randn(2, 8), 1.5), TypeError, ("crossover", "float")),
    (lambda: g8().mix_styles(torch.randn(2, 8), torch.randn(3, 8), 2), ValueError, ("z1 and z2", "2 and 3")),
    (lambda: g8().mix_styles(torch.randn(2, 8), torch.randn(2, 7), 2), ValueError, ("z2", "(N, 8)", "(2, 7)")),
    (lambda: g8().truncate(torch.randn(2, 8), "0.7"), TypeError, ("psi", "a number", "str")),
    (lambda: g8().truncate(torch.randn(2, 8), float("nan")), ValueError, ("psi", "finite", "nan")),
    (lambda: g8().truncate(torch.randn(2, 8), 0.7, cutoff=9), ValueError, ("cutoff", "0 to 8", "9")),
    (lambda: g8().truncate(torch.randn(2, 3, 8), 0.7), ValueError, ("w", "(N, 8, 8)", "(2, 3, 8)")),
    (lambda: g8().sample(0), ValueError, ("n", "positive integer", "0")),
    (lambda: g8().sample(2, psi=None), TypeError, ("psi", "a number", "NoneType")),
    (lambda: g8().synthesis(torch.randn(2, 8)), ValueError, ("the styles ws", "(N, 8, 8)", "(2, 8)")),
    (lambda: g8().synthesis(torch.randn(2, 8, 8), noise=torch.randn(2, 1, 4, 4)), TypeError,
     ("noise", "list of 8 tensors", "Tensor")),
    (lambda: g8().synthesis(torch.randn(2, 8, 8), noise=g8().make_noise(2)[:3]), ValueError,
     ("noise", "list of 8 tensors", "got 3")),
    (lambda: g8().synthesis(torch.randn(2, 8, 8), noise=g8().make_noise(2)[::-1]), ValueError,
     ("noise[0]", "(2 or 1, 1, 4, 4)", "(2, 1, 32, 32)")),
    (lambda: StyleGenerator(image_size=28), ValueError, ("image_size", "[8, 16, 32, 64]", "28")),
    (lambda: StyleGenerator(mixing_prob=1.5), ValueError, ("mixing_prob", "[0, 1]", "1.5")),
    (lambda: StyleGenerator(w_avg_decay=1.0), ValueError, ("w_avg_decay", "[0, 1)", "1.0")),
    (lambda: StyleGenerator(width=0), ValueError, ("width", "positive integer", "0")),
    (lambda: StyleGenerator(mapping_layers=0), ValueError, ("mapping_layers", "positive integer", "0")),
    (lambda: StyleGenerator(mapping_lr_mul=-1), ValueError, ("mapping_lr_mul", "positive", "-1")),
    (lambda: StyleGenerator(latent_dim="64"), TypeError, ("latent_dim", "positive integer", "str")),
    (lambda: MappingNetwork(layers=2.0), TypeError, ("layers", "positive integer", "float")),
    (lambda: MappingNetwork(lr_mul=0), ValueError, ("lr_mul", "positive", "0")),
    (lambda: MappingNetwork(4, 4, 1)(torch.randn(2, 5)), ValueError, ("mapping network's input z", "(N, 4)")),
    (lambda: adain(torch.randn(2, 3, 4, 4), torch.ones(2, 4), torch.zeros(2, 3)), ValueError,
     ("adain's scale", "(2, 3)", "(2, 4)")),
    (lambda: adain(torch.randn(3, 4, 4), torch.ones(2, 3), torch.zeros(2, 3)), ValueError,
     ("adain's input x", "(N, C, H, W)", "(3, 4, 4)")),
    (lambda: adain(torch.randn(2, 3, 4, 4), torch.ones(2, 3), torch.zeros(2, 3, dtype=torch.long)), TypeError,
     ("adain's bias", "torch.float32", "torch.int64")),
    (lambda: AdaIN(4, 3)(torch.randn(2, 3, 4, 4), torch.randn(2, 5)), ValueError, ("AdaIN's style w", "(2, 4)")),
    (lambda: NoiseInjection(3)(torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)), ValueError,
     ("noise", "(2 or 1, 1, 4, 4)", "(2, 3, 4, 4)")),
    (lambda: NoiseInjection(3)(torch.randn(2, 2, 4, 4)), ValueError, ("NoiseInjection's input x", "(N, 3, H, W)")),
])
def test_bad_input_is_a_clear_error(call, kind, words):
    _error(call, kind, *words)

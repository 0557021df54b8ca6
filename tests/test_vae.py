"""The VAE (ganlab.vae): the pieces of the ELBO against torch.distributions, the reparameterisation trick, the loss
recomputed by hand (beta, free bits, nats per image), the IWAE bound, the model's shapes and a few training steps,
and latent traversals."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from ganlab.vae import (DECODERS, ConvVAE, bernoulli_log_likelihood, binarize, continuous_bernoulli_log_likelihood,
                        gaussian_kl, gaussian_log_likelihood, importance_weighted_bound, latent_traversal,
                        negative_elbo, pixel_bernoulli_log_likelihood, reparameterize, to_unit)

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def rand(*shape, seed=0, low=-1.0, high=1.0, dtype=torch.float):
    return torch.rand(*shape, generator=gen(seed), dtype=dtype) * (high - low) + low


def randn(*shape, seed=0, dtype=torch.float):
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


def tiny(decoder="bernoulli", latent_dim=4, seed=0, **kwargs):
    torch.manual_seed(seed)
    return ConvVAE(latent_dim=latent_dim, width=8, decoder=decoder, **kwargs)


@pytest.fixture(scope="module")
def digits():
    from ganlab.image_recipes import training_digits

    return training_digits(image_size=28)[:256]


def train(model, x, steps, lr=1e-3, batch=64, seed=0):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = gen(seed)
    for _ in range(steps):
        idx = torch.randint(len(x), (batch,), generator=g)
        loss = negative_elbo(model, x[idx], generator=g)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def log_q_and_p(mu, logvar, eps):
    """log q(z | x) and log p(z) per image for z = mu + sigma eps, by torch.distributions."""
    std = torch.exp(0.5 * logvar)
    z = mu + std * eps
    return Normal(mu, std).log_prob(z).sum(1), Normal(0.0, 1.0).log_prob(z).sum(1)


# --------------------------------------------------------------------------- KL
def test_gaussian_kl_matches_torch_distributions():
    mu, logvar = randn(16, 5, seed=1) * 2, randn(16, 5, seed=2)
    want = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    got = gaussian_kl(mu, logvar)
    assert got.shape == (16,)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_gaussian_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert torch.equal(gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))
    assert (gaussian_kl(randn(64, 4, seed=3), randn(64, 4, seed=4)) > 0).all()
    assert (gaussian_kl(torch.zeros(2, 4), torch.full((2, 4), 0.5)) > 0).all()  # right mean, wrong variance
    assert (gaussian_kl(torch.full((2, 4), 0.5), torch.zeros(2, 4)) > 0).all()  # right variance, wrong mean


# --------------------------------------------------------------------------- reparameterisation
def test_reparameterize_samples_have_mean_mu_and_std_sigma():
    n = 100_000
    mu = torch.tensor([0.0, 2.0, -1.0])
    logvar = torch.tensor([0.0, math.log(0.25), math.log(4.0)])
    z = reparameterize(mu.expand(n, 3), logvar.expand(n, 3), gen(5))
    sigma = torch.exp(0.5 * logvar)
    # standard errors: sigma / sqrt(n) for the mean, about sigma / sqrt(2 n) for the std; allow 5 of them
    assert (z.mean(0) - mu).abs().max() <= (5 * sigma / math.sqrt(n)).max()
    assert ((z.std(0) / sigma) - 1).abs().max() <= 5 / math.sqrt(2 * n)


def test_reparameterize_gradients_reach_mu_and_logvar():
    mu = randn(4, 3, seed=6).requires_grad_()
    logvar = randn(4, 3, seed=7).requires_grad_()
    z = reparameterize(mu, logvar, gen(8))
    z.sum().backward()
    sigma = torch.exp(0.5 * logvar.detach())
    eps = (z.detach() - mu.detach()) / sigma
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    torch.testing.assert_close(logvar.grad, 0.5 * sigma * eps)  # dz/dlogvar = sigma eps / 2
    torch.testing.assert_close(eps, torch.randn(4, 3, generator=gen(8)))  # eps is the generator's N(0, I) draw


def test_reparameterize_is_deterministic_with_a_generator_and_leaves_the_global_rng_alone():
    mu, logvar = torch.zeros(8, 2), torch.zeros(8, 2)
    state = torch.get_rng_state()
    a = reparameterize(mu, logvar, gen(9))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, reparameterize(mu, logvar, gen(9)))
    assert not torch.equal(a, reparameterize(mu, logvar, gen(10)))


# --------------------------------------------------------------------------- likelihoods
def test_bernoulli_log_likelihood_matches_torch_for_binary_targets():
    logits = randn(5, 1, 6, 6, seed=11) * 3
    t = (rand(5, 1, 6, 6, seed=12) > 0).float()
    got = bernoulli_log_likelihood(logits, t)
    assert got.shape == (5,)
    torch.testing.assert_close(got, Bernoulli(logits=logits).log_prob(t).flatten(1).sum(1))


def test_bernoulli_log_likelihood_is_minus_bce_for_grey_targets():
    logits = randn(5, 1, 6, 6, seed=13, dtype=torch.float64) * 3
    t = rand(5, 1, 6, 6, seed=14, low=0.0, dtype=torch.float64)
    p = torch.sigmoid(logits)
    want = (t * torch.log(p) + (1 - t) * torch.log(1 - p)).flatten(1).sum(1)
    torch.testing.assert_close(bernoulli_log_likelihood(logits, t), want)


def test_bernoulli_log_likelihood_is_stable_for_large_logits():
    logits = torch.tensor([[100.0, -100.0, 100.0, -100.0, 100.0]])
    t = torch.tensor([[1.0, 0.0, 0.0, 1.0, 0.5]])
    per_pixel = [bernoulli_log_likelihood(logits[:, i:i + 1], t[:, i:i + 1]).item() for i in range(5)]
    assert all(math.isfinite(v) for v in per_pixel)
    assert per_pixel == pytest.approx([0.0, 0.0, -100.0, -100.0, -50.0], abs=1e-4)


def test_continuous_bernoulli_is_the_bernoulli_term_plus_the_log_normaliser():
    logits = torch.tensor([-5.0, -2.0, -0.7, 0.6, 1.5, 4.0], dtype=torch.float64).expand(3, 6)
    t = rand(3, 6, seed=15, low=0.0, dtype=torch.float64)
    lam = torch.sigmoid(logits)
    log_c = torch.log(2 * torch.atanh(1 - 2 * lam) / (1 - 2 * lam))  # C(lambda), lambda != 1/2
    want = bernoulli_log_likelihood(logits, t) + log_c.sum(1)
    torch.testing.assert_close(continuous_bernoulli_log_likelihood(logits, t), want)
    # at lambda = 1/2 the density is uniform on [0, 1]: log C = log 2 cancels the Bernoulli term's log(1/2)
    half = continuous_bernoulli_log_likelihood(torch.zeros(2, 4, dtype=torch.float64), t[:2, :4])
    torch.testing.assert_close(half, torch.zeros(2, dtype=torch.float64), atol=1e-6, rtol=0)


@pytest.mark.parametrize("logit", [-6.0, -1.0, 0.0, 0.002, 2.5, 8.0])
def test_continuous_bernoulli_integrates_to_one_over_the_unit_interval(logit):
    t = torch.linspace(0.0, 1.0, 20_001, dtype=torch.float64)[:, None]  # one one-pixel image per grid point
    density = continuous_bernoulli_log_likelihood(torch.full_like(t, logit), t).exp()
    assert torch.trapezoid(density, t[:, 0]).item() == pytest.approx(1.0, abs=1e-5)


def test_continuous_bernoulli_is_finite_for_large_logits():
    logits = torch.tensor([[100.0, -100.0]])
    for t in (0.0, 0.5, 1.0):
        assert torch.isfinite(continuous_bernoulli_log_likelihood(logits, torch.full((1, 2), t))).all()


def test_gaussian_log_likelihood_matches_torch():
    mean, x = randn(4, 1, 5, 5, seed=16), rand(4, 1, 5, 5, seed=17)
    for sigma in (0.1, 1.0, 2.5):
        want = Normal(mean, sigma).log_prob(x).flatten(1).sum(1)
        torch.testing.assert_close(gaussian_log_likelihood(mean, x, sigma), want)


def test_to_unit_maps_minus_one_one_to_zero_one():
    x = torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3)
    torch.testing.assert_close(to_unit(x).flatten(), torch.tensor([0.0, 0.5, 1.0]))


# --------------------------------------------------------------------------- the negative ELBO
def by_hand(model, x, seed):
    """(reconstruction, KL per dimension) per image, with the eps that negative_elbo draws from gen(seed)."""
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=gen(seed))
    std = torch.exp(0.5 * logvar)
    params = model.decode(mu + std * eps)
    if model.decoder == "gaussian":
        rec = -Normal(params, model.sigma).log_prob(x).flatten(1).sum(1)
    elif model.decoder == "continuous_bernoulli":
        rec = -torch.distributions.ContinuousBernoulli(logits=params).log_prob((x + 1) / 2).flatten(1).sum(1)
    else:
        t, l = (x + 1) / 2, params
        rec = -(t * torch.nn.functional.logsigmoid(l) + (1 - t) * torch.nn.functional.logsigmoid(-l)).flatten(1).sum(1)
    kl_dims = kl_divergence(Normal(mu, std), Normal(0.0, 1.0))
    return rec, kl_dims


@pytest.mark.parametrize("decoder", DECODERS)
def test_negative_elbo_is_reconstruction_plus_beta_kl_in_nats_per_image(decoder, digits):
    model, x = tiny(decoder), digits[:8]
    rec, kl_dims = by_hand(model, x, seed=3)
    kl = kl_dims.sum(1)
    for beta in (1.0, 0.25, 4.0):
        out = negative_elbo(model, x, beta=beta, generator=gen(3))
        torch.testing.assert_close(out["reconstruction"], rec.mean())
        torch.testing.assert_close(out["kl"], kl.mean())
        torch.testing.assert_close(out["loss"], rec.mean() + beta * kl.mean())
        torch.testing.assert_close(out["elbo"], -(rec + kl).mean())
    # nats per image: summed over the 784 pixels, not averaged (an untrained Bernoulli decoder: ~784 log 2)
    if decoder == "bernoulli":
        assert 200 < out["reconstruction"].item() < 2000


def test_beta_changes_the_loss_but_not_its_parts(digits):
    model, x = tiny(), digits[:8]
    a, b = (negative_elbo(model, x, beta=beta, generator=gen(4)) for beta in (1.0, 3.0))
    assert torch.equal(a["reconstruction"], b["reconstruction"]) and torch.equal(a["kl"], b["kl"])
    assert torch.equal(a["elbo"], b["elbo"])
    assert a["kl"] > 0
    torch.testing.assert_close(b["loss"] - a["loss"], 2.0 * a["kl"])


def test_free_bits_floor_the_batch_mean_kl_of_each_dimension(digits):
    model, x = tiny(latent_dim=4), digits[:8]
    head = model.encoder[-1]  # the Linear to (mu, logvar): make q the same for every image
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor([0.0, 0.0, 3.0, 0.0,  # mu
                                      0.0, 0.0, 0.0, math.log(0.5)]))  # logvar
    kl_dims = torch.tensor([0.0, 0.0, 4.5, 0.5 * (0.5 - 1 - math.log(0.5))])  # 0, 0, 4.5, 0.0966
    rec, _ = by_hand(model, x, seed=5)
    for free_bits, beta in ((1.0, 1.0), (1.0, 2.0), (0.05, 1.0), (5.0, 0.5)):
        out = negative_elbo(model, x, beta=beta, free_bits=free_bits, generator=gen(5))
        torch.testing.assert_close(out["loss"], rec.mean() + beta * kl_dims.clamp(min=free_bits).sum())
        torch.testing.assert_close(out["kl"], kl_dims.sum())  # reported unfloored
        torch.testing.assert_close(out["reconstruction"], rec.mean())
    # free_bits 1: dimensions 0, 1 and 3 sit on the floor: only dimension 2's KL pulls on mu and logvar
    out = negative_elbo(model, x, free_bits=1.0, generator=gen(5))
    kl_grad, = torch.autograd.grad(out["loss"] - out["reconstruction"], head.bias)
    assert torch.equal(kl_grad[[0, 1, 3, 4, 5, 7]], torch.zeros(6))
    assert kl_grad[2] == pytest.approx(3.0)  # d(mu^2 / 2)/dmu


def test_free_bits_by_hand_on_a_random_state(digits):
    model, x = tiny(latent_dim=6, seed=1), digits[:16]
    rec, kl_dims = by_hand(model, x, seed=6)
    per_dim = kl_dims.mean(0)
    floor = per_dim.median().item()  # half the dimensions below it
    out = negative_elbo(model, x, free_bits=floor, generator=gen(6))
    torch.testing.assert_close(out["loss"], rec.mean() + per_dim.clamp(min=floor).sum())
    assert out["loss"] > rec.mean() + per_dim.sum()  # the floor adds to the loss
    torch.testing.assert_close(out["kl"], per_dim.sum())


# --------------------------------------------------------------------------- IWAE
@pytest.fixture(scope="module")
def trained(digits):
    threads = torch.get_num_threads()  # a module fixture is set up before one_thread
    torch.set_num_threads(1)
    try:
        return train(tiny(latent_dim=4, seed=2), digits, steps=50, lr=3e-3)
    finally:
        torch.set_num_threads(threads)


def test_iwae_with_one_sample_is_the_elbo_with_a_sampled_kl(trained, digits):
    model, x = trained, digits[:8]
    l1 = importance_weighted_bound(model, x, k=1, generator=gen(7))
    with torch.no_grad():
        out = negative_elbo(model, x, generator=gen(7))  # the same eps
        mu, logvar = model.encode(x)
        log_q, log_p = log_q_and_p(mu, logvar, torch.randn(mu.shape, generator=gen(7)))
    assert l1.shape == (8,)
    # L_1 = log p(x|z) + log p(z) - log q(z|x); the ELBO has the KL in closed form instead
    torch.testing.assert_close(l1.mean(), -out["reconstruction"] + (log_p - log_q).mean())


def test_iwae_with_one_sample_equals_the_elbo_in_expectation(trained, digits):
    x = digits[:4].repeat(200, 1, 1, 1)  # 200 draws per image, in one batch
    l1 = importance_weighted_bound(trained, x, k=1, generator=gen(8))
    with torch.no_grad():
        elbo = negative_elbo(trained, x, generator=gen(9))["elbo"]
    se = l1.std() / math.sqrt(len(l1))  # the ELBO's estimate is no noisier (its KL is exact)
    assert abs(l1.mean() - elbo) < 4 * math.sqrt(2) * se


def test_iwae_rises_with_k(trained, digits):
    x = digits[:32]
    bounds = {k: importance_weighted_bound(trained, x, k=k, generator=gen(10)).mean().item() for k in (1, 8, 64)}
    assert bounds[64] >= bounds[8] - 0.1 and bounds[8] >= bounds[1] - 0.1, bounds
    assert bounds[64] > bounds[1], bounds  # a strict gain: q is not the posterior
    assert bounds[64] < 0  # a log-likelihood of grey levels under a Bernoulli


def test_iwae_is_deterministic_with_a_generator(trained, digits):
    a = importance_weighted_bound(trained, digits[:4], k=5, generator=gen(11))
    assert torch.equal(a, importance_weighted_bound(trained, digits[:4], k=5, generator=gen(11)))
    assert not torch.equal(a, importance_weighted_bound(trained, digits[:4], k=5, generator=gen(12)))


# --------------------------------------------------------------------------- the model
@pytest.mark.parametrize("latent_dim", [2, 16])
def test_conv_vae_shapes(latent_dim, digits):
    model, x = tiny(latent_dim=latent_dim), digits[:3]
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, latent_dim)
    assert model.decode(torch.zeros(5, latent_dim)).shape == (5, 1, 28, 28)
    params, mu, logvar, z = model(x, gen(0))
    assert params.shape == (3, 1, 28, 28) and mu.shape == logvar.shape == z.shape == (3, latent_dim)
    assert model.log_likelihood(params, x).shape == (3,)


@pytest.mark.parametrize("decoder", DECODERS)
def test_samples_and_mean_images_lie_in_minus_one_one(decoder):
    model = tiny(decoder)
    s = model.sample(6, generator=gen(1))
    assert s.shape == (6, 1, 28, 28) and s.min() >= -1 and s.max() <= 1
    assert torch.equal(s, model.sample(6, generator=gen(1)))
    params = torch.cat([randn(2, 1, 28, 28, seed=2) * 5, torch.full((1, 1, 28, 28), 100.0),
                        torch.full((1, 1, 28, 28), -100.0), torch.zeros(1, 1, 28, 28)])
    m = model.mean_image(params)
    assert m.shape == params.shape and torch.isfinite(m).all() and m.min() >= -1 and m.max() <= 1
    if decoder != "gaussian":  # logits: the mean rises with them, from -1 to 1
        assert m[2].min() > 0.8 and m[3].max() < -0.8 and m[4].abs().max() < 1e-5




def test_continuous_bernoulli_mean_image_reaches_white_and_black():
    model = tiny("continuous_bernoulli")
    logits = torch.zeros(1, 1, 28, 28)
    logits[0, 0, 0, :3] = torch.tensor([100.0, -100.0, 30.0])
    m = model.mean_image(logits)[0, 0, 0, :3]
    want = 1 / (-torch.expm1(-torch.tensor([100.0, -100.0, 30.0]))) - 1 / torch.tensor([100.0, -100.0, 30.0])
    torch.testing.assert_close(m, want * 2 - 1, atol=1e-4, rtol=0)  # 0.98, -0.98, 0.933


@pytest.mark.parametrize("logit", [-30.0, 30.0])
def test_continuous_bernoulli_integrates_to_one_for_large_float32_logits(logit):
    t = torch.linspace(0.0, 1.0, 200_001, dtype=torch.float64)[:, None]
    density = continuous_bernoulli_log_likelihood(torch.full_like(t, logit).float(), t.float()).double().exp()
    assert torch.trapezoid(density, t[:, 0]).item() == pytest.approx(1.0, abs=1e-3)


def test_conv_vae_rejects_pixels_of_0_255_and_the_wrong_size(digits):
    model = tiny()
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        model.encode(digits[:2] * 127.5 + 127.5)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        negative_elbo(model, torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        model.decode(torch.zeros(2, 3))


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_few_adam_steps_lower_the_loss(decoder, digits):
    model = tiny(decoder, latent_dim=8)
    before = negative_elbo(model, digits, generator=gen(20))["loss"].item()
    train(model, digits, steps=15, lr=3e-3)
    with torch.no_grad():
        after = negative_elbo(model, digits, generator=gen(20))["loss"].item()
    assert after < before - 0.05 * abs(before), (before, after)


# --------------------------------------------------------------------------- latent traversal
def test_latent_traversal_varies_only_the_chosen_dimension():
    model = tiny(latent_dim=4)
    z, values = randn(4, seed=30), torch.linspace(-2, 2, 5)
    seen = []
    decode = model.decode
    model.decode = lambda codes: seen.append(codes.clone()) or decode(codes)
    out = latent_traversal(model, z, 2, values)
    assert out.shape == (5, 1, 28, 28)
    codes, = seen
    assert torch.equal(codes[:, 2], values)
    assert torch.equal(codes[:, [0, 1, 3]], z[[0, 1, 3]].expand(5, 3))
    assert torch.equal(z, randn(4, seed=30))  # z itself untouched
    want = z.repeat(5, 1)
    want[:, 2] = values
    with torch.no_grad():
        torch.testing.assert_close(out, model.mean_image(decode(want)))
    assert out.min() >= -1 and out.max() <= 1


@pytest.mark.parametrize("dim", [-1, 4])
def test_latent_traversal_rejects_a_dimension_out_of_range(dim):
    with pytest.raises(ValueError, match="dim"):
        latent_traversal(tiny(latent_dim=4), torch.zeros(4), dim, torch.zeros(3))


def test_both_gradient_estimators_are_unbiased_and_the_score_function_is_noisier():
    from ganlab.vae import gradient_samples

    g = gradient_samples(lambda z: z ** 2, mu=1.5, sigma=0.5, n=200_000, generator=torch.Generator().manual_seed(0))
    for name, samples in g.items():  # d/dmu E[z^2] = d/dmu (mu^2 + sigma^2) = 2 mu = 3
        assert samples.mean().item() == pytest.approx(3.0, abs=5 * samples.std().item() / 200_000 ** 0.5), name
    # reparameterised: 2 z, variance 4 sigma^2 = 1; score function: z^2 eps / sigma, variance far larger
    assert g["reparameterized"].var().item() == pytest.approx(1.0, rel=0.02)
    assert g["score function"].var().item() > 10 * g["reparameterized"].var().item()
    with pytest.raises(ValueError, match="one value per z"):
        gradient_samples(lambda z: z.sum(), 0.0, 1.0, 4)


def test_active_units_count_the_dimensions_whose_posterior_mean_moves():
    from ganlab.vae import active_units

    model = ConvVAE(latent_dim=4, width=4)
    head = model.encoder[-1]  # mu = the first 4 outputs of the last linear layer
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.weight[0].normal_(0, 1.0, generator=torch.Generator().manual_seed(0))  # only mu_0 depends on x
    x = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    assert active_units(model, x) == 1
    with torch.no_grad():
        head.weight[2].normal_(0, 1.0, generator=torch.Generator().manual_seed(2))
    assert active_units(model, x) == 2
    assert active_units(model, x, threshold=1e9) == 0
    with pytest.raises(ValueError, match="at least 2 images"):
        active_units(model, x[:1])


# --------------------------------------------------------------------------- binary digits and the baseline
def test_binarize_gives_binary_images_white_as_often_as_the_grey_level():
    grey = torch.linspace(-1, 1, 5).view(1, 1, 1, 5).expand(4000, 1, 1, 5)
    b = binarize(grey, gen(1))
    assert set(b.unique().tolist()) == {-1.0, 1.0}
    white = (b == 1).double().mean(dim=0).flatten()
    assert white.tolist() == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0], abs=0.03)
    assert torch.equal(b, binarize(grey, gen(1))) and not torch.equal(b, binarize(grey, gen(2)))


def test_the_pixel_bernoulli_baseline_by_hand():
    train = torch.tensor([[-1.0, 1.0, 0.0]]).view(1, 1, 1, 3).repeat(3, 1, 1, 1)  # grey levels 0, 1, 0.5
    x = torch.tensor([[1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]]).view(2, 1, 1, 3)
    p = torch.tensor([1 / 5, 4 / 5, 2.5 / 5])  # (sum + 1) / (n + 2) with n = 3
    expected = torch.stack([torch.log(p[0]) + torch.log(p[1]) + torch.log(1 - p[2]),
                            torch.log(1 - p[0]) + torch.log(1 - p[1]) + torch.log(p[2])])
    assert pixel_bernoulli_log_likelihood(train, x) == pytest.approx(expected, abs=1e-5)


def test_the_pixel_bernoulli_baseline_refuses_grey_images(digits):
    with pytest.raises(ValueError, match="binary"):
        pixel_bernoulli_log_likelihood(digits, digits[:4])


# --------------------------------------------------------------------------- bounds on a model with a known log p(x)
class LinearGaussian(ConvVAE):
    """p(z) = N(0, I), p(x | z) = N(W z + b, s^2 I) on 4-pixel 'images', so log p(x) = log N(x; b, W W^T + s^2 I)
    exactly. W has orthogonal columns, which makes the true posterior diagonal: q can be exact, or made wrong
    by shifting its mean and scaling its variance."""

    def __init__(self, shift=0.0, scale=1.0):
        super().__init__(latent_dim=2, width=1, decoder="gaussian", sigma=0.5)
        self.W = torch.tensor([[1.0, 0.5], [1.0, -0.5], [-1.0, 0.5], [-1.0, -0.5]], dtype=torch.float64)
        self.b = torch.tensor([0.1, -0.2, 0.3, 0.0], dtype=torch.float64)
        self.shift, self.scale = shift, scale

    def encode(self, x):
        s2 = self.sigma ** 2
        precision = 1.0 + (self.W ** 2).sum(dim=0) / s2  # diagonal, since W^T W is
        mu = (x.flatten(1) - self.b) @ self.W / s2 / precision
        return mu + self.shift, torch.log(self.scale / precision).expand_as(mu)

    def decode(self, z):
        return (z @ self.W.T + self.b).view(-1, 1, 2, 2)

    def log_likelihood(self, params, x):
        return gaussian_log_likelihood(params, x, self.sigma)

    def log_px(self, x):
        cov = self.W @ self.W.T + self.sigma ** 2 * torch.eye(4, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x.flatten(1))


def linear_gaussian_data(n=64):
    return rand(n, 1, 2, 2, seed=5, low=-0.9, high=0.9, dtype=torch.float64)


def test_with_the_exact_posterior_every_importance_weight_is_px():
    """log p(x, z) - log q(z | x) = log p(x) for every z when q is the posterior: the bound is exact for any k,
    and the ELBO (closed-form KL, one sampled reconstruction term) is exact on average."""
    model, x = LinearGaussian(), linear_gaussian_data()
    exact = model.log_px(x)
    assert importance_weighted_bound(model, x, k=1, generator=gen(1)) == pytest.approx(exact, abs=1e-9)
    assert importance_weighted_bound(model, x, k=3, generator=gen(2)) == pytest.approx(exact, abs=1e-9)
    elbo = torch.stack([negative_elbo(model, x, generator=gen(s))["elbo"] for s in range(400)]).mean()
    assert elbo.item() == pytest.approx(exact.mean().item(), abs=0.02)


def test_elbo_below_iwae_below_log_px_with_a_wrong_posterior():
    model, x = LinearGaussian(shift=0.7, scale=3.0), linear_gaussian_data(200)
    exact = model.log_px(x).mean().item()
    elbo = torch.stack([negative_elbo(model, x, generator=gen(s))["elbo"] for s in range(20)]).mean().item()
    iwae = {k: importance_weighted_bound(model, x, k, gen(k)).mean().item() for k in (10, 100, 1000)}
    iwae[1] = torch.stack([importance_weighted_bound(model, x, 1, gen(100 + s)) for s in range(20)]).mean().item()
    assert iwae[1] == pytest.approx(elbo, abs=0.5)  # L_1 is the ELBO in expectation (one sample: std 6 nats)
    assert elbo < iwae[10] < iwae[100] < iwae[1000] < exact
    assert exact - elbo > 0.5  # the wrong q costs a real gap, which k closes
    assert exact - iwae[1000] < 0.1 * (exact - elbo)


def test_the_reparameterised_gradient_matches_finite_differences():
    """d/dmu and d/dlogvar of f(z) with z = mu + exp(logvar / 2) eps, the noise held fixed (same generator seed)."""
    mu, logvar = randn(3, 4, seed=1, dtype=torch.float64), randn(3, 4, seed=2, dtype=torch.float64) * 0.5

    def f(m, lv):
        return torch.sin(reparameterize(m, lv, gen(7))).pow(2).sum() + reparameterize(m, lv, gen(7)).prod()

    m, lv = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
    d_mu, d_lv = torch.autograd.grad(f(m, lv), (m, lv))
    h = 1e-6
    for (i, j) in [(0, 0), (1, 2), (2, 3)]:
        e = torch.zeros_like(mu)
        e[i, j] = h
        assert d_mu[i, j].item() == pytest.approx(((f(mu + e, logvar) - f(mu - e, logvar)) / (2 * h)).item(), rel=1e-6)
        assert d_lv[i, j].item() == pytest.approx(((f(mu, logvar + e) - f(mu, logvar - e)) / (2 * h)).item(), rel=1e-6)

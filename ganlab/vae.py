"""Variational autoencoders (Kingma & Welling, ICLR 2014; Rezende, Mohamed & Wierstra, ICML 2014) on the digits.

A latent-variable model p(x, z) = p(z) p(x | z) with p(z) = N(0, I) and a decoder p(x | z); the
encoder q(z | x) = N(mu(x), diag sigma^2(x)) approximates the posterior. For every x,

    log p(x) = ELBO(x) + KL(q(z | x) || p(z | x)) >= ELBO(x),
    ELBO(x)  = E_q[log p(x | z)] - KL(q(z | x) || p(z)),

and training maximises the ELBO averaged over the data. Everything here works per example and
*sums* over what belongs to one example (pixels in the reconstruction term, latent dimensions in
the KL), then averages over the batch: the two terms of the ELBO must be measured in the same
units (nats per image). Averaging one over pixels and summing the other weights the KL by the
number of pixels (784 for MNIST), a hidden beta.

Images are ganlab's [-1, 1]; the Bernoulli decoders read them as grey levels in [0, 1]
(``to_unit``), as is usual for MNIST (the digits are not binary: the continuous Bernoulli of
Loaiza-Ganem & Cunningham, NeurIPS 2019, is the properly normalised density for such data).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate

DECODERS = ("bernoulli", "continuous_bernoulli", "gaussian")


def to_unit(x: Tensor) -> Tensor:
    """Images in ganlab's [-1, 1] -> grey levels in [0, 1], the Bernoulli decoders' targets."""
    validate.images("x", x)
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)  # clamped: images may overshoot [-1, 1] a little


def binarize(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Stochastic binarisation: each pixel is white (1) with probability its grey level in [0, 1] and black (-1)
    otherwise, in ganlab's [-1, 1]. A Bernoulli decoder is a likelihood model of such binary images; of grey
    levels its "log-likelihood" is a cross-entropy, not the log of a probability.

    Training draws a fresh binarisation of every batch (dynamic binarisation), so the model sees the grey
    level as the frequency of white; held-out digits are binarised once, with a fixed seed."""
    _check_generator(generator)
    grey = to_unit(x)
    return torch.where(torch.rand(grey.shape, generator=generator, dtype=grey.dtype).to(grey.device) < grey, 1.0, -1.0)


def pixel_bernoulli_log_likelihood(train: Tensor, x: Tensor) -> Tensor:
    """The baseline a VAE must beat: every pixel an independent Bernoulli, log p(x) per image of binary ``x``: (N,).

    Each pixel's probability of white is its mean grey level over ``train`` (the maximum-likelihood fit to
    dynamically binarised copies of ``train``), smoothed as (sum + 1) / (n + 2) so that no pixel is certain."""
    validate.images("train", train)
    validate.images("x", x, shape=("N",) + tuple(train.shape[1:]))
    if not bool(((x == 1) | (x == -1)).all()):
        raise ValueError("x should be binary images (every pixel -1 or 1), e.g. vae.binarize(x); the baseline is a "
                         "likelihood of binary images")
    p = (to_unit(train).sum(dim=0) + 1.0) / (len(train) + 2.0)
    return bernoulli_log_likelihood(torch.logit(p).expand_as(x), to_unit(x))


def _check_generator(generator: object) -> None:
    if generator is not None:
        validate.instance("generator", generator, torch.Generator, "a torch.Generator (or None)")


def _small_safe(l: Tensor) -> tuple[Tensor, Tensor]:
    """(|l| < 1e-2, l with those entries replaced by 1): the series below is used there, the formula elsewhere."""
    small = l.abs() < 1e-2
    return small, torch.where(small, torch.ones_like(l), l)


def _cb_log_normaliser(l: Tensor) -> Tensor:
    """log C of the continuous Bernoulli from its logit l: C = l / tanh(l / 2) (2 + l^2 / 6 + ... near 0).

    torch.distributions.ContinuousBernoulli clamps lambda = sigmoid(l) away from 0 and 1, which
    above |l| of about 16 in float32 leaves C stuck near 16 and the density unnormalised; from the
    logit it is exact for any l."""
    small, safe = _small_safe(l)
    return torch.where(small, math.log(2.0) + l.pow(2) / 12, torch.log(safe.abs() / torch.tanh(safe.abs() / 2)))


def _cb_mean(l: Tensor) -> Tensor:
    """The continuous Bernoulli's mean from its logit: 1 / (1 - e^-l) - 1 / l (1/2 + l / 12 near 0)."""
    small, safe = _small_safe(l)
    return torch.where(small, 0.5 + l / 12, 1.0 / -torch.expm1(-safe) - 1.0 / safe)


class ConvVAE(nn.Module):
    """A convolutional VAE for (N, 1, 28, 28) digits: two stride-2 convolutions to mu and log sigma^2 of a
    ``latent_dim``-dimensional Gaussian q(z | x), and their mirror image from z to the decoder's parameters.

    The decoder returns logits for the Bernoulli and continuous Bernoulli decoders, and the mean (in
    [-1, 1] units, unsquashed) for the Gaussian one, whose standard deviation ``sigma`` is fixed.
    """

    def __init__(self, latent_dim: int = 16, width: int = 32, decoder: str = "bernoulli", sigma: float = 0.1):
        super().__init__()
        validate.integer("latent_dim", latent_dim)
        validate.integer("width", width)
        validate.choice("decoder", decoder, DECODERS)
        validate.number("sigma", sigma, low=0, low_open=True)
        self.latent_dim, self.decoder, self.sigma = latent_dim, decoder, sigma
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.ReLU(),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),  # 14 -> 7
            nn.Flatten(), nn.Linear(2 * width * 49, 2 * latent_dim))  # mu and log sigma^2
        self.decoder_net = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 49), nn.ReLU(), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(width, 1, 4, 2, 1))  # 14 -> 28: logits or the mean

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x (N, 1, 28, 28) in [-1, 1] -> (mu, log sigma^2), each (N, latent_dim)."""
        validate.images("x", x, shape=("N", 1, 28, 28))
        validate.tensor("x", x, dtype=next(self.parameters()).dtype, finite=False)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """z (N, latent_dim) -> the decoder's parameters (N, 1, 28, 28): logits, or the Gaussian's mean."""
        validate.tensor("z", z, shape=("N", self.latent_dim), dtype=next(self.parameters()).dtype, finite=False)
        return self.decoder_net(z)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(decoder parameters, mu, log sigma^2, z) for x, with one reparameterised z per image."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)
        return self.decode(z), mu, logvar, z

    def mean_image(self, params: Tensor) -> Tensor:
        """The decoder's mean as an image in [-1, 1] (what reconstructions and samples show)."""
        validate.tensor("params", params, shape=("N", 1, 28, 28), finite=False, hint=" (what decode returns)")
        if self.decoder == "gaussian":
            return params.clamp(-1.0, 1.0)
        if self.decoder == "continuous_bernoulli":
            return _cb_mean(params) * 2.0 - 1.0
        return torch.sigmoid(params) * 2.0 - 1.0

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` samples: z ~ N(0, I), shown as the decoder's mean (N, 1, 28, 28) in [-1, 1]."""
        validate.integer("n", n)
        _check_generator(generator)
        p = next(self.parameters())
        z = torch.randn(n, self.latent_dim, generator=generator).to(p.device, p.dtype)
        return self.mean_image(self.decode(z))

    def log_likelihood(self, params: Tensor, x: Tensor) -> Tensor:
        """log p(x | z) per image, summed over pixels: (N,). ``x`` in [-1, 1]."""
        validate.tensor("params", params, shape=("N", 1, 28, 28), finite=False, hint=" (what decode returns)")
        validate.images("x", x, shape=tuple(params.shape))
        if self.decoder == "gaussian":
            return gaussian_log_likelihood(params, x, self.sigma)
        if self.decoder == "continuous_bernoulli":
            return continuous_bernoulli_log_likelihood(params, to_unit(x))
        return bernoulli_log_likelihood(params, to_unit(x))


# --------------------------------------------------------------------------- the pieces of the ELBO
def reparameterize(mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I) and sigma = exp(logvar / 2): a sample of q whose gradient reaches
    mu and logvar (the reparameterisation trick)."""
    validate.tensor("mu", mu, shape=("N", "D"), finite=False)
    validate.tensor("logvar", logvar, shape=tuple(mu.shape), finite=False, hint=" (the shape of mu)")
    _check_generator(generator)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per example, summed over the latent dimensions: (N,).

    = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)."""
    validate.tensor("mu", mu, shape=("N", "D"))
    validate.tensor("logvar", logvar, shape=tuple(mu.shape), hint=" (the shape of mu)")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def _per_image(name: str, x: Tensor, like: Tensor) -> None:
    validate.tensor(name, x, shape=tuple(like.shape), hint=" (the shape of the decoder's output)")


def _logits_and_target(logits: Tensor, target: Tensor) -> None:
    validate.tensor("logits", logits, finite=False)
    if logits.ndim < 2:
        raise ValueError(f"logits should be a batch (N, ...) with one row per image, got shape {tuple(logits.shape)}")
    _per_image("target", target, logits)
    lo, hi = torch.stack(torch.aminmax(target)).tolist()
    if lo < 0 or hi > 1:
        raise ValueError(f"target should be grey levels in [0, 1], got values in [{lo:.3g}, {hi:.3g}]; images in "
                         f"[-1, 1] map there with vae.to_unit(x)")


def bernoulli_log_likelihood(logits: Tensor, target: Tensor) -> Tensor:
    """sum over pixels of log Bernoulli(target | sigmoid(logits)), per image: (N,). ``target`` in [0, 1].

    log p = t log sigmoid(l) + (1 - t) log(1 - sigmoid(l)) = -BCE-with-logits, computed stably."""
    _logits_and_target(logits, target)
    return -F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(dim=1)


def continuous_bernoulli_log_likelihood(logits: Tensor, target: Tensor) -> Tensor:
    """sum over pixels of log CB(target | lambda = sigmoid(logits)), per image: (N,): the Bernoulli term plus the
    log normaliser log C(lambda) that makes it a density on [0, 1] (Loaiza-Ganem & Cunningham 2019)."""
    _logits_and_target(logits, target)
    bernoulli = -F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (bernoulli + _cb_log_normaliser(logits)).flatten(1).sum(dim=1)


def gaussian_log_likelihood(mean: Tensor, x: Tensor, sigma: float) -> Tensor:
    """sum over pixels of log N(x | mean, sigma^2), per image: (N,)."""
    validate.tensor("mean", mean)
    _per_image("x", x, mean)
    validate.number("sigma", sigma, low=0, low_open=True)
    squared = ((x - mean) / sigma).pow(2).flatten(1)
    return -0.5 * (squared + math.log(2 * math.pi * sigma ** 2)).sum(dim=1)


def negative_elbo(model: ConvVAE, x: Tensor, beta: float = 1.0, free_bits: float = 0.0,
                  generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """The loss -ELBO = E_q[-log p(x | z)] + beta KL(q || p), averaged over the batch, with both terms summed per
    image (nats per image). ``free_bits`` lambda: the KL of each latent dimension counts as at least lambda nats
    (averaged over the batch; Kingma et al. 2016), so the optimiser gains nothing by pushing it below.

    Returns {"loss", "reconstruction" (E[-log p(x|z)]), "kl" (the true KL, not floored), "elbo"}, batch means."""
    validate.instance("model", model, ConvVAE, "a ConvVAE")
    validate.number("beta", beta, low=0)
    validate.number("free_bits", free_bits, low=0)
    params, mu, logvar, _ = model(x, generator)
    reconstruction = -model.log_likelihood(params, x)  # (N,)
    kl_per_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)  # (N, D)
    kl = kl_per_dim.sum(dim=1)  # (N,)
    penalised = kl_per_dim.mean(dim=0).clamp(min=free_bits).sum() if free_bits > 0 else kl.mean()
    return {"loss": reconstruction.mean() + beta * penalised, "reconstruction": reconstruction.mean(),
            "kl": kl.mean(), "elbo": -(reconstruction + kl).mean()}


@torch.no_grad()
def importance_weighted_bound(model: ConvVAE, x: Tensor, k: int = 64,
                              generator: torch.Generator | None = None) -> Tensor:
    """The IWAE bound (Burda, Grosse & Salakhutdinov, ICLR 2016) per image, in nats: (N,).

        L_k(x) = log (1/k) sum_i p(x, z_i) / q(z_i | x),  z_i ~ q(z | x),

    computed with logsumexp. L_1 is the ELBO; L_k rises with k towards log p(x), so it is the
    course's estimate of the log-likelihood."""
    validate.instance("model", model, ConvVAE, "a ConvVAE")
    validate.integer("k", k)
    _check_generator(generator)
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    log_w = []
    for _ in range(k):
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        z = mu + std * eps
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(dim=1)
        log_qz = -0.5 * (eps.pow(2) + math.log(2 * math.pi) + logvar).sum(dim=1)
        log_w.append(model.log_likelihood(model.decode(z), x) + log_pz - log_qz)
    return torch.logsumexp(torch.stack(log_w), dim=0) - math.log(k)


@torch.no_grad()
def latent_traversal(model: ConvVAE, z: Tensor, dim: int, values: Tensor) -> Tensor:
    """The decoder's mean images as latent ``dim`` of ``z`` (latent_dim,) takes each of ``values``: (V, 1, 28, 28)."""
    validate.instance("model", model, ConvVAE, "a ConvVAE")
    validate.tensor("z", z, shape=(model.latent_dim,))
    validate.integer("dim", dim, low=0, high=model.latent_dim - 1)
    validate.tensor("values", values, shape=("V",))
    codes = z.expand(len(values), -1).clone()
    codes[:, dim] = values
    return model.mean_image(model.decode(codes))


def gradient_samples(f, mu: float, sigma: float, n: int, generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """Per-sample estimates of d/dmu E_{z ~ N(mu, sigma^2)}[f(z)] by the two classic estimators: (n,) each.

    - "reparameterized": z = mu + sigma eps, the estimate f'(z) (the gradient through the sample);
    - "score function" (REINFORCE, Williams 1992): f(z) d/dmu log N(z; mu, sigma^2) = f(z) (z - mu) / sigma^2.

    Both average to the true gradient; their variances differ, often by orders of magnitude.
    ``f`` maps a tensor of z to a tensor of values elementwise and must be differentiable (torch ops)."""
    if not callable(f):
        raise TypeError(f"f must be a function of z (torch ops, elementwise), got {type(f).__name__}")
    validate.number("mu", mu)
    validate.number("sigma", sigma, low=0, low_open=True)
    validate.integer("n", n)
    _check_generator(generator)
    eps = torch.randn(n, generator=generator, dtype=torch.float64)
    z = (mu + sigma * eps).requires_grad_(True)
    values = f(z)
    if not isinstance(values, Tensor) or values.shape != z.shape:
        raise ValueError(f"f must return one value per z, shape ({n},), got "
                         f"{tuple(values.shape) if isinstance(values, Tensor) else type(values).__name__}")
    (pathwise,) = torch.autograd.grad(values.sum(), z)  # f'(z_i), one per sample
    return {"reparameterized": pathwise.detach(), "score function": (values.detach() * eps / sigma)}


@torch.no_grad()
def active_units(model: ConvVAE, x: Tensor, threshold: float = 0.01) -> int:
    """How many latent dimensions the encoder uses: those whose posterior mean varies across the data,
    Cov_x(E_q[z_u | x]) > ``threshold`` (Burda, Grosse & Salakhutdinov 2016, sec. 5.2). A dimension whose
    q(z_u | x) is the prior for every x (posterior collapse) has a mean that does not move, and counts 0."""
    validate.instance("model", model, ConvVAE, "a ConvVAE")
    validate.number("threshold", threshold, low=0)
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 images to measure how the means vary, got {len(x)}")
    mu, _ = model.encode(x)
    return int((mu.var(dim=0) > threshold).sum())

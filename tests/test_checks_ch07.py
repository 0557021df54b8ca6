"""Chapter 07's checks pass correct answers written in different ways and name each classic mistake."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from ganlab import checks
from ganlab.vae import bernoulli_log_likelihood, gaussian_kl
from checking import fails, run

pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------- the reparameterisation
def rep_with(std=lambda lv: torch.exp(0.5 * lv), noise=True):
    return lambda mu, logvar, eps: mu + std(logvar) * (eps if noise else 1.0)


def rep_in_place(mu, logvar, eps):
    return mu.add_(torch.exp(0.5 * logvar) * eps)


def rep_sampled(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


REP_RIGHT = {"the formula": rep_with(), "sqrt of exp": rep_with(lambda lv: torch.exp(lv).sqrt()),
             "addcmul": lambda mu, logvar, eps: torch.addcmul(mu, logvar.mul(0.5).exp(), eps),
             "Normal's scale": lambda mu, logvar, eps: Normal(mu, torch.exp(logvar / 2)).loc
             + Normal(mu, torch.exp(logvar / 2)).scale * eps}
REP_WRONG = {
    "exp(logvar), the variance": (rep_with(torch.exp), ["exp(logvar) is the variance", "exp(logvar / 2)"]),
    "logvar as sigma": (rep_with(lambda lv: lv), ["logvar was used as the standard deviation"]),
    "exp(logvar) / 2": (rep_with(lambda lv: torch.exp(lv) / 2), ["the half belongs inside"]),
    "exp(-logvar / 2)": (rep_with(lambda lv: torch.exp(-lv / 2)), ["1 / sigma"]),
    "sqrt(logvar)": (rep_with(torch.sqrt), ["NaN", "sqrt(logvar)"]),
    "eps ignored": (rep_with(noise=False), ["eps was ignored"]),
    "the mean only": (lambda mu, logvar, eps: mu.clone(), ["the noise is missing"]),
    "sampled inside": (rep_sampled, ["global random generator", "eps is given"]),
    "in place": (rep_in_place, ["changed in place"]),
    "summed": (lambda mu, logvar, eps: rep_with()(mu, logvar, eps).sum(1), ["no sum or mean"]),
    "detached": (lambda mu, logvar, eps: rep_with()(mu, logvar, eps).detach(), ["no gradient"]),
}


@pytest.mark.parametrize("name", [*REP_RIGHT, *REP_WRONG])
def test_reparameterize(name, capsys):
    run(checks.check_reparameterize, REP_RIGHT, REP_WRONG, name, capsys)


# ---------------------------------------------------------------- the Gaussian KL
def kl_distributions(mu, logvar):
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    return kl_divergence(q, p)


def kl_with(var=lambda lv: lv.exp(), log_var=lambda lv: lv, one=1.0, half=0.5, reduce=lambda t: t.sum(1)):
    return lambda mu, lv: half * reduce(mu.pow(2) + var(lv) - one - log_var(lv))


KL_RIGHT = {"the library's": gaussian_kl, "torch.distributions": kl_distributions,
            "per dimension, summed": lambda mu, lv: kl_divergence(Normal(mu, (lv / 2).exp()), Normal(0.0, 1.0)).sum(-1),
            "from sigma": lambda mu, lv: (torch.log(1 / (lv / 2).exp()) + ((lv / 2).exp() ** 2 + mu ** 2) / 2
                                          - 0.5).sum(dim=-1)}
KL_WRONG = {
    "-KL, Kingma's form": (lambda mu, lv: 0.5 * (1 + lv - mu.pow(2) - lv.exp()).sum(1), ["this is -KL"]),
    "no 1/2": (kl_with(half=1.0), ["1/2 is missing"]),
    "mean over latents": (kl_with(reduce=lambda t: t.mean(1)), ["mean over the latent dimensions"]),
    "summed over the batch": (kl_with(reduce=lambda t: t.sum()), ["summed (or averaged) over the batch"]),
    "logvar as log sigma": (kl_with(lambda lv: (2 * lv).exp(), lambda lv: 2 * lv), ["treated as log sigma"]),
    "sigma for sigma^2": (kl_with(var=lambda lv: (lv / 2).exp()), ["stands where sigma^2 belongs"]),
    "log sigma for log sigma^2": (kl_with(log_var=lambda lv: lv / 2), ["log sigma (logvar / 2)"]),
    "no -1": (kl_with(one=0.0), ["the -1 is missing"]),
    "reversed KL(p || q)": (lambda mu, lv: kl_divergence(Independent(Normal(torch.zeros_like(mu), 1.0), 1),
                                                         Independent(Normal(mu, (lv / 2).exp()), 1)),
                            ["reversed KL(p || q)"]),
    "no mu^2": (lambda mu, lv: 0.5 * (lv.exp() - 1 - lv).sum(1), ["mu^2 is missing"]),
    "logvar as the variance": (kl_with(var=lambda lv: lv, log_var=torch.log), ["NaN or inf"]),
    "per dimension": (kl_with(reduce=lambda t: t), ["one KL per latent dimension"]),
}


@pytest.mark.parametrize("name", [*KL_RIGHT, *KL_WRONG])
def test_gaussian_kl(name, capsys):
    run(checks.check_gaussian_kl, KL_RIGHT, KL_WRONG, name, capsys)


# ---------------------------------------------------------------- the Bernoulli log-likelihood
def bll_logsigmoid(logits, x):
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(dim=(1, 2, 3))


def bll_softplus(logits, x):
    return -(F.softplus(logits) - x * logits).flatten(1).sum(1)


def bll_log_sigmoid(logits, x):
    p = torch.sigmoid(logits)
    return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)


def bll_clamped(logits, x):
    p = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
    return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)


BLL_RIGHT = {"the library's": bernoulli_log_likelihood, "logsigmoid": bll_logsigmoid, "softplus": bll_softplus,
             "Bernoulli(logits=...).log_prob": lambda l, x: Bernoulli(logits=l, validate_args=False).log_prob(x)
             .flatten(1).sum(1),
             "BCE with logits, a loop": lambda l, x: torch.stack(
                 [-F.binary_cross_entropy_with_logits(a, b, reduction="sum") for a, b in zip(l, x)])}
BLL_WRONG = {
    "sigmoid then log": (bll_log_sigmoid, ["case 4 of 4", "NaN or inf", "sigmoid(60) rounds to exactly 1"]),
    "F.binary_cross_entropy on sigmoid": (lambda l, x: -F.binary_cross_entropy(torch.sigmoid(l), x, reduction="none")
                                          .flatten(1).sum(1), ["case 4 of 4", "clamps its logs at -100"]),
    "probability clamped": (bll_clamped, ["case 4 of 4", "moderate logits"]),
    "BCE, the sign": (lambda l, x: -bernoulli_log_likelihood(l, x), ["binary cross-entropy, the NEGATIVE"]),
    "mean over pixels": (lambda l, x: bernoulli_log_likelihood(l, x) / x[0].numel(), ["the mean over the 16 pixels"]),
    "logits as probabilities": (lambda l, x: (x * torch.log(l) + (1 - x) * torch.log(1 - l)).flatten(1).sum(1),
                                ["not probabilities"]),
    "sigmoid twice": (lambda l, x: bernoulli_log_likelihood(torch.sigmoid(l), x), ["sigmoid applied twice"]),
    "summed over the batch": (lambda l, x: bernoulli_log_likelihood(l, x).sum(), ["over the batch too"]),
    "per pixel": (lambda l, x: -F.binary_cross_entropy_with_logits(l, x, reduction="none"), ["one term per pixel"]),
}


@pytest.mark.parametrize("name", [*BLL_RIGHT, *BLL_WRONG])
def test_bernoulli_log_likelihood(name, capsys):
    run(checks.check_bernoulli_log_likelihood, BLL_RIGHT, BLL_WRONG, name, capsys)


# ---------------------------------------------------------------- the negative ELBO
def elbo_with(rec="sum", kl="sum", where="kl", kl_sign=1.0, out=lambda t: t.mean()):
    def fn(logits, x, mu, logvar, beta):
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)
        r = bce.sum(1) if rec == "sum" else bce.mean(1)
        terms = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)
        k = terms.sum(1) if kl == "sum" else terms.mean(1)
        loss = r + kl_sign * beta * k if where == "kl" else beta * r + k
        return out(loss)
    return fn


def elbo_distributions(logits, x, mu, logvar, beta):
    rec = -Independent(Bernoulli(logits=logits, validate_args=False), 3).log_prob(x)
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    return (rec + beta * kl).mean()


def elbo_batch_sums(logits, x, mu, logvar, beta):
    n = len(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (rec + beta * kl) / n


ELBO_RIGHT = {"BCE with logits, summed": elbo_with(), "torch.distributions": elbo_distributions,
              "batch sums divided by N": elbo_batch_sums,
              "from exercises 2 and 3": lambda l, x, mu, lv, beta: (-bernoulli_log_likelihood(l, x)
                                                                    + beta * gaussian_kl(mu, lv)).mean()}
ELBO_WRONG = {
    "reconstruction averaged, KL summed": (
        lambda l, x, mu, lv, beta: F.binary_cross_entropy_with_logits(l, x) + beta * gaussian_kl(mu, lv).mean(),
        ["AVERAGED over the pixels while the KL is SUMMED", "hidden beta of 784", "case 1 of 4"]),
    "both averaged": (elbo_with(rec="mean", kl="mean"), ["both terms are averaged"]),
    "beta on the reconstruction": (elbo_with(where="rec"), ["beta multiplies the reconstruction", "case 2 of 4"]),
    "the ELBO, not its negative": (lambda *a: -elbo_with()(*a), ["this is the ELBO itself"]),
    "KL sign": (elbo_with(kl_sign=-1.0), ["the KL enters with the wrong sign"]),
    "beta ignored": (lambda l, x, mu, lv, beta: elbo_with()(l, x, mu, lv, 1.0), ["beta is ignored (here beta = 4.0)",
                                                                                 "case 2 of 4"]),
    "summed over the batch": (elbo_with(out=lambda t: t.sum()), ["summed over the batch"]),
    "per image": (elbo_with(out=lambda t: t), ["one loss per image"]),
    "no KL": (lambda l, x, mu, lv, beta: -bernoulli_log_likelihood(l, x).mean(), ["the KL term is missing"]),
    "sigmoid then log": (lambda l, x, mu, lv, beta: (-bll_log_sigmoid(l.clamp(-200, 200) * 40, x)
                                                     + beta * gaussian_kl(mu, lv)).mean(), ["NaN or inf", "stably"]),
}


@pytest.mark.parametrize("name", [*ELBO_RIGHT, *ELBO_WRONG])
def test_negative_elbo(name, capsys):
    run(checks.check_negative_elbo, ELBO_RIGHT, ELBO_WRONG, name, capsys)


# ---------------------------------------------------------------- the IWAE bound
def iwae_by_hand(log_w):
    top = log_w.max(dim=0, keepdim=True).values  # (1, N)
    return top[0] + torch.log(torch.exp(log_w - top).mean(dim=0))


IWAE_RIGHT = {"logsumexp - log K": lambda lw: torch.logsumexp(lw, 0) - math.log(lw.shape[0]),
              "the max subtracted by hand": iwae_by_hand,
              "logsumexp of log_w - log K": lambda lw: torch.logsumexp(lw - math.log(len(lw)), dim=0),
              "float64": lambda lw: (torch.logsumexp(lw.double(), 0) - math.log(len(lw))).float()}
IWAE_WRONG = {
    "naive log mean exp": (lambda lw: torch.log(torch.exp(lw).mean(0)), ["case 3 of 4", "NaN or inf", "logsumexp"]),
    "mean of log_w": (lambda lw: lw.mean(0), ["mean of the log weights", "ELBO"]),
    "no -log K": (lambda lw: torch.logsumexp(lw, 0), ["-log K is missing"]),
    "divided by K": (lambda lw: torch.logsumexp(lw, 0) / len(lw), ["SUBTRACTS log K"]),
    "max": (lambda lw: lw.max(0).values - math.log(len(lw)), ["largest log weight"]),
    "wrong axis": (lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), ["reduced over the images"]),
    "wrong axis, K = N": (lambda lw: torch.logsumexp(lw, 1 if lw.shape[0] == lw.shape[1] else 0)
                          - math.log(len(lw)), ["case 2 of 4", "wrong axis"]),
    "keepdim": (lambda lw: torch.logsumexp(lw, 0, keepdim=True) - math.log(len(lw)), ["keepdim"]),
    "in place": (lambda lw: torch.logsumexp(lw.sub_(math.log(len(lw))), 0), ["changed in place"]),
}


@pytest.mark.parametrize("name", [*IWAE_RIGHT, *IWAE_WRONG])
def test_iwae_bound(name, capsys):
    run(checks.check_iwae_bound, IWAE_RIGHT, IWAE_WRONG, name, capsys)


# ---------------------------------------------------------------- the codes of a latent traversal
def codes_index_put(z, dim, values):
    codes = z.repeat(len(values), 1)
    codes[:, dim] = values
    return codes


def codes_loop_in_place(z, dim, values):
    rows = []
    for v in values:
        z[dim] = v
        rows.append(z)
    return torch.stack(rows)


def codes_shared(z, dim, values):
    z = z.clone()
    rows = []
    for v in values:
        z[dim] = v
        rows.append(z)
    return torch.stack(rows)


def codes_expanded(z, dim, values):
    codes = z.expand(len(values), -1)
    codes[:, dim] = values
    return codes


def codes_shifted(shift):
    return lambda z, dim, values: codes_index_put(z, (dim + shift) % len(z), values)


CODES_RIGHT = {"repeat, then set": codes_index_put,
               "expand, clone, set": lambda z, d, v: torch.index_fill(z.expand(len(v), -1).clone(), 1,
                                                                      torch.tensor([d]), 0) + F.one_hot(
                   torch.tensor(d), len(z)) * v[:, None],
               "torch.where": lambda z, d, v: torch.where(torch.arange(len(z)) == d, v[:, None], z),
               "a loop of clones": lambda z, d, v: torch.stack([torch.cat([z[:d], v[i:i + 1], z[d + 1:]])
                                                                for i in range(len(v))])}
CODES_WRONG = {
    "z changed in place": (codes_loop_in_place, ["z was changed in place"]),
    "rows share one tensor": (codes_shared, ["every row holds the last value"]),
    "added": (lambda z, d, v: codes_index_put(z, d, z[d] + v), ["ADDED"]),
    "the next latent": (codes_shifted(1), ["the next one"]),
    "the latent before": (codes_shifted(-1), ["case 1 of 4", "the one before"]),
    "one code": (lambda z, d, v: codes_index_put(z, d, v)[0], ["one code"]),
    "transposed": (lambda z, d, v: codes_index_put(z, d, v).T, ["transposed"]),
    "expanded view": (codes_expanded, ["RuntimeError", "every row is the same memory", "repeat"]),
    "random jitter": (lambda z, d, v: codes_index_put(z, d, v) + 0 * torch.randn(1), ["global random generator"]),
}


@pytest.mark.parametrize("name", [*CODES_RIGHT, *CODES_WRONG])
def test_latent_traversal_codes(name, capsys):
    run(checks.check_latent_traversal_codes, CODES_RIGHT, CODES_WRONG, name, capsys)


def test_a_failure_shows_the_input_and_the_diagnosis_first():
    message = fails(checks.check_gaussian_kl, lambda mu, lv: 0.5 * (1 + lv - mu.pow(2) - lv.exp()).sum(1))
    assert message.startswith("check_gaussian_kl failed (KL(q(z | x) || N(0, I)) per example) on case 1 of 5.")
    assert "  input:" in message and "Diagnosis: this is -KL" in message

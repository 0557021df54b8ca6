"""Quality of a generator on a toy mixture, scored as VEEGAN (Srivastava et al. 2017)
and PacGAN (Lin et al. 2018) score it.

- a sample is *high quality* if it lies within 3 sigma of its nearest mode;
- a mode is *covered* if at least one high-quality sample is nearest to it;
- *reverse KL* is KL(q || p) between q, the histogram of high-quality samples over the
  modes, and p, the true (uniform) weights of the modes. It is 0 when every mode gets its
  share and log K when all samples sit on one of K modes.

The papers score 2,500 samples per run; so does the course.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from . import validate
from .data import GaussianMixture

N_EVAL_SAMPLES = 2500


def nearest_mode(samples: Tensor, modes: Tensor) -> tuple[Tensor, Tensor]:
    """Index of the nearest mode of each sample (N,) and the distance to it (N,)."""
    validate.tensor("modes", modes, shape=("K", "D"))
    validate.tensor("samples", samples, shape=("N", modes.shape[1]))
    dist = torch.cdist(samples.float(), modes.float())  # (N, K)
    d, idx = dist.min(dim=1)
    return idx, d


def mode_labels(samples: Tensor, mixture: GaussianMixture, n_std: float = 3.0) -> Tensor:
    """The mode each sample of (N, D) is within ``n_std`` sigma of, -1 for none: (N,) integers, the classes a
    ``ganlab.doctor.Doctor(label=...)`` reads its coverage from (a mode with a label is a covered one)."""
    validate.instance("mixture", mixture, GaussianMixture, "a GaussianMixture such as ganlab.data.ring()")
    validate.tensor("samples", samples, shape=("N", mixture.dim))
    validate.number("n_std", n_std, low=0, low_open=True)
    idx, dist = nearest_mode(samples.detach(), mixture.means.to(samples.device))
    return torch.where(dist <= n_std * mixture.sigma, idx, torch.full_like(idx, -1))


def mode_stats(samples: Tensor, mixture: GaussianMixture, n_std: float = 3.0) -> dict[str, float]:
    """Modes covered, high-quality fraction and reverse KL of ``samples`` (N, D)."""
    validate.instance("mixture", mixture, GaussianMixture, "a GaussianMixture such as ganlab.data.ring()")
    validate.tensor("samples", samples, shape=("N", mixture.dim))  # NaN or inf: the generator has diverged
    validate.number("n_std", n_std, low=0, low_open=True)
    labels = mode_labels(samples.detach().cpu(), mixture, n_std)
    good = labels >= 0
    counts = torch.bincount(labels[good], minlength=mixture.n_modes).double()  # (K,)
    n_good = int(good.sum())
    if n_good == 0:
        reverse_kl = math.inf
    else:
        q = counts / n_good
        p = 1.0 / mixture.n_modes
        nz = q > 0
        reverse_kl = float((q[nz] * (q[nz] / p).log()).sum())  # 0 log 0 = 0
    return {
        "modes_covered": int((counts > 0).sum()),
        "n_modes": mixture.n_modes,
        "high_quality": n_good / len(samples),
        "reverse_kl": reverse_kl,
    }


@torch.no_grad()
def evaluate_generator(G: torch.nn.Module, mixture: GaussianMixture, n: int = N_EVAL_SAMPLES, seed: int = 0) -> dict[str, float]:
    """``mode_stats`` of ``n`` fresh samples from ``G`` (a module with ``.sample(n, generator)``)."""
    if not callable(getattr(G, "sample", None)):
        raise TypeError(f"G must be a generator with a .sample(n, generator) method, got {type(G).__name__}")
    validate.instance("mixture", mixture, GaussianMixture, "a GaussianMixture such as ganlab.data.ring()")
    validate.integer("n", n)
    validate.integer("seed", seed, low=0)
    was_training = G.training
    G.eval()
    try:
        samples = G.sample(n, generator=torch.Generator().manual_seed(seed))
    finally:
        G.train(was_training)
    return mode_stats(samples, mixture)

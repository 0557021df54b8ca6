"""Scores for generated MNIST-like images, all offline, in the feature space of the shipped classifier.

- FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
  Nash Equilibrium", NeurIPS, arXiv:1706.08500): the Frechet distance between Gaussians fitted
  to real and fake features. 0 for identical statistics; it grows as quality or variety drops.
- KID (Binkowski et al. 2018, "Demystifying MMD GANs", ICLR, arXiv:1801.01401): an unbiased
  estimate of MMD^2 with the kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.
- precision and recall (Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric for
  Assessing Generative Models", NeurIPS, arXiv:1904.06991): the fraction of fakes that land on
  the real manifold (quality) and of reals that land on the fake manifold (coverage).
- class coverage, the KL of the predicted-label histogram from uniform, the fraction of
  confidently classified samples, and the accuracy of a conditional generator.

FID and KID are computed by torchmetrics (>= 1.3, which reads a custom feature module's
``num_features``). Features are extracted here once, in batches, and handed to torchmetrics
through a pass-through feature module, so that every score shares one forward pass.

The features are the classifier's raw 128-d activations (norm about 40), so the numbers are on
their own scale, not that of Inception FID/KID: compare them only with each other. FID is biased
upwards at small N (two halves of the real held-out digits, 500 each, score about 5): compare
FIDs only at equal sample sizes; KID is unbiased.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

from . import validate
from .classifier import N_CLASSES, MNISTClassifier, check_images, heldout_mnist, load_classifier

KID_SUBSETS = 100  # Binkowski et al. (2018) average over 100 subsets of 1,000
KID_SUBSET_SIZE = 1000


class _PassThrough(nn.Module):
    """A torchmetrics feature extractor for features computed beforehand: (N, d) in, (N, d) float64 out."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features  # read by torchmetrics instead of a dummy forward pass

    def forward(self, feats: Tensor) -> Tensor:
        return feats.double()


def classifier_outputs(images: Tensor, classifier: MNISTClassifier | None = None,
                       batch_size: int = 500) -> tuple[Tensor, Tensor]:
    """Features (N, d) and logits (N, 10), on the CPU, of images (N, 1, 28, 28) in [-1, 1]."""
    check_images(images)
    validate.integer("batch_size", batch_size)
    classifier = load_classifier() if classifier is None else classifier
    validate.instance("classifier", classifier, MNISTClassifier, "an MNISTClassifier (load_classifier()) or None")
    if classifier.training:
        raise ValueError("the classifier is in training mode (dropout, batch statistics); call classifier.eval()")
    device = next(classifier.parameters()).device
    feats, logits = [], []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            h, z = classifier.features_and_logits(images[i:i + batch_size].to(device, torch.float32))
            feats.append(h.cpu())
            logits.append(z.cpu())
    return torch.cat(feats), torch.cat(logits)


def _check_features(real: Tensor, fake: Tensor, min_n: int, what: str) -> None:
    for name, f in (("real features", real), ("fake features", fake)):
        validate.tensor(name, f, shape=("N", "d"), hint="; for images use classifier_outputs() first")
        if len(f) < min_n:
            raise ValueError(f"{what} needs at least {min_n} samples per set, got {len(f)} {name}")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features differ in dimension: {real.shape[1]} vs {fake.shape[1]}")


# --------------------------------------------------------------------------- FID and KID
def fid_from_features(real: Tensor, fake: Tensor) -> float:
    """FID = ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)) between features (N, d) and (M, d)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    _check_features(real, fake, 2, "FID")
    # sync_on_compute=False: the features here are all the images, even when several processes run
    metric = FrechetInceptionDistance(feature=_PassThrough(real.shape[1]), sync_on_compute=False)  # in float64
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return float(metric.compute())


def kid_from_features(real: Tensor, fake: Tensor, subsets: int = KID_SUBSETS, subset_size: int | None = None,
                      seed: int = 0) -> tuple[float, float]:
    """KID mean and std over ``subsets`` random subsets of ``subset_size`` samples from each set.

    ``subset_size`` defaults to min(1000, n // 2), n the size of the smaller set: at most the
    1,000 of Binkowski et al., and small enough that the subsets differ, so the std means something.
    """
    from torchmetrics.image.kid import KernelInceptionDistance

    _check_features(real, fake, 4, "KID")
    validate.integer("subsets", subsets)
    validate.integer("seed", seed, low=0)
    n = min(len(real), len(fake))
    subset_size = min(KID_SUBSET_SIZE, n // 2) if subset_size is None else validate.integer("subset_size", subset_size)
    if not 2 <= subset_size <= n:
        raise ValueError(f"KID subset_size must be in [2, {n}] (the smaller set has {n} samples), got {subset_size}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = KernelInceptionDistance(feature=_PassThrough(real.shape[1]), subsets=subsets, subset_size=subset_size,
                                         sync_on_compute=False)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    with torch.random.fork_rng(devices=[]):  # torchmetrics draws the subsets from the global generator
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def fid(real: Tensor, fake: Tensor, classifier: MNISTClassifier | None = None) -> float:
    """FID between image sets (N, 1, 28, 28) in [-1, 1], on the classifier's features."""
    check_images(real, "real images")
    check_images(fake, "fake images")
    classifier = load_classifier() if classifier is None else classifier
    return fid_from_features(classifier_outputs(real, classifier)[0], classifier_outputs(fake, classifier)[0])


def kid(real: Tensor, fake: Tensor, classifier: MNISTClassifier | None = None, subsets: int = KID_SUBSETS,
        subset_size: int | None = None, seed: int = 0) -> tuple[float, float]:
    """KID (mean, std) between image sets (N, 1, 28, 28) in [-1, 1], on the classifier's features."""
    check_images(real, "real images")
    check_images(fake, "fake images")
    classifier = load_classifier() if classifier is None else classifier
    real_f, fake_f = classifier_outputs(real, classifier)[0], classifier_outputs(fake, classifier)[0]
    return kid_from_features(real_f, fake_f, subsets, subset_size, seed)


# --------------------------------------------------------------------------- precision and recall
def _knn_radii(feats: Tensor, k: int, chunk: int) -> Tensor:
    """Distance from each point to its k-th nearest neighbour in the same set, itself excluded (N,)."""
    # column 0 of the sorted distances is the point itself (distance 0), so the k-th neighbour is the (k+1)-th smallest
    return torch.cat([torch.cdist(feats[i:i + chunk], feats).kthvalue(k + 1, dim=1).values
                      for i in range(0, len(feats), chunk)])


def _inside_some_ball(query: Tensor, centres: Tensor, radii: Tensor, chunk: int) -> Tensor:
    """For each query point, is it within radius r_j of some centre c_j? (N,) bool."""
    return torch.cat([(torch.cdist(query[i:i + chunk], centres) <= radii[None]).any(dim=1)
                      for i in range(0, len(query), chunk)])


def precision_recall(real: Tensor, fake: Tensor, k: int = 3, chunk: int = 1024) -> dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake features (M, d) against real (N, d)."""
    validate.integer("k", k)
    validate.integer("chunk", chunk)
    _check_features(real, fake, k + 1, f"precision/recall with k={k}")
    real, fake = real.double(), fake.double()
    # the manifold of a set is the union of balls around its points, each reaching its k-th nearest neighbour
    on_real = _inside_some_ball(fake, real, _knn_radii(real, k, chunk), chunk)  # (M,) fakes on the real manifold
    on_fake = _inside_some_ball(real, fake, _knn_radii(fake, k, chunk), chunk)  # (N,) reals on the fake manifold
    precision, recall = on_real.double().mean(), on_fake.double().mean()
    return {"precision": float(precision), "recall": float(recall)}


# --------------------------------------------------------------------------- classes
def _histogram_stats(logits: Tensor, min_count: int, confidence: float) -> dict[str, float]:
    probs = logits.softmax(dim=1)  # (N, 10)
    counts = torch.bincount(probs.argmax(dim=1), minlength=N_CLASSES).double()  # (10,)
    q = counts / counts.sum()
    nz = q > 0
    return {
        "classes_covered": int((counts >= min_count).sum()),
        "label_kl": float((q[nz] * (q[nz] * N_CLASSES).log()).sum()),  # KL(q || U) = log 10 - H(q) nats; 0 log 0 = 0
        "confident_fraction": float((probs.max(dim=1).values > confidence).double().mean()),
    }


def class_histogram_stats(images: Tensor, classifier: MNISTClassifier | None = None, min_count: int = 1,
                          confidence: float = 0.9) -> dict[str, float]:
    """Classes covered (predicted at least ``min_count`` times), KL(label histogram || uniform), confident fraction."""
    validate.integer("min_count", min_count)
    validate.number("confidence", confidence, low=0, high=1, high_open=True)
    return _histogram_stats(classifier_outputs(images, classifier)[1], min_count, confidence)


def _check_labels(labels: Tensor, n: int) -> None:
    validate.labels("labels", labels, n, N_CLASSES, dtype="int", hint="; the digits asked for, one per image")


def conditional_accuracy(images: Tensor, labels: Tensor, classifier: MNISTClassifier | None = None) -> float:
    """Fraction of images (N, 1, 28, 28) that the classifier reads as the digit they were generated for (N,)."""
    check_images(images)
    _check_labels(labels, len(images))
    return float((classifier_outputs(images, classifier)[1].argmax(dim=1) == labels.cpu()).double().mean())


# --------------------------------------------------------------------------- everything at once
def evaluate_images(fake: Tensor, real: Tensor | None = None, labels: Tensor | None = None,
                    classifier: MNISTClassifier | None = None, k: int = 3, kid_subsets: int = KID_SUBSETS,
                    kid_subset_size: int | None = None, seed: int = 0) -> dict[str, float]:
    """Every image score of ``fake`` (N, 1, 28, 28) in [-1, 1] against ``real`` in one call.

    ``real`` defaults to the classifier's 1,000 held-out digits (100 per class). ``labels``,
    the digits a conditional generator was asked for, adds ``conditional_accuracy``. Keys:
    fid, kid, kid_std, precision, recall, classes_covered, label_kl, confident_fraction.
    """
    check_images(fake, "fake images")
    if labels is not None:
        _check_labels(labels, len(fake))
    validate.integer("k", k)  # checked here, before the classifier runs, with the names of this call
    validate.integer("kid_subsets", kid_subsets)
    if kid_subset_size is not None:
        validate.integer("kid_subset_size", kid_subset_size)
    validate.integer("seed", seed, low=0)
    real = heldout_mnist()[0] if real is None else real
    check_images(real, "real images")
    classifier = load_classifier() if classifier is None else classifier
    real_f, _ = classifier_outputs(real, classifier)
    fake_f, fake_logits = classifier_outputs(fake, classifier)
    kid_mean, kid_std = kid_from_features(real_f, fake_f, kid_subsets, kid_subset_size, seed)
    scores = {"fid": fid_from_features(real_f, fake_f), "kid": kid_mean, "kid_std": kid_std}
    scores.update(precision_recall(real_f, fake_f, k))
    scores.update(_histogram_stats(fake_logits, min_count=1, confidence=0.9))
    if labels is not None:
        scores["conditional_accuracy"] = float((fake_logits.argmax(dim=1) == labels.cpu()).double().mean())
    return scores


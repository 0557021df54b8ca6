"""Image metrics on the shipped MNIST subset, checked against references and known orderings.

Real images are the classifier's 1,000 held-out digits, split into two disjoint halves of
500 (50 per class). Thresholds leave a wide margin around the values measured with the
shipped weights: FID(half, half) = 5.0, FID(half, uniform noise) = 2,700.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

from ganlab import image_metrics as im
from ganlab.classifier import WEIGHTS, MNISTClassifier, heldout_mnist, load_classifier, mnist_split

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clf() -> MNISTClassifier:
    return load_classifier("cpu")


@pytest.fixture(scope="module")
def heldout(clf):
    x, y = heldout_mnist()
    feats, logits = im.classifier_outputs(x, clf)
    return x, y, feats, logits


@pytest.fixture(scope="module")
def halves(heldout):
    x, y, feats, _ = heldout
    return (x[0::2], y[0::2], feats[0::2]), (x[1::2], y[1::2], feats[1::2])  # sorted by class: 50 per class each


def _increasing(values: list[float]) -> bool:
    return all(a < b for a, b in zip(values, values[1:]))


# --------------------------------------------------------------------------- the classifier
def test_shipped_weights_load_and_classify_heldout(clf, heldout):
    _, y, feats, logits = heldout
    assert not clf.training and not any(p.requires_grad for p in clf.parameters())
    assert feats.shape == (1000, clf.feature_dim) and logits.shape == (1000, 10)
    record = json.loads(WEIGHTS.with_suffix(".json").read_text())
    acc = float((logits.argmax(1) == y).double().mean())
    assert acc == pytest.approx(record["heldout_accuracy"], abs=1e-3)  # measured 0.988 when trained
    assert acc >= 0.98
    assert WEIGHTS.stat().st_size < 1_000_000


def test_split_is_stratified_and_disjoint():
    train, heldout = mnist_split()
    assert len(train) == 4000 and len(heldout) == 1000
    assert len(set(train.tolist()) | set(heldout.tolist())) == 5000
    assert torch.equal(heldout, mnist_split()[1])  # fixed by the seed


def test_classifier_rejects_bad_images(clf):
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        clf(torch.zeros(2, 28, 28))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        clf(torch.full((2, 1, 28, 28), 255.0))
    with pytest.raises(ValueError, match="uint8"):
        clf(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match="NaN"):
        clf(torch.full((2, 1, 28, 28), float("nan")))


def test_train_script_smoke_is_deterministic(tmp_path):
    spec = importlib.util.spec_from_file_location("train_classifier", ROOT / "tools" / "train_classifier.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    records = [tool.main(["--steps", "2", "--out", str(tmp_path / f"{i}.pt")]) for i in range(2)]
    a, b = (torch.load(tmp_path / f"{i}.pt", weights_only=True) for i in range(2))
    assert a.keys() == b.keys() and all(torch.allclose(a[k].float(), b[k].float()) for k in a)
    assert records[0]["steps"] == 2 and json.loads((tmp_path / "0.json").read_text())["steps"] == 2
    load_classifier("cpu", path=tmp_path / "0.pt")


# --------------------------------------------------------------------------- FID and KID
def test_fid_matches_scipy_reference():
    from scipy import linalg

    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 8, generator=g)
    fake = 0.5 + torch.randn(200, 8, generator=g) @ torch.randn(8, 8, generator=g)  # shifted, correlated
    r, f = real.double().numpy(), fake.double().numpy()
    s_r, s_f = torch.from_numpy(r).T.cov().numpy(), torch.from_numpy(f).T.cov().numpy()
    covmean = linalg.sqrtm(s_r @ s_f).real
    ref = ((r.mean(0) - f.mean(0)) ** 2).sum() + (s_r + s_f - 2 * covmean).trace()  # Heusel et al. (2017)
    assert im.fid_from_features(real, fake) == pytest.approx(ref, rel=1e-6)
    assert abs(im.fid_from_features(real, real)) < 1e-6


def test_kid_matches_unbiased_mmd_on_full_sets():
    g = torch.Generator().manual_seed(1)
    m = 40  # with subset_size = m = both set sizes, every subset is the whole set
    x, y = torch.randn(m, 5, generator=g).double(), (torch.randn(m, 5, generator=g) + 0.3).double()

    def k(a, b):  # the cubic polynomial kernel of Binkowski et al. (2018), d = 5
        return (a @ b.T / 5 + 1) ** 3

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    ref = (kxx.sum() - kxx.trace() + kyy.sum() - kyy.trace()) / (m * (m - 1)) - 2 * kxy.sum() / m**2
    mean, std = im.kid_from_features(x, y, subsets=3, subset_size=m)
    assert mean == pytest.approx(float(ref), rel=1e-9) and std < 1e-9


def test_real_vs_real_small_real_vs_noise_large(clf, halves):
    (_, _, fa), (_, _, fb) = halves
    noise = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fn, _ = im.classifier_outputs(noise, clf)
    assert im.fid_from_features(fa, fb) < 12  # measured 5.0
    assert im.fid_from_features(fa, fn) > 1000  # measured 2,700
    kid_rr, _ = im.kid_from_features(fa, fb, subsets=20)
    kid_noise, _ = im.kid_from_features(fa, fn, subsets=20)
    assert abs(kid_rr) < 0.01 * kid_noise


def test_fid_and_kid_grow_with_noise(clf, halves):
    (_, _, fa), (xb, _, _) = halves
    g = torch.Generator().manual_seed(0)
    fids, kids = [], []
    for std in (0.0, 0.15, 0.3, 0.6):
        corrupted = (xb + std * torch.randn(xb.shape, generator=g)).clamp(-1, 1)
        fc, _ = im.classifier_outputs(corrupted, clf)
        fids.append(im.fid_from_features(fa, fc))
        kids.append(im.kid_from_features(fa, fc, subsets=20)[0])
    assert _increasing(fids) and _increasing(kids), (fids, kids)


def test_fid_kid_recall_fall_with_fewer_classes_precision_does_not(halves):
    (_, _, fa), (_, yb, fb) = halves
    g = torch.Generator().manual_seed(0)
    fids, kids, precisions, recalls = [], [], [], []
    for n_classes in (10, 7, 4, 1):
        pool = fb[yb < n_classes]  # a generator that only makes digits 0 .. n_classes - 1
        fake = pool[torch.randint(len(pool), (200,), generator=g)]  # 200 draws at every step, for FID's bias
        fids.append(im.fid_from_features(fa, fake))
        kids.append(im.kid_from_features(fa, fake, subsets=20)[0])
        pr = im.precision_recall(fa, fake)
        precisions.append(pr["precision"])
        recalls.append(pr["recall"])
    assert _increasing(fids) and _increasing(kids), (fids, kids)
    assert _increasing(recalls[::-1]), recalls
    assert min(precisions) > 0.85, precisions  # the digits that remain are still real ones


# --------------------------------------------------------------------------- precision and recall
def test_precision_recall_by_hand():
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])  # k = 1: every radius is 1
    fake = torch.tensor([[0.5], [10.0]])  # k = 1: both radii are 9.5
    pr = im.precision_recall(real, fake, k=1)
    assert pr == {"precision": 0.5, "recall": 1.0}


def test_precision_recall_identical_and_far(halves):
    (_, _, fa), (_, _, fb) = halves
    assert im.precision_recall(fa, fa) == {"precision": 1.0, "recall": 1.0}
    assert im.precision_recall(fa, fb + 1000.0) == {"precision": 0.0, "recall": 0.0}
    pr = im.precision_recall(fa, fb)
    assert pr["precision"] > 0.8 and pr["recall"] > 0.8  # measured 0.92 and 0.90


# --------------------------------------------------------------------------- classes
def test_class_stats_on_real_and_collapsed(clf, heldout):
    x, y, _, _ = heldout
    real = im.class_histogram_stats(x, clf)
    assert real["classes_covered"] == 10 and real["label_kl"] < 0.01 and real["confident_fraction"] > 0.9
    zero, nine = x[y == 0][:1], x[y == 9][:1]
    assert clf(torch.cat([zero, nine])).argmax(1).tolist() == [0, 9]
    one = zero.repeat(40, 1, 1, 1)  # a generator collapsed onto one digit
    stats = im.class_histogram_stats(one, clf)
    assert stats["classes_covered"] == 1 and stats["label_kl"] == pytest.approx(math.log(10))
    two = torch.cat([zero.repeat(20, 1, 1, 1), nine.repeat(20, 1, 1, 1)])
    assert im.class_histogram_stats(two, clf)["label_kl"] == pytest.approx(math.log(5))  # log 10 - H(1/2, 1/2)
    assert im.class_histogram_stats(two, clf, min_count=21)["classes_covered"] == 0


def test_conditional_accuracy(clf, heldout):
    x, y, _, logits = heldout
    x, y, logits = x[::5], y[::5], logits[::5]  # 20 per class
    assert im.conditional_accuracy(x, y, clf) == pytest.approx(float((logits.argmax(1) == y).double().mean()))
    assert im.conditional_accuracy(x, (y + 1) % 10, clf) < 0.05
    with pytest.raises(ValueError, match="labels"):
        im.conditional_accuracy(x, y[:5], clf)
    with pytest.raises(ValueError, match="digits"):
        im.conditional_accuracy(x, y + 10, clf)


def test_evaluate_images(clf, halves):
    (xa, ya, _), (xb, yb, _) = halves
    scores = im.evaluate_images(xb, real=xa, labels=yb, classifier=clf, kid_subsets=10)
    assert set(scores) == {"fid", "kid", "kid_std", "precision", "recall", "classes_covered", "label_kl",
                           "confident_fraction", "conditional_accuracy"}
    assert scores["fid"] < 12 and scores["classes_covered"] == 10 and scores["conditional_accuracy"] > 0.95
    assert all(isinstance(v, (int, float)) for v in scores.values())


# --------------------------------------------------------------------------- bad input
def test_errors_on_bad_input(clf, halves):
    (xa, _, fa), _ = halves
    with pytest.raises(ValueError, match="NaN"):
        im.fid(xa, torch.full((10, 1, 28, 28), float("nan")), clf)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        im.evaluate_images(xa[:, 0], real=xa, classifier=clf)
    with pytest.raises(ValueError, match="subset_size"):
        im.kid_from_features(fa, fa[:50], subset_size=100)
    with pytest.raises(ValueError, match="at least 4"):
        im.kid_from_features(fa, fa[:3])
    with pytest.raises(ValueError, match="at least 4"):
        im.precision_recall(fa, fa[:3], k=3)
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        im.precision_recall(xa, xa)
    with pytest.raises(ValueError, match="dimension"):
        im.fid_from_features(fa, fa[:, :10])
    with pytest.raises(ValueError, match="training mode"):
        im.classifier_outputs(xa, MNISTClassifier())

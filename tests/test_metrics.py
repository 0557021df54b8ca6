import math

import pytest
import torch

from ganlab import data, metrics


def test_real_data_scores_perfectly():
    mix = data.ring()
    stats = metrics.mode_stats(mix.sample(2500, torch.Generator().manual_seed(0)), mix)
    assert stats["modes_covered"] == 8
    assert stats["high_quality"] > 0.98  # 3 sigma in 2D keeps 1 - exp(-4.5) = 98.9%
    assert stats["reverse_kl"] < 0.01


def test_collapsed_generator():
    mix = data.grid()
    samples = mix.means[3] + 0.01 * torch.randn(1000, 2)
    stats = metrics.mode_stats(samples, mix)
    assert stats["modes_covered"] == 1 and stats["high_quality"] == 1.0
    assert stats["reverse_kl"] == pytest.approx(math.log(25))


def test_by_hand():
    mix = data.ring(n_modes=4, radius=1.0, sigma=0.1)  # modes at (1,0), (0,1), (-1,0), (0,-1)
    samples = torch.tensor([[1.0, 0.0], [1.2, 0.0], [0.0, 1.29], [0.0, 1.31], [0.0, 0.0], [-1.0, 0.1]])
    stats = metrics.mode_stats(samples, mix)
    # high quality: (1,0), (1.2,0), (0,1.29), (-1,0.1) -> 4 of 6, covering modes 0, 1, 2
    assert stats["modes_covered"] == 3
    assert stats["high_quality"] == pytest.approx(4 / 6)
    q = torch.tensor([2 / 4, 1 / 4, 1 / 4])
    assert stats["reverse_kl"] == pytest.approx(float((q * (q * 4).log()).sum()))


def test_nothing_high_quality():
    mix = data.ring()
    stats = metrics.mode_stats(torch.full((10, 2), 5.0), mix)
    assert stats["modes_covered"] == 0 and stats["high_quality"] == 0 and math.isinf(stats["reverse_kl"])


def test_bad_samples_are_rejected():
    mix = data.ring()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        metrics.mode_stats(torch.zeros(10, 3), mix)
    with pytest.raises(ValueError, match="NaN"):
        metrics.mode_stats(torch.full((10, 2), float("nan")), mix)


def test_mode_labels_name_the_mode_within_three_sigma_and_minus_one_elsewhere():
    ring = data.ring()
    step = torch.tensor([[ring.sigma, 0.0]])
    points = torch.cat([ring.means[[3, 0]], ring.means[[5]] + 2.9 * step, ring.means[[5]] + 3.1 * step,
                        torch.zeros(1, 2)])
    assert metrics.mode_labels(points, ring).tolist() == [3, 0, 5, -1, -1]
    assert metrics.mode_labels(points, ring, n_std=4.0).tolist() == [3, 0, 5, 5, -1]

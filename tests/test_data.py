import math

import pytest
import torch

from ganlab import data


def test_ring_benchmark_setting():
    mix = data.ring()
    assert mix.means.shape == (8, 2) and mix.sigma == 0.01
    assert torch.allclose(mix.means.norm(dim=1), torch.ones(8))
    angles = torch.atan2(mix.means[:, 1], mix.means[:, 0]).remainder(2 * math.pi).sort().values
    assert torch.allclose(angles.diff(), torch.full((7,), 2 * math.pi / 8), atol=1e-6)


def test_grid_benchmark_setting():
    mix = data.grid()
    assert mix.means.shape == (25, 2) and mix.sigma == 0.05
    assert set(mix.means[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_samples_have_the_right_spread_and_labels():
    mix = data.ring()
    x, y = mix.sample_with_labels(20000, torch.Generator().manual_seed(0))
    offsets = x - mix.means[y]
    assert abs(offsets.std().item() - 0.01) < 5e-4
    assert y.bincount(minlength=8).min() > 2000


def test_log_prob_matches_torch_distributions():
    mix = data.grid()
    x = torch.randn(50, 2) * 3
    comps = torch.distributions.MultivariateNormal(mix.means, covariance_matrix=mix.sigma**2 * torch.eye(2))
    ref = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(torch.ones(25)), comps)
    assert torch.allclose(mix.log_prob(x), ref.log_prob(x), atol=1e-3, rtol=1e-4)


def test_mnist_is_the_offline_subset_in_minus_one_one():
    x, y = data.load("mnist")
    assert x.shape == (5000, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() == -1 and x.max() == 1
    assert y.bincount().tolist() == [500] * 10


def test_subsets_are_seeded():
    a, _ = data.load("mnist", n=64, seed=1)
    b, _ = data.load("mnist", n=64, seed=1)
    c, _ = data.load("mnist", n=64, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("name", ["ring", "grid", "mixture1d", "moons", "swissroll", "digits"])
def test_every_offline_dataset_loads(name):
    x, y = data.load(name, n=100)
    assert len(x) == len(y) == 100 and torch.isfinite(x).all()


def test_digits_in_minus_one_one():
    x, _ = data.load("digits")
    assert x.shape[1:] == (1, 8, 8) and x.min() == -1 and x.max() == 1


def test_download_refused_offline_names_the_alternative(monkeypatch):
    monkeypatch.setenv("GANLAB_DOWNLOAD", "0")

    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket, "socket", no_network)
    for name in data.DOWNLOAD:
        with pytest.raises(data.DownloadNotAllowed, match="offline dataset 'mnist'"):
            data.load(name)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="mnist"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="ring"):
        data.toy("circle")
    with pytest.raises(ValueError, match="positive"):
        data.load("ring", n=0)

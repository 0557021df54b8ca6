import matplotlib.pyplot as plt
import pytest
import torch

from ganlab import data, plot
from ganlab.nets import MLPDiscriminator, MLPGenerator


def test_toy_figures_draw():
    mix = data.ring()
    G, D = MLPGenerator(width=8), MLPDiscriminator(width=8)
    ax = plot.plot_samples_2d(G.sample(100), mix)
    assert len(ax.collections) >= 2  # density contours and the samples
    ax = plot.plot_decision_surface(D, G.sample(50), mix)
    assert ax.get_xlim() == (-1.5, 1.5)
    plot.plot_history({"step": [1, 2, 3], "loss_d": [1, 1, 1], "loss_g": [1, 2, 3], "d_real": [.5] * 3, "d_fake": [.4] * 3})
    plt.close("all")


def test_decision_surface_shows_d_probabilities():
    class Half(torch.nn.Module):  # logit = x: D(x) = sigmoid(x), 0.5 on the y axis
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return x[:, 0] + 0 * self.w

    ax = plot.plot_decision_surface(Half(), lim=2.0, resolution=11)
    values = ax.collections[0].get_array().reshape(11, 11)
    assert values.min() >= 0 and values.max() <= 1
    assert values[5, 5] == pytest.approx(0.5) and values[5, -1] > 0.85
    ax = plot.plot_decision_surface(Half(), lim=2.0, resolution=11, logits=False)  # a critic: the raw score
    values = ax.collections[0].get_array().reshape(11, 11)
    assert values[5, 5] == pytest.approx(0.0, abs=1e-6) and values[5, -1] == pytest.approx(2.0)
    assert ax.collections[0].get_clim() == (-2.0, 2.0)
    plt.close("all")


def test_1d_figure():
    mix = data.mixture_1d()
    plot.plot_1d(MLPGenerator(latent_dim=1, out_dim=1, width=8), MLPDiscriminator(in_dim=1, width=8), mix, n=200)
    plt.close("all")


def test_image_grid_checks_its_input():
    x, _ = data.load("digits", n=16)
    ax = plot.image_grid(x)
    assert ax.images[0].get_array().shape[:2] == (4 * 10 + 2, 4 * 10 + 2)
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\)"):
        plot.image_grid(x[:, 0])
    plt.close("all")


def test_live_plot_does_not_change_the_run(monkeypatch):
    import dataclasses

    from ganlab.train import TrainConfig, fit

    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    cfg = TrainConfig(steps=6, batch_size=16, log_every=2, progress=False)
    runs = []
    for callback in (None, plot.LiveToyPlot(data.ring(), n_samples=10)):
        torch.manual_seed(0)
        G, D = MLPGenerator(width=8), MLPDiscriminator(width=8)
        runs.append(fit(G, D, data.ring().sample, dataclasses.replace(cfg), callback=callback)["loss_d"])
    assert runs[0] == runs[1]
    plt.close("all")


def test_samples_plot_shows_the_high_quality_region_of_every_mode():
    from matplotlib.collections import PatchCollection

    from ganlab import data
    from ganlab.plot import plot_samples_2d

    mix = data.grid()
    ax = plot_samples_2d(mix.sample(50), mix)
    discs = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(discs) == 1 and len(discs[0].get_paths()) == 25
    assert "3 sigma" in discs[0].get_label()
    assert discs[0].get_paths()[0].get_extents().width == pytest.approx(2 * 3 * mix.sigma, rel=1e-3)  # radius 3 sigma
    plt.close("all")

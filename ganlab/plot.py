"""Figures: 2D samples over the true density, D's decision surface, losses, image grids."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sized
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor, nn

from . import validate
from .data import GaussianMixture

_MIXTURE = "a GaussianMixture such as ganlab.data.ring()"


def _ax(ax: plt.Axes | None, figsize: tuple[float, float] = (4.5, 4.5)) -> plt.Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _np(x: Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def plot_limits(mixture: GaussianMixture, margin: float = 0.5) -> float:
    """Half-width of a square window that shows every mode with some margin."""
    validate.instance("mixture", mixture, GaussianMixture, _MIXTURE)
    validate.number("margin", margin, low=0)
    return float(mixture.means.abs().max()) + margin


def _check_window(mixture: GaussianMixture | None, dim: int, lim: float | None = None,
                  resolution: int | None = None) -> None:
    """The common arguments of the density plots: a mixture of ``dim`` dimensions, a window, a resolution."""
    if mixture is not None:
        validate.instance("mixture", mixture, GaussianMixture, _MIXTURE)
        if mixture.dim != dim:
            raise ValueError(f"mixture should be {dim}-D for this plot, got {mixture.name!r} in {mixture.dim}-D")
    if lim is not None:
        validate.number("lim", lim, low=0, low_open=True)
    if resolution is not None:
        validate.integer("resolution", resolution, low=2)


def _check_points(name: str, x: Tensor | None, dim: int) -> None:
    if x is not None:
        validate.tensor(name, x, shape=("N", dim))  # NaN or inf: the generator has diverged


def _grid_points(lim: float, resolution: int) -> tuple[np.ndarray, np.ndarray, Tensor]:
    xs = np.linspace(-lim, lim, resolution)
    xx, yy = np.meshgrid(xs, xs)
    pts = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=torch.float32)
    return xx, yy, pts


def plot_samples_2d(samples: Tensor | None, mixture: GaussianMixture | None = None, ax: plt.Axes | None = None,
                    title: str | None = None, lim: float | None = None, resolution: int = 200) -> plt.Axes:
    """Generated samples (dots) over p_data, if a mixture is given: its modes (crosses) and the discs
    within 3 sigma of each, where a sample counts as high quality (``ganlab.metrics.mode_stats``).

    ``resolution`` is kept for the callers that pass it; the discs are drawn exactly.
    """
    _check_window(mixture, 2, lim, resolution)
    _check_points("samples", samples, 2)
    ax = _ax(ax)
    lim = lim or (plot_limits(mixture) if mixture is not None else 2.0)
    if mixture is not None:
        _high_quality_discs(ax, mixture)
    if samples is not None:
        s = _np(samples)
        ax.scatter(s[:, 0], s[:, 1], s=3, alpha=0.5, color="tab:orange", label="G(z)")
    if mixture is not None:  # on top: the modes are smaller than the dots of the samples
        m = _np(mixture.means)
        ax.scatter(m[:, 0], m[:, 1], marker="x", color="black", s=20, lw=0.8, label="modes of p_data")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title or "")
    return ax


def _high_quality_discs(ax: plt.Axes, mixture: GaussianMixture, n_std: float = 3.0) -> None:
    """p_data's mass: a shaded disc of radius n_std * sigma around each mode (the high-quality region).

    A density shading would be invisible here: sigma is a hundredth of the window, so almost every
    pixel is at density ~0 and the peaks cover a few pixels.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle

    radius = n_std * mixture.sigma
    discs = [Circle((float(x), float(y)), radius) for x, y in _np(mixture.means)]
    ax.add_collection(PatchCollection(discs, facecolor="0.6", edgecolor="0.3", lw=0.5, alpha=0.5,
                                      label=f"p_data: within {n_std:g} sigma of a mode"))


@torch.no_grad()
def plot_decision_surface(D: nn.Module, samples: Tensor | None = None, mixture: GaussianMixture | None = None,
                          ax: plt.Axes | None = None, lim: float | None = None, resolution: int = 150,
                          title: str | None = "D(x) = P(real)", logits: bool = True) -> plt.Axes:
    """D(x) = sigmoid(logit) as a heat map (red: "real", blue: "fake"), modes and fakes on top.

    With ``logits=False`` (a critic: WGAN, hinge, least squares) the raw score is shown instead,
    on a colour scale centred at 0.
    """
    validate.instance("D", D, nn.Module, "the discriminator, an nn.Module")
    _check_window(mixture, 2, lim, resolution)
    _check_points("samples", samples, 2)
    ax = _ax(ax)
    lim = lim or (plot_limits(mixture) if mixture is not None else 2.0)
    xx, yy, pts = _grid_points(lim, resolution)
    device = next(D.parameters()).device
    was_training = D.training
    D.eval()
    out = D(pts.to(device)).reshape(xx.shape)
    D.train(was_training)
    if logits:
        values, vmin, vmax = torch.sigmoid(out), 0.0, 1.0
    else:
        bound = float(out.abs().max()) or 1.0
        values, vmin, vmax = out, -bound, bound
    mesh = ax.pcolormesh(xx, yy, _np(values), cmap="coolwarm", vmin=vmin, vmax=vmax, shading="auto")
    plt.colorbar(mesh, ax=ax, fraction=0.046, pad=0.04)
    if mixture is not None:
        m = _np(mixture.means)
        ax.scatter(m[:, 0], m[:, 1], marker="x", color="black", s=30, label="modes of p_data")
    if samples is not None:
        s = _np(samples)
        ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.4, color="gold", label="G(z)")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title or "")
    return ax


@torch.no_grad()
def plot_1d(G: nn.Module | None, D: nn.Module | None, mixture: GaussianMixture, ax: plt.Axes | None = None,
            n: int = 5000, lim: float | None = None, title: str | None = None) -> plt.Axes:
    """1D picture of Goodfellow et al. (2014, fig. 1): p_data, a histogram of G(z), and D(x)."""
    if G is not None and not callable(getattr(G, "sample", None)):
        raise TypeError(f"G must be a generator with a .sample(n) method, or None; got {type(G).__name__}")
    if D is not None:
        validate.instance("D", D, nn.Module, "the discriminator, an nn.Module, or None")
    validate.instance("mixture", mixture, GaussianMixture, "a 1-D GaussianMixture such as ganlab.data.mixture_1d()")
    _check_window(mixture, 1, lim)
    validate.integer("n", n)
    ax = _ax(ax, (6, 3.5))
    lim = lim or plot_limits(mixture, margin=3 * mixture.sigma + 0.5)
    xs = torch.linspace(-lim, lim, 400)[:, None]
    ax.plot(_np(xs), _np(mixture.log_prob(xs).exp()), color="black", label="p_data")
    if G is not None:
        g = _np(G.sample(n)).ravel()
        ax.hist(g, bins=80, range=(-lim, lim), density=True, color="tab:green", alpha=0.5, label="p_g (samples)")
    if D is not None:
        device = next(D.parameters()).device
        ax.plot(_np(xs), _np(torch.sigmoid(D(xs.to(device)))), color="tab:blue", ls="--", label="D(x)")
    ax.set(xlim=(-lim, lim), xlabel="x", title=title or "")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_history(history: dict[str, Sequence[float]], axes: Sequence[plt.Axes] | None = None,
                 smooth: int = 25) -> Sequence[plt.Axes]:
    """Losses (left) and D's mean outputs on real and fake batches (right)."""
    if not isinstance(history, Mapping) or "step" not in history:
        got = f"keys {sorted(history)}" if isinstance(history, Mapping) else type(history).__name__
        raise ValueError(f"history should be a dict of lists with a 'step' list, as fit returns; got {got}")
    plotted = ("loss_d", "loss_g", "d_real", "d_fake", "critic_real", "critic_fake")
    for key, values in ((k, history[k]) for k in plotted if k in history):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sized) or len(values) != len(history["step"]):
            got = f"{len(values)} values" if isinstance(values, Sized) else type(values).__name__
            raise ValueError(f"history[{key!r}] should be a list with one value per step ({len(history['step'])}), "
                             f"got {got}")
    validate.integer("smooth", smooth)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2))

    def smoothed(v: Sequence[float]) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        k = max(1, min(smooth, len(v) // 5 or 1))
        return np.convolve(v, np.ones(k) / k, mode="valid")

    steps = np.asarray(history["step"])
    for key, label in (("loss_d", "D loss"), ("loss_g", "G loss")):
        if key in history:
            y = smoothed(history[key])
            axes[0].plot(steps[len(steps) - len(y):], y, label=label)
    axes[0].set(xlabel="step", ylabel="loss", title="losses (moving average)")
    critic = "d_real" not in history and "critic_real" in history  # WGAN, hinge, LSGAN: scores, not probabilities
    keys = (("critic_real", "critic on real"), ("critic_fake", "critic on fake")) if critic else (
        ("d_real", "D(x), real"), ("d_fake", "D(G(z)), fake"))
    for key, label in keys:
        if key in history:
            y = smoothed(history[key])
            axes[1].plot(steps[len(steps) - len(y):], y, label=label)
    if critic:
        axes[1].set(xlabel="step", ylabel="mean raw output", title="critic scores")
    else:
        axes[1].axhline(0.5, color="grey", lw=0.8, ls=":")
        axes[1].set(xlabel="step", ylabel="mean of sigmoid(logit)", ylim=(0, 1), title="discriminator outputs")
    for ax in axes:
        ax.legend(fontsize=8)
    return axes


def image_grid(images: Tensor, nrow: int | None = None, ax: plt.Axes | None = None,
               title: str | None = None) -> plt.Axes:
    """Show a batch of images (N, C, H, W) in [-1, 1] as one grid."""
    validate.images("images", images, shape=("N", (1, 3), "H", "W"))
    from torchvision.utils import make_grid

    nrow = int(math.ceil(math.sqrt(len(images)))) if nrow is None else validate.integer("nrow", nrow)
    grid = make_grid(images.detach().float().cpu().clamp(-1, 1), nrow=nrow, padding=2, pad_value=1.0)
    ax = _ax(ax, (5, 5))
    ax.imshow((grid.permute(1, 2, 0).numpy() + 1) / 2, cmap="gray" if images.shape[1] == 1 else None)
    ax.set(xticks=[], yticks=[], title=title or "")
    return ax


class LiveToyPlot:
    """A ``fit`` callback that redraws D's surface, G's samples and the losses in a notebook."""

    def __init__(self, mixture: GaussianMixture, n_samples: int = 1000, seed: int = 0):
        _check_window(mixture, 2)
        validate.integer("n_samples", n_samples)
        validate.integer("seed", seed, low=0)
        self.mixture, self.n_samples, self.seed = mixture, n_samples, seed

    def __call__(self, step: int, G: nn.Module, D: nn.Module, history: dict) -> None:
        from IPython.display import clear_output, display

        fig, axes = plt.subplots(1, 3, figsize=(14, 4))
        with torch.no_grad():  # its own random stream: watching a run must not change it
            samples = G.sample(self.n_samples, generator=torch.Generator().manual_seed(self.seed))
        plot_decision_surface(D, samples, self.mixture, ax=axes[0], title=f"D(x) and G(z), step {step}")
        plot_history(history, axes=axes[1:])
        fig.tight_layout()
        clear_output(wait=True)
        display(fig)
        plt.close(fig)


def save_panels(history: dict[str, Sequence[float]], path, log_scale: Sequence[str] = ()) -> None:
    """One small panel per logged value of ``history`` (a ``History``) against its steps, written to ``path``;
    the values named in ``log_scale`` on a log axis. For families whose logs are not a GAN's pair of losses."""
    if not isinstance(history, dict) or "step" not in history:
        raise TypeError(f"history must be the History a training run returned (a dict with 'step'), got "
                        f"{type(history).__name__}")
    names = [k for k in history if k != "step"]
    if not names:
        raise ValueError("history has no logged values to draw, only steps")
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(history["step"], history[name], lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
        if name in log_scale and min(history[name]) > 0:
            ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""Training SinGAN coarse to fine: one run of the shared loop (``ganlab.loop.run_steps``) per scale.

Shaham, Dekel, Michaeli, ICCV 2019, arXiv:1905.01164, sec. 2.1. Scale n trains G_n and D_n
while the coarser generators stay frozen; each iteration (official training.py) is

    z ~ N(0, I) for this scale
    3 x  critic:    up = up(x~_{n+1}), a fresh random sample of the coarser scales
                    minimise E[D(G_n(z, up))] - E[D(x_n)] + lambda GP                 (WGAN-GP)
    3 x  generator: minimise -E[D(G_n(z, up))] + alpha ||G_n(z_rec, up(x~rec_{n+1})) - x_n||^2

with lambda = 0.1, alpha = 10, z_rec = z* (fixed) at the coarsest scale and 0 above it. Before
scale n starts, its noise amplitude is set from how much the coarser scales miss:
sigma_n = 0.1 RMSE(up(x~rec_{n+1}), x_n) (1 at the coarsest). Adam (lr 5e-4, betas 0.5 and
0.999) for both players, 2,000 iterations per scale, learning rates x0.1 after 1,600; a scale
starts from the weights of the scale below when their widths match.

Where this differs from the official code, on purpose: z* is drawn once and kept, as the paper
says (training.py redraws it at every iteration of the coarsest scale, a known slip of that code);
every generator update redraws its fake with G's current weights (training.py reuses the last
critic update's fake, computed before G's earlier updates); convolution biases start at 0
(``dcgan_init_``), not at PyTorch's default.

A run folder holds, for each scale i (0 = coarsest), ``scale{i}/``: ``checkpoint.pt`` (the
whole pyramid so far, that scale's D and optimisers, the noise stream: resume continues within
the scale), ``reconstruction.png`` (x_i and x~rec_i side by side), ``samples.png`` (random
samples at that scale) and ``metrics.json``; and at the top, ``samples.png``,
``samples_wide.png`` (from a coarsest noise map twice as wide), ``reconstruction.png`` and
``metrics.json`` (sizes, sigmas, reconstruction errors, ``patch_fid`` of the samples, seconds).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate
from .checkpoint import CheckpointError, CheckpointWriteError, check_same_run, read_checkpoint, restore
from .doctor import summary
from .env import fast, get_device, seed_everything
from .images import NATURAL_IMAGES, natural_image
from .loop import History, TrainingDiverged, run_steps
from .losses import d_loss_wasserstein, g_loss_wasserstein
from .recipes import (cpu_threads, finished_metrics, holds_same_run, nothing_to_do, open_run, run_identity,
                      train_in_folder, write_metrics)
from .singan import (MAX_WIDTH, MIN_SIZE, SCALE_FACTOR, WIDTH, PatchDiscriminator, SinGAN, image_pyramid, patch_fid,
                     pyramid_sizes, reconstruct, receptive_field, resize, sample, width_at)


@dataclass
class SinGANConfig:
    """SinGAN's settings. The defaults are the course's reduced run (about 10 minutes on 2 CPU cores);
    ``paper_singan()`` gives the paper's. Each reduction is explained beside its field."""

    image: str = "china"  # a name in ganlab.images.NATURAL_IMAGES
    # paper 250 (official config.py max_size). china at 250 px has 167 x 250 = 10x the pixels of
    # 53 x 80 and 8 scales instead of 4: hours on a CPU. 80 px keeps 4 scales, from 25 px up
    max_size: int = 80  # longer side of the finest scale, px
    min_size: int = MIN_SIZE  # shorter side of the coarsest scale, px (paper 25: D's 11 px patch is half of it)
    scale_factor: float = SCALE_FACTOR  # at most this size ratio between scales; the pyramid's own r is in [it, 1)
    width: int = WIDTH  # channels at the coarsest scale, doubled every 4 scales (paper 32)
    # official 128. Capped at 32 here: from the fifth scale on (square images at 80 px have six) the doubling would
    # quadruple the cost of the finest, costliest scales, and take a square image past 15 minutes on 2 cores
    max_width: int = WIDTH  # the doubling stops here
    # paper 2000 (config.py niter). One iteration of the 4 scales takes about 1.1 s on one busy CPU
    # core, so 2000 would take about 40 minutes; 400 fit in 10. Samples are rougher for it
    iterations: int = 400  # training iterations per scale, each d_steps critic and g_steps generator updates
    lr_g: float = 5e-4  # Adam learning rate of G_n (config.py lr_g)
    lr_d: float = 5e-4  # Adam learning rate of D_n (config.py lr_d)
    beta1: float = 0.5  # Adam's first-moment decay (config.py beta1)
    beta2: float = 0.999  # Adam's second-moment decay (training.py)
    lr_drop_at: float = 0.8  # fraction of the iterations after which both rates are multiplied by lr_gamma (1600/2000)
    lr_gamma: float = 0.1  # (config.py gamma, training.py MultiStepLR milestone 1600)
    d_steps: int = 3  # critic updates per iteration (config.py Dsteps)
    g_steps: int = 3  # generator updates per iteration (config.py Gsteps)
    gp_weight: float = 0.1  # lambda of the gradient penalty (config.py lambda_grad)
    alpha: float = 10.0  # weight of the reconstruction loss (sec. 2.1; config.py alpha)
    noise_amp: float = 0.1  # sigma_n = noise_amp * RMSE(up(x~rec_{n+1}), x_n) (config.py noise_amp)
    n_samples: int = 8  # random samples drawn per scale for the PNGs, and scored by patch_fid at the end
    seed: int = 0  # seeds the weights, the noise and the penalty's interpolation
    # 1: these small convolutions gain little from a second thread, and when other programs keep
    # the cores busy two threads wait on each other and run several times slower
    threads: int = 1  # CPU threads for PyTorch during the run (0: leave as set)
    out: str = "runs/singan"  # run folder

    def __post_init__(self) -> None:
        validate.choice("natural image", self.image, NATURAL_IMAGES)
        for name in ("max_size", "width", "max_width", "iterations", "d_steps", "g_steps", "n_samples"):
            validate.integer(name, getattr(self, name))
        validate.integer("min_size", self.min_size, low=receptive_field())
        if self.max_size < self.min_size:
            raise ValueError(f"max_size must be at least min_size={self.min_size}, got {self.max_size}")
        validate.number("scale_factor", self.scale_factor, low=0, high=1, low_open=True, high_open=True)
        for name in ("lr_g", "lr_d"):
            validate.number(name, getattr(self, name), low=0, low_open=True)
        for name in ("beta1", "beta2"):
            validate.number(name, getattr(self, name), low=0, high=1, high_open=True)
        validate.number("lr_drop_at", self.lr_drop_at, low=0, high=1)
        validate.number("lr_gamma", self.lr_gamma, low=0, high=1, low_open=True)
        for name in ("gp_weight", "alpha", "noise_amp"):
            validate.number(name, getattr(self, name), low=0)
        validate.integer("seed", self.seed, low=0)
        validate.integer("threads", self.threads, low=0)
        validate.instance("out", self.out, str, "a folder name")


def paper_singan(**overrides) -> SinGANConfig:
    """The paper's settings (250 px, 2,000 iterations per scale: hours on a CPU), then ``overrides``."""
    return validate.replaced(SinGANConfig(max_size=250, iterations=2000, max_width=MAX_WIDTH), **overrides)


def default_singan(**overrides) -> SinGANConfig:
    """``SinGANConfig`` with fast-mode sizes applied (40 px, 5 iterations per scale), then ``overrides``."""
    base = SinGANConfig(max_size=fast(40, SinGANConfig.max_size), iterations=fast(5, SinGANConfig.iterations),
                        n_samples=fast(4, SinGANConfig.n_samples))
    return validate.replaced(base, **overrides)


# --------------------------------------------------------------------------- one update of each player
def patch_gradient_penalty(D: nn.Module, real: Tensor, fake: Tensor, weight: float = 0.1) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017, eq. 3) for a patch critic, as SinGAN's functions.py computes it.

    x_hat = eps x + (1 - eps) G(z) with one eps ~ U[0, 1] per image; the gradient of the sum of
    D's patch scores at x_hat has one norm per pixel (over the colour channels), and each is
    pulled to 1: weight * mean over pixels of (||grad_pixel||_2 - 1)^2. (``losses.gradient_penalty``
    takes one norm over the whole image; for a patch critic that norm grows with the number of
    patches, and lambda = 0.1 was chosen for the per-pixel form.)
    """
    if not callable(D):
        raise TypeError(f"D must be the critic (a module or function x -> scores), got {type(D).__name__}")
    validate.tensor("real", real, shape=("N", "C", "H", "W"), finite=False)
    validate.tensor("fake", fake, shape=tuple(real.shape), finite=False, hint=" (the shape of real)")
    validate.number("weight", weight, low=0)
    eps = torch.rand(len(real), 1, 1, 1, device=real.device)  # (N, 1, 1, 1)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)  # (N, C, H, W)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)  # (N, C, H, W); the penalty is trained
    return weight * (grad.norm(2, dim=1) - 1).pow(2).mean()  # norms (N, H, W), one per pixel


def _check_players(G: object, D: object, opt: object, opt_name: str, real: object, prev: object) -> None:
    validate.instance("G", G, nn.Module, "the generator of this scale (a ScaleGenerator)")
    validate.instance("D", D, nn.Module, "the critic of this scale (a PatchDiscriminator)")
    validate.instance(opt_name, opt, torch.optim.Optimizer, "a torch.optim optimiser")
    validate.tensor("real", real, shape=(1, "C", "H", "W"), finite=False, hint=" (the image at this scale)")
    validate.tensor("prev", prev, shape=tuple(real.shape), finite=False, hint=" (the shape of real)")


def d_step(G: nn.Module, D: nn.Module, opt_d: torch.optim.Optimizer, real: Tensor, z: Tensor, prev: Tensor,
           gp_weight: float = 0.1) -> dict[str, float]:
    """One critic update: D_n maximises E[D(x_n)] - E[D(G_n(z, up))], kept Lipschitz by the penalty (WGAN-GP)."""
    _check_players(G, D, opt_d, "opt_d", real, prev)
    with torch.no_grad():  # the fake is a constant for D's update
        fake = G(z, prev)  # (1, C, H, W)
    real_out, fake_out = D(real), D(fake)  # (1, 1, H - 10, W - 10) each, separately as official (BatchNorm per image)
    penalty = patch_gradient_penalty(D, real, fake, gp_weight)
    loss = d_loss_wasserstein(real_out, fake_out) + penalty  # E[D(G(z))] - E[D(x)] + lambda GP
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return {"loss_d": loss.item(), "gp": penalty.item(), "d_real": real_out.mean().item(),
            "d_fake": fake_out.mean().item()}


def g_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, real: Tensor, z: Tensor, prev: Tensor,
           z_rec: Tensor, prev_rec: Tensor, alpha: float = 10.0) -> dict[str, float]:
    """One generator update: G_n minimises -E[D(G_n(z, up))] + alpha ||G_n(z_rec, up(x~rec_{n+1})) - x_n||^2 (sec. 2.1).

    The squared norm is a mean over pixels (official training.py: nn.MSELoss), which is what
    alpha = 10 is weighed against. The fake is redrawn with G's current weights at every update.
    """
    _check_players(G, D, opt_g, "opt_g", real, prev)
    validate.tensor("prev_rec", prev_rec, shape=tuple(real.shape), finite=False, hint=" (the shape of real)")
    validate.number("alpha", alpha, low=0)
    adversarial = g_loss_wasserstein(D(G(z, prev)))  # -E[D(G(z))]
    reconstruction = alpha * F.mse_loss(G(z_rec, prev_rec), real)  # alpha * mean (G(z_rec, up(x~rec)) - x_n)^2
    opt_g.zero_grad(set_to_none=True)
    (adversarial + reconstruction).backward()  # D's gradients from this are cleared by the next d_step
    opt_g.step()
    return {"loss_g": adversarial.item(), "loss_rec": reconstruction.item()}


def noise_amplitude(upsampled: Tensor, real: Tensor, noise_amp: float = 0.1) -> float:
    """sigma_n = noise_amp * RMSE(up(x~rec_{n+1}), x_n): noise as strong as what the coarser scales miss (sec. 2.1)."""
    validate.tensor("upsampled", upsampled, shape=("N", "C", "H", "W"))
    validate.tensor("real", real, shape=tuple(upsampled.shape), hint=" (the image at this scale)")
    validate.number("noise_amp", noise_amp, low=0)
    return noise_amp * F.mse_loss(upsampled, real).sqrt().item()


def scale_step(model: SinGAN, scale: int, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               real: Tensor, prev_rec: Tensor, noise: torch.Generator,
               config: SinGANConfig) -> Callable[[int], dict[str, float]]:
    """``run_steps``'s step function for ``scale``: one iteration, d_steps critic then g_steps generator updates."""
    validate.instance("model", model, SinGAN, "a SinGAN (the pyramid being trained)")
    validate.integer("scale", scale, low=0, high=model.n_scales - 1)
    validate.instance("D", D, nn.Module, "the critic of this scale (a PatchDiscriminator)")
    validate.instance("opt_g", opt_g, torch.optim.Optimizer, "a torch.optim optimiser")
    validate.instance("opt_d", opt_d, torch.optim.Optimizer, "a torch.optim optimiser")
    validate.tensor("real", real, shape=(1, model.channels, *model.sizes[scale]), hint=" (the image at this scale)")
    validate.tensor("prev_rec", prev_rec, shape=tuple(real.shape), hint=" (up(x~rec) of the scale below)")
    validate.instance("noise", noise, torch.Generator, "a torch.Generator")
    validate.instance("config", config, SinGANConfig, "a SinGANConfig")
    G, size, device = model.generators[scale], model.sizes[scale], real.device
    z_channels = 1 if scale == 0 else model.channels  # grey noise at the coarsest scale (official training.py)
    z_rec = model.z_rec if scale == 0 else torch.zeros(1, 1, *size, device=device)  # {z*, 0, ..., 0}

    def step(_: int) -> dict[str, float]:
        z = torch.randn(1, z_channels, *size, generator=noise).to(device)  # one z per iteration, as official
        for _ in range(config.d_steps):  # a new sample of the coarser scales for every critic update, as official
            prev = (torch.zeros_like(real) if scale == 0 else
                    resize(sample(model, 1, end_scale=scale - 1, generator=noise), size))
            stats = d_step(G, D, opt_d, real, z, prev, config.gp_weight)
        for _ in range(config.g_steps):
            stats |= g_step(G, D, opt_g, real, z, prev, z_rec, prev_rec, config.alpha)
        return stats

    return step


# --------------------------------------------------------------------------- the recipe
def build_singan(config: SinGANConfig, sizes: list[tuple[int, int]]) -> SinGAN:
    """The untrained pyramid of ``config`` for the scale sizes ``sizes`` (coarsest first), seeded weights."""
    validate.instance("config", config, SinGANConfig, "a SinGANConfig, e.g. default_singan()")
    return SinGAN(sizes, channels=3, width=config.width, max_width=config.max_width)


def _identity(config: SinGANConfig, scale: int, sizes: list[tuple[int, int]]) -> dict:
    """What the checkpoint of ``scale`` must share with the run that resumes it."""
    same = {k: v for k, v in run_identity("singan", config).items() if k != "n_samples"}  # drawing, not training
    return {**same, "scale": scale, "sizes": [list(s) for s in sizes]}


def _save_png(images: Tensor, path: Path, nrow: int = 8) -> None:
    from torchvision.utils import save_image

    save_image((images.detach().float().cpu().clamp(-1, 1) + 1) / 2, path, nrow=nrow, padding=2, pad_value=1.0)


def _draw_scale(model: SinGAN, scale: int, real: Tensor, folder: Path, config: SinGANConfig) -> float:
    """reconstruction.png and samples.png of one scale (their own noise stream); returns the reconstruction's RMSE."""
    rec = reconstruct(model, scale)  # (1, 3, H, W)
    _save_png(torch.cat([real, rec]), folder / "reconstruction.png", nrow=2)
    g = torch.Generator().manual_seed(config.seed + 1)  # drawing never moves the training's random streams
    _save_png(sample(model, config.n_samples, end_scale=scale, generator=g), folder / "samples.png")
    return F.mse_loss(rec, real).sqrt().item()


def _train_scale(model: SinGAN, scale: int, D: nn.Module, reals: list[Tensor], config: SinGANConfig,
                 resume: bool, progress: bool, out: Path) -> tuple[History, bool]:
    """Train (or, with ``resume``, finish or load) one scale; returns its history and whether it trained now."""
    G, real, folder = model.generators[scale], reals[scale], out / f"scale{scale}"
    folder.mkdir(parents=True, exist_ok=True)
    model.eval()  # the coarser generators are frozen, BatchNorm on their running statistics (official training.py)
    G.train()
    D.train()
    prev_rec = torch.zeros_like(real)  # up(x~rec_{n+1}); nothing below the coarsest scale
    if scale > 0:
        prev_rec = resize(reconstruct(model, scale - 1), model.sizes[scale])
        G.sigma.fill_(noise_amplitude(prev_rec, real, config.noise_amp))  # sigma_n (official training.py)
    noise = torch.Generator().manual_seed(config.seed * 1000 + scale)  # z and the coarser samples of this scale
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=(config.beta1, config.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2))
    state = {"model": model, "D": D, "opt_g": opt_g, "opt_d": opt_d, "noise": noise}
    identity, path = _identity(config, scale, model.sizes), folder / "checkpoint.pt"
    if resume and path.is_file():
        payload = read_checkpoint(path)
        if payload["step"] >= config.iterations:  # finished: load it as it is, random states included
            check_same_run(path, payload["config"], identity)
            saved = restore(payload, path, **state)
            history = History(saved["history"])
            history.start_step = saved["step"]
            return history, False
    drop = round(config.lr_drop_at * config.iterations)
    step = scale_step(model, scale, D, opt_g, opt_d, real, prev_rec, noise, config)
    history = train_in_folder(folder, config, lambda: run_steps(
        step, steps=config.iterations, state=state, config=identity, checkpoint=path, resume=resume,
        lr_factor=lambda i: config.lr_gamma if i > drop else 1.0,  # MultiStepLR([1600], 0.1), official
        log_every=max(1, config.iterations // 10), checkpoint_every=max(1, config.iterations // 5),
        progress=progress, doctor=True))
    return history, True


def train_singan(config: SinGANConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train SinGAN on ``natural_image(config.image, config.max_size)`` coarse to fine, write the run folder, return
    the metrics (as in metrics.json). ``resume``: continue from the scale checkpoints in ``config.out``."""
    out = open_run(config, SinGANConfig, "a SinGANConfig, e.g. default_singan()", resume, progress)
    with cpu_threads(config.threads):
        return _train(config, resume, progress, out)


def _train(config: SinGANConfig, resume: bool, progress: bool, out: Path) -> dict:
    seed_everything(config.seed)
    device = get_device()
    image = natural_image(config.image, config.max_size)  # (3, H, W) in [-1, 1], longer side max_size
    reals = [x.to(device) for x in image_pyramid(image, config.min_size, config.scale_factor)]
    sizes, r = pyramid_sizes(*image.shape[-2:], config.min_size, config.scale_factor)
    model = build_singan(config, sizes).to(device)
    model.z_rec.copy_(torch.randn(model.z_rec.shape, generator=torch.Generator().manual_seed(config.seed)))  # z*
    scales, D, start, trained_now = [], None, time.perf_counter(), False
    for i in range(model.n_scales):
        width = width_at(i, config.width, config.max_width)
        D_prev, D = D, PatchDiscriminator(3, width).to(device)
        if i > 0 and width == width_at(i - 1, config.width, config.max_width):  # official training.py: start from
            model.generators[i].load_state_dict(model.generators[i - 1].state_dict())  # the scale below's weights
            D.load_state_dict(D_prev.state_dict())
        if progress:
            print(f"SinGAN scale {i} of {model.n_scales - 1}: {sizes[i][0]}x{sizes[i][1]} px, width {width}")
        began = time.perf_counter()
        try:
            history, trained = _train_scale(model, i, D, reals, config, resume, progress, out)
        except BaseException as err:  # scale{i}/metrics.json tells the details (train_in_folder); say where here
            if not isinstance(err, CheckpointError) or isinstance(err, CheckpointWriteError):
                write_metrics(out, {"status": "diverged" if isinstance(err, TrainingDiverged) else "failed",
                                    "scale": i, "scales_done": i, "error": f"{type(err).__name__}: {err}",
                                    "config": dataclasses.asdict(config)})
            raise
        trained_now |= trained
        if history.interrupted:
            result = {"status": "interrupted", "scales_done": i, "scale": i, "steps_done": history.last_step,
                      "config": dataclasses.asdict(config)}
            write_metrics(out, result)
            return result
        model.n_trained.fill_(i + 1)
        folder = out / f"scale{i}"
        if trained or not _finished(folder):  # (or a scale loaded finished whose record was lost)
            record = {"scale": i, "size": list(sizes[i]), "width": width, "sigma": model.generators[i].sigma.item(),
                      "reconstruction_rmse": _draw_scale(model, i, reals[i], folder, config),
                      "status": "finished", "steps_done": history.last_step,
                      "seconds": round(time.perf_counter() - began, 2),
                      "doctor": summary(history.findings),  # what the training doctor found at this scale
                      **{k: v[-1] for k, v in history.items() if k != "step"}}
            write_metrics(folder, record)
        scales.append(json.loads((folder / "metrics.json").read_text()))
    if not trained_now and _finished(out):  # every scale, and the run, had finished before: nothing is rewritten
        return nothing_to_do(out, history, config.iterations)
    return _finish(model, reals[-1], scales, r, config, out, time.perf_counter() - start)


def _finished(out: Path) -> bool:
    path = out / "metrics.json"
    return path.is_file() and json.loads(path.read_text()).get("status") == "finished"


def _finish(model: SinGAN, real: Tensor, scales: list[dict], r: float, config: SinGANConfig, out: Path,
            seconds: float) -> dict:
    """The top-level PNGs and metrics.json of a finished run."""
    g = torch.Generator().manual_seed(config.seed + 2)
    samples = sample(model, config.n_samples, generator=g)  # (n, 3, H, W)
    rec = reconstruct(model)
    h0, w0 = model.sizes[0]
    _save_png(samples, out / "samples.png", nrow=4)
    _save_png(sample(model, 4, size=(h0, 2 * w0), generator=g), out / "samples_wide.png", nrow=1)
    _save_png(torch.cat([real, rec]), out / "reconstruction.png", nrow=2)
    scores = torch.tensor([patch_fid(real, x) for x in samples])
    result = {
        "status": "finished",
        "scales": model.n_scales,
        "sizes": [list(s) for s in model.sizes],
        "scale_factor": round(r, 4),
        "widths": [s["width"] for s in scales],
        "sigmas": [s["sigma"] for s in scales],
        "reconstruction_rmse": [s["reconstruction_rmse"] for s in scales],
        "patch_fid_samples": scores.mean().item(),
        "patch_fid_samples_std": scores.std().item() if len(scores) > 1 else 0.0,
        "patch_fid_reconstruction": patch_fid(real, rec),
        "steps_done": config.iterations,
        "train_seconds": round(seconds, 2),
        "seconds_per_scale": [s["seconds"] for s in scales],
        "doctor": [f"scale {i}: {line}" for i, s in enumerate(scales) for line in s.get("doctor", [])],
        "device": str(real.device),
        "threads": torch.get_num_threads(),
        "config": dataclasses.asdict(config),
    }
    write_metrics(out, result)
    return result


def load_singan(out: str | os.PathLike) -> SinGAN:
    """The pyramid saved in the run folder ``out``, as far as it was trained, in eval mode, on the CPU."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a run folder (a str or pathlib.Path), got {type(out).__name__}")
    paths = sorted(Path(out).glob("scale*/checkpoint.pt"), key=lambda p: int(p.parent.name[len("scale"):]))
    if not paths:
        raise CheckpointError(f"no SinGAN checkpoint in {out}: train one with train_singan(config) first")
    saved = read_checkpoint(paths[-1])
    settings = {k: v for k, v in saved["config"].items() if k not in ("recipe", "scale", "sizes")}
    config = SinGANConfig(**{**settings, "out": str(out)})
    model = build_singan(config, [tuple(s) for s in saved["config"]["sizes"]])
    restore(saved, paths[-1], restore_rng=False, model=model)
    if saved["step"] >= config.iterations:  # the last scale saved had finished
        model.n_trained.fill_(saved["config"]["scale"] + 1)
    return model.eval()


def load_or_train_singan(config: SinGANConfig, progress: bool = True) -> tuple[SinGAN, dict]:
    """(the pyramid, in eval mode on the CPU; metrics) of the finished run in ``config.out`` if it was made with this
    config, else train it first (continuing from its finished scales when the folder holds a stopped run of it)."""
    validate.instance("config", config, SinGANConfig, "a SinGANConfig, e.g. default_singan()")
    metrics = finished_metrics(Path(config.out), config, ("threads", "out"))
    if metrics is None:
        first = Path(config.out) / "scale0" / "checkpoint.pt"  # a stopped run of this config continues
        resume = holds_same_run(first, "singan", config, ("n_samples",))  # n_samples only draws
        metrics = train_singan(config, resume=resume, progress=progress)
    return load_singan(config.out), metrics

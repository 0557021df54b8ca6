"""Training a progressively grown GAN on the offline MNIST digits, stage by stage.

Karras et al. 2018 (arXiv:1710.10196), sec. 2 and appendix A.1. ``train_progressive`` trains
``ProgressiveGenerator`` against ``ProgressiveDiscriminator`` on the 4,000 training digits padded
to 32 px (``image_recipes.training_digits``), with this schedule of generator updates:

    stage 0, 8 px:   stable_steps at alpha = 1
    stage 1, 16 px:  fade_steps while alpha rises linearly from 0 to 1, then stable_steps at 1
    stage 2, 32 px:  the same

Each stage is one call of ``ganlab.loop.run_steps`` (progress, history, NaN guard, Ctrl-C,
checkpoint and resume), whose step is one ``d_step`` and one ``g_step`` of ``ganlab.train``;
between calls the players grow (``stage`` + 1). D sees real digits at the stage's resolution,
average-pooled from 32 px, and during a fade-in blended like G's output,
(1 - alpha) * upsample(avgpool(x)) + alpha * x, as the paper's code does (train.py,
process_reals). A run folder holds

- ``samples_stage{s}.png``: samples of the moving average of G's weights (``ema``; G itself with ``ema=0``) at the
  end of stage s, at that stage's resolution, from one fixed batch of z; ``losses.png``: the whole run's losses;
- ``checkpoint_stage{s}.pt``: everything at the end of stage s (or where it stopped);
  ``resume=True`` takes the finished stages from them and continues the stage that was stopped.
  When a stage starts training, the checkpoints of later stages, grown from other weights, are deleted;
- ``metrics.json``: ``evaluate_images`` of the same generator's samples (upsampled to 32 px, clipped to [-1, 1]
  and cropped to 28 px), the same scores for real digits, seconds and the config.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import distributed, validate
from .checkpoint import check_same_run, read_checkpoint, restore
from .doctor import summary
from .env import fast, get_device, seed_everything
from .image_metrics import evaluate_images
from .image_recipes import N_TRAINING_DIGITS, _save_grid, _save_losses, generate, real_reference, training_digits
from .losses import LOSSES, GANLoss, d_loss_wasserstein, g_loss_wasserstein, gradient_penalty
from .loop import History, run_steps
from .progressive import SIZES, ProgressiveDiscriminator, ProgressiveGenerator
from .recipes import cpu_threads, finished_metrics, nothing_to_do, train_in_folder, write_metrics
from .train import d_step, ema_of, g_step

__all__ = ["PROGRESSIVE_LOSSES", "ProgressiveConfig", "d_loss_wasserstein_drift", "default_progressive",
           "build_players", "generate_digits", "real_batches", "train_progressive", "load_or_train_progressive"]

GRID_SIZE = 64  # samples in each stage's grid (8 x 8)
DRIFT = 0.001  # epsilon_drift of appendix A.1


def d_loss_wasserstein_drift(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """E[D(G(z))] - E[D(x)] + epsilon_drift E[D(x)^2]: the critic's WGAN loss with the paper's drift term.

    Appendix A.1: the small extra term keeps D's scores from drifting far from 0, which the
    Wasserstein loss alone, blind to a constant added to every score, allows.
    """
    return d_loss_wasserstein(real_out, fake_out) + DRIFT * real_out.pow(2).mean()


# The paper's loss (appendix A.1): WGAN-GP (Gulrajani et al. 2017, lambda 10) with the drift term, and every loss of
# ganlab.losses.
PROGRESSIVE_LOSSES: dict[str, GANLoss] = {
    "wgan-gp-drift": GANLoss(
        "wgan-gp-drift", d_loss_wasserstein_drift, g_loss_wasserstein,
        "Karras et al. 2018: WGAN-GP (weight 10) plus 0.001 E[D(x)^2], which keeps D's scores near 0.",
        penalty=gradient_penalty, logits=False),
    **LOSSES,
}
_RUN_FIELDS = ("stages", "checkpoint_every", "threads", "out", "eval_samples")  # how far and how visibly, not which run


@dataclass
class ProgressiveConfig:
    """A progressive GAN on the training digits; make variants with ``dataclasses.replace``."""

    # 3,000 G updates in all, as many as the dcgan recipe's: 600 at 8 px, 1,200 at 16 px, 1,200 at 32 px
    stable_steps: int = 600  # G updates of each stage at its full resolution (alpha = 1); the whole of stage 0
    fade_steps: int = 600  # G updates at the start of stages 1 and 2 while alpha rises linearly from 0 to 1
    stages: int = 3  # stages to train: 1 stops at 8 px, 3 grows to 32 px; resuming with more stages grows on
    batch_size: int = 64  # real and fake images per step, each
    # A name in PROGRESSIVE_LOSSES. The paper's is "wgan-gp-drift"; "nonsaturating" is the default because it fits a
    # CPU: the gradient penalty differentiates D twice, so a step of the paper's loss takes about twice as long, and
    # in a short trial (900 steps up to 16 px, one seed) the non-saturating loss also drew the more varied digits.
    loss: str = "nonsaturating"
    # Adam's learning rate, both players. Appendix A.1: 0.001. At width 32 and 2,500 steps 0.002 gave FID 156 (G
    # itself, one seed) where 0.001 gave 337, its digits collapsing towards 0s and 6s at 16 px
    lr: float = 2e-3
    beta1: float = 0.0  # Adam's first-moment decay (A.1: 0, no momentum)
    beta2: float = 0.99  # Adam's second-moment decay (A.1: 0.99)
    latent_dim: int = 64  # size of z (the paper: 512)
    width: int = 32  # channels of every feature map of both players (the paper: 512 up to 32 px)
    equalized: bool = True  # equalised learning rate in every layer (sec. 4.1)
    pixel_norm: bool = True  # PixelNorm on z and after each of G's 3x3 convs (sec. 4.2)
    minibatch_std: bool = True  # the minibatch standard deviation map in D's last block (sec. 3)
    reset_adam: bool = True  # empty both Adams' moments as each fade-in and each stabilisation starts (paper's code)
    # decay of the moving average of G's weights that the grids and the metrics show (0: G itself). Appendix A.1 uses
    # 0.999 over millions of images; a run of a few thousand steps needs a shorter memory, as the dcgan recipe's.
    ema: float = 0.995
    checkpoint_every: int = 0  # steps between checkpoints within a stage (0: only at its end and when stopped)
    seed: int = 0  # seeds the weights, the batches and the noise
    threads: int = 2  # CPU threads for PyTorch during the run (0: leave as set; fast mode: 1); see train_dcgan
    out: str = "runs/progressive"  # run folder
    eval_samples: int = 2000  # generated digits scored at the end (at least 8)

    def __post_init__(self) -> None:
        validate.integer("stable_steps", self.stable_steps)
        validate.integer("fade_steps", self.fade_steps, low=0)
        validate.integer("stages", self.stages, high=len(SIZES))
        for name in ("batch_size", "latent_dim", "width"):
            validate.integer(name, getattr(self, name))
        validate.choice("loss", self.loss, PROGRESSIVE_LOSSES)
        validate.number("lr", self.lr, low=0, low_open=True)
        for name in ("beta1", "beta2"):
            validate.number(name, getattr(self, name), low=0, high=1, high_open=True)
        for name in ("equalized", "pixel_norm", "minibatch_std", "reset_adam"):
            validate.flag(name, getattr(self, name))
        if not (self.ema == 0 or 0 < self.ema < 1):
            raise ValueError(f"ema is a decay in (0, 1), e.g. 0.995, or 0 for none; got {self.ema!r}")
        validate.integer("checkpoint_every", self.checkpoint_every, low=0)
        validate.integer("seed", self.seed, low=0)
        validate.integer("threads", self.threads, low=0)
        validate.instance("out", self.out, str, "a folder name")
        validate.integer("eval_samples", self.eval_samples, low=8)

    def stage_steps(self, stage: int) -> int:
        """G updates in ``stage``: a fade-in (none in stage 0), then the stabilisation."""
        validate.integer("stage", stage, low=0, high=len(SIZES) - 1)
        return self.stable_steps + (self.fade_steps if stage > 0 else 0)

    def alpha(self, stage: int, step: int) -> float:
        """The weight of the newest block at ``step`` (1-based) of ``stage``: 0, 1/fade_steps, ... during the
        fade-in, then 1."""
        validate.integer("step", step, high=self.stage_steps(stage))
        return 1.0 if stage == 0 or step > self.fade_steps else (step - 1) / self.fade_steps

    def run_identity(self) -> dict:
        """What a resumed run must share with the run it continues: every field but ``_RUN_FIELDS``."""
        return {"recipe": "progressive",
                **{k: v for k, v in dataclasses.asdict(self).items() if k not in _RUN_FIELDS}}


def default_progressive(**overrides) -> ProgressiveConfig:
    """``ProgressiveConfig`` with fast-mode sizes applied, then ``overrides``."""
    base = ProgressiveConfig(stable_steps=fast(10, ProgressiveConfig.stable_steps),
                             fade_steps=fast(10, ProgressiveConfig.fade_steps),
                             eval_samples=fast(200, ProgressiveConfig.eval_samples),
                             threads=fast(1, ProgressiveConfig.threads))
    return validate.replaced(base, **overrides)


def build_players(config: ProgressiveConfig) -> tuple[ProgressiveGenerator, ProgressiveDiscriminator]:
    """G and D of the recipe at stage 0, for single-channel digits."""
    validate.instance("config", config, ProgressiveConfig, "a ProgressiveConfig, e.g. default_progressive()")
    G = ProgressiveGenerator(latent_dim=config.latent_dim, channels=1, width=config.width,
                             equalized=config.equalized, pixel_norm=config.pixel_norm)
    D = ProgressiveDiscriminator(channels=1, width=config.width, equalized=config.equalized,
                                 minibatch_std=config.minibatch_std)
    return G, D


def generate_digits(G: ProgressiveGenerator, z: Tensor) -> Tensor:
    """G's images at its stage as 28 x 28 digits (N, 1, 28, 28) on the CPU: upsampled (nearest) to 32 px, clipped to
    [-1, 1] (G's output is linear; the paper's code clips it to show it), cropped by ``image_recipes.generate``."""
    validate.instance("G", G, ProgressiveGenerator, "a ProgressiveGenerator")
    at_32px = nn.Sequential(G, nn.Upsample(size=SIZES[-1], mode="nearest"), nn.Hardtanh())  # (N, 1, 32, 32)
    return generate(at_32px, z)  # (N, 1, 28, 28)


def real_batches(digits: Tensor, generator: torch.Generator) -> Callable[[int, float, int], Tensor]:
    """(stage, alpha, n) -> n random digits at the stage's resolution, blended during a fade-in as G's output is."""
    validate.tensor("digits", digits, shape=("N", "C", SIZES[-1], SIZES[-1]), finite=False)
    validate.instance("generator", generator, torch.Generator, "a torch.Generator")
    pyramid = [F.avg_pool2d(digits, SIZES[-1] // size) for size in SIZES]  # (N, C, S, S) for each stage's S

    def sample(stage: int, alpha: float, n: int) -> Tensor:
        validate.integer("stage", stage, low=0, high=len(SIZES) - 1)
        validate.number("alpha", alpha, low=0, high=1)
        validate.integer("n", n)
        x = pyramid[stage][torch.randint(len(digits), (n,), generator=generator).to(digits.device)]  # (n, C, S, S)
        if stage == 0 or alpha == 1:
            return x
        coarse = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")  # the previous stage's, (n, C, S, S)
        return (1 - alpha) * coarse + alpha * x
    return sample


def _joined(histories: list[History], config: ProgressiveConfig) -> History:
    """One history for the whole run: ``step`` counted from the start of stage 0, and the ``stage`` of each step."""
    joined, offset = History(), 0
    for stage, history in enumerate(histories):
        for i, step in enumerate(history.get("step", [])):
            joined.append({**{k: v[i] for k, v in history.items()}, "step": offset + step, "stage": stage})
        offset += config.stage_steps(stage)
    joined.interrupted = histories[-1].interrupted
    return joined


def train_progressive(config: ProgressiveConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train stage by stage, write the run folder, return the metrics (as in metrics.json)."""
    validate.instance("config", config, ProgressiveConfig, "a ProgressiveConfig, e.g. default_progressive()")
    validate.flag("resume", resume)
    validate.flag("progress", progress)
    distributed.single_process("The progressive recipe")
    with cpu_threads(config.threads):
        return _train(config, resume, progress)


def _train(config: ProgressiveConfig, resume: bool, progress: bool) -> dict:
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    G, D = build_players(config)
    device = get_device()
    G, D = G.to(device), D.to(device)
    betas = (float(config.beta1), float(config.beta2))  # Adam refuses an int 0
    opt_g = torch.optim.Adam(G.parameters(), config.lr, betas)
    opt_d = torch.optim.Adam(D.parameters(), config.lr, betas)
    batches = torch.Generator().manual_seed(config.seed)  # draws the real batches' indices and every z
    state = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "batches": batches}
    ema = ema_of(G, config.ema) if config.ema else None  # holds the layers of every stage, as G does
    averages = {"ema": (ema, G)} if ema is not None else None
    shown = G if ema is None else ema.module  # the generator of the grids and the metrics

    def set_stage(stage: int, alpha: float) -> None:
        for player in (G, D, shown):
            player.stage, player.alpha = stage, alpha
    sample_real = real_batches(training_digits(image_size=SIZES[-1]).to(device), batches)
    loss = PROGRESSIVE_LOSSES[config.loss]
    z_grid = torch.randn(GRID_SIZE, config.latent_dim, generator=torch.Generator().manual_seed(config.seed + 1))

    def z_batch() -> Tensor:
        return torch.randn(config.batch_size, config.latent_dim, generator=batches).to(device)

    def stage_step(stage: int) -> Callable[[int], dict[str, float]]:
        def step(i: int) -> dict[str, float]:
            """One D step on real and fake images at the stage's resolution and alpha, then one G step."""
            # The paper's code (train.py, train_progressive_gan, reset_opt_for_new_lod) empties both Adams' moments
            # whenever the level of detail leaves or reaches a whole number: when a fade-in starts and when the
            # stabilisation after it starts. Moments gathered for one network are stale for the next.
            if config.reset_adam and stage > 0 and i in (1, config.fade_steps + 1):
                opt_g.state.clear()
                opt_d.state.clear()
            alpha = config.alpha(stage, i)
            set_stage(stage, alpha)
            stats = d_step(G, D, sample_real(stage, alpha, config.batch_size), z_batch(), opt_d, loss)
            return {**stats, **g_step(G, D, z_batch(), opt_g, loss), "alpha": alpha}  # a fresh z for G's step
        return step

    found: list[str] = []  # what the training doctor found at each stage trained now

    def train_stages() -> History:
        histories, done_before = [], 0  # done_before: steps already trained when this call began
        for stage in range(config.stages):
            set_stage(stage, config.alpha(stage, 1))  # grow: the next block joins both players
            steps, path = config.stage_steps(stage), out / f"checkpoint_stage{stage}.pt"
            identity = {**config.run_identity(), "stage": stage}
            if resume and path.is_file():
                payload = read_checkpoint(path)
                check_same_run(path, payload["config"], identity)
                if payload["step"] == steps:  # a finished stage: its weights, moments and random streams
                    restore(payload, path, **state, **({"ema": ema} if ema is not None else {}))
                    set_stage(stage, config.alpha(stage, steps))
                    histories.append(History(payload["history"]))
                    done_before += steps
                    continue
            for later in range(stage + 1, len(SIZES)):  # trained from other weights than this stage's: out of date
                (out / f"checkpoint_stage{later}.pt").unlink(missing_ok=True)
            history = run_steps(stage_step(stage), steps=steps, state=state, config=identity, checkpoint=path,
                                resume=resume, averages=averages, log_every=max(1, steps // 50),
                                checkpoint_every=config.checkpoint_every, progress=progress, doctor=True)
            found.extend(f"stage {stage}: {line}" for line in summary(history.findings))
            histories.append(history)
            done_before += history.start_step
            with torch.no_grad():
                grid = shown(z_grid.to(device)).clamp(-1, 1).cpu()  # (64, 1, S, S): this stage's resolution
            _save_grid(grid, out / f"samples_stage{stage}.png", 8,
                       f"stage {stage}, {G.size} px, after {history.last_step} of {steps} steps"
                       + (" (EMA)" if ema is not None else ""))
            if history.interrupted:
                break
        joined = _joined(histories, config)
        joined.start_step = done_before
        return joined

    start = time.perf_counter()
    history = train_in_folder(out, config, train_stages)
    seconds = time.perf_counter() - start
    total = sum(config.stage_steps(s) for s in range(config.stages))
    unchanged = nothing_to_do(out, history, total)
    if unchanged is not None:
        return unchanged
    if history.get("step"):
        _save_losses(history, out / "losses.png")
    z_eval = torch.randn(config.eval_samples, config.latent_dim,
                         generator=torch.Generator().manual_seed(config.seed + 2))  # its own stream, as z_grid's
    result = {
        **evaluate_images(generate_digits(shown, z_eval)),
        "evaluated": "ema" if ema is not None else "G",
        "eval_samples": config.eval_samples,
        "real_reference": real_reference(min(config.eval_samples, N_TRAINING_DIGITS), False),
        "status": "interrupted" if history.interrupted else "finished",
        "stage": G.stage, "resolution": G.size, "alpha": G.alpha,
        "steps_done": history.last_step,
        "train_seconds": round(seconds, 2),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "doctor": found,  # what the training doctor found while the stages trained
        "config": dataclasses.asdict(config),
    }
    write_metrics(out, result)
    return result


def load_or_train_progressive(config: ProgressiveConfig, progress: bool = True) -> tuple[ProgressiveGenerator, dict]:
    """(G, metrics) of the finished run in ``config.out`` if it was made with this config, else train it afresh
    there. G is the generator the metrics score (the moving average when ``config.ema``
    is on), at the last stage trained, in eval mode."""
    validate.instance("config", config, ProgressiveConfig, "a ProgressiveConfig, e.g. default_progressive()")
    out = Path(config.out)
    metrics = finished_metrics(out, config, ("checkpoint_every", "threads", "out"))
    if metrics is None:
        metrics = train_progressive(config, progress=progress)
    G, _ = build_players(config)
    path = out / f"checkpoint_stage{config.stages - 1}.pt"
    if config.ema:
        ema = ema_of(G, config.ema)
        restore(read_checkpoint(path), path, ema=ema, restore_rng=False)
        G = ema.module
    else:
        restore(read_checkpoint(path), path, G=G, restore_rng=False)
    G.stage, G.alpha = config.stages - 1, 1.0
    return G.eval(), metrics

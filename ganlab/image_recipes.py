"""Image recipes: DCGAN and a conditional GAN on the 5,000 offline MNIST digits.

``ganlab train dcgan`` and ``ganlab train cgan`` call :func:`train_dcgan`. The GAN trains on
the classifier's training split (4,000 digits, ``classifier.mnist_split``), so the 1,000
held-out digits that the image metrics compare against stay unseen. By default the digits are
padded with 2 px of background to 32 x 32, which gives each player a third stride-2 block
(``convnets.LAYOUTS``); ``generate`` crops the border again, so every image it returns, and
every image scored, is a 28 x 28 digit. A run folder holds

- ``samples_step{N}.png``: G's samples during training, from one fixed batch of z (for the
  cGAN one row per class), so the grids show the same latent points as G learns;
- ``samples.png``: the final grid (the EMA of G when the run keeps one); ``losses.png``: the
  loss curves and D's outputs;
- ``metrics.json``: every score of ``evaluate_images`` for the final G (its EMA when the run
  keeps one), the same scores for real training digits against the held-out ones (the
  floor that FID and KID reach at this sample size), seconds, steps/s and the config;
- ``checkpoint.pt``: both players, both optimisers, G's EMA, the history (``--resume``).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import data, distributed, validate
from .checkpoint import load_checkpoint
from .classifier import N_CLASSES, heldout_mnist, mnist_split
from .augment import Augmented, DiffAugment
from .convnets import (ACGANDiscriminator, ConditionalDCGANGenerator, DCGANDiscriminator, DCGANGenerator,
                       ProjectionDiscriminator)
from .doctor import summary
from .env import fast, get_device, seed_everything
from .losses import get_loss, with_label_smoothing
from .image_metrics import evaluate_images
from .recipes import cpu_threads, finished_metrics, nothing_to_do, run_identity, train_in_folder, write_metrics
from .losses import GANLoss
from .stylegan import StyleGenerator
from .train import History, TrainConfig, ema_of, fit

GRID_SIZE = 64  # samples in the unconditional grids (8 x 8); the cGAN's grids are 10 x 10, a row per class
DIGIT_SIZE = 28  # MNIST's side; the classifier and every image score read 28 x 28 digits
IMAGE_SIZES = (28, 32)
N_TRAINING_DIGITS = 4000  # the classifier's training split of the 5,000 offline digits
CONDITIONAL_DS = ("projection", "acgan", "acgan-real")
GENERATORS = ("dcgan", "style")


@dataclass
class DCGANConfig:
    """The course's DCGAN (Radford et al. 2015, arXiv:1511.06434) and cGAN settings for MNIST."""

    conditional: bool = False  # cGAN: G(z, y) with conditional BatchNorm, projection D(x, y) (Miyato & Koyama 2018)
    loss: str = "nonsaturating"  # a name in ganlab.losses.LOSSES
    steps: int = 3000  # generator updates (fast mode: 30)
    batch_size: int = 64  # real and fake images per step, each
    lr_g: float = 2e-3  # Adam learning rate of G
    lr_d: float = 2e-3  # Adam learning rate of D
    beta1: float = 0.5  # Adam's first-moment decay; 0.5 as in DCGAN (sec. 4)
    beta2: float = 0.999  # Adam's second-moment decay
    latent_dim: int = 64  # size of z ~ N(0, I)
    width: int = 32  # channels of G's last and D's first feature map; each block down doubles them
    image_size: int = 32  # 32: digits padded with 2 px of background, three blocks per player; 28: two blocks
    reuse_fakes: bool = True  # G's step reuses the fakes of D's step (same z, same G), saving a forward of G
    ema: float = 0.995  # decay of the moving average of G's weights (0: off), sampled for the metrics
    sample_every: int = 500  # steps between sample grids samples_step{N}.png (fast mode: 10)
    eval_samples: int = 2000  # generated images scored at the end (fast mode: 200)
    seed: int = 0  # seeds the weights, the batches and the noise
    threads: int = 2  # CPU threads for PyTorch during the run (0: leave as set; fast mode: 1); see train_dcgan
    out: str = "runs/dcgan"  # run folder
    amp: bool = False  # mixed precision (bfloat16 on CPU and recent GPUs, see ganlab.amp)
    channels_last: bool = False  # NHWC memory layout for both players, faster with AMP on tensor-core GPUs
    # For training on little data (chapter 04); the defaults leave the recipe as above.
    train_digits: int = N_TRAINING_DIGITS  # train on this many of the 4,000 (always the same ones, see training_digits)
    # the cGAN's D: "projection" (Miyato & Koyama 2018), "acgan" (Odena et al. 2017: D's class head learns from real
    # digits and from fakes) or "acgan-real" (the class head learns from real digits only)
    conditional_d: str = "projection"
    augment: str = ""  # DiffAugment policy for everything D sees, e.g. "translation,cutout" ("": none)
    real_label: float = 1.0  # D's target for real data; 0.9 is one-sided label smoothing (Salimans et al. 2016)
    feature_matching: bool = False  # G matches D's mean features on real data (Salimans et al. 2016, sec. 3.1)
    minibatch_kernels: int = 0  # minibatch discrimination in D (Salimans et al. 2016, sec. 3.2); 0: off
    # The unconditional G (chapter 05): "dcgan", or "style", the style-based G of ganlab.stylegan (Karras et al.
    # 2019) with ``width`` channels at every resolution, against the same D
    generator: str = "dcgan"
    # Several processes (torchrun --nproc_per_node W -m ganlab train dcgan ...; see ganlab.distributed): batch_size
    # stays the global batch; True: BatchNorm on the global batch's statistics (no effect in one process)
    sync_batchnorm: bool = False

    def __post_init__(self) -> None:
        self.train_config()  # checks the loss name, steps, batch size and learning rates
        if not (self.ema == 0 or 0 < self.ema < 1):
            raise ValueError(f"ema is a decay in (0, 1), e.g. 0.995, or 0 for none; got {self.ema!r}")
        for name in ("latent_dim", "width", "sample_every", "eval_samples"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive int, got {getattr(self, name)!r}")
        if self.eval_samples < 8:
            raise ValueError(f"eval_samples must be at least 8 for KID and precision/recall, got {self.eval_samples}")
        if self.image_size not in IMAGE_SIZES:
            raise ValueError(f"image_size must be one of {list(IMAGE_SIZES)} for MNIST, got {self.image_size!r}")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise ValueError(f"threads must be a non-negative int (0: leave as set), got {self.threads!r}")
        validate.integer("train_digits", self.train_digits, low=self.batch_size, high=N_TRAINING_DIGITS)
        validate.choice("conditional_d", self.conditional_d, CONDITIONAL_DS)
        if self.augment:
            DiffAugment(self.augment)  # checks the policy's names
        self.gan_loss()  # checks real_label against the loss
        validate.integer("minibatch_kernels", self.minibatch_kernels, low=0)
        if self.conditional and (self.feature_matching or self.minibatch_kernels):
            raise ValueError("feature_matching and minibatch_kernels are for the unconditional recipe "
                             "(conditional=False)")
        if self.feature_matching and self.augment:
            raise ValueError("feature_matching and augment together are not supported: feature matching reads the "
                             "features of D itself (D.features), which the augmented D hides; choose one")
        validate.choice("generator", self.generator, GENERATORS)
        if self.generator == "style" and (self.conditional or self.image_size != 32):
            raise ValueError("generator='style' is for the unconditional recipe at 32 px (conditional=False, "
                             "image_size=32): the style-based G doubles a 4 px constant up to a power of two")
        if not self.conditional and self.conditional_d != "projection":
            raise ValueError("conditional_d chooses the cGAN's discriminator; set conditional=True for an AC-GAN")

    def gan_loss(self) -> GANLoss:
        """The named loss, with D's target for real data set to ``real_label`` when it is below 1."""
        loss = get_loss(self.loss)
        return loss if self.real_label == 1 else with_label_smoothing(loss, self.real_label)

    def train_config(self, progress: bool = True) -> TrainConfig:
        """The ``TrainConfig`` that ``fit`` runs with; the callback draws a grid every ``sample_every`` steps."""
        validate.flag("progress", progress)
        return TrainConfig(steps=self.steps, batch_size=self.batch_size, loss=self.loss, lr_g=self.lr_g,
                           lr_d=self.lr_d, beta1=self.beta1, beta2=self.beta2, amp=self.amp, reuse_fakes=self.reuse_fakes,
                           log_every=self.sample_every, checkpoint_every=self.sample_every, progress=progress,
                           seed=self.seed, feature_matching=self.feature_matching,
                           classifier_weight=1.0 if self.conditional and self.conditional_d != "projection" else 0.0,
                           classify_fakes=self.conditional_d != "acgan-real", sync_batchnorm=self.sync_batchnorm)


def _check_config(config: DCGANConfig) -> None:
    validate.instance("config", config, DCGANConfig, "a DCGANConfig, e.g. default_dcgan()")


def default_dcgan(conditional: bool = False, **overrides) -> DCGANConfig:
    """``DCGANConfig`` with fast-mode sizes applied (and ``out`` = runs/cgan for the cGAN), then ``overrides``."""
    base = DCGANConfig(conditional=conditional, steps=fast(30, DCGANConfig.steps),
                       sample_every=fast(10, DCGANConfig.sample_every),
                       eval_samples=fast(200, DCGANConfig.eval_samples),
                       threads=fast(1, DCGANConfig.threads),  # a run of seconds gains nothing from a second thread
                       # 30 steps barely move an average with decay 0.995 from the initial, uniformly grey G; at
                       # 0.5 it follows G, so fast mode's grids show what G has learnt
                       ema=fast(0.5, DCGANConfig.ema),
                       out="runs/cgan" if conditional else DCGANConfig.out)
    return validate.replaced(base, **overrides)


def build_players(config: DCGANConfig) -> tuple[nn.Module, nn.Module]:
    """G and D of the recipe, DCGAN-initialised, for single-channel images of ``config.image_size``;
    with ``config.augment``, D is wrapped in ``Augmented`` (the discriminator itself is ``D.D``)."""
    _check_config(config)
    sizes = dict(channels=1, width=config.width, image_size=config.image_size)
    if config.conditional:
        G = ConditionalDCGANGenerator(n_classes=N_CLASSES, latent_dim=config.latent_dim, **sizes)
        d_class = ProjectionDiscriminator if config.conditional_d == "projection" else ACGANDiscriminator
        D = d_class(n_classes=N_CLASSES, **sizes)
    else:
        G = (StyleGenerator(latent_dim=config.latent_dim, **sizes) if config.generator == "style"
             else DCGANGenerator(latent_dim=config.latent_dim, **sizes))
        D = DCGANDiscriminator(minibatch_kernels=config.minibatch_kernels, **sizes)
    return G, (Augmented(D, config.augment) if config.augment else D)


def pad_digits(x: Tensor, image_size: int = 32) -> Tensor:
    """28 x 28 digits (N, 1, 28, 28) in [-1, 1] with a border of background (-1) up to ``image_size``."""
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {list(IMAGE_SIZES)}, got {image_size!r}")
    validate.tensor("x", x, shape=("N", "C", DIGIT_SIZE, DIGIT_SIZE), finite=False, hint=" (MNIST digits)")
    pad = (image_size - DIGIT_SIZE) // 2
    return F.pad(x, (pad, pad, pad, pad), value=-1.0)


def training_digits(conditional: bool = False, image_size: int = DIGIT_SIZE,
                    n: int = N_TRAINING_DIGITS) -> Tensor | tuple[Tensor, Tensor]:
    """The 4,000 digits of the classifier's training split in [-1, 1], (N, 1, image_size, image_size),
    with their labels for a cGAN; at 32 px padded with 2 px of background (-1) on every side.
    With ``n`` < 4,000, the first ``n`` of one fixed shuffle of them (every run sees the same ones)."""
    validate.integer("n", n, high=N_TRAINING_DIGITS)
    x, y = data.load("mnist")
    train_idx, _ = mnist_split()
    if n < N_TRAINING_DIGITS:  # all 4,000 stay in their order, so the full recipe's runs are unchanged
        train_idx = train_idx[torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(0))[:n]]
    x = pad_digits(x[train_idx], image_size)  # (n, 1, image_size, image_size)
    return (x, y[train_idx]) if conditional else x


@torch.no_grad()
def generate(G: nn.Module, z: Tensor, labels: Tensor | None = None, batch_size: int = 500) -> Tensor:
    """Digits G(z) (or G(z, labels)) in eval mode (BatchNorm on its running statistics), on the CPU.

    Always (N, 1, 28, 28): a 32 px generator's 2 px border, background in the training data, is cropped.
    """
    validate.instance("G", G, nn.Module, "a generator (an nn.Module)")
    validate.tensor("z", z, shape=("N", "latent_dim"), finite=False)
    validate.integer("batch_size", batch_size)
    was_training, device = G.training, next(G.parameters()).device
    G.eval()
    try:
        out = [G(z[i:i + batch_size].to(device), *(() if labels is None else (labels[i:i + batch_size].to(device),)))
               for i in range(0, len(z), batch_size)]
    finally:
        G.train(was_training)
    images = torch.cat(out).float().cpu()  # (N, 1, S, S)
    pad = (images.shape[-1] - DIGIT_SIZE) // 2
    return images[:, :, pad:pad + DIGIT_SIZE, pad:pad + DIGIT_SIZE].contiguous()  # (N, 1, 28, 28)


def _grid_inputs(config: DCGANConfig) -> tuple[Tensor, Tensor | None]:
    """Fixed z for the sample grids (its own seed: drawing it never moves the run's random streams)."""
    g = torch.Generator().manual_seed(config.seed + 1)
    if config.conditional:  # 10 rows, one per class, 10 latent points shared across the rows
        z = torch.randn(N_CLASSES, config.latent_dim, generator=g).repeat(N_CLASSES, 1)  # (100, latent_dim)
        return z, torch.arange(N_CLASSES).repeat_interleave(N_CLASSES)  # labels 0 x10, 1 x10, ...
    return torch.randn(GRID_SIZE, config.latent_dim, generator=g), None


def _save_grid(images: Tensor, path: Path, nrow: int, title: str) -> None:
    import matplotlib.pyplot as plt

    from .plot import image_grid

    fig, ax = plt.subplots(figsize=(5, 5))
    image_grid(images, nrow=nrow, ax=ax, title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _save_losses(history: History, path: Path) -> None:
    import matplotlib.pyplot as plt

    from .plot import plot_history

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    plot_history(history, axes=axes)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@functools.lru_cache(maxsize=4)
def real_reference(n: int, conditional: bool, seed: int = 0) -> dict[str, float]:
    """The scores of ``n`` real training digits against the held-out ones: what a perfect G would get at this N."""
    validate.integer("n", n)
    if n > N_TRAINING_DIGITS:
        raise ValueError(f"n must be at most {N_TRAINING_DIGITS}, the number of training digits, got {n}")
    x, y = data.load("mnist")
    train_idx, _ = mnist_split()
    pick = train_idx[torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(seed))[:n]]
    return evaluate_images(x[pick], heldout_mnist()[0], labels=y[pick] if conditional else None)


def evaluate_generator_images(G: nn.Module, config: DCGANConfig) -> dict[str, float]:
    """``evaluate_images`` of ``config.eval_samples`` images of G (for a cGAN, the same number of each class)."""
    _check_config(config)
    g = torch.Generator().manual_seed(config.seed + 2)
    z = torch.randn(config.eval_samples, config.latent_dim, generator=g)
    labels = torch.arange(config.eval_samples) % N_CLASSES if config.conditional else None
    return evaluate_images(generate(G, z, labels), labels=labels)


@torch.no_grad()
def discriminator_logits(D: nn.Module, config: DCGANConfig, n: int = 500) -> dict[str, float]:
    """D's mean logit on ``n`` digits it trained on and on ``n`` held-out digits, as in training (BatchNorm on
    batch statistics, real batches alone), with no augmentation. A gap that opens between the two is
    D memorising its training set (Karras et al. 2020, arXiv:2006.06676, sec. 3)."""
    _check_config(config)
    validate.instance("D", D, nn.Module, "the recipe's discriminator")
    validate.integer("n", n, high=min(config.train_digits, 1000))
    D = copy.deepcopy(D.D if isinstance(D, Augmented) else D).train()  # a copy: its BatchNorm statistics move
    device = next(D.parameters()).device
    train = training_digits(True, config.image_size, config.train_digits)
    heldout = heldout_mnist()
    out = {}
    for name, (x, y) in (("train", train), ("heldout", (pad_digits(heldout[0], config.image_size), heldout[1]))):
        pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n]  # every class, not the first
        x, y = x[pick].to(device), y[pick].to(device)
        logits = D(x, y) if isinstance(D, ProjectionDiscriminator) else D(x)
        out[f"d_logit_{name}"] = round((logits[0] if isinstance(logits, tuple) else logits).float().mean().item(), 3)
    return out


def _prepare(config: DCGANConfig) -> tuple[nn.Module, nn.Module, nn.Module | None]:
    """Seeded players (and G's EMA) on the device, in the config's memory layout."""
    _check_config(config)
    seed_everything(config.seed)
    G, D = build_players(config)
    layout = torch.channels_last if config.channels_last else torch.contiguous_format
    device = get_device()
    G, D = G.to(device, memory_format=layout), D.to(device, memory_format=layout)
    return G, D, (ema_of(G, config.ema) if config.ema else None)


def train_dcgan(config: DCGANConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train the recipe with ``fit``, write the run folder, return the metrics (as in metrics.json).

    On an idle 2-core CPU two threads run the default players 1.7 times as fast as one; when other
    programs keep the cores busy, two threads wait on each other at every layer and one is far faster.

    Started by ``torchrun`` with several processes, it trains data-parallel (``ganlab.distributed``); rank 0
    draws, saves, scores and writes the run folder, and the other ranks return ``{"rank": r, "status": ...}``.
    """
    _check_config(config)
    with distributed.session():
        return _train_dcgan(config, resume, progress)


def _train_dcgan(config: DCGANConfig, resume: bool, progress: bool) -> dict:
    """train_dcgan's work, inside the process group when there are several processes."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    with cpu_threads(config.threads):
        G, D, ema = _prepare(config)
        z_grid, y_grid = _grid_inputs(config)
        nrow = N_CLASSES if config.conditional else 8
        drawing = {"seconds": 0.0}

        def draw(step: int, G: nn.Module, D: nn.Module, history: History) -> None:
            """fit's callback: G's samples at this step (G itself; its EMA lags behind early on)."""
            start = time.perf_counter()
            _save_grid(generate(G, z_grid, y_grid), out / f"samples_step{step}.png", nrow, f"G at step {step}")
            drawing["seconds"] += time.perf_counter() - start

        start = time.perf_counter()
        digits = training_digits(config.conditional, config.image_size, config.train_digits)
        recipe = "cgan" if config.conditional else "dcgan"
        history = train_in_folder(out, config, lambda: fit(
            G, D, digits, config.train_config(progress), callback=draw, checkpoint=out / "checkpoint.pt",
            loss=config.gan_loss(),
            resume=resume, ema=ema, identity=run_identity(recipe, config), doctor=True))
        seconds = time.perf_counter() - start
        unchanged = nothing_to_do(out, history, config.steps)
        if unchanged is not None:
            return unchanged
        if not distributed.is_main():  # rank 0 scores the run and writes its folder
            return {"rank": distributed.rank(), "status": "interrupted" if history.interrupted else "finished",
                    "steps_done": history.last_step}
        steps_done = history.last_step
        steps_run = steps_done - history.start_step
        final = G if ema is None else ema.module
        _save_grid(generate(final, z_grid, y_grid), out / "samples.png", nrow,
                   f"{'cGAN' if config.conditional else 'DCGAN'}{' (EMA)' if ema else ''} after {steps_done} steps")
        _save_losses(history, out / "losses.png")
        start_eval = time.perf_counter()
        n_logits = min(config.eval_samples, config.train_digits, 1000)  # digits on each side of D's gap
        scores = evaluate_generator_images(final, config) | discriminator_logits(D, config, n_logits)
        reference = real_reference(min(config.eval_samples, N_TRAINING_DIGITS), config.conditional)
        threads_used = torch.get_num_threads()
    result = {
        **scores,
        "evaluated": "ema" if ema is not None else "G",
        "eval_samples": config.eval_samples,
        "real_reference": reference,
        "status": "interrupted" if history.interrupted else "finished",
        "steps_done": steps_done,
        "train_seconds": round(seconds, 2),
        "steps_per_second": round(steps_run / max(seconds - drawing["seconds"], 1e-9), 2),
        "eval_seconds": round(time.perf_counter() - start_eval, 2),
        "device": str(next(G.parameters()).device),
        "threads": threads_used,
        "processes": distributed.world_size(),
        "doctor": summary(history.findings),  # what the training doctor found while the run trained
        "config": dataclasses.asdict(config),
    }
    write_metrics(out, result)
    return result


# Fields that change how a run is carried out but not the G it ends with.
_NOT_IN_RESULT = ("out", "threads", "sample_every", "sync_batchnorm")


def load_or_train_dcgan(config: DCGANConfig, progress: bool = True) -> tuple[nn.Module, dict]:
    """(G, metrics) of the finished run in ``config.out`` if it was made with this config, else train it first.

    G is the generator that the metrics score (its EMA when ``config.ema`` is on), in eval mode.
    A notebook calls this so that a second run of the cell, or a reader with a finished run
    folder, gets the trained model at once.
    """
    _check_config(config)
    out = Path(config.out)
    checkpoint_path = out / "checkpoint.pt"
    metrics = finished_metrics(out, config, _NOT_IN_RESULT)
    if metrics is None or metrics.get("steps_done") != config.steps or not checkpoint_path.is_file():
        metrics = train_dcgan(config, progress=progress)
    G, D, ema = _prepare(config)
    load_checkpoint(checkpoint_path, G=G, D=D, ema=ema, restore_rng=False)
    final = G if ema is None else ema.module
    return final.eval(), metrics

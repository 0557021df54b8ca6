"""Training LAPGAN on the offline MNIST digits, one level at a time, coarse to fine.

Denton et al. 2015 (arXiv:1506.05751). ``train_lapgan`` trains the levels of
``ganlab.lapgan`` on the 4,000 training digits padded to 32 px (``image_recipes.training_digits``),
each on the real pyramids of those digits (``lapgan.real_pairs``):

    level 0,  8 px:  G_0(z) against D_0 on g_0, the digits' 8 px Gaussian level
    level 1, 16 px:  G_1(z, l_1) against D_1(h, l_1) on the real pairs (h_1, l_1)
    level 2, 32 px:  G_2(z, l_2) against D_2(h, l_2) on the real pairs (h_2, l_2)

Each level is one call of ``ganlab.loop.run_steps`` (progress, history, NaN guard, Ctrl-C,
checkpoint and resume) whose step is one ``d_step`` and one ``g_step`` of ``ganlab.train``, with
l_i passed as their condition ``y``: D_i sees (h, l_i) for a real detail and (G_i(z, l_i), l_i) for a
fake one, l_i from the same real batch, as a cGAN's fakes carry the labels of its real batch (the
paper shows D a real or a generated detail with probability 1/2 each; the official code fills half of
each batch with each, as d_step does with its real and fake batches). As in the paper, no level sees
another level's output while training, so the levels are independent: each has its own networks,
optimisers, random stream and checkpoint, and could train in any order. They meet when sampling,
which chains them coarse to fine (``lapgan.sample``). A run folder holds

- ``real_pyramid.png``: 16 real digits at 8, 16 and 32 px, and the details h_1, h_2 between them;
- ``samples_level{i}.png``: 64 samples of the chain up to level i (8, 16, 32 px) when level i has
  trained, from one fixed set of noise, so the three grids show the same digits refined; and
  ``samples_level{i}_step{N}.png`` every ``sample_every`` steps while it trains; ``losses_level{i}.png``;
- ``checkpoint_level{i}.pt``: level i's players, optimisers, random stream and history, written every
  ``sample_every`` steps; ``resume=True`` loads the finished levels and continues a stopped one;
- ``metrics.json``: ``evaluate_images`` of the finest level's samples (a run stopped early: the finest
  level reached, expanded to 32 px), cropped to 28 px as ``image_recipes.generate`` does, the same
  scores for real digits, seconds and the config.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn

from . import distributed, validate
from .checkpoint import check_same_run, read_checkpoint, restore
from .doctor import summary
from .env import fast, get_device, seed_everything
from .image_metrics import evaluate_images
from .image_recipes import DIGIT_SIZE, N_TRAINING_DIGITS, _save_grid, _save_losses, real_reference, training_digits
from .lapgan import (SIZES, CoarseDiscriminator, CoarseGenerator, ResidualDiscriminator, ResidualGenerator,
                     real_pairs, sample)
from .losses import LOSSES
from .loop import History, run_steps
from .pyramids import upsample
from .recipes import cpu_threads, finished_metrics, nothing_to_do, run_identity, train_in_folder, write_metrics
from .train import d_step, g_step

__all__ = ["LAPGANConfig", "default_lapgan", "build_levels", "generate_digits", "train_lapgan", "load_or_train_lapgan"]

GRID_SIZE = 64  # samples in each level's grid (8 x 8)
_NOT_G = ("sample_every", "threads", "out")  # settings that leave the trained generators as they are
# Every random stream of a run is seeded with config.seed * 1000 plus one of these (plus the level, for the first two)
_WEIGHTS, _BATCHES, _GRID, _SCORES = 0, 10, 100, 200


@dataclass
class LAPGANConfig:
    """LAPGAN on the training digits at 8 -> 16 -> 32 px; make variants with ``dataclasses.replace``.

    With the defaults a run took four minutes with one thread on a 2-core CPU that other programs kept
    busy (77 s at 8 px, 57 s at 16 px, 108 s at 32 px, 9 s to score) and scored FID 145 against the
    held-out digits (real digits: 3; the DCGAN recipe: 12 to 18), every class drawn.
    """

    # G updates at each level, coarse first (fast mode: 20 each); one D update before each. The 8 and 16 px levels
    # decide the shape and kind of each digit and gain from more steps; a step there costs a quarter of one at 32 px.
    # The 32 px level only sharpens strokes: after 1,500 steps, refining real 16 px digits, it scored FID 10.
    steps: tuple[int, int, int] = (4000, 3000, 1500)
    levels: int = 3  # levels to train, coarse first: 1 stops at 8 px, 3 reaches 32 px; resuming with more trains on
    batch_size: int = 64  # real and fake examples per step, each
    loss: str = "nonsaturating"  # a name in ganlab.losses.LOSSES; the paper's code: cross-entropy, G maximising log D
    # Adam for both players; the official code uses SGD (learning rate 0.01, momentum rising from 0 to 0.7 over the
    # epochs), which needs far more steps than a run of minutes has
    lr_g: float = 1e-3  # G's learning rate
    lr_d: float = 1e-3  # D's learning rate
    beta1: float = 0.5  # Adam's first-moment decay (0.5 as in DCGAN)
    beta2: float = 0.999  # Adam's second-moment decay
    latent_dim: int = 64  # size of z of the 8 px level (the official code: 100); the finer levels take a noise map
    coarse_width: int = 256  # hidden units of the 8 px level's fully connected G
    coarse_d_width: int = 32  # channels of D_0's first convolution (its second has twice as many)
    width: int = 16  # channels of the 16 and 32 px levels' convolutions (the official code's CIFAR-10 models: 128)
    kernel: int = 5  # kernel side of the 16 and 32 px generators' three convolutions (the official code: 7, 7, 5)
    sample_every: int = 500  # steps between sample grids and checkpoints within a level (fast mode: 10)
    eval_samples: int = 2000  # generated digits scored at the end (at least 8; fast mode: 200)
    seed: int = 0  # seeds the weights, each level's batches and noise, the grids' and the scores' noise
    threads: int = 1  # CPU threads for PyTorch during the run (0: leave as set): these small nets gain nothing from two
    out: str = "runs/lapgan"  # run folder

    def __post_init__(self) -> None:
        if not (isinstance(self.steps, (tuple, list)) and len(self.steps) == len(SIZES)):
            raise TypeError(f"steps must be {len(SIZES)} numbers of G updates, one per level, coarse first, such as "
                            f"(4000, 3000, 1500); got {self.steps!r}")
        for i, n in enumerate(self.steps):
            validate.integer(f"steps[{i}]", n)
        self.steps = tuple(self.steps)  # (a list read back from metrics.json, say)
        validate.integer("levels", self.levels, high=len(SIZES))
        for name in ("batch_size", "latent_dim", "coarse_width", "coarse_d_width", "width", "kernel", "sample_every"):
            validate.integer(name, getattr(self, name))
        if self.kernel % 2 == 0:
            raise ValueError(f"kernel must be odd, so that a 'same' convolution keeps the size, got {self.kernel}")
        validate.choice("loss", self.loss, LOSSES)
        for name in ("lr_g", "lr_d"):
            validate.number(name, getattr(self, name), low=0, low_open=True)
        for name in ("beta1", "beta2"):
            validate.number(name, getattr(self, name), low=0, high=1, high_open=True)
        validate.integer("eval_samples", self.eval_samples, low=8)
        validate.integer("seed", self.seed, low=0)
        validate.integer("threads", self.threads, low=0)
        validate.instance("out", self.out, str, "a folder name")

    def level_steps(self, level: int) -> int:
        """G updates at ``level``."""
        validate.integer("level", level, low=0, high=len(SIZES) - 1)
        return self.steps[level]

    def run_identity(self, level: int) -> dict:
        """What level ``level``'s checkpoint must share with the run that resumes it: every field but how long,
        how visibly and how many levels the run goes (``recipes.RUN_FIELDS`` and ``levels``)."""
        validate.integer("level", level, low=0, high=len(SIZES) - 1)
        same = {k: v for k, v in run_identity("lapgan", self).items() if k != "levels"}
        return {**same, "level": level}


def default_lapgan(**overrides) -> LAPGANConfig:
    """``LAPGANConfig`` with fast-mode sizes applied, then ``overrides``."""
    base = LAPGANConfig(steps=fast((20, 20, 20), LAPGANConfig.steps),
                        sample_every=fast(10, LAPGANConfig.sample_every),
                        eval_samples=fast(200, LAPGANConfig.eval_samples),
                        threads=fast(1, LAPGANConfig.threads))  # a run of seconds gains nothing from a second thread
    return validate.replaced(base, **overrides)


def _check_config(config: LAPGANConfig) -> None:
    validate.instance("config", config, LAPGANConfig, "a LAPGANConfig, e.g. default_lapgan()")


def build_levels(config: LAPGANConfig) -> list[tuple[nn.Module, nn.Module]]:
    """The players (G_i, D_i) of every level, coarse first, for single-channel digits. Each level's initial weights
    come from a seed of its own, so that no level depends on another's sizes; the global random state is left as
    it was."""
    _check_config(config)
    players = []
    for i, size in enumerate(SIZES):
        with torch.random.fork_rng(devices=[]):  # the networks are built on the CPU
            torch.manual_seed(config.seed * 1000 + _WEIGHTS + i)
            if i == 0:
                players.append((CoarseGenerator(config.latent_dim, 1, config.coarse_width, size),
                                CoarseDiscriminator(1, config.coarse_d_width, size)))
            else:
                players.append((ResidualGenerator(size, 1, config.width, (config.kernel,) * 3),
                                ResidualDiscriminator(size, 1, config.width)))
    return players


def generate_digits(levels: list[nn.Module], n: int, generator: torch.Generator | None = None) -> Tensor:
    """n samples of the whole chain as 28 x 28 digits (n, 1, 28, 28) on the CPU: a chain that stops below 32 px
    is expanded to 32 px (details of 0 above it), and the 2 px border is cropped as ``image_recipes.generate`` does."""
    x = sample(levels, n, generator)  # (n, 1, S, S), validates its arguments
    while x.shape[-1] < SIZES[-1]:
        x = upsample(x, (2 * x.shape[-2], 2 * x.shape[-1]))  # (n, 1, 2S, 2S): l of the next level, h = 0
    pad = (SIZES[-1] - DIGIT_SIZE) // 2
    return x[:, :, pad:pad + DIGIT_SIZE, pad:pad + DIGIT_SIZE].float().cpu().contiguous()  # (n, 1, 28, 28)


@functools.lru_cache(maxsize=1)
def _training_pairs() -> list[tuple[Tensor, Tensor]]:
    """``real_pairs`` of the 4,000 training digits at 32 px, on the CPU; computed once per process (seconds)."""
    return real_pairs(training_digits(image_size=SIZES[-1]))  # for each level, (h_i, l_i) of every digit


def _level_step(level: int, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                pairs: tuple[Tensor, Tensor], batches: torch.Generator, config: LAPGANConfig,
                ) -> Callable[[int], dict[str, float]]:
    """One iteration at ``level``: a D step on real and fake details, then a G step through the same fakes."""
    details, lows = pairs  # (N, 1, S, S) each: h_i and l_i of every training digit
    loss = LOSSES[config.loss]

    def step(_: int) -> dict[str, float]:
        pick = torch.randint(len(details), (config.batch_size,), generator=batches).to(details.device)
        real, low = details[pick], lows[pick]  # a real detail and its own low-pass image, (B, 1, S, S) each
        y = None if level == 0 else low  # the coarsest level is unconditional (l_0 = 0)
        z = G.noise(config.batch_size, batches)  # (B, latent_dim) or (B, 1, S, S)
        fake = G(z) if y is None else G(z, y)  # computed once, with its graph: D's step reads it detached,
        stats = d_step(G, D, real, z, opt_d, loss, y=y, fake=fake)  # G's step backpropagates through it
        return {**stats, **g_step(G, D, z, opt_g, loss, y=y, fake=fake)}  # (as train.fit's reuse_fakes)
    return step


def _save_real_pyramid(pairs: list[tuple[Tensor, Tensor]], path: Path) -> None:
    import matplotlib.pyplot as plt

    from .plot import image_grid

    pick = torch.randperm(len(pairs[0][0]), generator=torch.Generator().manual_seed(0))[:16]  # digits of all kinds
    panels = []
    for i, (h, l) in enumerate(pairs):
        h, l = h[pick].cpu(), l[pick].cpu()
        if i > 0:
            panels.append((h, f"detail h_{i} ({SIZES[i]} px, grey = 0)"))
        panels.append((h + l, f"real digits, {SIZES[i]} px"))  # g_i = l_i + h_i
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6))
    for ax, (images, title) in zip(axes, panels):
        image_grid(images.clamp(-1, 1), nrow=4, ax=ax, title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train_lapgan(config: LAPGANConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train level by level, coarse first, write the run folder, return the metrics (as in metrics.json)."""
    _check_config(config)
    validate.flag("resume", resume)
    validate.flag("progress", progress)
    distributed.single_process("The lapgan recipe")
    with cpu_threads(config.threads):
        return _train(config, resume, progress)


def _train(config: LAPGANConfig, resume: bool, progress: bool) -> dict:
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    if not resume:  # a new run: no level of an earlier one may be taken for finished later
        for path in out.glob("checkpoint_level*.pt"):
            path.unlink()
    seed_everything(config.seed)
    device = get_device()
    players = [(G.to(device), D.to(device)) for G, D in build_levels(config)]
    generators = [G for G, _ in players]
    pairs = [(h.to(device), l.to(device)) for h, l in _training_pairs()]  # (4000, 1, S, S) each, S = 8, 16, 32
    _save_real_pyramid(pairs, out / "real_pyramid.png")

    def draw(level: int, name: str, title: str) -> None:
        g = torch.Generator().manual_seed(config.seed * 1000 + _GRID)  # the same noise at every level and step
        _save_grid(sample(generators, GRID_SIZE, g, upto=level).cpu(), out / name, 8, title)

    reached = config.levels - 1  # the finest level trained, or the one a Ctrl-C stopped
    found: list[str] = []  # what the training doctor found at each level trained now

    def train_levels() -> History:
        nonlocal reached
        run = History()  # the run as a whole, for nothing_to_do: steps trained before this call, over all levels
        for i in range(config.levels):
            G, D = players[i]
            betas = (float(config.beta1), float(config.beta2))  # Adam refuses an int 0
            opt_g = torch.optim.Adam(G.parameters(), config.lr_g, betas)
            opt_d = torch.optim.Adam(D.parameters(), config.lr_d, betas)
            batches = torch.Generator().manual_seed(config.seed * 1000 + _BATCHES + i)  # its real batches and z
            state = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "batches": batches}
            identity, path = config.run_identity(i), out / f"checkpoint_level{i}.pt"
            if resume and path.is_file():
                payload = read_checkpoint(path)
                check_same_run(path, payload["config"], identity)
                if payload["step"] >= config.level_steps(i):  # a finished level: its weights, moments, random stream
                    restore(payload, path, **state)
                    run.start_step += payload["step"]
                    continue
            history = run_steps(
                _level_step(i, G, D, opt_g, opt_d, pairs[i], batches, config), steps=config.level_steps(i),
                state=state, config=identity, checkpoint=path, resume=resume, log_every=config.sample_every,
                checkpoint_every=config.sample_every, progress=progress, doctor=True,
                callback=lambda step, _, i=i: draw(i, f"samples_level{i}_step{step}.png",
                                                   f"level {i}, {SIZES[i]} px, step {step}"))
            found.extend(f"level {i}: {line}" for line in summary(history.findings))
            run.start_step += history.start_step
            _save_losses(history, out / f"losses_level{i}.png")
            if history.interrupted:
                run.interrupted, reached = True, i
                break
        return run

    start = time.perf_counter()
    run = train_in_folder(out, config, train_levels)
    seconds = time.perf_counter() - start
    unchanged = nothing_to_do(out, run, sum(config.level_steps(i) for i in range(config.levels)))
    if unchanged is not None:
        return unchanged
    for i in range(reached + 1):
        draw(i, f"samples_level{i}.png", f"the chain up to level {i}, {SIZES[i]} px")
    steps_done = [read_checkpoint(out / f"checkpoint_level{i}.pt")["step"] for i in range(reached + 1)]
    g = torch.Generator().manual_seed(config.seed * 1000 + _SCORES)  # the scores' own noise
    result = {
        **evaluate_images(generate_digits(generators[:reached + 1], config.eval_samples, g)),
        "eval_samples": config.eval_samples,
        "real_reference": real_reference(min(config.eval_samples, N_TRAINING_DIGITS), False),
        "status": "interrupted" if run.interrupted else "finished",
        "level": reached, "resolution": SIZES[reached],
        "steps_done": steps_done,  # at each level, coarse first
        "train_seconds": round(seconds, 2),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "doctor": found,  # what the training doctor found while the levels trained
        "config": dataclasses.asdict(config),
    }
    write_metrics(out, result)
    return result


def load_or_train_lapgan(config: LAPGANConfig, progress: bool = True) -> tuple[list[nn.Module], dict]:
    """(the level generators, coarse first, in eval mode; metrics) of the finished run in ``config.out`` if it was
    made with this config, else train it afresh there."""
    _check_config(config)
    out = Path(config.out)
    metrics = finished_metrics(out, config, _NOT_G)
    if metrics is None:
        metrics = train_lapgan(config, progress=progress)
    generators = [G for G, _ in build_levels(config)]
    for i, G in enumerate(generators):
        path = out / f"checkpoint_level{i}.pt"
        restore(read_checkpoint(path), path, G=G, restore_rng=False)
    return [G.eval() for G in generators], metrics

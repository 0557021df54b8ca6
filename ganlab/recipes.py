"""Recipes: complete training runs that write their results into a run folder.

``ganlab train toy2d`` calls :func:`train_toy2d`. A run folder holds

- ``samples.png``: D's decision surface with G's samples, and the samples over p_data;
- ``losses.png``: the loss curves and D's outputs on real and fake batches;
- ``metrics.json``: modes covered, high-quality fraction, reverse KL, seconds, the config;
- ``checkpoint.pt``: everything needed to resume (``--resume``).

Whatever ends a run, the checkpoint and ``metrics.json`` name the same step: a finished or
interrupted run (Ctrl-C) saves its last step and scores it; a run that diverges or fails
keeps the last checkpoint written before, and ``metrics.json`` then records how the run
stopped (``"status"``), at which step, and the step the checkpoint holds. Resuming a run
whose checkpoint already reached ``steps`` changes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from . import data, distributed, validate
from .checkpoint import CheckpointError, CheckpointWriteError, read_checkpoint
from .doctor import summary
from .env import fast, seed_everything
from .losses import GANLoss, get_loss, with_penalty_weight
from .loop import History, TrainingDiverged
from .metrics import N_EVAL_SAMPLES, evaluate_generator
from .nets import MLPDiscriminator, MLPGenerator
from .train import TrainConfig, fit

TOY2D_DATASETS = ("ring", "grid")


@dataclass
class Toy2DConfig:
    """The course's default setting for a GAN on the ring of 8 or the grid of 25."""

    dataset: str = "ring"  # "ring" (8 modes, sigma 0.01) or "grid" (25 modes, sigma 0.05)
    loss: str = "nonsaturating"  # a name in ganlab.losses.LOSSES
    penalty_weight: float | None = None  # R1's gamma or WGAN-GP's lambda; None: the loss's own default
    steps: int = 14000  # generator updates (fast mode: 300)
    batch_size: int = 256
    lr: float = 1e-3  # Adam learning rate of both players
    beta2: float = 0.999  # Adam's second-moment decay (beta1 is 0.5, as in DCGAN)
    lr_decay: float = 0.5  # the last half of the run anneals the learning rates linearly to 0
    width: int = 128  # hidden units per layer, both players
    depth: int = 3  # linear layers per player
    latent_dim: int = 2
    seed: int = 0
    out: str = "runs/toy2d"

    def __post_init__(self) -> None:
        if self.dataset not in TOY2D_DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r} for toy2d; choose one of {list(TOY2D_DATASETS)}")
        self.gan_loss()  # fails early on an unknown loss, or a penalty weight for a loss without a penalty
        for name in ("width", "depth", "latent_dim"):
            validate.integer(name, getattr(self, name))
        validate.instance("out", self.out, str, "a folder name")
        self.train_config(progress=False)  # checks steps, batch size, learning rate, beta2, decay and seed

    def gan_loss(self) -> GANLoss:
        """The loss named ``loss``, with its penalty weighted by ``penalty_weight`` if given."""
        loss = get_loss(self.loss)
        return loss if self.penalty_weight is None else with_penalty_weight(loss, self.penalty_weight)

    def train_config(self, progress: bool = True) -> TrainConfig:
        """The ``TrainConfig`` that ``fit`` runs with."""
        return TrainConfig(steps=self.steps, batch_size=self.batch_size, loss=self.loss, lr_g=self.lr,
                           lr_d=self.lr, beta2=self.beta2, lr_decay=self.lr_decay, seed=self.seed,
                           log_every=max(1, self.steps // 50), checkpoint_every=max(1, self.steps // 10),
                           progress=progress)


# Fields of a recipe's config that change how long or how visibly a run goes, not which run it is:
# a run may be resumed with other values of these (a larger ``steps`` trains on).
RUN_FIELDS = ("steps", "out", "threads", "sample_every", "eval_samples", "sync_batchnorm")


def _check_config(config: Any) -> None:
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config must be a recipe's config, such as Toy2DConfig() or default_dcgan(), got "
                        f"{type(config).__name__}")


@contextlib.contextmanager
def cpu_threads(n: int) -> Iterator[None]:
    """PyTorch's CPU threads set to ``n`` (at most the machine's cores; 0 leaves them as set) inside the block,
    restored after it. On a 2-core CPU that other programs keep busy, one thread is often far faster than two."""
    validate.integer("n", n, low=0)
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(min(n, os.cpu_count() or 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def open_run(config: Any, kind: type, hint: str, resume: bool, progress: bool) -> Path:
    """What a recipe's train function checks first (``config`` is a ``kind``, ``resume`` and ``progress`` are
    flags), then its run folder ``config.out``, made if it is missing."""
    validate.instance("config", config, kind, hint)
    validate.flag("resume", resume)
    validate.flag("progress", progress)
    distributed.single_process(f"The recipe configured by {kind.__name__}")
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def read_run(out: Any, recipe: str, what: str) -> tuple[dict, dict, Path]:
    """(the checkpoint payload, the config fields it was trained with, its path) of the ``recipe`` run in the folder
    ``out``; a CheckpointError naming the fix when there is none or it is another recipe's. ``what`` names the model
    in those messages ("a VAE", ...)."""
    path = Path(out) / "checkpoint.pt"
    if not path.is_file():
        raise CheckpointError(f"no {what.split(' ', 1)[1]} checkpoint in {out}: train one first "
                              f"(ganlab train {recipe} --out {out})")
    saved = read_checkpoint(path)
    if saved["config"].get("recipe") != recipe:
        raise CheckpointError(f"{path} is a checkpoint of recipe {saved['config'].get('recipe')!r}, not {what}")
    return saved, {k: v for k, v in saved["config"].items() if k != "recipe"}, path


def run_identity(recipe: str, config: Any) -> dict:
    """What a resumed run must share with the run it continues: the recipe and its settings but ``RUN_FIELDS``."""
    _check_config(config)
    return {"recipe": recipe, **{k: v for k, v in dataclasses.asdict(config).items() if k not in RUN_FIELDS}}


def _folder(out: Any) -> Path:
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a run folder (a str or pathlib.Path), got {type(out).__name__}")
    return Path(out)


def write_metrics(out: Path, result: dict) -> None:
    """metrics.json, with inf written as null (which every JSON reader accepts)."""
    validate.instance("result", result, dict, "a dict of metrics")
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in result.items()}
    (_folder(out) / "metrics.json").write_text(json.dumps(clean, indent=2) + "\n")


def train_in_folder(out: Path, config: Any, train: Callable[[], History]) -> History:
    """Call ``train`` (a ``fit`` on out/checkpoint.pt). If training stops with an error, metrics.json
    records how and the step the checkpoint still holds, so that no file disagrees with it."""
    out = _folder(out)
    _check_config(config)
    if not callable(train):
        raise TypeError(f"train must be a function that runs fit and returns its History, got {type(train).__name__}")
    try:
        return train()
    except BaseException as err:
        if isinstance(err, CheckpointError) and not isinstance(err, CheckpointWriteError):
            raise  # refused before the first step (a corrupted or foreign checkpoint): nothing changed
        try:
            checkpoint_step = read_checkpoint(out / "checkpoint.pt")["step"]
        except CheckpointError:
            checkpoint_step = None
        record = {"status": "diverged" if isinstance(err, TrainingDiverged) else "failed",
                  "steps_done": checkpoint_step, "error": f"{type(err).__name__}: {err}",
                  "config": dataclasses.asdict(config)}
        if isinstance(err, TrainingDiverged):
            record["diverged_at_step"] = err.step
        try:
            if distributed.is_main():  # with several processes, rank 0 writes the run folder
                write_metrics(out, record)
        except OSError:  # the folder may be the reason (full, unwritable): the original error says more
            pass
        raise


def finished_metrics(out: Path, config: Any, ignore: tuple[str, ...] = RUN_FIELDS) -> dict | None:
    """metrics.json of ``out`` when it records a finished run of ``config`` (every field but ``ignore`` equal), else
    None: what a notebook's load-or-train asks before it trains."""
    _check_config(config)
    path = _folder(out) / "metrics.json"
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError):  # no run yet, or a file cut short
        return None
    saved = metrics.get("config") if isinstance(metrics, dict) else None
    if metrics.get("status") != "finished" or not isinstance(saved, dict):
        return None
    wanted = {k: v for k, v in dataclasses.asdict(config).items() if k not in ignore}
    same = all(list(saved.get(k)) == list(v) if isinstance(v, tuple) else saved.get(k) == v for k, v in wanted.items())
    return metrics if same else None


def holds_same_run(checkpoint: Path, recipe: str, config: Any, ignore: tuple[str, ...] = ()) -> bool:
    """Is ``checkpoint`` a readable checkpoint of ``recipe`` run with ``config`` (its identity but ``ignore``)? What a
    load-or-train asks before it resumes a stopped run instead of starting again."""
    _check_config(config)
    try:
        saved = read_checkpoint(checkpoint)["config"]
    except CheckpointError:  # none there, or not readable
        return False
    return all(saved.get(k) == v for k, v in run_identity(recipe, config).items() if k not in ignore)


def stopped_early(out: Path, history: History, config: Any) -> dict | None:
    """For a recipe that scores only finished runs: when its loop was stopped (Ctrl-C), metrics.json recording the
    step it stopped at; when the checkpoint had already reached ``config.steps``, ``nothing_to_do``'s answer; else
    None (the run finished now: score it)."""
    _check_config(config)
    if history.interrupted:
        result = {"status": "interrupted", "steps_done": history.last_step, "config": dataclasses.asdict(config)}
        write_metrics(out, result)
        return result
    return nothing_to_do(out, history, config.steps)


def nothing_to_do(out: Path, history: History, steps: int) -> dict | None:
    """When a resumed checkpoint had already reached ``steps``: metrics.json as it is (no file is rewritten)."""
    validate.instance("history", history, History, "the History that fit returned")
    out = _folder(out)
    if history.start_step < steps:  # the loop trained (it returns at once only when there is nothing to do)
        return None
    path = out / "metrics.json"
    result = json.loads(path.read_text()) if path.is_file() else {"steps_done": history.start_step}
    return {**result, "nothing_to_do": True}


def default_toy2d(**overrides) -> Toy2DConfig:
    """``Toy2DConfig`` with fast-mode step counts applied, then ``overrides``."""
    return validate.replaced(Toy2DConfig(steps=fast(300, Toy2DConfig.steps)), **overrides)


def _save_figures(out: Path, G, D, mixture, history, loss_name: str, scores: dict) -> None:
    import matplotlib.pyplot as plt

    from .plot import plot_decision_surface, plot_history, plot_samples_2d

    samples = G.sample(N_EVAL_SAMPLES).detach()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    logits = get_loss(loss_name).logits
    plot_decision_surface(D, samples, mixture, ax=axes[0],
                          title="D(x) = P(real)" if logits else "sigmoid(critic score): red = scored as real")
    plot_samples_2d(samples, mixture, ax=axes[1], title=f"{N_EVAL_SAMPLES} samples over p_data ({mixture.name})")
    for ax in axes:
        ax.legend(loc="upper right", fontsize=7, markerscale=2, framealpha=0.8)
    fig.suptitle(f"after {history.last_step} steps: modes covered {scores['modes_covered']}/{scores['n_modes']}, "
                 f"high quality {100 * scores['high_quality']:.1f}%, reverse KL {scores['reverse_kl']:.3f}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "samples.png", dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    plot_history(history, axes=axes)
    fig.tight_layout()
    fig.savefig(out / "losses.png", dpi=110)
    plt.close(fig)


def train_toy2d(config: Toy2DConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train on a toy mixture, write the run folder, return the metrics."""
    validate.instance("config", config, Toy2DConfig, "a Toy2DConfig, e.g. default_toy2d()")
    distributed.single_process("The toy2d recipe")
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    mixture = data.toy(config.dataset)
    G = MLPGenerator(latent_dim=config.latent_dim, out_dim=2, width=config.width, depth=config.depth)
    D = MLPDiscriminator(in_dim=2, width=config.width, depth=config.depth)
    start = time.perf_counter()
    history = train_in_folder(out, config, lambda: fit(
        G, D, mixture.sample, config.train_config(progress), checkpoint=out / "checkpoint.pt", resume=resume,
        loss=config.gan_loss(), identity=run_identity("toy2d", config), doctor=True))
    seconds = time.perf_counter() - start
    unchanged = nothing_to_do(out, history, config.steps)
    if unchanged is not None:
        return unchanged
    metrics = evaluate_generator(G, mixture)
    _save_figures(out, G, D, mixture, history, config.loss, metrics)
    result = {
        **metrics,
        "status": "interrupted" if history.interrupted else "finished",
        "steps_done": history.last_step,
        "train_seconds": round(seconds, 2),
        "doctor": summary(history.findings),  # what the training doctor found while the run trained
        "config": dataclasses.asdict(config),
    }
    write_metrics(out, result)
    return result

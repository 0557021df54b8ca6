"""The two-player training loop: one step function per player and a short ``fit``.

Each iteration, in order (Goodfellow et al. 2014, Algorithm 1):

1. ``d_step``: D takes a step to *maximise* its objective on a real batch and a detached
   fake batch (the generator is not updated here, so its graph is not needed);
2. ``g_step``: G takes a step on a fresh fake batch, through D, to fool it.

Every step function returns a dict of floats; ``fit`` appends them to a ``History``.

Conditional GANs use the same loop: with class labels ``y`` the players are called as
``G(z, y)`` and ``D(x, y)``, and the fakes of a step carry the labels of its real batch.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from .amp import Precision
from .checkpoint import load_checkpoint, save_checkpoint
from .losses import GANLoss, get_loss


@dataclass
class TrainConfig:
    """Hyperparameters of a GAN run; make variants with ``dataclasses.replace``."""

    steps: int = 2000  # generator updates
    batch_size: int = 256  # real and fake examples per step, each
    loss: str = "nonsaturating"  # a name in ganlab.losses.LOSSES
    lr_g: float = 1e-3  # Adam learning rate of the generator
    lr_d: float = 1e-3  # Adam learning rate of the discriminator
    beta1: float = 0.5  # Adam's first-moment decay; 0.5 is the DCGAN choice for GANs
    beta2: float = 0.999  # Adam's second-moment decay
    n_critic: int = 1  # discriminator steps per generator step
    lr_decay: float = 0.0  # last fraction of the run over which both learning rates fall linearly to 0
    amp: bool = False  # mixed precision (bfloat16 on CPU, see ganlab.amp)
    log_every: int = 100  # steps between callback calls and progress-bar updates
    checkpoint_every: int = 0  # steps between checkpoints (0: only at the end), when a path is given
    progress: bool = True  # show a tqdm progress bar
    seed: int = 0  # seeds the noise z and the batches fit draws from a tensor (a sampler function uses its own RNG)

    def __post_init__(self) -> None:
        get_loss(self.loss)  # fails early, listing the valid names
        for name in ("steps", "batch_size", "n_critic", "log_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive int, got {getattr(self, name)!r}")
        for name in ("lr_g", "lr_d"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay is a fraction of the run, between 0 and 1; got {self.lr_decay!r}")

    def lr_factor(self, step: int) -> float:
        """Multiplier of the learning rates at ``step`` (1-based): 1, then a linear fall to 0."""
        decay_steps = self.lr_decay * self.steps
        if decay_steps == 0:
            return 1.0
        return min(1.0, (self.steps - step + 1) / decay_steps)


class History(dict):
    """Lists of logged values by name, e.g. ``history["loss_d"]``; ``history["step"]`` is the x axis."""

    interrupted: bool = False

    def append(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.setdefault(key, []).append(value)


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite."""


Batch = Union[Tensor, tuple[Tensor, Tensor]]  # examples (N, ...), or (examples, labels (N,))
Data = Union[Tensor, tuple[Tensor, Tensor], Callable[[int], Batch]]


def d_step(G: nn.Module, D: nn.Module, real: Tensor, z: Tensor, opt_d: torch.optim.Optimizer,
           loss: GANLoss, precision: Precision | None = None, y: Tensor | None = None) -> dict[str, float]:
    """One discriminator update on a real batch and the fakes G(z) (detached); with labels
    ``y``, on G(z, y), and D sees (x, y)."""
    precision = precision or Precision(real.device)
    cond = () if y is None else (y,)
    opt_d.zero_grad(set_to_none=True)
    with precision.autocast():
        with torch.no_grad():
            fake = G(z, *cond)  # no graph through G: this step updates D only
        real_logits, fake_logits = D(real, *cond), D(fake, *cond)
        loss_d = loss.d_loss(real_logits.float(), fake_logits.float())
    critic = D if y is None else (lambda x: D(x, y))  # what a penalty differentiates: D at fixed labels
    penalty = loss.penalty(critic, real, fake) if loss.penalty is not None else None  # in float32
    precision.backward_and_step(loss_d if penalty is None else loss_d + penalty, opt_d)
    if loss.clip is not None:  # WGAN: a crude way to keep the critic Lipschitz
        with torch.no_grad():
            for p in D.parameters():
                p.clamp_(-loss.clip, loss.clip)
    stats = {"loss_d": loss_d.item()} | ({"penalty": penalty.item()} if penalty is not None else {})
    if loss.logits:
        stats["d_real"] = torch.sigmoid(real_logits.float()).mean().item()  # D(x), should stay high
        stats["d_fake"] = torch.sigmoid(fake_logits.float()).mean().item()  # D(G(z)), before the G step
    else:  # a critic's scores are not probabilities
        stats["critic_real"] = real_logits.float().mean().item()
        stats["critic_fake"] = fake_logits.float().mean().item()
    return stats


def g_step(G: nn.Module, D: nn.Module, z: Tensor, opt_g: torch.optim.Optimizer,
           loss: GANLoss, precision: Precision | None = None, y: Tensor | None = None) -> dict[str, float]:
    """One generator update: gradients flow from D's logits back into G (with labels: D(G(z, y), y))."""
    precision = precision or Precision(z.device)
    cond = () if y is None else (y,)
    opt_g.zero_grad(set_to_none=True)
    D.requires_grad_(False)  # D is a fixed function during G's step; saves its weight gradients
    try:
        with precision.autocast():
            loss_g = loss.g_loss(D(G(z, *cond), *cond).float())
        precision.backward_and_step(loss_g, opt_g)
    finally:
        D.requires_grad_(True)
    return {"loss_g": loss_g.item()}


def make_optimizers(G: nn.Module, D: nn.Module, config: TrainConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for each player, with its own learning rate."""
    betas = (config.beta1, config.beta2)
    return (torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=betas),
            torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=betas))


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def ema_of(G: nn.Module, decay: float = 0.999) -> AveragedModel:
    """An exponential moving average of G's weights (and BatchNorm statistics), for ``fit(ema=...)``.

    After each generator step, theta_ema <- decay * theta_ema + (1 - decay) * theta: the
    average moves slowly and smooths out the oscillations of the game (Yazici et al. 2019,
    "The Unusual Effectiveness of Averaging in GAN Training", ICLR). Sample from ``ema.module``.
    """
    if not 0.0 < decay < 1.0:
        raise ValueError(f"the EMA decay must be in (0, 1), e.g. 0.999; got {decay!r}")
    return AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _to(batch: Batch, device: torch.device) -> tuple[Tensor, Optional[Tensor]]:
    """(examples, labels or None) on ``device``."""
    if isinstance(batch, (tuple, list)):
        x, y = batch
        return x.to(device), y.to(device)
    return batch.to(device), None


def _batch_sampler(data: Data, device: torch.device,
                   generator: torch.Generator) -> Callable[[int], tuple[Tensor, Optional[Tensor]]]:
    """n -> (a real batch, its labels or None)."""
    if callable(data) and not isinstance(data, Tensor):
        return lambda n: _to(data(n), device)
    x, y = data if isinstance(data, (tuple, list)) and len(data) == 2 else (data, None)
    if not isinstance(x, Tensor) or x.ndim < 2 or len(x) == 0:
        raise TypeError("data must be a non-empty tensor (N, ...) of real examples, a pair (examples, labels), "
                        "or a function n -> batch")
    if y is not None and (not isinstance(y, Tensor) or y.shape != (len(x),)):
        raise ValueError(f"labels should be a tensor of shape ({len(x)},), one class index per example; got "
                         f"{tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__}")
    x, y = x.to(device), None if y is None else y.to(device)
    def sample(n: int) -> tuple[Tensor, Optional[Tensor]]:
        idx = torch.randint(len(x), (n,), generator=generator).to(device)
        return x[idx], None if y is None else y[idx]
    return sample


def fit(G: nn.Module, D: nn.Module, data: Data, config: TrainConfig | None = None, *,
        opt_g: torch.optim.Optimizer | None = None, opt_d: torch.optim.Optimizer | None = None,
        callback: Callable[[int, nn.Module, nn.Module, History], None] | None = None,
        checkpoint: str | os.PathLike | None = None, resume: bool = False, loss: GANLoss | None = None,
        ema: AveragedModel | None = None) -> History:
    """Train G against D on ``data``: a tensor of real examples, a pair (examples, labels) for a
    conditional GAN, or a sampler ``n -> batch`` returning either.

    ``callback(step, G, D, history)`` runs every ``config.log_every`` steps and at the end,
    e.g. to draw live plots. With ``checkpoint`` the run is saved there (atomically) every
    ``config.checkpoint_every`` steps and at the end; ``resume=True`` continues from it.
    Ctrl-C (or the notebook's stop button) returns the history so far, models intact.
    ``loss``, a ``GANLoss`` object, replaces the named ``config.loss`` (e.g. your own losses, or
    ``losses.with_penalty_weight(...)``). ``ema`` (from ``ema_of(G)``) is updated after every
    generator step and saved in the checkpoint.
    """
    config = config or TrainConfig()
    loss = loss or get_loss(config.loss)
    device = next(G.parameters()).device
    if opt_g is None or opt_d is None:
        opt_g, opt_d = make_optimizers(G, D, config)
    prec_d, prec_g = Precision(device, config.amp), Precision(device, config.amp)
    batches = torch.Generator().manual_seed(config.seed)
    sample_real = _batch_sampler(data, device, batches)
    history, start = History(), 0
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        state = load_checkpoint(checkpoint, G=G, D=D, opt_g=opt_g, opt_d=opt_d, batch_rng=batches, ema=ema)
        start = state["step"]
        history.update(state["history"])
    config_dict = dataclasses.asdict(config)

    def save(step: int) -> None:
        if checkpoint is not None:
            save_checkpoint(checkpoint, G=G, D=D, opt_g=opt_g, opt_d=opt_d, step=step,
                            config=config_dict, history=history, batch_rng=batches, ema=ema)

    def z_batch() -> Tensor:
        return torch.randn(config.batch_size, G.latent_dim, generator=batches).to(device)

    step = start
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not config.progress,
               desc="training", leave=False)
    try:
        for step in range(start + 1, config.steps + 1):
            if config.lr_decay:
                _set_lr(opt_g, config.lr_g * config.lr_factor(step))
                _set_lr(opt_d, config.lr_d * config.lr_factor(step))
            for _ in range(config.n_critic):
                real, y = sample_real(config.batch_size)
                stats = d_step(G, D, real, z_batch(), opt_d, loss, prec_d, y=y)
            stats.update(g_step(G, D, z_batch(), opt_g, loss, prec_g, y=y))  # the labels of the last real batch
            if ema is not None:
                ema.update_parameters(G)
            if not all(math.isfinite(v) for v in stats.values()):
                raise TrainingDiverged(
                    f"training diverged at step {step}: {stats}. Lower the learning rates (now lr_g={config.lr_g}, "
                    f"lr_d={config.lr_d}) or try another loss."
                    + (f" The last checkpoint, {checkpoint}, was saved before this and is unchanged." if checkpoint else "")
                )
            history.append({"step": step, **stats})
            bar.update(1)
            if step % config.log_every == 0 or step == config.steps:
                bar.set_postfix(loss_d=f"{stats['loss_d']:.3f}", loss_g=f"{stats['loss_g']:.3f}")
                if callback is not None:
                    callback(step, G, D, history)
            if config.checkpoint_every and step % config.checkpoint_every == 0 and step < config.steps:
                save(step)
        if history.get("step") and history["step"][-1] == config.steps:
            save(config.steps)
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Interrupted at step {step}: returning the history so far; G and D keep their weights.")
    finally:
        bar.close()
    return history

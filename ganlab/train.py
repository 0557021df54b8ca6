"""The two-player training loop: one step function per player and a short ``fit``.

Each iteration, in order (Goodfellow et al. 2014, Algorithm 1):

1. ``d_step``: D takes a step to *maximise* its objective on a real batch and a detached
   fake batch (the generator is not updated here, so its graph is not needed);
2. ``g_step``: G takes a step on a fake batch, through D, to fool it.

By default G's step draws a fresh z, as Algorithm 1 does. With ``reuse_fakes=True`` (the
DCGAN recipe's choice, and the DCGAN reference code's) and one D step per G step, ``fit``
computes the fakes G(z) once and hands the same tensor to both steps: D's step reads it
detached, G's step backpropagates through it. That is exactly the computation of running G
again on the same z, because G has not changed in between, and it saves one forward pass of
G per step (chapter 03 explains when it would not be the same).

Every step function returns a dict of floats. ``fit`` hands one iteration to the loop that
every model family shares (``ganlab.loop.run_steps``: progress bar, history, NaN guard,
checkpoints, resume, Ctrl-C, learning-rate schedule, EMA).

Conditional GANs use the same loop: with class labels ``y`` the players are called as
``G(z, y)`` and ``D(x, y)``, and the fakes of a step carry the labels of its real batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from . import distributed, validate
from .amp import Precision
from .augment import Augmented
from .doctor import Doctor
from .losses import LOSSES, GANLoss, get_loss
from .loop import History, TrainingDiverged, run_steps

__all__ = ["TrainConfig", "History", "TrainingDiverged", "d_step", "g_step", "feature_matching_g_step", "acgan_d_step",
           "acgan_g_step", "make_optimizers", "ema_of", "fit"]


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
    # With n_critic 1, G's step reuses the fakes G(z) of D's step, graph and all: one forward of G per step instead
    # of two, as in the DCGAN reference code. Off by default, which follows Algorithm 1 of Goodfellow et al. (2014):
    # a fresh minibatch of noise for G's step. Both are correct; chapter 03 compares them.
    reuse_fakes: bool = False
    # Salimans et al. 2016, sec. 3.1: G matches the mean of D's last feature map on real data instead of fooling D
    feature_matching: bool = False
    # AC-GAN (Odena et al. 2017): weight of the class cross-entropy in both players' losses; D returns
    # (logits, class logits) and the data must carry labels. 0: off
    classifier_weight: float = 0.0
    # AC-GAN: does D's class head also learn to classify the fakes (the paper's L_C)? G minimises that term as well,
    # so on it the two players cooperate; False trains the head on real data only
    classify_fakes: bool = True
    lr_decay: float = 0.0  # last fraction of the run over which both learning rates fall linearly to 0
    amp: bool = False  # mixed precision (bfloat16 on CPU, see ganlab.amp)
    log_every: int = 100  # steps between callback calls and progress-bar updates
    checkpoint_every: int = 0  # steps between checkpoints (0: only at the end), when a path is given
    progress: bool = True  # show a tqdm progress bar
    seed: int = 0  # seeds the noise z and the batches fit draws from a tensor (a sampler function uses its own RNG)
    # Several processes (torchrun, see ganlab.distributed): BatchNorm on the statistics of the global batch. Changes
    # nothing in one process, so it is not part of the run's identity: checkpoints move between one and several
    sync_batchnorm: bool = False

    def __post_init__(self) -> None:
        validate.choice("loss", self.loss, LOSSES)
        for name in ("steps", "batch_size", "n_critic", "log_every"):
            validate.integer(name, getattr(self, name))
        validate.integer("checkpoint_every", self.checkpoint_every, low=0)
        validate.integer("seed", self.seed, low=0)
        for name in ("lr_g", "lr_d"):
            validate.number(name, getattr(self, name), low=0, low_open=True)
        for name in ("beta1", "beta2"):
            validate.number(name, getattr(self, name), low=0, high=1, high_open=True)
        validate.number("lr_decay", self.lr_decay, low=0, high=1, hint=" (a fraction of the run, between 0 and 1)")
        validate.number("classifier_weight", self.classifier_weight, low=0)
        if self.feature_matching and self.classifier_weight:
            raise ValueError("feature_matching is for unconditional GANs and classifier_weight for AC-GANs; "
                             "choose one")
        for name in ("reuse_fakes", "feature_matching", "classify_fakes", "amp", "progress", "sync_batchnorm"):
            validate.flag(name, getattr(self, name))

    def run_identity(self) -> dict:
        """The fields a resumed run must share with the run it continues (all but length and logging)."""
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k not in ("steps", "log_every", "checkpoint_every", "progress", "sync_batchnorm")}

    def lr_factor(self, step: int) -> float:
        """Multiplier of the learning rates at ``step`` (1-based): 1, then a linear fall to 0."""
        validate.integer("step", step)
        decay_steps = self.lr_decay * self.steps
        if decay_steps == 0:
            return 1.0
        return min(1.0, (self.steps - step + 1) / decay_steps)


Batch = Union[Tensor, tuple[Tensor, Tensor]]  # examples (N, ...), or (examples, labels (N,))
Data = Union[Tensor, tuple[Tensor, Tensor], Callable[[int], Batch]]


def _check_step_args(G: nn.Module, D: nn.Module, opt: torch.optim.Optimizer, opt_name: str, loss: GANLoss) -> None:
    for name, player in (("G", G), ("D", D)):
        validate.instance(name, player, nn.Module, "a network (an nn.Module)")
    validate.instance(opt_name, opt, torch.optim.Optimizer, "an optimiser, e.g. from make_optimizers")
    validate.instance("loss", loss, GANLoss, "a GANLoss, e.g. get_loss('nonsaturating')")


def d_step(G: nn.Module, D: nn.Module, real: Tensor, z: Tensor, opt_d: torch.optim.Optimizer,
           loss: GANLoss, precision: Precision | None = None, y: Tensor | None = None,
           fake: Tensor | None = None) -> dict[str, float]:
    """One discriminator update on a real batch and the fakes G(z) (detached); with labels
    ``y``, on G(z, y), and D sees (x, y). ``fake``: G(z) already computed (it is detached here)."""
    _check_step_args(G, D, opt_d, "opt_d", loss)
    validate.tensor("real", real, finite=False)
    if loss.penalty is not None and isinstance(D, DistributedDataParallel):
        raise ValueError(
            f"D is wrapped in DistributedDataParallel and the loss {loss.name!r} has a penalty on D's gradient, which "
            "needs a double backward. DDP does not support one (PyTorch issues 47562 and 63929): it all-reduces only "
            "the gradients that reach the weights, and a backward that misses a weight (a penalty alone never reaches "
            "D's last bias) leaves it waiting or failing at the next step. Pass the plain D and average its gradients "
            "over the processes before the step, as fit does: Precision(device, after_backward=lambda: "
            "ganlab.distributed.average_gradients(D))")
    precision = precision or Precision(real.device)
    cond = () if y is None else (y,)
    opt_d.zero_grad(set_to_none=True)
    with precision.autocast():
        if fake is None:
            with torch.no_grad():
                fake = G(z, *cond)  # no graph through G: this step updates D only
        fake = fake.detach()  # D's step must not reach into G
        if fake.shape[1:] != real.shape[1:]:  # the batch sizes may differ; the examples may not
            raise ValueError(f"real, of shape {tuple(real.shape)}, and the fakes G(z), of shape {tuple(fake.shape)}, "
                             "should hold examples of the same shape: D compares the two")
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
           loss: GANLoss, precision: Precision | None = None, y: Tensor | None = None,
           fake: Tensor | None = None) -> dict[str, float]:
    """One generator update: gradients flow from D's logits back into G (with labels: D(G(z, y), y)).
    ``fake``: G(z) already computed, with its graph, by G as it is now."""
    _check_step_args(G, D, opt_g, "opt_g", loss)
    validate.tensor("z", z, finite=False)
    precision = precision or Precision(z.device)
    cond = () if y is None else (y,)
    opt_g.zero_grad(set_to_none=True)
    D.requires_grad_(False)  # D is a fixed function during G's step; saves its weight gradients
    try:
        with precision.autocast():
            fake = G(z, *cond) if fake is None else fake
            loss_g = loss.g_loss(D(fake, *cond).float())
        precision.backward_and_step(loss_g, opt_g)
    finally:
        D.requires_grad_(True)
    return {"loss_g": loss_g.item()}


def feature_matching_g_step(G: nn.Module, D: nn.Module, real: Tensor, z: Tensor, opt_g: torch.optim.Optimizer,
                            precision: Precision | None = None, fake: Tensor | None = None) -> dict[str, float]:
    """One generator update by feature matching (Salimans et al. 2016, arXiv:1606.03498, sec. 3.1):
    G minimises ||E f(x) - E f(G(z))||^2, f(x) being D's last feature map ``D.features(x)``, flattened,
    and the means taken over the real batch and the fake batch."""
    validate.instance("G", G, nn.Module, "a network (an nn.Module)")
    if not isinstance(getattr(D, "features", None), nn.Module):
        raise TypeError(f"feature matching reads D's features, D.features(x); {type(D).__name__} has none. Use a "
                        "DCGANDiscriminator or ProjectionDiscriminator (for the unconditional recipe)")
    validate.instance("opt_g", opt_g, torch.optim.Optimizer, "an optimiser, e.g. from make_optimizers")
    validate.tensor("real", real, finite=False)
    precision = precision or Precision(real.device)
    opt_g.zero_grad(set_to_none=True)
    D.requires_grad_(False)
    try:
        with precision.autocast():
            with torch.no_grad():
                target = D.features(real).flatten(1).float().mean(0)  # E f(x), (F,): G cannot move it
            fake = G(z) if fake is None else fake
            loss_g = (D.features(fake).flatten(1).float().mean(0) - target).pow(2).sum()
        precision.backward_and_step(loss_g, opt_g)
    finally:
        D.requires_grad_(True)
    return {"loss_g": loss_g.item()}


def _check_acgan_args(G: nn.Module, D: nn.Module, opt: torch.optim.Optimizer, opt_name: str, loss: GANLoss,
                      y: Tensor, n: int) -> None:
    _check_step_args(G, D, opt, opt_name, loss)
    inner = distributed.unwrap(D)
    inner = inner.D if isinstance(inner, Augmented) else inner
    if not (isinstance(getattr(inner, "classify", None), nn.Module) and isinstance(getattr(inner, "n_classes", None),
                                                                                   int)):
        raise TypeError(f"the AC-GAN steps need a D with a class head (D.classify) that returns (logits, class "
                        f"logits), such as ACGANDiscriminator; got {type(inner).__name__}")
    validate.labels("y", y, n, inner.n_classes)


def acgan_d_step(G: nn.Module, D: nn.Module, real: Tensor, y: Tensor, z: Tensor, opt_d: torch.optim.Optimizer,
                 loss: GANLoss, precision: Precision | None = None, fake: Tensor | None = None,
                 weight: float = 1.0, classify_fakes: bool = True) -> dict[str, float]:
    """One update of an auxiliary-classifier D (Odena et al. 2017, arXiv:1610.09585, eqs. 2-3): D minimises
    its adversarial loss plus ``weight`` * the cross-entropy of its class head at the labels, on the real
    images (labels y) and, with ``classify_fakes`` (the paper's choice), on the fakes G(z, y) (the labels they
    were made for). That second term is one that G minimises too: see ``TrainConfig.classify_fakes``."""
    _check_acgan_args(G, D, opt_d, "opt_d", loss, y, len(real) if isinstance(real, Tensor) else 0)
    validate.tensor("real", real, finite=False)
    if loss.penalty is not None or loss.clip is not None:
        raise ValueError(f"the AC-GAN steps take losses without a penalty or clipping, got {loss.name!r}")
    validate.number("weight", weight, low=0)
    validate.flag("classify_fakes", classify_fakes)
    precision = precision or Precision(real.device)
    opt_d.zero_grad(set_to_none=True)
    with precision.autocast():
        if fake is None:
            with torch.no_grad():
                fake = G(z, y)
        (real_logits, real_classes), (fake_logits, fake_classes) = D(real), D(fake.detach())
        loss_adv = loss.d_loss(real_logits.float(), fake_logits.float())
        loss_class = F.cross_entropy(real_classes.float(), y)  # -L_C: its real half ...
        if classify_fakes:
            loss_class = loss_class + F.cross_entropy(fake_classes.float(), y)  # ... and its fake half
        loss_d = loss_adv + weight * loss_class
    precision.backward_and_step(loss_d, opt_d)
    stats = {"loss_d": loss_adv.item(), "loss_class_d": loss_class.item(),
             "class_acc_real": (real_classes.argmax(1) == y).float().mean().item()}
    if loss.logits:
        stats["d_real"] = torch.sigmoid(real_logits.float()).mean().item()
        stats["d_fake"] = torch.sigmoid(fake_logits.float()).mean().item()
    return stats


def acgan_g_step(G: nn.Module, D: nn.Module, z: Tensor, y: Tensor, opt_g: torch.optim.Optimizer, loss: GANLoss,
                 precision: Precision | None = None, fake: Tensor | None = None,
                 weight: float = 1.0) -> dict[str, float]:
    """One AC-GAN generator update: G's adversarial loss plus ``weight`` * the cross-entropy of D's class head
    on G(z, y) at y, so G makes images that D both takes for real and classifies as y."""
    validate.tensor("z", z, finite=False)
    _check_acgan_args(G, D, opt_g, "opt_g", loss, y, len(z))
    validate.number("weight", weight, low=0)
    precision = precision or Precision(z.device)
    opt_g.zero_grad(set_to_none=True)
    D.requires_grad_(False)
    try:
        with precision.autocast():
            fake = G(z, y) if fake is None else fake
            logits, classes = D(fake)
            loss_adv = loss.g_loss(logits.float())
            loss_class = F.cross_entropy(classes.float(), y)
            loss_g = loss_adv + weight * loss_class
        precision.backward_and_step(loss_g, opt_g)
    finally:
        D.requires_grad_(True)
    return {"loss_g": loss_adv.item(), "loss_class_g": loss_class.item()}


def make_optimizers(G: nn.Module, D: nn.Module, config: TrainConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for each player, with its own learning rate."""
    for name, player in (("G", G), ("D", D)):
        validate.instance(name, player, nn.Module, "a network (an nn.Module)")
    validate.instance("config", config, TrainConfig, "a TrainConfig")
    betas = (config.beta1, config.beta2)
    return (torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=betas),
            torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=betas))


def ema_of(G: nn.Module, decay: float = 0.999) -> AveragedModel:
    """An exponential moving average of G's weights (and BatchNorm statistics), for ``fit(ema=...)``.

    After each generator step, theta_ema <- decay * theta_ema + (1 - decay) * theta: the
    average moves slowly and smooths out the oscillations of the game (Yazici et al. 2019,
    "The Unusual Effectiveness of Averaging in GAN Training", ICLR). Sample from ``ema.module``.
    """
    validate.instance("G", G, nn.Module, "the generator (an nn.Module)")
    validate.number("decay", decay, low=0, high=1, low_open=True, high_open=True, hint=" (e.g. 0.999)")
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
    validate.tensor("data", x)  # floats, finite: read once, before the first step
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
        ema: AveragedModel | None = None, identity: dict | None = None, doctor: "Doctor | bool" = False) -> History:
    """Train G against D on ``data``: a tensor of real examples, a pair (examples, labels) for a
    conditional GAN, or a sampler ``n -> batch`` returning either.

    ``callback(step, G, D, history)`` runs every ``config.log_every`` steps and at the end,
    e.g. to draw live plots. With ``checkpoint`` the run is saved there (atomically) every
    ``config.checkpoint_every`` steps, at the end and when it is stopped; ``resume=True``
    continues from it up to ``config.steps`` (a larger ``steps`` trains on). Ctrl-C (or the
    notebook's stop button) finishes the step under way, saves, and returns the history so far
    with ``history.interrupted = True``. ``loss``, a ``GANLoss`` object, replaces the named
    ``config.loss`` (e.g. your own losses, or ``losses.with_penalty_weight(...)``). ``ema``
    (from ``ema_of(G)``) is updated after every generator step and saved in the checkpoint.
    ``identity``: more settings that identify the run (a recipe's), saved and compared on resume.
    ``doctor``: True, or a ``ganlab.doctor.Doctor``, has the training doctor watch the run (see ``run_steps``;
    ``history.findings`` lists what it found).
    """
    config = TrainConfig() if config is None else validate.instance("config", config, TrainConfig, "a TrainConfig")
    for name, player in (("G", G), ("D", D)):
        validate.instance(name, player, nn.Module, "a network (an nn.Module)")
    if loss is not None:
        validate.instance("loss", loss, GANLoss, "a GANLoss object (config.loss takes the names)")
    for name, value, kind, what in (("opt_g", opt_g, torch.optim.Optimizer, "an optimiser"),
                                    ("opt_d", opt_d, torch.optim.Optimizer, "an optimiser"),
                                    ("ema", ema, AveragedModel, "an average from ema_of(G)")):
        if value is not None:
            validate.instance(name, value, kind, what)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function (step, G, D, history), got {type(callback).__name__}")
    loss = loss or get_loss(config.loss)
    device = next(G.parameters()).device
    if opt_g is None or opt_d is None:
        opt_g, opt_d = make_optimizers(G, D, config)
    # Several processes (torchrun; see ganlab.distributed): each takes its slice ``part`` of every global batch and
    # runs its players in DDP, which averages the gradients; in one process part is the whole batch and nothing
    # is wrapped. Under a penalty D stays plain and its gradients are averaged by hand (DDP has no double backward).
    part = distributed.shard(config.batch_size)
    by_hand = distributed.active() and loss.penalty is not None
    prec_d = Precision(device, config.amp, after_backward=(lambda: distributed.average_gradients(D)) if by_hand
                       else None)
    prec_g = Precision(device, config.amp)
    batches = torch.Generator().manual_seed(config.seed)  # draws the real batches' indices and every z
    sample_real = _batch_sampler(data, device, batches)
    reuse = config.reuse_fakes and config.n_critic == 1
    acgan = config.classifier_weight > 0
    labelled = isinstance(data, (tuple, list))
    if acgan and not (labelled or callable(data)):
        raise ValueError("an AC-GAN (classifier_weight > 0) trains on labelled data: pass (examples, labels)")
    if config.feature_matching and labelled:
        raise ValueError("feature matching here is for unconditional GANs; pass the examples without labels")

    def real_batch() -> tuple[Tensor, Optional[Tensor]]:
        real, y = sample_real(config.batch_size)  # the global batch, the same on every process
        return real[part], None if y is None else y[part]

    def z_batch() -> Tensor:
        return torch.randn(config.batch_size, G.latent_dim, generator=batches)[part].to(device)

    def gan_step(step: int) -> dict[str, float]:
        """One iteration: n_critic steps of D, then one step of G (through the plain D: its weights take no
        gradient there, so DDP has nothing of D's to average)."""
        for _ in range(config.n_critic):
            real, y = real_batch()
            z, fake = z_batch(), None
            if reuse:  # G(z) once, with its graph: D's step reads it detached, G's step backpropagates through it
                with prec_g.autocast():
                    fake = G_par(z, *(() if y is None else (y,)))
            if acgan:
                stats = acgan_d_step(G_par, D_par, real, y, z, opt_d, loss, prec_d, fake, config.classifier_weight,
                                     config.classify_fakes)
            else:
                stats = d_step(G_par, D_par, real, z, opt_d, loss, prec_d, y=y, fake=fake)
        if not reuse:
            z = z_batch()  # a fresh z for G's step
        if acgan:  # the labels of the last real batch, as below
            stats.update(acgan_g_step(G_par, D, z, y, opt_g, loss, prec_g, fake, config.classifier_weight))
        elif config.feature_matching:
            stats.update(feature_matching_g_step(G_par, D, real, z, opt_g, prec_g, fake))
        else:
            stats.update(g_step(G_par, D, z, opt_g, loss, prec_g, y=y, fake=fake))  # the labels of the last real batch
        return stats

    with distributed.sync_batchnorm(G, D) if config.sync_batchnorm else contextlib.nullcontext():
        G_par, D_par = distributed.wrap(G), (D if by_hand else distributed.wrap(D))
        return run_steps(
            gan_step, steps=config.steps, config={**config.run_identity(), **(identity or {})},
            state={"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "prec_g": prec_g, "prec_d": prec_d,
                   "batches": batches},
            averages={"ema": (ema, G)} if ema is not None else None,
            lr_factor=config.lr_factor if config.lr_decay else None,
            callback=None if callback is None else (lambda step, history: callback(step, G, D, history)),
            checkpoint=checkpoint, resume=resume, log_every=config.log_every,
            checkpoint_every=config.checkpoint_every, progress=config.progress, doctor=doctor)

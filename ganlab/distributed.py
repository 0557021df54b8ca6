"""Training on several processes at once: one per GPU, with PyTorch's DistributedDataParallel (DDP).

Start a recipe with ``torchrun``, which starts the processes and tells each its rank:

    torchrun --nproc_per_node 4 -m ganlab train dcgan --out runs/dcgan_4gpu

The ``dcgan`` and ``cgan`` recipes (``ganlab.fit``) then run data-parallel:

- every process holds a copy of G and of D, wrapped in DDP separately, so that each player's
  backward pass averages its gradients over the processes before its optimiser steps;
- ``batch_size`` stays the *global* batch: every process draws the same global batch of real
  indices and of z from the run's seeded generator and keeps its own slice (``shard``), so
  a run on W processes computes the same update as one process with the whole batch, up to
  BatchNorm, below, and the order of floating-point sums;
- BatchNorm normalises with the statistics of the batch it sees, and each process sees 1/W of
  it: with ``sync_batchnorm`` the statistics are those of the global batch (torch's
  ``nn.SyncBatchNorm`` on GPUs, this module's ``SyncBatchNorm`` on the CPU, where torch's does
  not run), and the run matches one process; without it every process normalises its own
  slice, a different (and noisier) algorithm;
- the logged losses are averaged over the processes, so every process sees the same values,
  stops on the same NaN and stops after the same step on Ctrl-C;
- only rank 0 draws samples, writes checkpoints and metrics, and shows the progress bar. A
  checkpoint holds the plain networks (never the DDP wrappers), so it resumes in one process
  or in several alike.

Penalties that differentiate D's gradient (R1, WGAN-GP) need a double backward, which DDP
does not support (PyTorch issues 47562 and 63929): its all-reduce hooks fire only for
gradients that reach the weights, and a backward that reaches some weights and not others (a
penalty alone never reaches D's last bias) leaves DDP waiting, or failing at the next step.
The course's workaround is StyleGAN2-ADA's: under a penalty, D is not wrapped in DDP; each
process computes its gradients, loss and penalty together, and ``average_gradients`` averages
them over the processes before the optimiser step. ``train.d_step`` refuses a DDP-wrapped D
with a penalty, and says so.

The other recipes run in one process and refuse to start under ``torchrun`` with more than one
(see ``single_process``), rather than train the same model several times over.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

__all__ = ["launched", "init", "session", "rank", "world_size", "is_main", "active", "shard", "wrap",
           "average_gradients", "average_stats", "SyncBatchNorm", "sync_batchnorm", "single_process", "unwrap"]


def launched() -> bool:
    """Was this process started by ``torchrun`` (or another launcher that sets RANK and WORLD_SIZE)?"""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def init() -> None:
    """Join the process group when started by a launcher with more than one process (once; a no-op otherwise).

    NCCL on CUDA (each process on the GPU ``LOCAL_RANK``), gloo on the CPU."""
    if dist.is_initialized() or not launched() or int(os.environ["WORLD_SIZE"]) == 1:
        return
    if torch.cuda.is_available() and os.environ.get("GANLAB_DEVICE", "cuda").startswith("cuda"):
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")


@contextlib.contextmanager
def session() -> Iterator[None]:
    """Join the process group (``init``) for the work inside, and leave it cleanly at the end.

    Every process waits at a barrier for the others (rank 0 scores and writes the run folder while
    the rest have finished training), then destroys the group. A process that exits with its gloo
    group still alive can abort at exit ("terminate called without an active exception") as the
    group's threads are torn down, and torchrun then reports the whole run as failed. After an
    error there is no barrier: the other processes may never reach it."""
    init()
    try:
        yield
    except BaseException:
        if dist.is_initialized():
            dist.destroy_process_group()
        raise
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def active() -> bool:
    """Is this process one of several in a process group?"""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 in a single process)."""
    return dist.get_rank() if active() else 0


def world_size() -> int:
    """The number of processes (1 in a single process)."""
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0: the process that draws, saves and prints."""
    return rank() == 0


def shard(batch_size: int) -> slice:
    """This process's slice of a global batch of ``batch_size`` (which the number of processes must divide)."""
    world = world_size()
    if batch_size % world:
        raise ValueError(f"the global batch size {batch_size} cannot be split evenly over {world} processes; choose "
                         f"a multiple of {world} (each process takes batch_size / {world} examples)")
    local = batch_size // world
    return slice(rank() * local, (rank() + 1) * local)


def unwrap(module: nn.Module) -> nn.Module:
    """The network inside a DDP wrapper (the module itself otherwise)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def wrap(module: nn.Module) -> nn.Module:
    """``module`` in DDP when several processes run (on its own device), else ``module`` itself."""
    if not active():
        return module
    device = next(module.parameters()).device
    if device.type != "cuda":
        return DistributedDataParallel(module)
    return DistributedDataParallel(module, device_ids=[torch.cuda.current_device() if device.index is None
                                                       else device.index])


def average_gradients(module: nn.Module) -> None:
    """Average the gradients of ``module``'s weights over the processes, in place (a weight that has no gradient
    here but has one elsewhere counts as a zero gradient, so every process makes the same all-reduce). What DDP
    does in its backward pass, done by hand: for a D whose loss needs a double backward (see the module
    docstring)."""
    if not active():
        return
    params = [p for p in module.parameters() if p.requires_grad]
    # a weight that no process gave a gradient keeps none (the optimiser skips it, as in one process)
    has = torch.tensor([float(p.grad is not None) for p in params], device=params[0].device)
    dist.all_reduce(has)
    params = [p for p, n in zip(params, has.tolist()) if n > 0]
    if not params:
        return
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= world_size()
    offset = 0
    for p in params:
        p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
        offset += p.numel()


def average_stats(stats: dict[str, float], stop: bool = False) -> tuple[dict[str, float], bool]:
    """(the logged values averaged over the processes, whether any process asked to stop): one all-reduce, so
    that every process sees the same numbers and takes the same decisions."""
    if not active():
        return stats, stop
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
    values = torch.tensor([*stats.values(), float(stop)], dtype=torch.float64, device=device)
    dist.all_reduce(values)
    values /= world_size()
    return dict(zip(stats, values[:-1].tolist())), values[-1].item() > 0


def single_process(what: str) -> None:
    """Refuse to run ``what`` on several processes: it would train the same model on each, W times over."""
    if launched() and int(os.environ["WORLD_SIZE"]) > 1:
        raise RuntimeError(f"{what} runs in one process, and this is one of {os.environ['WORLD_SIZE']} started by "
                           f"torchrun. Start it with `ganlab train ...` (or python) instead; the dcgan and cgan "
                           f"recipes are the ones that train on several processes.")


class _AllReduceSum(torch.autograd.Function):
    """The sum over the processes of a tensor each holds, differentiable: every process's result depends on every
    process's input, so the gradient of each input is the sum over the processes of the results' gradients."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        total = x.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return _AllReduceSum.apply(grad)  # itself differentiable: a penalty on D's gradient backpropagates through it


class SyncBatchNorm(_BatchNorm):
    """BatchNorm with the statistics of the global batch, over every process; on any backend, the CPU's gloo too.

    In training, each process sums its slice (and then its squared deviations from the global mean) and one
    differentiable all-reduce adds the sums, so the output, the gradients and the running statistics are those
    of BatchNorm on the whole batch in one process. Elsewhere (eval mode, or one process) it is plain BatchNorm,
    with the same weights and buffers, so checkpoints move freely between the two.
    """

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"SyncBatchNorm expects (N, C, ...) inputs, got shape {tuple(x.shape)}")

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and active()):
            return super().forward(x)
        self._check_input_dim(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
        count = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype, device=x.device)
        sums = _AllReduceSum.apply(torch.cat([x.sum(dims), count]))
        total = sums[-1]
        mean = sums[:-1] / total
        var = _AllReduceSum.apply((x - mean.view(shape)).pow(2).sum(dims)) / total  # biased, as BatchNorm normalises
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = 1.0 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
                self.running_mean.lerp_(mean.detach(), factor)
                n = total.item()
                self.running_var.lerp_(var.detach() * n / max(n - 1, 1), factor)  # unbiased, as BatchNorm keeps it
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y


@contextlib.contextmanager
def sync_batchnorm(*modules: nn.Module) -> Iterator[None]:
    """Inside the block, with several processes, every BatchNorm layer of ``modules`` synchronises its statistics
    across them: ``nn.SyncBatchNorm`` on CUDA, this module's ``SyncBatchNorm`` elsewhere, holding the same weights
    and buffers (optimisers and averages keep pointing at them). After the block the original layers are back, so
    that rank 0 alone can go on using the networks (sampling, scoring) without waiting for the others."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []

    def convert(parent: nn.Module, cuda: bool) -> None:
        for name, child in parent.named_children():
            if isinstance(child, (SyncBatchNorm, nn.SyncBatchNorm)):
                continue
            if isinstance(child, _BatchNorm):
                setattr(parent, name, nn.SyncBatchNorm.convert_sync_batchnorm(child) if cuda else _sync_copy(child))
                swapped.append((parent, name, child))
            else:
                convert(child, cuda)

    for module in modules:
        if not isinstance(module, nn.Module) or isinstance(module, _BatchNorm):
            raise TypeError("sync_batchnorm converts the BatchNorm layers inside networks; pass the networks")
        if active():
            convert(module, next(module.parameters()).device.type == "cuda")
    try:
        yield
    finally:
        for parent, name, original in reversed(swapped):
            original.train(getattr(parent, name).training)
            setattr(parent, name, original)


def _sync_copy(bn: _BatchNorm) -> SyncBatchNorm:
    sync = SyncBatchNorm(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats)
    sync.training = bn.training
    for name, value in [*bn.named_parameters(recurse=False), *bn.named_buffers(recurse=False)]:
        setattr(sync, name, value)  # the same tensors: optimisers and averages keep pointing at them
    return sync


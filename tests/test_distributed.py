"""Several processes: the dcgan recipe under torchrun (2 CPU processes, gloo) against one process.

With the same global batch, and BatchNorm synchronised over the processes, a run on two processes
computes the update of one process on the whole batch; what differs is the order of floating-point
sums (each process sums its half, then the all-reduce adds the halves). After a few Adam steps the
weights agree to MATCH; without synchronised BatchNorm each process normalises its own half-batch,
a different algorithm, and they do not.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from ganlab import distributed
from ganlab.losses import get_loss
from ganlab.train import d_step

MATCH = 1e-4  # largest difference of any weight of G or D after the run, two processes against one
RECIPE = ["--steps", "4", "--batch-size", "16", "--width", "8", "--threads", "1", "--no-progress"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(out: Path, *args: str, processes: int = 1, recipe: str = "dcgan") -> subprocess.CompletedProcess:
    env = {**os.environ, "GANLAB_FAST": "1", "GANLAB_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    env.pop("RANK", None), env.pop("WORLD_SIZE", None)
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                 "--master_port", str(_free_port()), "-m"] if processes > 1 else [sys.executable, "-m"])
    done = subprocess.run([*launcher, "ganlab", "train", recipe, *RECIPE, "--out", str(out), *args],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _weights(out: Path) -> dict[str, torch.Tensor]:
    saved = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    state = saved["state"] if "state" in saved else saved
    return {f"{who}.{k}": v.float() for who in ("G", "D") for k, v in state[who].items() if v.is_floating_point()}


def _largest_difference(a: Path, b: Path) -> float:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    return max((wa[k] - wb[k]).abs().max().item() for k in wa)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one") / "run"
    _train(out)
    return out


@pytest.mark.slow
def test_two_processes_match_one_with_synchronised_batchnorm(one_process, tmp_path):
    out = tmp_path / "two"
    done = _train(out, "--sync-batchnorm", processes=2)
    assert "FID" in done.stdout and done.stdout.count("FID") == 1, "rank 0 alone should report"
    assert _largest_difference(one_process, out) < MATCH
    metrics = (out / "metrics.json").read_text()
    assert '"processes": 2' in metrics


@pytest.mark.slow
def test_the_conditional_recipe_too(tmp_path):  # conditional BatchNorm in G, a projection D(x, y)
    one, two = tmp_path / "one", tmp_path / "two"
    _train(one, recipe="cgan")
    _train(two, "--sync-batchnorm", processes=2, recipe="cgan")
    assert _largest_difference(one, two) < MATCH


@pytest.mark.slow
def test_without_synchronised_batchnorm_each_process_normalises_its_half(one_process, tmp_path):
    out = tmp_path / "two"
    _train(out, processes=2)
    assert _largest_difference(one_process, out) > 100 * MATCH


@pytest.mark.slow
def test_a_two_process_checkpoint_resumes_in_one_process(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    _train(straight, "--steps", "6")
    _train(split, "--sync-batchnorm", processes=2)  # 4 steps on two processes ...
    _train(split, "--steps", "6", "--resume")  # ... 2 more in one
    assert _largest_difference(straight, split) < MATCH


@pytest.mark.slow
def test_a_penalty_runs_on_two_processes_with_gradients_averaged_by_hand(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _train(one, "--loss", "r1")
    _train(two, "--loss", "r1", "--sync-batchnorm", processes=2)
    assert _largest_difference(one, two) < MATCH


def test_batch_that_does_not_split_evenly_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(distributed, "world_size", lambda: 3)
    with pytest.raises(ValueError, match="cannot be split evenly over 3 processes"):
        distributed.shard(16)


def test_in_one_process_shard_is_the_whole_batch():
    assert distributed.shard(16) == slice(0, 16) and distributed.world_size() == 1 and distributed.is_main()


def test_single_process_recipes_refuse_torchrun(monkeypatch, tmp_path):
    from ganlab.vae_train import default_vae, train_vae

    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="runs in one process"):
        train_vae(default_vae(out=str(tmp_path / "vae")))
    assert not (tmp_path / "vae").exists()


@pytest.fixture
def process_group(tmp_path):
    """A process group of one (gloo), enough to build a DistributedDataParallel wrapper."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_d_step_refuses_a_ddp_wrapped_d_with_a_penalty(process_group):
    from torch.nn.parallel import DistributedDataParallel

    G, D = nn.Linear(2, 2), DistributedDataParallel(nn.Sequential(nn.Linear(2, 4), nn.Softplus(), nn.Linear(4, 1)))
    opt = torch.optim.SGD(D.parameters(), lr=0.1)
    before = [p.detach().clone() for p in D.parameters()]
    with pytest.raises(ValueError, match="double backward"):
        d_step(G, D, torch.randn(4, 2), torch.randn(4, 2), opt, get_loss("r1"))
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters())), "nothing may change before the error"
    d_step(G, D, torch.randn(4, 2), torch.randn(4, 2), opt, get_loss("nonsaturating"))  # no penalty: fine


def test_sync_batchnorm_swaps_the_layers_and_puts_them_back(monkeypatch):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Sequential(nn.BatchNorm2d(3)))
    layers, weights, keys = list(net.modules()), [id(p) for p in net.parameters()], list(net.state_dict())
    x = torch.randn(5, 1, 6, 6)
    expected = net(x).detach()
    monkeypatch.setattr(distributed, "active", lambda: True)  # as if several processes ran
    with distributed.sync_batchnorm(net):
        assert isinstance(net[1], distributed.SyncBatchNorm) and isinstance(net[3][0], distributed.SyncBatchNorm)
        assert [id(p) for p in net.parameters()] == weights, "the optimiser's tensors must stay the same"
        assert list(net.state_dict()) == keys
        net.eval()  # eval mode, or one process: plain BatchNorm, no collective call
        torch.testing.assert_close(net(x), nn.functional.batch_norm(
            nn.functional.relu(nn.functional.batch_norm(net[0](x), layers[2].running_mean, layers[2].running_var,
                                                        layers[2].weight, layers[2].bias)),
            layers[5].running_mean, layers[5].running_var, layers[5].weight, layers[5].bias))
    assert list(net.modules()) == layers and not net[1].training, "the original layers, in the mode set inside"
    monkeypatch.undo()
    net.train()
    torch.testing.assert_close(net(x), expected)


def _sync_bn_worker(rank: int, store: str, x: torch.Tensor, queue) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    torch.manual_seed(0)
    bn = distributed.SyncBatchNorm(3).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5), bn.bias.uniform_(-1, 1)
    mine = x[rank * 4:(rank + 1) * 4].clone().requires_grad_(True)
    y = bn(mine)
    (y * torch.arange(1.0, 5.0, dtype=torch.float64).view(4, 1, 1, 1)).sum().backward()  # weighs examples unequally
    # numpy arrays travel by value (a tensor would travel in shared memory that dies with this process)
    queue.put((rank, *(t.detach().numpy() for t in (y, mine.grad, bn.weight.grad, bn.bias.grad, bn.running_mean,
                                                    bn.running_var))))
    dist.destroy_process_group()


def test_sync_batchnorm_on_two_processes_is_batchnorm_on_the_whole_batch(tmp_path):
    import torch.multiprocessing as mp

    x = torch.randn(8, 3, 5, 5, dtype=torch.float64) * 2 + 1  # float64: the sums of each half and of the whole agree
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_sync_bn_worker, args=(r, str(tmp_path / "store"), x, queue)) for r in range(2)]
    for w in workers:
        w.start()
    results = {r[0]: [torch.from_numpy(a) for a in r[1:]] for r in (queue.get(timeout=120) for _ in workers)}
    for w in workers:
        w.join(timeout=60)
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5), bn.bias.uniform_(-1, 1)
    whole = x.clone().requires_grad_(True)
    y = bn(whole)
    (y * torch.arange(1.0, 5.0, dtype=torch.float64).repeat(2).view(8, 1, 1, 1)).sum().backward()
    for rank in range(2):
        out, x_grad, w_grad, b_grad, mean, var = results[rank]
        torch.testing.assert_close(out, y[rank * 4:(rank + 1) * 4].detach())
        torch.testing.assert_close(x_grad, whole.grad[rank * 4:(rank + 1) * 4])
        torch.testing.assert_close(mean, bn.running_mean)
        torch.testing.assert_close(var, bn.running_var)
    # each process holds the gradient of its half; DDP adds them
    torch.testing.assert_close(results[0][2] + results[1][2], bn.weight.grad)
    torch.testing.assert_close(results[0][3] + results[1][3], bn.bias.grad)


def _average_gradients_worker(rank: int, store: str, _, queue) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    torch.manual_seed(0)
    net = nn.Linear(2, 1)
    extra = nn.Parameter(torch.zeros(1))  # a weight that no process gives a gradient
    net.register_parameter("extra", extra)
    # a penalty alone, on rank 0: d/dx of the output never reaches the bias; rank 1 has a full loss
    x = torch.full((1, 2), float(rank + 1), requires_grad=True)
    if rank == 0:
        (grad,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
        grad.pow(2).sum().backward()
    else:
        net(x).sum().backward()
    distributed.average_gradients(net)
    queue.put((rank, net.weight.grad.numpy(), net.bias.grad.numpy(), net.extra.grad is None))
    dist.destroy_process_group()


def test_average_gradients_where_a_backward_missed_a_weight(tmp_path):
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_average_gradients_worker, args=(r, str(tmp_path / "store"), None, queue))
               for r in range(2)]
    for w in workers:
        w.start()
    results = {r[0]: r[1:] for r in (queue.get(timeout=120) for _ in workers)}
    for w in workers:
        w.join(timeout=60)
    torch.manual_seed(0)
    w = nn.Linear(2, 1).weight.detach()  # the weights every process started from
    for rank in range(2):
        weight, bias, extra_is_none = results[rank]
        # rank 0: d/dw ||w||^2 = 2w; rank 1: d/dw w.x = x = (2, 2); averaged: w + 1. The bias: none on rank 0
        # (counted as 0), 1 on rank 1: 0.5. The extra weight: no gradient anywhere, and none after
        torch.testing.assert_close(torch.from_numpy(weight), w + 1)
        assert bias.tolist() == [0.5] and extra_is_none


def _session_worker(rank: int, port: int, queue) -> None:
    import time

    import torch.distributed as dist

    os.environ.update(RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    with distributed.session():
        active = distributed.active()
        if rank == 0:
            time.sleep(1.0)  # rank 0 scores and writes the folder after training; the others wait for it
        work_done = time.monotonic()
    queue.put((rank, active, work_done, time.monotonic(), dist.is_initialized()))


def test_a_session_waits_for_every_process_and_leaves_the_group():
    """A process that exits with its gloo group alive can abort as the group's threads are torn down."""
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    workers = [ctx.Process(target=_session_worker, args=(r, port, queue)) for r in range(2)]
    for w in workers:
        w.start()
    results = {r[0]: r[1:] for r in (queue.get(timeout=120) for _ in workers)}
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert all(active and not still for active, _, _, still in results.values()), results
    assert results[1][2] >= results[0][1], "rank 1 must wait at the barrier until rank 0 has done its work"

"""Benchmark of the `ganlab train dcgan` and `ganlab train cgan` recipes: quality, then speed.

    python benchmarks/dcgan.py                    # both recipes at their defaults, then throughput
    python benchmarks/dcgan.py --seeds 0 1 2      # quality over several seeds
    python benchmarks/dcgan.py --skip-quality     # only the throughput comparison
    python benchmarks/dcgan.py --fast             # a seconds-long smoke version

Quality: each recipe trains on the 4,000 training digits of the offline MNIST subset and its
final generator (the EMA) is scored by ``evaluate_images`` on the recipe's ``eval_samples``
images; FID and KID are shown beside the same scores of as many real training digits against
the 1,000 held-out ones, the floor at this sample size.

Throughput: steps per second of ``ganlab.fit`` against the training loop of pytorch/examples'
``dcgan/main.py``, written out below (``reference_loop``), on the same players, batches and
Adam optimisers: at the DCGAN paper's configuration (64 x 64 x 3 random images, latent 100,
width 64, batch 64, Adam 2e-4 with beta1 0.5) and at the course recipe's. The two loops run in
alternating rounds in one process, so that a change in the machine's load hits both alike, and
each round gives one ratio. ``fit`` runs as the recipe does, reusing D's fakes for G's step
(the reference loop does the same); "fresh z" is ``fit`` with a new z and a second forward
pass of G for G's step, TrainConfig's default. On CUDA each is also timed with mixed
precision and channels_last on and off.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import statistics
import tempfile
import time
from contextlib import nullcontext

import torch
from torch import nn

from ganlab.convnets import DCGANDiscriminator, DCGANGenerator
from ganlab.env import get_device
from ganlab.image_recipes import DCGANConfig, default_dcgan, train_dcgan, training_digits
from ganlab.train import TrainConfig, fit


# --------------------------------------------------------------------------- quality
def quality(seeds: list[int], recipes: list[str], fast: bool, threads: int) -> None:
    """Train each recipe once per seed and print one row of scores per run."""
    print(f"{'recipe':<6} {'seed':>4} {'classes':>7} {'label KL':>8} {'confident':>9} {'cond acc':>8} "
          f"{'FID (real)':>14} {'KID (real)':>14} {'precision':>9} {'recall':>6} {'seconds':>7} {'steps/s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in recipes:
            for seed in seeds:
                sizes = dict(steps=30, sample_every=30, eval_samples=200, width=16) if fast else {}
                config = default_dcgan(recipe == "cgan", seed=seed, threads=threads,
                                       out=os.path.join(tmp, f"{recipe}{seed}"), **sizes)
                r = train_dcgan(config, progress=False)
                ref = r["real_reference"]
                acc = f"{100 * r['conditional_accuracy']:>7.1f}%" if "conditional_accuracy" in r else f"{'-':>8}"
                print(f"{recipe:<6} {seed:>4} {r['classes_covered']:>4}/10 {r['label_kl']:>8.3f} "
                      f"{100 * r['confident_fraction']:>8.1f}% {acc} {r['fid']:>6.1f} ({ref['fid']:>5.1f}) "
                      f"{r['kid']:>6.2f} ({ref['kid']:>5.2f}) {r['precision']:>9.2f} {r['recall']:>6.2f} "
                      f"{r['train_seconds']:>7.1f} {r['steps_per_second']:>7.1f}", flush=True)


# --------------------------------------------------------------------------- throughput
def reference_loop(G: nn.Module, D: nn.Module, x: torch.Tensor, opt_g: torch.optim.Optimizer,
                   opt_d: torch.optim.Optimizer, steps: int, batch_size: int, batches: torch.Generator,
                   amp: bool) -> None:
    """The training loop of pytorch/examples' dcgan/main.py, written out: the yardstick for ``fit``.

    As there: D's loss is backpropagated in two parts (real, then fake), G(z) is computed once
    per iteration and reused (detached for D, attached for G), and D keeps computing its own
    weight gradients during G's step. Two changes: the players return logits, so the
    criterion is BCE on logits (the reference ends D in a Sigmoid and uses BCELoss), and the
    batches are drawn from a tensor by random indices, as ``fit`` draws them.
    """
    device = x.device
    dtype = torch.bfloat16 if device.type == "cpu" or torch.cuda.is_bf16_supported() else torch.float16
    autocast = torch.autocast(device.type, dtype=dtype) if amp else nullcontext()
    scaler = torch.amp.GradScaler(device.type) if amp and dtype == torch.float16 else None
    scale = (lambda loss: scaler.scale(loss)) if scaler is not None else (lambda loss: loss)
    criterion = nn.BCEWithLogitsLoss()
    real_label = torch.ones(batch_size, device=device)
    fake_label = torch.zeros(batch_size, device=device)

    def step(opt: torch.optim.Optimizer) -> None:
        if scaler is None:
            opt.step()
        else:
            scaler.step(opt)
            scaler.update()

    for _ in range(steps):
        real = x[torch.randint(len(x), (batch_size,), generator=batches).to(device)]
        # (1) D maximises log D(x) + log(1 - D(G(z)))
        D.zero_grad()
        with autocast:
            err_real = criterion(D(real).float(), real_label)
        scale(err_real).backward()
        z = torch.randn(batch_size, G.latent_dim, generator=batches).to(device)
        with autocast:
            fake = G(z)
            err_fake = criterion(D(fake.detach()).float(), fake_label)
        scale(err_fake).backward()
        step(opt_d)
        # (2) G maximises log D(G(z)), on the same fakes
        G.zero_grad()
        with autocast:
            err_g = criterion(D(fake).float(), real_label)
        scale(err_g).backward()
        step(opt_g)


SETTINGS = {
    # the DCGAN paper's configuration (Radford et al. 2015, sec. 4), on random 64 x 64 x 3 images
    "paper": dict(latent_dim=100, channels=3, width=64, image_size=64, batch_size=64, lr=2e-4, beta1=0.5, beta2=0.999),
    # the course's recipe on MNIST padded to 32 px
    "recipe": dict(latent_dim=DCGANConfig.latent_dim, channels=1, width=DCGANConfig.width,
                   image_size=DCGANConfig.image_size, batch_size=DCGANConfig.batch_size, lr=DCGANConfig.lr_g,
                   beta1=DCGANConfig.beta1, beta2=DCGANConfig.beta2),
}


LOOPS = ("fit", "fresh z", "reference")  # fit reusing D's fakes for G's step (the recipe's setting), fit drawing a
# fresh z for G's step (TrainConfig's default, Algorithm 1 of Goodfellow et al.), and pytorch/examples' loop


def throughput(setting: dict, rounds: int, steps: int, amp: bool, channels_last: bool) -> dict[str, list[float]]:
    """Steps/s of each of ``LOOPS`` in each of ``rounds`` rounds of ``steps`` steps, in rotating order."""
    device = get_device()
    layout = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=setting["latent_dim"], channels=setting["channels"], width=setting["width"],
                       image_size=setting["image_size"])
    D = DCGANDiscriminator(channels=setting["channels"], width=setting["width"], image_size=setting["image_size"])
    G, D = G.to(device, memory_format=layout), D.to(device, memory_format=layout)
    players = {name: (copy.deepcopy(G), copy.deepcopy(D)) for name in LOOPS}
    betas = (setting["beta1"], setting["beta2"])
    opts = {k: (torch.optim.Adam(g.parameters(), lr=setting["lr"], betas=betas),
                torch.optim.Adam(d.parameters(), lr=setting["lr"], betas=betas)) for k, (g, d) in players.items()}
    train = TrainConfig(steps=steps, batch_size=setting["batch_size"], loss="nonsaturating", lr_g=setting["lr"],
                        lr_d=setting["lr"], beta1=setting["beta1"], beta2=setting["beta2"], amp=amp,
                        reuse_fakes=True, log_every=steps, progress=False)
    if setting["channels"] == 1:
        x = training_digits(False, setting["image_size"]).to(device)
    else:  # random images in [-1, 1], as many as 16 batches
        size = (16 * setting["batch_size"], setting["channels"], setting["image_size"], setting["image_size"])
        x = (torch.rand(size, generator=torch.Generator().manual_seed(0)) * 2 - 1).to(device)
    x = x.contiguous(memory_format=layout)
    reference_batches = torch.Generator().manual_seed(0)

    def timed(name: str) -> float:
        (g, d), (opt_g, opt_d) = players[name], opts[name]
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        if name != "reference":
            fit(g, d, x, dataclasses.replace(train, reuse_fakes=name == "fit"), opt_g=opt_g, opt_d=opt_d)
        else:
            reference_loop(g, d, x, opt_g, opt_d, steps, setting["batch_size"], reference_batches, amp)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return steps / (time.perf_counter() - start)

    for name in LOOPS:  # warm-up: first calls allocate, pick kernels, fill caches
        timed(name)
    rates: dict[str, list[float]] = {name: [] for name in LOOPS}
    for r in range(rounds):  # each loop goes first, second and third in turn
        for name in LOOPS[r % 3:] + LOOPS[:r % 3]:
            rates[name].append(timed(name))
    return rates


def spread(values: list[float]) -> str:
    """median [min, max]"""
    return f"{statistics.median(values):.3f} [{min(values):.3f}, {max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the quality runs")
    parser.add_argument("--recipes", nargs="+", choices=["dcgan", "cgan"], default=["dcgan", "cgan"])
    parser.add_argument("--threads", type=int, default=DCGANConfig.threads,
                        help="CPU threads for PyTorch, in the recipes and the throughput loops (1 on a busy machine)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating throughput rounds of each loop")
    parser.add_argument("--round-steps", type=int, default=10, help="training steps per throughput round")
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=["paper", "recipe"],
                        help="paper: the DCGAN paper's 64 x 64 x 3 players on random images; recipe: the course's "
                             "MNIST players")
    parser.add_argument("--skip-quality", action="store_true", help="only the throughput comparison")
    parser.add_argument("--skip-throughput", action="store_true", help="only the quality table")
    parser.add_argument("--fast", action="store_true", help="30 steps at width 16, 200 samples: checks the script runs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = get_device()
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""  # other programs' share
    print(f"dcgan benchmark: torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores{load}")
    if not args.skip_quality:
        quality(args.seeds, args.recipes, args.fast, args.threads)
    if args.skip_throughput:
        return
    rounds, steps = (3, 2) if args.fast else (args.rounds, args.round_steps)
    settings = [(False, False)] + ([(True, False), (False, True), (True, True)] if device.type == "cuda" else [])
    print(f"throughput: ganlab.fit against the reference loop, {rounds} rounds of {steps} steps in rotating order; "
          "each ratio is a loop's steps/s over the reference's in the same round, median [min, max]")
    print(f"{'setting':<7} {'amp':>4} {'channels_last':>13} {'fit steps/s':>11} {'ref steps/s':>11} "
          f"{'ratio':>22} {'fresh z ratio':>22}")
    for name in args.settings:
        setting = dict(SETTINGS[name], **(dict(width=8, batch_size=8) if args.fast else {}))
        for amp, channels_last in settings:
            rates = throughput(setting, rounds, steps, amp, channels_last)
            ratio = {k: [a / b for a, b in zip(rates[k], rates["reference"])] for k in ("fit", "fresh z")}
            print(f"{name:<7} {'on' if amp else 'off':>4} {'on' if channels_last else 'off':>13} "
                  f"{statistics.median(rates['fit']):>11.2f} {statistics.median(rates['reference']):>11.2f} "
                  f"{spread(ratio['fit']):>22} {spread(ratio['fresh z']):>22}", flush=True)


if __name__ == "__main__":
    main()

"""Benchmark of the `ganlab train dcgan` and `ganlab train cgan` recipes: quality, then speed.

    python benchmarks/dcgan.py                    # both recipes at their defaults, then throughput
    python benchmarks/dcgan.py --seeds 0 1 2      # quality over several seeds
    python benchmarks/dcgan.py --skip-quality     # only the throughput comparison
    python benchmarks/dcgan.py --fast             # a seconds-long smoke version

Quality: each recipe trains on the 4,000 training digits of the offline MNIST subset and its
final generator (the EMA) is scored by ``evaluate_images`` on the recipe's ``eval_samples``
images; FID and KID are shown beside the same scores of as many real training digits against
the 1,000 held-out ones, the floor at this sample size.

Throughput: steps per second of ``ganlab.fit`` against a plain PyTorch loop written out below
(the same players, batches, non-saturating loss and Adam optimisers, and no ganlab training
code), in alternating rounds so that a change in the machine's load hits both alike. On CUDA
each is also timed with mixed precision and channels_last on and off.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import tempfile
import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.env import get_device
from ganlab.image_recipes import DCGANConfig, build_players, default_dcgan, train_dcgan, training_digits
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
def plain_loop(G: nn.Module, D: nn.Module, x: torch.Tensor, opt_g: torch.optim.Optimizer,
               opt_d: torch.optim.Optimizer, steps: int, batch_size: int, batches: torch.Generator,
               amp: bool) -> None:
    """The DCGAN loop as one writes it by hand: a D step, then a G step, on the logits losses."""
    device = x.device
    dtype = torch.bfloat16 if device.type == "cpu" or torch.cuda.is_bf16_supported() else torch.float16
    autocast = torch.autocast(device.type, dtype=dtype) if amp else nullcontext()
    scaler = torch.amp.GradScaler(device.type) if amp and dtype == torch.float16 else None

    def backward_and_step(loss: torch.Tensor, opt: torch.optim.Optimizer) -> None:
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()

    for _ in range(steps):
        real = x[torch.randint(len(x), (batch_size,), generator=batches).to(device)]
        # D maximises log D(x) + log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1): BCE on logits
        opt_d.zero_grad(set_to_none=True)
        z = torch.randn(batch_size, G.latent_dim, generator=batches).to(device)
        with autocast:
            with torch.no_grad():
                fake = G(z)
            loss_d = F.softplus(-D(real).float()).mean() + F.softplus(D(fake).float()).mean()
        backward_and_step(loss_d, opt_d)
        # G minimises -log D(G(z)), the non-saturating loss
        opt_g.zero_grad(set_to_none=True)
        z = torch.randn(batch_size, G.latent_dim, generator=batches).to(device)
        D.requires_grad_(False)
        with autocast:
            loss_g = F.softplus(-D(G(z)).float()).mean()
        backward_and_step(loss_g, opt_g)
        D.requires_grad_(True)


def throughput(config: DCGANConfig, rounds: int, steps: int, amp: bool, channels_last: bool) -> tuple[float, float]:
    """Steps/s of fit and of the plain loop, alternating rounds of ``steps`` steps each."""
    device = get_device()
    layout = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(config.seed)
    G, D = build_players(dataclasses.replace(config, conditional=False))
    G, D = G.to(device, memory_format=layout), D.to(device, memory_format=layout)
    players = {"fit": (G, D), "plain": (copy.deepcopy(G), copy.deepcopy(D))}
    train = TrainConfig(steps=steps, batch_size=config.batch_size, loss="nonsaturating", lr_g=config.lr_g,
                        lr_d=config.lr_d, beta1=config.beta1, beta2=config.beta2, amp=amp, log_every=steps,
                        progress=False)
    opts = {k: (torch.optim.Adam(g.parameters(), lr=config.lr_g, betas=(config.beta1, config.beta2)),
                torch.optim.Adam(d.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2)))
            for k, (g, d) in players.items()}
    x = training_digits(False, config.image_size).to(device)
    plain_batches = torch.Generator().manual_seed(config.seed)
    seconds = {"fit": 0.0, "plain": 0.0}

    def timed(name: str) -> None:
        (g, d), (opt_g, opt_d) = players[name], opts[name]
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        if name == "fit":
            fit(g, d, x, train, opt_g=opt_g, opt_d=opt_d)
        else:
            plain_loop(g, d, x, opt_g, opt_d, steps, config.batch_size, plain_batches, amp)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds[name] += time.perf_counter() - start

    timed("fit")  # warm-up: first calls allocate, pick kernels, fill caches
    timed("plain")
    seconds = {"fit": 0.0, "plain": 0.0}
    for r in range(rounds):
        for name in (("fit", "plain") if r % 2 == 0 else ("plain", "fit")):
            timed(name)
    return rounds * steps / seconds["fit"], rounds * steps / seconds["plain"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the quality runs")
    parser.add_argument("--recipes", nargs="+", choices=["dcgan", "cgan"], default=["dcgan", "cgan"])
    parser.add_argument("--threads", type=int, default=DCGANConfig.threads,
                        help="CPU threads for PyTorch, in the recipes and the throughput loops (1 on a busy machine)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating throughput rounds of each loop")
    parser.add_argument("--round-steps", type=int, default=50, help="training steps per throughput round")
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
    config = dataclasses.replace(default_dcgan(), **(dict(width=16, batch_size=16) if args.fast else {}))
    rounds, steps = (2, 5) if args.fast else (args.rounds, args.round_steps)
    print(f"throughput: width {config.width}, batch {config.batch_size}, {rounds} alternating rounds of {steps} steps")
    print(f"{'amp':>4} {'channels_last':>13} {'fit steps/s':>11} {'plain steps/s':>13} {'ratio':>6}")
    settings = [(False, False)] + ([(True, False), (False, True), (True, True)] if device.type == "cuda" else [])
    for amp, channels_last in settings:
        fit_rate, plain_rate = throughput(config, rounds, steps, amp, channels_last)
        print(f"{'on' if amp else 'off':>4} {'on' if channels_last else 'off':>13} {fit_rate:>11.1f} "
              f"{plain_rate:>13.1f} {fit_rate / plain_rate:>6.3f}", flush=True)


if __name__ == "__main__":
    main()

"""Command line: ``ganlab train <recipe> [options]`` (also ``python -m ganlab ...``)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from typing import Sequence

from .losses import LOSSES
from .recipes import TOY2D_DATASETS, Toy2DConfig, default_toy2d, train_toy2d


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 1e-3, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.5, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganlab",
        description="Train the course's GANs from the command line. Runs offline on the data shipped "
                    "with the installed packages. Set GANLAB_FAST=1 for a seconds-long smoke run.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser("train", help="train a recipe and write a run folder",
                                description="Train a recipe and write plots, metrics and a checkpoint to a run folder.")
    recipes = train.add_subparsers(dest="recipe", metavar="RECIPE", required=True)

    d = default_toy2d()
    toy = recipes.add_parser(
        "toy2d", help="an MLP GAN on the ring of 8 or the grid of 25 Gaussians",
        description="Train an MLP GAN on a 2D mixture of Gaussians and score it as VEEGAN and PacGAN do: "
                    "modes covered, fraction of high-quality samples (within 3 sigma of a mode) and reverse KL, "
                    "on 2,500 samples. Writes samples.png, losses.png, metrics.json and checkpoint.pt into --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    toy.add_argument("--dataset", choices=TOY2D_DATASETS, default=d.dataset,
                     help="ring: 8 modes on the unit circle, sigma 0.01; grid: 25 modes at {-4,-2,0,2,4}^2, sigma 0.05")
    toy.add_argument("--loss", choices=sorted(LOSSES), default=d.loss,
                     help="the pair of losses: " + "; ".join(f"{k}: {v.about}" for k, v in sorted(LOSSES.items())))
    toy.add_argument("--steps", type=_positive_int, default=d.steps, help="generator updates (fast mode: 300)")
    toy.add_argument("--batch-size", type=_positive_int, default=d.batch_size, help="real and fake points per step")
    toy.add_argument("--lr", type=_positive_float, default=d.lr, help="Adam learning rate of both players")
    toy.add_argument("--lr-decay", type=_fraction, default=d.lr_decay,
                     help="fraction of the run, at its end, over which the learning rates fall linearly to 0 "
                          "(0: constant). Annealing stops the players circling the equilibrium, which sharpens "
                          "the samples around each mode")
    toy.add_argument("--width", type=_positive_int, default=d.width, help="hidden units per layer")
    toy.add_argument("--depth", type=_positive_int, default=d.depth, help="linear layers per player")
    toy.add_argument("--latent-dim", type=_positive_int, default=d.latent_dim, help="size of the noise vector z")
    toy.add_argument("--seed", type=_int_at_least(0), default=d.seed, help="random seed (non-negative) for a reproducible run")
    toy.add_argument("--out", default=d.out, help="run folder for plots, metrics.json and checkpoint.pt")
    toy.add_argument("--resume", action="store_true",
                     help="continue from OUT/checkpoint.pt if it exists (same options as the first run)")
    toy.add_argument("--threads", type=_positive_int, default=1,
                     help="CPU threads for PyTorch. These networks are tiny: one thread is as fast as several, "
                          "and far faster when other programs keep the cores busy")
    toy.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _run_toy2d(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    fields = {f.name for f in dataclasses.fields(Toy2DConfig)}
    config = Toy2DConfig(**{k: v for k, v in vars(args).items() if k in fields})
    result = train_toy2d(config, resume=args.resume, progress=not args.no_progress)
    covered = f"{result['modes_covered']}/{result['n_modes']}"
    print(f"modes covered {covered}, high quality {100 * result['high_quality']:.1f}%, "
          f"reverse KL {result['reverse_kl']:.3f}, {result['train_seconds']:.1f} s of training")
    print(f"wrote {config.out}/samples.png, losses.png, metrics.json, checkpoint.pt")
    return 130 if result["interrupted"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command line draws to files, never to a window
    args = build_parser().parse_args(argv)
    from .checkpoint import CheckpointError
    from .train import TrainingDiverged

    try:
        if args.command == "train" and args.recipe == "toy2d":
            return _run_toy2d(args)
    except (CheckpointError, TrainingDiverged, ValueError) as err:
        print(f"ganlab: error: {err}", file=sys.stderr)
        return 2
    raise AssertionError(f"unhandled command {args.command} {args.recipe}")


if __name__ == "__main__":
    sys.exit(main())

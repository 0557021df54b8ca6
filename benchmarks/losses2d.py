"""Benchmark of the GAN losses in ganlab.LOSSES on the ring of 8 and the grid of 25.

    python benchmarks/losses2d.py                          # every loss, both datasets, 5 seeds
    python benchmarks/losses2d.py --datasets grid --losses nonsaturating hinge r1:1 --seeds 2
    python benchmarks/losses2d.py --recommended            # the course's recommended setting, both datasets
    python benchmarks/losses2d.py --fast                   # a seconds-long smoke version
    python benchmarks/losses2d.py --csv runs/losses2d.csv  # also write one row per run

Every run uses the nets and settings of the `ganlab train toy2d` recipe (Toy2DConfig), except
where OVERRIDES below says a loss was published with other settings. A loss written NAME:W
(e.g. r1:1, wgan-gp:1) is NAME with its penalty weight (R1's gamma, WGAN-GP's lambda) set to W;
NAME@LR (e.g. hinge@2e-3, r1:1@3e-3) trains both players with Adam at learning rate LR; the name
"recommended" is the course's recommended setting (PRESETS below).

Scores 2,500 samples per run as VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018)
do; the table ends with their published numbers for comparison. Seconds are wall-clock seconds
of training on this machine, one run at a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import time

import torch

from ganlab import data, losses
from ganlab.env import seed_everything
from ganlab.metrics import evaluate_generator
from ganlab.nets import MLPDiscriminator, MLPGenerator
from ganlab.recipes import Toy2DConfig
from ganlab.train import TrainingDiverged, fit

from csv_rows import row_writer  # benchmarks/csv_rows.py

# Settings that differ from the toy2d recipe (Adam, lr 1e-3, betas (0.5, 0.999), one D step per
# G step) because the paper that introduced the loss trained it that way:
# - wgan: Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017, arXiv:1701.07875, Algorithm 1:
#   RMSProp with learning rate 5e-5 and 5 critic steps per generator step (clip 0.01 is in the loss).
# - wgan-gp: Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville, "Improved Training of Wasserstein
#   GANs", NeurIPS 2017, arXiv:1704.00028, Algorithm 1: Adam with learning rate 1e-4,
#   betas (0, 0.9), and 5 critic steps per generator step.
# The other losses (minimax, nonsaturating, lsgan, hinge, r1) run at the recipe's settings.
OVERRIDES: dict[str, dict] = {
    "wgan": {"optimizer": "rmsprop", "lr": 5e-5, "n_critic": 5},
    "wgan-gp": {"lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "n_critic": 5},
}

# Published numbers, quoted from the papers' tables of their 2D ring and grid experiments
# (2,500 samples per run, high quality = within 3 sigma of a mode), not measured here:
# VEEGAN: Srivastava, Valkov, Russell, Gutmann & Sutton, "VEEGAN: Reducing Mode Collapse in GANs
#   using Implicit Variational Learning", NeurIPS 2017, arXiv:1705.07761 (its GAN row and its own);
# PacGAN: Lin, Khetan, Fanti & Oh, "PacGAN: The Power of Two Samples in Generative Adversarial
#   Networks", NeurIPS 2018, arXiv:1712.04086 (PacGAN4: the discriminator sees 4 samples at once).
PUBLISHED = [
    # (dataset, method, modes, high-quality %)
    ("ring", "GAN (VEEGAN paper)", 1.0, 99.3),
    ("ring", "VEEGAN", 8.0, 52.9),
    ("ring", "PacGAN4", 7.8, 95.9),
    ("grid", "GAN (VEEGAN paper)", 3.3, 0.5),
    ("grid", "VEEGAN", 24.6, 40.0),
    ("grid", "PacGAN4", 24.8, 93.6),
]

# The course's recommendation for these 2D problems (chapter 02): the non-saturating loss with R1
# (Mescheder et al. 2018) at gamma = 1, Adam at 3e-3 with beta2 = 0.99, otherwise the toy2d recipe.
# gamma = 10, the image-scale default, flattens D too much for data of unit scale (chapter 02,
# section 4); the larger learning rate and the shorter memory of Adam's second moment let G
# sharpen the transitions between modes within the same 14,000 steps.
RECOMMENDED = "recommended"
PRESETS: dict[str, tuple[str, dict]] = {RECOMMENDED: ("r1:1@3e-3", {"beta2": 0.99})}
FAST_LOSSES = ["nonsaturating", "hinge"]
CSV_FIELDS = ["dataset", "loss", "seed", "steps", "modes_covered", "n_modes", "high_quality", "reverse_kl", "diverged",
              "seconds"]
COLUMNS = f"{'dataset':<8} {'loss':<18} {'runs':>4} {'modes':>14} {'high quality %':>14} {'reverse KL':>14} {'seconds':>12}"


def parse_spec(spec: str) -> tuple[str, float | None, dict]:
    """NAME[:WEIGHT][@LR], or a preset's name -> (loss name, penalty weight or None, settings)."""
    if spec in PRESETS:
        base, extra = PRESETS[spec]
        name, weight, settings = parse_spec(base)
        return name, weight, settings | extra
    rest, _, lr = spec.partition("@")
    name, _, weight = rest.partition(":")
    try:
        return name, float(weight) if weight else None, {"lr": float(lr)} if lr else {}
    except ValueError:
        raise ValueError(f"cannot read {spec!r}: write NAME, NAME:WEIGHT, NAME@LR or NAME:WEIGHT@LR, "
                         f"e.g. r1:1@3e-3") from None


def resolve_loss(spec: str) -> losses.GANLoss:
    """The loss to train ``spec`` with: NAME, with its penalty set to WEIGHT if given."""
    name, weight, _ = parse_spec(spec)
    base = losses.get_loss(name)
    return losses.with_penalty_weight(base, weight) if weight is not None else base


def run_once(dataset: str, loss: str, seed: int, recipe: Toy2DConfig) -> dict:
    """Train one GAN with the recipe's nets and the loss's settings; return its scores."""
    name, _, spec_settings = parse_spec(loss)
    settings = OVERRIDES.get(name, {}) | spec_settings
    seed_everything(seed)
    mixture = data.toy(dataset)
    G = MLPGenerator(latent_dim=recipe.latent_dim, out_dim=2, width=recipe.width, depth=recipe.depth)
    D = MLPDiscriminator(in_dim=2, width=recipe.width, depth=recipe.depth)
    lr = settings.get("lr", recipe.lr)
    base = dataclasses.replace(recipe, seed=seed).train_config(progress=False)
    adam_and_critic = {k: v for k, v in settings.items() if k in ("beta1", "beta2", "n_critic")}
    config = dataclasses.replace(base, loss=name, lr_g=lr, lr_d=lr, log_every=recipe.steps,
                                 **adam_and_critic)
    optimizers = {}
    if settings.get("optimizer") == "rmsprop":
        optimizers = {"opt_g": torch.optim.RMSprop(G.parameters(), lr=lr),
                      "opt_d": torch.optim.RMSprop(D.parameters(), lr=lr)}
    start = time.perf_counter()
    diverged = False
    try:
        fit(G, D, mixture.sample, config, loss=resolve_loss(loss), **optimizers)
    except TrainingDiverged:
        diverged = True
    seconds = time.perf_counter() - start
    try:
        scores = evaluate_generator(G, mixture)
    except ValueError:  # NaN samples
        diverged = True
    if diverged:
        scores = {"modes_covered": 0, "n_modes": mixture.n_modes, "high_quality": 0.0, "reverse_kl": math.inf}
    return {"dataset": dataset, "loss": loss, "seed": seed, "steps": recipe.steps, **scores,
            "diverged": diverged, "seconds": round(seconds, 2)}


def mean_sd(values: list[float], digits: int) -> str:
    if any(math.isinf(v) for v in values):
        return "inf"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--losses", nargs="+", default=None,
                        help=f"names in ganlab.LOSSES, as NAME[:PENALTY_WEIGHT][@LR] (default: all of "
                             f"{list(losses.LOSSES)}, then the recommended {RECOMMENDED})")
    parser.add_argument("--recommended", action="store_true",
                        help=f"run only the course's recommended setting, {RECOMMENDED}")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="override the recipe's step count")
    parser.add_argument("--width", type=int, default=None, help="override the recipe's hidden width")
    parser.add_argument("--latent-dim", type=int, default=None, help="override the recipe's latent dimension")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch (as `ganlab train toy2d`)")
    parser.add_argument("--fast", action="store_true",
                        help=f"200 steps, 2 seeds, losses {' '.join(FAST_LOSSES)} unless --losses: checks the script runs")
    parser.add_argument("--csv", default=None, metavar="PATH", help="also write one row per run to this CSV file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    loss_specs = ([RECOMMENDED] if args.recommended else args.losses
                  or (FAST_LOSSES if args.fast else list(losses.LOSSES) + [RECOMMENDED]))
    for spec in loss_specs:
        try:
            resolve_loss(spec)  # fails early on an unknown name or a loss without a penalty
        except ValueError as err:
            parser.error(str(err))
    overrides = {"steps": 200 if args.fast else (args.steps or Toy2DConfig.steps)}
    if args.width:
        overrides["width"] = args.width
    if args.latent_dim:
        overrides["latent_dim"] = args.latent_dim
    recipe = dataclasses.replace(Toy2DConfig(), **overrides)
    seeds = 2 if args.fast else args.seeds

    print(f"losses2d benchmark: {recipe.steps} steps, {seeds} seeds, width {recipe.width}, depth {recipe.depth}, "
          f"latent {recipe.latent_dim}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores")
    print(COLUMNS)
    write_row = row_writer(args.csv, CSV_FIELDS)
    n_rows = 0
    for dataset in args.datasets:
        for spec in loss_specs:
            runs = []
            for seed in range(seeds):
                runs.append(run_once(dataset, spec, seed, recipe))
                write_row(runs[-1])
                n_rows += 1
            n_modes = runs[0]["n_modes"]
            diverged = sum(r["diverged"] for r in runs)
            label = spec + (" *" if spec == RECOMMENDED else "")
            print(f"{dataset:<8} {label:<18} {len(runs):>4} "
                  f"{mean_sd([r['modes_covered'] for r in runs], 1) + f' /{n_modes}':>14} "
                  f"{mean_sd([100 * r['high_quality'] for r in runs], 1):>14} "
                  f"{mean_sd([r['reverse_kl'] for r in runs], 3):>14} "
                  f"{mean_sd([r['seconds'] for r in runs], 1):>12}"
                  + (f"  ({diverged} diverged)" if diverged else ""), flush=True)

    if RECOMMENDED in loss_specs:
        print(f"* the course's recommended setting: non-saturating loss with R1 at gamma 1, Adam 3e-3 with betas "
              f"(0.5, 0.99) ({PRESETS[RECOMMENDED]})")
    print("published (quoted from the papers' tables, not run here):")
    for dataset, method, modes, quality in PUBLISHED:
        if dataset in args.datasets:
            print(f"{dataset:<8} {method:<18} {'-':>4} {f'{modes:.1f} /{data.toy(dataset).n_modes}':>14} "
                  f"{quality:>14.1f} {'-':>14} {'-':>12}")

    if args.csv:
        print(f"wrote {n_rows} runs to {args.csv}")


if __name__ == "__main__":
    main()

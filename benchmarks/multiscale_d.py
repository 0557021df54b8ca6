"""Benchmark: the DCGAN recipe's generator against four discriminators: the recipe's own, one PatchGAN, and
pix2pixHD's multi-scale D with two and with three scales.

    python benchmarks/multiscale_d.py                              # every variant, seeds 0 and 1
    python benchmarks/multiscale_d.py --jobs 2 --threads 1 --csv benchmarks/results/multiscale_d.csv
    python benchmarks/multiscale_d.py --variants patchgan multiscale-3 --n-layers 2 --seeds 0 1 2
    python benchmarks/multiscale_d.py --fast                       # a seconds-long smoke version

Every run is the recipe of ``ganlab train dcgan`` at its defaults (4,000 digits padded to 32 px,
3,000 steps, batch 64, Adam 2e-3 with beta1 0.5, the non-saturating loss, EMA of G scored on
2,000 samples) with only D changed, built here from the recipe's public pieces
(``default_dcgan``, ``build_players``, ``training_digits``, ``evaluate_generator_images``) and
``ganlab.fit``. Each seed draws the same G for every variant. The PatchGANs (Isola et al. 2017,
arXiv:1611.07004) are pix2pixHD's (Wang et al. 2018, arXiv:1711.11585, sec. 3.2) at the recipe's
width: ``--n-layers`` stride-2 convs; with the default 1, one logit of the finest scale judges a
16 x 16 patch of the 32 px digit, one of the second scale 33 px (the whole digit at half size),
one of the third 67 px. At width 32 the recipe's D has 166,784 weights and each one-layer
PatchGAN 34,401; ``--n-layers 2`` gives a PatchGAN of 166,625, as many as the recipe's D, whose
logits already see 34 px, the whole digit. A row gives the image scores of ``evaluate_images``,
D's parameter count and the seconds of training.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import statistics
import time

from torch import nn

from ganlab.env import get_device, seed_everything
from ganlab.image_recipes import build_players, default_dcgan, evaluate_generator_images, training_digits
from ganlab.loop import TrainingDiverged
from ganlab.multiscale import NORMS, WEIGHTINGS, MultiScaleDiscriminator, PatchGANDiscriminator, receptive_field
from ganlab.recipes import cpu_threads
from ganlab.train import ema_of, fit

from csv_rows import row_writer  # benchmarks/csv_rows.py

# name -> (scales of PatchGANs, 0 for the recipe's DCGAN D; what D is)
VARIANTS: dict[str, tuple[int, str]] = {
    "dcgan": (0, "the recipe's D: DCGAN, one logit per image"),
    "patchgan": (1, "one PatchGAN: a logit per patch of the 32 px digit"),
    "multiscale-2": (2, "PatchGANs at 32 and 16 px"),
    "multiscale-3": (3, "PatchGANs at 32, 16 and 8 px (pix2pixHD's three scales)"),
}
FIELDS = ["variant", "seed", "fid", "kid", "precision", "recall", "classes_covered", "d_params", "train_seconds",
          "status"]
SCORES = ("fid", "kid", "precision", "recall", "classes_covered")


def discriminator(variant: str, width: int, n_layers: int, norm: str, weighting: str) -> nn.Module | None:
    """The D of ``variant`` for one-channel digits; None for the recipe's own."""
    n_scales = VARIANTS[variant][0]
    if n_scales == 0:
        return None
    if n_scales == 1:
        return PatchGANDiscriminator(channels=1, width=width, n_layers=n_layers, norm=norm)  # (N, 1, h, w) logits
    return MultiScaleDiscriminator(channels=1, width=width, n_scales=n_scales, n_layers=n_layers, norm=norm,
                                   weighting=weighting)  # (N, T) logits


def run(variant: str, seed: int, threads: int, fast: bool, n_layers: int, norm: str, weighting: str) -> dict:
    """One training run of ``variant``; the row of the CSV."""
    # fast: ema 0.5 as default_dcgan's fast mode, so that 20 steps show in the scores
    sizes = dict(steps=20, sample_every=20, eval_samples=200, width=8, ema=0.5) if fast else {}
    config = default_dcgan(seed=seed, threads=threads, **sizes)
    with cpu_threads(config.threads):
        seed_everything(config.seed)
        G, D = build_players(config)  # G first, so each seed starts every variant from the same G
        patch_d = discriminator(variant, config.width, n_layers, norm, weighting)
        D = D if patch_d is None else patch_d
        device = get_device()
        G, D = G.to(device), D.to(device)
        ema = ema_of(G, config.ema) if config.ema else None
        digits = training_digits(False, config.image_size, config.train_digits)  # (4000, 1, 32, 32) in [-1, 1]
        start = time.perf_counter()
        try:
            fit(G, D, digits, config.train_config(progress=False), loss=config.gan_loss(), ema=ema)
            status = "finished"
        except TrainingDiverged:
            status = "diverged"
        seconds = time.perf_counter() - start
        scores = (evaluate_generator_images(G if ema is None else ema.module, config) if status == "finished"
                  else dict.fromkeys(SCORES, math.nan))
    return {"variant": variant, "seed": seed, **{k: scores[k] for k in SCORES},
            "d_params": sum(p.numel() for p in D.parameters()), "train_seconds": round(seconds, 1), "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n-layers", type=int, default=1, help="stride-2 convs of each PatchGAN (pix2pixHD: 3)")
    parser.add_argument("--norm", choices=list(NORMS), default="instance", help="the PatchGANs' normalisation")
    parser.add_argument("--weighting", choices=list(WEIGHTINGS), default="scale",
                        help="how the multi-scale D's scales add up in the losses (see ganlab.multiscale)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, each in its own process")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    parser.add_argument("--csv", default=None, metavar="PATH", help="also write one row per run to this CSV file")
    parser.add_argument("--fast", action="store_true", help="20 steps at width 8, 200 samples: checks the script runs")
    args = parser.parse_args()
    if args.n_layers < 1:
        parser.error(f"--n-layers must be a positive integer, got {args.n_layers}")

    steps = "20 steps, width 8 (--fast)" if args.fast else "3,000 steps"
    fields = "/".join(str(receptive_field(args.n_layers, k)) for k in range(3))
    print(f"multi-scale D benchmark: {steps}, seeds {args.seeds}; PatchGANs of {args.n_layers} stride-2 layer(s), "
          f"{args.norm} norm, {args.weighting} weighting; a logit sees {fields} px at scales 0/1/2")
    columns = ("variant", "seed", "FID", "KID", "prec", "recall", "classes", "D params", "s")
    print("{:<14}{:>5}{:>8}{:>9}{:>6}{:>7}{:>8}{:>10}{:>6}".format(*columns))
    write_row, rows = row_writer(args.csv, FIELDS), []
    jobs = [(v, s) for v in args.variants for s in args.seeds]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, v, s, args.threads, args.fast, args.n_layers, args.norm, args.weighting)
                   for v, s in jobs]
        for future in futures:  # in order, so the table reads variant by variant
            row = future.result()
            rows.append(row)
            print(f"{row['variant']:<14}{row['seed']:>5}{row['fid']:>8.1f}{row['kid']:>9.2f}"
                  f"{row['precision']:>6.2f}{row['recall']:>7.2f}{row['classes_covered']:>5}/10{row['d_params']:>10,}"
                  f"{row['train_seconds']:>6.0f}" + ("  diverged" if row["status"] != "finished" else ""), flush=True)
            write_row(row)
    print("\nmean over seeds:")
    for variant in args.variants:
        mine = [r for r in rows if r["variant"] == variant]
        mean = {k: statistics.mean(r[k] for r in mine) for k in (*SCORES, "train_seconds")}
        print(f"{variant:<14} FID {mean['fid']:6.1f}  KID {mean['kid']:6.2f}  precision {mean['precision']:.2f}  "
              f"recall {mean['recall']:.2f}  classes {mean['classes_covered']:4.1f}  D params {mine[0]['d_params']:,}"
              f"  {mean['train_seconds']:4.0f} s   {VARIANTS[variant][1]}")


if __name__ == "__main__":
    main()

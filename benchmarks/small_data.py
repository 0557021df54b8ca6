"""Benchmark: the DCGAN recipe on few digits, with the remedies of Salimans et al. 2016 and DiffAugment,
and the cGAN recipe with an AC-GAN discriminator against the projection discriminator.

    python benchmarks/small_data.py                              # every variant, seeds 0 and 1
    python benchmarks/small_data.py --jobs 2 --threads 1 --csv benchmarks/results/small_data.csv
    python benchmarks/small_data.py --variants baseline diffaugment --seeds 0 1 2
    python benchmarks/small_data.py --fast                       # a seconds-long smoke version

Every run is the recipe of ``ganlab train dcgan`` (or ``cgan``) at its defaults (3,000 steps,
batch 64, EMA of G scored on 2,000 samples) with one thing changed, so each row differs from
its baseline in that one thing. Besides the image scores of ``evaluate_images`` each row gives
D's mean logit on digits it trained on and on held-out digits (``discriminator_logits``): a
gap between the two is D memorising its training set. Chapter 04 reads the CSV this writes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import tempfile

from csv_rows import row_writer  # benchmarks/csv_rows.py


# name -> (conditional, overrides of the recipe's defaults, what changes)
VARIANTS: dict[str, tuple[bool, dict, str]] = {
    "baseline": (False, {}, "the dcgan recipe, 4,000 digits"),
    "label-smoothing": (False, {"real_label": 0.9}, "one-sided label smoothing, real label 0.9"),
    "feature-matching": (False, {"feature_matching": True}, "G matches D's mean features"),
    "minibatch-disc": (False, {"minibatch_kernels": 32}, "minibatch discrimination, 32 kernels of 8"),
    "diffaugment": (False, {"augment": "translation,cutout"}, "DiffAugment translation + cutout"),
    "baseline-500": (False, {"train_digits": 500}, "the dcgan recipe, 500 digits"),
    "diffaugment-500": (False, {"train_digits": 500, "augment": "translation,cutout"}, "DiffAugment, 500 digits"),
    "projection": (True, {}, "the cgan recipe: projection D"),
    "acgan": (True, {"conditional_d": "acgan"}, "AC-GAN D, same G"),
    "acgan-real": (True, {"conditional_d": "acgan-real"}, "AC-GAN D whose class head learns from real digits only"),
}
FIELDS = ["variant", "seed", "fid", "kid", "precision", "recall", "classes_covered", "label_kl", "confident_fraction",
          "conditional_accuracy", "d_logit_train", "d_logit_heldout", "train_seconds"]


def run(variant: str, seed: int, threads: int, fast: bool, folder: str) -> dict:
    """One training run of ``variant``; the row of the CSV."""
    from ganlab.image_recipes import default_dcgan, train_dcgan

    conditional, overrides, _ = VARIANTS[variant]
    sizes = dict(steps=30, sample_every=30, eval_samples=200, width=16) if fast else {}
    config = default_dcgan(conditional, seed=seed, threads=threads, out=os.path.join(folder, f"{variant}-{seed}"),
                           **overrides, **sizes)
    r = train_dcgan(config, progress=False)
    return {"variant": variant, "seed": seed, **{k: r.get(k, "") for k in FIELDS[2:]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, each in its own process")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    parser.add_argument("--csv", default=None, metavar="PATH", help="also write one row per run to this CSV file")
    parser.add_argument("--fast", action="store_true", help="30 steps at width 16, 200 samples: checks the script runs")
    args = parser.parse_args()

    steps = "30 steps, width 16 (--fast)" if args.fast else "3,000 steps"
    print(f"small-data benchmark: {steps}, seeds {args.seeds}")
    columns = ("variant", "seed", "FID", "KID", "prec", "recall", "classes", "cond acc", "D train", "D held-out", "s")
    print("{:<17}{:>5}{:>8}{:>7}{:>6}{:>7}{:>8}{:>9}{:>8}{:>11}{:>6}".format(*columns))
    write_row, rows = row_writer(args.csv, FIELDS), []
    jobs = [(v, s) for v in args.variants for s in args.seeds]
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, v, s, args.threads, args.fast, tmp) for v, s in jobs]
        for future in futures:  # in order, so the table reads variant by variant
            row = future.result()
            rows.append(row)
            acc = f"{100 * row['conditional_accuracy']:.1f}%" if row["conditional_accuracy"] != "" else "-"
            print(f"{row['variant']:<17}{row['seed']:>5}{row['fid']:>8.1f}{row['kid']:>7.2f}{row['precision']:>6.2f}"
                  f"{row['recall']:>7.2f}{row['classes_covered']:>5}/10{acc:>9}{row['d_logit_train']:>8.2f}"
                  f"{row['d_logit_heldout']:>11.2f}{row['train_seconds']:>6.0f}", flush=True)
            write_row(row)
    print("\nmean over seeds:")
    for variant in args.variants:
        mine = [r for r in rows if r["variant"] == variant]
        fid = statistics.mean(r["fid"] for r in mine)
        recall = statistics.mean(r["recall"] for r in mine)
        gap = statistics.mean(r["d_logit_train"] - r["d_logit_heldout"] for r in mine)
        print(f"{variant:<17} FID {fid:6.1f}  recall {recall:.2f}  D gap (train - held-out) {gap:5.2f}   "
              f"{VARIANTS[variant][2]}")


if __name__ == "__main__":
    main()

"""Benchmark: chapter 05's generators side by side on MNIST at 32 px, on one budget of generator updates.

    python benchmarks/multiscale_models.py                     # every model, seeds 0, 1 and 2
    python benchmarks/multiscale_models.py --jobs 2 --threads 1 --csv benchmarks/results/multiscale_models.csv
    python benchmarks/multiscale_models.py --models lapgan progressive --seeds 0
    python benchmarks/multiscale_models.py --fast              # a seconds-long smoke version

Each model trains through its own recipe on the 4,000 training digits padded to 32 px, for the
same number of generator updates at batch 64 (``--steps``, 3,000 by default: the dcgan recipe's),
so D sees as many real images in every run, the unit in which Karras et al. 2018 and 2019 count
training. How the updates are spent is each model's own:

- dcgan: the ``dcgan`` recipe of chapter 03 (DCGAN G and D, Adam 2e-3, EMA of G);
- style: the same recipe with the style-based generator (``generator="style"``), against the same D;
- lapgan: LAPGAN's three GANs, with the updates split 1/2, 1/3 and 1/6 over 8, 16 and 32 px
  (about the recipe's proportions; its levels are scored as the chain coarse to fine, no EMA);
- lapgan-recipe: LAPGAN with the recipe's own 4,000 + 3,000 + 1,500 updates, whatever ``--steps``
  says: a step at 8 or 16 px is cheap, so this takes about as long as the DCGAN's 3,000;
- progressive: 1/5 of the updates at 8 px, then 2/5 at 16 and 2/5 at 32 px, each half fade-in and
  half stabilisation (the recipe, EMA of G).

Every row also gives the size of G (all levels together for LAPGAN). ``--models`` also takes
progressive growing with one of its ingredients switched off (``ABLATIONS``).

Seconds of training are measured and printed beside the scores: a step at 8 or 16 px costs a
fraction of one at 32 px, so the multi-scale models reach the budget sooner. Scores are those of
``ganlab.image_metrics.evaluate_images`` on 2,000 samples against the 1,000 held-out digits.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import tempfile

from csv_rows import row_writer  # benchmarks/csv_rows.py

MODELS = {
    "dcgan": "DCGAN (chapter 03's recipe)",
    "lapgan": "LAPGAN, 8 -> 16 -> 32 px",
    "lapgan-recipe": "LAPGAN, the recipe's 4,000 + 3,000 + 1,500 updates",
    "progressive": "progressive growing, 8 -> 16 -> 32 px",
    "style": "style-based G, the DCGAN's D",
}
# progressive growing with one ingredient switched off (not run by default: --models progressive-no-equalized ...)
ABLATIONS = {
    "progressive-no-equalized": ({"equalized": False}, "progressive, He init stored in the weights (no equalised lr)"),
    "progressive-no-pixel-norm": ({"pixel_norm": False}, "progressive, no pixel-wise feature normalisation"),
    "progressive-no-minibatch-std": ({"minibatch_std": False}, "progressive, no minibatch standard deviation in D"),
    "progressive-keep-adam": ({"reset_adam": False}, "progressive, Adam's moments kept when the networks grow"),
}
NAMES = {**MODELS, **{k: about for k, (_, about) in ABLATIONS.items()}}
FIELDS = ["model", "seed", "steps", "fid", "kid", "precision", "recall", "classes_covered", "g_params",
          "train_seconds"]
SCORES = ("fid", "kid", "precision", "recall", "classes_covered", "train_seconds")


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def run(model: str, seed: int, steps: int, threads: int, fast: bool, folder: str) -> dict:
    """One training run of ``model`` for ``steps`` generator updates; the row of the CSV."""
    out = os.path.join(folder, f"{model}-{seed}")
    common = dict(seed=seed, threads=threads, out=out, **({"eval_samples": 200} if fast else {}))
    if model in ("dcgan", "style"):
        from ganlab.image_recipes import build_players, default_dcgan, train_dcgan
        config = default_dcgan(steps=steps, sample_every=steps, generator="dcgan" if model == "dcgan" else "style",
                               **({"width": 16} if fast else {}), **common)
        result, G = train_dcgan(config, progress=False), build_players(config)[0]
    elif model in ("lapgan", "lapgan-recipe"):
        from ganlab.lapgan_train import LAPGANConfig, build_levels, default_lapgan, train_lapgan
        split = (steps // 2, steps // 3, steps - steps // 2 - steps // 3)
        if model == "lapgan-recipe":  # the recipe's own split, whatever --steps says (--fast: a tenth of --steps each)
            split = (steps // 10,) * 3 if fast else LAPGANConfig.steps
        config = default_lapgan(steps=split, sample_every=max(split), **common)
        result, G = train_lapgan(config, progress=False), [g for g, _ in build_levels(config)]
    else:  # progressive, or one of its ablations
        from ganlab.progressive_train import build_players, default_progressive, train_progressive
        fifth = steps // 5  # five phases of equal length: 8 px; fade-in and stable at 16 px; the same at 32 px
        switched = ABLATIONS[model][0] if model in ABLATIONS else {}
        config = default_progressive(stable_steps=fifth, fade_steps=fifth, **switched, **common)
        result, G = train_progressive(config, progress=False), build_players(config)[0]
    params = sum(n_params(g) for g in G) if isinstance(G, list) else n_params(G)
    done = sum(result["steps_done"]) if isinstance(result["steps_done"], list) else result["steps_done"]
    return {"model": model, "seed": seed, "steps": done, "g_params": params, **{k: result[k] for k in SCORES}}


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=list(NAMES), default=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=3000, help="generator updates of every model")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, each in its own process")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    parser.add_argument("--csv", default=None, metavar="PATH", help="also write one row per run to this CSV file")
    parser.add_argument("--fast", action="store_true", help="10 steps, 200 samples: checks the script runs")
    args = parser.parse_args()
    steps = 10 if args.fast else args.steps
    if steps < 10:
        parser.error("--steps must be at least 10, so that every level and phase of every model trains")

    print(f"multi-scale generators on MNIST at 32 px: {steps} generator updates at batch 64, seeds {args.seeds}")
    print("{:<29}{:>5}{:>8}{:>8}{:>7}{:>8}{:>9}{:>10}{:>7}".format(
        "model", "seed", "FID", "KID", "prec", "recall", "classes", "G params", "s"))
    write_row, rows = row_writer(args.csv, FIELDS), []
    jobs = [(m, s) for m in args.models for s in args.seeds]
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, m, s, steps, args.threads, args.fast, tmp) for m, s in jobs]
        for future in futures:  # in order, so the table reads model by model
            row = future.result()
            rows.append(row)
            print(f"{row['model']:<29}{row['seed']:>5}{row['fid']:>8.1f}{row['kid']:>8.2f}{row['precision']:>7.2f}"
                  f"{row['recall']:>8.2f}{row['classes_covered']:>6}/10{row['g_params']:>10,}"
                  f"{row['train_seconds']:>7.0f}", flush=True)
            write_row(row)
    print(f"\nmean ± standard deviation over seeds {args.seeds}:")
    print("| model | FID | KID | precision | recall | classes | G's weights | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for model in args.models:
        mine = [r for r in rows if r["model"] == model]
        cells = []
        for key, digits in (("fid", 1), ("kid", 2), ("precision", 2), ("recall", 2), ("classes_covered", 1),
                            ("train_seconds", 0)):
            m, sd = mean_sd([float(r[key]) for r in mine])
            cells.append(f"{m:.{digits}f} ± {sd:.{digits}f}")
        cells.insert(5, f"{mine[0]['g_params']:,}")
        print(f"| {NAMES[model]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

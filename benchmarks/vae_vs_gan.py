"""Benchmark: the VAE against chapter 03's GAN on the same digits, with the same image scores, and the VAE's likelihood.

    python benchmarks/vae_vs_gan.py                                # one seed, two runs at a time
    python benchmarks/vae_vs_gan.py --seeds 0 1 --csv benchmarks/results/vae_vs_gan.csv
    python benchmarks/vae_vs_gan.py --fast                         # a seconds-long smoke version

Rows, each trained from scratch by its recipe at its defaults:

- ``dcgan``: ``ganlab train dcgan`` (chapter 03), one thread;
- ``vae``: ``ganlab train vae`` (a convolutional VAE, 16-dimensional z, Bernoulli decoder on binarised digits,
  3,000 Adam steps at batch 64);
- ``vae+gan``: the same VAE with ``--adversarial`` (default 3) times a non-saturating GAN loss on the decoder's
  mean images at z ~ N(0, I), against a DCGAN discriminator (a VAE-GAN in the spirit of Larsen et al. 2016);

and two references that need no training: ``independent pixels``, the per-pixel Bernoulli fitted to the training
digits (its samples are binary draws), and ``training digits``, 2,000 real training digits scored as if they were
samples (the floor the image scores can reach against the held-out digits).

Every image score is ``evaluate_images`` on 2,000 samples against the 1,000 held-out digits (FID and KID on the
course classifier's features, precision and recall with k = 3, classes covered). The log-likelihood is of the
1,000 held-out digits binarised once with a fixed seed, in nats per image: the importance-weighted bound with
k = 64 for the VAEs (a lower bound on log p(x)), exact for the independent pixels; a GAN has none.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import time

import torch

from csv_rows import row_writer  # benchmarks/csv_rows.py

FIELDS = ["model", "seed", "log_likelihood", "fid", "kid", "precision", "recall", "classes_covered", "train_seconds"]
SCORES = ("fid", "kid", "precision", "recall", "classes_covered")


def train(model: str, seed: int, adversarial: float, folder: str, quick: bool) -> dict:
    if quick:
        os.environ["GANLAB_FAST"] = "1"
    out = os.path.join(folder, f"{model.replace('+', '_')}_seed{seed}")
    if model == "dcgan":
        from ganlab.image_recipes import default_dcgan, train_dcgan

        r = train_dcgan(default_dcgan(seed=seed, threads=1, out=out), progress=False)
        likelihood = None
    else:
        from ganlab.vae_train import default_vae, train_vae

        r = train_vae(default_vae(seed=seed, threads=1, adversarial=adversarial if model == "vae+gan" else 0.0,
                                  out=out), progress=False)
        likelihood = r["iwae"]
    return {"model": model, "seed": seed, "log_likelihood": likelihood, **{k: r[k] for k in SCORES},
            "train_seconds": r["train_seconds"]}


def references(n: int) -> list[dict]:
    """The two rows that need no training: independent pixels and real training digits."""
    from ganlab.image_metrics import evaluate_images
    from ganlab.image_recipes import training_digits
    from ganlab.vae import binarize, pixel_bernoulli_log_likelihood
    from ganlab.vae_train import heldout_digits

    torch.set_num_threads(1)
    train = training_digits(image_size=28)
    g = torch.Generator().manual_seed(0)
    mean = train.mean(dim=0, keepdim=True)
    pixels = binarize(mean.expand(n, -1, -1, -1), g)
    baseline = pixel_bernoulli_log_likelihood(train, heldout_digits()).mean().item()
    real = train[torch.randperm(len(train), generator=g)[:n]]
    return [{"model": "independent pixels", "seed": "", "log_likelihood": baseline, **_scores(evaluate_images(pixels)),
             "train_seconds": 0.0},
            {"model": "training digits", "seed": "", "log_likelihood": None, **_scores(evaluate_images(real)),
             "train_seconds": 0.0}]


def _scores(r: dict) -> dict:
    return {k: r[k] for k in SCORES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--adversarial", type=float, default=3.0, help="weight of the GAN term of the vae+gan row")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, one thread each")
    parser.add_argument("--runs", default="runs/bench_vae_vs_gan", help="folder of the run folders")
    parser.add_argument("--csv", default=None, help="also write one row per model and seed to this CSV file")
    parser.add_argument("--fast", action="store_true", help="tiny runs, for a smoke test")
    args = parser.parse_args()
    if args.fast:
        os.environ["GANLAB_FAST"] = "1"
    from ganlab import fast

    n = fast(200, 2000)
    print(f"VAE against GAN: seeds {args.seeds}, GAN term weight {args.adversarial:g}, {n} samples per model")
    write = row_writer(args.csv, FIELDS)
    began = time.perf_counter()
    jobs = [(m, s, args.adversarial, args.runs, args.fast) for s in args.seeds for m in ("dcgan", "vae", "vae+gan")]
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(train, *zip(*jobs)))
    rows += references(n)
    print("\n| model | seed | log-likelihood (nats) | FID | KID | precision | recall | classes | train seconds |\n|"
          + "---|" * 9)
    for r in rows:
        write({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
        ll = "n/a" if r["log_likelihood"] is None else f"{r['log_likelihood']:.1f}"
        print(f"| {r['model']} | {r['seed']} | {ll} | {r['fid']:.1f} | {r['kid']:.2f} | {r['precision']:.2f} | "
              f"{r['recall']:.2f} | {r['classes_covered']} | {r['train_seconds']:.0f} |")
    from ganlab.vae_train import default_vae

    print(f"\nlog-likelihood: 1,000 held-out digits binarised once, IWAE bound with k = {default_vae().iwae_k} (exact "
          f"for independent pixels); {time.perf_counter() - began:.0f} s in all.")


if __name__ == "__main__":
    main()

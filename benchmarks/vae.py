"""Benchmark: the VAE recipe across beta (the rate-distortion trade-off), scored with the GANs' image metrics.

    python benchmarks/vae.py                                  # beta 0.5, 1, 2, 4, one seed, two runs at a time
    python benchmarks/vae.py --betas 1 --free-bits 0.5 --seeds 0 1 --csv benchmarks/results/vae.csv
    python benchmarks/vae.py --fast                           # a seconds-long smoke version

Every run is ``ganlab train vae`` at its defaults (a convolutional VAE with a 16-dimensional z and
a Bernoulli decoder on the grey levels, 3,000 Adam steps at batch 64) with only beta (and
``--free-bits``) changed. A row gives, on the 1,000 held-out digits and in nats per image, the
ELBO, the importance-weighted bound (k = 64, the likelihood estimate), the distortion D (the
reconstruction term E_q[-log p(x|z)]) and the rate R (the KL term): -ELBO = D + R, and beta trades
one for the other (Alemi et al. 2018). Then the image scores of 2,000 samples (FID, KID,
precision, recall, classes covered: ``evaluate_images``, as for the GANs of chapters 03-05).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import time

from ganlab.vae_train import default_vae, train_vae

from csv_rows import row_writer  # benchmarks/csv_rows.py

FIELDS = ["beta", "free_bits", "seed", "elbo", "iwae", "distortion", "rate", "fid", "kid", "precision", "recall",
          "classes_covered", "train_seconds"]


def run(beta: float, free_bits: float, seed: int, folder: str, quick: bool) -> dict:
    if quick:
        os.environ["GANLAB_FAST"] = "1"
    config = default_vae(beta=beta, free_bits=free_bits, seed=seed, threads=1,
                         out=os.path.join(folder, f"beta{beta:g}_fb{free_bits:g}_seed{seed}"))
    r = train_vae(config, progress=False)
    return {"beta": beta, "free_bits": free_bits, "seed": seed, "elbo": r["elbo"], "iwae": r["iwae"],
            "distortion": r["reconstruction"], "rate": r["kl"], "fid": r["fid"], "kid": r["kid"],
            "precision": r["precision"], "recall": r["recall"], "classes_covered": r["classes_covered"],
            "train_seconds": r["train_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--betas", type=float, nargs="*", default=[0.5, 1.0, 2.0, 4.0])
    parser.add_argument("--free-bits", type=float, default=0.0, help="free bits per latent dimension, every run")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, one thread each")
    parser.add_argument("--runs", default="runs/bench_vae", help="folder of the run folders")
    parser.add_argument("--csv", default=None, help="also write one row per run to this CSV file")
    parser.add_argument("--fast", action="store_true", help="tiny runs, for a smoke test")
    args = parser.parse_args()
    if args.fast:
        os.environ["GANLAB_FAST"] = "1"
    steps = default_vae().steps  # fast mode already applied
    print(f"VAE benchmark: {steps} steps per run, betas {args.betas}, free bits {args.free_bits:g}, seeds {args.seeds}")
    write = row_writer(args.csv, FIELDS)
    began = time.perf_counter()
    jobs = [(b, args.free_bits, s, args.runs, args.fast) for b in args.betas for s in args.seeds]
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(run, *zip(*jobs)))
    print("\n| beta | seed | ELBO | IWAE bound | distortion D | rate R | FID | KID | precision | recall | classes |"
          " seconds |\n|" + "---|" * 12)
    for r in rows:
        write({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
        print(f"| {r['beta']:g} | {r['seed']} | {r['elbo']:.1f} | {r['iwae']:.1f} | {r['distortion']:.1f} | "
              f"{r['rate']:.1f} | {r['fid']:.1f} | {r['kid']:.2f} | {r['precision']:.2f} | {r['recall']:.2f} | "
              f"{r['classes_covered']} | {r['train_seconds']:.0f} |")
    print(f"\nnats per held-out image; {time.perf_counter() - began:.0f} s in all.")


if __name__ == "__main__":
    main()

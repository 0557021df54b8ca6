"""Benchmark: CycleGAN between handwritten and typeset digits, scored on what it promises.

    python benchmarks/cyclegan.py                                  # the recipe's defaults, seed 0
    python benchmarks/cyclegan.py --variants default identity wide-d --runs notebooks/runs   # chapter 08's runs
    python benchmarks/cyclegan.py --variants default no-pool --seeds 0 1 --csv benchmarks/results/cyclegan.csv
    python benchmarks/cyclegan.py --fast                           # a seconds-long smoke version

Each row trains ``ganlab train cyclegan`` (the small configuration: ResNet generators of 16 channels and 6 blocks,
PatchGANs seeing 16 x 16 px, least-squares losses, lambda_cyc 10, no identity loss, pools of 50, batches of 16) with
one thing changed, or loads the finished run of that configuration from ``--runs`` (folders ``cyclegan`` and
``cyclegan_<variant>``, as chapter 08 names them, so ``--runs notebooks/runs`` reuses the chapter's), then scores it
on 1,000 held-out digits of each domain: the content kept in each direction
(the course's classifier reads the translated digit as the one it came from), the cycle error (mean absolute
error of F(G(a)) - a and G(F(b)) - b, in [-1, 1] units) and the FID of the translations against the target
domain's held-out digits. Two rows need no training: ``untranslated``, each held-out digit left as it is (the
classifier's accuracy on each domain, and how far apart the domains are by FID), and ``other target digits``,
the target domain's training digits scored as if they were translations (the FID a perfect translator would
approach).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import time

from csv_rows import row_writer  # benchmarks/csv_rows.py

VARIANTS = {"default": {}, "identity": {"lambda_identity": 0.5}, "wide-d": {"d_layers": 2}, "no-pool": {"pool": 0},
            "no-cycle": {"lambda_cycle": 0.0}}
FIELDS = ["variant", "seed", "content_a2b", "content_b2a", "cycle_a", "cycle_b", "fid_b", "fid_a", "train_seconds"]


def train(variant: str, seed: int, threads: int, folder: str, quick: bool) -> dict:
    if quick:
        os.environ["GANLAB_FAST"] = "1"
    from ganlab.cyclegan_train import default_cyclegan, load_or_train_cyclegan

    name = "cyclegan" + ("" if variant == "default" else "_" + variant.replace("-", "_"))
    name += f"_seed{seed}" if seed else ""
    config = default_cyclegan(**VARIANTS[variant], seed=seed, threads=threads, out=os.path.join(folder, name))
    _, r = load_or_train_cyclegan(config, progress=False)
    return {"variant": variant, "seed": seed, **{k: r[k] for k in FIELDS[2:]}}


def references(n: int) -> list[dict]:
    import torch

    from ganlab.classifier import load_classifier
    from ganlab.cyclegan_train import _balanced, domains, heldout_domains
    from ganlab.image_metrics import evaluate_images

    torch.set_num_threads(1)
    held, (train_a, train_b) = heldout_domains(), domains()
    classifier = load_classifier()
    # the same class-balanced held-out digits evaluate_translation scores (held-out A is stored class by class)
    (a, la), (b, lb) = ((x[_balanced(y, n)], y[_balanced(y, n)]) for x, y in (held["A"], held["B"]))
    with torch.no_grad():
        read_a, read_b = ((classifier(x).argmax(1) == y).double().mean().item() for x, y in ((a, la), (b, lb)))
    fid = lambda fake, real: evaluate_images(fake, real=real, classifier=classifier)["fid"]  # noqa: E731
    # a random subset of each training set (the handwritten training digits are stored class by class)
    pick = lambda x: x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n]]  # noqa: E731
    return [{"variant": "untranslated", "seed": "", "content_a2b": read_a, "content_b2a": read_b, "cycle_a": 0.0,
             "cycle_b": 0.0, "fid_b": fid(a, b), "fid_a": fid(b, a), "train_seconds": 0.0},
            {"variant": "other target digits", "seed": "", "content_a2b": float("nan"), "content_b2a": float("nan"),
             "cycle_a": float("nan"), "cycle_b": float("nan"), "fid_b": fid(pick(train_b), b),
             "fid_a": fid(pick(train_a), a),
             "train_seconds": 0.0}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="*", choices=sorted(VARIANTS), default=["default"])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    parser.add_argument("--runs", default="runs/bench_cyclegan", help="folder of the run folders")
    parser.add_argument("--csv", default=None, help="also write one row per run to this CSV file")
    parser.add_argument("--fast", action="store_true", help="tiny runs, for a smoke test")
    args = parser.parse_args()
    if args.fast:
        os.environ["GANLAB_FAST"] = "1"
    from ganlab.cyclegan_train import default_cyclegan

    d = default_cyclegan()
    print(f"CycleGAN benchmark: {d.steps} steps per run, variants {args.variants}, seeds {args.seeds}, "
          f"{d.eval_images} held-out digits per domain")
    write = row_writer(args.csv, FIELDS)
    began = time.perf_counter()
    jobs = [(v, s, args.threads, args.runs, args.fast) for v in args.variants for s in args.seeds]
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(train, *zip(*jobs)))
    rows += references(d.eval_images)
    print("\n| variant | seed | content kept A->B | content kept B->A | cycle error A | cycle error B | FID on B | "
          "FID on A | train seconds |\n|" + "---|" * 9)
    pct = lambda v: "n/a" if v != v else f"{v:.1%}"  # noqa: E731  (NaN: not applicable)
    num = lambda v, f: "n/a" if v != v else format(v, f)  # noqa: E731
    for r in rows:
        write({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
        print(f"| {r['variant']} | {r['seed']} | {pct(r['content_a2b'])} | {pct(r['content_b2a'])} | "
              f"{num(r['cycle_a'], '.3f')} | {num(r['cycle_b'], '.3f')} | {r['fid_b']:.1f} | {r['fid_a']:.1f} | "
              f"{r['train_seconds']:.0f} |")
    print(f"\nA: handwritten digits, B: typeset digits; {time.perf_counter() - began:.0f} s in all.")


if __name__ == "__main__":
    main()

"""Benchmark of the `ganlab train toy2d` recipe: modes, quality and time per run.

    python benchmarks/toy2d.py                  # ring of 8, default setting, 5 seeds
    python benchmarks/toy2d.py --dataset grid   # grid of 25
    python benchmarks/toy2d.py --fast           # a seconds-long smoke version

Scores 2,500 samples per run as VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018)
do. Times are wall-clock seconds of training on this machine, one run at a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch

from ganlab.recipes import Toy2DConfig, train_toy2d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ring", choices=["ring", "grid"])
    parser.add_argument("--loss", default=Toy2DConfig.loss)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="override the recipe's step count")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch (as `ganlab train toy2d`)")
    parser.add_argument("--fast", action="store_true", help="300 steps, 2 seeds: checks the script runs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    steps = 300 if args.fast else (args.steps or Toy2DConfig.steps)
    seeds = 2 if args.fast else args.seeds
    print(f"toy2d benchmark: {args.dataset}, loss {args.loss}, {steps} steps, {seeds} seeds, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    print(f"{'seed':>4} {'modes':>7} {'high quality':>13} {'reverse KL':>11} {'seconds':>8}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            config = Toy2DConfig(dataset=args.dataset, loss=args.loss, steps=steps, seed=seed,
                                 out=os.path.join(tmp, f"seed{seed}"))
            start = time.perf_counter()
            result = train_toy2d(config, progress=False)
            result["wall_seconds"] = time.perf_counter() - start
            rows.append(result)
            print(f"{seed:>4} {result['modes_covered']:>4}/{result['n_modes']:<2} {100 * result['high_quality']:>12.1f}% "
                  f"{result['reverse_kl']:>11.3f} {result['train_seconds']:>8.1f}", flush=True)

    def mean_sd(key: str, scale: float = 1.0) -> str:
        values = [scale * r[key] for r in rows]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.2f} ± {sd:.2f}"

    print(f"mean: modes {mean_sd('modes_covered')}, high quality {mean_sd('high_quality', 100)} %, "
          f"reverse KL {mean_sd('reverse_kl')}, training seconds {mean_sd('train_seconds')} "
          f"(max {max(r['train_seconds'] for r in rows):.1f})")


if __name__ == "__main__":
    main()

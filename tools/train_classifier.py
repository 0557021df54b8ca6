"""Train the MNIST classifier whose features ganlab's image metrics use, and write its weights.

Data: the 4,000 training digits of ``ganlab.classifier.mnist_split()`` (the shipped 5,000-image
MNIST subset minus 100 held-out digits per class). Light augmentation (shifts of up to 2 px,
rotations of up to 10 degrees, scaling by 0.9-1.1), Adam with a cosine learning-rate decay,
everything seeded, on the CPU in about a minute. Prints and records the held-out accuracy.

    python tools/train_classifier.py                       # writes ganlab/weights/mnist_classifier.pt
    python tools/train_classifier.py --steps 3 --out /tmp/c.pt   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlab.classifier import SPLIT_SEED, WEIGHTS, MNISTClassifier, mnist_split
from ganlab.data import load
from ganlab.env import seed_everything


def augment(x: Tensor, g: torch.Generator, shift_px: float = 2.0, degrees: float = 10.0, scale: float = 0.1) -> Tensor:
    """A random small affine warp of each image (N, 1, 28, 28) in [-1, 1]; the border stays background (-1)."""
    n = len(x)
    angle = (torch.rand(n, generator=g) * 2 - 1) * math.radians(degrees)
    s = 1 + (torch.rand(n, generator=g) * 2 - 1) * scale
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * shift_px * 2 / 28  # pixels -> [-1, 1] grid units
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    row0 = torch.stack([cos, -sin, shift[:, 0]], 1)  # (N, 3)
    row1 = torch.stack([sin, cos, shift[:, 1]], 1)
    theta = torch.stack([row0, row1], 1)  # (N, 2, 3): output pixel -> input pixel
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False) - 1  # zero padding of x + 1 = background


@torch.no_grad()
def accuracy(model: MNISTClassifier, x: Tensor, y: Tensor, batch_size: int = 500) -> float:
    """Fraction of ``x`` classified as ``y``."""
    model.eval()
    correct = sum(int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
                  for i in range(0, len(x), batch_size))
    return correct / len(x)


def train(epochs: int = 12, steps: int | None = None, seed: int = 0, batch_size: int = 64,
          lr: float = 2e-3) -> tuple[MNISTClassifier, dict]:
    """Train from ``seed``; ``steps`` caps the number of updates (for smoke runs). Returns the model and a record."""
    x, y = load("mnist")
    train_idx, heldout_idx = mnist_split()
    x_train, y_train = x[train_idx], y[train_idx]
    g = seed_everything(seed)
    model = MNISTClassifier()
    total = epochs * math.ceil(len(x_train) / batch_size) if steps is None else steps
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    step, t0 = 0, time.time()
    while step < total:
        model.train()
        perm = torch.randperm(len(x_train), generator=g)
        for i in range(0, len(perm), batch_size):
            batch = perm[i:i + batch_size]
            loss = F.cross_entropy(model(augment(x_train[batch], g)), y_train[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step >= total:
                break
        print(f"step {step}/{total}  loss {loss.item():.4f}  {time.time() - t0:.0f}s", flush=True)
    acc = accuracy(model, x[heldout_idx], y[heldout_idx])
    record = {
        "heldout_accuracy": acc,
        "heldout": f"ganlab.classifier.mnist_split(seed={SPLIT_SEED})[1]: 100 per class of load('mnist'), 1000 in all",
        "train_size": len(train_idx),
        "seed": seed, "epochs": epochs, "steps": step, "batch_size": batch_size, "lr": lr,
        "torch": torch.__version__,
    }
    return model, record


def main(argv: list[str] | None = None) -> dict:
    """Parse arguments, train, write the weights (float32 state dict) and a json record beside them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--steps", type=int, default=None, help="stop after this many updates (smoke runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=WEIGHTS)
    args = p.parse_args(argv)
    model, record = train(epochs=args.epochs, steps=args.steps, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"held-out accuracy {record['heldout_accuracy']:.4f}; wrote {args.out}")
    return record


if __name__ == "__main__":
    main()

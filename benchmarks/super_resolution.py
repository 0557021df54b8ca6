"""Benchmark: x4 super-resolution on the held-out photographs: bicubic, SRResNet, SRGAN and the networks between them.

    python benchmarks/super_resolution.py                    # train (or load) both recipes in runs/bench_sr, then score
    python benchmarks/super_resolution.py --runs notebooks/runs  # score the runs chapter 06 trained
    python benchmarks/super_resolution.py --fast             # a seconds-long smoke version

The two recipes run at their defaults (``ganlab train srresnet``, then ``ganlab train srgan``
from it) in ``--runs``/srresnet and ``--runs``/srgan; a finished run of the same config is loaded,
not trained again. Each method is scored on every held-out image (``superres.HELD_OUT``, never
cropped for training) as SR papers score it: Y-PSNR and SSIM with a 4 px border cropped, after
rounding to 8 bits (``superres.psnr_y``, ``ssim_y``). "bicubic (Pillow)" degrades and upscales
with Pillow's ``Image.BICUBIC`` instead of torch: an independent implementation of the same
kernel, as a check of the course's baseline. The networks between SRResNet (alpha 0) and SRGAN
(alpha 1) interpolate every weight (``srgan.interpolate_networks``, as ESRGAN does).

Two perceptual measures, both offline. "patch distance" is ``superres.patch_distance``: the
Fréchet distance between the statistics of all 7 x 7 patches of each HR image and of its SR
output, averaged over the images (lower is more natural). "critic accuracy" is
``superres.critic_accuracy``: a small CNN trained to tell real HR patches from a method's output
on half of the 32 px cells of the held-out images, scored on the other half (0.5:
indistinguishable; 1.0: always caught), the mean over ``--critic-seeds``.
"consistency" is the Y-PSNR between the method's output degraded again and the LR input: how
well the output explains what was observed (bicubic upscaling is not consistent either).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from ganlab import fast
from ganlab.sr_train import default_srgan, default_srresnet, load_or_train_srgan, load_or_train_srresnet
from ganlab.srgan import interpolate_networks
from ganlab.superres import (critic_accuracy, degrade, held_out_images, patch_distance, psnr_y, quantize, ssim_y,
                             upscale_bicubic)

from csv_rows import row_writer  # benchmarks/csv_rows.py

FIELDS = ["method", "image", "psnr", "ssim", "consistency_psnr", "patch_distance", "critic_accuracy"]


def pillow_bicubic(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Degrade and upscale (3, H, W) in [-1, 1] with Pillow's bicubic (a = -0.5, antialiased), 8 bits in between."""
    from PIL import Image

    pixels = ((hr.permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    h, w = pixels.shape[:2]
    small = Image.fromarray(pixels).resize((w // scale, h // scale), Image.BICUBIC)
    big = np.asarray(small.resize((w, h), Image.BICUBIC)).astype(np.float32)
    return torch.tensor(big).permute(2, 0, 1) / 127.5 - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="runs/bench_sr", help="folder of the srresnet and srgan run folders")
    parser.add_argument("--alphas", type=float, nargs="*", default=[0.25, 0.5, 0.75],
                        help="interpolation weights between SRResNet (0) and SRGAN (1)")
    parser.add_argument("--critic-seeds", type=int, default=3, help="critics trained per method")
    parser.add_argument("--critic-steps", type=int, default=400, help="Adam updates of each critic")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for PyTorch while training")
    parser.add_argument("--csv", default=None, help="also write one row per method and image to this CSV file")
    parser.add_argument("--fast", action="store_true", help="tiny runs, for a smoke test")
    args = parser.parse_args()
    if args.fast:
        os.environ["GANLAB_FAST"] = "1"
    critic_steps = fast(20, args.critic_steps)
    torch.set_num_threads(1)

    began = time.perf_counter()
    srresnet_config = default_srresnet(out=os.path.join(args.runs, "srresnet"), threads=args.threads)
    srresnet, m_resnet = load_or_train_srresnet(srresnet_config, progress=False)
    srgan_config = default_srgan(init=srresnet_config.out, out=os.path.join(args.runs, "srgan"), threads=args.threads)
    srgan, m_gan = load_or_train_srgan(srgan_config, progress=False)
    scale = srresnet.scale
    print(f"super-resolution x{scale} on the held-out images: SRResNet {srresnet_config.channels} channels, "
          f"{srresnet_config.blocks} blocks, {m_resnet['steps_done']} updates in {m_resnet['train_seconds']:.0f} s; "
          f"SRGAN ({srgan_config.content} content loss) {m_gan['steps_done']} updates in "
          f"{m_gan['train_seconds']:.0f} s ({m_resnet['threads']} threads; {time.perf_counter() - began:.0f} s "
          f"to train or load both here)")

    images = held_out_images(scale)
    hr = [im.hr for im in images]
    methods: dict[str, list[torch.Tensor]] = {
        "bicubic": [upscale_bicubic(im.lr, scale) for im in images],
        "bicubic (Pillow)": [pillow_bicubic(im.hr, scale) for im in images],
        "SRResNet": [srresnet.super_resolve(im.lr) for im in images],
    }
    for alpha in args.alphas:
        between = interpolate_networks(srresnet, srgan, alpha)
        methods[f"alpha {alpha:g}"] = [between.super_resolve(im.lr) for im in images]
    methods["SRGAN"] = [srgan.super_resolve(im.lr) for im in images]

    write = row_writer(args.csv, FIELDS)
    names = [im.name for im in images]
    header = (["method"] + [f"{n} PSNR" for n in names] + ["mean PSNR"] + [f"{n} SSIM" for n in names]
              + ["mean SSIM", "consistency", "patch distance", "critic accuracy"])
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for method, outputs in methods.items():
        psnr = [psnr_y(sr[None], x[None], scale).item() for sr, x in zip(outputs, hr)]
        ssim = [ssim_y(sr[None], x[None], scale).item() for sr, x in zip(outputs, hr)]
        consistency = [psnr_y(quantize(degrade(sr, scale))[None], im.lr[None], 0).item()
                       for sr, im in zip(outputs, images)]
        rounded = [quantize(sr) for sr in outputs]  # 8 bits, as the real images: rounding cannot be the tell
        distance = patch_distance(hr, rounded)
        critic = [critic_accuracy(hr, rounded, steps=critic_steps, seed=s) for s in range(args.critic_seeds)]
        spread = f" ± {statistics.stdev(critic):.3f}" if len(critic) > 1 else ""
        cells = ([f"{p:.2f}" for p in psnr] + [f"{statistics.mean(psnr):.2f}"] + [f"{s:.3f}" for s in ssim]
                 + [f"{statistics.mean(ssim):.3f}", f"{statistics.mean(consistency):.1f}", f"{distance:.3f}",
                    f"{statistics.mean(critic):.3f}{spread}"])
        print(f"| {method} | " + " | ".join(cells) + " |", flush=True)
        for name, p, s, c in zip(names, psnr, ssim, consistency):
            write({"method": method, "image": name, "psnr": round(p, 4), "ssim": round(s, 5),
                   "consistency_psnr": round(c, 3), "patch_distance": round(distance, 4),
                   "critic_accuracy": round(statistics.mean(critic), 4)})
    print(f"\ncritic accuracy: mean ± sd over {args.critic_seeds} critics of {critic_steps} updates; 0.5 is "
          f"indistinguishable from the real photographs. {time.perf_counter() - began:.0f} s in all.")


if __name__ == "__main__":
    main()

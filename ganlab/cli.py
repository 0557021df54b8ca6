"""Command line: ``ganlab train <recipe> [options]`` (also ``python -m ganlab ...``)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from .losses import LOSSES
from .recipes import TOY2D_DATASETS, Toy2DConfig, default_toy2d, train_toy2d


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)


def _float_where(ok: Callable[[float], bool], requirement: str, example: str) -> Callable[[str], float]:
    """An argparse type: a finite float for which ``ok`` holds, else a message naming the requirement."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number such as {example}, got {text!r}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"{requirement}, got {text!r}")
        return value

    return parse


_positive_float = _float_where(lambda v: v > 0, "must be a positive number", "1e-3")
_fraction = _float_where(lambda v: 0 <= v <= 1, "must be a fraction between 0 and 1", "0.5")
_non_negative_float = _float_where(lambda v: v >= 0, "must be a non-negative number", "1 or 0.1")
_beta = _float_where(lambda v: 0 <= v < 1, "an Adam beta must be in [0, 1)", "0.99")
_decay = _float_where(lambda v: v == 0 or 0 < v < 1, "must be 0 (no average) or a decay in (0, 1) such as 0.995",
                      "0.995 (or 0 for none)")


def _add_image_recipe(recipes: argparse._SubParsersAction, name: str, conditional: bool) -> None:
    """The options shared by ``train dcgan`` and ``train cgan``."""
    from .image_recipes import GENERATORS, default_dcgan

    d = default_dcgan(conditional)
    what = ("a class-conditional GAN: G(z, y) with conditional BatchNorm against a projection discriminator D(x, y)"
            if conditional else "a DCGAN")
    scores = ("conditional accuracy (does the classifier read the digit G was asked for), " if conditional else "")
    p = recipes.add_parser(
        name, help=f"{what} on the 5,000 offline MNIST digits",
        description=f"Train {what} on the 4,000 training digits of the offline MNIST subset and score "
                    f"{d.eval_samples} samples against the 1,000 held-out digits: {scores}classes covered, KL of the "
                    "label histogram from uniform, fraction classified with confidence > 0.9, FID and KID on the "
                    "course classifier's features (beside the same scores for real digits), precision and recall. "
                    "Writes samples_step*.png, samples.png, losses.png, metrics.json and checkpoint.pt into --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--steps", type=_positive_int, default=d.steps, help="generator updates (fast mode: 30)")
    p.add_argument("--batch-size", type=_positive_int, default=d.batch_size, help="real and fake images per step")
    p.add_argument("--lr", type=_positive_float, default=None,
                   help=f"Adam learning rate of both players (default: {d.lr_g:g} for G, {d.lr_d:g} for D)")
    p.add_argument("--width", type=_positive_int, default=d.width,
                   help="channels of G's last and D's first feature map; each block away from the image doubles "
                        "them (at 32 px: width, 2 x width, 4 x width)")
    p.add_argument("--latent-dim", type=_positive_int, default=d.latent_dim, help="size of the noise vector z")
    if not conditional:
        p.add_argument("--generator", choices=GENERATORS, default=d.generator,
                       help="dcgan: the DCGAN generator; style: the style-based generator of chapter 05 (mapping "
                            "network, AdaIN, per-pixel noise, style mixing), --width channels at every resolution, "
                            "against the same D")
    p.add_argument("--loss", choices=sorted(LOSSES), default=d.loss,
                   help="the pair of losses: " + "; ".join(f"{k}: {v.about}" for k, v in sorted(LOSSES.items())))
    p.add_argument("--ema", type=_decay, default=d.ema,
                   help="decay of the moving average of G's weights that is sampled and scored (0: score G itself)")
    p.add_argument("--seed", type=_int_at_least(0), default=d.seed, help="random seed (non-negative) for a reproducible run")
    p.add_argument("--out", default=d.out, help="run folder for the sample grids, metrics.json and checkpoint.pt")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.pt if it exists (same options as the first run; "
                        "--steps may be raised to train longer)")
    p.add_argument("--threads", type=_positive_int, default=d.threads,
                   help="CPU threads for PyTorch (at most the number of cores). On an idle 2-core CPU two threads "
                        "train 1.7 times as fast as one; use 1 when other programs keep the cores busy, where two "
                        "threads wait on each other and run several times slower")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--sync-batchnorm", action="store_true",
                   help="with several processes (torchrun --nproc_per_node N -m ganlab train ...): BatchNorm on the "
                        "statistics of the whole global batch, so the run matches one process with that batch "
                        "(--batch-size is always the global batch)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganlab",
        description="Train the course's GANs from the command line. Runs offline on the data shipped "
                    "with the installed packages. Set GANLAB_FAST=1 for a seconds-long smoke run.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser("train", help="train a recipe and write a run folder",
                                description="Train a recipe and write plots, metrics and a checkpoint to a run folder.")
    recipes = train.add_subparsers(dest="recipe", metavar="RECIPE", required=True)

    d = default_toy2d()
    toy = recipes.add_parser(
        "toy2d", help="an MLP GAN on the ring of 8 or the grid of 25 Gaussians",
        description="Train an MLP GAN on a 2D mixture of Gaussians and score it as VEEGAN and PacGAN do: "
                    "modes covered, fraction of high-quality samples (within 3 sigma of a mode) and reverse KL, "
                    "on 2,500 samples. Writes samples.png, losses.png, metrics.json and checkpoint.pt into --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    toy.add_argument("--dataset", choices=TOY2D_DATASETS, default=d.dataset,
                     help="ring: 8 modes on the unit circle, sigma 0.01; grid: 25 modes at {-4,-2,0,2,4}^2, sigma 0.05")
    toy.add_argument("--loss", choices=sorted(LOSSES), default=d.loss,
                     help="the pair of losses: " + "; ".join(f"{k}: {v.about}" for k, v in sorted(LOSSES.items())))
    toy.add_argument("--steps", type=_positive_int, default=d.steps, help="generator updates (fast mode: 300)")
    toy.add_argument("--batch-size", type=_positive_int, default=d.batch_size, help="real and fake points per step")
    toy.add_argument("--lr", type=_positive_float, default=d.lr, help="Adam learning rate of both players")
    toy.add_argument("--beta2", type=_beta, default=d.beta2, help="Adam's second-moment decay (beta1 is 0.5)")
    toy.add_argument("--penalty-weight", type=_non_negative_float, default=None,
                     help="R1's gamma or WGAN-GP's lambda, for the losses with a penalty (default: the loss's own, 10). "
                          "The course's recommended setting for these 2D problems: --loss r1 --penalty-weight 1 "
                          "--lr 3e-3 --beta2 0.99")
    toy.add_argument("--lr-decay", type=_fraction, default=d.lr_decay,
                     help="fraction of the run, at its end, over which the learning rates fall linearly to 0 "
                          "(0: constant). Annealing stops the players circling the equilibrium, which sharpens "
                          "the samples around each mode")
    toy.add_argument("--width", type=_positive_int, default=d.width, help="hidden units per layer")
    toy.add_argument("--depth", type=_positive_int, default=d.depth, help="linear layers per player")
    toy.add_argument("--latent-dim", type=_positive_int, default=d.latent_dim, help="size of the noise vector z")
    toy.add_argument("--seed", type=_int_at_least(0), default=d.seed, help="random seed (non-negative) for a reproducible run")
    toy.add_argument("--out", default=d.out, help="run folder for plots, metrics.json and checkpoint.pt")
    toy.add_argument("--resume", action="store_true",
                     help="continue from OUT/checkpoint.pt if it exists (same options as the first run)")
    toy.add_argument("--threads", type=_positive_int, default=1,
                     help="CPU threads for PyTorch. These networks are tiny: one thread is as fast as several, "
                          "and far faster when other programs keep the cores busy")
    toy.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_image_recipe(recipes, "dcgan", conditional=False)
    _add_image_recipe(recipes, "cgan", conditional=True)
    _add_singan_recipe(recipes)
    _add_sr_recipes(recipes)
    _add_vae_recipe(recipes)
    _add_cyclegan_recipe(recipes)
    doctor = commands.add_parser(
        "doctor", help="read a run folder and say what went wrong in training",
        description="Read the history in a run folder's checkpoint (one per stage for staged recipes) and its "
                    "metrics.json, and report in plain words what the signals show: a discriminator that wins "
                    "outright or learns nothing, one that prefers the fakes, divergence, posterior collapse; each "
                    "with its evidence, usual causes and remedies (ganlab.doctor explains the thresholds). Exits "
                    "with 0 when nothing is found, 1 when something is.")
    doctor.add_argument("run", help="the run folder, e.g. runs/dcgan")
    return parser


def _add_cyclegan_recipe(recipes: argparse._SubParsersAction) -> None:
    from .cyclegan_train import default_cyclegan

    d = default_cyclegan()
    p = recipes.add_parser(
        "cyclegan", help="CycleGAN between handwritten and typeset digits, unpaired, offline (chapter 08)",
        description="Train CycleGAN (Zhu et al. 2017) between the 4,000 handwritten training digits and 4,000 digits "
                    "typeset in matplotlib's fonts, unpaired, then score on held-out digits of each domain: the "
                    "content kept in each direction (the classifier reads the translated digit as the one it came "
                    "from), the cycle error and the FID on each target side.")
    p.add_argument("--steps", type=_positive_int, default=d.steps, help="updates of each pair of networks")
    p.add_argument("--lambda-cycle", type=_non_negative_float, default=d.lambda_cycle,
                   help="weight of the cycle-consistency loss (the paper: 10)")
    p.add_argument("--lambda-identity", type=_non_negative_float, default=d.lambda_identity,
                   help="weight of the identity loss as a fraction of --lambda-cycle (0: off; the authors' code uses 0.5)")
    p.add_argument("--pool", type=_int_at_least(0), default=d.pool, help="fakes kept in each image pool (0: off)")
    p.add_argument("--blocks", type=_int_at_least(0), default=d.blocks, help="residual blocks in each generator")
    p.add_argument("--width", type=_positive_int, default=d.width, help="channels of each generator's first layer")
    _add_common(p, d.seed, d.out, d.threads)


def _add_vae_recipe(recipes: argparse._SubParsersAction) -> None:
    from .vae import DECODERS
    from .vae_train import default_vae

    d = default_vae()
    p = recipes.add_parser(
        "vae", help="a convolutional VAE on the offline MNIST digits (chapter 07)",
        description="Train a convolutional VAE on the 4,000 training digits (binarised) with the negative ELBO (both terms "
                    "summed per image), then score the held-out ELBO and importance-weighted bound (nats per "
                    "image) and the samples' FID, KID, precision, recall and classes.")
    p.add_argument("--beta", type=_non_negative_float, default=d.beta,
                   help="weight of the KL term (1: the ELBO; above 1: beta-VAE)")
    p.add_argument("--latent-dim", type=_positive_int, default=d.latent_dim, help="size of z")
    p.add_argument("--decoder", choices=DECODERS, default=d.decoder, help="the likelihood p(x | z)")
    p.add_argument("--free-bits", type=_non_negative_float, default=d.free_bits,
                   help="nats per latent dimension below which the KL is not penalised (0: off)")
    p.add_argument("--kl-warmup", type=_fraction, default=d.kl_warmup,
                   help="fraction of the run over which beta rises linearly from 0 (0: off)")
    p.add_argument("--grey", action="store_true",
                   help="model the grey levels rather than binarised digits (the likelihoods are then not "
                        "probabilities of the held-out images)")
    p.add_argument("--adversarial", type=_non_negative_float, default=d.adversarial,
                   help="weight of a GAN loss on the decoder's samples against a DCGAN discriminator (0: off)")
    p.add_argument("--steps", type=_positive_int, default=d.steps, help="updates")
    _add_common(p, d.seed, d.out, d.threads)


def _add_sr_recipes(recipes: argparse._SubParsersAction) -> None:
    from .sr_train import CONTENT_LOSSES, default_srgan, default_srresnet

    d = default_srresnet()
    p = recipes.add_parser(
        "srresnet", help="SRResNet x4 super-resolution on the pixel loss (chapter 06)",
        description="Train SRResNet (Ledig et al. 2017) for x4 super-resolution on patches of the photographs that "
                    "ship offline, with the pixel (MSE) loss, and score Y-PSNR and SSIM on the held-out images "
                    "(astronaut, coffee) against bicubic. The defaults are a reduced network and run for a CPU; "
                    "--paper gives the paper's network and schedule (days on a CPU).")
    p.add_argument("--channels", type=_positive_int, default=None, help=f"feature channels (default {d.channels}; "
                                                                         f"paper 64)")
    p.add_argument("--blocks", type=_int_at_least(0), default=None, help=f"residual blocks (default {d.blocks}; "
                                                                          f"paper 16)")
    p.add_argument("--no-batch-norm", action="store_true", help="residual blocks without BatchNorm (EDSR's choice)")
    p.add_argument("--no-bicubic-skip", action="store_true",
                   help="do not add the bicubic upscale to the output (the paper has no such skip)")
    p.add_argument("--steps", type=_positive_int, default=None, help=f"updates (default {d.steps}; paper 10^6)")
    p.add_argument("--lr", type=_positive_float, default=None, help=f"Adam learning rate (default {d.lr})")
    p.add_argument("--paper", action="store_true", help="the paper's network, crops and schedule")
    _add_common(p, d.seed, d.out, d.threads)

    d = default_srgan()
    p = recipes.add_parser(
        "srgan", help="SRGAN: fine-tune a trained SRResNet with adversarial and content losses (chapter 06)",
        description="Fine-tune the generator of a finished `ganlab train srresnet` run (--init) against the SRGAN "
                    "discriminator with the perceptual loss: content + 1e-3 x adversarial. The content loss compares "
                    "features of a fixed network: random VGG-style features offline (default), VGG19 trained on "
                    "ImageNet where downloads are allowed (--content vgg19), or the pixels.")
    p.add_argument("--init", default=d.init, help="folder of the finished SRResNet run to start from")
    p.add_argument("--content", choices=CONTENT_LOSSES, default=None,
                   help=f"features of the content loss (default {d.content}; with --paper, vgg19)")
    p.add_argument("--adversarial-weight", type=_non_negative_float, default=d.adversarial_weight,
                   help="weight of -log D(G(LR)) (paper 1e-3)")
    p.add_argument("--pixel-weight", type=_non_negative_float, default=d.pixel_weight,
                   help="weight of an extra pixel (MSE) loss (not in the paper; 0 leaves it out)")
    p.add_argument("--steps", type=_positive_int, default=None, help=f"updates (default {d.steps}; paper 2 x 10^5)")
    p.add_argument("--paper", action="store_true", help="the paper's discriminator, crops, VGG54 loss and schedule")
    _add_common(p, d.seed, d.out, d.threads)


def _add_common(p: argparse.ArgumentParser, seed: int, out: str, threads: int) -> None:
    p.add_argument("--seed", type=_int_at_least(0), default=seed, help="random seed (non-negative)")
    p.add_argument("--out", default=out, help="run folder for the pictures, losses.png, metrics.json, checkpoint.pt")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt (same options)")
    p.add_argument("--threads", type=_int_at_least(0), default=threads,
                   help="CPU threads for PyTorch (0: PyTorch's default)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_singan_recipe(recipes: argparse._SubParsersAction) -> None:
    from .images import NATURAL_IMAGES
    from .singan_train import default_singan

    d = default_singan()
    p = recipes.add_parser(
        "singan", help="SinGAN on one photograph that ships offline (chapter 05)",
        description="Train SinGAN (Shaham, Dekel & Michaeli 2019) coarse to fine on one natural image, then draw "
                    "random samples, also at twice the width. The defaults are a reduced run for a CPU; --paper "
                    "uses the paper's 250 px and 2,000 iterations per scale.")
    p.add_argument("--image", choices=sorted(NATURAL_IMAGES), default=d.image, help="the photograph to learn")
    p.add_argument("--max-size", type=_int_at_least(d.min_size), default=None,
                   help=f"longer side of the finest scale in pixels (default {d.max_size}; paper 250)")
    p.add_argument("--iterations", type=_positive_int, default=None,
                   help=f"training iterations per scale (default {d.iterations}; paper 2000)")
    p.add_argument("--paper", action="store_true", help="the paper's sizes and iterations (hours on a CPU)")
    p.add_argument("--seed", type=_int_at_least(0), default=d.seed, help="random seed (non-negative)")
    p.add_argument("--out", default=d.out, help="run folder for the per-scale images, metrics.json and checkpoints")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoints in --out (scales already trained are kept)")
    p.add_argument("--threads", type=_int_at_least(0), default=d.threads,
                   help="CPU threads for PyTorch (0: PyTorch's default)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _run_toy2d(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    fields = {f.name for f in dataclasses.fields(Toy2DConfig)}
    config = Toy2DConfig(**{k: v for k, v in vars(args).items() if k in fields})
    result = train_toy2d(config, resume=args.resume, progress=not args.no_progress)
    if result.get("nothing_to_do"):
        return 0  # the loop has said why
    covered = f"{result['modes_covered']}/{result['n_modes']}"
    print(f"modes covered {covered}, high quality {100 * result['high_quality']:.1f}%, "
          f"reverse KL {result['reverse_kl']:.3f}, {result['train_seconds']:.1f} s of training")
    print(f"wrote {config.out}/samples.png, losses.png, metrics.json, checkpoint.pt (step {result['steps_done']})")
    return 130 if result["status"] == "interrupted" else 0


def _run_image(args: argparse.Namespace) -> int:
    from .image_recipes import default_dcgan, train_dcgan

    extra = {} if args.lr is None else {"lr_g": args.lr, "lr_d": args.lr}
    if args.recipe == "dcgan":
        extra["generator"] = args.generator
    config = default_dcgan(args.recipe == "cgan", steps=args.steps, batch_size=args.batch_size, width=args.width,
                           latent_dim=args.latent_dim, loss=args.loss, ema=args.ema, seed=args.seed, out=args.out,
                           threads=args.threads, sync_batchnorm=args.sync_batchnorm, **extra)
    r = train_dcgan(config, resume=args.resume, progress=not args.no_progress)
    if r.get("nothing_to_do"):
        return 0  # the loop has said why
    if "rank" in r:  # one of several processes: rank 0 reports
        return 130 if r["status"] == "interrupted" else 0
    ref = r["real_reference"]
    print(f"{r['eval_samples']} samples{' of the EMA generator' if r['evaluated'] == 'ema' else ''}: "
          f"classes {r['classes_covered']}/10, label KL {r['label_kl']:.3f}, "
          f"confident {100 * r['confident_fraction']:.1f}%"
          + (f", conditional accuracy {100 * r['conditional_accuracy']:.1f}%" if "conditional_accuracy" in r else ""))
    print(f"FID {r['fid']:.1f} (real digits: {ref['fid']:.1f}), KID {r['kid']:.2f} (real: {ref['kid']:.2f}), "
          f"precision {r['precision']:.2f}, recall {r['recall']:.2f}; "
          f"{r['train_seconds']:.1f} s of training, {r['steps_per_second']:.1f} steps/s")
    print(f"wrote {config.out}/samples_step*.png, samples.png, losses.png, metrics.json, checkpoint.pt "
          f"(step {r['steps_done']})")
    return 130 if r["status"] == "interrupted" else 0


def _run_singan(args: argparse.Namespace) -> int:
    from .singan_train import default_singan, paper_singan, train_singan

    sizes = {k: v for k, v in (("max_size", args.max_size), ("iterations", args.iterations)) if v is not None}
    make = paper_singan if args.paper else default_singan
    config = make(image=args.image, seed=args.seed, out=args.out, threads=args.threads, **sizes)
    r = train_singan(config, resume=args.resume, progress=not args.no_progress)
    if r.get("nothing_to_do"):
        return 0  # the loop has said why
    if r["status"] == "interrupted":
        print(f"stopped at scale {r['scale']}; --resume continues from there")
        return 130
    print(f"{r['scales']} scales, sizes {r['sizes'][0]} to {r['sizes'][-1]}; reconstruction RMSE at the finest scale "
          f"{r['reconstruction_rmse'][-1]:.3f}; patch distance of the samples {r['patch_fid_samples']:.2f} "
          f"(of the reconstruction {r['patch_fid_reconstruction']:.2f}); {r['train_seconds']:.0f} s of training")
    print(f"wrote {config.out}/samples.png, samples_wide.png, reconstruction.png, metrics.json, scale*/")
    return 0


def _run_sr(args: argparse.Namespace) -> int:
    from . import sr_train

    common = {"seed": args.seed, "out": args.out, "threads": args.threads}
    if args.steps is not None:
        common["steps"] = args.steps
    if args.recipe == "srresnet":
        make = sr_train.paper_srresnet if args.paper else sr_train.default_srresnet
        extra = {k: v for k, v in (("channels", args.channels), ("blocks", args.blocks), ("lr", args.lr))
                 if v is not None}
        extra |= {"batch_norm": False} if args.no_batch_norm else {}
        extra |= {"bicubic_skip": False} if args.no_bicubic_skip else {}
        config, train = make(**common, **extra), sr_train.train_srresnet
    else:
        make = sr_train.paper_srgan if args.paper else sr_train.default_srgan
        extra = {} if args.content is None else {"content": args.content}
        config = make(**common, **extra, init=args.init, adversarial_weight=args.adversarial_weight,
                      pixel_weight=args.pixel_weight)
        train = sr_train.train_srgan
    r = train(config, resume=args.resume, progress=not args.no_progress)
    if r.get("nothing_to_do"):
        return 0  # the loop has said why
    if r["status"] == "interrupted":
        print(f"stopped at step {r['steps_done']}; --resume continues from there")
        return 130
    for name, psnr in r["psnr"].items():
        print(f"{name}: Y-PSNR {psnr:.2f} dB (bicubic {r['psnr_bicubic'][name]:.2f}), SSIM {r['ssim'][name]:.3f} "
              f"(bicubic {r['ssim_bicubic'][name]:.3f})")
    print(f"{r['train_seconds']:.0f} s of training; wrote {config.out}/crops.png, losses.png, metrics.json, "
          f"checkpoint.pt (step {r['steps_done']})")
    return 0


def _run_vae(args: argparse.Namespace) -> int:
    from .vae_train import default_vae, train_vae

    config = default_vae(beta=args.beta, latent_dim=args.latent_dim, decoder=args.decoder, free_bits=args.free_bits,
                         kl_warmup=args.kl_warmup, binarize=not args.grey, adversarial=args.adversarial,
                         steps=args.steps, seed=args.seed, out=args.out, threads=args.threads)
    r = train_vae(config, resume=args.resume, progress=not args.no_progress)
    if r.get("nothing_to_do"):
        return 0  # the loop has said why
    if r["status"] == "interrupted":
        print(f"stopped at step {r['steps_done']}; --resume continues from there")
        return 130
    data = "binarised" if config.binarize else "grey"
    print(f"1,000 {data} held-out digits: ELBO {r['elbo']:.1f} nats, IWAE bound {r['iwae']:.1f} nats "
          f"(k={config.iwae_k}), reconstruction {r['reconstruction']:.1f}, KL {r['kl']:.1f}")
    if "baseline" in r:
        print(f"independent-pixel Bernoulli baseline: {r['baseline']:.1f} nats; the VAE is "
              f"{r['iwae'] - r['baseline']:.1f} nats better")
    print(f"{config.eval_samples} samples: FID {r['fid']:.1f}, precision {r['precision']:.2f}, recall "
          f"{r['recall']:.2f}, classes {r['classes_covered']}/10; {r['train_seconds']:.0f} s of training")
    print(f"wrote {config.out}/samples.png, reconstructions.png, losses.png, metrics.json, checkpoint.pt")
    return 0


def _run_cyclegan(args: argparse.Namespace) -> int:
    from .cyclegan_train import default_cyclegan, train_cyclegan

    config = default_cyclegan(steps=args.steps, lambda_cycle=args.lambda_cycle, lambda_identity=args.lambda_identity,
                              pool=args.pool, blocks=args.blocks, width=args.width, seed=args.seed, out=args.out,
                              threads=args.threads)
    r = train_cyclegan(config, resume=args.resume, progress=not args.no_progress)
    if r.get("nothing_to_do"):
        return 0  # the loop has said why
    if r["status"] == "interrupted":
        print(f"stopped at step {r['steps_done']}; --resume continues from there")
        return 130
    n = config.eval_images
    print(f"handwritten -> typeset ({n} held-out digits): content kept {r['content_a2b']:.1%}, FID {r['fid_b']:.1f}, "
          f"cycle error {r['cycle_a']:.3f}")
    print(f"typeset -> handwritten ({n} held-out digits): content kept {r['content_b2a']:.1%}, FID {r['fid_a']:.1f}, "
          f"cycle error {r['cycle_b']:.3f}")
    print(f"{r['train_seconds']:.0f} s of training; wrote {config.out}/translations.png, losses.png, metrics.json, "
          f"checkpoint.pt")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command line draws to files, never to a window
    args = build_parser().parse_args(argv)
    from .checkpoint import CheckpointError, CheckpointWriteError
    from .train import TrainingDiverged

    try:
        if args.command == "doctor":
            from .doctor import MIN_HISTORY, examine_run, report

            findings, logged = examine_run(args.run)
            print(f"{args.run}:\n{report(findings)}")
            if not findings and logged < MIN_HISTORY:
                print(f"(its history has {logged} logged steps; the doctor judges runs of at least "
                      f"{MIN_HISTORY}, and reports only divergence on shorter ones)")
            return 1 if findings else 0
        if args.command == "train" and args.recipe == "toy2d":
            return _run_toy2d(args)
        if args.command == "train" and args.recipe in ("dcgan", "cgan"):
            return _run_image(args)
        if args.command == "train" and args.recipe == "singan":
            return _run_singan(args)
        if args.command == "train" and args.recipe in ("srresnet", "srgan"):
            return _run_sr(args)
        if args.command == "train" and args.recipe == "vae":
            return _run_vae(args)
        if args.command == "train" and args.recipe == "cyclegan":
            return _run_cyclegan(args)
    except CheckpointWriteError as err:  # disk full, folder not writable: keep the state somewhere else
        print(f"ganlab: error: {err}", file=sys.stderr)
        rescue = Path(tempfile.gettempdir()) / f"ganlab-rescued-step{err.payload.get('step')}-{os.getpid()}.pt"
        try:
            err.save(rescue)
        except CheckpointWriteError as again:
            print(f"ganlab: it could not be written to {rescue} either: {again}", file=sys.stderr)
        else:
            print(f"ganlab: the run's state was written to {rescue} instead: copy it to OUT/checkpoint.pt "
                  "(in a folder with space) and add --resume to continue.", file=sys.stderr)
        return 2
    except (CheckpointError, TrainingDiverged, ValueError, FileNotFoundError) as err:
        print(f"ganlab: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C: the loop has said what was (not) saved
        return 130
    raise AssertionError(f"unhandled command {args.command} {getattr(args, 'recipe', '')}")


if __name__ == "__main__":
    sys.exit(main())

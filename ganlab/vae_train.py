"""The VAE recipe: ``ganlab train vae`` trains ``vae.ConvVAE`` on the 4,000 training digits (28 px) with the
negative ELBO on the shared loop (``ganlab.loop.run_steps``: progress, NaN guard, Ctrl-C, checkpoints, resume),
then measures it as chapter 03 measures a GAN and as the VAE literature measures a likelihood model.

By default the digits are binarised (``vae.binarize``: afresh for every training batch, once with a fixed
seed for the held-out digits), so that the Bernoulli decoder's ELBO and importance-weighted bound are bounds
on the log-probability of the held-out binary images, comparable with the independent-pixel baseline
(``vae.pixel_bernoulli_log_likelihood``) and, loosely, with published binarised-MNIST figures.
``adversarial`` > 0 adds a GAN term to the decoder (a VAE-GAN in the spirit of Larsen et al. 2016): a
DCGAN discriminator learns to tell the decoder's mean images at z ~ N(0, I) from real grey digits, and the
decoder minimises ``adversarial`` times the non-saturating GAN loss on top of the negative ELBO.

A run folder holds ``samples.png`` (64 samples, the decoder's mean at z ~ N(0, I)),
``reconstructions.png`` (held-out digits above their reconstructions), ``losses.png`` and
``metrics.json``: the ELBO and the importance-weighted bound (IWAE, k = ``iwae_k``) on the 1,000
held-out digits in nats per image, the reconstruction term and the KL, the image scores of
``evaluate_images`` (FID, KID, precision, recall, classes) on ``eval_samples`` samples, the number of
active latent units (``vae.active_units``), seconds and the config. With binarised digits it also holds
``baseline``, the independent-pixel Bernoulli's log-likelihood of the same held-out images.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from . import validate
from .checkpoint import restore
from .doctor import summary
from .env import fast, get_device, seed_everything
from .image_metrics import evaluate_images
from .image_recipes import heldout_mnist, training_digits
from .convnets import DCGANDiscriminator
from .losses import d_loss_bce, g_loss_nonsaturating
from .loop import run_steps
from .plot import save_panels
from .recipes import (cpu_threads, finished_metrics, holds_same_run, open_run, read_run, run_identity,
                      stopped_early, train_in_folder, write_metrics)
from .vae import (DECODERS, ConvVAE, active_units, binarize, importance_weighted_bound, negative_elbo,
                  pixel_bernoulli_log_likelihood)

__all__ = ["VAEConfig", "default_vae", "build_vae", "heldout_digits", "train_vae", "load_vae", "load_or_train_vae",
           "evaluate_vae"]


@dataclass
class VAEConfig:
    """A convolutional VAE on the offline digits. The defaults train in about a minute on 2 CPU cores."""

    latent_dim: int = 16
    width: int = 32  # channels of the first convolution (the second has twice as many)
    decoder: str = "bernoulli"  # "bernoulli", "continuous_bernoulli" or "gaussian" (see ganlab.vae)
    binarize: bool = True  # model binarised digits (vae.binarize); False: the grey levels
    sigma: float = 0.1  # the Gaussian decoder's fixed standard deviation, in [-1, 1] units
    beta: float = 1.0  # the KL's weight: 1 is the ELBO; beta-VAE (Higgins et al. 2017) weighs it more
    free_bits: float = 0.0  # nats per latent dimension below which the KL is not penalised (0: off)
    kl_warmup: float = 0.0  # fraction of the run over which beta rises linearly from 0 (0: off)
    steps: int = 3000
    batch_size: int = 64
    lr: float = 1e-3  # Adam
    eval_samples: int = 2000  # samples scored by evaluate_images
    iwae_k: int = 64  # importance samples per held-out digit for the likelihood estimate
    adversarial: float = 0.0  # weight of the decoder's GAN loss against a DCGAN discriminator (0: a plain VAE)
    lr_d: float = 2e-4  # Adam (beta1 0.5) learning rate of that discriminator
    seed: int = 0
    threads: int = 1  # these small networks gain little from a second thread (0: leave as set)
    out: str = "runs/vae"

    def __post_init__(self) -> None:
        for name in ("latent_dim", "width", "steps", "batch_size", "eval_samples", "iwae_k"):
            validate.integer(name, getattr(self, name))
        validate.choice("decoder", self.decoder, DECODERS)
        validate.number("sigma", self.sigma, low=0, low_open=True)
        validate.number("beta", self.beta, low=0)
        validate.number("free_bits", self.free_bits, low=0)
        validate.number("kl_warmup", self.kl_warmup, low=0, high=1)
        validate.number("lr", self.lr, low=0, low_open=True)
        validate.flag("binarize", self.binarize)
        validate.number("adversarial", self.adversarial, low=0)
        validate.number("lr_d", self.lr_d, low=0, low_open=True)
        validate.integer("seed", self.seed, low=0)
        validate.integer("threads", self.threads, low=0)
        validate.instance("out", self.out, str, "a folder name")


def default_vae(**overrides) -> VAEConfig:
    """``VAEConfig`` with fast-mode sizes applied (40 steps, 200 samples, k = 4), then ``overrides``."""
    base = VAEConfig(steps=fast(40, VAEConfig.steps), eval_samples=fast(200, VAEConfig.eval_samples),
                     iwae_k=fast(4, VAEConfig.iwae_k))
    return validate.replaced(base, **overrides)


def build_vae(config: VAEConfig) -> ConvVAE:
    validate.instance("config", config, VAEConfig, "a VAEConfig, e.g. default_vae()")
    return ConvVAE(config.latent_dim, config.width, config.decoder, config.sigma)


HELDOUT_BINARIZATION_SEED = 0  # every run is scored on the same binary held-out images


def heldout_digits(binary: bool = True) -> torch.Tensor:
    """The 1,000 held-out digits (100 per class) the VAE is scored on: binarised once with a fixed seed, or grey."""
    validate.flag("binary", binary)
    grey = heldout_mnist()[0]
    return binarize(grey, torch.Generator().manual_seed(HELDOUT_BINARIZATION_SEED)) if binary else grey


@torch.no_grad()
def evaluate_vae(model: ConvVAE, config: VAEConfig) -> dict:
    """ELBO, IWAE bound, reconstruction and KL on the held-out digits (nats per image), the independent-pixel
    baseline on the same digits where they are binary, and the image scores of samples."""
    validate.instance("model", model, ConvVAE, "a ConvVAE")
    validate.instance("config", config, VAEConfig, "a VAEConfig")
    model.eval()
    heldout = heldout_digits(config.binarize)
    g = torch.Generator().manual_seed(config.seed + 3)
    parts = [negative_elbo(model, heldout[i:i + 250], generator=g) for i in range(0, len(heldout), 250)]
    mean = lambda key: sum(p[key].item() for p in parts) / len(parts)  # noqa: E731  (equal chunks of 250)
    iwae = torch.cat([importance_weighted_bound(model, heldout[i:i + 250], config.iwae_k, g)
                      for i in range(0, len(heldout), 250)])
    samples = model.sample(config.eval_samples, torch.Generator().manual_seed(config.seed + 2))
    scores = {"elbo": mean("elbo"), "iwae": iwae.mean().item(), "reconstruction": mean("reconstruction"),
              "kl": mean("kl"), "active_units": active_units(model, heldout)}
    if config.binarize:
        train = training_digits(image_size=28)
        scores["baseline"] = pixel_bernoulli_log_likelihood(train, heldout).mean().item()
    return scores | evaluate_images(samples)


def _save_pictures(model: ConvVAE, out: Path, config: VAEConfig) -> None:
    from torchvision.utils import save_image

    save_image((model.sample(64, torch.Generator().manual_seed(config.seed + 2)) + 1) / 2, out / "samples.png",
               nrow=8, padding=2, pad_value=1.0)
    heldout = heldout_digits(config.binarize)[::100][:8]  # one of each of the first eight classes' blocks
    with torch.no_grad():
        mu, _ = model.encode(heldout)
        rec = model.mean_image(model.decode(mu))
    save_image((torch.cat([heldout, rec]) + 1) / 2, out / "reconstructions.png", nrow=8, padding=2, pad_value=1.0)


def train_vae(config: VAEConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train the VAE of ``config``, write its run folder, return the metrics (as in metrics.json)."""
    out = open_run(config, VAEConfig, "a VAEConfig, e.g. default_vae()", resume, progress)
    with cpu_threads(config.threads):
        seed_everything(config.seed)
        device = get_device()
        model = build_vae(config).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        state = {"model": model, "opt": opt}
        if config.adversarial:
            D = DCGANDiscriminator(channels=1, width=config.width, image_size=28).to(device)
            opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=(0.5, 0.999))
            state |= {"D": D, "opt_d": opt_d}
        digits = training_digits(image_size=28).to(device)
        batches = torch.Generator().manual_seed(config.seed)
        state["batches"] = batches
        warmup = round(config.kl_warmup * config.steps)

        def step(i: int) -> dict[str, float]:
            grey = digits[torch.randint(len(digits), (config.batch_size,), generator=batches).to(device)]
            x = binarize(grey, batches) if config.binarize else grey
            beta = config.beta * (min(1.0, i / warmup) if warmup else 1.0)
            parts = negative_elbo(model, x, beta, config.free_bits, generator=batches)
            loss = parts["loss"]
            if config.adversarial:  # D: real grey digits against the decoder's mean images at z ~ p(z)
                z = torch.randn(config.batch_size, config.latent_dim, generator=batches).to(device)
                fake = model.mean_image(model.decode(z))
                parts["d_loss"] = d_loss_bce(D(grey), D(fake.detach()))
                opt_d.zero_grad(set_to_none=True)
                parts["d_loss"].backward()
                opt_d.step()
                parts["g_adv"] = g_loss_nonsaturating(D(fake))
                loss = loss + config.adversarial * parts["g_adv"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {k: v.item() for k, v in parts.items()} | {"beta": beta}

        began = time.perf_counter()
        history = train_in_folder(out, config, lambda: run_steps(
            step, steps=config.steps, state=state,
            config=run_identity("vae", config), checkpoint=out / "checkpoint.pt", resume=resume,
            log_every=max(1, config.steps // 100), checkpoint_every=max(1, config.steps // 10), progress=progress,
            doctor=True))
        stopped = stopped_early(out, history, config)
        if stopped is not None:
            return stopped
        seconds = time.perf_counter() - began
        model = model.cpu()
        result = {"status": "finished", "steps_done": history.last_step, **evaluate_vae(model, config),
                  "train_seconds": round(seconds, 2), "threads": torch.get_num_threads(),
                  "doctor": summary(history.findings), "config": dataclasses.asdict(config)}
        _save_pictures(model, out, config)
        save_panels(history, out / "losses.png", log_scale=("reconstruction",))
        write_metrics(out, result)
        return result


def load_vae(out) -> ConvVAE:
    """The VAE saved in the run folder ``out``, in eval mode on the CPU."""
    saved, fields, path = read_run(out, "vae", "a VAE")
    config = VAEConfig(**fields, out=str(out))
    model = build_vae(config)
    restore(saved, path, restore_rng=False, model=model)
    return model.eval()


def load_or_train_vae(config: VAEConfig, progress: bool = True) -> tuple[ConvVAE, dict]:
    """(the VAE, in eval mode on the CPU; metrics) of the finished run in ``config.out`` made with this config,
    else train it first (continuing a stopped run of the same config)."""
    validate.instance("config", config, VAEConfig, "a VAEConfig, e.g. default_vae()")
    metrics = finished_metrics(Path(config.out), config, ("threads", "out"))
    if metrics is None:
        metrics = train_vae(config, resume=holds_same_run(Path(config.out) / "checkpoint.pt", "vae", config),
                            progress=progress)
    return load_vae(config.out), metrics

"""The super-resolution recipes: SRResNet on the pixel loss, then SRGAN fine-tuned from it (Ledig et al., CVPR 2017).

``ganlab train srresnet`` trains ``srgan.SRResNet`` on random patch pairs of the training images
(``superres.SRPatches``; the images in ``superres.HELD_OUT`` are never cropped) with the pixel loss
mean (G(LR) - HR)^2. ``ganlab train srgan`` starts from that run's generator and trains it against
``srgan.SRDiscriminator`` with the paper's perceptual loss

    l_G = content(G(LR), HR) + adversarial_weight * (-log D(G(LR)))            (eq. 3, with 10^-3)
    l_D = -log D(HR) - log(1 - D(G(LR)))

where the content loss compares features of a fixed network (``srgan.random_features`` offline,
``srgan.vgg19_features`` where downloads are allowed, or the pixels). Both use the shared loop
(``ganlab.loop.run_steps``): progress, NaN guard, Ctrl-C, checkpoints and ``resume``.

The paper's schedule is far beyond a CPU: SRResNet 10^6 updates at Adam 10^-4, SRGAN 10^5 at
10^-4 and 10^5 at 10^-5, batches of 16 crops of 96 px from 350,000 ImageNet images. The course's
defaults (below, each reduction explained beside its field) train in minutes on 2 cores; the
paper's networks are ``paper_srresnet()`` and ``paper_srgan()``.

A run folder holds ``checkpoint.pt``; ``crops.png``, a zoomed crop of each held-out image (the
window where bicubic errs most) as LR | bicubic | SRResNet | (SRGAN) | HR; ``losses.png``; and
``metrics.json``: Y-PSNR and SSIM (``superres.psnr_y``, ``ssim_y``) of the model and of bicubic on
every held-out image, the seconds and the config.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate
from .checkpoint import CheckpointError, read_checkpoint, restore
from .doctor import summary
from .env import fast, get_device, seed_everything
from .loop import History, run_steps
from .losses import d_loss_bce, g_loss_nonsaturating
from .plot import save_panels
from .recipes import (cpu_threads, finished_metrics, holds_same_run, open_run, run_identity, stopped_early,
                      train_in_folder, write_metrics)
from .srgan import SRDiscriminator, SRResNet, content_loss, random_features, vgg19_features
from .superres import SCALE, HELD_OUT, SRPatches, held_out_images, psnr_y, ssim_y, upscale_bicubic

__all__ = ["SRResNetConfig", "SRGANConfig", "default_srresnet", "default_srgan", "paper_srresnet", "paper_srgan",
           "train_srresnet", "train_srgan", "load_srresnet", "load_or_train_srresnet", "load_or_train_srgan",
           "evaluate_sr", "CONTENT_LOSSES"]

CONTENT_LOSSES = ("random", "vgg19", "pixel")
_NOT_G = ("threads", "out")  # settings that leave the trained network as it is


@dataclass
class SRResNetConfig:
    """SRResNet on the pixel loss. The defaults are the course's CPU run; ``paper_srresnet()`` gives the paper's."""

    scale: int = SCALE
    channels: int = 32  # paper 64: half the width is a quarter of the cost of every 3x3 convolution
    blocks: int = 6  # paper 16 residual blocks
    batch_norm: bool = True  # as in the paper; False is EDSR's choice
    outer_kernel: int = 9  # the 9x9 first and last convolutions of the paper
    # not in the paper (VDSR's global residual): in a trial of 500 updates (32 channels, 6 blocks, Adam 1e-3) it
    # gave +1.4 and +1.0 dB over bicubic on the held-out images, against +0.4 and +0.0 without it
    bicubic_skip: bool = True
    lr_patch: int = 16  # low-resolution crop side, px (paper 24, i.e. 96 px HR crops); 16 costs 2.25x less per crop
    batch_size: int = 16  # as in the paper
    steps: int = 3000  # paper 10^6 updates
    lr: float = 1e-3  # Adam (paper 1e-4, over 10^6 updates; 10x larger for a run 300x shorter)
    lr_decay: float = 0.5  # the last half of the run anneals the learning rate linearly to 0 (the paper keeps it)
    seed: int = 0  # seeds the weights and the stream of training crops
    threads: int = 2  # CPU threads for PyTorch during the run (0: leave as set)
    out: str = "runs/srresnet"

    def __post_init__(self) -> None:
        validate.integer("scale", self.scale, low=2, high=8)
        if self.scale & (self.scale - 1):
            raise ValueError(f"scale must be 2, 4 or 8 (SRResNet upsamples in x2 steps), got {self.scale}")
        for name in ("channels", "outer_kernel", "batch_size", "steps"):
            validate.integer(name, getattr(self, name))
        validate.integer("blocks", self.blocks, low=0)
        validate.integer("lr_patch", self.lr_patch, low=4)
        validate.flag("batch_norm", self.batch_norm)
        validate.flag("bicubic_skip", self.bicubic_skip)
        validate.number("lr", self.lr, low=0, low_open=True)
        validate.number("lr_decay", self.lr_decay, low=0, high=1)
        validate.integer("seed", self.seed, low=0)
        validate.integer("threads", self.threads, low=0)
        validate.instance("out", self.out, str, "a folder name")

    def generator(self) -> SRResNet:
        return SRResNet(self.scale, self.channels, self.blocks, self.batch_norm, self.outer_kernel, self.bicubic_skip)


@dataclass
class SRGANConfig:
    """SRGAN: the generator of the SRResNet run in ``init`` fine-tuned with content + adversarial loss."""

    init: str = "runs/srresnet"  # a finished SRResNet run folder: where G starts (the paper starts from SRResNet too)
    content: str = "random"  # the content loss's features: "random" (offline), "vgg19" (a download), "pixel"
    adversarial_weight: float = 1e-3  # the paper's 10^-3 on -log D(G(LR))
    # the course's addition: a little pixel loss keeps colours anchored when phi is random and the run is short
    pixel_weight: float = 0.0
    d_width: int = 16  # SRGAN's D: first layer's channels (paper 64)
    d_dense: int = 128  # its dense layer (paper 1024)
    # 4 (paper 3): in trials of 600 updates, kernel 3 in D's stride-2 layers left a regular grid in G's flat regions,
    # with any content loss (random features, pixels) and adversarial weight (1e-3, 1e-2); kernel 4 did not
    d_stride_kernel: int = 4
    lr_patch: int = 16  # as the SRResNet run
    batch_size: int = 16  # as in the paper
    steps: int = 1000  # paper 2 x 10^5
    lr: float = 1e-4  # Adam for both players, betas (0.9, 0.999): the paper's 10^-4
    lr_decay: float = 0.5  # the last half anneals to 0 (the paper drops to 10^-5 halfway)
    seed: int = 0
    threads: int = 2
    out: str = "runs/srgan"

    def __post_init__(self) -> None:
        validate.instance("init", self.init, str, "the folder of a finished SRResNet run")
        validate.choice("content loss", self.content, CONTENT_LOSSES)
        validate.number("adversarial_weight", self.adversarial_weight, low=0)
        validate.number("pixel_weight", self.pixel_weight, low=0)
        for name in ("d_width", "d_dense", "batch_size", "steps"):
            validate.integer(name, getattr(self, name))
        validate.choice("d_stride_kernel", self.d_stride_kernel, (3, 4))
        validate.integer("lr_patch", self.lr_patch, low=4)
        validate.number("lr", self.lr, low=0, low_open=True)
        validate.number("lr_decay", self.lr_decay, low=0, high=1)
        validate.integer("seed", self.seed, low=0)
        validate.integer("threads", self.threads, low=0)
        validate.instance("out", self.out, str, "a folder name")


def default_srresnet(**overrides) -> SRResNetConfig:
    """``SRResNetConfig`` with fast-mode sizes applied (16 channels, 2 blocks, 30 steps), then ``overrides``."""
    base = SRResNetConfig(channels=fast(16, SRResNetConfig.channels), blocks=fast(2, SRResNetConfig.blocks),
                          steps=fast(30, SRResNetConfig.steps))
    return validate.replaced(base, **overrides)


def default_srgan(**overrides) -> SRGANConfig:
    """``SRGANConfig`` with fast-mode sizes applied (20 steps, a narrower D), then ``overrides``."""
    base = SRGANConfig(steps=fast(20, SRGANConfig.steps), d_width=fast(8, SRGANConfig.d_width),
                       d_dense=fast(32, SRGANConfig.d_dense))
    return validate.replaced(base, **overrides)


def paper_srresnet(**overrides) -> SRResNetConfig:
    """The paper's SRResNet: 64 channels, 16 blocks, 96 px crops, Adam 1e-4 for 10^6 updates (days on a CPU)."""
    return validate.replaced(SRResNetConfig(channels=64, blocks=16, bicubic_skip=False, lr_patch=24,
                                            steps=1_000_000, lr=1e-4, lr_decay=0.0), **overrides)


def paper_srgan(**overrides) -> SRGANConfig:
    """The paper's SRGAN: VGG54 content loss, D of width 64 and dense 1024, 96 px crops, 2 x 10^5 updates."""
    return validate.replaced(SRGANConfig(content="vgg19", d_width=64, d_dense=1024, d_stride_kernel=3, lr_patch=24,
                                         steps=200_000), **overrides)


# --------------------------------------------------------------------------- evaluation and pictures
def evaluate_sr(G: nn.Module | None, scale: int = SCALE, names: tuple[str, ...] = HELD_OUT) -> dict[str, dict]:
    """Y-PSNR and SSIM of ``G`` (None: bicubic) on each held-out image: {name: {"psnr": dB, "ssim": s}}."""
    if G is not None and not callable(getattr(G, "super_resolve", None)):
        raise TypeError(f"G must be an SR generator with a super_resolve method (an SRResNet), or None for bicubic; "
                        f"got {type(G).__name__}")
    scores = {}
    for im in held_out_images(scale, names):
        sr = upscale_bicubic(im.lr[None], scale) if G is None else G.super_resolve(im.lr[None])
        hr = im.hr[None]
        scores[im.name] = {"psnr": psnr_y(sr, hr, scale).item(), "ssim": ssim_y(sr, hr, scale).item()}
    return scores


def worst_window(error: Tensor, size: int) -> tuple[int, int]:
    """(top, left) of the ``size`` x ``size`` window of ``error`` (H, W) with the largest sum: where zooming shows
    most."""
    validate.tensor("error", error, shape=("H", "W"))
    validate.integer("size", size, high=min(error.shape))
    stride = max(1, size // 4)
    sums = F.avg_pool2d(error[None, None], size, stride=stride)[0, 0]
    i, j = divmod(int(sums.argmax()), sums.shape[1])
    return i * stride, j * stride


def save_crops(path: Path, models: dict[str, nn.Module], scale: int = SCALE, size: int = 96) -> None:
    """``path``: for each held-out image, the window where bicubic errs most, as LR | bicubic | each model | HR,
    titled with each method's Y-PSNR on the whole image."""
    import matplotlib.pyplot as plt

    images = held_out_images(scale)
    columns = ["LR (nearest)", "bicubic", *models, "HR"]
    fig, axes = plt.subplots(len(images), len(columns), figsize=(2.1 * len(columns), 2.3 * len(images)), squeeze=False)
    for r, (row, im) in enumerate(zip(axes, images)):
        bicubic = upscale_bicubic(im.lr[None], scale)
        top, left = worst_window((bicubic - im.hr[None]).abs().mean(dim=(0, 1)), size)
        shown = [F.interpolate(im.lr[None], scale_factor=scale, mode="nearest"), bicubic,
                 *[G.super_resolve(im.lr[None]) for G in models.values()], im.hr[None]]
        for ax, x, title in zip(row, shown, columns):
            crop = x[0, :, top:top + size, left:left + size]
            ax.imshow(((crop.permute(1, 2, 0).clamp(-1, 1) + 1) / 2).numpy(), interpolation="nearest")
            score = "" if title.startswith(("LR", "HR")) else f"\n{psnr_y(x, im.hr[None], scale).item():.2f} dB"
            ax.set_title(f"{title}{score}" if r == 0 or score else "", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(im.name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _lr_factor(steps: int, decay: float):
    start = round(steps * (1 - decay))  # constant until here, then linear to 0 at ``steps``
    # step i trains with the rate of the step before it is taken, so the last step still moves (as TrainConfig)
    return lambda i: 1.0 if i <= start else max(0.0, (steps - i + 1) / max(1, steps - start))


def _result(G: nn.Module, config, history: History, seconds: float, scale: int) -> dict:
    model, bicubic = evaluate_sr(G, scale), evaluate_sr(None, scale)
    mean = lambda d, k: sum(v[k] for v in d.values()) / len(d)  # noqa: E731
    return {"status": "finished", "steps_done": history.last_step,
            "psnr": {k: v["psnr"] for k, v in model.items()}, "ssim": {k: v["ssim"] for k, v in model.items()},
            "psnr_bicubic": {k: v["psnr"] for k, v in bicubic.items()},
            "ssim_bicubic": {k: v["ssim"] for k, v in bicubic.items()},
            "psnr_mean": mean(model, "psnr"), "ssim_mean": mean(model, "ssim"),
            "psnr_bicubic_mean": mean(bicubic, "psnr"), "ssim_bicubic_mean": mean(bicubic, "ssim"),
            "weights": sum(p.numel() for p in G.parameters()), "train_seconds": round(seconds, 2),
            "threads": torch.get_num_threads(), "config": dataclasses.asdict(config)}


def _run(step, state: dict, identity: dict, config, G: SRResNet, before: dict[str, nn.Module], scale: int,
         resume: bool, progress: bool) -> dict:
    """Both recipes' loop and ending: ``run_steps`` on ``config.out``, then (unless stopped or already done) the
    scores, crops.png (``before``'s networks beside this one's G), losses.png and metrics.json."""
    out = Path(config.out)
    began = time.perf_counter()
    history = train_in_folder(out, config, lambda: run_steps(
        step, steps=config.steps, state=state, config=identity, checkpoint=out / "checkpoint.pt", resume=resume,
        lr_factor=_lr_factor(config.steps, config.lr_decay), log_every=max(1, config.steps // 100),
        checkpoint_every=max(1, config.steps // 10), progress=progress, doctor=True))
    stopped = stopped_early(out, history, config)
    if stopped is not None:
        return stopped
    G = G.cpu()
    result = _result(G, config, history, time.perf_counter() - began, scale) | {"doctor": summary(history.findings)}
    if before:  # SRGAN: where it started
        result["psnr_init"] = evaluate_sr(before["SRResNet"], scale)
    save_crops(out / "crops.png", {**before, ("SRGAN" if before else "SRResNet"): G}, scale)
    save_panels(history, out / "losses.png", log_scale=("loss_pixel", "loss_content"))
    write_metrics(out, result)
    return result


# --------------------------------------------------------------------------- SRResNet
def train_srresnet(config: SRResNetConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train SRResNet on the pixel loss, write the run folder ``config.out``, return its metrics (as metrics.json)."""
    open_run(config, SRResNetConfig, "an SRResNetConfig, e.g. default_srresnet()", resume, progress)
    with cpu_threads(config.threads):
        seed_everything(config.seed)
        device = get_device()
        G = config.generator().to(device)
        opt = torch.optim.Adam(G.parameters(), lr=config.lr)
        patches, crops = SRPatches(scale=config.scale, lr_patch=config.lr_patch), torch.Generator().manual_seed(
            config.seed)

        def step(_: int) -> dict[str, float]:
            lr, hr = (x.to(device) for x in patches.sample(config.batch_size, crops))
            loss = F.mse_loss(G(lr), hr)  # the pixel loss: mean over pixels and channels
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss_pixel": loss.item()}

        state = {"G": G, "opt": opt, "crops": crops}
        return _run(step, state, run_identity("srresnet", config), config, G, {}, config.scale, resume, progress)


def load_srresnet(out: str | os.PathLike) -> SRResNet:
    """The SRResNet saved in the run folder ``out``, in eval mode on the CPU."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a run folder (a str or pathlib.Path), got {type(out).__name__}")
    path = Path(out) / "checkpoint.pt"
    if not path.is_file():
        raise CheckpointError(f"no SRResNet checkpoint in {out}: train one first (ganlab train srresnet --out {out}, "
                              f"or load_or_train_srresnet(config))")
    saved = read_checkpoint(path)
    if saved["config"].get("recipe") not in ("srresnet", "srgan"):
        raise CheckpointError(f"{path} is a checkpoint of recipe {saved['config'].get('recipe')!r}, not an SR "
                              f"generator")
    G = _generator_of(saved["config"])
    restore(saved, path, restore_rng=False, G=G)
    return G.eval()


def _generator_of(identity: dict) -> SRResNet:
    arch = identity["generator"] if identity["recipe"] == "srgan" else identity
    return SRResNet(arch["scale"], arch["channels"], arch["blocks"], arch["batch_norm"], arch["outer_kernel"],
                    arch["bicubic_skip"])


def load_or_train_srresnet(config: SRResNetConfig, progress: bool = True) -> tuple[SRResNet, dict]:
    """(the SRResNet, in eval mode on the CPU; metrics) of the finished run in ``config.out`` if it was made with
    this config, else train it first (continuing a stopped run of the same config)."""
    validate.instance("config", config, SRResNetConfig, "an SRResNetConfig, e.g. default_srresnet()")
    metrics = finished_metrics(Path(config.out), config, _NOT_G)
    if metrics is None:
        metrics = train_srresnet(config, resume=holds_same_run(Path(config.out) / "checkpoint.pt", "srresnet", config),
                                 progress=progress)
    return load_srresnet(config.out), metrics


# --------------------------------------------------------------------------- SRGAN
def content_network(config: SRGANConfig) -> nn.Module | None:
    """phi of the content loss named by ``config.content`` (None for the pixel loss)."""
    if config.content == "random":
        return random_features()
    if config.content == "vgg19":
        return vgg19_features()
    return None


def _srgan_identity(config: SRGANConfig, init: dict) -> dict:
    """The SRGAN run's identity: its settings and the SRResNet run it starts from (whose folder may move)."""
    return {**run_identity("srgan", config), "init": None,
            "generator": {k: v for k, v in init.items() if k not in ("recipe",)}}


def train_srgan(config: SRGANConfig, resume: bool = False, progress: bool = True) -> dict:
    """Fine-tune the SRResNet of ``config.init`` as SRGAN, write ``config.out``, return the metrics."""
    validate.instance("config", config, SRGANConfig, "an SRGANConfig, e.g. default_srgan()")
    validate.flag("resume", resume)
    validate.flag("progress", progress)
    init_path = Path(config.init) / "checkpoint.pt"
    if not init_path.is_file():
        raise FileNotFoundError(f"SRGAN starts from a trained SRResNet, and {init_path} does not exist: train it first "
                                f"with `ganlab train srresnet --out {config.init}`, or point init at its folder")
    init = read_checkpoint(init_path)
    if init["config"].get("recipe") != "srresnet":
        raise CheckpointError(f"{init_path} is not an SRResNet checkpoint (recipe {init['config'].get('recipe')!r})")
    arch = SRResNetConfig(**{k: v for k, v in init["config"].items() if k != "recipe"})
    record = _metrics(Path(config.init))
    if record.get("status") != "finished" or record.get("steps_done") != init["step"]:
        raise CheckpointError(f"the SRResNet run in {config.init} has not finished (its metrics.json says "
                              f"{record.get('status', 'nothing')!r}, the checkpoint is at step {init['step']}): "
                              f"finish it first with `ganlab train srresnet --out {config.init} --resume`")
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    with cpu_threads(config.threads):
        seed_everything(config.seed)
        device = get_device()
        G = arch.generator()
        restore(init, init_path, restore_rng=False, G=G)
        G_start = load_srresnet(config.init)  # kept for the pictures: SRResNet beside SRGAN
        G.to(device)
        D = SRDiscriminator(config.lr_patch * arch.scale, config.d_width, config.d_dense,
                            config.d_stride_kernel).to(device)
        phi = content_network(config)
        phi = phi.to(device) if phi is not None else None
        opt_g = torch.optim.Adam(G.parameters(), lr=config.lr)
        opt_d = torch.optim.Adam(D.parameters(), lr=config.lr)
        patches = SRPatches(scale=arch.scale, lr_patch=config.lr_patch)
        crops = torch.Generator().manual_seed(config.seed + 1)  # another stream than the SRResNet run's

        def step(_: int) -> dict[str, float]:
            lr, hr = (x.to(device) for x in patches.sample(config.batch_size, crops))
            sr = G(lr)
            d_real, d_fake = D(hr), D(sr.detach())
            loss_d = d_loss_bce(d_real, d_fake)  # -log D(HR) - log(1 - D(G(LR)))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            for p in D.parameters():
                p.requires_grad_(False)  # G's step needs gradients through D, not D's own
            adversarial = g_loss_nonsaturating(D(sr))  # -log D(G(LR))
            for p in D.parameters():
                p.requires_grad_(True)
            pixel = F.mse_loss(sr, hr)
            content = pixel if phi is None else content_loss(phi, sr, hr)
            loss_g = content + config.adversarial_weight * adversarial + config.pixel_weight * pixel
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            return {"loss_d": loss_d.item(), "loss_adversarial": adversarial.item(), "loss_content": content.item(),
                    "loss_pixel": pixel.item(), "d_real": torch.sigmoid(d_real).mean().item(),
                    "d_fake": torch.sigmoid(d_fake).mean().item()}

        state = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "crops": crops}
        return _run(step, state, _srgan_identity(config, init["config"]), config, G, {"SRResNet": G_start}, arch.scale,
                    resume, progress)


def _metrics(out: Path) -> dict:
    try:
        record = json.loads((out / "metrics.json").read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def load_or_train_srgan(config: SRGANConfig, progress: bool = True) -> tuple[SRResNet, dict]:
    """(the SRGAN generator, in eval mode on the CPU; metrics) of the finished run in ``config.out`` if it was made
    with this config, else train it first from the SRResNet in ``config.init``."""
    validate.instance("config", config, SRGANConfig, "an SRGANConfig, e.g. default_srgan()")
    # init is where the start was found, which may be named another way from another folder: the finished run's
    # own checkpoint holds its generator, and its identity the SRResNet settings it started from
    metrics = finished_metrics(Path(config.out), config, _NOT_G + ("init",))
    if metrics is None:
        resume = holds_same_run(Path(config.out) / "checkpoint.pt", "srgan", config, ("init", "generator"))
        metrics = train_srgan(config, resume=resume, progress=progress)
    return load_srresnet(config.out), metrics

"""The CycleGAN recipe: ``ganlab train cyclegan`` translates between handwritten digits (domain A: the 4,000
training digits, 28 px) and typeset ones (domain B: 4,000 digits rendered from matplotlib's fonts,
``ganlab.typeset``), unpaired, on the shared loop (``ganlab.loop.run_steps``: progress, NaN guard, Ctrl-C,
checkpoints, exact resume), then measures what CycleGAN promises.

Training follows the paper (Zhu et al. 2017, sec. 4 and 7.1) and the authors' code: per step, one update of
both generators on L_GAN(G, D_B) + L_GAN(F, D_A) + lambda_cyc (L_cyc(A) + L_cyc(B)) + lambda_id lambda_cyc
(L_id(A) + L_id(B)) (lambda_id 0 by default: see CycleGANConfig) with least-squares GAN losses, then one update
of both discriminators on the halved least-squares loss, their fakes drawn through an ``ImagePool`` of 50 per domain; Adam 2e-4, beta1 0.5; the
learning rate constant for the first half of the run and then linearly down to 0. The paper trains with batch
1 for 200 epochs on 256 px photographs; the recipe's small configuration (``CycleGANConfig`` defaults) trains
batches of 16 digits with smaller networks, for minutes on 2 CPU cores. ``paper_cyclegan()`` is the paper's.

The run folder holds ``translations.png`` (held-out digits of each domain above their translations and their
cycle reconstructions), ``losses.png`` and ``metrics.json``: the content kept in each direction (the course's
classifier reads the translated digit as the digit it came from; it reads 98.8% of handwritten and 97.3%
of typeset held-out digits correctly untranslated), the cycle error (mean absolute error of F(G(a)) - a in
[-1, 1] units, and of G(F(b)) - b), and realism on each target side (FID and KID of the translations against
that domain's held-out digits, on the classifier's features).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from . import validate
from .checkpoint import restore
from .classifier import heldout_mnist, load_classifier
from .data import DownloadNotAllowed
from .cyclegan import (ImagePool, PatchDiscriminator, ResNetGenerator, cycle_loss, d_loss, g_loss, identity_loss,
                       linear_decay)
from .doctor import summary
from .env import downloads_allowed, fast, get_device, seed_everything
from .image_metrics import evaluate_images
from .image_recipes import training_digits
from .loop import run_steps
from .plot import save_panels
from .recipes import (cpu_threads, finished_metrics, holds_same_run, open_run, read_run, run_identity,
                      stopped_early, train_in_folder, write_metrics)
from .superres import _default_root  # the data folder every download of the course shares
from .typeset import HELDOUT_SEED, TRAIN_SEED, typeset_digits

__all__ = ["CycleGANConfig", "default_cyclegan", "paper_cyclegan", "build_cyclegan", "domains", "heldout_domains",
           "photo_domains", "evaluate_translation", "train_cyclegan", "load_cyclegan", "load_or_train_cyclegan"]

# The unpaired photograph sets of the CycleGAN paper, as the authors host them: NAME.zip holds NAME/trainA, trainB,
# testA and testB (cityscapes, which needs its own licence, is not among them).
PHOTO_DATASETS = ("apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
                  "ukiyoe2photo", "vangogh2photo", "maps", "facades", "iphone2dslr_flower")
PHOTO_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class CycleGANConfig:
    """CycleGAN between handwritten (A) and typeset (B) digits. The defaults are the small CPU configuration."""

    width: int = 16  # generator: channels of the first convolution (the paper: 64)
    blocks: int = 6  # generator: residual blocks (the paper: 9 at 256 px, 6 at 128 px)
    downsamplings: int = 2  # generator: stride-2 convolutions before the blocks (the paper: 2)
    d_width: int = 32  # PatchGAN: channels of the first convolution (the paper: 64)
    d_layers: int = 1  # PatchGAN: 3 is the paper's 70 x 70; 1 sees 16 x 16 px (strokes), 2 sees 34 x 34 (a whole digit)
    lambda_cycle: float = 10.0  # weight of the cycle-consistency loss (the paper: 10)
    # weight of the identity loss, as a fraction of lambda_cycle. The paper adds it (0.5) for photographs from
    # paintings only, and the authors' code turns it on (0.5) by default; off here, since on these digits it costs
    # content: 88.7% and 88.3% kept against 94.9% and 94.2% without it (seed 0; chapter 08, section 6c)
    lambda_identity: float = 0.0
    pool: int = 50  # images in each ImagePool (the paper: 50; 0: off)
    steps: int = 3000
    batch_size: int = 16  # the paper: 1
    lr: float = 2e-4  # Adam, both pairs of networks (the paper: 2e-4)
    beta1: float = 0.5  # the paper: 0.5
    decay: float = 0.5  # fraction of the run over which the learning rate falls linearly to 0 (the paper: half)
    eval_images: int = 1000  # held-out digits per domain translated and scored
    seed: int = 0
    threads: int = 2
    out: str = "runs/cyclegan"

    def __post_init__(self) -> None:
        for name in ("width", "downsamplings", "d_width", "d_layers", "steps", "batch_size", "eval_images"):
            validate.integer(name, getattr(self, name))
        validate.integer("blocks", self.blocks, low=0)
        validate.integer("pool", self.pool, low=0)
        validate.number("lambda_cycle", self.lambda_cycle, low=0)
        validate.number("lambda_identity", self.lambda_identity, low=0)
        validate.number("lr", self.lr, low=0, low_open=True)
        validate.number("beta1", self.beta1, low=0, high=1)
        validate.number("decay", self.decay, low=0, high=1)
        validate.integer("eval_images", self.eval_images, high=1000)
        validate.integer("seed", self.seed, low=0)
        validate.integer("threads", self.threads, low=0)
        validate.instance("out", self.out, str, "a folder name")
        if 28 % 2 ** self.downsamplings:
            raise ValueError(f"downsamplings should be 1 or 2 for 28 px digits (28 must divide by 2 ** "
                             f"downsamplings), got {self.downsamplings}")


def default_cyclegan(**overrides) -> CycleGANConfig:
    """``CycleGANConfig`` with fast-mode sizes applied (30 steps, 100 images scored), then ``overrides``."""
    base = CycleGANConfig(steps=fast(30, CycleGANConfig.steps), eval_images=fast(100, CycleGANConfig.eval_images),
                          threads=fast(1, CycleGANConfig.threads))
    return validate.replaced(base, **overrides)


def paper_cyclegan(**overrides) -> CycleGANConfig:
    """The paper's networks (ResNet generator with 9 blocks, 70 x 70 PatchGAN) and batch size 1; too slow for a CPU."""
    return validate.replaced(CycleGANConfig(width=64, blocks=9, d_width=64, d_layers=3, batch_size=1), **overrides)


def build_cyclegan(config: CycleGANConfig) -> dict[str, nn.Module]:
    """{"G": A -> B, "F": B -> A, "D_A", "D_B"} for one-channel digits."""
    validate.instance("config", config, CycleGANConfig, "a CycleGANConfig, e.g. default_cyclegan()")
    gen = lambda: ResNetGenerator(1, 1, config.width, config.blocks, config.downsamplings)  # noqa: E731
    disc = lambda: PatchDiscriminator(1, config.d_width, config.d_layers)  # noqa: E731
    return {"G": gen(), "F": gen(), "D_A": disc(), "D_B": disc()}


@functools.lru_cache(maxsize=None)
def _typeset(n: int, seed: int) -> tuple[Tensor, Tensor]:
    return typeset_digits(n, seed)


def domains() -> tuple[Tensor, Tensor]:
    """The training images of A (the 4,000 handwritten training digits) and B (4,000 typeset digits), 28 px.
    Their order carries no pairing: the recipe draws the two batches of a step independently."""
    return training_digits(image_size=28), _typeset(4000, TRAIN_SEED)[0].clone()


def heldout_domains() -> dict[str, tuple[Tensor, Tensor]]:
    """{"A": the 1,000 held-out handwritten digits and labels, "B": 1,000 typeset digits (another seed) and labels}."""
    images, labels = _typeset(1000, HELDOUT_SEED)
    return {"A": heldout_mnist(), "B": (images.clone(), labels.clone())}


def photo_domains(name: str, split: str = "train", size: int = 256, root: str | os.PathLike | None = None,
                  download: bool | None = None, limit: int | None = None) -> tuple[Tensor, Tensor]:
    """The images of domains A and B of one of the paper's photograph sets (``PHOTO_DATASETS``), resized to
    ``size`` x ``size``: two tensors (N, 3, size, size) in [-1, 1], like ``domains()`` for the digits.

    Files are looked for in ``root/name/{split}A`` and ``{split}B`` (default root: ``$GANLAB_DATA``, else
    ``~/.cache/ganlab``); the archive is fetched only when they are missing and downloads are allowed
    (``GANLAB_DOWNLOAD=1`` or ``download=True``). ``limit`` keeps the first ``limit`` files of each domain
    (sorted by name). The paper resizes to 286 px and crops 256 px at random for training; that augmentation
    is left to the training loop."""
    validate.choice("name", name, PHOTO_DATASETS)
    validate.choice("split", split, ("train", "test"))
    validate.integer("size", size, low=8)
    if limit is not None:
        validate.integer("limit", limit)
    if download is not None and not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None (ask the environment), got {download!r}")
    base = Path(root if root is not None else _default_root())
    folders = [base / name / f"{split}{side}" for side in "AB"]
    if not all(f.is_dir() for f in folders):
        if not (downloads_allowed() if download is None else download):
            raise DownloadNotAllowed(
                f"the {name} images are not in {base / name} and downloads are off; offline, translate the digits "
                f"(cyclegan_train.domains()), or unpack {name}.zip into {base}, or allow downloads with "
                f"GANLAB_DOWNLOAD=1")
        _fetch_zip(PHOTO_URL.format(name=name), base)
    out = []
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)[:limit]
        if not files:
            raise FileNotFoundError(f"no .jpg or .png images in {folder}")
        out.append(torch.stack([_read_photo(p, size) for p in files]))
    return out[0], out[1]


def _read_photo(path: Path, size: int) -> Tensor:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB").resize((size, size), Image.BICUBIC)
        x = torch.from_numpy(np.array(im, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1.0
    return x


def _fetch_zip(url: str, into: Path) -> None:
    """Download the zip archive at ``url`` (any scheme urllib opens: https, or file for the tests) and unpack it
    into ``into``; the archive goes to a temporary file first, so an interrupted download leaves nothing."""
    import shutil
    import tempfile
    import urllib.request
    import zipfile

    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=into) as tmp:
        archive = Path(tmp) / "archive.zip"
        with urllib.request.urlopen(url) as response, open(archive, "wb") as f:
            shutil.copyfileobj(response, f)
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)


@torch.no_grad()
def _apply(net: nn.Module, x: Tensor, batch: int = 250) -> Tensor:
    device = next(net.parameters()).device
    return torch.cat([net(x[i:i + batch].to(device)).cpu() for i in range(0, len(x), batch)])


@torch.no_grad()
def evaluate_translation(G: nn.Module, F: nn.Module, n: int = 1000) -> dict[str, float]:
    """What CycleGAN promises, on ``n`` held-out digits of each domain (the same, class-balanced ones for every run):

    content_a2b / content_b2a: the fraction of translations the classifier reads as the digit they came from;
    cycle_a / cycle_b: mean absolute error of F(G(a)) - a and G(F(b)) - b, in [-1, 1] units;
    fid_b, kid_b (G(a) against held-out B), fid_a, kid_a (F(b) against held-out A): realism on each target side."""
    validate.instance("G", G, nn.Module, "the A -> B generator")
    validate.instance("F", F, nn.Module, "the B -> A generator")
    validate.integer("n", n, high=1000)
    held = heldout_domains()
    G_mode, F_mode = G.training, F.training
    G.eval(), F.eval()
    classifier = load_classifier()
    scores = {}
    try:
        for src, dst, net, back in (("a", "b", G, F), ("b", "a", F, G)):
            x, labels = held[src.upper()]
            keep = _balanced(labels, n)
            x, labels = x[keep], labels[keep]
            moved = _apply(net, x)
            scores[f"content_{src}2{dst}"] = float((classifier(moved).argmax(1) == labels).double().mean())
            scores[f"cycle_{src}"] = float((_apply(back, moved) - x).abs().mean())
            real, real_labels = held[dst.upper()]
            realism = evaluate_images(moved, real=real[_balanced(real_labels, n)], classifier=classifier)
            scores[f"fid_{dst}"], scores[f"kid_{dst}"] = realism["fid"], realism["kid"]
    finally:
        G.train(G_mode), F.train(F_mode)
    return scores


def _balanced(labels: Tensor, n: int) -> Tensor:
    """Indices of ``n`` images with the classes taken in turn (the first of each class, then the second, ...), so
    that any ``n`` is as class-balanced as it can be: the held-out handwritten digits are stored class by class."""
    rank = torch.zeros_like(labels)
    for c in labels.unique():
        where = labels == c
        rank[where] = torch.arange(int(where.sum()))
    return torch.argsort(rank * (int(labels.max()) + 1) + labels, stable=True)[:n]


def _first_of_each_class(images: Tensor, labels: Tensor) -> Tensor:
    """The first image of each class 0-9 (the held-out handwritten digits come in blocks of a class, the typeset
    ones in turn)."""
    return images[[int((labels == c).nonzero()[0]) for c in range(10)]]


def _save_pictures(nets: dict[str, nn.Module], out: Path) -> None:
    from torchvision.utils import save_image

    held = heldout_domains()
    rows = []
    for src, net, back in (("A", nets["G"], nets["F"]), ("B", nets["F"], nets["G"])):
        x = _first_of_each_class(*held[src])
        moved = _apply(net.eval(), x)
        rows += [x, moved, _apply(back.eval(), moved)]
    save_image((torch.cat(rows) + 1) / 2, out / "translations.png", nrow=10, padding=2, pad_value=1.0)


def train_cyclegan(config: CycleGANConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train the CycleGAN of ``config``, write its run folder, return the metrics (as in metrics.json)."""
    out = open_run(config, CycleGANConfig, "a CycleGANConfig, e.g. default_cyclegan()", resume, progress)
    with cpu_threads(config.threads):
        seed_everything(config.seed)
        device = get_device()
        nets = {k: v.to(device) for k, v in build_cyclegan(config).items()}
        G, F, D_A, D_B = nets["G"], nets["F"], nets["D_A"], nets["D_B"]
        betas = (config.beta1, 0.999)
        opt_g = torch.optim.Adam(itertools.chain(G.parameters(), F.parameters()), lr=config.lr, betas=betas)
        opt_d = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), lr=config.lr, betas=betas)
        batches = torch.Generator().manual_seed(config.seed)
        pool_a = ImagePool(config.pool, torch.Generator().manual_seed(config.seed + 1))
        pool_b = ImagePool(config.pool, torch.Generator().manual_seed(config.seed + 2))
        A, B = (x.to(device) for x in domains())
        lam, lam_id = config.lambda_cycle, config.lambda_identity * config.lambda_cycle
        decay = round(config.decay * config.steps)

        def step(i: int) -> dict[str, float]:
            a = A[torch.randint(len(A), (config.batch_size,), generator=batches).to(device)]
            b = B[torch.randint(len(B), (config.batch_size,), generator=batches).to(device)]
            # generators: D's weights get no gradient from this step (their grads are cleared before D's own)
            fake_b, fake_a = G(a), F(b)
            rec_a, rec_b = F(fake_b), G(fake_a)
            parts = {"g_adv_b": g_loss(D_B(fake_b)), "g_adv_a": g_loss(D_A(fake_a)),
                     "cycle_a": cycle_loss(rec_a, a), "cycle_b": cycle_loss(rec_b, b)}
            loss_g = parts["g_adv_b"] + parts["g_adv_a"] + lam * (parts["cycle_a"] + parts["cycle_b"])
            if lam_id:
                parts["identity_a"], parts["identity_b"] = identity_loss(F(a), a), identity_loss(G(b), b)
                loss_g = loss_g + lam_id * (parts["identity_a"] + parts["identity_b"])
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            # discriminators: real images against fakes from the pools (this step's or older ones)
            parts["d_a"] = d_loss(D_A(a), D_A(pool_a.query(fake_a.detach())))
            parts["d_b"] = d_loss(D_B(b), D_B(pool_b.query(fake_b.detach())))
            opt_d.zero_grad(set_to_none=True)
            (parts["d_a"] + parts["d_b"]).backward()
            opt_d.step()
            return {k: v.item() for k, v in parts.items()} | {"loss_g": loss_g.item()}

        state = {**nets, "opt_g": opt_g, "opt_d": opt_d, "pool_a": pool_a, "pool_b": pool_b, "batches": batches}
        began = time.perf_counter()
        history = train_in_folder(out, config, lambda: run_steps(
            step, steps=config.steps, state=state, config=run_identity("cyclegan", config), checkpoint=out /
            "checkpoint.pt", resume=resume, lr_factor=lambda s: linear_decay(s - 1, config.steps - decay, decay),
            log_every=max(1, config.steps // 100), checkpoint_every=max(1, config.steps // 10), progress=progress,
            doctor=True))
        stopped = stopped_early(out, history, config)
        if stopped is not None:
            return stopped
        seconds = time.perf_counter() - began
        nets = {k: v.cpu() for k, v in nets.items()}
        result = {"status": "finished", "steps_done": history.last_step,
                  **evaluate_translation(nets["G"], nets["F"], config.eval_images),
                  "train_seconds": round(seconds, 2), "threads": torch.get_num_threads(),
                  "doctor": summary(history.findings), "config": dataclasses.asdict(config)}
        _save_pictures(nets, out)
        save_panels(history, out / "losses.png", log_scale=())
        write_metrics(out, result)
        return result


def load_cyclegan(out) -> dict[str, nn.Module]:
    """The four networks saved in the run folder ``out``, in eval mode on the CPU."""
    saved, fields, path = read_run(out, "cyclegan", "a CycleGAN")
    config = CycleGANConfig(**fields, out=str(out))
    nets = build_cyclegan(config)
    restore(saved, path, restore_rng=False, **nets)
    return {k: v.eval() for k, v in nets.items()}


def load_or_train_cyclegan(config: CycleGANConfig, progress: bool = True) -> tuple[dict[str, nn.Module], dict]:
    """(the four networks, in eval mode on the CPU; metrics) of the finished run in ``config.out`` made with this
    config, else train it first (continuing a stopped run of the same config)."""
    validate.instance("config", config, CycleGANConfig, "a CycleGANConfig, e.g. default_cyclegan()")
    metrics = finished_metrics(Path(config.out), config, ("threads", "out"))
    if metrics is None:
        metrics = train_cyclegan(config, resume=holds_same_run(Path(config.out) / "checkpoint.pt", "cyclegan", config),
                                 progress=progress)
    return load_cyclegan(config.out), metrics

"""Super-resolution: the degradation, the bicubic baseline, PSNR and SSIM as SR papers report them, and the data.

The problem. A high-resolution image x (H x W) is observed only through its degradation
y = D(x): blur with the bicubic kernel and keep every ``scale``-th pixel (``degrade``). Many x
share one y (every detail finer than the low-resolution grid is lost), so super-resolution
guesses; a network trained on pixel error guesses the *mean* of the plausible x, which is blurry.

The measurement, as SR papers (SRCNN, SRResNet/SRGAN, EDSR) report it: both images are rounded
to 8 bits, converted to the luma Y of YCbCr (ITU-R BT.601, studio range 16..235:
Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B in [0, 1]), ``scale`` pixels are cropped
from every border (where the network sees zero padding and the bicubic baseline sees a
replicated edge), and PSNR = 10 log10(255^2 / MSE) and SSIM (Gaussian window 11, sigma 1.5)
are computed on what remains. PSNR and SSIM come from torchmetrics.

torch against MATLAB. The papers degrade and upscale with MATLAB's ``imresize``: a bicubic
kernel with a = -0.5 that is widened by the scale when shrinking (antialiasing), with the
border mirrored. ``F.interpolate(mode="bicubic")`` uses a = -0.75 and no antialiasing unless
``antialias=True``, and then uses a = -0.5 and widens the kernel as MATLAB does (the same
kernel as Pillow's ``Image.BICUBIC``). The course always passes ``antialias=True``: without it,
a x4 downscale keeps only 1 pixel in 16 and aliases fine texture into the low-resolution image,
a different and easier-to-spot degradation than the papers'. What still differs from MATLAB is
the border: torch clamps the kernel at the edge and renormalises, MATLAB mirrors; the
difference is a few pixels wide, which is one reason the border is cropped.

The data (offline). Training patches come from the photographs and textures that ship with
scikit-learn, matplotlib and scikit-image (``ganlab.images``); the images in ``HELD_OUT`` are
never cropped for training and are the evaluation set. Where downloads are allowed, the
standard benchmark sets (Set5, Set14, DIV2K's validation images) load through
``benchmark_images`` into the same (HR, LR) form.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from . import validate
from .data import DownloadNotAllowed
from .env import downloads_allowed
from .images import NATURAL_IMAGES, natural_image

SCALE = 4  # the course's (and SRGAN's) upscaling factor
# Held out for evaluation, never cropped for training: two colour photographs of the kinds SR benchmarks hold
# (a portrait with fine hair and fabric, a still life with hard edges and smooth shading).
HELD_OUT = ("astronaut", "coffee")
# Every other shipped image trains. motorcycle_right is the same scene as motorcycle_left from another camera:
# both train, so neither can leak into the evaluation.
TRAIN_IMAGES = tuple(name for name in NATURAL_IMAGES if name not in HELD_OUT)

# ITU-R BT.601 luma for R, G, B in [0, 1], in the studio range [16, 235] (MATLAB's rgb2ycbcr, which SR papers use)
_Y_WEIGHTS = (65.481, 128.553, 24.966)
_Y_OFFSET = 16.0


# --------------------------------------------------------------------------- the degradation and the baseline
def _check_scale(scale: int) -> int:
    return validate.integer("scale", scale, low=2, high=8)


def _image_or_batch(name: str, x: object, smallest: int = 3) -> Tensor:
    """A float tensor (C, H, W) or (N, C, H, W) (from ``smallest`` dimensions up)."""
    validate.tensor(name, x)
    if not smallest <= x.ndim <= 4:
        shapes = "(H, W), " * (smallest == 2) + "(C, H, W) or (N, C, H, W)"
        raise ValueError(f"{name} should be an image {shapes}, got shape {tuple(x.shape)}")
    return x


def crop_to_multiple(x: Tensor, scale: int = SCALE) -> Tensor:
    """x (..., H, W) cropped at the bottom and right so that H and W are multiples of ``scale`` (as SR datasets do)."""
    _image_or_batch("x", x, smallest=2)
    _check_scale(scale)
    h, w = x.shape[-2] - x.shape[-2] % scale, x.shape[-1] - x.shape[-1] % scale
    if h == 0 or w == 0:
        raise ValueError(f"x of size {tuple(x.shape[-2:])} is smaller than the scale {scale}: nothing would be left")
    return x[..., :h, :w]


def degrade(hr: Tensor, scale: int = SCALE) -> Tensor:
    """The low-resolution image: bicubic downsampling by ``scale`` with antialiasing, as MATLAB's imresize.

    ``hr`` (N, C, H, W) or (C, H, W) in [-1, 1], with H and W multiples of ``scale``
    (``crop_to_multiple``); the result is (N, C, H / scale, W / scale), clamped to [-1, 1].
    """
    _image_or_batch("hr", hr)
    _check_scale(scale)
    if hr.shape[-2] % scale or hr.shape[-1] % scale:
        raise ValueError(f"hr's height and width ({hr.shape[-2]} x {hr.shape[-1]}) must be multiples of the scale "
                         f"{scale}, so that the low-resolution grid lines up with it; crop with "
                         f"crop_to_multiple(hr, {scale}) first")
    batched = hr if hr.ndim == 4 else hr[None]
    size = (hr.shape[-2] // scale, hr.shape[-1] // scale)
    lr = F.interpolate(batched, size=size, mode="bicubic", align_corners=False, antialias=True)
    lr = lr.clamp(-1.0, 1.0)  # the cubic kernel's negative lobes overshoot a little at edges
    return lr if hr.ndim == 4 else lr[0]


def upscale_bicubic(lr: Tensor, scale: int = SCALE) -> Tensor:
    """The bicubic baseline: ``lr`` (N, C, h, w) or (C, h, w) enlarged ``scale`` times (a = -0.5, as imresize)."""
    _image_or_batch("lr", lr)
    _check_scale(scale)
    batched = lr if lr.ndim == 4 else lr[None]
    up = F.interpolate(batched, scale_factor=scale, mode="bicubic", align_corners=False, antialias=True)
    up = up.clamp(-1.0, 1.0)
    return up if lr.ndim == 4 else up[0]


def quantize(x: Tensor) -> Tensor:
    """x in [-1, 1] rounded to the 256 levels of an 8-bit image (still in [-1, 1]), as a saved PNG would be."""
    validate.tensor("x", x)
    return torch.round((x.clamp(-1.0, 1.0) + 1.0) * 127.5) / 127.5 - 1.0


# --------------------------------------------------------------------------- measurement
def rgb_to_y(x: Tensor) -> Tensor:
    """Luma Y of ITU-R BT.601 in the studio range [16, 235]: x (N, 3, H, W) in [-1, 1] -> (N, 1, H, W)."""
    validate.tensor("x", x, shape=("N", 3, "H", "W"), hint=" (RGB images in ganlab's range [-1, 1])")
    rgb = (x + 1.0) / 2.0  # [-1, 1] -> [0, 1]
    w = torch.tensor(_Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return _Y_OFFSET + (rgb * w).sum(dim=1, keepdim=True)  # (N, 1, H, W)


def _y_pair(sr: Tensor, hr: Tensor, scale: int, window: int = 1) -> tuple[Tensor, Tensor]:
    """Both images as SR papers measure them: 8-bit, luma, ``scale`` pixels cropped from every border."""
    validate.tensor("hr", hr, shape=("N", 3, "H", "W"), hint=" (RGB images in [-1, 1])")
    validate.tensor("sr", sr, shape=tuple(hr.shape), hint=" (the shape of hr)")
    validate.integer("scale", scale, low=0)
    if min(hr.shape[-2:]) <= 2 * scale + window - 1:
        raise ValueError(f"images of {hr.shape[-2]} x {hr.shape[-1]} px leave too little after cropping {scale} px "
                         f"from each border" + (f" for SSIM's {window} x {window} window" if window > 1 else ""))
    ys = [rgb_to_y(quantize(t.detach().float()))[..., scale:t.shape[-2] - scale, scale:t.shape[-1] - scale]
          for t in (sr, hr)]
    return ys[0].double(), ys[1].double()  # torchmetrics in float64: an exact image gives inf, not rounding noise


def psnr_y(sr: Tensor, hr: Tensor, scale: int = SCALE) -> Tensor:
    """PSNR in dB of each image of ``sr`` (N, 3, H, W, in [-1, 1]) against ``hr``, on Y with a ``scale``-px border
    cropped, after rounding to 8 bits: (N,). Identical images give inf."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    a, b = _y_pair(sr, hr, scale)
    return peak_signal_noise_ratio(a, b, data_range=255.0, reduction="none", dim=(1, 2, 3)).float()


def ssim_y(sr: Tensor, hr: Tensor, scale: int = SCALE) -> Tensor:
    """SSIM of each image of ``sr`` against ``hr`` on Y (Gaussian window 11, sigma 1.5), cropped as ``psnr_y``: (N,)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    a, b = _y_pair(sr, hr, scale, window=11)
    # torchmetrics pads the image and averages the SSIM map over all of it; the papers' script (Wang et al.'s
    # ssim.m, 'valid' filtering) and scikit-image average only where the 11 x 11 window fits: crop 5 px
    _, ssim_map = structural_similarity_index_measure(a, b, data_range=255.0, reduction="none",
                                                      return_full_image=True)
    return ssim_map[..., 5:-5, 5:-5].mean(dim=(1, 2, 3)).float()


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class SRImage:
    """One evaluation image: its name, the high-resolution original (3, H, W) and its degradation (3, H/s, W/s)."""

    name: str
    hr: Tensor
    lr: Tensor


def held_out_images(scale: int = SCALE, names: tuple[str, ...] = HELD_OUT) -> list[SRImage]:
    """The held-out photographs, whole, cropped to a multiple of ``scale``, with their low-resolution versions.

    The low-resolution image is rounded to 8 bits, as the papers' benchmark files are saved."""
    _check_scale(scale)
    for name in names:
        validate.choice("natural image", name, NATURAL_IMAGES)
    out = []
    for name in names:
        hr = quantize(crop_to_multiple(natural_image(name), scale))
        out.append(SRImage(name, hr, quantize(degrade(hr, scale))))
    return out


class SRPatches:
    """Random aligned (LR, HR) patch pairs from the training images, never from ``HELD_OUT``.

    Each image is degraded once, whole (so no patch sees a border that the image does not
    have), and a pair is an ``lr_patch`` x ``lr_patch`` window of the low-resolution image with
    the ``scale`` times larger window of the original at the same place, flipped and rotated by
    a multiple of 90 degrees at random (the same for both). Images are chosen with probability
    proportional to their area, so every pixel is equally likely to be seen.

        patches = SRPatches()
        lr, hr = patches.sample(16, generator)   # (16, 3, 24, 24), (16, 3, 96, 96) in [-1, 1]
    """

    def __init__(self, names: tuple[str, ...] = TRAIN_IMAGES, scale: int = SCALE, lr_patch: int = 24,
                 max_size: int | None = None):
        if isinstance(names, str) or not isinstance(names, (tuple, list)) or not names:
            raise TypeError(f"names must be a non-empty tuple of natural image names, got {names!r}")
        for name in names:
            validate.choice("natural image", name, NATURAL_IMAGES)
        leaked = sorted(set(names) & set(HELD_OUT))
        if leaked:
            raise ValueError(f"{leaked} are held out for evaluation (superres.HELD_OUT) and must never be cropped "
                             f"for training: choose from superres.TRAIN_IMAGES")
        self.scale, self.lr_patch = _check_scale(scale), validate.integer("lr_patch", lr_patch, low=4)
        if max_size is not None:
            validate.integer("max_size", max_size, low=lr_patch * scale)
        self.names = tuple(names)
        self.hr, self.lr = [], []
        for name in self.names:
            hr = quantize(crop_to_multiple(natural_image(name, max_size) if max_size else natural_image(name), scale))
            if min(hr.shape[-2:]) < lr_patch * scale:
                raise ValueError(f"natural image {name!r} ({hr.shape[-2]} x {hr.shape[-1]}) is smaller than one "
                                 f"high-resolution patch ({lr_patch * scale} px); lower lr_patch or max_size")
            self.hr.append(hr)
            self.lr.append(quantize(degrade(hr, scale)))
        area = torch.tensor([float(x.shape[-2] * x.shape[-1]) for x in self.lr])
        self.weights = area / area.sum()

    def __repr__(self) -> str:
        return (f"SRPatches({len(self.names)} training images, x{self.scale}, {self.lr_patch} px low-resolution "
                f"patches; held out: {', '.join(HELD_OUT)})")

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``n`` random pairs: (LR (n, 3, p, p), HR (n, 3, p*scale, p*scale)), drawn with ``generator``."""
        validate.integer("n", n)
        if generator is not None:
            validate.instance("generator", generator, torch.Generator, "a torch.Generator")
        p, s = self.lr_patch, self.scale
        which = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        lrs, hrs = [], []
        for k in which.tolist():
            lr, hr = self.lr[k], self.hr[k]
            i = int(torch.randint(lr.shape[-2] - p + 1, (1,), generator=generator))
            j = int(torch.randint(lr.shape[-1] - p + 1, (1,), generator=generator))
            a, b = lr[:, i:i + p, j:j + p], hr[:, i * s:(i + p) * s, j * s:(j + p) * s]
            flip, turns = torch.randint(2, (2,), generator=generator).tolist()[0], \
                int(torch.randint(4, (1,), generator=generator))
            if flip:
                a, b = a.flip(-1), b.flip(-1)
            lrs.append(a.rot90(turns, (-2, -1)))
            hrs.append(b.rot90(turns, (-2, -1)))
        return torch.stack(lrs), torch.stack(hrs)


# --------------------------------------------------------------------------- benchmark sets, where downloads are allowed
# The archives the SR literature evaluates on. DIV2K (Agustsson & Timofte, CVPRW 2017) from its authors' server;
# Set5 (Bevilacqua et al. 2012) and Set14 (Zeyde et al. 2010) as packaged with the SelfExSR code (Huang et al. 2015).
BENCHMARKS = {
    "DIV2K_valid": "https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip",
    "Set5": "https://uofi.box.com/shared/static/kfahv87nfe8ax910l85dksyl2q212voc.zip",
    "Set14": "https://uofi.box.com/shared/static/igsnfieh4lz68l926l8xbklwsnnk8we9.zip",
}
_IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg")


def _default_root() -> Path:
    return Path(os.environ.get("GANLAB_DATA", Path.home() / ".cache" / "ganlab"))


def _read_rgb(path: Path) -> Tensor:
    from PIL import Image

    with Image.open(path) as im:
        pixels = np.asarray(im.convert("RGB"))  # grey files (two in Set14) as three equal channels
    return torch.tensor(pixels, dtype=torch.float32).permute(2, 0, 1) / 127.5 - 1.0


def _high_resolution_files(folder: Path) -> list[Path]:
    """The ground-truth files under ``folder``: all images, or those marked HR where an archive holds LR ones too."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
    marked = [p for p in files if "HR" in p.stem.split("_") or "HR" in p.parent.name.split("_")]
    unique = {}  # SelfExSR's archives hold the same HR image once per scale (img_001_SRF_2_HR, img_001_SRF_4_HR)
    for p in marked or files:
        unique.setdefault(re.sub(r"_SRF_\d+", "", p.stem), p)
    return list(unique.values())


def benchmark_images(name: str, scale: int = SCALE, root: str | os.PathLike | None = None,
                     download: bool | None = None) -> list[SRImage]:
    """The benchmark set ``name`` (see ``BENCHMARKS``) as ``SRImage`` s, degraded here as ``held_out_images`` does.

    Files are looked for in ``root/name`` (default ``$GANLAB_DATA``, else ``~/.cache/ganlab``); an
    archive is fetched only when they are missing and downloads are allowed (``GANLAB_DOWNLOAD=1``
    or ``download=True``). The LR images are made from the HR ones with ``degrade``, so every set
    is measured with the same degradation as the course's held-out images."""
    validate.choice("benchmark", name, BENCHMARKS)
    _check_scale(scale)
    if download is not None and not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None (ask the environment), got {download!r}")
    folder = Path(root if root is not None else _default_root()) / name
    files = _high_resolution_files(folder) if folder.is_dir() else []
    if not files:
        if not (downloads_allowed() if download is None else download):
            raise DownloadNotAllowed(
                f"the {name} images are not in {folder} and downloads are off; offline, evaluate on the held-out "
                f"photographs (superres.held_out_images(), {', '.join(HELD_OUT)}), or put the image files in "
                f"{folder}, or allow downloads with GANLAB_DOWNLOAD=1")
        _download(BENCHMARKS[name], folder)
        files = _high_resolution_files(folder)
    out = []
    for path in files:
        hr = quantize(crop_to_multiple(_read_rgb(path), scale))
        out.append(SRImage(path.stem, hr, quantize(degrade(hr, scale))))
    return out


def _download(url: str, folder: Path) -> None:  # pragma: no cover - the network is never used in the tests
    from torchvision.datasets.utils import download_url

    folder.mkdir(parents=True, exist_ok=True)
    download_url(url, str(folder), filename="archive.zip")
    with zipfile.ZipFile(folder / "archive.zip") as archive:
        archive.extractall(folder)
    (folder / "archive.zip").unlink()


# --------------------------------------------------------------------------- a perceptual measure that works offline
class _PatchCritic(torch.nn.Sequential):
    """A small CNN real-vs-SR patch classifier: 4 stride-2 convolutions (LeakyReLU 0.2), global average, one logit."""

    def __init__(self, width: int = 32):
        layers, c_in = [], 3
        for i in range(4):
            c_out = width * 2 ** min(i, 2)
            layers += [torch.nn.Conv2d(c_in, c_out, 3, 2, 1), torch.nn.LeakyReLU(0.2)]
            c_in = c_out
        super().__init__(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(c_in, 1))


def _cells(images: list[Tensor], patch: int) -> tuple[Tensor, Tensor]:
    """Non-overlapping ``patch`` cells of every image, split like a chessboard: (even cells, odd cells)."""
    even, odd = [], []
    for x in images:
        rows, cols = x.shape[-2] // patch, x.shape[-1] // patch
        for i in range(rows):
            for j in range(cols):
                (even if (i + j) % 2 == 0 else odd).append(x[:, i * patch:(i + 1) * patch, j * patch:(j + 1) * patch])
    return torch.stack(even), torch.stack(odd)


def critic_accuracy(real: list[Tensor], fake: list[Tensor], patch: int = 32, steps: int = 400, seed: int = 0,
                    width: int = 32) -> float:
    """How well a critic tells real HR patches from SR patches: its accuracy on patches it never trained on.

    Blau & Michaeli (CVPR 2018) define perceptual quality as the distance between the
    distribution of outputs and that of natural images, and note that the best real-vs-fake
    classifier's success rate is 1/2 + TV/2 (the total variation distance). Here a small CNN
    (``_PatchCritic``) trains for ``steps`` Adam updates (1e-3, batches of 64, random flips) on the
    "even" cells of a ``patch`` px chessboard over every image pair, and is scored on the "odd" cells,
    equal numbers of real and SR patches: 0.5 means the SR patches cannot be told apart from real
    ones, 1.0 that every one can. ``real`` and ``fake``: lists of images (3, H, W) in [-1, 1], the
    same sizes pairwise (HR and SR of the same held-out images). Lower is better.
    """
    for name, images in (("real", real), ("fake", fake)):
        if not isinstance(images, (list, tuple)) or not images:
            raise TypeError(f"{name} must be a non-empty list of images (3, H, W), got {type(images).__name__}")
    if len(real) != len(fake):
        raise ValueError(f"real and fake must pair up (HR and SR of the same images): got {len(real)} and {len(fake)}")
    for k, (a, b) in enumerate(zip(real, fake)):
        validate.tensor(f"real[{k}]", a, shape=(3, "H", "W"))
        validate.tensor(f"fake[{k}]", b, shape=tuple(a.shape), hint=" (the shape of its real image)")
    validate.integer("patch", patch, low=16)
    validate.integer("steps", steps)
    validate.integer("seed", seed, low=0)
    validate.integer("width", width)
    for k, x in enumerate(real):
        if (x.shape[-2] // patch) * (x.shape[-1] // patch) < 2:
            raise ValueError(f"real[{k}] ({x.shape[-2]} x {x.shape[-1]}) holds fewer than two {patch} px cells: the "
                             f"critic needs cells to train on and others to be scored on; use larger images or a "
                             f"smaller patch")
    (real_train, real_test), (fake_train, fake_test) = _cells(list(real), patch), _cells(list(fake), patch)
    x_train, x_test = torch.cat([real_train, fake_train]), torch.cat([real_test, fake_test])
    y_train = torch.cat([torch.ones(len(real_train)), torch.zeros(len(fake_train))])
    y_test = torch.cat([torch.ones(len(real_test)), torch.zeros(len(fake_test))])
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        critic = _PatchCritic(width)
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    for _ in range(steps):
        idx = torch.randint(len(x_train), (64,), generator=g)
        x, y = x_train[idx], y_train[idx]
        if torch.rand((), generator=g) < 0.5:
            x = x.flip(-1)
        loss = F.binary_cross_entropy_with_logits(critic(x).squeeze(1), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        guess = torch.cat([critic(x_test[i:i + 256]).squeeze(1) for i in range(0, len(x_test), 256)]) > 0
    return (guess == y_test.bool()).float().mean().item()


def patch_distance(real: list[Tensor], fake: list[Tensor], patch_size: int = 7) -> float:
    """How far the SR images' small patches are, as a distribution, from the real images': lower is more natural.

    Blau & Michaeli's perceptual quality is a divergence between the distribution of outputs and
    that of natural images. This one is the Fréchet (Wasserstein-2) distance between Gaussian fits
    of all ``patch_size`` square patches of each HR image and of its SR output
    (``ganlab.singan.patch_fid``), averaged over the image pairs: their means, and through the
    covariances the contrast and power spectrum of the texture within ``patch_size`` px. Blur,
    which removes fine texture, moves it; so does invented texture of the wrong strength. It needs
    no training and cannot be fooled by PSNR, but being Gaussian it sees only second-order
    statistics: a regular grid or an odd grain of the right energy passes it, where a trained
    critic (``critic_accuracy``) can catch them. ``real``, ``fake``: lists of images (3, H, W) in [-1, 1].
    """
    from .singan import patch_fid

    for name, images in (("real", real), ("fake", fake)):
        if not isinstance(images, (list, tuple)) or not images:
            raise TypeError(f"{name} must be a non-empty list of images (3, H, W), got {type(images).__name__}")
    if len(real) != len(fake):
        raise ValueError(f"real and fake must pair up (HR and SR of the same images): got {len(real)} and {len(fake)}")
    validate.integer("patch_size", patch_size)
    for k, (a, b) in enumerate(zip(real, fake)):
        validate.tensor(f"real[{k}]", a, shape=(3, "H", "W"))
        validate.tensor(f"fake[{k}]", b, shape=tuple(a.shape), hint=" (the shape of its real image)")
    return sum(patch_fid(a, b.clamp(-1.0, 1.0), patch_size) for a, b in zip(real, fake)) / len(real)

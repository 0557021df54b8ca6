"""SRResNet and SRGAN (Ledig et al., CVPR 2017, arXiv:1609.04802), the feature networks of the content loss,
and network interpolation (ESRGAN, Wang et al. 2018).

SRResNet (the paper's Figure 4, top):

    LR -> conv 9x9, C -> PReLU ----------------------------+      (C = 64)
          -> B residual blocks (conv 3x3, BN, PReLU, conv 3x3, BN, + skip)   (B = 16)
          -> conv 3x3, BN -> + (the long skip) -> 2 x [conv 3x3, 4C -> pixel shuffle x2 -> PReLU]
          -> conv 9x9, 3 -> SR

Sub-pixel convolution (Shi et al., CVPR 2016) does the upsampling at the end: a convolution at
the low resolution makes r^2 channels per output channel, and ``nn.PixelShuffle(r)`` rearranges
them into an r times larger image. Every other layer works on the small grid, which is why it is
cheap, and unlike a transposed convolution it has no uneven kernel overlap (no checkerboard).

BatchNorm is in the paper; EDSR (Lim et al., CVPRW 2017) removed it from its residual blocks:
BN normalises away the range of the features, which SR needs to keep, and a BN layer takes as
much memory as the convolution before it (their baseline used about 40% less memory in training
than SRResNet); with what they saved they trained far larger models and report higher PSNR.
``batch_norm=False`` builds that variant.

The SRGAN discriminator (Figure 4, bottom) is VGG-like: eight 3x3 convolutions with LeakyReLU
(0.2), widths 64, 64, 128, 128, 256, 256, 512, 512, stride 2 on every second, BatchNorm after
all but the first; then a dense layer of 1024, LeakyReLU, and one logit (the paper ends in a
sigmoid; the course's losses take logits, which is the same model with the sigmoid inside the
loss, computed stably).

The content loss compares features of SR and HR through a fixed network phi:
l = mean (phi(SR) - phi(HR))^2. The paper's phi is VGG19 trained on ImageNet up to the
activation of conv5_4 ("VGG54"), with the loss scaled by 1/12.75^2 (the features rescaled by 1/12.75);
``vgg19_features`` builds it where downloads are allowed, with the ImageNet input normalisation the
weights were trained with. Offline the course uses ``random_features()``: a VGG-style stack of
3x3 convolutions and ReLUs with fixed *random* weights. Untrained convolutional features are a
known working stand-in: He, Wang & Hopcroft (NeurIPS 2016) reconstruct images and transfer style
with a VGG19 of random weights, and Ustyuzhaninov et al. (ICLR 2017) synthesise natural textures
from one layer of random filters about as well as from VGG. Many random band-pass filters
followed by a rectifier compare local structure (edges and their orientations, texture energy)
rather than exact pixel values, which is what a perceptual loss should do; what random
features cannot do is know which structures matter to a human (faces, text), and chapter 06
measures how far they go.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate
from .data import DownloadNotAllowed
from .env import downloads_allowed


# --------------------------------------------------------------------------- the generator
class ResidualBlock(nn.Module):
    """x + BN(conv(PReLU(BN(conv(x))))): the SRResNet block (no activation after the sum, as in the paper)."""

    def __init__(self, channels: int, batch_norm: bool = True):
        super().__init__()
        validate.integer("channels", channels)
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else nn.Identity
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm), norm(), nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm), norm(),
        )

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("x", x, shape=("N", self.body[0].in_channels, "H", "W"), finite=False)
        return x + self.body(x)


class SubPixelUpsample(nn.Sequential):
    """conv 3x3 (C -> C r^2) -> pixel shuffle (C r^2, H, W -> C, rH, rW) -> PReLU: upsampling by ``factor`` = r."""

    def __init__(self, channels: int, factor: int = 2):
        validate.integer("channels", channels)
        validate.integer("factor", factor, low=2)
        super().__init__(nn.Conv2d(channels, channels * factor ** 2, 3, padding=1), nn.PixelShuffle(factor),
                         nn.PReLU(channels))


class SRResNet(nn.Module):
    """The SRResNet generator for x``scale`` (a power of 2), input and output RGB in [-1, 1].

    The paper's configuration is the default (64 channels, 16 blocks, BatchNorm, 9x9 outer
    kernels: 1.55 M weights); the course's CPU runs use fewer channels and blocks (see
    ``ganlab.sr_train``). The output is not squashed (no tanh, as in the paper): evaluation clamps it.

    ``bicubic_skip=True`` adds the bicubic upscale of the input to the output (global residual
    learning, Kim, Lee & Lee, VDSR, CVPR 2016), so that the network learns only the detail bicubic
    misses. It is not in SRResNet: over the paper's 10^6 updates the network learns the low
    frequencies itself, but a run of a few thousand updates spends most of them doing so.
    """

    def __init__(self, scale: int = 4, channels: int = 64, blocks: int = 16, batch_norm: bool = True,
                 outer_kernel: int = 9, bicubic_skip: bool = False):
        super().__init__()
        validate.integer("scale", scale, low=2)
        if scale & (scale - 1):
            raise ValueError(f"scale must be a power of 2 (2, 4, 8): SRResNet upsamples by x2 steps, got {scale}")
        validate.integer("channels", channels)
        validate.integer("blocks", blocks, low=0)
        validate.flag("batch_norm", batch_norm)
        validate.integer("outer_kernel", outer_kernel)
        validate.flag("bicubic_skip", bicubic_skip)
        if outer_kernel % 2 == 0:
            raise ValueError(f"outer_kernel must be odd so that the image keeps its size, got {outer_kernel}")
        self.scale, self.channels, self.blocks, self.batch_norm = scale, channels, blocks, batch_norm
        self.bicubic_skip = bicubic_skip
        pad = outer_kernel // 2
        self.head = nn.Sequential(nn.Conv2d(3, channels, outer_kernel, padding=pad), nn.PReLU(channels))
        self.body = nn.Sequential(*[ResidualBlock(channels, batch_norm) for _ in range(blocks)],
                                  nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm),
                                  nn.BatchNorm2d(channels) if batch_norm else nn.Identity())
        self.upsample = nn.Sequential(*[SubPixelUpsample(channels, 2) for _ in range(scale.bit_length() - 1)])
        self.tail = nn.Conv2d(channels, 3, outer_kernel, padding=pad)

    def forward(self, lr: Tensor) -> Tensor:
        """lr (N, 3, h, w) in [-1, 1] -> SR (N, 3, scale h, scale w)."""
        validate.images("lr", lr, shape=("N", 3, "H", "W"))
        features = self.head(lr)  # (N, C, h, w)
        features = features + self.body(features)  # the long skip over the residual blocks
        out = self.tail(self.upsample(features))  # (N, 3, scale h, scale w)
        if self.bicubic_skip:  # the network adds only the detail that bicubic misses
            out = out + F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False, antialias=True)
        return out

    @torch.no_grad()
    def super_resolve(self, lr: Tensor) -> Tensor:
        """SR of ``lr`` (N, 3, h, w) or (3, h, w) in eval mode, clamped to [-1, 1], without touching the train flag."""
        validate.tensor("lr", lr, finite=False)
        if lr.ndim not in (3, 4):
            raise ValueError(f"lr should be an image (3, h, w) or a batch (N, 3, h, w), got shape {tuple(lr.shape)}")
        was_training = self.training
        self.eval()
        try:
            batched = lr if lr.ndim == 4 else lr[None]
            p = next(self.parameters())
            out = self(batched.to(p.device, p.dtype)).clamp(-1.0, 1.0).to(lr.device)
        finally:
            self.train(was_training)
        return out if lr.ndim == 4 else out[0]


# --------------------------------------------------------------------------- the discriminator
class SRDiscriminator(nn.Module):
    """The SRGAN discriminator: 8 convolutions (3x3, LeakyReLU 0.2, BN after the first), dense 1024, one logit.

    ``width`` is the first layer's channels (paper 64), doubled every second layer up to 8x;
    ``patch`` the HR crop it sees (paper 96). Returns logits (N,). ``stride_kernel`` is the kernel
    of the four stride-2 layers: 3 in the paper. A 3x3 kernel at stride 2 covers some input pixels
    twice and others once, so the gradient it passes back to the image has a periodic pattern
    (Odena, Dumoulin & Olah, "Deconvolution and checkerboard artifacts", 2016, on gradients); the
    generator learns it as a faint regular grid. A 4x4 kernel at stride 2 covers every pixel equally. Its input is not checked to lie in
    [-1, 1]: the generator's output is not squashed, and pixels out of range are something D may
    learn to catch, which pushes G back into range.
    """

    def __init__(self, patch: int = 96, width: int = 64, dense: int = 1024, stride_kernel: int = 3):
        super().__init__()
        validate.integer("patch", patch, low=16)
        validate.choice("stride_kernel", stride_kernel, (3, 4))
        if patch % 16:
            raise ValueError(f"patch must be a multiple of 16 (four stride-2 layers), got {patch}")
        validate.integer("width", width)
        validate.integer("dense", dense)
        layers, c_in = [], 3
        for i in range(8):
            c_out, stride = width * 2 ** (i // 2), 1 + i % 2  # 64, 64s2, 128, 128s2, 256, 256s2, 512, 512s2
            kernel = stride_kernel if stride == 2 else 3
            layers += [nn.Conv2d(c_in, c_out, kernel, stride, 1, bias=i == 0)]
            layers += [nn.BatchNorm2d(c_out)] if i else []
            layers += [nn.LeakyReLU(0.2)]
            c_in = c_out
        self.patch = patch
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * (patch // 16) ** 2, dense), nn.LeakyReLU(0.2),
                                  nn.Linear(dense, 1))

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("x", x, shape=("N", 3, self.patch, self.patch), hint=" (RGB patches, HR or SR)")
        return self.head(self.features(x)).squeeze(1)  # (N,)


# --------------------------------------------------------------------------- feature networks for the content loss
# ImageNet's channel means and standard deviations for inputs in [0, 1]: what torchvision's VGG weights expect
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_normalize(x: Tensor) -> Tensor:
    """x (N, 3, H, W) in ganlab's range [-1, 1] -> (x01 - mean) / std, the input an ImageNet network was trained on."""
    validate.tensor("x", x, shape=("N", 3, "H", "W"), hint=" (RGB images in [-1, 1])")
    mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return ((x + 1.0) / 2.0 - mean) / std


class FeatureExtractor(nn.Module):
    """A frozen feature network phi for the content loss: images in [-1, 1] -> features.

    ``net`` maps normalised images to features; ``normalize`` is applied first
    (``imagenet_normalize`` for ImageNet weights). The weights never train: ``requires_grad`` is
    off and ``train()`` keeps it in eval mode, but gradients flow through it to the image. ``net``
    itself is frozen and put in eval mode in place: it becomes the instrument, not a copy of it.
    """

    def __init__(self, net: nn.Module, normalize=imagenet_normalize, scale: float = 1.0, name: str = "features"):
        super().__init__()
        validate.instance("net", net, nn.Module, "an nn.Module mapping images to features")
        validate.number("scale", scale, low=0, low_open=True)
        self.net, self.normalize, self.scale, self.name = net.eval(), normalize, scale, name
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FeatureExtractor":
        return super().train(False)  # always eval: the features are a fixed measuring instrument

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("x", x, shape=("N", 3, "H", "W"), hint=" (RGB images in [-1, 1])")
        return self.net(self.normalize(x)) * self.scale

    def extra_repr(self) -> str:
        return f"name={self.name!r}, scale={self.scale}"


def random_features(width: int = 32, depth: int = 3, seed: int = 0) -> FeatureExtractor:
    """An offline phi: ``depth`` VGG-style stages of two 3x3 convolutions + ReLU (a 2x2 max-pool between stages),
    widths ``width`` doubling per stage, with fixed random weights drawn from ``seed`` (He init, zero bias).

    The input is centred per channel with ImageNet's statistics like VGG's; with random weights that
    only fixes the scale. The default, three stages of widths 32, 64, 128, ends after two pools with
    a receptive field of 32 px, half the course's 64 px crops (VGG54's, up to relu5_4, is 252 px: all of the
    paper's 96 px crops), at a small fraction of VGG19's cost."""
    validate.integer("width", width)
    validate.integer("depth", depth)
    validate.integer("seed", seed, low=0)
    layers, c_in = [], 3
    g = torch.Generator().manual_seed(seed)
    for stage in range(depth):
        if stage:
            layers.append(nn.MaxPool2d(2))
        c_out = width * 2 ** min(stage, 3)
        for _ in range(2):
            conv = nn.Conv2d(c_in, c_out, 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * (2.0 / (9 * c_in)) ** 0.5)
                conv.bias.zero_()
            layers += [conv, nn.ReLU()]
            c_in = c_out
    return FeatureExtractor(nn.Sequential(*layers), imagenet_normalize, name=f"random VGG-style, depth {depth}")


# The layer names of VGG19 (torchvision's ``features``) up to each activation the SR literature uses
VGG19_LAYERS = {"relu2_2": 9, "relu3_4": 18, "relu4_4": 27, "relu5_4": 36}  # index after that ReLU, exclusive


def vgg19_features(layer: str = "relu5_4", download: bool | None = None) -> FeatureExtractor:
    """VGG19 trained on ImageNet (torchvision's weights) up to ``layer``, with ImageNet normalisation and the
    paper's 1/12.75 feature scale: SRGAN's "VGG54" content loss at the default ``layer``.

    The weights come from torchvision's cache (``$TORCH_HOME``) if they are there, else are
    downloaded where downloads are allowed; offline without them this raises ``DownloadNotAllowed``
    and names ``random_features``, the course's offline phi."""
    validate.choice("layer", layer, VGG19_LAYERS)
    if download is not None and not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None (ask the environment), got {download!r}")
    from torchvision.models import VGG19_Weights, vgg19

    weights = VGG19_Weights.IMAGENET1K_V1
    cached = _torch_hub_file(weights.url)
    if not cached.is_file() and not (downloads_allowed() if download is None else download):
        raise DownloadNotAllowed(
            f"VGG19's ImageNet weights are not in {cached.parent} and downloads are off: offline, use "
            f"srgan.random_features() for the content loss, or allow downloads with GANLAB_DOWNLOAD=1")
    net = vgg19()
    net.load_state_dict(weights.get_state_dict(progress=False))
    return FeatureExtractor(net.features[:VGG19_LAYERS[layer]], imagenet_normalize, scale=1 / 12.75,
                            name=f"VGG19 {layer}")


def _torch_hub_file(url: str):
    from pathlib import Path

    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def content_loss(phi: nn.Module, sr: Tensor, hr: Tensor) -> Tensor:
    """mean (phi(SR) - phi(HR))^2: the perceptual content loss; phi(HR) is a constant target."""
    validate.tensor("sr", sr, shape=("N", 3, "H", "W"), hint=" (RGB images, a generator's output)")
    validate.tensor("hr", hr, shape=tuple(sr.shape), hint=" (the shape of sr)")
    with torch.no_grad():
        target = phi(hr)
    return F.mse_loss(phi(sr), target)


# --------------------------------------------------------------------------- network interpolation
def interpolate_networks(a: nn.Module, b: nn.Module, alpha: float) -> nn.Module:
    """A new network with every weight and buffer (1 - alpha) theta_a + alpha theta_b (ESRGAN, Wang et al. 2018,
    sec. 3.4): alpha 0 is ``a``, 1 is ``b``. ``a`` and ``b`` must have the same architecture; neither is changed.
    BatchNorm's running statistics are interpolated like the weights; integer buffers (its batch counter) come
    from ``a``."""
    validate.instance("a", a, nn.Module, "a network (e.g. the SRResNet)")
    validate.instance("b", b, nn.Module, "a network of the same architecture (e.g. the SRGAN generator)")
    validate.number("alpha", alpha, low=0, high=1)
    state_a, state_b = a.state_dict(), b.state_dict()
    if type(a) is not type(b) or state_a.keys() != state_b.keys() or any(
            state_a[k].shape != state_b[k].shape for k in state_a):
        raise ValueError("a and b must be the same architecture with the same shapes (e.g. an SRResNet and the SRGAN "
                         "generator fine-tuned from it) to interpolate between their weights")
    mixed = {k: torch.lerp(v, state_b[k].to(v.dtype), alpha) if v.is_floating_point() else v.clone()
             for k, v in state_a.items()}
    out = copy.deepcopy(a)
    out.load_state_dict(mixed)
    return out

"""LAPGAN: a Laplacian pyramid of GANs that draws an image coarse to fine, one octave of detail per level.

Denton, Chintala, Szlam & Fergus 2015 ("Deep Generative Image Models using a Laplacian Pyramid of
Adversarial Networks", NeurIPS, arXiv:1506.05751). The levels are numbered here in the order they
are trained and sampled, coarse to fine (level 0 is 8 px); the paper counts from the finest (its
k = 0 is the full image, k = K the coarsest). With u = ``pyramids.upsample`` (EXPAND):

    level 0,  8 px:  x_0 = G_0(z_0)                                paper: I_K = G_K(z_K)
    level 1, 16 px:  l_1 = u(x_0),  x_1 = l_1 + G_1(z_1, l_1)      paper: I_k = u(I_{k+1}) + G_k(z_k, u(I_{k+1}))
    level 2, 32 px:  l_2 = u(x_1),  x_2 = l_2 + G_2(z_2, l_2)

l_i is the blurry image the coarser levels drew, expanded to this level's size; G_i draws only the
detail h_i = G_i(z_i, l_i) it lacks, one band of a Laplacian pyramid. D_i judges such a detail together with its
low-pass image, D_i(h, l_i), so it can tell whether h fits l_i. The coarsest level is a plain GAN
(the paper's recurrence starts from I_{K+1} = 0, so l_0 = 0).

Training: each level is a GAN of its own, trained on the Laplacian pyramids of real images. For a
real image with Gaussian pyramid g_0 (8 px), g_1, g_2 = x (32 px), level 0 learns g_0, and level i > 0
learns the real detail h_i = g_i - u(g_{i-1}) given the real low-pass image l_i = u(g_{i-1})
(``real_pairs``). No level sees another level's samples while training; they meet only when
``sample`` chains them.

The players follow the paper's CIFAR-10 models and the official code (facebookarchive/eyescream,
cifar/scripts/train_cifar.lua for the coarsest level, train_cifar_coarse_to_fine.lua above it),
scaled down by arguments:

- level 0: a fully connected G_0 with two hidden layers (``CoarseGenerator``) and, unlike the official
  fully connected D_0, a small convolutional D_0 with a minibatch standard deviation map
  (``CoarseDiscriminator``, whose docstring says why);
- G_i (``ResidualGenerator``): three "same" convolutions at the level's resolution (7, 7 and 5 px,
  128 channels), ReLU between them, a linear output (details are signed). Its noise z_i is a map of
  the level's size stacked onto l_i as one more input plane, as in the paper (a fourth plane after
  the three colours of CIFAR-10);
- D_i (``ResidualDiscriminator``): a 5 x 5 convolution, a 5 x 5 convolution of stride 2 (both without
  padding, 128 channels) and a linear layer to one logit. The paper *adds* l_i to the detail before
  D's first convolution (D sees the image l + h); here l_i is stacked onto h as more channels. That
  contains the paper's D (a first convolution with the same weights on both sets of channels is a
  convolution of l + h) and lets D also weigh the two apart.

The defaults of the conditional players are the official CIFAR-10 32 px ones (three colours, 128
channels); the course's recipe passes smaller sizes (``lapgan_train.LAPGANConfig``).

Where this differs from the paper, on purpose: z ~ N(0, I), as everywhere in ganlab (the official code
draws U(-1, 1)); D has LeakyReLU(0.2) and no dropout (the official code: ReLU and dropout); G_0 ends in
tanh, since every level of a digit's Gaussian pyramid lies in [-1, 1]; ``sample`` clips each level's
image to that range before it conditions the next. The pyramids are ``ganlab.pyramids``' (Burt &
Adelson's blur-and-subsample REDUCE and its EXPAND), as the paper describes its d and u; the official
CIFAR-10 code resizes with bilinear interpolation instead.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from . import validate
from .nets import MLPGenerator
from .progressive import MinibatchStdDev
from .pyramids import gaussian_pyramid, laplacian_pyramid, upsample

__all__ = ["SIZES", "CoarseGenerator", "CoarseDiscriminator", "ResidualGenerator", "ResidualDiscriminator",
           "real_pairs", "refine", "sample"]

SIZES = (8, 16, 32)  # the side of each level's images, coarse first


def _weights(module: nn.Module) -> torch.dtype:
    return next(module.parameters()).dtype


class CoarseGenerator(nn.Module):
    """G_0: z ~ N(0, I) in R^latent_dim -> a size x size image in [-1, 1], through a fully connected net."""

    def __init__(self, latent_dim: int = 100, channels: int = 3, width: int = 256, size: int = 8):
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("channels", channels), ("width", width), ("size", size)):
            validate.integer(name, value)
        self.latent_dim, self.channels, self.size = latent_dim, channels, size
        # two hidden layers of ReLU units, as the official code's 8 x 8 generator
        self.mlp = MLPGenerator(latent_dim=latent_dim, out_dim=channels * size * size, width=width, depth=3)

    def forward(self, z: Tensor) -> Tensor:
        validate.tensor("the generator's input z", z, shape=("N", self.latent_dim), dtype=_weights(self),
                        finite=False)
        x = self.mlp(z).view(len(z), self.channels, self.size, self.size)  # (N, C, S, S)
        return torch.tanh(x)  # in [-1, 1], the range of every level of a real digit's Gaussian pyramid

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws of z ~ N(0, I), (n, latent_dim), on the generator's device."""
        validate.integer("n", n)
        return torch.randn(n, self.latent_dim, generator=generator).to(next(self.parameters()).device)


class CoarseDiscriminator(nn.Module):
    """D_0: a size x size image -> one logit, through a 3 x 3 convolution, a strided 4 x 4 one, the minibatch
    standard deviation map and a linear layer.

    The official code's D_0 is fully connected. On the digits' 8 px level such a D let G_0 draw
    speckled images, which the 16 px level, trained on smooth real ones, turned into broken strokes;
    a convolutional D_0 judges the local texture too. The minibatch standard deviation (Karras et al.
    2018, arXiv:1710.10196, sec. 3; ``progressive.MinibatchStdDev``) lets D_0 see a batch that varies
    too little, which kept G_0 from drawing mostly 8s, 9s and 0s. FID of the whole chain on the course's
    digits, short trials with one seed: about 500 with the fully connected D_0, 650 with a
    convolutional one of 16 channels, 220 to 240 with 32, recall 0.18 without the extra map and 0.39 with it.
    """

    def __init__(self, channels: int = 3, width: int = 32, size: int = 8, minibatch_std: bool = True):
        super().__init__()
        for name, value in (("channels", channels), ("width", width)):
            validate.integer(name, value)
        validate.integer("size", size, low=2)
        if size % 2:
            raise ValueError(f"size must be even, so that the strided convolution halves it, got {size}")
        validate.flag("minibatch_std", minibatch_std)
        self.channels, self.size = channels, size
        maps = 2 * width + int(minibatch_std)
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2),  # (N, C, S, S) -> (N, w, S, S)
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # (N, 2w, S/2, S/2)
            *([MinibatchStdDev()] if minibatch_std else []),  # (N, 2w + 1, S/2, S/2): how much the batch varies
            nn.Flatten(), nn.Linear(maps * (size // 2) ** 2, 1))  # (N, maps S^2 / 4) -> (N, 1)

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("the discriminator's input x", x, shape=("N", self.channels, self.size, self.size),
                        dtype=_weights(self), finite=False)
        return self.net(x).flatten()  # (N,) logits


def _check_residual_sizes(size: int, channels: int, width: int) -> None:
    validate.integer("size", size, low=10)  # D's two unpadded 5 x 5 convolutions need 10 px
    if size % 2:
        raise ValueError(f"size must be even: a level's images are twice the size of the level below, got {size}")
    validate.integer("channels", channels)
    validate.integer("width", width)


class ResidualGenerator(nn.Module):
    """G_i(z_i, l_i): the detail h_i (N, C, S, S) that the low-pass image l_i lacks, from l_i and a noise map z_i."""

    def __init__(self, size: int = 32, channels: int = 3, width: int = 128, kernels: tuple[int, int, int] = (7, 7, 5)):
        super().__init__()
        _check_residual_sizes(size, channels, width)
        if not (isinstance(kernels, (tuple, list)) and len(kernels) == 3):
            raise TypeError(f"kernels must be three odd kernel sizes, one per convolution, such as (7, 7, 5); "
                            f"got {kernels!r}")
        for i, k in enumerate(kernels):
            validate.integer(f"kernels[{i}]", k)
            if k % 2 == 0:
                raise ValueError(f"kernels[{i}] must be odd, so that a 'same' convolution keeps the size, got {k}")
        self.size, self.channels = size, channels
        k1, k2, k3 = kernels
        self.net = nn.Sequential(  # as the official CIFAR-10 G_k: three convolutions at full resolution
            nn.Conv2d(channels + 1, width, k1, padding=k1 // 2), nn.ReLU(),  # (N, C + 1, S, S) -> (N, w, S, S)
            nn.Conv2d(width, width, k2, padding=k2 // 2), nn.ReLU(),  # (N, w, S, S)
            nn.Conv2d(width, channels, k3, padding=k3 // 2))  # (N, C, S, S), linear: a detail is signed

    def forward(self, z: Tensor, l: Tensor) -> Tensor:
        validate.tensor("the generator's noise z", z, shape=("N", 1, self.size, self.size), dtype=_weights(self),
                        finite=False, hint="; draw it with G.noise(n)")
        validate.tensor("the generator's low-pass image l", l, shape=(len(z), self.channels, self.size, self.size),
                        dtype=_weights(self), finite=False, hint="; one per noise map, at this level's size")
        return self.net(torch.cat([l, z], dim=1))  # the noise as one more input plane of l, (N, C, S, S)

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n noise maps z ~ N(0, I), (n, 1, S, S), on the generator's device."""
        validate.integer("n", n)
        return torch.randn(n, 1, self.size, self.size, generator=generator).to(next(self.parameters()).device)


class ResidualDiscriminator(nn.Module):
    """D_i(h, l_i): one logit that the detail h (N, C, S, S), seen with its low-pass image l_i, is real."""

    def __init__(self, size: int = 32, channels: int = 3, width: int = 128):
        super().__init__()
        _check_residual_sizes(size, channels, width)
        self.size, self.channels = size, channels
        s = (size - 4 - 5) // 2 + 1  # the side after the two unpadded convolutions: 32 -> 28 -> 12, 16 -> 12 -> 4
        self.net = nn.Sequential(  # as the official CIFAR-10 D_k: a convolution, a strided one, a linear layer
            nn.Conv2d(2 * channels, width, 5), nn.LeakyReLU(0.2),  # (N, 2C, S, S) -> (N, w, S - 4, S - 4)
            nn.Conv2d(width, width, 5, stride=2), nn.LeakyReLU(0.2),  # (N, w, s, s)
            nn.Flatten(), nn.Linear(width * s * s, 1))  # (N, w s^2) -> (N, 1)

    def forward(self, h: Tensor, l: Tensor) -> Tensor:
        shape = ("N", self.channels, self.size, self.size)
        validate.tensor("the discriminator's detail h", h, shape=shape, dtype=_weights(self), finite=False)
        validate.tensor("the discriminator's low-pass image l", l, shape=(len(h),) + shape[1:],
                        dtype=_weights(self), finite=False, hint="; one per detail, at this level's size")
        return self.net(torch.cat([h, l], dim=1)).flatten()  # l stacked onto h as more channels, (N,) logits


def real_pairs(x: Tensor, levels: int = len(SIZES)) -> list[tuple[Tensor, Tensor]]:
    """For each level, coarse first, the real pair (h_i, l_i) of images x (N, C, H, W): the coarsest Gaussian
    level with l_0 = 0 (the paper's I_{K+1} = 0), then each Laplacian band h_i with l_i = u(g_{i-1})."""
    validate.tensor("x", x, shape=("N", "C", "H", "W"), finite=False,
                    hint="; a batch of images (N, C, H, W), e.g. training_digits(image_size=32)")
    bands = laplacian_pyramid(x, levels)[::-1]  # coarse first: g_0, h_1, ..., h_{levels-1}
    gauss = gaussian_pyramid(x, levels)[::-1]  # coarse first: g_0, g_1, ..., g_{levels-1} = x
    lows = [torch.zeros_like(bands[0])] + [upsample(g, tuple(h.shape[2:])) for g, h in zip(gauss, bands[1:])]
    return list(zip(bands, lows))  # h_i + l_i = g_i at every level


def refine(G: ResidualGenerator, coarse: Tensor, z: Tensor) -> Tensor:
    """One step of the sampling recurrence: l + G(z, l), where l = upsample(coarse) to G's size (N, C, S, S)."""
    validate.instance("G", G, ResidualGenerator, "a ResidualGenerator (a level above the coarsest)")
    validate.tensor("coarse", coarse, shape=("N", G.channels, G.size // 2, G.size // 2), finite=False,
                    hint="; the images of the level below, half this level's size")
    validate.tensor("z", z, shape=(len(coarse), 1, G.size, G.size), dtype=None, finite=False,
                    hint="; one noise map per coarse image, e.g. G.noise(len(coarse))")
    l = upsample(coarse, (G.size, G.size))  # (N, C, S, S): the low-pass image l_i = u(x_{i-1})
    return l + G(z, l)  # x_i = l_i + h_i


def _check_levels(levels: object) -> list[nn.Module]:
    if not isinstance(levels, (list, tuple, nn.ModuleList)) or len(levels) == 0:
        raise TypeError(f"levels must be a non-empty list of generators, coarse first: a CoarseGenerator, then "
                        f"ResidualGenerators; got {type(levels).__name__}"
                        + (" of length 0" if isinstance(levels, (list, tuple, nn.ModuleList)) else ""))
    levels = list(levels)
    validate.instance("levels[0]", levels[0], CoarseGenerator, "a CoarseGenerator (the coarsest level)")
    for i in range(1, len(levels)):
        validate.instance(f"levels[{i}]", levels[i], ResidualGenerator, "a ResidualGenerator")
        below = levels[i - 1].size
        if levels[i].size != 2 * below or levels[i].channels != levels[i - 1].channels:
            raise ValueError(f"levels[{i}] makes {levels[i].channels}-channel images of {levels[i].size} px, but it "
                             f"must make {levels[i - 1].channels}-channel images of {2 * below} px: twice the size "
                             f"of levels[{i - 1}]'s")
    return levels


@torch.no_grad()
def sample(levels: Sequence[nn.Module], n: int, generator: torch.Generator | None = None,
           upto: int | None = None) -> Tensor:
    """n images drawn coarse to fine through levels[0], ..., levels[upto] (default: all), (n, C, S, S).

    Each level's noise is drawn in turn from ``generator``; each level's image is clipped to [-1, 1],
    the range of the real images at every level, before it conditions the next.
    """
    levels = _check_levels(levels)
    validate.integer("n", n)
    if generator is not None:
        validate.instance("generator", generator, torch.Generator, "a torch.Generator, or None")
    upto = len(levels) - 1 if upto is None else validate.integer("upto", upto, low=0, high=len(levels) - 1)
    x = levels[0](levels[0].noise(n, generator))  # (n, C, 8, 8), already in [-1, 1]
    for G in levels[1:upto + 1]:
        x = refine(G, x, G.noise(n, generator)).clamp(-1, 1)  # (n, C, 2s, 2s)
    return x

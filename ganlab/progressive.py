"""Progressive growing of GANs: the layers and the two players, grown 8 -> 16 -> 32 px.

Karras, Aila, Laine & Lehtinen 2018 ("Progressive Growing of GANs for Improved Quality,
Stability, and Variation", ICLR, arXiv:1710.10196). Sec. 2: both players start small and
grow together, one block of layers per stage, so each first learns the coarse structure and
then one octave of detail at a time:

    stage  image   G: z -> 4x4 -> ...        D: image -> ... -> 4x4 -> logit
    0      8 px    4 -> 8                    8 -> 4
    1      16 px   4 -> 8 -> 16              16 -> 8 -> 4
    2      32 px   4 -> 8 -> 16 -> 32        32 -> 16 -> 8 -> 4

(the paper starts at 4 px; a 4 px digit is a blur, so the course starts at 8). A new block is
faded in while ``alpha`` rises from 0 to 1 (sec. 2, fig. 2): G's image at stage s > 0 is

    (1 - alpha) * upsample(toRGB_{s-1}(h_{s-1})) + alpha * toRGB_s(block_s(h_{s-1})),

nearest-neighbour upsampling; D mirrors it, with average pooling, on its input. At alpha = 0
each player is exactly the smaller one, so growing does not disturb what it has learnt.

Both players hold the layers of all three stages from the start (the paper's code, too, builds
the whole network and picks the level of detail with a variable); ``stage`` and ``alpha`` choose
the part that runs, so a checkpoint has the same tensors at every stage. Layers not in use get no
gradient, and Adam leaves them as they are. The layer sizes are the paper's (appendix A.1, table 2, up to 32 x 32) at
``latent_dim=512, width=512, channels=3``: every map has ``width`` channels, no BatchNorm,
LeakyReLU(0.2), a linear output in G (no tanh) and raw scores from D, shape (N,).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate

__all__ = ["SIZES", "EqualizedLinear", "EqualizedConv2d", "PixelNorm", "MinibatchStdDev", "ProgressiveGenerator",
           "ProgressiveDiscriminator"]

SIZES = (8, 16, 32)  # the side of the images at stages 0, 1, 2
HE_GAIN = math.sqrt(2)  # He et al. 2015: keeps the activations' variance through a (leaky) ReLU layer


class _Equalized(nn.Module):
    """What both equalised layers share: a stored weight w_hat and the constant c that multiplies it at run time."""

    def _init_weight(self, shape: tuple[int, ...], fan_in: int, gain: float, equalized: bool, bias: bool) -> None:
        validate.number("gain", gain, low=0, low_open=True)
        self.equalized, self.fan_in = validate.flag("equalized", equalized), fan_in
        he = gain / math.sqrt(fan_in)  # He's std for this layer's weights
        # equalised: w_hat ~ N(0, 1) stored, c = he at run time; plain: w ~ N(0, he^2) stored, c = 1
        self.scale = he if equalized else 1.0
        self.weight = nn.Parameter(torch.randn(shape) * (1.0 if equalized else he))
        self.bias = nn.Parameter(torch.zeros(shape[0])) if validate.flag("bias", bias) else None  # biases start at 0

    @property
    def effective_weight(self) -> Tensor:
        """The weight the layer computes with: c * w_hat."""
        return self.weight * self.scale


class EqualizedLinear(_Equalized):
    """A linear layer with the equalised learning rate: y = x (c w_hat)^T + b (Karras et al. 2018, sec. 4.1).

    The weights are stored as w_hat ~ N(0, 1) and multiplied at every forward pass by He's
    constant c = gain / sqrt(fan_in) (gain sqrt(2) by default); biases start at 0. Why this
    equalises learning: Adam divides each gradient by a running estimate of its own size, so its
    step in any parameter is about the learning rate, whatever that parameter's scale. Stored
    He-initialised weights are small in layers with a large fan-in and large in layers with a
    small one, so the same step is a large relative change in the first and a small one in the
    second: they learn at different speeds. Stored as w_hat, every parameter has scale 1, a step
    changes every layer's weights by the same fraction, and every layer learns at the same speed.
    ``equalized=False`` gives the usual layer, weights N(0, c^2) stored and used as they are: the
    same function at initialisation, trained differently.
    """

    def __init__(self, in_features: int, out_features: int, gain: float = HE_GAIN, equalized: bool = True,
                 bias: bool = True):
        super().__init__()
        validate.integer("in_features", in_features)
        validate.integer("out_features", out_features)
        self._init_weight((out_features, in_features), in_features, gain, equalized, bias)

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("EqualizedLinear's input", x, shape=("N", self.fan_in), dtype=self.weight.dtype, finite=False)
        return F.linear(x, self.effective_weight, self.bias)  # (N, out_features)


class EqualizedConv2d(_Equalized):
    """A stride-1 convolution, padded to keep the size, with the equalised learning rate (see ``EqualizedLinear``);
    fan_in = in_channels * kernel_size^2."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, gain: float = HE_GAIN,
                 equalized: bool = True, bias: bool = True):
        super().__init__()
        validate.integer("in_channels", in_channels)
        validate.integer("out_channels", out_channels)
        if validate.integer("kernel_size", kernel_size) % 2 == 0:
            raise ValueError(f"kernel_size must be odd, so that padding keeps the image size, got {kernel_size}")
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self._init_weight(shape, in_channels * kernel_size ** 2, gain, equalized, bias)

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("EqualizedConv2d's input", x, shape=("N", self.weight.shape[1], "H", "W"),
                        dtype=self.weight.dtype, finite=False)
        return F.conv2d(x, self.effective_weight, self.bias, padding=self.weight.shape[-1] // 2)  # (N, C_out, H, W)


class PixelNorm(nn.Module):
    """Each pixel's feature vector scaled to unit RMS: b = a / sqrt(mean_j a_j^2 + eps) (Karras et al. 2018, sec. 4.2).

    Used in G after every 3x3 conv (and on z): no learnt parameters, it only keeps the
    magnitudes of G's signals from escalating as the two players compete.
    """

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = validate.number("eps", eps, low=0, low_open=True)

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("PixelNorm's input", x, finite=False)
        if x.ndim < 2:
            raise ValueError(f"PixelNorm's input should have shape (N, C, ...), got {tuple(x.shape)}")
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)  # mean over channels, per pixel


class MinibatchStdDev(nn.Module):
    """Features (N, C, H, W) -> (N, C + 1, H, W): one more map, how much the batch varies (Karras et al. 2018, sec. 3).

    The standard deviation of each feature at each position over a group of examples,
    averaged over features and positions to one number, is appended to each example of the
    group as a constant map. A collapsed G's batch has a small value, which D can see. Sec. 3
    takes the std over the whole minibatch; the paper's code (networks.py,
    minibatch_stddev_layer) over groups of ``group_size`` = 4, as here: example i is in group
    i mod (N / group size), and the std is sqrt(population variance + 1e-8). When N is not a
    multiple of ``group_size`` the group size is the largest divisor of N below it.
    """

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = validate.integer("group_size", group_size)

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("MinibatchStdDev's input", x, shape=("N", "C", "H", "W"), finite=False)
        n, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group_size, n) + 1) if n % d == 0)  # group size, divides N
        y = x.float().reshape(g, n // g, c, h, w)  # (G, M, C, H, W): example i is member i // M of group i % M
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (M, C, H, W): per feature and position
        std = std.mean(dim=(1, 2, 3)).to(x.dtype)  # (M,): one number per group
        maps = std.view(1, n // g, 1, 1, 1).expand(g, n // g, 1, h, w).reshape(n, 1, h, w)  # (N, 1, H, W)
        return torch.cat([x, maps], dim=1)  # (N, C + 1, H, W)


def _conv(c_in: int, c_out: int, equalized: bool, pixel_norm: bool) -> list[nn.Module]:
    """3x3 conv, LeakyReLU(0.2), then PixelNorm if asked (appendix A.1)."""
    return [EqualizedConv2d(c_in, c_out, 3, equalized=equalized), nn.LeakyReLU(0.2)] + (
        [PixelNorm()] if pixel_norm else [])


class _Growing(nn.Module):
    """The current stage (images of SIZES[stage] px) and fade-in weight alpha in [0, 1], shared by both players."""

    def __init__(self) -> None:
        super().__init__()
        self._stage, self._alpha = 0, 1.0

    @property
    def stage(self) -> int:
        return self._stage

    @stage.setter
    def stage(self, value: int) -> None:
        self._stage = validate.integer("stage", value, low=0, high=len(SIZES) - 1)

    @property
    def alpha(self) -> float:
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        self._alpha = validate.number("alpha", value, low=0, high=1, hint=" (the weight of the new block)")

    @property
    def size(self) -> int:
        """The side of the images at the current stage."""
        return SIZES[self.stage]

    def _at(self, stage: int | None, alpha: float | None) -> tuple[int, float]:
        stage = self.stage if stage is None else validate.integer("stage", stage, low=0, high=len(SIZES) - 1)
        alpha = self.alpha if alpha is None else validate.number("alpha", alpha, low=0, high=1)
        return stage, alpha


class ProgressiveGenerator(_Growing):
    """G: z in R^latent_dim -> an image (N, channels, S, S), S = 8, 16 or 32 px at stage 0, 1, 2.

    ``stage`` and ``alpha`` (attributes, or arguments of a call) choose the resolution and the
    fade-in of its newest block. ``equalized`` and ``pixel_norm`` switch off sec. 4.1 and 4.2.
    The output is linear, as in the paper: clip it to [-1, 1] to show it.
    """

    def __init__(self, latent_dim: int = 512, channels: int = 1, width: int = 512, equalized: bool = True,
                 pixel_norm: bool = True):
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("channels", channels), ("width", width)):
            validate.integer(name, value)
        validate.flag("pixel_norm", pixel_norm)
        self.latent_dim, self.channels, self.width = latent_dim, channels, width
        # 4x4: z -> "Conv 4x4" (a dense layer reshaped to 4x4, one bias per channel) -> 3x3 conv. Gain sqrt(2)/4 as in
        # the paper's code (networks.py, G_paper), i.e. He's constant for a fan-in of 16 * latent_dim.
        self.norm_z = PixelNorm() if pixel_norm else nn.Identity()  # the paper's code normalises z too
        self.dense = EqualizedLinear(latent_dim, 16 * width, HE_GAIN / 4, equalized, bias=False)
        self.dense_bias = nn.Parameter(torch.zeros(width))
        self.dense_act = nn.Sequential(nn.LeakyReLU(0.2), *([PixelNorm()] if pixel_norm else []))
        self.conv4 = nn.Sequential(*_conv(width, width, equalized, pixel_norm))
        # block s: (N, width, S/2, S/2) -> (N, width, S, S), S = SIZES[s]; toRGB s: 1x1 conv, linear (gain 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), *_conv(width, width, equalized, pixel_norm),
                          *_conv(width, width, equalized, pixel_norm)) for _ in SIZES)
        self.to_rgb = nn.ModuleList(EqualizedConv2d(width, channels, 1, gain=1.0, equalized=equalized) for _ in SIZES)

    def forward(self, z: Tensor, stage: int | None = None, alpha: float | None = None) -> Tensor:
        stage, alpha = self._at(stage, alpha)
        validate.tensor("the generator's input z", z, shape=("N", self.latent_dim), dtype=self.dense_bias.dtype,
                        finite=False)
        h = self.dense(self.norm_z(z)).view(len(z), self.width, 4, 4)  # (N, width, 4, 4)
        h = self.conv4(self.dense_act(h + self.dense_bias.view(1, -1, 1, 1)))  # (N, width, 4, 4)
        for s in range(stage + 1):
            previous, h = h, self.blocks[s](h)  # (N, width, SIZES[s], SIZES[s])
        image = self.to_rgb[stage](h)  # (N, channels, S, S)
        if stage == 0 or alpha == 1:
            return image
        old = F.interpolate(self.to_rgb[stage - 1](previous), scale_factor=2, mode="nearest")  # (N, channels, S, S)
        return (1 - alpha) * old + alpha * image  # sec. 2: the new block fades in

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples G(z), z ~ N(0, I), at the current stage, drawn on G's device."""
        validate.integer("n", n)
        if generator is not None:
            validate.instance("generator", generator, torch.Generator, "a torch.Generator (or None)")
        z = torch.randn(n, self.latent_dim, generator=generator).to(self.dense_bias.device)
        return self(z)


class ProgressiveDiscriminator(_Growing):
    """D: an image (N, channels, S, S) at the current stage's S -> raw scores (N,), the mirror of G.

    ``minibatch_std`` appends ``MinibatchStdDev``'s map before the last block (sec. 3);
    ``equalized`` as in G. It reads the batch it is given: show it real and fake batches apart.
    """

    def __init__(self, channels: int = 1, width: int = 512, equalized: bool = True, minibatch_std: bool = True):
        super().__init__()
        validate.integer("channels", channels)
        validate.integer("width", width)
        validate.flag("minibatch_std", minibatch_std)
        self.channels, self.width = channels, width
        # fromRGB s: 1x1 conv + LeakyReLU; block s: (N, width, S, S) -> (N, width, S/2, S/2), S = SIZES[s]
        self.from_rgb = nn.ModuleList(nn.Sequential(EqualizedConv2d(channels, width, 1, equalized=equalized),
                                                    nn.LeakyReLU(0.2)) for _ in SIZES)
        self.blocks = nn.ModuleList(nn.Sequential(*_conv(width, width, equalized, False),
                                                  *_conv(width, width, equalized, False), nn.AvgPool2d(2))
                                    for _ in SIZES)
        extra = 1 if minibatch_std else 0
        self.head = nn.Sequential(  # (N, width, 4, 4) -> (N, 1)
            *([MinibatchStdDev()] if minibatch_std else []),  # (N, width + 1, 4, 4)
            *_conv(width + extra, width, equalized, False), nn.Flatten(),  # (N, 16 width)
            EqualizedLinear(16 * width, width, equalized=equalized), nn.LeakyReLU(0.2),  # table 2's "Conv 4x4"
            EqualizedLinear(width, 1, gain=1.0, equalized=equalized))  # linear output

    def forward(self, x: Tensor, stage: int | None = None, alpha: float | None = None) -> Tensor:
        stage, alpha = self._at(stage, alpha)
        size = SIZES[stage]
        validate.tensor("the discriminator's input x", x, shape=("N", self.channels, size, size),
                        dtype=self.head[-1].weight.dtype, finite=False,
                        hint=f" (at stage {stage} D reads {size} px images)")
        h = self.blocks[stage](self.from_rgb[stage](x))  # (N, width, S/2, S/2)
        if stage > 0 and alpha < 1:
            old = self.from_rgb[stage - 1](F.avg_pool2d(x, 2))  # (N, width, S/2, S/2)
            h = (1 - alpha) * old + alpha * h  # sec. 2: the new block fades in
        for s in reversed(range(stage)):
            h = self.blocks[s](h)  # (N, width, SIZES[s] / 2, SIZES[s] / 2)
        return self.head(h).flatten()  # (N,)

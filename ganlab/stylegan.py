"""A style-based generator (StyleGAN) for small images, with AdaIN, noise inputs, style mixing and truncation.

Karras, Laine & Aila 2019 ("A Style-Based Generator Architecture for Generative Adversarial
Networks", CVPR, arXiv:1812.04948, sec. 2, fig. 1b). z never enters the convolutions:

    z (N, latent_dim) -> pixel norm -> mapping network f (an MLP) -> w (N, w_dim)
    w, copied once per style layer -> ws (N, n_styles, w_dim); style i drives layer i
    a learned constant (1, width, 4, 4)                                  ->  4 px, styles 0, 1
      -> [2x up, 3x3 conv, blur] -> epilogue -> [3x3 conv] -> epilogue    ->  8 px, styles 2, 3
      -> ... until image_size                                              -> 32 px, styles 6, 7
      -> toRGB (1x1 conv) -> tanh                                         -> (N, channels, image_size, image_size)

Each layer's epilogue, in the order of the authors' code: add per-pixel noise scaled per
channel, add a bias, LeakyReLU(0.2), then AdaIN with the scale and bias A(w_i) (the 4 px
block's first layer is the constant itself, with no conv). There are two styles per
resolution: n_styles = 2 (log2(image_size) - 1), 8 at 32 px, 18 at the paper's 1024 px.

Scaled down by arguments, not changed: the paper's G has latent_dim = w_dim = 512, 8
mapping layers of 512 with a learning-rate multiplier of 0.01, and 512 channels at every
resolution up to 64 px (as ``width`` here). Every weight uses the equalized learning rate of
ProGAN (Karras, Aila, Laine & Lehtinen 2018, ICLR, arXiv:1710.10196, sec. 4.1), as the
paper's code does. Left out: progressive growing (G here trains at its full size from step
one), and the output is squashed by tanh into [-1, 1] (the paper's is linear) so that ganlab's
discriminators and metrics read it like the DCGAN's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import validate

__all__ = ["adain", "AdaIN", "NoiseInjection", "MappingNetwork", "StyleGenerator", "IMAGE_SIZES"]

IMAGE_SIZES = (8, 16, 32, 64)  # 4 px times a power of two; width is the paper's 512 channels up to 64 px
_GAIN = math.sqrt(2)  # He's gain for (leaky) ReLU layers, as in the paper's code


class _EqualizedLinear(nn.Module):
    """y = x (c W)^T + lr_mul b: W ~ N(0, 1 / lr_mul^2) is stored, c = lr_mul * gain / sqrt(fan_in) applied at run time.

    Equalized learning rate (ProGAN, arXiv:1710.10196, sec. 4.1); with Adam, lr_mul scales the
    layer's effective learning rate (StyleGAN's mapping network uses 0.01).
    """

    def __init__(self, in_features: int, out_features: int, gain: float = _GAIN, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale, self.lr_mul = lr_mul * gain / math.sqrt(in_features), lr_mul

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)  # (N, out_features)


class _EqualizedConv2d(nn.Module):
    """A k x k convolution, 'same' padding, with the equalized learning rate; its bias is added by the caller."""

    def __init__(self, c_in: int, c_out: int, kernel: int, gain: float = _GAIN):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.scale = gain / math.sqrt(c_in * kernel * kernel)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, padding=self.weight.shape[-1] // 2)  # (N, c_out, H, W)


def _blur(x: Tensor) -> Tensor:
    """Low-pass filter [1, 2, 1] x [1, 2, 1] / 16 per channel, after each upsampling (the paper's sec. 2.1)."""
    k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device)
    k = (k[:, None] * k[None, :] / 16).expand(x.shape[1], 1, 3, 3)  # (C, 1, 3, 3)
    return F.conv2d(x, k, padding=1, groups=x.shape[1])  # (N, C, H, W), zero padding as the paper's code


def _pixel_norm(z: Tensor, eps: float = 1e-8) -> Tensor:
    """z / sqrt(mean(z^2) + eps) per example: each z onto the sphere of radius sqrt(latent_dim) (ProGAN, sec. 4.2)."""
    return z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + eps)


def adain(x: Tensor, scale: Tensor, bias: Tensor, eps: float = 1e-8) -> Tensor:
    """AdaIN(x, y) = y_s (x - mu(x)) / sigma(x) + y_b, mu and sigma over each sample's channel.

    Huang & Belongie 2017 ("Arbitrary Style Transfer in Real-time with Adaptive Instance
    Normalization", ICCV, arXiv:1703.06868, eq. 8); StyleGAN's eq. 1. x is (N, C, H, W),
    ``scale`` y_s and ``bias`` y_b are (N, C): afterwards channel c of sample n has mean
    bias[n, c] and standard deviation |scale[n, c]|.
    """
    validate.tensor("adain's input x", x, shape=("N", "C", "H", "W"), finite=False)
    for name, value in (("adain's scale", scale), ("adain's bias", bias)):
        validate.tensor(name, value, shape=(len(x), x.shape[1]), dtype=x.dtype, finite=False,
                        hint=" (one value per sample and channel of x)")
    validate.number("eps", eps, low=0, low_open=True)
    x = x - x.mean(dim=(2, 3), keepdim=True)  # (N, C, H, W), mean 0 per channel
    x = x * torch.rsqrt(x.pow(2).mean(dim=(2, 3), keepdim=True) + eps)  # std 1 per channel
    return scale[:, :, None, None] * x + bias[:, :, None, None]  # (N, C, H, W)


class AdaIN(nn.Module):
    """AdaIN driven by a style: (y_s, y_b) = (1 + s, b) with (s, b) = A(w), A a learned affine map (paper's fig. 1b).

    A's bias starts at 0, so every y_s starts near 1, as in the paper's code.
    """

    def __init__(self, w_dim: int, channels: int):
        super().__init__()
        validate.integer("w_dim", w_dim)
        validate.integer("channels", channels)
        self.w_dim, self.channels = w_dim, channels
        self.affine = _EqualizedLinear(w_dim, 2 * channels, gain=1.0)  # A: w -> (s, b)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        validate.tensor("AdaIN's input x", x, shape=("N", self.channels, "H", "W"), finite=False)
        validate.tensor("AdaIN's style w", w, shape=(len(x), self.w_dim), dtype=x.dtype, finite=False)
        s, b = self.affine(w).chunk(2, dim=1)  # (N, C) each
        return adain(x, 1 + s, b)  # (N, C, H, W)


class NoiseInjection(nn.Module):
    """x + weight_c * noise: one Gaussian noise image per sample, scaled by a learned weight per channel (sec. 3.2).

    The weights start at 0, as in the paper's code, so the noise comes in as G learns to use it.
    """

    def __init__(self, channels: int):
        super().__init__()
        validate.integer("channels", channels)
        self.weight = nn.Parameter(torch.zeros(channels))  # (C,)

    def forward(self, x: Tensor, noise: Tensor | None = None) -> Tensor:
        """``noise``: (N or 1, 1, H, W), or None to draw it fresh, N(0, 1) per pixel."""
        validate.tensor("NoiseInjection's input x", x, shape=("N", len(self.weight), "H", "W"), finite=False)
        if noise is None:
            noise = torch.randn(len(x), 1, *x.shape[2:], dtype=x.dtype, device=x.device)
        validate.tensor("the noise", noise, shape=((len(x), 1), 1, x.shape[2], x.shape[3]), finite=False)
        return x + self.weight[None, :, None, None] * noise  # (N, C, H, W)


class MappingNetwork(nn.Module):
    """f: z (N, latent_dim) -> w (N, w_dim): pixel norm of z, then ``layers`` x (linear, LeakyReLU 0.2).

    The paper uses 8 layers of 512 units (sec. 2) and a learning-rate multiplier ``lr_mul`` of
    0.01 (appendix C); here the hidden layers are w_dim wide and a course model has a few of them (4).
    """

    def __init__(self, latent_dim: int = 64, w_dim: int = 64, layers: int = 4, lr_mul: float = 0.01):
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("w_dim", w_dim), ("layers", layers)):
            validate.integer(name, value)
        validate.number("lr_mul", lr_mul, low=0, low_open=True)
        self.latent_dim, self.w_dim = latent_dim, w_dim
        sizes = [latent_dim] + [w_dim] * layers
        self.net = nn.Sequential(*[m for a, b in zip(sizes, sizes[1:])
                                   for m in (_EqualizedLinear(a, b, lr_mul=lr_mul), nn.LeakyReLU(0.2))])

    def forward(self, z: Tensor) -> Tensor:
        validate.tensor("the mapping network's input z", z, shape=("N", self.latent_dim),
                        dtype=self.net[0].weight.dtype, finite=False)
        return self.net(_pixel_norm(z))  # (N, w_dim)


class _StyleLayer(nn.Module):
    """[2x up] [3x3 conv] [blur], then noise, bias, LeakyReLU(0.2), AdaIN(w_i): one style layer of the synthesis."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, conv: bool = True, upsample: bool = False):
        super().__init__()
        self.upsample = upsample
        self.conv = _EqualizedConv2d(c_in, c_out, 3) if conv else None
        self.noise = NoiseInjection(c_out)
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.adain = AdaIN(w_dim, c_out)

    def forward(self, x: Tensor, w: Tensor, noise: Tensor | None) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")  # (N, c_in, 2s, 2s)
        if self.conv is not None:
            x = self.conv(x)  # (N, c_out, s, s)
        if self.upsample:
            x = _blur(x)
        x = self.noise(x, noise)  # B: per-pixel noise, scaled per channel
        x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2)
        return self.adain(x, w)  # A: the style w_i sets each channel's mean and std


class StyleGenerator(nn.Module):
    """G(z) = synthesis(f(z) for every style layer): z ~ N(0, I)  ->  an image in [-1, 1].

    Training mode, as the paper's code: each forward moves ``w_avg`` towards the batch's mean w
    (w_avg <- decay w_avg + (1 - decay) mean(w)), and with probability ``mixing_prob`` mixes
    styles: a second z2 ~ N(0, I) supplies the styles from a random crossover in
    [1, n_styles) onwards, one crossover per batch (mixing regularisation, sec. 3.1; paper: 0.9;
    0 turns it off). Eval mode does neither. ``mapping_lr_mul``: the mapping network's
    learning-rate multiplier. z is (N, latent_dim). The paper's G, up to ``image_size``:
    ``StyleGenerator(latent_dim=512, w_dim=512, channels=3, width=512, mapping_layers=8)``.
    """

    def __init__(self, latent_dim: int = 64, w_dim: int = 64, channels: int = 1, width: int = 32,
                 image_size: int = 32, mapping_layers: int = 4, mixing_prob: float = 0.9,
                 w_avg_decay: float = 0.995, mapping_lr_mul: float = 0.01):
        super().__init__()
        if isinstance(image_size, bool) or image_size not in IMAGE_SIZES:
            raise ValueError(f"image_size must be one of {list(IMAGE_SIZES)}, got {image_size!r}")
        for name, value in (("latent_dim", latent_dim), ("w_dim", w_dim), ("channels", channels), ("width", width),
                            ("mapping_layers", mapping_layers)):
            validate.integer(name, value)
        validate.number("mapping_lr_mul", mapping_lr_mul, low=0, low_open=True)
        self.mixing_prob = validate.number("mixing_prob", mixing_prob, low=0, high=1)
        self.w_avg_decay = validate.number("w_avg_decay", w_avg_decay, low=0, high=1, high_open=True,
                                           hint=" (e.g. 0.995)")
        self.latent_dim, self.w_dim, self.channels, self.image_size = latent_dim, w_dim, channels, image_size
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, mapping_lr_mul)
        self.const = nn.Parameter(torch.ones(1, width, 4, 4))  # the learned constant input, (1, width, 4, 4)
        layers = [_StyleLayer(width, width, w_dim, conv=False), _StyleLayer(width, width, w_dim)]  # 4 px
        for _ in range(int(math.log2(image_size // 4))):  # 8, 16, ... px: upsample then conv, conv
            layers += [_StyleLayer(width, width, w_dim, upsample=True), _StyleLayer(width, width, w_dim)]
        self.layers = nn.ModuleList(layers)
        self.n_styles = len(layers)  # 2 per resolution
        self.to_rgb = _EqualizedConv2d(width, channels, 1, gain=1.0)
        self.rgb_bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("w_avg", torch.zeros(w_dim))  # the tracked mean of w, the centre of truncation

    def _check_z(self, z: Tensor, name: str) -> Tensor:
        return validate.tensor(name, z, shape=("N", self.latent_dim), dtype=self.const.dtype, finite=False)

    def noise_sizes(self) -> list[int]:
        """The side of each style layer's noise image: [4, 4, 8, 8, 16, 16, ...]."""
        return [4 * 2 ** (i // 2) for i in range(self.n_styles)]

    def make_noise(self, n: int, generator: torch.Generator | None = None) -> list[Tensor]:
        """One noise image per style layer, (n, 1, s, s) each, drawn on the CPU and moved to G's device."""
        validate.integer("n", n)
        if generator is not None:
            validate.instance("generator", generator, torch.Generator, "a torch.Generator (or None)")
        return [torch.randn(n, 1, s, s, generator=generator).to(self.const) for s in self.noise_sizes()]

    def synthesis(self, ws: Tensor, noise: Sequence[Tensor] | None = None) -> Tensor:
        """ws (N, n_styles, w_dim), one w per style layer  ->  images (N, channels, image_size, image_size).

        ``noise``: one tensor (N or 1, 1, s, s) per style layer (see ``make_noise``), or None for fresh noise.
        """
        validate.tensor("the styles ws", ws, shape=("N", self.n_styles, self.w_dim), dtype=self.const.dtype,
                        finite=False, hint=f" (one w per style layer; G.mapping(z)[:, None].expand(-1, "
                                           f"{self.n_styles}, -1) uses one w for all)")
        if noise is None:
            noise = [None] * self.n_styles
        else:
            want = f"a list of {self.n_styles} tensors, one per style layer (see make_noise)"
            if not isinstance(noise, Sequence):
                raise TypeError(f"noise must be {want}, got {type(noise).__name__}")
            if len(noise) != self.n_styles:
                raise ValueError(f"noise should be {want}, got {len(noise)} tensors")
            for i, (noise_i, s) in enumerate(zip(noise, self.noise_sizes())):
                validate.tensor(f"noise[{i}]", noise_i, shape=((len(ws), 1), 1, s, s), finite=False)
        x = self.const.expand(len(ws), -1, -1, -1)  # (N, width, 4, 4)
        for i, (layer, noise_i) in enumerate(zip(self.layers, noise)):
            x = layer(x, ws[:, i], noise_i)  # (N, width, s, s)
        x = self.to_rgb(x) + self.rgb_bias[None, :, None, None]  # (N, channels, image_size, image_size)
        return torch.tanh(x)  # in [-1, 1]

    def _broadcast(self, w: Tensor) -> Tensor:
        return w[:, None].expand(-1, self.n_styles, -1)  # (N, w_dim) -> (N, n_styles, w_dim)

    def forward(self, z: Tensor, mix: bool | None = None, noise: Sequence[Tensor] | None = None) -> Tensor:
        """G(z); ``mix``: apply mixing regularisation (with probability mixing_prob); None: in training mode only."""
        self._check_z(z, "the generator's input z")
        mix = self.training if mix is None else validate.flag("mix", mix)
        w = self.mapping(z)  # (N, w_dim)
        if self.training:  # the tracked average of w, as the paper's code: no gradient, batch mean of w
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(dim=0).to(self.w_avg.dtype), 1 - self.w_avg_decay)
        ws = self._broadcast(w)  # (N, n_styles, w_dim)
        if mix and self.mixing_prob > 0 and torch.rand(()).item() < self.mixing_prob:  # CPU draws: no GPU sync
            crossover = int(torch.randint(1, self.n_styles, ()))
            ws = self._cross(ws, self._broadcast(self.mapping(torch.randn_like(z))), crossover)
        return self.synthesis(ws, noise)

    def _cross(self, ws1: Tensor, ws2: Tensor, crossover: int) -> Tensor:
        """Styles 0 .. crossover - 1 from ws1, the rest from ws2."""
        first = torch.arange(self.n_styles, device=ws1.device)[None, :, None] < crossover  # (1, n_styles, 1)
        return torch.where(first, ws1, ws2)  # (N, n_styles, w_dim)

    def mix_styles(self, z1: Tensor, z2: Tensor, crossover: int, noise: Sequence[Tensor] | None = None) -> Tensor:
        """Style mixing (sec. 3.1, fig. 3): styles < ``crossover`` from f(z1) (the coarse ones), the rest from f(z2)."""
        self._check_z(z1, "z1")
        self._check_z(z2, "z2")
        if len(z1) != len(z2):
            raise ValueError(f"z1 and z2 should hold the same number of codes, got {len(z1)} and {len(z2)}")
        crossover = validate.integer("crossover", crossover, low=0, high=self.n_styles)
        return self.synthesis(self._cross(self._broadcast(self.mapping(z1)), self._broadcast(self.mapping(z2)),
                                          crossover), noise)

    def truncate(self, w: Tensor, psi: float, cutoff: int | None = None) -> Tensor:
        """Truncation in W (appendix B): w' = w_avg + psi (w - w_avg); psi = 1 leaves w, psi = 0 gives w_avg.

        ``w``: (N, w_dim) or (N, n_styles, w_dim). With ``cutoff`` only styles < cutoff, the coarse
        ones, are truncated (the paper's code truncates the first 8 of 18) and the result is
        (N, n_styles, w_dim); without, it has w's shape.
        """
        validate.tensor("w", w, shape=("N", self.w_dim) if isinstance(w, Tensor) and w.ndim == 2 else
                        ("N", self.n_styles, self.w_dim), dtype=self.const.dtype, finite=False)
        psi = validate.number("psi", psi, hint=" (1: no truncation, 0: every w becomes w_avg)")
        truncated = torch.lerp(self.w_avg.to(w.dtype), w, psi)  # w_avg + psi (w - w_avg)
        if cutoff is None:
            return truncated
        cutoff = validate.integer("cutoff", cutoff, low=0, high=self.n_styles)
        ws = self._broadcast(w) if w.ndim == 2 else w
        tws = self._broadcast(truncated) if w.ndim == 2 else truncated
        return self._cross(tws, ws, cutoff)  # (N, n_styles, w_dim)

    def sample(self, n: int, psi: float = 1.0, generator: torch.Generator | None = None,
               cutoff: int | None = None) -> Tensor:
        """n images from z ~ N(0, I) with truncation ``psi`` (and ``cutoff``); z and the noise come from ``generator``.

        Neither moves w_avg nor mixes styles, whatever the mode.
        """
        validate.integer("n", n)
        if generator is not None:
            validate.instance("generator", generator, torch.Generator, "a torch.Generator (or None)")
        z = torch.randn(n, self.latent_dim, generator=generator).to(self.const)
        ws = self.truncate(self.mapping(z), psi, cutoff)
        ws = self._broadcast(ws) if ws.ndim == 2 else ws  # (n, n_styles, w_dim)
        return self.synthesis(ws, self.make_noise(n, generator))  # (n, channels, image_size, image_size)

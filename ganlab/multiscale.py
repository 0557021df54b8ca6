"""Multi-scale discriminators: one PatchGAN per scale of an image pyramid, as in pix2pixHD.

PatchGAN (Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", CVPR, arXiv:1611.07004, sec. 3.2.2): a fully convolutional D that
returns a logit for every patch of its input, a map (N, 1, h, w); the losses average over it.
Each logit depends only on the pixels of its receptive field, so D judges local texture and
leaves the image's global layout to whatever else constrains G.

pix2pixHD (Wang, Liu, Zhu, Tao, Kautz & Catanzaro 2018, "High-Resolution Image Synthesis and
Semantic Manipulation with Conditional GANs", CVPR, arXiv:1711.11585, sec. 3.2): three
discriminators of identical architecture, D_1, D_2, D_3, read the image at three scales, the
real and generated images downsampled by 2 and by 4. D_3, at the coarsest scale, has the
largest receptive field in pixels of the image and keeps it globally consistent; D_1, at the
finest, judges the details. Where the paper leaves a number out, the authors' code decides it
(github.com/NVIDIA/pix2pixHD, models/networks.py: NLayerDiscriminator, MultiscaleDiscriminator):

    layer of one D_k                                                     side of the map
    n_layers x: conv 4x4 stride 2 pad 2, norm (none on the input), LReLU(0.2)   H -> floor(H/2) + 1
    conv 4x4 stride 1 pad 2, norm, LeakyReLU(0.2)                               H -> H + 1
    conv 4x4 stride 1 pad 2 to one channel: the logits                          H -> H + 1

    between scales: 3x3 average pool, stride 2, pad 1, averaging only pixels inside the image
    (count_include_pad=False)                                                   H -> ceil(H/2)

The channels double at every conv but the last, up to 512; the norm is instance norm without a
learnt gain (the paper's default). At 32 px with n_layers 3 the three maps are 7x7, 5x5 and 4x4.

How the scales add up. pix2pixHD sums the losses of the scales, each a mean over its own map.
ganlab's losses take one mean over everything D returns, so ``MultiScaleDiscriminator`` returns
the logits of all scales flattened into one tensor (N, T), and how many entries each scale has
there decides its weight (the ``weighting`` argument, see ``WEIGHTINGS``):

- "scale" (default): scale k's n_k logits are repeated r_k = round(n_0 / n_k) times, so each
  scale holds about as many entries as the finest, and the mean is sum_k (r_k n_k / T) mean_k,
  about (1/K) sum_k mean_k: pix2pixHD's sum divided by the number of scales K, a constant factor
  that Adam's steps do not see. Rounding r_k moves the shares a little off 1/K: at 32 px they are
  0.34, 0.34, 0.32 with n_layers 1; 0.35, 0.29, 0.36 with 2; 0.33, 0.34, 0.33 with 3. Within a
  scale every patch still counts the same.
- "patch": the logits are only concatenated, and the mean is sum_k (n_k / T) mean_k: every patch
  of every scale counts once, so the finest scale, with the most patches, dominates (68%, 23%
  and 9% at 32 px with n_layers 1) and the coarse scale that sees the whole digit counts least.

Returning the mean logit of each scale, (N, K), would weigh the scales equally too, but it is
another D: softplus(mean of logits) is not the mean of softplus(logits), so every patch would
no longer be a classifier of its own. Repeating keeps the PatchGAN loss exactly.

Penalties. ``losses.gradient_penalty`` and ``losses.r1_penalty`` take the gradient of the sum
of D's T outputs for each image, while the losses read their mean: that gradient is T times
the gradient of the mean. WGAN-GP on this D is therefore the usual WGAN-GP on the summed critic
with weight lambda T (``losses.with_penalty_weight(get_loss("wgan-gp"), 10 / T)`` gives back
lambda = 10); R1's gamma weighs T^2 times the squared gradient of the mean logit. With
``norm="batch"`` the penalty of one image also depends on the rest of its batch.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor, nn

from . import validate
from .convnets import dcgan_init_

__all__ = ["NORMS", "WEIGHTINGS", "receptive_field", "PatchGANDiscriminator", "MultiScaleDiscriminator"]

KERNEL = 4  # every conv is 4 x 4 (networks.py: kw = 4)
PADDING = 2  # networks.py: padw = ceil((kw - 1) / 2) = 2, so a map never shrinks below 2 x 2 (pix2pix pads by 1)
MAX_WIDTH = 512  # networks.py: nf = min(nf * 2, 512)
POOL_KERNEL = 3  # the 3 x 3, stride 2 average pool between scales (networks.py: MultiscaleDiscriminator)

# norm name -> the layer for c channels (None: no normalisation)
NORMS: dict[str, Optional[Callable[[int], nn.Module]]] = {
    "instance": lambda c: nn.InstanceNorm2d(c, affine=False),  # pix2pixHD's default: --norm instance, no learnt gain
    "batch": nn.BatchNorm2d,  # pix2pixHD's --norm batch
    "none": None,
}
# weighting name -> what it does; see the module's docstring
WEIGHTINGS: dict[str, str] = {
    "scale": "each scale counts about equally: pix2pixHD's sum of per-scale losses, divided by n_scales",
    "patch": "each patch of each scale counts once: the finer scales, with more patches, count more",
}


def receptive_field(n_layers: int = 3, scale: int = 0) -> int:
    """Side, in pixels of the full-size image, of the square of pixels that one logit of ``scale`` depends on.

    Scale k sees the image average-pooled k times. Going from the input to a logit, each layer
    (kernel k, stride s) widens the square by (k - 1) times the spacing in image pixels of its
    input's positions, and multiplies that spacing by s. The result is 2^scale * (9 * 2^n_layers - 1) - 1:
    70 for n_layers 3 at scale 0 (pix2pix's 70 x 70 PatchGAN), 141 and 283 at scales 1 and 2.
    It counts the convolutions' windows; instance or batch norm statistics also mix in the rest of the image.
    """
    validate.integer("n_layers", n_layers)
    validate.integer("scale", scale, low=0)
    layers = [(POOL_KERNEL, 2)] * scale + [(KERNEL, 2)] * n_layers + [(KERNEL, 1)] * 2  # (kernel, stride), in order
    side, spacing = 1, 1
    for kernel, stride in layers:
        side += (kernel - 1) * spacing
        spacing *= stride
    return side


def _some(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _check_input(x: Tensor, channels: int, dtype: torch.dtype, n_layers: int, n_scales: int) -> None:
    """x: images (N, channels, H, W) large enough for the coarsest scale; only the cheap checks (no sync)."""
    validate.tensor("the discriminator's input x", x, shape=("N", channels, "H", "W"), dtype=dtype, finite=False)
    min_size = 2 ** (n_layers + n_scales - 1)  # every pooling and every stride-2 conv halves the side
    if min(x.shape[-2:]) < min_size:
        pools = f"{_some(n_scales - 1, 'pooling')} and " if n_scales > 1 else ""
        raise ValueError(f"the discriminator's input x should be at least {min_size} x {min_size} pixels: "
                         f"{pools}{_some(n_layers, 'stride-2 convolution')} divide its side by {min_size}; got "
                         f"{x.shape[-2]} x {x.shape[-1]}")


class PatchGANDiscriminator(nn.Module):
    """D: images (N, C, H, W) -> a map of logits (N, 1, h, w), one per patch (pix2pixHD's NLayerDiscriminator).

    ``n_layers`` stride-2 convs, a stride-1 conv and a last conv to one channel, all 4 x 4
    (layout in the module's docstring); ``norm`` is a name in ``NORMS``. The paper's D is
    ``PatchGANDiscriminator(channels=3, width=64, n_layers=3)``: 2,764,737 weights, 70 x 70 patches.
    Each logit's patch has side ``receptive_field(n_layers)``; inputs must be at least
    2^n_layers pixels on each side, so that every stride-2 conv has pixels to halve.
    """

    def __init__(self, channels: int = 3, width: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        self.channels = validate.integer("channels", channels)
        validate.integer("width", width)
        self.n_layers = validate.integer("n_layers", n_layers)
        self.norm = validate.choice("norm", norm, NORMS)
        self.min_size = 2 ** n_layers
        make_norm = NORMS[norm]
        # width 64, n_layers 3: [64, 128, 256, 512]; doubling from the width given, at most 512 (networks.py)
        widths = [width] + [min(width * 2 ** i, MAX_WIDTH) for i in range(1, n_layers + 1)]
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], KERNEL, 2, PADDING),  # no norm on D's input
                                   nn.LeakyReLU(0.2, True)]  # (N, w, H/2 + 1, W/2 + 1)
        for i in range(1, n_layers + 1):  # n_layers - 1 more stride-2 convs, then the stride-1 one
            stride = 2 if i < n_layers else 1  # (N, c_in, s, s) -> (N, c_out, s/2 + 1, ...), last: s + 1
            layers += [nn.Conv2d(widths[i - 1], widths[i], KERNEL, stride, PADDING)]
            layers += [make_norm(widths[i])] if make_norm is not None else []
            layers += [nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(widths[-1], 1, KERNEL, 1, PADDING)]  # (N, 1, h, w): a logit per patch, no sigmoid
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)  # weights ~ N(0, 0.02) as networks.py's weights_init; biases 0 (there: PyTorch's default)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.channels, self.net[0].weight.dtype, self.n_layers, 1)
        return self.net(x)  # (N, 1, h, w) logits


class MultiScaleDiscriminator(nn.Module):
    """D: images (N, C, H, W) -> the logits of ``n_scales`` PatchGANs (N, T), scale k reading the image pooled k times.

    pix2pixHD, sec. 3.2 (three scales; the authors' code trains with two by default). The
    discriminators share their architecture, not their weights: ``discriminators[k]`` reads the
    image average-pooled k times (``downsample``), so the same patch of its map covers 2^k times
    as many image pixels. ``scale_logits`` returns the maps; ``forward`` joins them into one
    tensor for ganlab's losses, with each scale's weight set by ``weighting`` (a name in
    ``WEIGHTINGS``; the module's docstring compares them with pix2pixHD's sum over scales).
    Inputs must be at least 2^(n_layers + n_scales - 1) pixels on each side: 16 for 3 scales of
    a 2-layer D, 32 for the paper's 3 scales of 3 layers.
    """

    def __init__(self, channels: int = 3, width: int = 64, n_scales: int = 3, n_layers: int = 3,
                 norm: str = "instance", weighting: str = "scale"):
        super().__init__()
        self.n_scales = validate.integer("n_scales", n_scales)
        self.weighting = validate.choice("weighting", weighting, WEIGHTINGS)
        self.discriminators = nn.ModuleList(PatchGANDiscriminator(channels, width, n_layers, norm)
                                            for _ in range(n_scales))
        self.channels, self.n_layers = channels, n_layers
        # networks.py: AvgPool2d(3, stride=2, padding=[1, 1], count_include_pad=False); (N, C, H, W) -> ceil(H/2)
        self.downsample = nn.AvgPool2d(POOL_KERNEL, stride=2, padding=1, count_include_pad=False)
        self.min_size = 2 ** (n_layers + n_scales - 1)

    def scale_logits(self, x: Tensor) -> list[Tensor]:
        """The map of logits of every scale, finest first: [(N, 1, h_0, w_0), (N, 1, h_1, w_1), ...]."""
        _check_input(x, self.channels, self.discriminators[0].net[0].weight.dtype, self.n_layers, self.n_scales)
        maps = []
        for k, D in enumerate(self.discriminators):
            if k:
                x = self.downsample(x)  # (N, C, ceil(H / 2^k), ceil(W / 2^k))
            maps.append(D(x))  # (N, 1, h_k, w_k)
        return maps

    def forward(self, x: Tensor) -> Tensor:
        flat = [m.flatten(1) for m in self.scale_logits(x)]  # [(N, n_k)], n_0 >= n_1 >= ...
        if self.weighting == "scale":  # scale k repeated r_k = round(n_0 / n_k) times: about n_0 entries each
            flat = [f.repeat(1, max(1, round(flat[0].shape[1] / f.shape[1]))) for f in flat]
        return torch.cat(flat, dim=1)  # (N, T) logits; a mean over them weighs the scales as WEIGHTINGS says

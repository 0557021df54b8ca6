"""CycleGAN (Zhu, Park, Isola & Efros, ICCV 2017): unpaired image-to-image translation.

Two generators, G: X -> Y and F: Y -> X, and two discriminators, D_Y (real y against G(x)) and D_X (real x
against F(y)), trained with

    L(G, F, D_X, D_Y) = L_GAN(G, D_Y) + L_GAN(F, D_X) + lambda_cyc L_cyc(G, F) + lambda_id L_id(G, F),
    L_cyc = E_x ||F(G(x)) - x||_1 + E_y ||G(F(y)) - y||_1,      L_id = E_y ||G(y) - y||_1 + E_x ||F(x) - x||_1,

with least-squares adversarial losses (Mao et al. 2017), lambda_cyc = 10 and lambda_id = 0.5 lambda_cyc (the
identity loss was used for painting <-> photo in the paper, sec. 5.2, and is on by default in the authors' code).

The networks follow the paper's appendix 7.2 and the authors' code: the ResNet generator of Johnson et al. (ECCV
2016) with reflection padding and instance normalisation (c7s1-64, d128, d256, 9 residual blocks at 256 px or 6 at
128 px, u128, u64, c7s1-3), and the 70 x 70 PatchGAN (C64-C128-C256-C512, then a 1-channel convolution), whose
receptive field ``receptive_field`` computes from the layers. Both are parameterised (``width``, ``blocks``,
``downsamplings``; ``width``, ``layers``) so that the paper's configuration is the default and a small CPU
configuration another. ``ImagePool`` is the history of generated images (Shrivastava et al., CVPR 2017) that the
discriminators are shown, 50 in the paper; ``linear_decay`` the learning-rate schedule (constant, then linearly to 0).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import validate

__all__ = ["ResidualBlock", "ResNetGenerator", "PatchDiscriminator", "receptive_field", "ImagePool", "linear_decay",
           "cycle_loss", "identity_loss", "d_loss", "g_loss"]


def _norm(channels: int) -> nn.Module:
    # instance normalisation without learnt scale and shift, as in the authors' code (affine=False)
    return nn.InstanceNorm2d(channels)


class ResidualBlock(nn.Module):
    """x + [reflect pad 1, conv 3x3, IN, ReLU, reflect pad 1, conv 3x3, IN](x): the R blocks of the generator."""

    def __init__(self, channels: int):
        super().__init__()
        validate.integer("channels", channels)
        self.channels = channels
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels))

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("x", x, shape=("N", self.channels, "H", "W"), dtype=next(self.parameters()).dtype,
                        finite=False)
        if min(x.shape[-2:]) < 2:
            raise ValueError(f"x should be at least 2 x 2 px (reflection padding), got {tuple(x.shape[-2:])}")
        return x + self.body(x)


class ResNetGenerator(nn.Module):
    """Image (N, in_channels, H, W) in [-1, 1] -> image (N, out_channels, H, W) in [-1, 1].

    c7s1-w, then ``downsamplings`` stride-2 3x3 convolutions doubling the channels, ``blocks`` residual blocks, as
    many stride-2 transposed convolutions halving them, and c7s1-out with tanh. The defaults are the paper's
    generator for 256 px images (11,378,179 weights with 3 channels); H and W must be multiples of
    2 ** downsamplings."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 64, blocks: int = 9,
                 downsamplings: int = 2):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("width", width),
                            ("downsamplings", downsamplings)):
            validate.integer(name, value)
        validate.integer("blocks", blocks, low=0)
        self.in_channels, self.downsamplings = in_channels, downsamplings
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), _norm(width), nn.ReLU(True)]
        c = width
        for _ in range(downsamplings):
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), _norm(2 * c), nn.ReLU(True)]
            c *= 2
        layers += [ResidualBlock(c) for _ in range(blocks)]
        for _ in range(downsamplings):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1), _norm(c // 2),
                       nn.ReLU(True)]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        m = 2 ** self.downsamplings
        validate.tensor("x", x, shape=("N", self.in_channels, "H", "W"), dtype=next(self.parameters()).dtype,
                        finite=False)
        if x.shape[-1] % m or x.shape[-2] % m or min(x.shape[-2:]) < 4 * m:
            raise ValueError(f"x should be at least {4 * m} px and a multiple of {m} px on each side (the generator "
                             f"halves it {self.downsamplings} times), got {tuple(x.shape[-2:])}")
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """Image (N, channels, H, W) -> a map of logits (N, 1, H', W'), one per overlapping patch.

    C64 (4x4, stride 2, no normalisation), then ``layers`` - 1 more stride-2 convolutions and one of stride 1,
    doubling the channels up to 8 ``width``, each with instance normalisation and LeakyReLU(0.2), then a stride-1
    4x4 convolution to one channel. ``layers`` = 3 is the paper's 70 x 70 PatchGAN (2,764,737 weights with 3
    channels); see ``receptive_field``."""

    def __init__(self, channels: int = 3, width: int = 64, layers: int = 3):
        super().__init__()
        validate.integer("channels", channels)
        validate.integer("width", width)
        validate.integer("layers", layers)
        self.channels = channels
        net: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for n in range(1, layers + 1):
            out = width * min(2 ** n, 8)
            net += [nn.Conv2d(c, out, 4, 2 if n < layers else 1, 1), _norm(out), nn.LeakyReLU(0.2, True)]
            c = out
        net += [nn.Conv2d(c, 1, 4, 1, 1)]
        self.net = nn.Sequential(*net)

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("the discriminator's input x", x, shape=("N", self.channels, "H", "W"),
                        dtype=next(self.parameters()).dtype, finite=False)
        return self.net(x)


def receptive_field(module: nn.Module) -> int:
    """The side, in input pixels, of the window that one output of ``module``'s stack of convolutions sees.

    Walking back from one output: a layer of kernel k and stride s turns a window of r positions of its output
    into one of r s + (k - s) positions of its input. Padding moves windows, not their size."""
    validate.instance("module", module, nn.Module, "a network (an nn.Module)")
    convs = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]
    if not convs:
        raise ValueError(f"{type(module).__name__} has no convolution or pooling layer to measure")
    r = 1
    for m in reversed(convs):
        k, s = m.kernel_size, m.stride
        k, s = (k[0] if isinstance(k, tuple) else k), (s[0] if isinstance(s, tuple) else s)
        d = m.dilation[0] if isinstance(m, nn.Conv2d) else 1
        r = r * s + (d * (k - 1) + 1 - s)
    return r


class ImagePool:
    """The history of generated images that D is shown (Shrivastava et al. 2017; CycleGAN, sec. 4).

    ``query(images)`` returns a batch of the same size: while the pool holds fewer than ``size`` images, each new
    image is stored and returned; once it is full, each new image is, with probability 1/2, returned as it is, and
    otherwise swapped with a stored image chosen uniformly, which is returned in its place. D thus sees a mix of
    current and older fakes, which damps oscillation. ``size`` 0 turns the pool off."""

    def __init__(self, size: int = 50, generator: torch.Generator | None = None):
        validate.integer("size", size, low=0)
        if generator is not None:
            validate.instance("generator", generator, torch.Generator, "a torch.Generator (or None)")
        self.size = size
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.images: list[Tensor] = []

    def query(self, images: Tensor) -> Tensor:
        validate.tensor("images", images, shape=("N", "C", "H", "W"), finite=False)
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"size": self.size, "images": [im.clone() for im in self.images],
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or set(state) != {"size", "images", "generator"}:
            raise ValueError(f"state should be what ImagePool.state_dict() returns (size, images, generator), got "
                             f"{sorted(state) if isinstance(state, dict) else type(state).__name__}")
        self.size, self.images = state["size"], [im.clone() for im in state["images"]]
        self.generator.set_state(state["generator"])


def linear_decay(step: int, constant: int, decay: int) -> float:
    """The learning-rate factor at ``step`` (0-based): 1 for the first ``constant`` steps, then falling linearly to
    reach 0 after ``decay`` more (the paper: 100 epochs constant, 100 decaying)."""
    validate.integer("step", step, low=0)
    validate.integer("constant", constant, low=0)
    validate.integer("decay", decay, low=0)
    if step < constant:
        return 1.0
    return max(0.0, 1.0 - (step - constant + 1) / (decay + 1)) if decay else 0.0


def cycle_loss(reconstructed: Tensor, original: Tensor) -> Tensor:
    """||F(G(x)) - x||_1, the mean absolute error over pixels and batch (as the authors' code computes it)."""
    validate.tensor("reconstructed", reconstructed, finite=False)
    validate.tensor("original", original, shape=tuple(reconstructed.shape), hint=" (the shape of reconstructed)")
    return (reconstructed - original).abs().mean()


def identity_loss(same: Tensor, original: Tensor) -> Tensor:
    """||G(y) - y||_1: a generator given an image of its own output domain should leave it as it is."""
    validate.tensor("same", same, finite=False)
    validate.tensor("original", original, shape=tuple(same.shape), hint=" (the shape of same)")
    return (same - original).abs().mean()


def d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """The least-squares discriminator loss, halved as in the paper (sec. 7.1): (E[(D(y) - 1)^2] + E[D(G(x))^2]) / 2,
    each expectation over patches and batch."""
    validate.tensor("real_out", real_out, finite=False)
    validate.tensor("fake_out", fake_out, finite=False)
    return 0.5 * ((real_out - 1).pow(2).mean() + fake_out.pow(2).mean())


def g_loss(fake_out: Tensor) -> Tensor:
    """The least-squares generator loss E[(D(G(x)) - 1)^2], the scale against which lambda_cyc = 10 was set."""
    validate.tensor("fake_out", fake_out, finite=False)
    return (fake_out - 1).pow(2).mean()

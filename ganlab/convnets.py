"""Convolutional players for images: DCGAN and its class-conditional relatives.

DCGAN (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks", arXiv:1511.06434, section 3): no pooling
and no fully connected hidden layers; strided transposed convolutions upsample in G and
strided convolutions downsample in D; BatchNorm in both players except G's output layer
and D's input layer; ReLU in G with Tanh at the output (images live in [-1, 1]),
LeakyReLU(0.2) in D. Every block changes the resolution by a factor of 2 and the number
of channels by a factor of 2, so one layout serves several image sizes:

    image_size  G: z -> ...                       D: image -> ...
    64          1 -> 4 -> 8 -> 16 -> 32 -> 64     64 -> 32 -> 16 -> 8 -> 4 -> 1 (the paper's)
    32          1 -> 4 -> 8 -> 16 -> 32           32 -> 16 -> 8 -> 4 -> 1
    28 (MNIST)  1 -> 7 -> 14 -> 28                28 -> 14 -> 7 -> 1

28 is not a power of two times 4, so at 28 px G projects z to a 7x7 map (a 7x7 transposed
convolution of the 1x1 input, i.e. a linear layer reshaped) and D ends with a 7x7
convolution over its 7x7 map. The widest map always has width * 2^(blocks - 1) channels.

As everywhere in ganlab, the discriminators return *logits* of shape (N,), never
probabilities: pair them with the logits losses of ``ganlab.losses``.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from . import validate

# image_size -> (side of the first / last feature map, number of stride-2 blocks)
LAYOUTS: dict[int, tuple[int, int]] = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _layout(image_size: int, **sizes: int) -> tuple[int, int]:
    if isinstance(image_size, bool) or image_size not in LAYOUTS:
        raise ValueError(f"image_size must be one of {sorted(LAYOUTS)}, got {image_size!r}")
    for name, value in sizes.items():
        validate.integer(name, value)
    return LAYOUTS[image_size]


def _raw_weight(m: nn.Module) -> Tensor:
    """The stored weight, under spectral normalisation the one before it is divided by sigma."""
    return m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight


@torch.no_grad()
def dcgan_init_(module: nn.Module) -> nn.Module:
    """DCGAN init (Radford et al. 2015, sec. 4): weights ~ N(0, 0.02); BatchNorm gain ~ N(1, 0.02), bias 0."""
    validate.instance("module", module, nn.Module, "an nn.Module")
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(_raw_weight(m), 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias are looked up per class: gamma_y * BN(x) + beta_y.

    De Vries et al. 2017 ("Modulating early visual processing by language", arXiv:1707.00683);
    the generator's normalisation in Miyato & Koyama 2018 (arXiv:1802.05637).
    """

    def __init__(self, num_features: int, n_classes: int):
        super().__init__()
        validate.integer("num_features", num_features)
        validate.integer("n_classes", n_classes)
        self.num_features, self.n_classes = num_features, n_classes
        self.bn = nn.BatchNorm2d(num_features, affine=False)  # normalise only
        self.gain = nn.Embedding(n_classes, num_features)  # gamma_y, one row per class
        self.bias = nn.Embedding(n_classes, num_features)  # beta_y
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """gamma_y = 1 and beta_y = 0: starts as plain BatchNorm for every class."""
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        validate.tensor("ConditionalBatchNorm2d's input x", x, shape=("N", self.num_features, "H", "W"),
                        dtype=self.gain.weight.dtype, finite=False)
        validate.labels("ConditionalBatchNorm2d's labels y", y, len(x), self.n_classes)
        gamma = self.gain(y)[:, :, None, None]  # (N, C, 1, 1)
        beta = self.bias(y)[:, :, None, None]  # (N, C, 1, 1)
        return gamma * self.bn(x) + beta  # (N, C, H, W)


def _generator_net(latent_dim: int, channels: int, width: int, image_size: int,
                   norm: Callable[[int], nn.Module]) -> nn.Sequential:
    """z (N, latent_dim, 1, 1) -> image (N, channels, image_size, image_size), with ``norm`` after each hidden conv."""
    start, blocks = _layout(image_size, latent_dim=latent_dim, channels=channels, width=width)
    widths = [width * 2 ** i for i in reversed(range(blocks))]  # 64 px: [8w, 4w, 2w, w]
    # project and reshape: a transposed conv with a start x start kernel on the 1x1 input
    layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, widths[0], start, 1, 0, bias=False),
                               norm(widths[0]), nn.ReLU(True)]  # (N, widths[0], start, start)
    for c_in, c_out in zip(widths, widths[1:]):  # each block: (N, c_in, s, s) -> (N, c_out, 2s, 2s)
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), norm(c_out), nn.ReLU(True)]
    layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False),  # no BN on G's output
               nn.Tanh()]  # (N, channels, image_size, image_size), in [-1, 1]
    return nn.Sequential(*layers)


def _discriminator_trunk(channels: int, width: int, image_size: int, batchnorm: bool,
                         bias: bool) -> nn.Sequential:
    """image (N, channels, image_size, image_size) -> features (N, width * 2^(blocks-1), start, start)."""
    _, blocks = _layout(image_size, channels=channels, width=width)
    widths = [width * 2 ** i for i in range(blocks)]  # 64 px: [w, 2w, 4w, 8w]
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=bias),  # no BN on D's input
                               nn.LeakyReLU(0.2, True)]  # (N, w, image_size/2, image_size/2)
    for c_in, c_out in zip(widths, widths[1:]):  # each block: (N, c_in, s, s) -> (N, c_out, s/2, s/2)
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias)]
        layers += [nn.BatchNorm2d(c_out)] if batchnorm else []
        layers += [nn.LeakyReLU(0.2, True)]
    return nn.Sequential(*layers)


def _spectral_norm_(module: nn.Module) -> None:
    """W -> W / sigma(W) on every weight layer (Miyato et al. 2018, arXiv:1802.05957)."""
    for m in list(module.modules()):
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
            nn.utils.parametrizations.spectral_norm(m)


def _check_latent(z: Tensor, G: nn.Module, what: str) -> Tensor:
    """z of shape (N, latent_dim) or (N, latent_dim, 1, 1) for G, returned as (N, latent_dim, 1, 1); no sync."""
    latent_dim = G.latent_dim
    shape = ("N", latent_dim, 1, 1) if isinstance(z, Tensor) and z.ndim == 4 else ("N", latent_dim)
    validate.tensor(what, z, shape=shape, dtype=next(G.parameters()).dtype, finite=False)
    return z.reshape(len(z), latent_dim, 1, 1)


class DCGANGenerator(nn.Module):
    """G: z ~ N(0, I) in R^latent_dim  ->  an image in [-1, 1]^(channels x image_size x image_size)."""

    def __init__(self, latent_dim: int = 100, channels: int = 3, width: int = 64, image_size: int = 64):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = latent_dim, channels, image_size
        self.net = _generator_net(latent_dim, channels, width, image_size, nn.BatchNorm2d)
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        z = _check_latent(z, self, "the generator's input z")  # (N, latent_dim, 1, 1)
        return self.net(z)  # (N, channels, image_size, image_size)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n fresh samples G(z), z ~ N(0, I), drawn on the generator's device."""
        validate.integer("n", n)
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator).to(device)
        return self(z)


class MinibatchDiscrimination(nn.Module):
    """Features (N, A) -> (N, A + kernels): each example's features, then how close it is to the rest of its batch.

    Salimans et al. 2016 ("Improved Techniques for Training GANs", NeurIPS, arXiv:1606.03498,
    sec. 3.2): M_i = f(x_i) T is a kernels x kernel_dim matrix; for each row b,
    c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_1) and o(x_i)_b = sum over j != i of c_b(x_i, x_j).
    A collapsed generator's batch is full of near-copies, so its o is large: D can see that from
    the batch, which it cannot from one example. (The paper's sum runs over every j; the term
    j = i is the constant exp(0) = 1, left out here as in the authors' code.) It reads the batch
    it is given, so D must be shown real and fake batches separately, as ``d_step`` does.
    """

    def __init__(self, in_features: int, kernels: int = 32, kernel_dim: int = 8):
        super().__init__()
        for name, value in (("in_features", in_features), ("kernels", kernels), ("kernel_dim", kernel_dim)):
            validate.integer(name, value)
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * in_features ** -0.5)

    def forward(self, f: Tensor) -> Tensor:
        validate.tensor("MinibatchDiscrimination's input", f, shape=("N", self.T.shape[0]), finite=False)
        m = (f @ self.T).view(len(f), self.kernels, self.kernel_dim)  # (N, B, C)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(dim=3)  # (N, N, B): ||M_i,b - M_j,b||_1
        o = torch.exp(-l1).sum(dim=1) - 1.0  # (N, B): the sum over j, less the term j = i, exp(0) = 1
        return torch.cat([f, o], dim=1)  # (N, A + B)


class DCGANDiscriminator(nn.Module):
    """D: an image  ->  one logit l(x); D(x) = sigmoid(l(x)) is P(x is real).

    With ``spectral_norm=True`` every conv is spectrally normalised (Miyato et al. 2018,
    arXiv:1802.05957) and D has no BatchNorm; its convs then carry biases, which BatchNorm
    would otherwise have made redundant. With ``minibatch_kernels`` > 0 the last feature map,
    flattened, goes through ``MinibatchDiscrimination`` before the final linear layer.
    """

    def __init__(self, channels: int = 3, width: int = 64, image_size: int = 64, spectral_norm: bool = False,
                 minibatch_kernels: int = 0):
        super().__init__()
        start, blocks = _layout(image_size, channels=channels, width=width)
        validate.integer("minibatch_kernels", minibatch_kernels, low=0)
        self.channels, self.image_size = channels, image_size
        self.features = _discriminator_trunk(channels, width, image_size, not spectral_norm, spectral_norm)
        c = width * 2 ** (blocks - 1)  # channels of the last feature map
        if minibatch_kernels:  # (N, c, start, start) -> (N, c start^2) -> (N, c start^2 + kernels) -> (N, 1)
            a = c * start * start
            self.head = nn.Sequential(nn.Flatten(), MinibatchDiscrimination(a, minibatch_kernels),
                                      nn.Linear(a + minibatch_kernels, 1))
        else:
            self.head = nn.Conv2d(c, 1, start, 1, 0, bias=spectral_norm)  # (N, c, start, start) -> (N, 1, 1, 1)
        dcgan_init_(self)
        if spectral_norm:
            _spectral_norm_(self)

    def forward(self, x: Tensor) -> Tensor:
        validate.tensor("the discriminator's input x", x, shape=("N", self.channels, self.image_size, self.image_size),
                        dtype=next(self.parameters()).dtype, finite=False)
        return self.head(self.features(x)).flatten()  # (N,) logits


class ConditionalDCGANGenerator(nn.Module):
    """G(z, y): DCGAN generator with conditional BatchNorm, so each class y has its own gains and biases."""

    def __init__(self, n_classes: int = 10, latent_dim: int = 100, channels: int = 3, width: int = 64,
                 image_size: int = 64):
        super().__init__()
        _layout(image_size, n_classes=n_classes)
        self.n_classes, self.latent_dim, self.channels, self.image_size = n_classes, latent_dim, channels, image_size
        self.net = _generator_net(latent_dim, channels, width, image_size,
                                  lambda c: ConditionalBatchNorm2d(c, n_classes))
        dcgan_init_(self)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = _check_latent(z, self, "the generator's input z")  # (N, latent_dim, 1, 1)
        validate.labels("the generator's labels y", y, len(h), self.n_classes)
        for layer in self.net:  # as DCGANGenerator.net, with y passed to each conditional BatchNorm
            h = layer(h, y) if isinstance(layer, ConditionalBatchNorm2d) else layer(h)
        return h  # (N, channels, image_size, image_size)

    def sample(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """n samples G(z, y), z ~ N(0, I); labels default to 0, 1, ..., n_classes - 1, 0, 1, ..."""
        validate.integer("n", n)
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator).to(device)
        if labels is None:
            labels = torch.arange(n) % self.n_classes  # balanced: every class n / n_classes times
        validate.labels("the labels to sample", labels, n, self.n_classes)
        return self(z, labels.to(device))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <embed(y), phi(x)>: a projection discriminator's logit.

    Miyato & Koyama 2018 ("cGANs with Projection Discriminator", ICLR 2018,
    arXiv:1802.05637, eq. 3): the class enters through an inner product with the features
    rather than by concatenation. phi is the DCGAN trunk followed by global sum pooling
    (as in the paper's ResNet discriminators), psi a linear layer.
    """

    def __init__(self, n_classes: int = 10, channels: int = 3, width: int = 64, image_size: int = 64,
                 spectral_norm: bool = False):
        super().__init__()
        _, blocks = _layout(image_size, n_classes=n_classes, channels=channels, width=width)
        self.n_classes, self.channels, self.image_size = n_classes, channels, image_size
        self.features = _discriminator_trunk(channels, width, image_size, not spectral_norm, spectral_norm)
        c = width * 2 ** (blocks - 1)  # the dimension of phi(x)
        self.psi = nn.Linear(c, 1)  # the unconditional term
        self.embed = nn.Embedding(n_classes, c)  # one vector per class, projected onto phi(x)
        dcgan_init_(self)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)  # N(0, 0.02) like every other weight
        if spectral_norm:  # the paper normalises every layer of D, the embedding included
            _spectral_norm_(self)

    def phi(self, x: Tensor) -> Tensor:
        """The features phi(x): the conv trunk, then a sum over positions."""
        validate.tensor("the discriminator's input x", x, shape=("N", self.channels, self.image_size, self.image_size),
                        dtype=next(self.parameters()).dtype, finite=False)
        return self.features(x).sum(dim=(2, 3))  # (N, c, s, s) -> (N, c)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.phi(x)  # (N, c)
        validate.labels("the discriminator's labels y", y, len(x), self.n_classes)
        return self.psi(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)  # (N,) logits


class ACGANDiscriminator(nn.Module):
    """D(x) -> (a logit that x is real (N,), class logits (N, n_classes)): the auxiliary-classifier GAN's D.

    Odena, Olah & Shlens 2017 ("Conditional Image Synthesis With Auxiliary Classifier GANs",
    ICML, arXiv:1610.09585): D does not read the label; it has a second head that classifies
    every image, real or fake, and both players also minimise that head's cross-entropy at the
    labels (``train.acgan_d_step``, ``train.acgan_g_step``). The trunk is the DCGAN one, so that
    only the way the class enters D differs from ``ProjectionDiscriminator``.
    """

    def __init__(self, n_classes: int = 10, channels: int = 3, width: int = 64, image_size: int = 64):
        super().__init__()
        start, blocks = _layout(image_size, n_classes=n_classes, channels=channels, width=width)
        self.n_classes, self.channels, self.image_size = n_classes, channels, image_size
        self.features = _discriminator_trunk(channels, width, image_size, True, False)
        c = width * 2 ** (blocks - 1)
        self.head = nn.Conv2d(c, 1, start, 1, 0, bias=False)  # real or fake: (N, c, start, start) -> (N, 1, 1, 1)
        self.classify = nn.Conv2d(c, n_classes, start, 1, 0)  # which class: -> (N, n_classes, 1, 1)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        validate.tensor("the discriminator's input x", x, shape=("N", self.channels, self.image_size, self.image_size),
                        dtype=next(self.parameters()).dtype, finite=False)
        h = self.features(x)  # (N, c, start, start)
        return self.head(h).flatten(), self.classify(h).flatten(1)  # (N,), (N, n_classes)

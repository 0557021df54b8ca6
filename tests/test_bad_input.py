"""Bad input to every public name of ganlab: a clear error at the boundary, never torch's, never a silent answer.

Each case below calls one public name with one bad input. It must raise ``ValueError`` or
``TypeError`` (or the library's own error: ``DownloadNotAllowed``, ``CheckpointError``),
from a frame inside ``ganlab`` (so not from deep inside torch or numpy), with a message that
names the argument and says what was expected and what was given. ``test_the_sweep_is_complete``
fails when a public name has neither a case nor a reason in ``NOT_SWEPT``.

Kinds of bad input tried so far (add to the list, and the table, as the library grows):

- wrong type: a list, a numpy array, a string, None or a dict where a tensor, a module, a
  number, a mixture, a loss or a config is needed;
- wrong shape: a missing or extra dimension, the wrong latent, feature, channel or image size
  (8x8 digits where 28x28 are read, 32 px images at ProGAN's 8 px stage), pairs that do not
  match (real and fake, z0 and z1, labels and images, a mask and its image), one w where one
  per style is read, sizes that are not an (H, W) pair or that a smaller image cannot come from;
- too small or too many: an image too small to halve or to hold one of a critic's patches,
  more pyramid levels than halvings, pyramid levels that do not halve;
- wrong dtype: integer tensors where floats are needed, floats (or int32) where class indices
  are needed, uint8 images, bool logits, float64 where the weights are float32;
- NaN and inf: in data, points, features, images and samples (metrics, data, plots);
- empty tensors and empty sequences;
- sizes and counts that are zero, negative, fractional, booleans or strings;
- numbers out of range: negative penalty weights, t outside [0, 1], confidence >= 1, a
  held-out count that leaves nothing to train on, decays outside (0, 1), negative seeds;
- images out of range: [0, 255] where [-1, 1] is expected;
- unknown names: datasets, toy distributions, losses, devices, config fields, CLI recipes,
  natural images;
- switches with values that mean nothing: GANLAB_FAST=maybe, download="no", enabled="no", mix="yes";
- a model used before it is trained: sampling or painting with a SinGAN that has no trained scale;
- files: a checkpoint or classifier weights that are missing, corrupted or of another shape.

Deliberately accepted: NaN in a forward pass or a loss (checking would read every value, a GPU
sync per training step; ``fit`` stops on a NaN loss), and an empty batch of codes in ``lerp``
and ``slerp`` (interpolating no codes gives no codes).

A case may carry ``pending="..."``: a strict xfail that says what the library still lacks, for
a gap found before it is fixed. Once the library is fixed the strict mark fails the case until
the mark is removed.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
from torch import nn

import ganlab
from ganlab import (augment, classifier, cli, convnets, data, env, image_metrics, images, lapgan, latent, losses,
                    metrics, multiscale, nets, plot, progressive, pyramids, singan, srgan, stylegan, superres, vae)

BAD_INPUT = (ValueError, TypeError)
NAN, INF = float("nan"), float("inf")


@dataclass(frozen=True)
class Case:
    name: str  # the public name swept, as module.qualname of where it is defined
    bad: str  # the bad input, in words
    call: Callable[[], Any]
    words: tuple[str, ...]  # the message must contain each (identifiers as whole words): the argument, expected, got
    raises: tuple[type[BaseException], ...] = BAD_INPUT
    pending: str | None = None  # strict xfail: what the library still lacks


# --------------------------------------------------------------------------- tiny inputs
def mlp_g() -> nn.Module:
    return nets.MLPGenerator(latent_dim=2, out_dim=2, width=8, depth=2)


def mlp_d() -> nn.Module:
    return nets.MLPDiscriminator(in_dim=2, width=8, depth=2)


def dc_g() -> nn.Module:
    return convnets.DCGANGenerator(latent_dim=8, channels=1, width=8, image_size=28)


def dc_d() -> nn.Module:
    return convnets.DCGANDiscriminator(channels=1, width=8, image_size=28)


def cond_g() -> nn.Module:
    return convnets.ConditionalDCGANGenerator(n_classes=10, latent_dim=8, channels=1, width=8, image_size=28)


def proj_d() -> nn.Module:
    return convnets.ProjectionDiscriminator(n_classes=10, channels=1, width=8, image_size=28)


def acgan_d() -> nn.Module:
    return convnets.ACGANDiscriminator(n_classes=10, channels=1, width=8, image_size=28)


def cbn() -> nn.Module:
    return convnets.ConditionalBatchNorm2d(8, n_classes=10)


def digits(n: int = 4, low: float = -1.0, high: float = 1.0, side: int = 28) -> torch.Tensor:
    """n images (n, 1, side, side) with values from low to high."""
    return torch.linspace(low, high, n * side * side).reshape(n, 1, side, side)


def feats(n: int = 8, d: int = 4) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(n))


def with_nan(x: torch.Tensor, value: float = NAN) -> torch.Tensor:
    x = x.clone()
    x.view(-1)[0] = value
    return x


def ints(*shape: int) -> torch.Tensor:
    return torch.zeros(*shape, dtype=torch.long)


def opt(module: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(module.parameters(), lr=0.1)


def changed(obj: Any, **fields: Any) -> Any:
    """obj with its fields set after construction, past its own checks (as a user may do)."""
    for name, value in fields.items():
        setattr(obj, name, value)
    return obj


def env_var(name: str, value: str, fn: Callable[[], Any]) -> Callable[[], Any]:
    """fn called with the environment variable ``name`` set to ``value``, restored afterwards."""
    def call() -> Any:
        old = os.environ.get(name)
        os.environ[name] = value
        try:
            return fn()
        finally:
            if old is None:
                del os.environ[name]
            else:
                os.environ[name] = old
    return call


def tiny_config(**changes: Any) -> Any:
    return ganlab.TrainConfig(**{"steps": 2, "batch_size": 4, "progress": False, **changes})


def saved_checkpoint() -> Path:
    """A real checkpoint of mlp_g() in the current (temporary) folder."""
    from ganlab.checkpoint import save_checkpoint

    return save_checkpoint("saved.pt", step=1, G=mlp_g())


def garbage(name: str = "garbage.pt") -> Path:
    Path(name).write_bytes(b"not a checkpoint")
    return Path(name)


def mnist_classifier() -> nn.Module:
    return classifier.load_classifier("cpu")


def style_g() -> nn.Module:
    """A StyleGenerator of 32 px: 8 styles of w_dim 8, z of 8."""
    return stylegan.StyleGenerator(latent_dim=8, w_dim=8, width=8, mapping_layers=2)


def prog_g() -> nn.Module:
    return progressive.ProgressiveGenerator(latent_dim=8, width=8)


def prog_d() -> nn.Module:
    return progressive.ProgressiveDiscriminator(width=8)


def photos(n: int = 1, side: int = 16) -> torch.Tensor:
    """n colour images (n, 3, side, side) with values from -1 to 1."""
    return torch.linspace(-1.0, 1.0, n * 3 * side * side).reshape(n, 3, side, side)


def scale_g() -> nn.Module:
    return singan.ScaleGenerator(channels=3, width=8)


def patch_d() -> nn.Module:
    return singan.PatchDiscriminator(channels=3, width=8)


def tiny_singan(trained: int = 0) -> Any:
    """An untrained SinGAN of two scales, 25 and 33 px, that says its ``trained`` coarsest scales are trained."""
    model = singan.SinGAN([(25, 25), (33, 33)], channels=3, width=8)
    model.n_trained.fill_(trained)
    return model


# --------------------------------------------------------------------------- the table
C = Case
CASES: list[Case] = [
    # ---- data
    C("data.GaussianMixture", "means a list", lambda: data.GaussianMixture("m", [[0.0, 0.0]], 0.1),
      ("means", "torch.Tensor", "list")),
    C("data.GaussianMixture", "means of one dimension", lambda: data.GaussianMixture("m", torch.zeros(3), 0.1),
      ("means", "(K, D)", "(3,)")),
    C("data.GaussianMixture", "a NaN mean", lambda: data.GaussianMixture("m", with_nan(torch.zeros(3, 2)), 0.1),
      ("means", "NaN")),
    C("data.GaussianMixture", "sigma 0", lambda: data.GaussianMixture("m", torch.zeros(3, 2), 0.0),
      ("sigma", "positive", "0.0")),
    C("data.GaussianMixture", "sigma a string", lambda: data.GaussianMixture("m", torch.zeros(3, 2), "0.1"),
      ("sigma", "number", "str")),
    C("data.GaussianMixture.sample_with_labels", "n 0", lambda: data.ring().sample_with_labels(0), ("n", "positive")),
    C("data.GaussianMixture.sample_with_labels", "n fractional", lambda: data.ring().sample_with_labels(2.5),
      ("n", "integer", "float")),
    C("data.GaussianMixture.sample", "n a string", lambda: data.ring().sample("8"), ("n", "integer", "str")),
    C("data.GaussianMixture.log_prob", "3-D points for a 2-D mixture (was reshaped silently)",
      lambda: data.ring().log_prob(torch.zeros(4, 3)), ("x", "(n, 2)", "(4, 3)")),
    C("data.GaussianMixture.log_prob", "a numpy array", lambda: data.ring().log_prob(np.zeros((4, 2))),
      ("x", "torch.Tensor", "numpy")),
    C("data.GaussianMixture.log_prob", "a NaN point", lambda: data.ring().log_prob(with_nan(torch.zeros(4, 2))),
      ("x", "NaN")),
    C("data.ring", "n_modes 0 (was an empty mixture)", lambda: data.ring(n_modes=0), ("n_modes", "positive", "0")),
    C("data.ring", "radius negative", lambda: data.ring(radius=-1.0), ("radius", "positive", "-1.0")),
    C("data.ring", "sigma NaN", lambda: data.ring(sigma=NAN), ("sigma", "positive", "nan")),
    C("data.grid", "side 0 (was an empty mixture)", lambda: data.grid(side=0), ("side", "positive")),
    C("data.grid", "spacing a string", lambda: data.grid(spacing="2"), ("spacing", "number", "str")),
    C("data.mixture_1d", "no means (was an empty mixture)", lambda: data.mixture_1d(means=()),
      ("means", "non-empty", "()")),
    C("data.mixture_1d", "a mean that is a string", lambda: data.mixture_1d(means=(0.0, "a")),
      ("means[1]", "number", "str")),
    C("data.mixture_1d", "sigma negative", lambda: data.mixture_1d(sigma=-0.5), ("sigma", "positive")),
    C("data.toy", "an unknown name", lambda: data.toy("circle"), ("toy distribution", "'circle'", "ring")),
    C("data.load", "an unknown dataset", lambda: data.load("imagenet"), ("dataset", "'imagenet'", "mnist")),
    C("data.load", "a dataset that needs a download, offline", lambda: data.load("cifar10", download=False),
      ("'cifar10'", "download", "'mnist'"), raises=(data.DownloadNotAllowed,)),
    C("data.load", "n 0", lambda: data.load("ring", n=0), ("n", "positive", "0")),
    C("data.load", "n fractional", lambda: data.load("ring", n=2.5), ("n", "integer", "float")),
    C("data.load", "seed negative", lambda: data.load("moons", n=8, seed=-1), ("seed", "non-negative", "-1")),
    C("data.load", "download a string (was truthy: a download)", lambda: data.load("cifar10", download="no"),
      ("download", "'no'")),
    # ---- nets
    C("nets.MLPGenerator", "width 0", lambda: nets.MLPGenerator(width=0), ("width", "positive", "0")),
    C("nets.MLPGenerator", "latent_dim a string", lambda: nets.MLPGenerator(latent_dim="2"),
      ("latent_dim", "integer", "str")),
    C("nets.MLPGenerator", "depth fractional", lambda: nets.MLPGenerator(depth=2.5), ("depth", "integer", "float")),
    C("nets.MLPGenerator.forward", "z of the wrong width", lambda: mlp_g()(torch.zeros(4, 3)),
      ("z", "(N, 2)", "(4, 3)")),
    C("nets.MLPGenerator.forward", "integer z", lambda: mlp_g()(ints(4, 2)), ("z", "torch.float32", "torch.int64")),
    C("nets.MLPGenerator.forward", "float64 z for float32 weights", lambda: mlp_g()(torch.zeros(4, 2).double()),
      ("z", "torch.float32", "torch.float64")),
    C("nets.MLPGenerator.forward", "z a list", lambda: mlp_g()([[0.0, 0.0]]), ("z", "torch.Tensor", "list")),
    C("nets.MLPGenerator.forward", "an empty z", lambda: mlp_g()(torch.zeros(0, 2)), ("z", "empty", "(0, 2)")),
    C("nets.MLPGenerator.sample", "n 0 (was an empty batch)", lambda: mlp_g().sample(0), ("n", "positive")),
    C("nets.MLPGenerator.sample", "n negative", lambda: mlp_g().sample(-3), ("n", "positive", "-3")),
    C("nets.MLPDiscriminator", "in_dim 0", lambda: nets.MLPDiscriminator(in_dim=0), ("in_dim", "positive")),
    C("nets.MLPDiscriminator.forward", "x of one dimension", lambda: mlp_d()(torch.zeros(4)),
      ("x", "(N, 2)", "(4,)")),
    C("nets.MLPDiscriminator.forward", "integer x", lambda: mlp_d()(ints(4, 2)), ("x", "torch.int64")),
    C("nets.MLPDiscriminator.forward", "x a numpy array", lambda: mlp_d()(np.zeros((4, 2), np.float32)),
      ("x", "torch.Tensor", "numpy")),
    # ---- convnets
    C("convnets.dcgan_init_", "a tensor, not a module", lambda: convnets.dcgan_init_(torch.zeros(3)),
      ("module", "nn.Module", "Tensor")),
    C("convnets.ConditionalBatchNorm2d", "num_features 0", lambda: convnets.ConditionalBatchNorm2d(0, 10),
      ("num_features", "positive")),
    C("convnets.ConditionalBatchNorm2d", "n_classes a string", lambda: convnets.ConditionalBatchNorm2d(8, "10"),
      ("n_classes", "integer", "str")),
    C("convnets.ConditionalBatchNorm2d.forward", "x with the wrong channels",
      lambda: cbn()(torch.zeros(4, 3, 4, 4), ints(4)), ("x", "(N, 8, H, W)", "(4, 3, 4, 4)")),
    C("convnets.ConditionalBatchNorm2d.forward", "integer x", lambda: cbn()(ints(4, 8, 4, 4), ints(4)),
      ("x", "torch.int64")),
    C("convnets.ConditionalBatchNorm2d.forward", "float labels",
      lambda: cbn()(torch.zeros(4, 8, 4, 4), torch.zeros(4)), ("y", "LongTensor", "torch.float32")),
    C("convnets.ConditionalBatchNorm2d.forward", "labels out of range",
      lambda: cbn()(torch.zeros(4, 8, 4, 4), torch.tensor([0, 1, 2, 10])), ("y", "[0, 10)", "10")),
    C("convnets.DCGANGenerator", "image_size 48", lambda: convnets.DCGANGenerator(image_size=48),
      ("image_size", "[28, 32, 64]", "48")),
    C("convnets.DCGANGenerator", "latent_dim 0", lambda: convnets.DCGANGenerator(latent_dim=0),
      ("latent_dim", "positive")),
    C("convnets.DCGANGenerator", "width fractional", lambda: convnets.DCGANGenerator(width=2.5),
      ("width", "integer", "float")),
    C("convnets.DCGANGenerator", "channels a bool", lambda: convnets.DCGANGenerator(channels=True),
      ("channels", "integer", "bool")),
    C("convnets.DCGANGenerator.forward", "z of the wrong width", lambda: dc_g()(torch.zeros(4, 5)),
      ("z", "(N, 8)", "(4, 5)")),
    C("convnets.DCGANGenerator.forward", "z as a 2x2 map", lambda: dc_g()(torch.zeros(4, 8, 2, 2)),
      ("z", "(N, 8, 1, 1)", "(4, 8, 2, 2)")),
    C("convnets.DCGANGenerator.forward", "integer z", lambda: dc_g()(ints(4, 8)), ("z", "torch.int64")),
    C("convnets.DCGANGenerator.forward", "float64 z", lambda: dc_g()(torch.zeros(4, 8).double()),
      ("z", "torch.float32", "torch.float64")),
    C("convnets.DCGANGenerator.forward", "z a list", lambda: dc_g()([[0.0] * 8]), ("z", "torch.Tensor", "list")),
    C("convnets.DCGANGenerator.sample", "n 0", lambda: dc_g().sample(0), ("n", "positive")),
    C("convnets.DCGANGenerator.sample", "n a string", lambda: dc_g().sample("4"), ("n", "integer", "str")),
    C("convnets.DCGANDiscriminator", "channels 0 (was not checked)", lambda: convnets.DCGANDiscriminator(channels=0),
      ("channels", "positive")),
    C("convnets.DCGANDiscriminator", "image_size a string", lambda: convnets.DCGANDiscriminator(image_size="28"),
      ("image_size", "[28, 32, 64]", "'28'")),
    C("convnets.DCGANDiscriminator.forward", "32 px images for a 28 px D", lambda: dc_d()(digits(2, side=32)),
      ("x", "(N, 1, 28, 28)", "(2, 1, 32, 32)")),
    C("convnets.DCGANDiscriminator.forward", "8x8 digits", lambda: dc_d()(digits(2, side=8)),
      ("x", "(N, 1, 28, 28)", "(2, 1, 8, 8)")),
    C("convnets.DCGANDiscriminator.forward", "uint8 images", lambda: dc_d()(digits(2).to(torch.uint8)),
      ("x", "torch.uint8")),
    C("convnets.DCGANDiscriminator.forward", "a numpy array", lambda: dc_d()(digits(2).numpy()),
      ("x", "torch.Tensor", "numpy")),
    C("convnets.ConditionalDCGANGenerator", "n_classes 0", lambda: convnets.ConditionalDCGANGenerator(n_classes=0),
      ("n_classes", "positive")),
    C("convnets.ConditionalDCGANGenerator.forward", "int32 labels", lambda: cond_g()(torch.zeros(4, 8), ints(4).int()),
      ("y", "LongTensor", "torch.int32")),
    C("convnets.ConditionalDCGANGenerator.forward", "fewer labels than codes",
      lambda: cond_g()(torch.zeros(4, 8), ints(3)), ("y", "(4,)", "(3,)")),
    C("convnets.ConditionalDCGANGenerator.forward", "z of the wrong width",
      lambda: cond_g()(torch.zeros(4, 7), ints(4)), ("z", "(N, 8)", "(4, 7)")),
    C("convnets.ConditionalDCGANGenerator.sample", "n 0", lambda: cond_g().sample(0), ("n", "positive")),
    C("convnets.ConditionalDCGANGenerator.sample", "labels a list", lambda: cond_g().sample(2, labels=[0, 1]),
      ("labels", "torch.Tensor", "list")),
    C("convnets.ConditionalDCGANGenerator.sample", "labels out of range",
      lambda: cond_g().sample(2, labels=torch.tensor([0, 12])), ("labels", "[0, 10)", "12")),
    # ---- augment
    C("augment.translate", "images without a channel axis", lambda: augment.translate(digits(2)[:, 0]),
      ("x", "(N, C, H, W)", "(2, 28, 28)")),
    C("augment.translate", "fraction 2", lambda: augment.translate(digits(2), fraction=2.0), ("fraction", "2.0")),
    C("augment.cutout", "x a list", lambda: augment.cutout(digits(1).tolist()), ("x", "Tensor", "list")),
    C("augment.cutout", "fraction negative", lambda: augment.cutout(digits(2), fraction=-0.5), ("fraction", "-0.5")),
    C("augment.brightness_contrast", "integer images", lambda: augment.brightness_contrast(ints(2, 1, 4, 4)),
      ("x", "int64")),
    C("augment.DiffAugment", "an unknown transformation", lambda: augment.DiffAugment("rotation"),
      ("'rotation'", "cutout")),
    C("augment.DiffAugment", "policy a list", lambda: augment.DiffAugment(["cutout"]), ("policy", "list")),
    C("augment.DiffAugment.forward", "8x8 digits without a channel axis",
      lambda: augment.DiffAugment("cutout")(digits(2, side=8)[:, 0]), ("x", "(N, C, H, W)")),
    C("augment.Augmented", "D a string", lambda: augment.Augmented("D"), ("D", "str")),
    C("augment.Augmented.forward", "images a numpy array", lambda: augment.Augmented(dc_d())(digits(2).numpy()),
      ("x", "Tensor", "ndarray")),
    C("convnets.DCGANDiscriminator", "minibatch_kernels negative",
      lambda: convnets.DCGANDiscriminator(minibatch_kernels=-1), ("minibatch_kernels", "non-negative", "-1")),
    C("convnets.MinibatchDiscrimination", "kernels 0", lambda: convnets.MinibatchDiscrimination(8, kernels=0),
      ("kernels", "positive", "0")),
    C("convnets.MinibatchDiscrimination.forward", "features of the wrong width",
      lambda: convnets.MinibatchDiscrimination(8)(feats(4, 6)), ("input", "(N, 8)", "(4, 6)")),
    C("convnets.ACGANDiscriminator", "n_classes 0", lambda: convnets.ACGANDiscriminator(n_classes=0),
      ("n_classes", "positive", "0")),
    C("convnets.ACGANDiscriminator.forward", "8x8 digits", lambda: acgan_d()(digits(2, side=8)),
      ("x", "(N, 1, 28, 28)", "(2, 1, 8, 8)")),
    C("convnets.ProjectionDiscriminator", "channels negative",
      lambda: convnets.ProjectionDiscriminator(channels=-1), ("channels", "positive", "-1")),
    C("convnets.ProjectionDiscriminator.phi", "images without a channel axis", lambda: proj_d().phi(digits(2)[:, 0]),
      ("x", "(N, 1, 28, 28)", "(2, 28, 28)")),
    C("convnets.ProjectionDiscriminator.forward", "labels a list", lambda: proj_d()(digits(2), [0, 1]),
      ("y", "torch.Tensor", "list")),
    C("convnets.ProjectionDiscriminator.forward", "a negative label",
      lambda: proj_d()(digits(2), torch.tensor([-1, 1])), ("y", "[0, 10)", "-1")),
    # ---- losses (NaN passes through on purpose: see the docstring)
    C("losses.d_loss_bce", "real_logits a list", lambda: losses.d_loss_bce([0.1], torch.zeros(1)),
      ("real_logits", "torch.Tensor", "list")),
    C("losses.d_loss_bce", "integer fake_logits", lambda: losses.d_loss_bce(torch.zeros(2), ints(2)),
      ("fake_logits", "floating-point", "torch.int64")),
    C("losses.d_loss_bce", "empty real_logits", lambda: losses.d_loss_bce(torch.zeros(0), torch.zeros(2)),
      ("real_logits", "empty")),
    C("losses.g_loss_minimax", "a numpy array", lambda: losses.g_loss_minimax(np.zeros(3)),
      ("fake_logits", "torch.Tensor", "numpy")),
    C("losses.g_loss_nonsaturating", "integer logits", lambda: losses.g_loss_nonsaturating(ints(3)),
      ("fake_logits", "floating-point", "torch.int64")),
    C("losses.d_loss_lsgan", "empty fake_out", lambda: losses.d_loss_lsgan(torch.zeros(2), torch.zeros(0)),
      ("fake_out", "empty")),
    C("losses.g_loss_lsgan", "a list", lambda: losses.g_loss_lsgan([0.5]), ("fake_out", "torch.Tensor", "list")),
    C("losses.d_loss_wasserstein", "integer fake_out", lambda: losses.d_loss_wasserstein(torch.zeros(2), ints(2)),
      ("fake_out", "floating-point")),
    C("losses.g_loss_wasserstein", "a string", lambda: losses.g_loss_wasserstein("0.5"),
      ("fake_out", "torch.Tensor", "str")),
    C("losses.d_loss_hinge", "bool real_out", lambda: losses.d_loss_hinge(torch.ones(2, dtype=torch.bool),
                                                                         torch.zeros(2)),
      ("real_out", "floating-point", "torch.bool")),
    C("losses.gradient_penalty", "fake of another batch size (was broadcast silently)",
      lambda: losses.gradient_penalty(mlp_d(), torch.zeros(4, 2), torch.zeros(1, 2)), ("fake", "(4, 2)", "(1, 2)")),
    C("losses.gradient_penalty", "weight negative",
      lambda: losses.gradient_penalty(mlp_d(), torch.zeros(4, 2), torch.zeros(4, 2), weight=-1.0),
      ("weight", "non-negative", "-1.0")),
    C("losses.gradient_penalty", "D a string",
      lambda: losses.gradient_penalty("D", torch.zeros(4, 2), torch.zeros(4, 2)),
      ("D", "str")),
    C("losses.gradient_penalty", "integer real", lambda: losses.gradient_penalty(mlp_d(), ints(4, 2), ints(4, 2)),
      ("real", "floating-point", "torch.int64")),
    C("losses.r1_penalty", "integer real", lambda: losses.r1_penalty(mlp_d(), ints(4, 2)),
      ("real", "floating-point", "torch.int64")),
    C("losses.r1_penalty", "gamma a string", lambda: losses.r1_penalty(mlp_d(), torch.zeros(4, 2), gamma="10"),
      ("gamma", "number", "str")),
    C("losses.GANLoss", "d_loss None", lambda: losses.GANLoss("x", None, losses.g_loss_wasserstein, "about"),
      ("d_loss", "function", "NoneType")),
    C("losses.GANLoss", "clip negative",
      lambda: losses.GANLoss("x", losses.d_loss_wasserstein, losses.g_loss_wasserstein, "about", clip=-0.01),
      ("clip", "positive", "-0.01")),
    C("losses.with_label_smoothing", "a hinge loss (no cross-entropy)",
      lambda: losses.with_label_smoothing(losses.get_loss("hinge")), ("hinge", "nonsaturating")),
    C("losses.with_label_smoothing", "real_label 1.5", lambda: losses.with_label_smoothing(losses.get_loss("minimax"), 1.5),
      ("real_label", "1.5")),
    C("losses.with_label_smoothing", "a loss name", lambda: losses.with_label_smoothing("minimax"),
      ("loss", "GANLoss", "str")),
    C("losses.d_loss_bce_smoothed", "real logits a list", lambda: losses.d_loss_bce_smoothed([0.0], torch.zeros(2)),
      ("real_logits", "Tensor", "list")),
    C("losses.with_penalty_weight", "a loss name instead of a GANLoss", lambda: losses.with_penalty_weight("r1", 1.0),
      ("loss", "GANLoss", "str")),
    C("losses.with_penalty_weight", "weight negative", lambda: losses.with_penalty_weight(losses.get_loss("r1"), -1.0),
      ("penalty weight", "non-negative", "-1.0")),
    C("losses.with_penalty_weight", "weight a string", lambda: losses.with_penalty_weight(losses.get_loss("r1"), "1"),
      ("penalty weight", "number", "str")),
    C("losses.with_penalty_weight", "a loss without a penalty",
      lambda: losses.with_penalty_weight(losses.get_loss("hinge"), 1.0), ("'hinge'", "no penalty", "r1")),
    C("losses.get_loss", "an unknown name", lambda: losses.get_loss("huber"), ("loss", "'huber'", "nonsaturating")),
    C("losses.get_loss", "a list of names", lambda: losses.get_loss(["r1"]), ("loss", "['r1']", "nonsaturating")),
    # ---- latent
    C("latent.lerp", "z0 a list", lambda: latent.lerp([0.0], torch.zeros(1, 1), 0.5), ("z0", "torch.Tensor", "list")),
    C("latent.lerp", "single codes (d,)", lambda: latent.lerp(torch.zeros(8), torch.ones(8), 0.5),
      ("z0", "(N, d)", "(8,)", "z[None]")),
    C("latent.lerp", "z1 of another shape", lambda: latent.lerp(torch.zeros(3, 8), torch.zeros(3, 4), 0.5),
      ("z1", "(3, 8)", "(3, 4)")),
    C("latent.lerp", "t 1.5", lambda: latent.lerp(torch.zeros(3, 8), torch.ones(3, 8), 1.5), ("t", "[0, 1]", "1.5")),
    C("latent.lerp", "t a string (was read as a number)",
      lambda: latent.lerp(torch.zeros(3, 8), torch.ones(3, 8), "0.5"),
      ("t", "number", "str")),
    C("latent.lerp", "integer codes", lambda: latent.lerp(ints(3, 8), ints(3, 8), 0.5), ("z0", "floating-point")),
    C("latent.slerp", "t NaN", lambda: latent.slerp(torch.zeros(3, 8), torch.ones(3, 8), NAN), ("t", "[0, 1]", "nan")),
    C("latent.slerp", "z1 a numpy array", lambda: latent.slerp(torch.zeros(3, 8), np.ones((3, 8)), 0.5),
      ("z1", "torch.Tensor", "numpy")),
    C("latent.slerp", "integer codes (was torch's error)", lambda: latent.slerp(ints(3, 8), ints(3, 8), 0.5),
      ("z0", "floating-point", "torch.int64")),
    # ---- metrics
    C("metrics.nearest_mode", "3-D samples for 2-D modes", lambda: metrics.nearest_mode(torch.zeros(5, 3),
                                                                                        torch.zeros(8, 2)),
      ("samples", "(N, 2)", "(5, 3)")),
    C("metrics.nearest_mode", "modes a list", lambda: metrics.nearest_mode(torch.zeros(5, 2), [[0.0, 0.0]]),
      ("modes", "torch.Tensor", "list")),
    C("metrics.nearest_mode", "a NaN sample", lambda: metrics.nearest_mode(with_nan(torch.zeros(5, 2)),
                                                                           torch.zeros(8, 2)),
      ("samples", "NaN")),
    C("metrics.mode_stats", "a NaN sample (the generator diverged)",
      lambda: metrics.mode_stats(with_nan(torch.zeros(10, 2)), data.ring()), ("samples", "NaN")),
    C("metrics.mode_stats", "an inf sample", lambda: metrics.mode_stats(with_nan(torch.zeros(10, 2), INF), data.ring()),
      ("samples", "inf")),
    C("metrics.mode_stats", "1-D samples for a 2-D mixture",
      lambda: metrics.mode_stats(torch.zeros(10, 1), data.ring()),
      ("samples", "(N, 2)", "(10, 1)")),
    C("metrics.mode_stats", "no samples (was ZeroDivisionError)", lambda: metrics.mode_stats(torch.zeros(0, 2),
                                                                                             data.ring()),
      ("samples", "empty")),
    C("metrics.mode_stats", "samples a list", lambda: metrics.mode_stats([[0.0, 1.0]], data.ring()),
      ("samples", "torch.Tensor", "list")),
    C("metrics.mode_stats", "integer samples", lambda: metrics.mode_stats(ints(10, 2), data.ring()),
      ("samples", "floating-point", "torch.int64")),
    C("metrics.mode_stats", "the mixture's name instead of the mixture",
      lambda: metrics.mode_stats(torch.zeros(10, 2), "ring"), ("mixture", "GaussianMixture", "str")),
    C("metrics.mode_stats", "n_std negative (was 0 high quality, silently)",
      lambda: metrics.mode_stats(torch.zeros(10, 2), data.ring(), n_std=-3.0), ("n_std", "positive", "-3.0")),
    C("metrics.mode_labels", "a NaN sample", lambda: metrics.mode_labels(with_nan(torch.zeros(10, 2)), data.ring()),
      ("samples", "NaN")),
    C("metrics.mode_labels", "1-D samples for a 2-D mixture",
      lambda: metrics.mode_labels(torch.zeros(10, 1), data.ring()), ("samples", "(N, 2)", "(10, 1)")),
    C("metrics.mode_labels", "the mixture's name instead of the mixture",
      lambda: metrics.mode_labels(torch.zeros(10, 2), "ring"), ("mixture", "GaussianMixture", "str")),
    C("metrics.mode_labels", "n_std negative", lambda: metrics.mode_labels(torch.zeros(10, 2), data.ring(), n_std=-3.0),
      ("n_std", "positive", "-3.0")),
    C("metrics.evaluate_generator", "n 0", lambda: metrics.evaluate_generator(mlp_g(), data.ring(), n=0),
      ("n", "positive")),
    C("metrics.evaluate_generator", "G without .sample", lambda: metrics.evaluate_generator(nn.Linear(2, 2),
                                                                                            data.ring()),
      ("G", ".sample", "Linear")),
    C("metrics.evaluate_generator", "no mixture", lambda: metrics.evaluate_generator(mlp_g(), None),
      ("mixture", "GaussianMixture", "NoneType")),
    C("metrics.evaluate_generator", "seed negative", lambda: metrics.evaluate_generator(mlp_g(), data.ring(), seed=-1),
      ("seed", "non-negative")),
    # ---- classifier
    C("classifier.check_images", "no channel axis", lambda: classifier.check_images(digits(2)[:, 0]),
      ("images", "(N, 1, 28, 28)", "(2, 28, 28)")),
    C("classifier.check_images", "pixels 0..255", lambda: classifier.check_images(digits(2, 0.0, 255.0)),
      ("images", "[-1, 1]", "255", "127.5")),
    C("classifier.check_images", "uint8 images", lambda: classifier.check_images(digits(2).to(torch.uint8)),
      ("images", "torch.uint8", "127.5")),
    C("classifier.check_images", "a NaN pixel", lambda: classifier.check_images(with_nan(digits(2))),
      ("images", "NaN")),
    C("classifier.check_images", "no images", lambda: classifier.check_images(digits(2)[:0]), ("images", "empty")),
    C("classifier.check_images", "a list", lambda: classifier.check_images(digits(1).tolist()),
      ("images", "torch.Tensor", "list")),
    C("classifier.MNISTClassifier", "width 0", lambda: classifier.MNISTClassifier(width=0), ("width", "positive")),
    C("classifier.MNISTClassifier", "feature_dim a string", lambda: classifier.MNISTClassifier(feature_dim="128"),
      ("feature_dim", "integer", "str")),
    C("classifier.MNISTClassifier.features", "8x8 digits", lambda: classifier.MNISTClassifier().features(
        digits(2, side=8)), ("images", "(N, 1, 28, 28)", "(2, 1, 8, 8)")),
    C("classifier.MNISTClassifier.features", "float64 images (was torch's error)",
      lambda: classifier.MNISTClassifier().features(digits(2).double()), ("images", "torch.float32", "torch.float64")),
    C("classifier.MNISTClassifier.forward", "pixels 0..255", lambda: classifier.MNISTClassifier()(digits(2, 0, 255)),
      ("images", "[-1, 1]", "255")),
    C("classifier.MNISTClassifier.features_and_logits", "a NaN pixel",
      lambda: classifier.MNISTClassifier().features_and_logits(with_nan(digits(2))), ("images", "NaN")),
    C("classifier.load_classifier", "no weights at path", lambda: classifier.load_classifier(path="no/such/file.pt"),
      ("no classifier weights", "no/such/file.pt"), raises=(FileNotFoundError,)),
    C("classifier.load_classifier", "path a number", lambda: classifier.load_classifier(path=5),
      ("path", "int")),
    C("classifier.load_classifier", "an unknown device (was torch's error)", lambda: classifier.load_classifier("gpu"),
      ("'gpu'", "device", "cpu")),
    C("classifier.mnist_split", "every digit held out (was an empty training split)",
      lambda: classifier.mnist_split(heldout_per_class=500), ("heldout_per_class", "500")),
    C("classifier.mnist_split", "seed negative", lambda: classifier.mnist_split(seed=-1), ("seed", "non-negative")),
    # ---- image_metrics
    C("image_metrics.classifier_outputs", "pixels 0..255",
      lambda: image_metrics.classifier_outputs(digits(2, 0, 255)), ("images", "[-1, 1]", "255")),
    C("image_metrics.classifier_outputs", "batch_size 0 (was range()'s error)",
      lambda: image_metrics.classifier_outputs(digits(2), batch_size=0), ("batch_size", "positive")),
    C("image_metrics.classifier_outputs", "classifier a string",
      lambda: image_metrics.classifier_outputs(digits(2), classifier="mnist"),
      ("classifier", "MNISTClassifier", "str")),
    C("image_metrics.fid_from_features", "a NaN feature",
      lambda: image_metrics.fid_from_features(feats(), with_nan(feats())), ("fake features", "NaN")),
    C("image_metrics.fid_from_features", "images instead of features",
      lambda: image_metrics.fid_from_features(digits(4), digits(4)), ("real features", "(N, d)", "classifier_outputs")),
    C("image_metrics.fid_from_features", "features of different dimensions",
      lambda: image_metrics.fid_from_features(feats(8, 4), feats(8, 3)), ("dimension", "4", "3")),
    C("image_metrics.fid_from_features", "a list", lambda: image_metrics.fid_from_features(feats().tolist(), feats()),
      ("real features", "torch.Tensor", "list")),
    C("image_metrics.fid_from_features", "one sample", lambda: image_metrics.fid_from_features(feats(1), feats()),
      ("at least 2", "1 real features")),
    C("image_metrics.kid_from_features", "subset_size larger than the sets",
      lambda: image_metrics.kid_from_features(feats(), feats(), subset_size=100), ("subset_size", "100")),
    C("image_metrics.kid_from_features", "subsets 0 (was torchmetrics' error)",
      lambda: image_metrics.kid_from_features(feats(), feats(), subsets=0), ("subsets", "positive")),
    C("image_metrics.kid_from_features", "an inf feature",
      lambda: image_metrics.kid_from_features(with_nan(feats(), INF), feats()), ("real features", "inf")),
    C("image_metrics.fid", "uint8 real images", lambda: image_metrics.fid(digits(4).to(torch.uint8), digits(4)),
      ("real images", "torch.uint8")),
    C("image_metrics.fid", "8x8 fake digits", lambda: image_metrics.fid(digits(4), digits(4, side=8)),
      ("fake images", "(N, 1, 28, 28)", "(4, 1, 8, 8)")),
    C("image_metrics.kid", "a NaN real image", lambda: image_metrics.kid(with_nan(digits(4)), digits(4)),
      ("real images", "NaN")),
    C("image_metrics.kid", "subsets a string",
      lambda: image_metrics.kid(digits(8), digits(8), mnist_classifier(), subsets="10"), ("subsets", "integer", "str")),
    C("image_metrics.precision_recall", "k 0", lambda: image_metrics.precision_recall(feats(), feats(), k=0),
      ("k", "positive", "0")),
    C("image_metrics.precision_recall", "chunk 0 (was range()'s error)",
      lambda: image_metrics.precision_recall(feats(), feats(), chunk=0), ("chunk", "positive")),
    C("image_metrics.precision_recall", "fewer samples than k + 1",
      lambda: image_metrics.precision_recall(feats(), feats(3), k=3), ("at least 4", "fake features")),
    C("image_metrics.class_histogram_stats", "min_count 0",
      lambda: image_metrics.class_histogram_stats(digits(2), min_count=0), ("min_count", "positive")),
    C("image_metrics.class_histogram_stats", "confidence 1.5 (was a fraction of 0, silently)",
      lambda: image_metrics.class_histogram_stats(digits(2), confidence=1.5), ("confidence", "[0, 1)", "1.5")),
    C("image_metrics.class_histogram_stats", "pixels 0..255",
      lambda: image_metrics.class_histogram_stats(digits(2, 0, 255)), ("images", "[-1, 1]")),
    C("image_metrics.conditional_accuracy", "float labels",
      lambda: image_metrics.conditional_accuracy(digits(4), torch.zeros(4)), ("labels", "integer", "torch.float32")),
    C("image_metrics.conditional_accuracy", "labels 10..13", lambda: image_metrics.conditional_accuracy(
        digits(4), torch.arange(10, 14)), ("labels", "[0, 10)", "13", "digits")),
    C("image_metrics.conditional_accuracy", "fewer labels than images",
      lambda: image_metrics.conditional_accuracy(digits(4), ints(2)), ("labels", "(4,)", "(2,)")),
    C("image_metrics.evaluate_images", "8x8 fake digits", lambda: image_metrics.evaluate_images(digits(4, side=8)),
      ("fake images", "(N, 1, 28, 28)", "(4, 1, 8, 8)")),
    C("image_metrics.evaluate_images", "float labels", lambda: image_metrics.evaluate_images(digits(4),
                                                                                             labels=torch.zeros(4)),
      ("labels", "integer", "torch.float32")),
    C("image_metrics.evaluate_images", "k 0 (before the classifier runs)",
      lambda: image_metrics.evaluate_images(digits(8), real=digits(8), k=0), ("k", "positive")),
    C("image_metrics.evaluate_images", "kid_subsets 0",
      lambda: image_metrics.evaluate_images(digits(8), real=digits(8), kid_subsets=0), ("kid_subsets", "positive")),
    C("image_metrics.evaluate_images", "real pixels 0..255",
      lambda: image_metrics.evaluate_images(digits(8), real=digits(8, 0, 255)), ("real images", "[-1, 1]", "255")),
    # ---- plot
    C("plot.save_panels", "a dict without steps", lambda: plot.save_panels({"loss": [1.0]}, "x.png"),
      ("history", "History", "dict")),
    C("plot.save_panels", "steps only", lambda: plot.save_panels({"step": [1]}, "x.png"), ("history", "only steps")),
    C("plot.plot_limits", "the mixture's name", lambda: plot.plot_limits("ring"),
      ("mixture", "GaussianMixture", "str")),
    C("plot.plot_limits", "margin negative", lambda: plot.plot_limits(data.ring(), margin=-1.0),
      ("margin", "non-negative")),
    C("plot.plot_samples_2d", "3-D samples (were drawn from 2 columns, silently)",
      lambda: plot.plot_samples_2d(torch.zeros(10, 3), data.ring()), ("samples", "(N, 2)", "(10, 3)")),
    C("plot.plot_samples_2d", "samples a list", lambda: plot.plot_samples_2d([[0.0, 0.0]]),
      ("samples", "torch.Tensor", "list")),
    C("plot.plot_samples_2d", "NaN samples (were not drawn, silently)",
      lambda: plot.plot_samples_2d(with_nan(torch.zeros(10, 2))), ("samples", "NaN")),
    C("plot.plot_samples_2d", "a 1-D mixture", lambda: plot.plot_samples_2d(None, data.mixture_1d()),
      ("mixture", "2-D", "1-D")),
    C("plot.plot_samples_2d", "resolution 0", lambda: plot.plot_samples_2d(None, data.ring(), resolution=0),
      ("resolution", "integer", "0")),
    C("plot.plot_samples_2d", "lim negative (was an inverted window)", lambda: plot.plot_samples_2d(None, lim=-1.0),
      ("lim", "positive", "-1.0")),
    C("plot.plot_decision_surface", "D a string", lambda: plot.plot_decision_surface("D"), ("D", "nn.Module", "str")),
    C("plot.plot_decision_surface", "3-D samples", lambda: plot.plot_decision_surface(mlp_d(), torch.zeros(10, 3)),
      ("samples", "(N, 2)", "(10, 3)")),
    C("plot.plot_decision_surface", "resolution 1", lambda: plot.plot_decision_surface(mlp_d(), resolution=1),
      ("resolution", "2", "1")),
    C("plot.plot_decision_surface", "D for 3-D points", lambda: plot.plot_decision_surface(
        nets.MLPDiscriminator(in_dim=3, width=8, depth=2)), ("x", "(N, 3)", "2)")),
    C("plot.plot_1d", "a 2-D mixture", lambda: plot.plot_1d(None, None, data.ring()), ("mixture", "1-D", "2-D")),
    C("plot.plot_1d", "no mixture", lambda: plot.plot_1d(None, None, None), ("mixture", "GaussianMixture", "NoneType")),
    C("plot.plot_1d", "n 0", lambda: plot.plot_1d(None, None, data.mixture_1d(), n=0), ("n", "positive")),
    C("plot.plot_1d", "G without .sample", lambda: plot.plot_1d(nn.Linear(1, 1), None, data.mixture_1d()),
      ("G", ".sample", "Linear")),
    C("plot.plot_history", "no 'step' list", lambda: plot.plot_history({"loss_d": [1.0]}), ("history", "'step'")),
    C("plot.plot_history", "a list", lambda: plot.plot_history([1.0, 2.0]), ("history", "'step'", "list")),
    C("plot.plot_history", "a loss longer than the steps",
      lambda: plot.plot_history({"step": [1], "loss_d": [1.0, 2.0]}),
      ("history['loss_d']", "one value per step")),
    C("plot.plot_history", "smooth 0", lambda: plot.plot_history({"step": [1]}, smooth=0), ("smooth", "positive")),
    C("plot.image_grid", "pixels 0..255 (were clamped to white, silently)",
      lambda: plot.image_grid(digits(4, 0, 255, side=8)), ("images", "[-1, 1]", "255")),
    C("plot.image_grid", "two channels", lambda: plot.image_grid(torch.zeros(4, 2, 8, 8)),
      ("images", "(N, 1 or 3, H, W)", "(4, 2, 8, 8)")),
    C("plot.image_grid", "a list", lambda: plot.image_grid(digits(1, side=8).tolist()),
      ("images", "torch.Tensor", "list")),
    C("plot.image_grid", "a NaN pixel", lambda: plot.image_grid(with_nan(digits(4, side=8))), ("images", "NaN")),
    C("plot.image_grid", "nrow 0", lambda: plot.image_grid(digits(4, side=8), nrow=0), ("nrow", "positive")),
    C("plot.LiveToyPlot", "a 1-D mixture", lambda: plot.LiveToyPlot(data.mixture_1d()), ("mixture", "2-D", "1-D")),
    C("plot.LiveToyPlot", "n_samples 0", lambda: plot.LiveToyPlot(data.ring(), n_samples=0), ("n_samples", "positive")),
    # ---- env
    C("env.is_fast", "GANLAB_FAST=maybe", env_var("GANLAB_FAST", "maybe", env.is_fast), ("GANLAB_FAST", "'maybe'")),
    C("env.downloads_allowed", "GANLAB_DOWNLOAD=perhaps", env_var("GANLAB_DOWNLOAD", "perhaps", env.downloads_allowed),
      ("GANLAB_DOWNLOAD", "'perhaps'")),
    C("env.get_device", "an unknown device (was torch's error)", lambda: env.get_device("gpu"),
      ("prefer", "'gpu'", "cpu")),
    C("env.get_device", "GANLAB_DEVICE=tpu", env_var("GANLAB_DEVICE", "tpu", env.get_device),
      ("GANLAB_DEVICE", "'tpu'", "cpu")),
    C("env.get_device", "prefer a number", lambda: env.get_device(0), ("prefer", "int")),
    C("env.seed_everything", "seed negative", lambda: env.seed_everything(-1), ("seed", "non-negative", "-1")),
    C("env.seed_everything", "seed a string", lambda: env.seed_everything("1"), ("seed", "integer", "str")),
    C("env.seed_everything", "seed fractional", lambda: env.seed_everything(1.5), ("seed", "integer", "float")),
    # ---- images
    C("images.natural_image", "an unknown name", lambda: images.natural_image("lena"),
      ("natural image", "'lena'", "china")),
    C("images.natural_image", "size above the longer side (was an enlargement)",
      lambda: images.natural_image("china", size=641), ("size", "640", "641")),
    C("images.natural_image", "size 0", lambda: images.natural_image("china", size=0), ("size", "positive")),
    C("images.natural_image", "size fractional", lambda: images.natural_image("china", size=3.0),
      ("size", "integer", "float"), raises=(TypeError,)),
    # ---- pyramids
    C("pyramids.blur", "one image (C, H, W), not a batch", lambda: pyramids.blur(torch.zeros(3, 8, 8)),
      ("x", "(N, C, H, W)", "(3, 8, 8)", "x[None]")),
    C("pyramids.blur", "a list", lambda: pyramids.blur([[0.0] * 8] * 8), ("x", "Tensor", "list")),
    C("pyramids.blur", "integer images", lambda: pyramids.blur(ints(1, 1, 8, 8)),
      ("x", "floating-point", "torch.int64")),
    C("pyramids.downsample", "a row of one pixel", lambda: pyramids.downsample(torch.zeros(1, 1, 1, 6)),
      ("x", "2x2", "1x6")),
    C("pyramids.upsample", "size a number", lambda: pyramids.upsample(torch.zeros(1, 1, 4, 4), 8),
      ("size", "pair", "8")),
    C("pyramids.upsample", "a size that does not halve to x's",
      lambda: pyramids.upsample(torch.zeros(1, 1, 4, 4), (8, 10)),
      ("size", "4x4", "(8, 10)")),
    C("pyramids.upsample", "size of strings", lambda: pyramids.upsample(torch.zeros(1, 1, 4, 4), ("8", "8")),
      ("size[0]", "integer", "str")),
    C("pyramids.gaussian_pyramid", "more levels than halvings", lambda: pyramids.gaussian_pyramid(
        torch.zeros(1, 1, 27, 33), 7), ("levels", "at most 6", "27x33", "7")),
    C("pyramids.gaussian_pyramid", "levels 0", lambda: pyramids.gaussian_pyramid(torch.zeros(1, 1, 8, 8), 0),
      ("levels", "positive")),
    C("pyramids.laplacian_pyramid", "levels fractional",
      lambda: pyramids.laplacian_pyramid(torch.zeros(1, 1, 8, 8), 2.0),
      ("levels", "integer", "float")),
    C("pyramids.laplacian_pyramid", "x a numpy array", lambda: pyramids.laplacian_pyramid(np.zeros((1, 1, 8, 8)), 2),
      ("x", "Tensor", "numpy")),
    C("pyramids.reconstruct", "one tensor, not a list", lambda: pyramids.reconstruct(torch.zeros(1, 1, 8, 8)),
      ("pyramid", "list", "Tensor")),
    C("pyramids.reconstruct", "an empty list", lambda: pyramids.reconstruct([]), ("pyramid", "empty")),
    C("pyramids.reconstruct", "levels that do not halve",
      lambda: pyramids.reconstruct([torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 5, 5)]),
      ("pyramid[1]", "(1, 1, 4, 4)", "(1, 1, 5, 5)")),
    C("pyramids.reconstruct", "a level without a batch axis",
      lambda: pyramids.reconstruct([torch.zeros(1, 1, 8, 8), torch.zeros(1, 4, 4)]),
      ("pyramid[1]", "(N, C, H, W)", "(1, 4, 4)")),
    # ---- stylegan
    C("stylegan.StyleGenerator", "image_size 28", lambda: stylegan.StyleGenerator(image_size=28),
      ("image_size", "[8, 16, 32, 64]", "28")),
    C("stylegan.StyleGenerator", "w_dim 0", lambda: stylegan.StyleGenerator(w_dim=0), ("w_dim", "positive")),
    C("stylegan.StyleGenerator", "mixing_prob 1.5", lambda: stylegan.StyleGenerator(mixing_prob=1.5),
      ("mixing_prob", "[0, 1]", "1.5")),
    C("stylegan.StyleGenerator", "w_avg_decay 1 (w_avg would never move)",
      lambda: stylegan.StyleGenerator(w_avg_decay=1.0), ("w_avg_decay", "[0, 1)", "1.0")),
    C("stylegan.StyleGenerator.forward", "z of the wrong width", lambda: style_g()(torch.randn(3, 5)),
      ("z", "(N, 8)", "(3, 5)")),
    C("stylegan.StyleGenerator.forward", "mix a string (was truthy: mixing)",
      lambda: style_g()(torch.zeros(2, 8), mix="yes"), ("mix", "str", "'yes'")),
    C("stylegan.StyleGenerator.forward", "float64 z", lambda: style_g()(torch.zeros(2, 8).double()),
      ("z", "torch.float32", "torch.float64")),
    C("stylegan.StyleGenerator.mix_styles", "crossover past the last style",
      lambda: style_g().mix_styles(torch.zeros(2, 8), torch.zeros(2, 8), 9), ("crossover", "0 to 8", "9")),
    C("stylegan.StyleGenerator.mix_styles", "z1 and z2 of different batches",
      lambda: style_g().mix_styles(torch.zeros(2, 8), torch.zeros(3, 8), 4), ("z1", "z2", "2", "3")),
    C("stylegan.StyleGenerator.truncate", "psi a string", lambda: style_g().truncate(torch.zeros(2, 8), "0.7"),
      ("psi", "number", "str")),
    C("stylegan.StyleGenerator.truncate", "cutoff past the last style",
      lambda: style_g().truncate(torch.zeros(2, 8), 0.7, cutoff=9), ("cutoff", "0 to 8", "9")),
    C("stylegan.StyleGenerator.truncate", "w of the wrong width", lambda: style_g().truncate(torch.zeros(2, 5), 0.7),
      ("w", "(N, 8)", "(2, 5)")),
    C("stylegan.StyleGenerator.sample", "n 0", lambda: style_g().sample(0), ("n", "positive")),
    C("stylegan.StyleGenerator.sample", "psi NaN", lambda: style_g().sample(2, psi=NAN), ("psi", "nan")),
    C("stylegan.StyleGenerator.synthesis", "one w (N, w_dim), not one per style",
      lambda: style_g().synthesis(torch.zeros(2, 8)), ("ws", "(N, 8, 8)", "(2, 8)")),
    C("stylegan.StyleGenerator.synthesis", "noise for too few layers",
      lambda: style_g().synthesis(torch.zeros(2, 8, 8), noise=[torch.zeros(2, 1, 4, 4)]), ("noise", "8", "1 tensors")),
    C("stylegan.StyleGenerator.synthesis", "noise one tensor, not a list",
      lambda: style_g().synthesis(torch.zeros(2, 8, 8), noise=torch.zeros(2, 1, 4, 4)), ("noise", "list", "Tensor")),
    C("stylegan.StyleGenerator.synthesis", "noise of the wrong size for a layer",
      lambda: style_g().synthesis(torch.zeros(2, 8, 8), noise=[torch.zeros(2, 1, 8, 8)] * 8),
      ("noise[0]", "4, 4)", "(2, 1, 8, 8)")),
    C("stylegan.StyleGenerator.make_noise", "n 0", lambda: style_g().make_noise(0), ("n", "positive")),
    C("stylegan.StyleGenerator.make_noise", "generator a seed (torch's randn() overloads)",
      lambda: style_g().make_noise(2, generator=0), ("generator must be", "torch.Generator", "int")),
    C("stylegan.StyleGenerator.sample", "generator a seed (torch's randn() overloads)",
      lambda: style_g().sample(2, generator=0), ("generator must be", "torch.Generator", "int")),
    C("stylegan.MappingNetwork", "layers fractional", lambda: stylegan.MappingNetwork(layers=2.0),
      ("layers", "integer", "float")),
    C("stylegan.MappingNetwork", "lr_mul 0", lambda: stylegan.MappingNetwork(lr_mul=0.0), ("lr_mul", "positive")),
    C("stylegan.MappingNetwork.forward", "z of the wrong width",
      lambda: stylegan.MappingNetwork(latent_dim=4, w_dim=4, layers=1)(torch.zeros(2, 5)), ("z", "(N, 4)", "(2, 5)")),
    C("stylegan.adain", "a scale for 4 channels of a 3-channel x",
      lambda: stylegan.adain(torch.zeros(2, 3, 4, 4), torch.ones(2, 4), torch.zeros(2, 3)),
      ("scale", "(2, 3)", "(2, 4)")),
    C("stylegan.adain", "x without a batch axis",
      lambda: stylegan.adain(torch.zeros(3, 4, 4), torch.ones(2, 3), torch.zeros(2, 3)),
      ("x", "(N, C, H, W)", "(3, 4, 4)")),
    C("stylegan.adain", "eps 0",
      lambda: stylegan.adain(torch.zeros(2, 3, 4, 4), torch.ones(2, 3), torch.zeros(2, 3), 0.0),
      ("eps", "positive")),
    C("stylegan.AdaIN", "channels 0", lambda: stylegan.AdaIN(4, 0), ("channels", "positive")),
    C("stylegan.AdaIN.forward", "w of the wrong width",
      lambda: stylegan.AdaIN(4, 3)(torch.zeros(2, 3, 4, 4), torch.zeros(2, 5)), ("w", "(2, 4)", "(2, 5)")),
    C("stylegan.AdaIN.forward", "x with the wrong channels",
      lambda: stylegan.AdaIN(4, 3)(torch.zeros(2, 5, 4, 4), torch.zeros(2, 4)), ("x", "(N, 3, H, W)", "(2, 5, 4, 4)")),
    C("stylegan.NoiseInjection", "channels a string", lambda: stylegan.NoiseInjection("3"),
      ("channels", "integer", "str")),
    C("stylegan.NoiseInjection.forward", "noise with a channel per feature map",
      lambda: stylegan.NoiseInjection(3)(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)),
      ("noise", "(2 or 1, 1, 4, 4)", "(2, 3, 4, 4)")),
    C("stylegan.NoiseInjection.forward", "x with the wrong channels",
      lambda: stylegan.NoiseInjection(3)(torch.zeros(2, 4, 4, 4)), ("x", "(N, 3, H, W)", "(2, 4, 4, 4)")),
    # ---- lapgan
    C("lapgan.CoarseGenerator", "latent_dim 0", lambda: lapgan.CoarseGenerator(latent_dim=0),
      ("latent_dim", "positive integer", "0")),
    C("lapgan.CoarseGenerator.forward", "z of the wrong width",
      lambda: lapgan.CoarseGenerator(latent_dim=8, channels=1, width=8)(torch.zeros(2, 3)), ("z", "(N, 8)", "(2, 3)")),
    C("lapgan.CoarseGenerator.noise", "n negative", lambda: lapgan.CoarseGenerator(8, 1, 8).noise(-1), ("n", "-1")),
    C("lapgan.CoarseDiscriminator", "an odd size", lambda: lapgan.CoarseDiscriminator(size=7), ("size", "even", "7")),
    C("lapgan.CoarseDiscriminator.forward", "16 px images at 8 px",
      lambda: lapgan.CoarseDiscriminator(1, 8)(digits(2, side=16)), ("(N, 1, 8, 8)", "(2, 1, 16, 16)")),
    C("lapgan.ResidualGenerator", "an even kernel", lambda: lapgan.ResidualGenerator(kernels=(5, 4, 5)),
      ("kernels[1]", "odd", "4")),
    C("lapgan.ResidualGenerator.forward", "noise as a vector",
      lambda: lapgan.ResidualGenerator(16, 1, 8)(torch.zeros(2, 16), digits(2, side=16)), ("z", "(N, 1, 16, 16)")),
    C("lapgan.ResidualGenerator.noise", "n fractional", lambda: lapgan.ResidualGenerator(16, 1, 8).noise(1.5),
      ("n", "float")),
    C("lapgan.ResidualDiscriminator", "size 8", lambda: lapgan.ResidualDiscriminator(size=8), ("size", "8")),
    C("lapgan.ResidualDiscriminator.forward", "l at the coarser size",
      lambda: lapgan.ResidualDiscriminator(16, 1, 8)(digits(2, side=16), digits(2, side=8)),
      ("l", "(2, 1, 16, 16)", "(2, 1, 8, 8)")),
    C("lapgan.real_pairs", "x a list", lambda: lapgan.real_pairs(digits(1, side=32).tolist()), ("x", "Tensor", "list")),
    C("lapgan.real_pairs", "too many levels for 2x2", lambda: lapgan.real_pairs(digits(1, side=2)), ("levels", "2")),
    C("lapgan.refine", "the coarse generator", lambda: lapgan.refine(lapgan.CoarseGenerator(8, 1, 8), digits(2, side=8),
                                                                     torch.zeros(2, 1, 16, 16)),
      ("G", "ResidualGenerator", "CoarseGenerator")),
    C("lapgan.sample", "no levels", lambda: lapgan.sample([], 2), ("levels", "non-empty")),
    C("lapgan.sample", "upto 3", lambda: lapgan.sample([lapgan.CoarseGenerator(8, 1, 8)], 2, upto=3), ("upto", "3")),
    # ---- multiscale
    C("multiscale.MultiScaleDiscriminator", "n_scales 0", lambda: multiscale.MultiScaleDiscriminator(n_scales=0),
      ("n_scales", "positive integer", "0")),
    C("multiscale.MultiScaleDiscriminator", "an unknown weighting",
      lambda: multiscale.MultiScaleDiscriminator(weighting="mean"), ("weighting", "'mean'", "scale", "patch")),
    C("multiscale.MultiScaleDiscriminator.forward", "8x8 images for 3 scales of 2 layers",
      lambda: multiscale.MultiScaleDiscriminator(1, 8, n_scales=3, n_layers=2)(digits(2, side=8)),
      ("at least 16 x 16", "8 x 8")),
    C("multiscale.MultiScaleDiscriminator.forward", "3 channels for 1",
      lambda: multiscale.MultiScaleDiscriminator(1, 8)(photos(2, 32)), ("(N, 1, H, W)", "(2, 3, 32, 32)")),
    C("multiscale.MultiScaleDiscriminator.scale_logits", "15x15 images",
      lambda: multiscale.MultiScaleDiscriminator(1, 8, n_scales=3, n_layers=2).scale_logits(digits(2, side=15)),
      ("at least 16 x 16", "15 x 15")),
    C("multiscale.PatchGANDiscriminator", "norm None", lambda: multiscale.PatchGANDiscriminator(norm=None),
      ("norm", "None", "instance")),
    C("multiscale.PatchGANDiscriminator.forward", "7x7 images for 3 layers",
      lambda: multiscale.PatchGANDiscriminator(1, 8, n_layers=3)(digits(2, side=7)), ("at least 8 x 8", "7 x 7")),
    C("multiscale.receptive_field", "scale negative", lambda: multiscale.receptive_field(scale=-1),
      ("scale", "non-negative", "-1")),
    # ---- progressive
    C("progressive.EqualizedLinear", "in_features 0", lambda: progressive.EqualizedLinear(0, 4),
      ("in_features", "positive", "0")),
    C("progressive.EqualizedLinear", "gain 0", lambda: progressive.EqualizedLinear(3, 4, gain=0.0),
      ("gain", "positive")),
    C("progressive.EqualizedLinear", "equalized a string (was truthy: on)",
      lambda: progressive.EqualizedLinear(3, 4, equalized="no"), ("equalized", "'no'")),
    C("progressive.EqualizedLinear.forward", "x of the wrong width",
      lambda: progressive.EqualizedLinear(3, 4)(torch.zeros(2, 5)), ("EqualizedLinear's input", "(N, 3)", "(2, 5)")),
    C("progressive.EqualizedConv2d", "an even kernel_size (no padding keeps the size)",
      lambda: progressive.EqualizedConv2d(3, 4, kernel_size=2), ("kernel_size", "odd", "2")),
    C("progressive.EqualizedConv2d", "out_channels negative", lambda: progressive.EqualizedConv2d(3, -4, 3),
      ("out_channels", "positive", "-4")),
    C("progressive.EqualizedConv2d.forward", "4 channels for a layer of 3",
      lambda: progressive.EqualizedConv2d(3, 4, 3)(torch.zeros(2, 4, 8, 8)), ("(N, 3, H, W)", "(2, 4, 8, 8)")),
    C("progressive.EqualizedConv2d.forward", "integer images",
      lambda: progressive.EqualizedConv2d(3, 4, 3)(ints(2, 3, 8, 8)), ("torch.float32", "torch.int64")),
    C("progressive.PixelNorm", "eps 0", lambda: progressive.PixelNorm(eps=0), ("eps", "positive", "0")),
    C("progressive.PixelNorm.forward", "a list", lambda: progressive.PixelNorm()([[1.0, 2.0]]),
      ("PixelNorm's input", "Tensor", "list")),
    C("progressive.PixelNorm.forward", "one dimension (no channel axis)",
      lambda: progressive.PixelNorm()(torch.ones(4)),
      ("PixelNorm's input", "(N, C, ...)", "(4,)")),
    C("progressive.MinibatchStdDev", "group_size 0", lambda: progressive.MinibatchStdDev(group_size=0),
      ("group_size", "positive")),
    C("progressive.MinibatchStdDev.forward", "features (N, C), not maps",
      lambda: progressive.MinibatchStdDev()(torch.zeros(2, 3)), ("(N, C, H, W)", "(2, 3)")),
    C("progressive.ProgressiveGenerator", "latent_dim 0", lambda: progressive.ProgressiveGenerator(latent_dim=0),
      ("latent_dim", "positive")),
    C("progressive.ProgressiveGenerator", "stage 3 set as an attribute", lambda: changed(prog_g(), stage=3),
      ("stage", "0 to 2", "3")),
    C("progressive.ProgressiveGenerator", "pixel_norm a string (was truthy: on)",
      lambda: progressive.ProgressiveGenerator(pixel_norm="no"), ("pixel_norm", "'no'")),
    C("progressive.ProgressiveGenerator.forward", "stage 3", lambda: prog_g()(torch.zeros(2, 8), stage=3),
      ("stage", "0 to 2", "3")),
    C("progressive.ProgressiveGenerator.forward", "alpha 1.5", lambda: prog_g()(torch.zeros(2, 8), stage=1, alpha=1.5),
      ("alpha", "[0, 1]", "1.5")),
    C("progressive.ProgressiveGenerator.forward", "z of the wrong width", lambda: prog_g()(torch.zeros(2, 5)),
      ("z", "(N, 8)", "(2, 5)")),
    C("progressive.ProgressiveGenerator.sample", "n 0", lambda: prog_g().sample(0), ("n", "positive")),
    C("progressive.ProgressiveGenerator.sample", "generator a seed (torch's randn() overloads)",
      lambda: prog_g().sample(2, generator=0), ("generator must be", "torch.Generator", "int")),
    C("progressive.ProgressiveDiscriminator", "width fractional",
      lambda: progressive.ProgressiveDiscriminator(width=2.5),
      ("width", "integer", "float")),
    C("progressive.ProgressiveDiscriminator", "alpha set to a string", lambda: changed(prog_d(), alpha="1"),
      ("alpha", "number", "str")),
    C("progressive.ProgressiveDiscriminator.forward", "32 px images at stage 0", lambda: prog_d()(digits(2, side=32)),
      ("x", "(N, 1, 8, 8)", "(2, 1, 32, 32)")),
    C("progressive.ProgressiveDiscriminator.forward", "stage a string", lambda: prog_d()(digits(2, side=8), stage="0"),
      ("stage", "integer", "str")),
    # ---- singan
    C("singan.receptive_field", "layers 0", lambda: singan.receptive_field(layers=0), ("layers", "positive", "0")),
    C("singan.receptive_field", "kernel fractional", lambda: singan.receptive_field(kernel=3.0),
      ("kernel", "integer", "float")),
    C("singan.width_at", "scale negative", lambda: singan.width_at(-1), ("scale", "non-negative", "-1")),
    C("singan.width_at", "max_width 0", lambda: singan.width_at(0, max_width=0), ("max_width", "positive")),
    C("singan.pyramid_sizes", "an image smaller than min_size", lambda: singan.pyramid_sizes(20, 30),
      ("min_size", "25", "20x30")),
    C("singan.pyramid_sizes", "min_size below one patch of D", lambda: singan.pyramid_sizes(40, 60, min_size=5),
      ("min_size", "11", "5")),
    C("singan.pyramid_sizes", "scale_factor 1 (the pyramid would never shrink)",
      lambda: singan.pyramid_sizes(40, 60, scale_factor=1.0), ("scale_factor", "(0, 1)", "1.0")),
    C("singan.resize", "size a number", lambda: singan.resize(photos(), 8), ("size", "pair", "8")),
    C("singan.resize", "a width of 0", lambda: singan.resize(photos(), (8, 0)), ("size[1]", "positive", "0")),
    C("singan.resize", "x without a batch axis", lambda: singan.resize(photos()[0], (8, 8)),
      ("x", "(N, C, H, W)", "(3, 16, 16)")),
    C("singan.image_pyramid", "a numpy array", lambda: singan.image_pyramid(photos(1, 33)[0].numpy()),
      ("image", "Tensor", "numpy")),
    C("singan.image_pyramid", "pixels 0..255", lambda: singan.image_pyramid(photos(1, 33) * 127.5 + 127.5),
      ("image", "[-1, 1]", "255")),
    C("singan.image_pyramid", "a batch of two images", lambda: singan.image_pyramid(photos(2, 33)),
      ("image", "(1, C, H, W)", "(2, 3, 33, 33)")),
    C("singan.ScaleGenerator", "width 0", lambda: singan.ScaleGenerator(width=0), ("width", "positive")),
    C("singan.ScaleGenerator.forward", "prev of one channel for a colour G",
      lambda: scale_g()(torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 16, 16)),
      ("prev", "(N, 3, H, W)", "(1, 1, 16, 16)")),
    C("singan.ScaleGenerator.forward", "z of another size than prev",
      lambda: scale_g()(torch.zeros(1, 3, 12, 12), photos()), ("z", "(1, 1 or 3, 16, 16)", "(1, 3, 12, 12)")),
    C("singan.ScaleGenerator.forward", "z a list", lambda: scale_g()(photos().tolist(), photos()),
      ("z", "Tensor", "list")),
    C("singan.PatchDiscriminator", "channels a string", lambda: singan.PatchDiscriminator(channels="3"),
      ("channels", "integer", "str")),
    C("singan.PatchDiscriminator.forward", "an image smaller than one patch", lambda: patch_d()(photos(1, 8)),
      ("x", "11 x 11", "(8, 8)")),
    C("singan.PatchDiscriminator.forward", "grey images for a colour D", lambda: patch_d()(digits(1, side=16)),
      ("x", "(N, 3, H, W)", "(1, 1, 16, 16)")),
    C("singan.SinGAN", "no sizes", lambda: singan.SinGAN([]), ("sizes", "non-empty", "[]")),
    C("singan.SinGAN", "a size that is one number", lambda: singan.SinGAN([25, 33]), ("sizes[0]", "pair", "25")),
    C("singan.SinGAN", "channels 0", lambda: singan.SinGAN([(25, 25)], channels=0), ("channels", "positive")),
    C("singan.SinGAN.sizes_for", "size a string", lambda: tiny_singan().sizes_for("a"), ("size", "pair", "'a'")),
    C("singan.SinGAN.sizes_for", "a fractional height", lambda: tiny_singan().sizes_for((25.5, 30)),
      ("size[0]", "integer", "float")),
    C("singan.sample", "the model's name", lambda: singan.sample("model"), ("model", "SinGAN", "str")),
    C("singan.sample", "an untrained model", lambda: singan.sample(tiny_singan()), ("model", "trained")),
    C("singan.sample", "n 0", lambda: singan.sample(tiny_singan(2), 0), ("n", "positive")),
    C("singan.sample", "end_scale past the trained scales", lambda: singan.sample(tiny_singan(2), end_scale=2),
      ("end_scale", "0 to 1", "2")),
    C("singan.sample", "start_scale above end_scale", lambda: singan.sample(tiny_singan(2), start_scale=1, end_scale=0),
      ("start_scale", "end_scale=0", "1")),
    C("singan.sample", "start_scale > 0 at another size without a start image",
      lambda: singan.sample(tiny_singan(2), size=(25, 50), start_scale=1), ("start_scale", "size=None", "start_image")),
    C("singan.sample", "a start image of 3 for n 2",
      lambda: singan.sample(tiny_singan(2), 2, start_scale=1, start_image=photos(3, 33)), ("start_image", "n=2", "3")),
    C("singan.sample", "a start image at scale 0 (noise alone: the image would be ignored)",
      lambda: singan.sample(tiny_singan(2), start_scale=0, start_image=photos(1, 33)), ("start_scale", "1 to 1", "0")),
    C("singan.sample", "generator a seed", lambda: singan.sample(tiny_singan(2), generator=0),
      ("generator", "torch.Generator", "int")),
    C("singan.reconstruct", "the model's name", lambda: singan.reconstruct("model"), ("model", "SinGAN", "str")),
    C("singan.reconstruct", "end_scale negative", lambda: singan.reconstruct(tiny_singan(2), -1),
      ("end_scale", "0 to 1", "-1")),
    C("singan.paint_to_image", "an untrained model", lambda: singan.paint_to_image(tiny_singan(), photos(1, 33)[0]),
      ("trained", "at least 2")),
    C("singan.paint_to_image", "a batch of paints", lambda: singan.paint_to_image(tiny_singan(2), photos(1, 33)),
      ("paint", "(3, H, W)", "(1, 3, 33, 33)")),
    C("singan.paint_to_image", "paint 0..255", lambda: singan.paint_to_image(tiny_singan(2), photos(1, 33)[0] * 255),
      ("paint", "[-1, 1]", "255")),
    C("singan.harmonize", "a mask of 2", lambda: singan.harmonize(tiny_singan(2), photos(1, 33)[0],
                                                                  torch.full((33, 33), 2.0)), ("mask", "[0, 1]", "2")),
    C("singan.harmonize", "a mask of another size",
      lambda: singan.harmonize(tiny_singan(2), photos(1, 33)[0], torch.ones(25, 25)), ("mask", "(33, 33)", "(25, 25)")),
    C("singan.harmonize", "a model's name", lambda: singan.harmonize("model", photos(1, 33)[0], torch.ones(33, 33)),
      ("model", "SinGAN", "str")),
    C("singan.patch_fid", "patch_size 0", lambda: singan.patch_fid(photos(), photos(), patch_size=0),
      ("patch_size", "positive", "0")),
    C("singan.patch_fid", "images smaller than a patch", lambda: singan.patch_fid(photos(), photos(1, 4)),
      ("fake", "patch_size=7", "(4, 4)")),
    C("singan.patch_fid", "grey against colour", lambda: singan.patch_fid(photos(), digits(1, side=16)),
      ("real", "fake", "channels", "3", "1")),
    C("singan.patch_fid", "pixels 0..255", lambda: singan.patch_fid(photos() * 127.5 + 127.5, photos()),
      ("real", "[-1, 1]", "255")),
]


def _training_cases() -> list[Case]:
    """The training machinery: train, loop, checkpoint, amp, recipes, image_recipes, progressive_train, singan_train,
    cli."""
    from ganlab import amp, checkpoint, image_recipes, lapgan_train, loop, progressive_train, recipes, singan_train

    cpu = torch.device("cpu")
    nonsat = losses.get_loss("nonsaturating")
    return [
        # ---- train
        C("train.TrainConfig", "an unknown loss", lambda: tiny_config(loss="huber"),
          ("loss", "'huber'", "nonsaturating")),
        C("train.TrainConfig", "steps 0", lambda: tiny_config(steps=0), ("steps", "positive", "0")),
        C("train.TrainConfig", "n_critic fractional", lambda: tiny_config(n_critic=1.5), ("n_critic", "1.5")),
        C("train.TrainConfig", "lr_decay 2", lambda: tiny_config(lr_decay=2.0), ("lr_decay", "between 0 and 1", "2.0")),
        C("train.TrainConfig", "lr_g a string", lambda: tiny_config(lr_g="1e-3"), ("lr_g", "str")),
        C("train.TrainConfig", "beta1 1.5", lambda: tiny_config(beta1=1.5), ("beta1", "[0, 1)", "1.5")),
        C("train.TrainConfig", "checkpoint_every negative", lambda: tiny_config(checkpoint_every=-1),
          ("checkpoint_every", "-1")),
        C("train.TrainConfig.lr_factor", "step a string", lambda: tiny_config(lr_decay=0.5).lr_factor("3"), ("step",)),
        C("train.d_step", "z of the wrong width",
          lambda: ganlab.d_step(mlp_g(), mlp_d(), torch.zeros(4, 2), torch.zeros(4, 3), opt(mlp_d()), nonsat),
          ("z", "(N, 2)", "(4, 3)")),
        C("train.d_step", "real a list",
          lambda: ganlab.d_step(mlp_g(), mlp_d(), [[0.0, 0.0]], torch.zeros(1, 2), opt(mlp_d()), nonsat),
          ("real", "torch.Tensor", "list")),
        C("train.d_step", "real of another shape than G's fakes",
          lambda: ganlab.d_step(mlp_g(), nets.MLPDiscriminator(in_dim=3, width=8, depth=2), torch.zeros(4, 3),
                                torch.zeros(4, 2), opt(mlp_d()), nonsat), ("real", "(4, 3)", "(4, 2)")),
        C("train.d_step", "the loss's name instead of a GANLoss",
          lambda: ganlab.d_step(mlp_g(), mlp_d(), torch.zeros(4, 2), torch.zeros(4, 2), opt(mlp_d()), "nonsaturating"),
          ("loss", "GANLoss", "str")),
        C("train.g_step", "z of the wrong width",
          lambda: ganlab.g_step(mlp_g(), mlp_d(), torch.zeros(4, 5), opt(mlp_g()), nonsat), ("z", "(N, 2)", "(4, 5)")),
        C("train.g_step", "the loss's name instead of a GANLoss",
          lambda: ganlab.g_step(mlp_g(), mlp_d(), torch.zeros(4, 2), opt(mlp_g()), "nonsaturating"),
          ("loss", "GANLoss", "str")),
        C("train.g_step", "opt_g None", lambda: ganlab.g_step(mlp_g(), mlp_d(), torch.zeros(4, 2), None, nonsat),
          ("opt_g", "NoneType")),
        C("train.feature_matching_g_step", "a D without features",
          lambda: ganlab.train.feature_matching_g_step(dc_g(), nn.Linear(784, 1), digits(2), torch.zeros(2, 8),
                                                       opt(dc_g())), ("features", "Linear")),
        C("train.feature_matching_g_step", "real a list",
          lambda: ganlab.train.feature_matching_g_step(dc_g(), dc_d(), digits(2).tolist(), torch.zeros(2, 8),
                                                       opt(dc_g())), ("real", "Tensor", "list")),
        C("train.acgan_d_step", "a projection D (no class head)",
          lambda: ganlab.train.acgan_d_step(cond_g(), proj_d(), digits(2), ints(2), torch.zeros(2, 8), opt(proj_d()),
                                            nonsat), ("class head", "ProjectionDiscriminator")),
        C("train.acgan_d_step", "labels out of range",
          lambda: ganlab.train.acgan_d_step(cond_g(), acgan_d(), digits(2), torch.tensor([0, 10]), torch.zeros(2, 8),
                                            opt(acgan_d()), nonsat), ("y", "[0, 10)", "10")),
        C("train.acgan_d_step", "a loss with a penalty",
          lambda: ganlab.train.acgan_d_step(cond_g(), acgan_d(), digits(2), ints(2), torch.zeros(2, 8),
                                            opt(acgan_d()), losses.get_loss("wgan-gp")), ("penalty", "'wgan-gp'")),
        C("train.acgan_g_step", "labels of the wrong length",
          lambda: ganlab.train.acgan_g_step(cond_g(), acgan_d(), torch.zeros(2, 8), ints(3), opt(cond_g()), nonsat),
          ("y", "(2,)", "(3,)")),
        C("train.acgan_d_step", "classify_fakes a string",
          lambda: ganlab.train.acgan_d_step(cond_g(), acgan_d(), digits(2), ints(2), torch.zeros(2, 8),
                                            opt(acgan_d()), nonsat, classify_fakes="no"), ("classify_fakes", "'no'")),
        C("train.acgan_g_step", "weight negative",
          lambda: ganlab.train.acgan_g_step(cond_g(), acgan_d(), torch.zeros(2, 8), ints(2), opt(cond_g()), nonsat,
                                            weight=-1.0), ("weight", "non-negative", "-1.0")),
        C("train.TrainConfig", "classifier_weight negative", lambda: tiny_config(classifier_weight=-1.0),
          ("classifier_weight", "-1.0")),
        C("train.TrainConfig", "feature matching and an AC-GAN at once",
          lambda: tiny_config(feature_matching=True, classifier_weight=1.0),
          ("feature_matching", "classifier_weight")),
        C("train.make_optimizers", "config a dict", lambda: ganlab.make_optimizers(mlp_g(), mlp_d(), {"lr_g": 1e-3}),
          ("config", "TrainConfig", "dict")),
        C("train.ema_of", "decay 1", lambda: ganlab.ema_of(mlp_g(), decay=1.0), ("decay", "(0, 1)", "1.0")),
        C("train.ema_of", "G a string", lambda: ganlab.ema_of("G"), ("G", "str")),
        C("train.fit", "data a list", lambda: ganlab.fit(mlp_g(), mlp_d(), [[0.0, 0.0]], tiny_config()),
          ("data", "tensor")),
        C("train.fit", "no examples", lambda: ganlab.fit(mlp_g(), mlp_d(), torch.zeros(0, 2), tiny_config()),
          ("data", "non-empty")),
        C("train.fit", "labels of another length", lambda: ganlab.fit(cond_g(), proj_d(), (digits(4), ints(3)),
                                                                      tiny_config()),
          ("labels", "(4,)", "(3,)")),
        C("train.fit", "NaN in the data", lambda: ganlab.fit(mlp_g(), mlp_d(), with_nan(torch.zeros(8, 2)),
                                                             tiny_config()),
          ("data", "NaN")),
        C("train.fit", "config a dict", lambda: ganlab.fit(mlp_g(), mlp_d(), torch.zeros(8, 2), {"steps": 2}),
          ("config", "TrainConfig", "dict")),
        C("train.fit", "loss a name",
          lambda: ganlab.fit(mlp_g(), mlp_d(), torch.zeros(8, 2), tiny_config(), loss="hinge"),
          ("loss", "GANLoss", "str")),
        # ---- loop
        C("loop.run_steps", "steps 0", lambda: loop.run_steps(lambda step: {}, steps=0, state={}),
          ("steps", "positive")),
        C("loop.run_steps", "log_every 0", lambda: loop.run_steps(lambda step: {}, steps=1, state={}, log_every=0),
          ("log_every", "positive")),
        C("loop.run_steps", "step_fn not callable", lambda: loop.run_steps(None, steps=1, state={}, progress=False),
          ("step_fn", "NoneType")),
        C("loop.run_steps", "state a list", lambda: loop.run_steps(lambda step: {}, steps=1, state=[mlp_g()]),
          ("state", "dict", "list")),
        C("loop.History.append", "values a list", lambda: loop.History().append([1.0]), ("values", "dict", "list")),
        # ---- checkpoint
        C("checkpoint.save_checkpoint", "step negative", lambda: checkpoint.save_checkpoint("ck.pt", step=-1),
          ("step", "non-negative", "-1")),
        C("checkpoint.save_checkpoint", "a string to save", lambda: checkpoint.save_checkpoint("ck.pt", step=1, G="G"),
          ("G", "str")),
        C("checkpoint.read_checkpoint", "no file", lambda: checkpoint.read_checkpoint("missing.pt"),
          ("no checkpoint", "missing.pt"), raises=(checkpoint.CheckpointError,)),
        C("checkpoint.read_checkpoint", "a corrupted file", lambda: checkpoint.read_checkpoint(garbage()),
          ("garbage.pt", "corrupted"), raises=(checkpoint.CheckpointError,)),
        C("checkpoint.check_same_run", "saved None", lambda: checkpoint.check_same_run("ck.pt", None, {}),
          ("saved", "dict", "NoneType")),
        C("checkpoint.load_checkpoint", "no file", lambda: checkpoint.load_checkpoint("missing.pt", G=mlp_g()),
          ("no checkpoint", "missing.pt"), raises=(checkpoint.CheckpointError,)),
        C("checkpoint.load_checkpoint", "a G of another width",
          lambda: checkpoint.load_checkpoint(saved_checkpoint(), G=nets.MLPGenerator(width=16, depth=2)),
          ("another shape", "G"), raises=(checkpoint.CheckpointError,)),
        C("checkpoint.load_checkpoint", "G a string", lambda: checkpoint.load_checkpoint(saved_checkpoint(), G="G"),
          ("G", "str")),
        C("checkpoint.restore", "payload None", lambda: checkpoint.restore(None, "ck.pt", G=mlp_g()),
          ("payload", "NoneType")),
        C("checkpoint.CheckpointWriteError.save", "path None",
          lambda: checkpoint.CheckpointWriteError("failed", {"step": 1}).save(None), ("path", "NoneType")),
        # ---- amp
        C("amp.amp_dtype", "a number instead of a device", lambda: amp.amp_dtype(3), ("device", "int")),
        C("amp.Precision", "an unknown device", lambda: amp.Precision("gpu"), ("device", "'gpu'")),
        C("amp.Precision", "enabled a string (was truthy: on)", lambda: amp.Precision(cpu, enabled="no"),
          ("enabled", "'no'")),
        C("amp.Precision.backward_and_step", "a loss that is not a scalar",
          lambda: amp.Precision(cpu).backward_and_step(mlp_d()(torch.zeros(3, 2)), opt(mlp_d())),
          ("loss", "(3,)")),
        C("amp.Precision.load_state_dict", "state a string", lambda: amp.Precision(cpu).load_state_dict("scaler"),
          ("state", "dict", "str")),
        # ---- recipes
        C("recipes.Toy2DConfig", "an unknown dataset", lambda: recipes.Toy2DConfig(dataset="spiral"),
          ("dataset", "'spiral'", "ring")),
        C("recipes.Toy2DConfig", "an unknown loss", lambda: recipes.Toy2DConfig(loss="huber"), ("loss", "'huber'")),
        C("recipes.Toy2DConfig", "a penalty weight for a loss without one",
          lambda: recipes.Toy2DConfig(loss="hinge", penalty_weight=1.0), ("'hinge'", "no penalty")),
        C("recipes.Toy2DConfig", "width 0", lambda: recipes.Toy2DConfig(width=0), ("width", "positive")),
        C("recipes.Toy2DConfig", "steps 0", lambda: recipes.Toy2DConfig(steps=0), ("steps", "positive")),
        C("recipes.Toy2DConfig.train_config", "progress a string (was truthy: a bar)",
          lambda: recipes.Toy2DConfig().train_config(progress="no"), ("progress", "'no'")),
        C("recipes.run_identity", "config a dict", lambda: recipes.run_identity("toy2d", {"steps": 1}),
          ("config", "dict")),
        C("recipes.write_metrics", "out None", lambda: recipes.write_metrics(None, {}), ("out", "NoneType")),
        C("recipes.train_in_folder", "train not callable",
          lambda: recipes.train_in_folder(Path("."), recipes.Toy2DConfig(), None), ("train", "NoneType")),
        C("recipes.nothing_to_do", "history a dict", lambda: recipes.nothing_to_do(Path("."), {"step": [1]}, 1),
          ("history", "History", "dict")),
        C("recipes.default_toy2d", "an unknown field", lambda: recipes.default_toy2d(stepz=3), ("stepz", "steps")),
        C("recipes.train_toy2d", "config a dict", lambda: recipes.train_toy2d({"steps": 2}), ("config", "dict")),
        C("recipes.cpu_threads", "n negative", lambda: recipes.cpu_threads(-1).__enter__(),
          ("n", "non-negative", "-1")),
        C("recipes.cpu_threads", "n a string", lambda: recipes.cpu_threads("2").__enter__(), ("n", "integer", "str")),
        # ---- image_recipes
        C("image_recipes.DCGANConfig", "width 0", lambda: image_recipes.DCGANConfig(width=0), ("width", "positive")),
        C("image_recipes.DCGANConfig", "image_size 64", lambda: image_recipes.DCGANConfig(image_size=64),
          ("image_size", "[28, 32]", "64")),
        C("image_recipes.DCGANConfig", "ema 1", lambda: image_recipes.DCGANConfig(ema=1.0), ("ema", "(0, 1)", "1.0")),
        C("image_recipes.DCGANConfig", "an unknown loss", lambda: image_recipes.DCGANConfig(loss="wgan_gp"),
          ("loss", "'wgan_gp'")),
        C("image_recipes.DCGANConfig", "batch_size 0", lambda: image_recipes.DCGANConfig(batch_size=0),
          ("batch_size", "positive")),
        C("image_recipes.DCGANConfig", "threads negative", lambda: image_recipes.DCGANConfig(threads=-1),
          ("threads", "non-negative")),
        C("image_recipes.DCGANConfig.train_config", "progress a string (was truthy: a bar)",
          lambda: image_recipes.DCGANConfig().train_config(progress="no"), ("progress", "'no'")),
        C("image_recipes.default_dcgan", "an unknown field", lambda: image_recipes.default_dcgan(widht=8),
          ("widht", "width")),
        C("lapgan_train.LAPGANConfig", "one number of steps", lambda: lapgan_train.LAPGANConfig(steps=1500),
          ("steps", "3 numbers", "1500")),
        C("lapgan_train.LAPGANConfig", "levels 4", lambda: lapgan_train.LAPGANConfig(levels=4), ("levels", "4")),
        C("lapgan_train.LAPGANConfig.level_steps", "level 3", lambda: lapgan_train.LAPGANConfig().level_steps(3),
          ("level", "0 to 2", "3")),
        C("lapgan_train.LAPGANConfig.run_identity", "level a string",
          lambda: lapgan_train.LAPGANConfig().run_identity("0"), ("level", "str")),
        C("lapgan_train.default_lapgan", "an unknown field", lambda: lapgan_train.default_lapgan(stages=3),
          ("LAPGANConfig", "stages")),
        C("lapgan_train.build_levels", "config a dict", lambda: lapgan_train.build_levels({}), ("config", "dict")),
        C("lapgan_train.generate_digits", "n 0",
          lambda: lapgan_train.generate_digits([lapgan.CoarseGenerator(8, 1, 8)], 0), ("n", "0")),
        C("lapgan_train.train_lapgan", "config None", lambda: lapgan_train.train_lapgan(None), ("config", "NoneType")),
        C("lapgan_train.load_or_train_lapgan", "config a dict", lambda: lapgan_train.load_or_train_lapgan({}),
          ("config", "dict")),
        C("progressive_train.load_or_train_progressive", "config None",
          lambda: progressive_train.load_or_train_progressive(None), ("config", "ProgressiveConfig", "NoneType")),
        C("singan_train.load_or_train_singan", "config a string", lambda: singan_train.load_or_train_singan("china"),
          ("config", "SinGANConfig", "str")),
        C("recipes.stopped_early", "config a dict",
          lambda: recipes.stopped_early(Path("."), loop.History(), {"steps": 1}), ("config", "dict")),
        C("recipes.holds_same_run", "config a dict",
          lambda: recipes.holds_same_run(Path("nowhere.pt"), "toy2d", {"steps": 1}), ("config", "dict")),
        C("recipes.finished_metrics", "out None", lambda: recipes.finished_metrics(None, recipes.Toy2DConfig()),
          ("out", "NoneType")),
        C("recipes.finished_metrics", "config a dict", lambda: recipes.finished_metrics(Path("."), {"steps": 1}),
          ("config", "dict")),
        C("image_recipes.DCGANConfig", "an unknown generator", lambda: image_recipes.DCGANConfig(generator="stylegan"),
          ("generator", "'stylegan'", "style")),
        C("image_recipes.DCGANConfig", "a style G for the cGAN",
          lambda: image_recipes.DCGANConfig(generator="style", conditional=True), ("style", "unconditional")),
        C("image_recipes.DCGANConfig", "train_digits 5000", lambda: image_recipes.DCGANConfig(train_digits=5000),
          ("train_digits", "4000", "5000")),
        C("image_recipes.DCGANConfig", "an unknown conditional D",
          lambda: image_recipes.DCGANConfig(conditional=True, conditional_d="aux"), ("conditional_d", "'aux'", "acgan")),
        C("image_recipes.DCGANConfig", "an AC-GAN D without conditional",
          lambda: image_recipes.DCGANConfig(conditional_d="acgan"), ("conditional_d", "conditional")),
        C("image_recipes.DCGANConfig", "an unknown augmentation", lambda: image_recipes.DCGANConfig(augment="flip"),
          ("'flip'", "translation")),
        C("image_recipes.DCGANConfig", "label smoothing with the hinge loss",
          lambda: image_recipes.DCGANConfig(loss="hinge", real_label=0.9), ("hinge", "nonsaturating")),
        C("image_recipes.DCGANConfig", "feature matching in the cGAN",
          lambda: image_recipes.DCGANConfig(conditional=True, feature_matching=True), ("feature_matching",
                                                                                     "conditional")),
        C("image_recipes.DCGANConfig", "feature matching with augmentation",
          lambda: image_recipes.DCGANConfig(feature_matching=True, augment="cutout"), ("feature_matching", "augment")),
        C("image_recipes.DCGANConfig.gan_loss", "real_label set to a string after construction",
          lambda: changed(image_recipes.DCGANConfig(), real_label="x").gan_loss(), ("real_label", "str")),
        C("image_recipes.discriminator_logits", "n above the training digits",
          lambda: image_recipes.discriminator_logits(dc_d(), image_recipes.DCGANConfig(train_digits=100), n=200),
          ("n", "100", "200")),
        C("image_recipes.discriminator_logits", "D a string",
          lambda: image_recipes.discriminator_logits("D", image_recipes.DCGANConfig()), ("D", "str")),
        C("image_recipes.build_players", "config a dict", lambda: image_recipes.build_players({"width": 8}),
          ("config", "dict")),
        C("image_recipes.pad_digits", "image_size 64", lambda: image_recipes.pad_digits(digits(2), 64),
          ("image_size", "64")),
        C("image_recipes.pad_digits", "no channel axis", lambda: image_recipes.pad_digits(digits(2)[:, 0]),
          ("x", "(N, C, 28, 28)", "(2, 28, 28)")),
        C("image_recipes.pad_digits", "x a list", lambda: image_recipes.pad_digits(digits(1).tolist()),
          ("x", "torch.Tensor", "list")),
        C("image_recipes.training_digits", "image_size 64", lambda: image_recipes.training_digits(image_size=64),
          ("image_size", "64")),
        C("image_recipes.generate", "z of the wrong width", lambda: image_recipes.generate(dc_g(), torch.zeros(2, 5)),
          ("z", "(N, 8)", "(2, 5)")),
        C("image_recipes.generate", "batch_size 0", lambda: image_recipes.generate(dc_g(), torch.zeros(2, 8),
                                                                                   batch_size=0),
          ("batch_size", "positive")),
        C("image_recipes.generate", "z a list", lambda: image_recipes.generate(dc_g(), [[0.0] * 8]),
          ("z", "torch.Tensor", "list")),
        C("image_recipes.real_reference", "n 0", lambda: image_recipes.real_reference(0, False), ("n", "positive")),
        C("image_recipes.evaluate_generator_images", "config a dict",
          lambda: image_recipes.evaluate_generator_images(dc_g(), {"seed": 0}), ("config", "dict")),
        C("image_recipes.train_dcgan", "config a dict", lambda: image_recipes.train_dcgan({"steps": 2}),
          ("config", "dict")),
        C("image_recipes.load_or_train_dcgan", "config a dict", lambda: image_recipes.load_or_train_dcgan({"steps": 2}),
          ("config", "dict")),
        # ---- progressive_train
        C("progressive_train.ProgressiveConfig", "stages 4 (there are 3)",
          lambda: progressive_train.ProgressiveConfig(stages=4), ("stages", "1 to 3", "4")),
        C("progressive_train.ProgressiveConfig", "an unknown loss", lambda: progressive_train.ProgressiveConfig(
            loss="wgan_gp"), ("loss", "'wgan_gp'", "wgan-gp-drift")),
        C("progressive_train.ProgressiveConfig", "fade_steps negative",
          lambda: progressive_train.ProgressiveConfig(fade_steps=-1), ("fade_steps", "non-negative", "-1")),
        C("progressive_train.ProgressiveConfig", "eval_samples 4", lambda: progressive_train.ProgressiveConfig(
            eval_samples=4), ("eval_samples", ">= 8", "4")),
        C("progressive_train.ProgressiveConfig", "reset_adam a string (was truthy: on)",
          lambda: progressive_train.ProgressiveConfig(reset_adam="no"), ("reset_adam", "'no'")),
        C("progressive_train.ProgressiveConfig.stage_steps", "stage 3",
          lambda: progressive_train.ProgressiveConfig().stage_steps(3), ("stage", "0 to 2", "3")),
        C("progressive_train.ProgressiveConfig.alpha", "step 0 (steps count from 1)",
          lambda: progressive_train.ProgressiveConfig(stable_steps=2, fade_steps=3).alpha(1, 0),
          ("step", "1 to 5", "0")),
        C("progressive_train.ProgressiveConfig.alpha", "step past the stage",
          lambda: progressive_train.ProgressiveConfig(stable_steps=2, fade_steps=3).alpha(0, 3),
          ("step", "1 to 2", "3")),
        C("progressive_train.d_loss_wasserstein_drift", "real_out a list",
          lambda: progressive_train.d_loss_wasserstein_drift([0.1], torch.zeros(1)), ("real_out", "Tensor", "list")),
        C("progressive_train.d_loss_wasserstein_drift", "integer fake_out",
          lambda: progressive_train.d_loss_wasserstein_drift(torch.zeros(2), ints(2)),
          ("fake_out", "floating-point", "torch.int64")),
        C("progressive_train.default_progressive", "an unknown field",
          lambda: progressive_train.default_progressive(steps=3), ("steps", "stable_steps")),
        C("progressive_train.build_players", "config a dict", lambda: progressive_train.build_players({}),
          ("config", "ProgressiveConfig", "dict")),
        C("progressive_train.generate_digits", "a G that does not grow",
          lambda: progressive_train.generate_digits(nn.Linear(2, 2), torch.zeros(2, 2)),
          ("G", "ProgressiveGenerator", "Linear")),
        C("progressive_train.real_batches", "28 px digits (D reads 32 px)",
          lambda: progressive_train.real_batches(digits(2), torch.Generator()), ("digits", "(N, C, 32, 32)",
                                                                                  "(2, 1, 28, 28)")),
        C("progressive_train.real_batches", "a seed instead of a generator",
          lambda: progressive_train.real_batches(digits(2, side=32), 0), ("generator", "torch.Generator", "int")),
        C("progressive_train.train_progressive", "config a string",
          lambda: progressive_train.train_progressive("config"), ("config", "ProgressiveConfig", "str")),
        C("progressive_train.train_progressive", "resume a string (was truthy: a resume)",
          lambda: progressive_train.train_progressive(progressive_train.ProgressiveConfig(), resume="no"),
          ("resume", "'no'")),
        # ---- singan_train
        C("singan_train.SinGANConfig", "an unknown image", lambda: singan_train.SinGANConfig(image="lena"),
          ("natural image", "'lena'", "china")),
        C("singan_train.SinGANConfig", "iterations 0", lambda: singan_train.SinGANConfig(iterations=0),
          ("iterations", "positive", "0")),
        C("singan_train.SinGANConfig", "max_size below min_size", lambda: singan_train.SinGANConfig(max_size=20),
          ("max_size", "min_size=25", "20")),
        C("singan_train.SinGANConfig", "lr_gamma 0 (training would stop at the drop)",
          lambda: singan_train.SinGANConfig(lr_gamma=0.0), ("lr_gamma", "(0, 1]", "0.0")),
        C("singan_train.SinGANConfig", "gp_weight negative", lambda: singan_train.SinGANConfig(gp_weight=-0.1),
          ("gp_weight", "non-negative", "-0.1")),
        C("singan_train.SinGANConfig", "threads negative", lambda: singan_train.SinGANConfig(threads=-1),
          ("threads", "non-negative", "-1")),
        C("singan_train.default_singan", "an unknown field", lambda: singan_train.default_singan(bogus=1),
          ("bogus", "iterations")),
        C("singan_train.paper_singan", "an unknown field", lambda: singan_train.paper_singan(bogus=1),
          ("bogus", "iterations")),
        C("singan_train.patch_gradient_penalty", "fake of another size",
          lambda: singan_train.patch_gradient_penalty(patch_d(), photos(), photos(1, 12)),
          ("fake", "(1, 3, 16, 16)", "(1, 3, 12, 12)")),
        C("singan_train.patch_gradient_penalty", "D not callable",
          lambda: singan_train.patch_gradient_penalty(None, photos(), photos()), ("D", "NoneType")),
        C("singan_train.patch_gradient_penalty", "weight negative",
          lambda: singan_train.patch_gradient_penalty(patch_d(), photos(), photos(), weight=-0.1),
          ("weight", "non-negative", "-0.1")),
        C("singan_train.d_step", "D a string",
          lambda: singan_train.d_step(scale_g(), "D", opt(scale_g()), photos(), photos(), photos()), ("D", "str")),
        C("singan_train.d_step", "real a batch of two (one image per scale)",
          lambda: singan_train.d_step(scale_g(), patch_d(), opt(patch_d()), photos(2), photos(2), photos(2)),
          ("real", "(1, C, H, W)", "(2, 3, 16, 16)")),
        C("singan_train.d_step", "opt_d None",
          lambda: singan_train.d_step(scale_g(), patch_d(), None, photos(), photos(), photos()), ("opt_d", "NoneType")),
        C("singan_train.g_step", "alpha negative",
          lambda: singan_train.g_step(scale_g(), patch_d(), opt(scale_g()), photos(), photos(), photos(), photos(),
                                      photos(), alpha=-1.0), ("alpha", "non-negative", "-1.0")),
        C("singan_train.g_step", "prev_rec of another size",
          lambda: singan_train.g_step(scale_g(), patch_d(), opt(scale_g()), photos(), photos(), photos(), photos(),
                                      photos(1, 12)), ("prev_rec", "(1, 3, 16, 16)", "(1, 3, 12, 12)")),
        C("singan_train.noise_amplitude", "real of another size",
          lambda: singan_train.noise_amplitude(photos(), photos(1, 12)), ("real", "(1, 3, 16, 16)", "(1, 3, 12, 12)")),
        C("singan_train.noise_amplitude", "noise_amp negative",
          lambda: singan_train.noise_amplitude(photos(), photos(), noise_amp=-1), ("noise_amp", "non-negative", "-1")),
        C("singan_train.noise_amplitude", "a NaN in upsampled",
          lambda: singan_train.noise_amplitude(with_nan(photos()), photos()), ("upsampled", "NaN")),
        C("singan_train.scale_step", "scale past the pyramid",
          lambda: singan_train.scale_step(tiny_singan(), 2, patch_d(), opt(scale_g()), opt(patch_d()), photos(1, 33),
                                          photos(1, 33), torch.Generator(), singan_train.SinGANConfig()),
          ("scale", "0 to 1", "2")),
        C("singan_train.scale_step", "real of another size than the scale",
          lambda: singan_train.scale_step(tiny_singan(), 1, patch_d(), opt(scale_g()), opt(patch_d()), photos(1, 25),
                                          photos(1, 25), torch.Generator(), singan_train.SinGANConfig()),
          ("real", "(1, 3, 33, 33)", "(1, 3, 25, 25)")),
        C("singan_train.scale_step", "config a dict",
          lambda: singan_train.scale_step(tiny_singan(), 1, patch_d(), opt(scale_g()), opt(patch_d()), photos(1, 33),
                                          photos(1, 33), torch.Generator(), {"iterations": 1}),
          ("config", "SinGANConfig", "dict")),
        C("singan_train.build_singan", "config a string", lambda: singan_train.build_singan("x", [(25, 25)]),
          ("config", "SinGANConfig", "str")),
        C("singan_train.build_singan", "no sizes", lambda: singan_train.build_singan(singan_train.SinGANConfig(), []),
          ("sizes", "non-empty")),
        C("singan_train.train_singan", "config a string", lambda: singan_train.train_singan("config"),
          ("config", "SinGANConfig", "str")),
        C("singan_train.train_singan", "progress a string (was truthy: a bar)",
          lambda: singan_train.train_singan(singan_train.SinGANConfig(), progress="no"), ("progress", "'no'")),
        C("singan_train.load_singan", "out a number", lambda: singan_train.load_singan(3), ("out", "int")),
        C("singan_train.load_singan", "a folder with no checkpoint", lambda: singan_train.load_singan(Path(".")),
          ("no SinGAN checkpoint",), raises=(checkpoint.CheckpointError,)),
        # ---- cli: argparse prints the error and exits with status 2
        C("cli.main", "--steps 0", lambda: cli.main(["train", "toy2d", "--steps", "0"]), ("--steps", "at least 1"),
          raises=(SystemExit,)),
        C("cli.main", "--width -1", lambda: cli.main(["train", "toy2d", "--width", "-1"]), ("--width", "-1"),
          raises=(SystemExit,)),
        C("cli.main", "--lr fast", lambda: cli.main(["train", "dcgan", "--lr", "fast"]), ("--lr", "'fast'"),
          raises=(SystemExit,)),
        C("cli.main", "--latent-dim 0", lambda: cli.main(["train", "cgan", "--latent-dim", "0"]), ("--latent-dim",),
          raises=(SystemExit,)),
        C("cli.main", "an unknown recipe", lambda: cli.main(["train", "gan"]), ("'gan'", "toy2d"),
          raises=(SystemExit,)),
        C("cli.main", "singan --image lena", lambda: cli.main(["train", "singan", "--image", "lena"]),
          ("--image", "'lena'", "china"), raises=(SystemExit,)),
        C("cli.main", "singan --max-size 20 (below the coarsest scale's 25)",
          lambda: cli.main(["train", "singan", "--max-size", "20"]), ("--max-size", "25", "20"), raises=(SystemExit,)),
    ]


CASES += _training_cases()


def sr_g() -> nn.Module:
    return srgan.SRResNet(2, channels=4, blocks=0)


def sr_patches() -> Any:
    """Training patches of one small photograph: coins shrunk to 64 px, 8 px LR patches at x2."""
    return superres.SRPatches(("coins",), scale=2, lr_patch=8, max_size=64)


def _sr_cases() -> list[Case]:
    """Chapter 06: superres, srgan, sr_train and the srresnet and srgan commands."""
    from ganlab import checkpoint, sr_train

    return [
        # ---- superres
        C("superres.crop_to_multiple", "an image smaller than the scale",
          lambda: superres.crop_to_multiple(torch.zeros(3, 2, 8), 4), ("x", "(2, 8)", "scale 4")),
        C("superres.crop_to_multiple", "scale 1", lambda: superres.crop_to_multiple(photos(), 1),
          ("scale", "from 2 to 8", "1")),
        C("superres.degrade", "a size that is not a multiple of the scale (the grids would not line up)",
          lambda: superres.degrade(photos(1, 18), 4), ("hr", "multiples of the scale", "18 x 18", "crop_to_multiple")),
        C("superres.degrade", "a grey (H, W) image", lambda: superres.degrade(torch.zeros(16, 16)),
          ("hr", "(C, H, W) or (N, C, H, W)", "(16, 16)")),
        C("superres.degrade", "a numpy array", lambda: superres.degrade(photos().numpy()), ("hr", "Tensor", "numpy")),
        C("superres.upscale_bicubic", "scale 0", lambda: superres.upscale_bicubic(photos(1, 4), 0),
          ("scale", "2 to 8", "0")),
        C("superres.quantize", "a list", lambda: superres.quantize([0.5]), ("x", "torch.Tensor", "list")),
        C("superres.rgb_to_y", "a grey image", lambda: superres.rgb_to_y(digits(1, side=16)),
          ("x", "(N, 3, H, W)", "(1, 1, 16, 16)")),
        C("superres.psnr_y", "sr of another size than hr", lambda: superres.psnr_y(photos(1, 24), photos(1, 32)),
          ("sr", "(1, 3, 32, 32)", "(1, 3, 24, 24)")),
        C("superres.psnr_y", "images no larger than the cropped borders",
          lambda: superres.psnr_y(photos(1, 8), photos(1, 8)), ("8 x 8", "4 px")),
        C("superres.ssim_y", "images too small for the crop and the SSIM window",
          lambda: superres.ssim_y(photos(1, 16), photos(1, 16)), ("16 x 16", "4 px", "11 x 11")),
        C("superres.ssim_y", "scale negative", lambda: superres.ssim_y(photos(1, 32), photos(1, 32), -1),
          ("scale", "non-negative", "-1")),
        C("superres.held_out_images", "an unknown name", lambda: superres.held_out_images(4, ("lena",)),
          ("natural image", "'lena'", "astronaut")),
        C("superres.held_out_images", "scale 16", lambda: superres.held_out_images(16), ("scale", "2 to 8", "16")),
        C("superres.SRPatches", "a held-out image (would leak into the evaluation)",
          lambda: superres.SRPatches(("chelsea", "coffee")), ("'coffee'", "held out", "TRAIN_IMAGES")),
        C("superres.SRPatches", "names a string", lambda: superres.SRPatches("chelsea"),
          ("names", "tuple", "'chelsea'")),
        C("superres.SRPatches", "max_size below one HR patch", lambda: superres.SRPatches(max_size=64),
          ("max_size", ">= 96", "64")),
        C("superres.SRPatches.sample", "n 0", lambda: sr_patches().sample(0), ("n", "positive", "0")),
        C("superres.SRPatches.sample", "generator a seed", lambda: sr_patches().sample(2, generator=0),
          ("generator", "torch.Generator", "int")),
        C("superres.benchmark_images", "an unknown set", lambda: superres.benchmark_images("Set6"),
          ("benchmark", "'Set6'", "Set5")),
        C("superres.benchmark_images", "download a string (was truthy: a download)",
          lambda: superres.benchmark_images("Set5", root=".", download="no"), ("download", "'no'")),
        C("superres.benchmark_images", "a set that needs a download, offline",
          lambda: superres.benchmark_images("Set5", root=".", download=False),
          ("Set5", "downloads are off", "held_out_images"), raises=(data.DownloadNotAllowed,)),
        C("superres.patch_distance", "fewer fakes than reals",
          lambda: superres.patch_distance([photos(1, 32)[0]] * 2, [photos(1, 32)[0]]), ("real", "fake", "2", "1")),
        C("superres.patch_distance", "patch_size 0",
          lambda: superres.patch_distance([photos(1, 32)[0]], [photos(1, 32)[0]], 0), ("patch_size", "0")),
        C("superres.critic_accuracy", "fewer fakes than reals",
          lambda: superres.critic_accuracy([photos(1, 32)[0]] * 2, [photos(1, 32)[0]]), ("real", "fake", "2", "1")),
        C("superres.critic_accuracy", "patch 8", lambda: superres.critic_accuracy([photos(1, 32)[0]],
                                                                                  [photos(1, 32)[0]], patch=8),
          ("patch", ">= 16", "8")),
        C("superres.critic_accuracy", "images of one patch (no cell left to score)",
          lambda: superres.critic_accuracy([photos(1, 16)[0]], [photos(1, 16)[0]], patch=16, steps=1),
          ("real[0]", "patch", "16")),
        # ---- srgan
        C("srgan.ResidualBlock", "channels 0", lambda: srgan.ResidualBlock(0), ("channels", "positive", "0")),
        C("srgan.ResidualBlock.forward", "x with the wrong channels",
          lambda: srgan.ResidualBlock(4)(torch.zeros(1, 3, 8, 8)), ("x", "(N, 4, H, W)", "(1, 3, 8, 8)")),
        C("srgan.SubPixelUpsample", "factor 1", lambda: srgan.SubPixelUpsample(8, 1), ("factor", ">= 2", "1")),
        C("srgan.SRResNet", "scale 3", lambda: srgan.SRResNet(3), ("scale", "power of 2", "3")),
        C("srgan.SRResNet", "bicubic_skip a string (was truthy: on)", lambda: srgan.SRResNet(bicubic_skip="no"),
          ("bicubic_skip", "'no'")),
        C("srgan.SRResNet.forward", "pixels 0..255", lambda: sr_g()(photos(1, 8) * 127.5 + 127.5),
          ("lr", "[-1, 1]", "255")),
        C("srgan.SRResNet.forward", "grey images", lambda: sr_g()(digits(1, side=8)),
          ("lr", "(N, 3, H, W)", "(1, 1, 8, 8)")),
        C("srgan.SRResNet.super_resolve", "a grey image", lambda: sr_g().super_resolve(digits(1, side=8)),
          ("lr", "(N, 3, H, W)", "(1, 1, 8, 8)")),
        C("srgan.SRResNet.super_resolve", "lr a file name", lambda: sr_g().super_resolve("lr.png"),
          ("lr", "torch.Tensor", "str")),
        C("srgan.SRDiscriminator", "patch 40", lambda: srgan.SRDiscriminator(40), ("patch", "multiple of 16", "40")),
        C("srgan.SRDiscriminator", "stride_kernel 5", lambda: srgan.SRDiscriminator(stride_kernel=5),
          ("stride_kernel", "5", "3")),
        C("srgan.SRDiscriminator.forward", "LR-sized images", lambda: srgan.SRDiscriminator(32, 4, 8)(photos(2, 8)),
          ("x", "(N, 3, 32, 32)", "(2, 3, 8, 8)")),
        C("srgan.imagenet_normalize", "grey images", lambda: srgan.imagenet_normalize(digits(1, side=8)),
          ("x", "(N, 3, H, W)", "(1, 1, 8, 8)")),
        C("srgan.FeatureExtractor", "net a function", lambda: srgan.FeatureExtractor(lambda x: x),
          ("net", "nn.Module", "function")),
        C("srgan.FeatureExtractor", "scale 0", lambda: srgan.FeatureExtractor(nn.Identity(), scale=0),
          ("scale", "positive", "0")),
        C("srgan.FeatureExtractor.forward", "grey images", lambda: srgan.random_features(4, 1)(digits(1, side=8)),
          ("x", "(N, 3, H, W)", "(1, 1, 8, 8)")),
        C("srgan.random_features", "depth 0", lambda: srgan.random_features(depth=0), ("depth", "positive", "0")),
        C("srgan.random_features", "seed negative", lambda: srgan.random_features(seed=-1),
          ("seed", "non-negative", "-1")),
        C("srgan.vgg19_features", "an unknown layer", lambda: srgan.vgg19_features("relu6_1"),
          ("layer", "'relu6_1'", "relu5_4")),
        C("srgan.vgg19_features", "download a string (was truthy: a download)",
          lambda: srgan.vgg19_features(download="no"), ("download", "'no'")),
        C("srgan.content_loss", "hr of another size",
          lambda: srgan.content_loss(srgan.random_features(4, 1), photos(1, 16), photos(1, 8)),
          ("hr", "(1, 3, 16, 16)", "(1, 3, 8, 8)")),
        C("srgan.interpolate_networks", "networks of other widths",
          lambda: srgan.interpolate_networks(sr_g(), srgan.SRResNet(2, 8, 0), 0.5), ("a", "b", "same architecture")),
        C("srgan.interpolate_networks", "alpha 1.5", lambda: srgan.interpolate_networks(sr_g(), sr_g(), 1.5),
          ("alpha", "1.5")),
        C("srgan.interpolate_networks", "b a state dict",
          lambda: srgan.interpolate_networks(sr_g(), sr_g().state_dict(), 0.5), ("b", "network", "OrderedDict")),
        # ---- sr_train
        C("sr_train.SRResNetConfig", "scale 3", lambda: sr_train.SRResNetConfig(scale=3), ("scale", "2, 4 or 8", "3")),
        C("sr_train.SRResNetConfig", "lr_patch 2", lambda: sr_train.SRResNetConfig(lr_patch=2),
          ("lr_patch", ">= 4", "2")),
        C("sr_train.SRResNetConfig", "batch_norm a string (was truthy: on)",
          lambda: sr_train.SRResNetConfig(batch_norm="no"), ("batch_norm", "'no'")),
        C("sr_train.SRGANConfig", "an unknown content loss", lambda: sr_train.SRGANConfig(content="vgg"),
          ("content loss", "'vgg'", "random")),
        C("sr_train.SRGANConfig", "init a number", lambda: sr_train.SRGANConfig(init=3), ("init", "folder", "int")),
        C("sr_train.SRGANConfig", "d_stride_kernel 2", lambda: sr_train.SRGANConfig(d_stride_kernel=2),
          ("d_stride_kernel", "2", "4")),
        C("sr_train.SRGANConfig", "adversarial_weight negative",
          lambda: sr_train.SRGANConfig(adversarial_weight=-1e-3), ("adversarial_weight", "non-negative", "-0.001")),
        C("sr_train.default_srresnet", "an unknown field", lambda: sr_train.default_srresnet(bogus=1),
          ("bogus", "channels")),
        C("sr_train.default_srgan", "a field of the SRResNet", lambda: sr_train.default_srgan(channels=8),
          ("channels", "content")),
        C("sr_train.paper_srresnet", "an unknown field", lambda: sr_train.paper_srresnet(bogus=1), ("bogus", "blocks")),
        C("sr_train.paper_srgan", "an unknown field", lambda: sr_train.paper_srgan(bogus=1), ("bogus", "d_width")),
        C("sr_train.train_srresnet", "config a string", lambda: sr_train.train_srresnet("config"),
          ("config", "SRResNetConfig", "str")),
        C("sr_train.train_srresnet", "resume a string (was truthy: a resume)",
          lambda: sr_train.train_srresnet(sr_train.SRResNetConfig(), resume="no"), ("resume", "'no'")),
        C("sr_train.train_srgan", "an SRResNet config", lambda: sr_train.train_srgan(sr_train.SRResNetConfig()),
          ("config", "SRGANConfig", "SRResNetConfig")),
        C("sr_train.train_srgan", "an init folder with no run",
          lambda: sr_train.train_srgan(sr_train.SRGANConfig(init="nowhere")), ("nowhere", "ganlab train srresnet"),
          raises=(FileNotFoundError,)),
        C("sr_train.load_srresnet", "out a number", lambda: sr_train.load_srresnet(3), ("out", "int")),
        C("sr_train.load_srresnet", "a folder with no checkpoint", lambda: sr_train.load_srresnet(Path(".")),
          ("no SRResNet checkpoint",), raises=(checkpoint.CheckpointError,)),
        C("sr_train.load_or_train_srresnet", "config a dict", lambda: sr_train.load_or_train_srresnet({}),
          ("config", "SRResNetConfig", "dict")),
        C("sr_train.load_or_train_srgan", "an SRResNet config",
          lambda: sr_train.load_or_train_srgan(sr_train.SRResNetConfig()), ("config", "SRGANConfig", "SRResNetConfig")),
        C("sr_train.evaluate_sr", "an unknown image", lambda: sr_train.evaluate_sr(None, names=("lena",)),
          ("natural image", "'lena'")),
        C("sr_train.evaluate_sr", "G the name of a model", lambda: sr_train.evaluate_sr("srresnet"), ("G", "str")),
        # ---- cli
        C("cli.main", "srresnet --blocks -1", lambda: cli.main(["train", "srresnet", "--blocks", "-1"]),
          ("--blocks", "at least 0", "-1"), raises=(SystemExit,)),
        C("cli.main", "srgan --content vgg", lambda: cli.main(["train", "srgan", "--content", "vgg"]),
          ("--content", "'vgg'", "random"), raises=(SystemExit,)),
    ]


CASES += _sr_cases()


def vae_model(decoder: str = "bernoulli") -> nn.Module:
    return vae.ConvVAE(latent_dim=4, width=4, decoder=decoder)


def _vae_cases() -> list[Case]:
    """Chapter 07: the VAE (ganlab.vae)."""
    return [
        C("vae.to_unit", "a list", lambda: vae.to_unit([0.5]), ("x", "torch.Tensor", "list")),
        C("vae.to_unit", "pixels 0..255 (would be 'grey levels' up to 128)", lambda: vae.to_unit(digits(2, 0, 255)),
          ("x", "[-1, 1]")),
        C("vae.ConvVAE", "latent_dim 0", lambda: vae.ConvVAE(latent_dim=0), ("latent_dim", "positive", "0")),
        C("vae.ConvVAE", "width a string", lambda: vae.ConvVAE(width="8"), ("width", "integer", "str")),
        C("vae.ConvVAE", "an unknown decoder", lambda: vae.ConvVAE(decoder="poisson"),
          ("decoder", "'poisson'", "bernoulli")),
        C("vae.ConvVAE", "sigma 0", lambda: vae.ConvVAE(decoder="gaussian", sigma=0.0), ("sigma", "positive", "0.0")),
        C("vae.ConvVAE.encode", "pixels 0..255", lambda: vae_model().encode(digits(2, 0, 255)),
          ("x", "[-1, 1]", "x / 127.5 - 1")),
        C("vae.ConvVAE.encode", "8 px digits", lambda: vae_model().encode(digits(2, side=8)),
          ("x", "(N, 1, 28, 28)", "(2, 1, 8, 8)")),
        C("vae.ConvVAE.encode", "float64 x for float32 weights", lambda: vae_model().encode(digits(2).double()),
          ("x", "torch.float32", "torch.float64")),
        C("vae.ConvVAE.decode", "z of the wrong width", lambda: vae_model().decode(torch.zeros(2, 3)),
          ("z", "(N, 4)", "(2, 3)")),
        C("vae.ConvVAE.decode", "integer z", lambda: vae_model().decode(ints(2, 4)), ("z", "torch.float32", "int64")),
        C("vae.ConvVAE.decode", "float64 z for float32 weights", lambda: vae_model().decode(torch.zeros(2, 4).double()),
          ("z", "torch.float32", "torch.float64")),
        C("vae.ConvVAE.forward", "x a numpy array", lambda: vae_model()(digits(2).numpy()),
          ("x", "torch.Tensor", "numpy")),
        C("vae.ConvVAE.forward", "generator a seed (torch's randn() overloads)",
          lambda: vae_model()(digits(2), generator=0), ("generator must be", "torch.Generator", "int")),
        C("vae.ConvVAE.mean_image", "params a list", lambda: vae_model().mean_image([0.0]),
          ("params", "torch.Tensor", "list")),
        C("vae.ConvVAE.mean_image", "params of codes, not images (was sigmoid of them)",
          lambda: vae_model().mean_image(torch.zeros(2, 4)), ("params", "(N, 1, 28, 28)", "(2, 4)")),
        C("vae.ConvVAE.sample", "n 0", lambda: vae_model().sample(0), ("n", "positive", "0")),
        C("vae.ConvVAE.sample", "n fractional", lambda: vae_model().sample(2.5), ("n", "integer", "float")),
        C("vae.ConvVAE.sample", "generator a seed (torch's randn() overloads)",
          lambda: vae_model().sample(2, generator=0), ("generator must be", "torch.Generator", "int")),
        C("vae.ConvVAE.log_likelihood", "x of another shape (Gaussian decoder)",
          lambda: vae_model("gaussian").log_likelihood(torch.zeros(2, 1, 28, 28), digits(2, side=8)),
          ("x", "(2, 1, 28, 28)", "(2, 1, 8, 8)")),
        C("vae.ConvVAE.log_likelihood", "x of another shape (Bernoulli decoder: the message says target)",
          lambda: vae_model().log_likelihood(torch.zeros(2, 1, 28, 28), digits(2, side=8)),
          ("x", "(2, 1, 28, 28)", "(2, 1, 8, 8)")),
        C("vae.ConvVAE.log_likelihood", "x of 0..255 (was a silent, meaningless likelihood)",
          lambda: vae_model().log_likelihood(torch.zeros(2, 1, 28, 28), digits(2, 0, 255)), ("x", "[-1, 1]")),
        C("vae.reparameterize", "mu one-dimensional", lambda: vae.reparameterize(torch.zeros(4), torch.zeros(4)),
          ("mu", "(N, D)", "(4,)")),
        C("vae.reparameterize", "logvar of another shape",
          lambda: vae.reparameterize(torch.zeros(4, 3), torch.zeros(4, 2)), ("logvar", "(4, 3)", "(4, 2)")),
        C("vae.reparameterize", "generator a seed (torch's randn() overloads)",
          lambda: vae.reparameterize(torch.zeros(4, 3), torch.zeros(4, 3), 0),
          ("generator must be", "torch.Generator", "int")),
        C("vae.gaussian_kl", "mu a list", lambda: vae.gaussian_kl([[0.0]], torch.zeros(1, 1)),
          ("mu", "torch.Tensor", "list")),
        C("vae.gaussian_kl", "logvar of another shape", lambda: vae.gaussian_kl(torch.zeros(4, 3), torch.zeros(3)),
          ("logvar", "(4, 3)", "(3,)")),
        C("vae.active_units", "one image", lambda: vae.active_units(vae_model(), digits(1)), ("x", "at least 2", "1")),
        C("vae.active_units", "threshold negative", lambda: vae.active_units(vae_model(), digits(2), -1.0),
          ("threshold", "non-negative", "-1")),
        C("vae.gradient_samples", "f not a function", lambda: vae.gradient_samples(3.0, 0.0, 1.0, 4),
          ("f", "function", "float")),
        C("vae.gradient_samples", "sigma 0", lambda: vae.gradient_samples(torch.sin, 0.0, 0.0, 4), ("sigma", "0")),
        C("vae.gradient_samples", "f reduces to one number", lambda: vae.gradient_samples(torch.sum, 0.0, 1.0, 4),
          ("f", "one value per z", "(4,)")),
        C("vae.gaussian_kl", "a NaN logvar", lambda: vae.gaussian_kl(torch.zeros(2, 2), with_nan(torch.zeros(2, 2))),
          ("logvar", "NaN")),
        C("vae.bernoulli_log_likelihood", "target of another shape",
          lambda: vae.bernoulli_log_likelihood(torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 8, 8)),
          ("target", "(2, 1, 28, 28)", "(2, 1, 8, 8)")),
        C("vae.bernoulli_log_likelihood", "integer targets",
          lambda: vae.bernoulli_log_likelihood(torch.zeros(2, 4), ints(2, 4)), ("target", "floating-point", "int64")),
        C("vae.bernoulli_log_likelihood", "one-dimensional logits (no image axis to sum over)",
          lambda: vae.bernoulli_log_likelihood(torch.zeros(4), torch.zeros(4)), ("logits", "(N, ...)", "(4,)")),
        C("vae.bernoulli_log_likelihood", "targets in [-1, 1], to_unit forgotten (was a silent number)",
          lambda: vae.bernoulli_log_likelihood(torch.zeros(2, 4), -torch.ones(2, 4)), ("target", "[0, 1]")),
        C("vae.continuous_bernoulli_log_likelihood", "target of another shape",
          lambda: vae.continuous_bernoulli_log_likelihood(torch.zeros(2, 4), torch.zeros(2, 3)),
          ("target", "(2, 4)", "(2, 3)")),
        C("vae.continuous_bernoulli_log_likelihood", "logits a numpy array",
          lambda: vae.continuous_bernoulli_log_likelihood(np.zeros((2, 4)), torch.zeros(2, 4)),
          ("logits", "torch.Tensor", "numpy")),
        C("vae.continuous_bernoulli_log_likelihood", "a target of 2 (validate_args=False: a silent number)",
          lambda: vae.continuous_bernoulli_log_likelihood(torch.zeros(2, 4), torch.full((2, 4), 2.0)),
          ("target", "[0, 1]")),
        C("vae.gaussian_log_likelihood", "sigma 0", lambda: vae.gaussian_log_likelihood(torch.zeros(2, 4),
          torch.zeros(2, 4), 0.0), ("sigma", "positive", "0.0")),
        C("vae.gaussian_log_likelihood", "sigma a string", lambda: vae.gaussian_log_likelihood(torch.zeros(2, 4),
          torch.zeros(2, 4), "0.1"), ("sigma", "number", "str")),
        C("vae.gaussian_log_likelihood", "x of another shape",
          lambda: vae.gaussian_log_likelihood(torch.zeros(2, 4), torch.zeros(4, 2), 0.1), ("x", "(2, 4)", "(4, 2)")),
        C("vae.negative_elbo", "model a state dict", lambda: vae.negative_elbo(vae_model().state_dict(), digits(2)),
          ("model", "a ConvVAE", "OrderedDict")),
        C("vae.negative_elbo", "beta negative", lambda: vae.negative_elbo(vae_model(), digits(2), beta=-1.0),
          ("beta", "non-negative", "-1.0")),
        C("vae.negative_elbo", "free_bits negative", lambda: vae.negative_elbo(vae_model(), digits(2), free_bits=-0.5),
          ("free_bits", "non-negative", "-0.5")),
        C("vae.negative_elbo", "beta NaN", lambda: vae.negative_elbo(vae_model(), digits(2), beta=NAN),
          ("beta", "non-negative", "nan")),
        C("vae.negative_elbo", "x pixels 0..255", lambda: vae.negative_elbo(vae_model(), digits(2, 0, 255)),
          ("x", "[-1, 1]")),
        C("vae.importance_weighted_bound", "k 0", lambda: vae.importance_weighted_bound(vae_model(), digits(2), k=0),
          ("k", "positive", "0")),
        C("vae.importance_weighted_bound", "k fractional",
          lambda: vae.importance_weighted_bound(vae_model(), digits(2), k=2.5), ("k", "integer", "float")),
        C("vae.importance_weighted_bound", "model a generator",
          lambda: vae.importance_weighted_bound(dc_g(), digits(2)), ("model", "a ConvVAE", "DCGANGenerator")),
        C("vae.importance_weighted_bound", "8 px digits",
          lambda: vae.importance_weighted_bound(vae_model(), digits(2, side=8)), ("x", "(N, 1, 28, 28)")),
        C("vae.latent_traversal", "dim past the last", lambda: vae.latent_traversal(vae_model(), torch.zeros(4), 4,
          torch.zeros(3)), ("dim", "from 0 to 3", "4")),
        C("vae.latent_traversal", "dim negative", lambda: vae.latent_traversal(vae_model(), torch.zeros(4), -1,
          torch.zeros(3)), ("dim", "from 0 to 3", "-1")),
        C("vae.latent_traversal", "a batch of codes", lambda: vae.latent_traversal(vae_model(), torch.zeros(2, 4), 0,
          torch.zeros(3)), ("z", "(4,)", "(2, 4)")),
        C("vae.latent_traversal", "values two-dimensional", lambda: vae.latent_traversal(vae_model(), torch.zeros(4), 0,
          torch.zeros(3, 1)), ("values", "(V,)", "(3, 1)")),
        C("vae.latent_traversal", "no values", lambda: vae.latent_traversal(vae_model(), torch.zeros(4), 0,
          torch.zeros(0)), ("values", "empty")),
        C("vae.latent_traversal", "model a string", lambda: vae.latent_traversal("vae", torch.zeros(4), 0,
          torch.zeros(3)), ("model", "a ConvVAE", "str")),
        C("vae.binarize", "pixels 0..255 (all would be white)", lambda: vae.binarize(digits(2, 0, 255)),
          ("x", "[-1, 1]")),
        C("vae.binarize", "generator a seed", lambda: vae.binarize(digits(2), 0), ("generator must be", "int")),
        C("vae.pixel_bernoulli_log_likelihood", "grey held-out digits (was a cross-entropy, not a likelihood)",
          lambda: vae.pixel_bernoulli_log_likelihood(digits(4), digits(2)), ("x", "binary", "vae.binarize")),
        C("vae.pixel_bernoulli_log_likelihood", "x of another size than train",
          lambda: vae.pixel_bernoulli_log_likelihood(digits(4), digits(2, side=8)), ("x", "(N, 1, 28, 28)")),
        C("vae.pixel_bernoulli_log_likelihood", "train of 0..255",
          lambda: vae.pixel_bernoulli_log_likelihood(digits(4, 0, 255), digits(2)), ("train", "[-1, 1]")),
    ]


CASES += _vae_cases()


def _vae_train_cases() -> list[Case]:
    """Chapter 07: the VAE recipe (ganlab.vae_train), and the first checks every recipe shares (recipes.open_run)."""
    from ganlab import checkpoint, recipes, vae_train

    return [
        C("recipes.open_run", "progress a string (was truthy)",
          lambda: recipes.open_run(vae_train.VAEConfig(out="nowhere"), vae_train.VAEConfig, "a VAEConfig", False, "no"),
          ("progress", "'no'")),
        C("recipes.read_run", "a folder with no checkpoint", lambda: recipes.read_run(Path("."), "vae", "a VAE"),
          ("no VAE checkpoint", "ganlab train vae"), raises=(checkpoint.CheckpointError,)),
        C("vae_train.VAEConfig", "an unknown decoder", lambda: vae_train.VAEConfig(decoder="poisson"),
          ("decoder", "'poisson'", "bernoulli")),
        C("vae_train.VAEConfig", "beta negative", lambda: vae_train.VAEConfig(beta=-1.0), ("beta", "non-negative")),
        C("vae_train.VAEConfig", "kl_warmup 2 (a fraction of the run)", lambda: vae_train.VAEConfig(kl_warmup=2.0),
          ("kl_warmup", "2.0")),
        C("vae_train.VAEConfig", "binarize a string (was truthy: on)", lambda: vae_train.VAEConfig(binarize="no"),
          ("binarize", "'no'")),
        C("vae_train.VAEConfig", "adversarial negative", lambda: vae_train.VAEConfig(adversarial=-1.0),
          ("adversarial", "non-negative", "-1.0")),
        C("vae_train.VAEConfig", "lr_d 0", lambda: vae_train.VAEConfig(lr_d=0.0), ("lr_d", "positive", "0.0")),
        C("vae_train.default_vae", "an unknown field", lambda: vae_train.default_vae(bogus=1), ("bogus", "latent_dim")),
        C("vae_train.build_vae", "config a dict", lambda: vae_train.build_vae({}), ("config", "VAEConfig", "dict")),
        C("vae_train.heldout_digits", "binary a string", lambda: vae_train.heldout_digits("no"), ("binary", "'no'")),
        C("vae_train.evaluate_vae", "model a DCGAN generator",
          lambda: vae_train.evaluate_vae(dc_g(), vae_train.VAEConfig()), ("model", "a ConvVAE", "DCGANGenerator")),
        C("vae_train.train_vae", "config a string", lambda: vae_train.train_vae("config"), ("config", "VAEConfig", "str")),
        C("vae_train.train_vae", "resume a string (was truthy: a resume)",
          lambda: vae_train.train_vae(vae_train.VAEConfig(), resume="no"), ("resume", "'no'")),
        C("vae_train.load_vae", "a folder with no checkpoint", lambda: vae_train.load_vae(Path(".")),
          ("no VAE checkpoint",), raises=(checkpoint.CheckpointError,)),
        C("vae_train.load_or_train_vae", "config a dict", lambda: vae_train.load_or_train_vae({}),
          ("config", "VAEConfig", "dict")),
        C("cli.main", "vae --beta -1", lambda: cli.main(["train", "vae", "--beta", "-1"]), ("--beta", "-1"),
          raises=(SystemExit,)),
        C("cli.main", "vae --adversarial -1", lambda: cli.main(["train", "vae", "--adversarial", "-1"]),
          ("--adversarial", "-1"), raises=(SystemExit,)),
    ]


CASES += _vae_train_cases()


def _cyclegan_cases() -> list[Case]:
    """Chapter 08: CycleGAN (ganlab.cyclegan, ganlab.cyclegan_train) and the typeset digits (ganlab.typeset)."""
    from ganlab import checkpoint, cyclegan, cyclegan_train, typeset

    G = lambda: cyclegan.ResNetGenerator(1, 1, 4, 1)  # noqa: E731
    D = lambda: cyclegan.PatchDiscriminator(1, 4, 2)  # noqa: E731
    return [
        C("typeset.render_digit", "digit 10", lambda: typeset.render_digit(10, "DejaVuSans"), ("digit", "10")),
        C("typeset.render_digit", "a font not shipped", lambda: typeset.render_digit(3, "Arial"),
          ("font", "'Arial'", "DejaVuSans")),
        C("typeset.render_digit", "size 40 px (larger than the image)", lambda: typeset.render_digit(3, "cmr10", 40),
          ("size", "40")),
        C("typeset.typeset_digits", "n 0", lambda: typeset.typeset_digits(0), ("n", "positive", "0")),
        C("typeset.typeset_digits", "fonts one string (was split into letters)",
          lambda: typeset.typeset_digits(4, fonts="cmr10"), ("fonts", "tuple", "'cmr10'")),
        C("cyclegan.ResidualBlock", "channels 0", lambda: cyclegan.ResidualBlock(0), ("channels", "positive", "0")),
        C("cyclegan.ResidualBlock.forward", "x of other channels",
          lambda: cyclegan.ResidualBlock(4)(torch.zeros(1, 3, 8, 8)), ("x", "(N, 4, H, W)", "(1, 3, 8, 8)")),
        C("cyclegan.ResidualBlock.forward", "a 1 px map", lambda: cyclegan.ResidualBlock(2)(torch.zeros(1, 2, 1, 1)),
          ("x", "2 x 2", "(1, 1)")),
        C("cyclegan.ResNetGenerator", "blocks -1", lambda: cyclegan.ResNetGenerator(blocks=-1), ("blocks", "-1")),
        C("cyclegan.ResNetGenerator", "width a float", lambda: cyclegan.ResNetGenerator(width=8.0),
          ("width", "integer", "float")),
        C("cyclegan.ResNetGenerator.forward", "30 px digits (not a multiple of 4)", lambda: G()(torch.zeros(1, 1, 30, 30)),
          ("x", "multiple of 4", "(30, 30)")),
        C("cyclegan.ResNetGenerator.forward", "RGB images for a one-channel generator",
          lambda: G()(torch.zeros(1, 3, 28, 28)), ("x", "(N, 1, H, W)", "(1, 3, 28, 28)")),
        C("cyclegan.PatchDiscriminator", "layers 0", lambda: cyclegan.PatchDiscriminator(layers=0), ("layers", "0")),
        C("cyclegan.PatchDiscriminator.forward", "an image without a batch axis",
          lambda: D()(torch.zeros(1, 28, 28)), ("input x", "(N, 1, H, W)", "(1, 28, 28)")),
        C("cyclegan.receptive_field", "a state dict", lambda: cyclegan.receptive_field(D().state_dict()),
          ("module", "nn.Module", "OrderedDict")),
        C("cyclegan.ImagePool", "size -1", lambda: cyclegan.ImagePool(-1), ("size", "-1")),
        C("cyclegan.ImagePool", "generator a seed", lambda: cyclegan.ImagePool(4, 0), ("generator", "int")),
        C("cyclegan.ImagePool.query", "one image without a batch axis",
          lambda: cyclegan.ImagePool(4).query(torch.zeros(1, 8, 8)), ("images", "(N, C, H, W)", "(1, 8, 8)")),
        C("cyclegan.ImagePool.load_state_dict", "a network's state dict",
          lambda: cyclegan.ImagePool(4).load_state_dict(D().state_dict()), ("state", "ImagePool.state_dict")),
        C("cyclegan.linear_decay", "step negative", lambda: cyclegan.linear_decay(-1, 5, 5), ("step", "-1")),
        C("cyclegan.linear_decay", "decay a float", lambda: cyclegan.linear_decay(1, 5, 2.5),
          ("decay", "integer", "float")),
        C("cyclegan.cycle_loss", "images of other sizes",
          lambda: cyclegan.cycle_loss(torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 32, 32)),
          ("original", "(2, 1, 28, 28)", "(2, 1, 32, 32)")),
        C("cyclegan.identity_loss", "a list", lambda: cyclegan.identity_loss([0.0], torch.zeros(1)),
          ("same", "torch.Tensor", "list")),
        C("cyclegan.d_loss", "fake_out a number", lambda: cyclegan.d_loss(torch.zeros(2), 0.0),
          ("fake_out", "torch.Tensor", "float")),
        C("cyclegan.g_loss", "integer outputs", lambda: cyclegan.g_loss(ints(2, 4)),
          ("fake_out", "floating-point", "int64")),
        C("cyclegan_train.CycleGANConfig", "downsamplings 3 (28 px does not divide by 8)",
          lambda: cyclegan_train.CycleGANConfig(downsamplings=3), ("downsamplings", "3")),
        C("cyclegan_train.CycleGANConfig", "eval_images 5000 (1,000 held out per domain)",
          lambda: cyclegan_train.CycleGANConfig(eval_images=5000), ("eval_images", "5000")),
        C("cyclegan_train.CycleGANConfig", "decay 2", lambda: cyclegan_train.CycleGANConfig(decay=2.0),
          ("decay", "2.0")),
        C("cyclegan_train.CycleGANConfig", "lambda_cycle negative",
          lambda: cyclegan_train.CycleGANConfig(lambda_cycle=-10.0), ("lambda_cycle", "non-negative")),
        C("cyclegan_train.default_cyclegan", "an unknown field", lambda: cyclegan_train.default_cyclegan(ngf=64),
          ("ngf", "width")),
        C("cyclegan_train.paper_cyclegan", "an unknown field", lambda: cyclegan_train.paper_cyclegan(ndf=64),
          ("ndf", "d_width")),
        C("cyclegan_train.build_cyclegan", "config a dict", lambda: cyclegan_train.build_cyclegan({}),
          ("config", "CycleGANConfig", "dict")),
        C("cyclegan_train.evaluate_translation", "G a config",
          lambda: cyclegan_train.evaluate_translation(cyclegan_train.CycleGANConfig(), G()), ("G", "CycleGANConfig")),
        C("cyclegan_train.evaluate_translation", "n 2000", lambda: cyclegan_train.evaluate_translation(G(), G(), 2000),
          ("n", "2000")),
        C("cyclegan_train.photo_domains", "a dataset the authors do not host",
          lambda: cyclegan_train.photo_domains("cats2dogs"), ("name", "'cats2dogs'", "horse2zebra")),
        C("cyclegan_train.photo_domains", "split val", lambda: cyclegan_train.photo_domains("horse2zebra", "val"),
          ("split", "'val'", "test")),
        C("cyclegan_train.photo_domains", "offline and not on disk",
          lambda: cyclegan_train.photo_domains("horse2zebra", root="nowhere", download=False),
          ("not in", "downloads are off", "GANLAB_DOWNLOAD=1"), raises=(data.DownloadNotAllowed,)),
        C("cyclegan_train.photo_domains", "download a string (was truthy: a download)",
          lambda: cyclegan_train.photo_domains("horse2zebra", download="no"), ("download", "'no'")),
        C("cyclegan_train.train_cyclegan", "config a string", lambda: cyclegan_train.train_cyclegan("config"),
          ("config", "CycleGANConfig", "str")),
        C("cyclegan_train.load_cyclegan", "a folder with no checkpoint", lambda: cyclegan_train.load_cyclegan(Path(".")),
          ("no CycleGAN checkpoint",), raises=(checkpoint.CheckpointError,)),
        C("cyclegan_train.load_or_train_cyclegan", "config a dict", lambda: cyclegan_train.load_or_train_cyclegan({}),
          ("config", "CycleGANConfig", "dict")),
        C("cli.main", "cyclegan --pool -1", lambda: cli.main(["train", "cyclegan", "--pool", "-1"]), ("--pool", "-1"),
          raises=(SystemExit,)),
    ]


CASES += _cyclegan_cases()

# Public names with no case, and why. Anything else public must have a case above.
NOT_SWEPT: dict[str, str] = {
    "data.DownloadNotAllowed": "an exception class: raised by the library, not called with user input",
    "loop.TrainingDiverged": "an exception class",
    "loop.History": "a dict (its constructor is dict's); its append is swept",
    "checkpoint.CheckpointError": "an exception class",
    "checkpoint.CheckpointWriteError": "an exception class (its .save(path) is swept)",
    "env.in_colab": "takes no argument and reads no switch",
    "env.fast": "any two values are valid: it returns one of them",
    "classifier.heldout_mnist": "takes no argument",
    "convnets.ConditionalBatchNorm2d.reset_parameters": "takes no argument",
    "amp.Precision.autocast": "takes no argument",
    "amp.Precision.state_dict": "takes no argument",
    "train.TrainConfig.run_identity": "takes no argument (the config's fields are swept through TrainConfig)",
    "recipes.Toy2DConfig.gan_loss": "takes no argument (loss and penalty_weight are swept through Toy2DConfig)",
    "augment.DiffAugment.extra_repr": "takes no argument",
    "cli.build_parser": "takes no argument (the options it parses are swept through cli.main)",
    "pyramids.binomial_kernel": "takes no argument",
    "stylegan.StyleGenerator.noise_sizes": "takes no argument",
    "progressive_train.ProgressiveConfig.run_identity": "takes no argument (the config's fields are swept through "
                                                        "ProgressiveConfig)",
    "superres.SRImage": "a frozen record of three fields that held_out_images and benchmark_images fill in; it reads "
                        "nothing",
    "srgan.FeatureExtractor.train": "any mode is accepted and ignored: the features stay in eval mode by design",
    "srgan.FeatureExtractor.extra_repr": "takes no argument",
    "sr_train.SRResNetConfig.generator": "takes no argument (the config's fields are swept through SRResNetConfig)",
    "cyclegan.ImagePool.state_dict": "takes no argument",
    "cyclegan_train.domains": "takes no argument",
    "cyclegan_train.heldout_domains": "takes no argument",
}

# Modules whose public callables the sweep covers, besides ganlab.__all__. Not ganlab.checks (the exercise
# checks have their own tests) nor ganlab.validate (the checks themselves: every case above runs them).
MODULES = ("data", "augment", "nets", "convnets", "losses", "metrics", "image_metrics", "latent", "plot", "classifier", "env",
           "amp", "train", "loop", "checkpoint", "recipes", "image_recipes", "cli", "images", "pyramids", "stylegan",
           "progressive", "progressive_train", "singan", "singan_train", "multiscale", "lapgan", "lapgan_train",
           "superres", "srgan", "sr_train", "vae", "vae_train", "typeset", "cyclegan", "cyclegan_train")


# --------------------------------------------------------------------------- the checks
GANLAB_DIR = Path(ganlab.__file__).resolve().parent


def _raised_in(excinfo: pytest.ExceptionInfo) -> Path:
    """The file of the innermost frame of the traceback: where the error was raised."""
    tb = excinfo.tb
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve()


def _has(message: str, word: str) -> bool:
    """``word`` in ``message``, as a whole word when it is an identifier (so "x" is not found in "expected")."""
    if word.isidentifier():
        return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", message) is not None
    return word in message


def assert_clear_error(case: Case, capsys: pytest.CaptureFixture) -> None:
    """The case raises one of ``case.raises``, from a frame in ganlab, with a message that has all of ``case.words``."""
    with pytest.raises(case.raises) as excinfo:
        case.call()
    if excinfo.errisinstance(SystemExit):  # the CLI: argparse prints the message and exits with status 2
        assert excinfo.value.code == 2, f"exit status {excinfo.value.code}, not 2"
        message = capsys.readouterr().err
    else:
        message = str(excinfo.value)
        where = _raised_in(excinfo)
        assert GANLAB_DIR in where.parents, f"raised in {where}, not at ganlab's boundary:\n{message}"
    missing = [w for w in case.words if not _has(message, w)]
    assert not missing, f"{missing} not in the message:\n{message}"


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(reason=case.pending, strict=True)] if case.pending else []
    return pytest.param(case, id=f"{case.name}: {case.bad}", marks=marks)


@pytest.fixture(autouse=True)
def _in_a_temporary_folder(tmp_path, monkeypatch):
    """Cases that write files (checkpoints, run folders) write them in a fresh folder; figures are closed."""
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    yield
    plt.close("all")


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_bad_input_is_a_clear_error(case: Case, capsys):
    assert_clear_error(case, capsys)


def public_callables() -> set[str]:
    """module.qualname of every public function, class and method of ganlab, by the module that defines it."""
    objects = [getattr(ganlab, name) for name in ganlab.__all__]
    for short in MODULES:
        module = importlib.import_module(f"ganlab.{short}")
        names = getattr(module, "__all__", None) or [
            name for name, obj in vars(module).items() if getattr(obj, "__module__", None) == module.__name__]
        objects += [getattr(module, name) for name in names if not name.startswith("_")]
    found = set()
    for obj in objects:
        home = getattr(obj, "__module__", None) or ""
        if inspect.ismodule(obj) or not callable(obj) or not home.startswith("ganlab.") or home.startswith(
                "ganlab.checks"):
            continue
        where = f"{home.removeprefix('ganlab.')}.{obj.__qualname__}"
        found.add(where)
        if inspect.isclass(obj):
            found |= {f"{where}.{name}" for name, member in vars(obj).items()
                      if not name.startswith("_") and inspect.isfunction(member)}
    return found


def test_the_sweep_is_complete():
    public = public_callables()
    swept = {case.name for case in CASES}
    missing = sorted(public - swept - set(NOT_SWEPT))
    assert not missing, f"public names with no bad-input case (add cases, or a reason in NOT_SWEPT): {missing}"
    stale = sorted((swept | set(NOT_SWEPT)) - public)
    assert not stale, f"cases or NOT_SWEPT entries for names that are not public (renamed? removed?): {stale}"
    both = sorted(swept & set(NOT_SWEPT))
    assert not both, f"names both swept and in NOT_SWEPT: {both}"

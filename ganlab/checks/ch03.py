"""Checks for chapter 03, DCGAN on images: a generator block, the discriminator step on images, and
FID from features. Interpolation between latent codes (Exercises 3-4) is checked in ``ch03_latent``."""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..convnets import DCGANDiscriminator, DCGANGenerator
from ..image_metrics import fid_from_features
from ..losses import d_loss_bce
from .ch01 import _check_returned_loss, _d_change, _d_step_change
from .core import CheckFailed, _Check, _close


# ---------------------------------------------------------------- a generator block (Exercise 1)
def _first(module: nn.Module, kinds: tuple[type, ...]) -> nn.Module | None:
    return next((m for m in module.modules() if isinstance(m, kinds)), None)


_LAYERS = {nn.ConvTranspose2d: "convolution", nn.BatchNorm2d: "BatchNorm", nn.ReLU: "ReLU"}


def _run_in_order(block: nn.Module, x: Tensor) -> tuple[Tensor, list[str]]:
    """block(x) in training mode without gradients, and the kinds of layer it ran, in the order it ran them."""
    order: list[str] = []
    hooks = [m.register_forward_hook(lambda *_, kind=kind: order.append(kind))
             for m in block.modules() for t, kind in _LAYERS.items() if isinstance(m, t)]
    try:
        with torch.no_grad():
            return block(x), order
    finally:
        for hook in hooks:
            hook.remove()


def check_generator_block(fn: Callable[[int, int], nn.Module]) -> None:
    """fn(c_in, c_out) -> ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), BatchNorm2d(c_out), ReLU: (N, c_in, H, W)
    -> (N, c_out, 2H, 2W)."""
    cases = [(8, 4, 5), (6, 3, 7), (16, 8, 4)]
    chk = _Check("check_generator_block", "one upsampling block of the DCGAN generator", fn, len(cases))
    for case, (c_in, c_out, side) in enumerate(cases, 1):
        block = chk.call(case, c_in, c_out, c_in=c_in, c_out=c_out)
        if not isinstance(block, nn.Module):
            chk.fail("It must return an nn.Module (e.g. an nn.Sequential).", diagnosis=f"your function returned a "
                     f"{type(block).__name__}; return nn.Sequential(conv, norm, activation).")
        conv = _first(block, (nn.ConvTranspose2d,))
        if conv is None:
            upsample = _first(block, (nn.Conv2d, nn.Upsample))
            chk.fail("There is no nn.ConvTranspose2d in the block.", diagnosis="DCGAN upsamples with a strided "
                     "TRANSPOSED convolution, nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)"
                     + ("; an nn.Conv2d with stride 2 halves the size instead of doubling it." if upsample else "."))
        x = torch.randn(2, c_in, side, side, generator=torch.Generator().manual_seed(case))
        block.train()
        try:
            out, order = _run_in_order(block, x)
        except Exception as err:  # noqa: BLE001 - reworded below
            chk.fail(f"The block raised {type(err).__name__} on an input of shape {tuple(x.shape)}: {err}",
                     diagnosis="the convolution takes c_in channels in and gives c_out out, and BatchNorm2d gets "
                               "c_out (the channels of ITS input).")
        want = (2, c_out, 2 * side, 2 * side)
        if tuple(out.shape) != want:
            k, s, p = conv.kernel_size[0], conv.stride[0], conv.padding[0]
            if tuple(out.shape[2:]) == (side, side) or s == 1:
                diagnosis = (f"stride {s}: a stride-1 transposed convolution does not upsample. Use stride=2: the "
                             f"output side is (H - 1) * stride - 2 * padding + kernel = (H - 1) * 2 - 2 + 4 = 2H.")
            elif out.shape[1] != c_out:
                diagnosis = "the number of output channels is wrong: ConvTranspose2d(c_in, c_out, ...)."
            else:
                diagnosis = (f"kernel {k}, stride {s}, padding {p} give a side of (H - 1) * {s} - 2 * {p} + {k} = "
                             f"{(side - 1) * s - 2 * p + k}, not 2H = {2 * side}: use kernel 4, stride 2, padding 1 "
                             f"(kernel 3 with padding 1 gives 2H - 1).")
            chk.fail(f"Wrong output shape for an input of shape {tuple(x.shape)}.", want, tuple(out.shape), diagnosis)
        if conv.bias is not None:
            chk.fail("The transposed convolution has a bias.", diagnosis="bias=True before BatchNorm is wasted: "
                     "BatchNorm subtracts the per-channel mean, which removes any constant bias, and adds its own "
                     "shift beta. Write ConvTranspose2d(..., bias=False).")
        norm = _first(block, (nn.BatchNorm2d,))
        if norm is None:
            chk.fail("There is no BatchNorm2d in the block.", diagnosis="missing BatchNorm: DCGAN normalises every "
                     "hidden layer of G (all but the output) with nn.BatchNorm2d(c_out), after the convolution.")
        for bad, why in ((nn.LeakyReLU, "LeakyReLU belongs to the discriminator"),
                         (nn.Tanh, "Tanh belongs only after G's LAST layer, to put the image in [-1, 1]"),
                         (nn.Sigmoid, "Sigmoid is not used in G's hidden layers")):
            if _first(block, (bad,)) is not None:
                chk.fail(f"The block uses {bad.__name__}.", diagnosis=f"a hidden block of G ends in ReLU: {why} "
                         f"(Radford et al. 2015, sec. 3).")
        if {"BatchNorm", "convolution"} <= set(order) and order.index("BatchNorm") < order.index("convolution"):
            chk.fail("BatchNorm runs before the transposed convolution.", diagnosis="the order is convolution, then "
                     "BatchNorm, then ReLU: BatchNorm2d(c_out) normalises the convolution's OUTPUT, channel by channel, "
                     "so that the ReLU sees centred values.")
        if "ReLU" in order and "BatchNorm" in order and order.index("ReLU") < order.index("BatchNorm"):
            chk.fail("ReLU runs before BatchNorm.", diagnosis="the order is convolution, then BatchNorm, then ReLU: "
                     "a ReLU before BatchNorm would be undone by its centring, and the block would emit negative values.")
        k, s, p, op = conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.output_padding[0]
        if (k, s, p, op) != (4, 2, 1, 0) or conv.kernel_size[0] != conv.kernel_size[1]:
            chk.fail(f"The shape is right, but the transposed convolution has kernel {conv.kernel_size}, stride {s}, "
                     f"padding {p}, output_padding {op}.", diagnosis="DCGAN's block is ConvTranspose2d(c_in, c_out, 4, "
                     "2, 1, bias=False): kernel 4, stride 2, padding 1. A kernel that the stride does not divide (kernel "
                     "3 with output_padding=1, say) lets output pixels receive unequal numbers of kernel taps, which "
                     "draws checkerboard artefacts (Odena et al. 2016).")
        if not norm.affine or norm.num_features != c_out:
            chk.fail("The BatchNorm2d is not BatchNorm2d(c_out)." if norm.affine else "The BatchNorm2d has no learnable "
                     "scale and shift (affine=False).", diagnosis="use nn.BatchNorm2d(c_out) with its defaults: its "
                     "learnable scale gamma and shift beta let each layer undo the normalisation where that helps (and "
                     "beta takes the place of the convolution's bias).")
        with torch.no_grad():  # the reference with the block's own weights: ReLU(BN_train(convT(x)))
            y = F.conv_transpose2d(x, conv.weight, None, stride=2, padding=1)
            y = F.batch_norm(y, None, None, norm.weight, norm.bias, training=True, eps=norm.eps)
            expected = F.relu(y)
        if not _close(out, expected, rtol=1e-4, atol=1e-5):
            if _close(out, y, rtol=1e-4, atol=1e-5):
                chk.fail("The values are wrong: negative values come out.", diagnosis="the ReLU is missing at the end "
                         "of the block.")
            chk.fail("The values are not ReLU(BatchNorm(ConvTranspose2d(x))) computed with your block's own weights.",
                     expected, out, f"your block ran {' -> '.join(order)}, in the right order, but something else "
                     "changes the values (an extra layer or operation: Dropout, a second activation, a scaling, a "
                     "residual): a DCGAN block is exactly ConvTranspose2d, BatchNorm2d, ReLU.")
    chk.passed()


# ---------------------------------------------------------------- the discriminator step on images (Exercise 2)
def check_d_step_images(fn: Callable[..., Any]) -> None:
    """fn(G, D, real, z, opt_d): one discriminator update on real images and detached G(z); returns the loss before it.

    The players are a tiny DCGAN at 28 px; D's BatchNorm sees the real batch and the fake batch separately.
    """
    lr, stale, sizes = 0.1, 0.5, [(8, 8), (6, 10)]
    chk = _Check("check_d_step_images", "one discriminator step on images", fn, len(sizes))
    for case, (n_real, n_fake) in enumerate(sizes, 1):
        with torch.random.fork_rng(devices=[]):  # fixed players and batches; the caller's random state is kept
            torch.manual_seed(case)
            G = DCGANGenerator(latent_dim=8, channels=1, width=4, image_size=28)
            D = DCGANDiscriminator(channels=1, width=4, image_size=28)
            real = torch.rand(n_real, 1, 28, 28) * 2 - 1
            z = torch.randn(n_fake, 8)
        G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
        for p in D.parameters():
            p.grad = torch.full_like(p, stale)  # what an earlier backward pass (e.g. G's step) leaves behind
        opt_d = torch.optim.SGD(D.parameters(), lr=lr)
        with torch.no_grad():
            loss_before = d_loss_bce(copy.deepcopy(D0)(real), copy.deepcopy(D0)(copy.deepcopy(G0)(z))).item()
        got = chk.call(case, G, D, real.clone(), z.clone(), opt_d,
                       G="DCGANGenerator(latent_dim=8, channels=1, width=4, image_size=28), train mode",
                       D="DCGANDiscriminator(channels=1, width=4, image_size=28), train mode", real=real, z=z,
                       opt_d=f"SGD(D.parameters(), lr={lr}), D's .grad holding {stale} from an earlier backward pass")
        change = _d_step_change(chk, G, G0, D, D0)
        expected = _d_change(copy.deepcopy(D0), copy.deepcopy(G0), real, z, d_loss_bce, lr)
        if not _close(change, expected, rtol=1e-3, atol=1e-6):
            i = int((change - expected).abs().argmax())

            def variant(loss_fn: Callable, stale_grad: float = 0.0) -> Tensor:
                return _d_change(copy.deepcopy(D0), copy.deepcopy(G0), real, z, loss_fn, lr, stale_grad)

            def joint(D_: nn.Module, G_: nn.Module) -> Tensor:  # real and fake in ONE BatchNorm batch
                logits = D_(torch.cat([real, G_(z).detach()]))
                loss = d_loss_bce(logits[:n_real], logits[n_real:])
                return -lr * torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(D_.parameters()))])

            chk.mismatch(expected, change, [
                ("the gradients of an earlier pass were added: call opt_d.zero_grad() before loss.backward().",
                 variant(d_loss_bce, stale)),
                ("real and fake are swapped in the loss: it is d_loss(D(real), D(fake)), real logits with label 1.",
                 variant(lambda r, f: d_loss_bce(f, r))),
                ("D climbed its loss: minimise d_loss (loss.backward() on the loss itself, not on -loss).",
                 variant(lambda r, f: -d_loss_bce(r, f))),
                ("real and fake went through D as ONE batch (torch.cat): D's BatchNorm then mixes their statistics. "
                 "Call D(real) and D(fake) separately, as DCGAN does.", joint(copy.deepcopy(D0), copy.deepcopy(G0))),
            ], fallback="the change of D's parameters is not one SGD step on d_loss(D(real), D(G(z))). Use the real "
                        "batch and the z you are given (draw no new noise) and the cross-entropy on logits.",
                problem=f"Wrong change of D's parameters (new - old); the largest difference is at entry {i}: expected "
                        f"{expected[i]:.6f}, got {change[i]:.6f}.")
        _check_returned_loss(chk, got, loss_before)
    chk.passed()


# ---------------------------------------------------------------- FID from features (Exercise 5)
def _features(n: int, d: int, seed: int, shift: float, scale: float, offset: float = 0.0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64) / math.sqrt(d)
    return (torch.randn(n, d, generator=g, dtype=torch.float64) @ (scale * mix + torch.eye(d, dtype=torch.float64))
            + shift + offset)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _fid(real: Tensor, fake: Tensor, ddof: int = 1, axis: int = 0, trace_sqrt: bool = True, mean_term: int = 2,
         cov_term: bool = True, two: float = 2.0, elementwise: bool = False, product_of_roots: bool = False) -> float:
    """The Frechet distance in float64, with switches that reproduce the classic mistakes."""
    r, f = real.double().numpy(), fake.double().numpy()
    mu_r, mu_f = r.mean(axis=0), f.mean(axis=0)
    if axis == 0:
        s_r, s_f = np.cov(r, rowvar=False, ddof=ddof), np.cov(f, rowvar=False, ddof=ddof)
    else:  # (N, N) matrices: one row per sample
        s_r, s_f = np.cov(r, rowvar=True, ddof=ddof), np.cov(f, rowvar=True, ddof=ddof)
    eig = np.linalg.eigvals(s_r @ s_f)
    tr_sqrt = np.sqrt(np.clip(eig.real, 0, None)).sum() if trace_sqrt else math.sqrt(max(np.trace(s_r @ s_f), 0.0))
    if elementwise:  # sqrt of each entry of S_r S_f: only the diagonal reaches the trace
        diag = np.diag(s_r @ s_f)
        tr_sqrt = np.sqrt(diag).sum() if (diag >= 0).all() else float("nan")
    if product_of_roots:  # Tr(S_r^(1/2) S_f^(1/2)): the roots of each covariance, not of their product
        tr_sqrt = float(np.trace(_psd_sqrt(s_r) @ _psd_sqrt(s_f)))
    dist = np.linalg.norm(mu_r - mu_f)
    cov = np.trace(s_r) + np.trace(s_f) - two * tr_sqrt if cov_term else 0.0
    return float((dist ** mean_term if mean_term else 0.0) + cov)


def check_fid_from_features(fn: Callable[[Tensor, Tensor], Any]) -> None:
    """fn(real (N, d), fake (M, d)) -> ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)), one number.

    The reference is ``ganlab.image_metrics.fid_from_features`` (sample covariances, divided by N - 1,
    in float64). Covariances divided by N are accepted too: they change FID by O(1/N), a bias far
    below FID's own bias at these sample sizes, and the check says so in a note.
    """
    cases = [  # (real, fake): N = M first, so that a covariance over the wrong axis gives a number to recognise
        (_features(40, 4, 1, 0.0, 1.0), _features(40, 4, 2, 0.7, 2.0)),
        (_features(60, 6, 3, 0.0, 1.5), _features(50, 6, 4, -0.4, 0.5)),
        (_features(80, 3, 5, 0.0, 1.0, offset=100.0), _features(70, 3, 6, 1.5, 1.0, offset=100.0)),
        (_features(50, 5, 7, 0.0, 1.0), _features(50, 5, 7, 0.0, 1.0)),  # identical sets: FID 0
        # far from 0: float32 means and covariances lose about 3 of FID's digits here, float64 none
        (_features(80, 3, 5, 0.0, 1.0, offset=1e5), _features(70, 3, 6, 1.5, 1.0, offset=1e5)),
    ]
    cases = [(real.float().double(), fake.float().double()) for real, fake in cases]  # what the student receives
    chk = _Check("check_fid_from_features", "the Frechet distance between feature sets", fn, len(cases))
    note = ""
    for case, (real, fake) in enumerate(cases, 1):
        expected = fid_from_features(real, fake)
        got = chk.call(case, real.clone().float(), fake.clone().float(), real=real.float(), fake=fake.float())
        value = chk.scalar(got, expected, nan_hint="a NaN usually comes from an ELEMENTWISE square root "
                           "(torch.sqrt or ** 0.5 of the matrix S_r S_f, which has negative entries): FID needs the "
                           "MATRIX square root, e.g. the square roots of the eigenvalues of S_r S_f, summed.")
        if abs(value - expected) <= 1e-4 * abs(expected) + 1e-5:
            continue
        population = _fid(real, fake, ddof=0)
        if abs(value - population) <= 1e-4 * abs(population) + 1e-5:
            note = ("your covariances divide by N (population); the reference divides by N - 1 (sample), as "
                    "torchmetrics and pytorch-fid do. The difference is O(1/N) and accepted, but quote FIDs "
                    "computed one way only.")
            continue
        variants = [
            ("the covariance over the wrong axis: with features (N, d) the covariances are (d, d), i.e. "
             "np.cov(x, rowvar=False) or (x - mu).T @ (x - mu) / (N - 1), not (N, N).",
             _fid(real, fake, axis=1) if len(real) == len(fake) else float("nan")),
            ("the trace of the square root taken as the square root of the trace: Tr((S_r S_f)^(1/2)) is the sum of "
             "the square roots of the eigenvalues of S_r S_f, not sqrt(Tr(S_r S_f)).",
             _fid(real, fake, trace_sqrt=False)),
            ("an ELEMENTWISE square root of S_r S_f (torch.sqrt or ** 0.5 of the matrix): FID needs the MATRIX "
             "square root, whose trace is the sum of the square roots of the eigenvalues of S_r S_f.",
             _fid(real, fake, elementwise=True)),
            ("the mean term ||mu_r - mu_f||^2 is missing.", _fid(real, fake, mean_term=0)),
            ("the distance of the means is not squared: ||mu_r - mu_f||^2, not ||mu_r - mu_f||.",
             _fid(real, fake, mean_term=1)),
            ("only the mean term: add Tr(S_r + S_f - 2 (S_r S_f)^(1/2)).", _fid(real, fake, cov_term=False)),
            ("the factor 2 in front of the trace of the square root is missing.",
             _fid(real, fake, two=1.0)),
            ("Tr(S_r^(1/2) S_f^(1/2)), the product of the two square roots, is not Tr((S_r S_f)^(1/2)) (the matrices do "
             "not commute): take the square root of the PRODUCT S_r S_f, e.g. the square roots of its eigenvalues, "
             "summed.", _fid(real, fake, product_of_roots=True)),
        ]
        for diagnosis, wrong in variants:
            if math.isfinite(wrong) and abs(value - wrong) <= 1e-4 * abs(wrong) + 1e-5:
                chk.fail("Wrong value.", expected, value, diagnosis)
        far = float(real.abs().mean())
        if far > 50 and abs(value - expected) <= 1e-2 * abs(expected) + 0.05:
            chk.fail(f"Close, but not exact: these features sit far from 0 (about {far:.0f} in every coordinate).",
                     expected,
                     value, "float32 loses digits when it subtracts two large, nearly equal numbers: convert the "
                     "features with .double() (float64) before the means, covariances and square root.")
        chk.fail("Wrong value.", expected, value, "no common mistake matches; FID = ||mu_r - mu_f||^2 + Tr(S_r) + "
                 "Tr(S_f) - 2 Tr((S_r S_f)^(1/2)), with (d, d) covariances of the rows.")
    chk.passed(note)


__all__ = ["CheckFailed", "check_generator_block", "check_d_step_images", "check_fid_from_features"]

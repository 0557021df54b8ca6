"""Checks for chapter 06, super-resolution, continued: SRResNet's residual block (Exercise 5), SRGAN's content and
generator losses (Exercises 6-7), and interpolation between two networks (Exercise 8)."""

from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..srgan import IMAGENET_MEAN, IMAGENET_STD, ResidualBlock, SRResNet, interpolate_networks, random_features
from .ch05 import _IN_PLACE, _gradients, _tensor_of_shape, _unchanged
from .ch06 import _call, _no_backward, _seeded
from .core import _LOGITS_NAN, _SIGMOID_TWICE, _Check, _close, _finite, _fmt, _t


# ---------------------------------------------------------------- the residual block (Exercise 5)
_BLOCK_NAMES = ("conv1", "bn1", "prelu", "conv2", "bn2")


def _block_layers(seed: int, c: int, train: bool) -> list[nn.Module]:
    """The five layers of a ResidualBlock(c), with BatchNorm's scale, shift and statistics and PReLU's slopes random."""
    def make() -> list[nn.Module]:
        layers = list(ResidualBlock(c).body)
        with torch.no_grad():
            for m in layers:
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.3)
                    m.running_mean.normal_(0, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
                    m.num_batches_tracked.fill_(seed)
                elif isinstance(m, nn.PReLU):
                    m.weight.uniform_(0.05, 0.4)  # one slope per channel, far from ReLU's 0
                m.train(train)
        return layers
    return _seeded(seed, make)


def _block(x: Tensor, layers: list[nn.Module], variant: str = "right") -> Tensor:
    """The SRResNet block on copies of ``layers`` (in their modes), or one of the classic slips."""
    c1, b1, act, c2, b2 = copy.deepcopy(layers)
    relu = F.relu
    return {
        "right": lambda: x + b2(c2(act(b1(c1(x))))),
        "no skip": lambda: b2(c2(act(b1(c1(x))))),
        "act after": lambda: act(x + b2(c2(act(b1(c1(x)))))),
        "relu after": lambda: relu(x + b2(c2(act(b1(c1(x)))))),
        "skip before bn2": lambda: b2(x + c2(act(b1(c1(x))))),
        "act at the end": lambda: x + act(b2(c2(act(b1(c1(x)))))),
        "act before bn": lambda: x + b2(c2(b1(act(c1(x))))),
        "relu": lambda: x + b2(c2(relu(b1(c1(x))))),
        "default prelu": lambda: x + b2(c2(F.prelu(b1(c1(x)), torch.tensor([0.25])))),
        "bn swapped": lambda: x + b1(c2(act(b2(c1(x))))),
        "conv1 twice": lambda: x + b2(c1(act(b1(c1(x))))),
        "no bn": lambda: x + c2(act(c1(x))),
        "eval": lambda: x + b2.eval()(c2(act(b1.eval()(c1(x))))),
        "train": lambda: x + b2.train()(c2(act(b1.train()(c1(x))))),
    }[variant]()


def check_residual_block(fn: Callable[..., Tensor]) -> None:
    """fn(x, conv1, bn1, prelu, conv2, bn2) -> x + bn2(conv2(prelu(bn1(conv1(x))))): SRResNet's residual block (Ledig
    et al., CVPR 2017, fig. 4), no activation after the sum, the layers called in the mode they are in."""
    gen = torch.Generator().manual_seed(65)
    shapes = [((2, 4, 5, 5), True), ((3, 3, 4, 6), False), ((2, 6, 3, 3), True), ((1, 2, 5, 4), False)]
    cases = [(torch.randn(*s, generator=gen), _block_layers(650 + case, s[1], train))
             for case, (s, train) in enumerate(shapes)]
    chk = _Check("check_residual_block", "SRResNet's residual block", fn, len(cases))
    for case, (x, layers) in enumerate(cases, 1):
        train = layers[1].training
        mode = "train mode" if train else "eval mode"
        c = x.shape[1]
        reference = copy.deepcopy(layers)
        leaf = x.clone().requires_grad_(True)
        expected = reference[4](reference[3](reference[2](reference[1](reference[0](leaf))))) + leaf
        originals = copy.deepcopy(layers)  # as they were before the call, for the slips below
        before = [copy.deepcopy(m.state_dict()) for m in layers]
        given = x.clone().requires_grad_(True)
        chk.hints = dict(_IN_PLACE)
        got = _call(chk, case, (given, *layers), "your function created new layers (their initialisation draws "
                    "random numbers) or reseeded the generator: use the five layers you are given.",
                    x=f"{tuple(x.shape)}, standard normal",
                    conv1=f"Conv2d({c}, {c}, 3, padding=1, bias=False)", bn1=f"BatchNorm2d({c}), {mode}",
                    prelu=f"PReLU({c}), one slope per channel", conv2=f"Conv2d({c}, {c}, 3, padding=1, bias=False)",
                    bn2=f"BatchNorm2d({c}), {mode}")
        _unchanged(chk, "x", given, x)
        for name, m in zip(_BLOCK_NAMES, layers):
            if any(sub.training != train for sub in m.modules()):
                chk.fail(f"{name} was switched to {'eval' if train else 'train'} mode.", diagnosis="leave the mode to "
                         "the caller: model.train() and model.eval() set it for every layer, and the block calls each "
                         "layer as it is (BatchNorm uses the batch's statistics in train mode, its running ones in "
                         "eval mode).")
        statistics = ("running_mean", "running_var", "num_batches_tracked")
        for name, m, state in zip(_BLOCK_NAMES, layers, before):
            changed = [k for k, v in m.state_dict().items() if not torch.equal(v, state[k])
                       and not (train and k in statistics)]
            if changed and set(changed) <= set(statistics):
                chk.fail(f"{name}'s {', '.join(changed)} changed in eval mode.", diagnosis="BatchNorm ran as in "
                         "training: it used the batch's statistics in eval mode and updated its running ones (as "
                         "F.batch_norm with training=True does). Call the layers themselves, bn1(h), which pick the "
                         "statistics by their mode.")
            if changed:
                chk.fail(f"{name}'s {', '.join(changed)} changed.", diagnosis="the forward pass only reads the "
                         "weights: an optimiser changes them, not the block (no in-place operations on .weight or "
                         ".data).")
        _tensor_of_shape(chk, got, expected, {}, "the block keeps the shape of x: (N, C, H, W).")
        if not _close(got, expected, rtol=1e-4, atol=1e-4):
            chk.mismatch(expected.detach(), got.detach(), [
                ("the skip connection is missing: the block returns x + F(x).", _block(x, originals, "no skip")),
                ("an activation after the sum (as in the original ResNet): SRResNet's block ends with the sum, "
                 "x + BN(conv(PReLU(BN(conv(x))))), with nothing after it.", _block(x, originals, "act after")),
                ("a ReLU after the sum (as in the original ResNet): SRResNet's block ends with the sum, with nothing "
                 "after it.", _block(x, originals, "relu after")),
                ("x was added before the second BatchNorm: normalise first, then add, x + bn2(conv2(...)).",
                 _block(x, originals, "skip before bn2")),
                ("a second PReLU after bn2: there is ONE activation, between the two convolutions.",
                 _block(x, originals, "act at the end")),
                ("the PReLU comes before bn1: the order is conv1, bn1, PReLU, conv2, bn2.",
                 _block(x, originals, "act before bn")),
                ("this is a ReLU: use the PReLU you are given, whose learned slopes let negative values through.",
                 _block(x, originals, "relu")),
                ("a PReLU with the default slope 0.25: use the prelu you are given, with its own (learned) slopes.",
                 _block(x, originals, "default prelu")),
                ("bn1 and bn2 are swapped: bn1 follows conv1, bn2 follows conv2.", _block(x, originals, "bn swapped")),
                ("conv1 was used twice: the second convolution is conv2.", _block(x, originals, "conv1 twice")),
                ("the BatchNorm layers are missing: conv, BN, PReLU, conv, BN.", _block(x, originals, "no bn")),
                ("BatchNorm used its running statistics in train mode: call the layers themselves, bn1(h), which "
                 "pick the statistics by their mode (F.batch_norm with training=False does not).",
                 _block(x, originals, "eval")) if train else
                ("BatchNorm used the batch's statistics in eval mode: call the layers themselves, bn1(h), which pick "
                 "the statistics by their mode (F.batch_norm with training=True does not).",
                 _block(x, originals, "train")),
            ], problem=f"Wrong output (layers in {mode}).", fallback="x + bn2(conv2(prelu(bn1(conv1(x))))).")
        if train:
            for name, m, ref in zip(_BLOCK_NAMES, layers, reference):
                if name.startswith("bn") and not (_close(m.running_mean, ref.running_mean, atol=1e-6)
                                                  and _close(m.running_var, ref.running_var, atol=1e-6)):
                    chk.fail(f"The output is right but {name}'s running statistics are not.", ref.running_mean,
                             m.running_mean, "each BatchNorm layer must run exactly once per forward pass, on its "
                             "input: in train mode every call updates its running statistics (shown: the running "
                             "mean).")
        theirs = [given] + [p for m in layers for p in m.parameters()]
        mine = [leaf] + [p for m in reference for p in m.parameters()]
        names = ["x"] + [f"{name}.{k}" for name, m in zip(_BLOCK_NAMES, layers) for k, _ in m.named_parameters()]
        _gradients(chk, got, expected, mine, theirs, names, "part of the block is detached: the gradient flows "
                   "through both paths, the skip and the layers (no .detach(), .data or torch.no_grad()).")
    chk.passed()


# ---------------------------------------------------------------- the content loss (Exercise 6)
def _phi(case: int) -> tuple[nn.Module, str]:
    """A small frozen feature network in eval mode, on normalised images; BatchNorm makes its mode matter."""
    def make() -> tuple[nn.Module, str]:
        if case == 2:
            return random_features(width=4, depth=2, seed=5).net, "random_features(width=4, depth=2).net"
        w, k, act = {1: (6, 4, nn.ReLU()), 3: (5, 3, nn.LeakyReLU(0.2))}[case]
        net = nn.Sequential(nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), act, nn.Conv2d(w, k, 3, padding=1))
        with torch.no_grad():
            net[1].weight.uniform_(0.5, 1.5)
            net[1].bias.normal_(0, 0.3)
            net[1].running_mean.normal_(0, 1.0)
            net[1].running_var.uniform_(0.3, 3.0)
        return net, f"Conv2d(3, {w}, 3), BatchNorm2d({w}), {type(act).__name__}, Conv2d({w}, {k}, 3)"
    net, text = _seeded(660 + case, make)
    return net.eval().requires_grad_(False), text


def _normalize(x: Tensor, shift: bool = True, mean: bool = True, std: bool = True) -> Tensor:
    m = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) if mean else 0.0
    s = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) if std else 1.0
    return (((x + 1) / 2 if shift else x) - m) / s


def check_content_loss(fn: Callable[[nn.Module, Tensor, Tensor], Tensor]) -> None:
    """fn(phi, sr, hr) -> mean (phi(n(sr)) - phi(n(hr)))^2 with n(x) = ((x + 1) / 2 - ImageNet mean) / ImageNet std and
    phi(n(hr)) a constant: SRGAN's content loss (Ledig et al., CVPR 2017, eq. 5) for a phi trained on ImageNet."""
    gen = torch.Generator().manual_seed(66)
    cases = []
    for case, shape in enumerate([(2, 3, 12, 12), (1, 3, 16, 12), (3, 3, 10, 10)], 1):
        hr = torch.rand(*shape, generator=gen) * 2 - 1
        cases.append((*_phi(case), (hr + 0.3 * torch.randn(*shape, generator=gen)).clamp(-1, 1), hr))
    chk = _Check("check_content_loss", "SRGAN's content loss", fn, len(cases))
    for case, (phi, text, sr, hr) in enumerate(cases, 1):
        before = copy.deepcopy(phi.state_dict())
        leaves = [sr.clone().requires_grad_(True), hr.clone()]
        with torch.no_grad():
            target = phi(_normalize(leaves[1]))
        expected = F.mse_loss(phi(_normalize(leaves[0])), target)
        given = (sr.clone().requires_grad_(True), hr.clone().requires_grad_(True))
        chk.hints = dict(_IN_PLACE)
        got = _call(chk, case, (phi, *given), "the content loss draws no random numbers: use the phi you are given "
                    "(building a new network draws its weights).", phi=f"{text}, eval mode, frozen",
                    sr=f"{tuple(sr.shape)} in [-1, 1]", hr=f"{tuple(hr.shape)} in [-1, 1], requires_grad=True")
        for name, now, was in zip(("sr", "hr"), given, (sr, hr)):
            _unchanged(chk, name, now, was)
        _no_backward(chk, list(given), phi)
        if any(m.training for m in phi.modules()):
            chk.fail("phi was switched to train mode.", diagnosis="phi is a fixed measuring instrument: it stays in "
                     "eval mode (in train mode its BatchNorm would use each batch's statistics and change its running "
                     "ones). Leave phi's mode as it is.")
        if any(p.requires_grad for p in phi.parameters()):
            chk.fail("phi's weights now require gradients.", diagnosis="phi is frozen and must stay so: gradients "
                     "flow THROUGH phi to the image without phi's weights requiring grad; the generator learns, phi "
                     "does not.")
        got = got.reshape(()) if isinstance(got, Tensor) and got.numel() == 1 else got
        _tensor_of_shape(chk, got, expected, {}, "the loss is one number: the mean over every feature of every image.")
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, "every feature here is finite.")
        if not _close(got, expected):
            with torch.no_grad():
                def on(norm: Callable[[Tensor], Tensor], loss: Callable = F.mse_loss, net: nn.Module = phi) -> Tensor:
                    return loss(net(norm(sr)), net(norm(hr)))
                trained = copy.deepcopy(phi).train()
                variants = [
                    ("phi got the images as they are, in [-1, 1]: a network trained on ImageNet expects the inputs it "
                     "was trained on, ((x + 1) / 2 - mean) / std with ImageNet's mean and std per channel.",
                     on(lambda x: x)),
                    ("the ImageNet normalisation was applied to x in [-1, 1]: its mean and std are for pixels in "
                     "[0, 1], so map x to [0, 1] first, (x + 1) / 2.", on(lambda x: _normalize(x, shift=False))),
                    ("the images were mapped to [0, 1] but not normalised: subtract ImageNet's mean and divide by its "
                     "std, per channel.", on(lambda x: (x + 1) / 2)),
                    ("the mean was subtracted but the std not divided: ((x + 1) / 2 - mean) / std.",
                     on(lambda x: _normalize(x, std=False))),
                    ("divided by the std but the mean not subtracted: ((x + 1) / 2 - mean) / std.",
                     on(lambda x: _normalize(x, mean=False))),
                    ("this is the mean ABSOLUTE error: the content loss is the mean SQUARED error of the features.",
                     on(_normalize, F.l1_loss)),
                    ("the squared errors are summed: the content loss is their MEAN (F.mse_loss).",
                     on(_normalize, lambda a, b: F.mse_loss(a, b, reduction="sum"))),
                    ("this is the root of the MSE: the content loss is the mean SQUARED error.",
                     on(_normalize, lambda a, b: F.mse_loss(a, b).sqrt())),
                    ("the pixels were compared: the content loss compares phi's FEATURES of the two images.",
                     F.mse_loss(sr, hr)),
                    ("phi ran in train mode (its BatchNorm used the batch's statistics): phi is used as it is given, "
                     "in eval mode.", on(_normalize, net=trained)),
                ]
            chk.mismatch(expected.detach(), got.detach(), variants, problem="Wrong loss.",
                         fallback="F.mse_loss(phi(n(sr)), phi(n(hr))) with n(x) = ((x + 1) / 2 - mean) / std.")
        if any(not torch.equal(v, before[k]) for k, v in phi.state_dict().items()):
            chk.fail("phi's weights or statistics changed.", diagnosis="the loss only reads phi: no in-place "
                     "operations on its weights, and no forward pass in train mode.")
        if not got.requires_grad:
            chk.fail("The value is right but it carries no gradient.", diagnosis="the generator learns through this "
                     "loss: compute phi(n(sr)) with gradients (only the target phi(n(hr)) is a constant).")
        (want,) = torch.autograd.grad(expected, [leaves[0]])
        have = torch.autograd.grad(got, list(given), allow_unused=True)
        if have[0] is None or not _close(have[0], want, rtol=1e-3, atol=1e-6):
            chk.fail("The value is right but the gradient with respect to sr is not.", want, have[0],
                     "phi(n(sr)) must be computed with gradients, through phi, to sr (no .detach() or torch.no_grad() "
                     "on the SR side; the constant is the target phi(n(hr))).")
        if have[1] is not None and have[1].abs().max() > 0:
            chk.fail("The gradient reaches hr.", torch.zeros_like(hr), have[1], "phi(n(hr)) is the target, a "
                     "constant: compute it under torch.no_grad() (or .detach() it). Otherwise the loss also pulls "
                     "the high-resolution image towards the SR one, and costs a second backward pass through phi.")
    chk.passed()


# ---------------------------------------------------------------- SRGAN's generator loss (Exercise 7)
_G_CASES = [(_t(-2.3, 0.4, 1.7, -0.6, 3.1, -4.2), 0.42, 0.5), (_t(2.2, -1.3, 0.25), 1.35, 0.1),
            (_t(-3.5, -2.5, 0.6, 1.4, 4.5, -0.3, 2.7, 0.15), 0.08, 1e-3), (_t(5.0, -5.5), 2.6, 2.0)]


def _g_loss(logits: Tensor, content: Tensor, w: float) -> Tensor:
    return content + w * F.softplus(-logits).mean()  # content + w (-mean log D(G(LR)))


def check_srgan_g_loss(fn: Callable[[Tensor, Tensor, float], Tensor]) -> None:
    """fn(d_fake_logits (N,), content (0-d), adversarial_weight) -> content + adversarial_weight * mean(-log
    sigmoid(d_fake_logits)): SRGAN's perceptual loss (Ledig et al., CVPR 2017, eqs. 3 and 6), from logits."""
    chk = _Check("check_srgan_g_loss", "SRGAN's perceptual loss for the generator", fn, len(_G_CASES))
    for case, (logits, content_value, w) in enumerate(_G_CASES, 1):
        content = torch.tensor(content_value)
        leaves = [logits.clone().requires_grad_(True), content.clone().requires_grad_(True)]
        expected = _g_loss(*leaves, w)
        given = [t.clone().requires_grad_(True) for t in (logits, content)]
        chk.hints = {**_IN_PLACE, "between 0 and 1": "F.binary_cross_entropy wants probabilities, and these are "
                     "logits: use F.binary_cross_entropy_with_logits, or F.softplus(-logits)."}
        got = _call(chk, case, (*given, w), "the loss draws no random numbers.", d_fake_logits=logits,
                    content=f"{content_value} (a 0-d tensor)", adversarial_weight=w)
        for name, now, was in zip(("d_fake_logits", "content"), given, (logits, content)):
            _unchanged(chk, name, now, was)
        _no_backward(chk, given)
        if not isinstance(got, Tensor):
            chk.fail("It must return a torch tensor.", expected, got, f"your function returned a "
                     f"{type(got).__name__}: return the tensor itself (no .item() or float()), so that "
                     f"loss.backward() reaches the generator.")
        if got.numel() != 1:
            chk.fail(f"It returned shape {tuple(got.shape)}, not a scalar.", expected, got, "one loss per example: "
                     "average the adversarial term over the batch with .mean()." if got.shape == logits.shape else
                     "the loss is one number (a 0-d tensor).")
        got = got.reshape(())
        if not _finite(got):
            chk.fail("It returned NaN or inf.", expected, got, _LOGITS_NAN)
        if not _close(got, expected):
            sp = lambda t: F.softplus(t).mean()  # noqa: E731
            l, c = logits, content
            chk.mismatch(expected.detach(), got.detach(), [
                ("the adversarial term has the wrong sign: G minimises -log D(G(LR)) = softplus(-logit), which falls "
                 "as D believes the SR image.", c - w * sp(-l)),
                ("this is the saturating form log(1 - D(G(LR))): SRGAN's generator minimises -log D(G(LR)), whose "
                 "gradient stays strong while D still rejects the SR images (Goodfellow et al. 2014, sec. 3).",
                 c - w * sp(l)),
                ("the SR images got label 0, as in D's loss: G wants D to call them real, label 1: -log D(G(LR)) "
                 "= softplus(-logit).", c + w * sp(l)),
                ("the weight is on the content term: l = content + adversarial_weight * adversarial.",
                 w * c + sp(-l)),
                ("the weight is missing: the adversarial term is scaled by adversarial_weight (10^-3 in the paper).",
                 c + sp(-l)),
                ("the content term is weighted by 1 - adversarial_weight: the paper adds the weighted adversarial "
                 "term to the content loss, content + adversarial_weight * adversarial.",
                 (1 - w) * c + w * sp(-l)),
                ("the content term is missing: l = content + adversarial_weight * adversarial.", w * sp(-l)),
                (_SIGMOID_TWICE, c + w * sp(-torch.sigmoid(l))),
                ("the adversarial term is summed over the batch: average it, .mean().", c + w * F.softplus(-l).sum()),
                ("the log of the mean, -log(mean(D(G(LR)))): the loss is the MEAN OF THE LOGS, take the log of each "
                 "example's probability first.", c - w * torch.sigmoid(l).mean().log()),
            ], problem=f"Wrong loss (adversarial_weight = {w:g}).")
        if not got.requires_grad:
            chk.fail("The value is right but it carries no gradient.", diagnosis="the result is cut off from the "
                     "graph (.detach(), torch.no_grad(), or a number wrapped in torch.tensor).")
        want = torch.autograd.grad(expected, leaves)
        have = torch.autograd.grad(got, given, allow_unused=True)
        for name, h, wnt in zip(("d_fake_logits", "content"), have, want):
            if h is None or not _close(h, wnt, rtol=1e-3):
                chk.fail(f"The value is right but its gradient with respect to {name} is not.", wnt, h,
                         "part of the loss is detached or computed outside torch.")
    extreme, exact = _t(-200.0, 30.0, 2.0), 0.5 + 0.1 * float(F.softplus(-_t(-200.0, 30.0, 2.0).double()).mean())
    with torch.no_grad():
        try:
            value = fn(extreme.clone(), torch.tensor(0.5), 0.1)
        except Exception as err:  # noqa: BLE001 - the check has passed; this only feeds the note below
            value = f"{type(err).__name__}: {err}"
    note = ""
    if not isinstance(value, Tensor) or not _finite(value) or not _close(value.reshape(()), exact, rtol=1e-4):
        note = (f"with a logit of -200 (d_fake_logits = {_fmt(extreme)}, content 0.5, weight 0.1) your loss gives "
                f"{_fmt(value)} instead of {exact:.4f}. In float32 sigmoid(-200) rounds to 0, so -log(sigmoid(-200)) "
                f"= inf (and a + 1e-8 inside the log caps it at 18.4). F.softplus(-logits) or -F.logsigmoid(logits) "
                f"stay exact; prefer them in training.")
    chk.passed(note)


# ---------------------------------------------------------------- network interpolation (Exercise 8)
def _net_pair(case: int) -> tuple[nn.Module, nn.Module, str]:
    """Two networks of one architecture with different weights and BatchNorm statistics (and batch counters)."""
    def make() -> tuple[nn.Module, nn.Module, str]:
        if case == 2:
            a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.PReLU(4), nn.Conv2d(4, 3, 1))
            text = "Sequential(Conv2d(3, 4, 3), BatchNorm2d(4), PReLU(4), Conv2d(4, 3, 1))"
        else:
            channels, blocks = (4, 1) if case == 1 else (3, 2)
            a, text = SRResNet(2, channels, blocks), f"SRResNet(scale=2, channels={channels}, blocks={blocks})"
        b = copy.deepcopy(a)
        with torch.no_grad():
            for net, count in ((a, 7), (b, 250)):
                for p in net.parameters():
                    p.add_(0.3 * torch.randn_like(p))
                for m in net.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        m.running_mean.normal_(0, 0.5)
                        m.running_var.uniform_(0.5, 2.0)
                        m.num_batches_tracked.fill_(count)
        return a.eval(), b.eval(), text
    return _seeded(680 + case, make)


def _flat(state: dict[str, Tensor], keys: list[str]) -> Tensor:
    return torch.cat([state[k].double().flatten() for k in keys]) if keys else torch.zeros(0, dtype=torch.float64)


def check_interpolate_networks(fn: Callable[[nn.Module, nn.Module, float], nn.Module]) -> None:
    """fn(a, b, alpha) -> a new network with every weight and float buffer (1 - alpha) theta_a + alpha theta_b and the
    integer buffers of a; a and b unchanged (network interpolation, ESRGAN, Wang et al. 2018, sec. 3.4)."""
    alphas = (0.3, 0.75, 1.0)
    cases = [(*_net_pair(case), alpha) for case, alpha in enumerate(alphas, 1)]
    chk = _Check("check_interpolate_networks", "interpolation between two networks", fn, len(cases))
    for case, (a, b, text, alpha) in enumerate(cases, 1):
        states = {name: copy.deepcopy(net.state_dict()) for name, net in (("a", a), ("b", b))}
        expected = interpolate_networks(a, b, alpha).state_dict()
        chk.hints = {"not implemented for 'Long'": "an integer buffer was interpolated: BatchNorm's "
                     "num_batches_tracked counts batches and cannot be mixed; copy the integer buffers from a "
                     "(v.is_floating_point() tells them apart)."}
        got = _call(chk, case, (a, b, alpha), "interpolating draws no random numbers: copy.deepcopy(a) copies the "
                    "network without drawing new weights (a new network's constructor does draw).",
                    a=f"{text}, eval mode", b="the same architecture, other weights and BatchNorm statistics",
                    alpha=alpha)
        for name, net in (("a", a), ("b", b)):
            changed = [k for k, v in net.state_dict().items() if not torch.equal(v, states[name][k])]
            if changed:
                how = (f"your function returned {name} itself, interpolated in place" if got is net else
                       f"the interpolation was written into {name}")
                chk.fail(f"{name} was changed ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''}).",
                         diagnosis=f"{how}: a and b must stay as they are (the notebook compares several alphas from "
                                   f"the same two networks). Build the result in a copy, copy.deepcopy(a), then load "
                                   f"the mixed weights into it.")
        if isinstance(got, dict):
            chk.fail("It returned a dict.", diagnosis="return a network: the mixed state dict loaded into a copy of a, "
                     "out = copy.deepcopy(a); out.load_state_dict(mixed).")
        if not isinstance(got, nn.Module):
            chk.fail("It must return a network (an nn.Module).", diagnosis=f"your function returned a "
                     f"{type(got).__name__}.")
        if got is a or got is b:
            chk.fail(f"It returned {'a' if got is a else 'b'} itself.", diagnosis="return a NEW network: the caller "
                     "may train or change it, and a and b must stay as they are; copy.deepcopy(a) makes one.")
        state = got.state_dict()
        if type(got) is not type(a) or state.keys() != expected.keys():
            chk.fail(f"It returned a {type(got).__name__} with other entries than a.", diagnosis="the result has a's "
                     "architecture, every weight and buffer: copy.deepcopy(a) and load_state_dict.")
        shared = [n for n, p in got.named_parameters() if any(p.data_ptr() == q.data_ptr() for net in (a, b)
                                                             for q in net.parameters())]
        if shared:
            chk.fail(f"The new network shares {shared[0]} with a or b.", diagnosis="training it would change a or b: "
                     "copy.deepcopy(a), not copy.copy(a), gives it tensors of its own.")
        params = [k for k, _ in a.named_parameters()]
        floats = [k for k, v in expected.items() if v.is_floating_point() and k not in params]
        ints = [k for k, v in expected.items() if not v.is_floating_point()]
        sa, sb = states["a"], states["b"]
        lerp = lambda keys, t: _flat(sa, keys) * (1 - t) + _flat(sb, keys) * t  # noqa: E731
        everything = params + floats
        if not _close(_flat(state, everything), _flat(expected, everything), atol=1e-6):
            if _close(_flat(state, everything), lerp(everything, 1 - alpha), atol=1e-6):
                chk.fail(f"alpha is reversed: alpha = {alpha} gave {alpha:g} a + {1 - alpha:g} b.", diagnosis="alpha "
                         "= 0 gives a and alpha = 1 gives b: (1 - alpha) theta_a + alpha theta_b, torch.lerp(theta_a, "
                         "theta_b, alpha).")
            if _close(_flat(state, params), _flat(expected, params), atol=1e-6):
                source = "a" if _close(_flat(state, floats), _flat(sa, floats)) else "b" if _close(
                    _flat(state, floats), _flat(sb, floats)) else ""
                chk.fail("The weights are right but the float buffers (BatchNorm's running mean and variance) are "
                         "not.", _flat(expected, floats), _flat(state, floats),
                         (f"they are {source}'s: " if source else "") + "the running statistics are part of the "
                         "network and interpolate like its weights (iterate over state_dict(), not parameters(); an "
                         "SRResNet in eval mode normalises with them).")
            chk.mismatch(_flat(expected, params), _flat(state, params), [
                ("nothing was interpolated: these are a's weights.", _flat(sa, params)),
                ("these are b's weights: mix the two, (1 - alpha) theta_a + alpha theta_b.", _flat(sb, params)),
                ("a's weights need the factor 1 - alpha: (1 - alpha) theta_a + alpha theta_b.",
                 _flat(sa, params) + alpha * _flat(sb, params)),
                ("an even mix for every alpha: weigh the two by 1 - alpha and alpha.", lerp(params, 0.5)),
            ], problem=f"Wrong weights (alpha = {alpha}; shown: all the parameters, flattened).",
                fallback="every parameter (1 - alpha) theta_a + alpha theta_b.")
        for k in ints:
            if not torch.equal(state[k], sa[k]):
                chk.fail(f"The integer buffer {k} is {int(state[k])}.", int(sa[k]), int(state[k]),
                         "integer buffers (BatchNorm's count of batches seen) cannot be mixed: take them from a, and "
                         "interpolate only the entries with v.is_floating_point().")
    chk.passed()

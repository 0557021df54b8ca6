"""Chapter 06's checks pass correct answers written in different ways and name each classic mistake."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab import checks
from ganlab.losses import g_loss_nonsaturating
from ganlab.srgan import IMAGENET_MEAN, IMAGENET_STD, FeatureExtractor, content_loss, imagenet_normalize
from ganlab.srgan import interpolate_networks, random_features
from ganlab.superres import degrade, rgb_to_y
from checking import fails, passes, run

pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------- the degradation
def down(mode, clamp=True, **kw):
    def fn(hr, scale):
        lr = F.interpolate(hr, size=(hr.shape[2] // scale, hr.shape[3] // scale), mode=mode, **kw)
        return lr.clamp(-1, 1) if clamp else lr
    return fn


def deg_scale_factor(hr, scale):
    return torch.clamp(F.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True), -1.0, 1.0)


def deg_torchvision(hr, scale):
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize

    size = [hr.shape[-2] // scale, hr.shape[-1] // scale]
    return resize(hr, size, interpolation=InterpolationMode.BICUBIC, antialias=True).clamp(-1, 1)


def deg_in_place(hr, scale):
    x01 = hr.mul_(0.5).add_(0.5)  # to [0, 1], in place
    return down("bicubic", antialias=True)(x01, scale) * 2 - 1


DEG_RIGHT = {"the library's": degrade, "interpolate to size": down("bicubic", antialias=True),
             "scale_factor": deg_scale_factor, "torchvision resize": deg_torchvision}
DEG_WRONG = {
    "no antialias": (down("bicubic"), ["no antialiasing", "antialias=True"]),
    "bilinear": (down("bilinear", antialias=True), ["this is bilinear (a triangle kernel)"]),
    "bilinear, no antialias": (down("bilinear"), ["bilinear without antialiasing"]),
    "area": (down("area"), ["box averaging"]),
    "avg_pool2d": (lambda hr, s: F.avg_pool2d(hr, s), ["box averaging"]),
    "strided slicing": (lambda hr, s: hr[..., ::s, ::s], ["every scale-th pixel"]),
    "nearest": (down("nearest"), ["every scale-th pixel"]),
    "align_corners": (down("bicubic", antialias=True, align_corners=True), ["align_corners=True"]),
    "no clamp": (down("bicubic", clamp=False, antialias=True), ["not clamped", ".clamp(-1, 1)"]),
    "scale fixed at 4": (lambda hr, s: down("bicubic", antialias=True)(hr, 4), ["shrank by 4 whatever the scale",
                                                                              "case 2 of 4"]),
    "enlarged": (lambda hr, s: F.interpolate(hr, scale_factor=s, mode="bicubic").clamp(-1, 1), ["enlarged"]),
    "blurred, not subsampled": (lambda hr, s: F.avg_pool2d(hr, 3, 1, 1), ["keeps its size"]),
    "in place": (deg_in_place, ["hr was changed in place"]),
    "random noise": (lambda hr, s: degrade(hr, s) + 0 * torch.randn(1), ["global random generator"]),
}


@pytest.mark.parametrize("name", [*DEG_RIGHT, *DEG_WRONG])
def test_degrade(name, capsys):
    run(checks.check_degrade, DEG_RIGHT, DEG_WRONG, name, capsys)


# ---------------------------------------------------------------- luma
W601 = (65.481, 128.553, 24.966)


def y_einsum(x):
    return 16 + torch.einsum("nchw,c->nhw", (x + 1) / 2, torch.tensor(W601)).unsqueeze(1)


def y_conv(x):
    return F.conv2d((x + 1) / 2, torch.tensor(W601).view(1, 3, 1, 1), torch.tensor([16.0]))


def y_slices(x):
    rgb = (x + 1) / 2
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    return 16.0 + 65.481 * r + 128.553 * g + 24.966 * b


def y_matmul(x):
    return ((x.permute(0, 2, 3, 1) + 1) / 2 @ torch.tensor(W601) + 16).unsqueeze(1)


def y_with(weights=W601, offset=16.0, to01=True, scale=1.0):
    def fn(x):
        rgb = (x + 1) / 2 if to01 else x
        return (offset + (rgb * torch.tensor(weights).view(1, 3, 1, 1)).sum(1, keepdim=True)) * scale
    return fn


def y_in_place(x):
    rgb = x.add_(1).div_(2)
    return 16 + (rgb * torch.tensor(W601).view(1, 3, 1, 1)).sum(1, keepdim=True)


Y_RIGHT = {"the library's": rgb_to_y, "einsum": y_einsum, "1x1 convolution": y_conv, "slices": y_slices,
           "matmul": y_matmul, "219 x the JPEG weights": y_with(tuple(219 * w for w in (0.299, 0.587, 0.114)))}
Y_WRONG = {
    "BT.709": (y_with(tuple(219 * w for w in (0.2126, 0.7152, 0.0722))), ["BT.709"]),
    "no offset": (y_with(offset=0.0), ["offset +16 is missing"]),
    "not mapped to [0, 1]": (y_with(to01=False), ["applied to x in [-1, 1]"]),
    "x + 1": (lambda x: y_with(to01=False)(x + 1), ["[0, 2]"]),
    "full range, JPEG": (y_with((76.245, 149.685, 29.07), offset=0.0), ["full-range (JPEG)"]),
    "BGR": (y_with(W601[::-1]), ["BGR"]),
    "divided by 255": (y_with(scale=1 / 255), ["Y / 255"]),
    "mean of the channels": (lambda x: x.mean(1, keepdim=True), ["plain mean of the channels"]),
    "mean, studio range": (lambda x: 16 + 219 * ((x + 1) / 2).mean(1, keepdim=True), ["scaled to [16, 235]"]),
    "mean, 0..255": (lambda x: 255 * ((x + 1) / 2).mean(1, keepdim=True), ["scaled to 0..255"]),
    "channel summed away": (lambda x: y_slices(x)[:, 0], ["summed away", "keepdim"]),
    "weights not summed": (lambda x: 16 + (x + 1) / 2 * torch.tensor(W601).view(1, 3, 1, 1), ["weighted SUM"]),
    "in place": (y_in_place, ["x was changed in place"]),
}


@pytest.mark.parametrize("name", [*Y_RIGHT, *Y_WRONG])
def test_rgb_to_y(name, capsys):
    run(checks.check_rgb_to_y, Y_RIGHT, Y_WRONG, name, capsys)


def test_the_luma_check_shows_the_colours():
    message = fails(checks.check_rgb_to_y, y_with(offset=0.0), "case 1 of 3")
    assert "black, white, red / green, blue, mid-grey" in message and "235.   ,  81.481" in message


# ---------------------------------------------------------------- PSNR
def psnr_right(sr, hr, scale, data_range):
    d = (sr - hr)[..., scale:-scale, scale:-scale]
    return 10 * torch.log10(data_range ** 2 / d.pow(2).mean(dim=(1, 2, 3)))


def psnr_rmse_form(sr, hr, scale, data_range):
    h, w = hr.shape[-2:]
    d = sr[:, :, scale:h - scale, scale:w - scale] - hr[:, :, scale:h - scale, scale:w - scale]
    return 20 * torch.log10(data_range / d.pow(2).flatten(1).mean(1).sqrt())


def psnr_torchmetrics(sr, hr, scale, data_range):
    from torchmetrics.functional.image import peak_signal_noise_ratio

    crop = lambda t: t[..., scale:-scale, scale:-scale]  # noqa: E731
    return peak_signal_noise_ratio(crop(sr), crop(hr), data_range=data_range, reduction="none", dim=(1, 2, 3))


def psnr_loop(sr, hr, scale, data_range):
    out = []
    for a, b in zip(sr, hr):
        mse = F.mse_loss(a[:, scale:-scale, scale:-scale], b[:, scale:-scale, scale:-scale])
        out.append(10 * torch.log10(torch.tensor(data_range) ** 2 / mse))
    return torch.stack(out)


def psnr_numpy(sr, hr, scale, data_range):
    d = (sr.numpy() - hr.numpy())[..., scale:-scale, scale:-scale]
    return [float(10 * np.log10(data_range ** 2 / np.mean(e ** 2))) for e in d]


def psnr_with(crop=(None,) * 4, form="right", r=None, s=None, per="image"):
    def fn(sr, hr, scale, data_range):
        s_, r_ = scale if s is None else s, data_range if r is None else r
        h, w = hr.shape[-2:]
        t, b, le, ri = (s_ if c is None else c for c in crop)
        d = (sr - hr)[..., t:h - b, le:w - ri]
        if form == "pixel":
            return (10 * torch.log10(r_ ** 2 / d ** 2)).mean(dim=(1, 2, 3))
        mse = d.pow(2).mean().expand(len(d)) if per == "batch" else d.pow(2).mean(dim=(1, 2, 3))
        value = {"right": lambda: 10 * torch.log10(r_ ** 2 / mse),
                 "rmse": lambda: 10 * torch.log10(r_ ** 2 / mse.sqrt()),
                 "20, mse": lambda: 20 * torch.log10(r_ ** 2 / mse),
                 "20, mse, plain": lambda: 20 * torch.log10(r_ / mse),
                 "plain": lambda: 10 * torch.log10(r_ / mse),
                 "ln": lambda: 10 * torch.log(r_ ** 2 / mse)}[form]()
        return {"image": value, "mean": value.mean(), "keepdim": value.view(-1, 1, 1, 1)}.get(per, value)
    return fn


PSNR_RIGHT = {"by hand": psnr_right, "20 log10 of the RMSE": psnr_rmse_form, "torchmetrics": psnr_torchmetrics,
              "a loop": psnr_loop, "numpy, a list": psnr_numpy}
PSNR_WRONG = {
    "no crop": (psnr_with(crop=(0, 0, 0, 0)), ["nothing was cropped"]),
    "top and left only": (lambda sr, hr, s, r: psnr_with(crop=(s, 0, s, 0))(sr, hr, s, r), ["top and left"]),
    "bottom and right only": (lambda sr, hr, s, r: psnr_with(crop=(0, s, 0, s))(sr, hr, s, r), ["bottom and right"]),
    "width only": (lambda sr, hr, s, r: 10 * torch.log10(r ** 2 / (sr - hr)[..., s:-s].pow(2).mean(dim=(1, 2, 3))),
                   ["only the width was cropped", "LAST dim"]),
    "height only": (lambda sr, hr, s, r: psnr_with(crop=(s, s, 0, 0))(sr, hr, s, r), ["only the height"]),
    "2 scale": (lambda sr, hr, s, r: psnr_with(s=2 * s)(sr, hr, s, r), ["8 pixels were cropped"]),
    "scale // 2": (lambda sr, hr, s, r: psnr_with(s=s // 2)(sr, hr, s, r), ["2 pixels were cropped from each"]),
    "RMSE": (psnr_with(form="rmse"), ["RMSE where the MSE belongs"]),
    "20 log10 with the MSE": (psnr_with(form="20, mse"), ["20 log10 goes with the RMSE"]),
    "20 log10(range / MSE)": (psnr_with(form="20, mse, plain"), ["mixes the two forms"]),
    "range not squared": (psnr_with(form="plain"), ["not squared"]),
    "natural log": (psnr_with(form="ln"), ["natural log"]),
    "mean of per-pixel PSNRs": (psnr_with(form="pixel"), ["per-pixel PSNRs"]),
    "one MSE for the batch": (psnr_with(per="batch"), ["one MSE over the whole batch"]),
    "one PSNR for the batch": (lambda sr, hr, s, r: psnr_right(sr, hr, s, r).mean(), ["one number for a batch"]),
    "whole batch at once": (lambda sr, hr, s, r: 10 * torch.log10(r ** 2 / (sr - hr)[..., s:-s, s:-s].pow(2).mean()),
                            ["one number for a batch of 2"]),
    "keepdim": (psnr_with(per="keepdim"), ["wrong shape", "(N,)"]),
    "data range 1": (psnr_with(r=1.0), ["data_range = 1 was used", "case 1 of 4"]),
    "data range 255": (psnr_with(r=255.0), ["data_range = 255 was used", "case 2 of 4"]),
    "scale fixed at 4": (psnr_with(s=4), ["4 pixels were cropped whatever the scale", "case 2 of 4"]),
    "in place": (lambda sr, hr, s, r: psnr_right(sr.sub_(hr), torch.zeros_like(hr), s, r), ["sr was changed in place"]),
}


@pytest.mark.parametrize("name", [*PSNR_RIGHT, *PSNR_WRONG])
def test_psnr(name, capsys):
    run(checks.check_psnr, PSNR_RIGHT, PSNR_WRONG, name, capsys)


def test_the_psnr_check_agrees_with_the_library_on_a_real_image():
    from ganlab.superres import held_out_images, psnr_y, quantize, upscale_bicubic

    im = held_out_images(names=("coffee",))[0]
    sr = upscale_bicubic(im.lr[None])
    mine = psnr_right(rgb_to_y(quantize(sr)).double(), rgb_to_y(quantize(im.hr[None])).double(), 4, 255.0)
    torch.testing.assert_close(mine.float(), psnr_y(sr, im.hr[None]), rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------- the pixel shuffle
def ps_reshape(x, r):
    n, c2, h, w = x.shape
    c = c2 // (r * r)
    return x.view(n, c, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h * r, w * r)


def ps_slices(x, r):
    n, c2, h, w = x.shape
    out = x.new_zeros(n, c2 // (r * r), h * r, w * r)
    for i in range(r):
        for j in range(r):
            out[:, :, i::r, j::r] = x[:, i * r + j::r * r]
    return out


def ps_unflatten(x, r):
    y = x.unflatten(1, (-1, r, r))  # (N, C, r, r, H, W)
    return y.permute(0, 1, 4, 2, 5, 3).flatten(4, 5).flatten(2, 3)


def ps_with(rrc=False, transposed=False, tiled=False, r_fixed=None):
    def fn(x, r):
        r = r_fixed or r
        n, c2, h, w = x.shape
        c = c2 // (r * r)
        y = x.reshape(n, r, r, c, h, w).permute(0, 3, 1, 2, 4, 5) if rrc else x.reshape(n, c, r, r, h, w)
        y = y.transpose(2, 3) if transposed else y
        y = y.permute(0, 1, 2, 4, 3, 5) if tiled else y.permute(0, 1, 4, 2, 5, 3)
        return y.reshape(n, c, r * h, r * w)
    return fn


PS_RIGHT = {"F.pixel_shuffle": F.pixel_shuffle, "nn.PixelShuffle": lambda x, r: nn.PixelShuffle(r)(x),
            "view and permute": ps_reshape, "strided slices": ps_slices, "unflatten": ps_unflatten}
PS_WRONG = {
    "(r, r, C) split": (ps_with(rrc=True), ["(r, r, C)", "depth_to_space", "case 1 of 5"]),
    "offsets transposed": (ps_with(transposed=True), ["offsets are swapped"]),
    "tiled": (ps_with(tiled=True), ["tiles"]),
    "(r, r, C) and transposed": (ps_with(rrc=True, transposed=True), ["split as (r, r, C) and the offsets swapped"]),
    "plain reshape": (lambda x, r: x.reshape(x.shape[0], -1, x.shape[2] * r, x.shape[3] * r), ["plain reshape"]),
    "r fixed at 2, r = 3": (ps_with(r_fixed=2), ["Your function raised", "use the argument r", "case 2 of 5"]),
    "r fixed at 2, via F": (lambda x, r: F.pixel_shuffle(x, 2), ["Your function raised", "use the argument r, here 3",
                                                                 "case 2 of 5"]),
    "r fixed at 2, r = 4": (lambda x, r: F.pixel_shuffle(x, 2) if x.shape[1] % 4 == 0 else F.pixel_shuffle(x, r),
                            ["upsampled by 2", "case 3 of 5"]),
    "pixel unshuffle": (lambda x, r: F.pixel_unshuffle(x, r), ["this is the inverse, the pixel UNshuffle"]),
    "pixel unshuffle, odd size": (lambda x, r: F.pixel_shuffle(x, r) if r == 2 else F.pixel_unshuffle(x, r),
                                  ["Your function raised", "pixel_unshuffle is the inverse", "case 2 of 5"]),
    "offsets all in the height": (lambda x, r: x.reshape(x.shape[0], -1, x.shape[2] * r * r, x.shape[3]),
                                  ["went into the height"]),
    "detached": (lambda x, r: F.pixel_shuffle(x.detach(), r), ["carry no gradient"]),
}


@pytest.mark.parametrize("name", [*PS_RIGHT, *PS_WRONG])
def test_pixel_shuffle(name, capsys):
    run(checks.check_pixel_shuffle, PS_RIGHT, PS_WRONG, name, capsys)


# ---------------------------------------------------------------- the residual block
def rb_right(x, conv1, bn1, prelu, conv2, bn2):
    return x + bn2(conv2(prelu(bn1(conv1(x)))))


def rb_sequential(x, *layers):
    return torch.add(nn.Sequential(*layers)(x), x)


def rb_out_plus_equals(x, conv1, bn1, prelu, conv2, bn2):
    out = conv1(x)
    out = prelu(bn1(out))
    out = bn2(conv2(out))
    out += x  # in place on out, not on x
    return out


def _bn(h, bn, training=None):
    training = bn.training if training is None else training
    return F.batch_norm(h, bn.running_mean, bn.running_var, bn.weight, bn.bias, training, bn.momentum, bn.eps)


def rb_functional(x, conv1, bn1, prelu, conv2, bn2):
    h = F.prelu(_bn(F.conv2d(x, conv1.weight, padding=1), bn1), prelu.weight)
    return x + _bn(F.conv2d(h, conv2.weight, padding=1), bn2)


def rb_with(variant):
    def fn(x, c1, b1, act, c2, b2):
        return {
            "no skip": lambda: b2(c2(act(b1(c1(x))))),
            "act after": lambda: act(x + b2(c2(act(b1(c1(x)))))),
            "relu after": lambda: F.relu(x + b2(c2(act(b1(c1(x)))))),
            "skip before bn2": lambda: b2(x + c2(act(b1(c1(x))))),
            "act at the end": lambda: x + act(b2(c2(act(b1(c1(x)))))),
            "act before bn": lambda: x + b2(c2(b1(act(c1(x))))),
            "relu": lambda: x + b2(c2(F.relu(b1(c1(x))))),
            "bn swapped": lambda: x + b1(c2(act(b2(c1(x))))),
            "conv1 twice": lambda: x + b2(c1(act(b1(c1(x))))),
            "no bn": lambda: x + c2(act(c1(x))),
            "always running stats": lambda: x + _bn(c2(act(_bn(c1(x), b1, False))), b2, False),
            "always batch stats": lambda: x + _bn(c2(act(_bn(c1(x), b1, True))), b2, True),
            "eval inside": lambda: rb_right(x, c1, b1.eval(), act, c2, b2.eval()),
            "bn1 twice": lambda: (b1(c1(x)), rb_right(x, c1, b1, act, c2, b2))[1],
            "new prelu": lambda: x + b2(c2(nn.PReLU()(b1(c1(x))))),
            "new conv": lambda: x + b2(nn.Conv2d(x.shape[1], x.shape[1], 3, padding=1, bias=False)(act(b1(c1(x))))),
            "skip detached": lambda: x.detach() + b2(c2(act(b1(c1(x))))),
            "weights changed": lambda: (c1.weight.data.mul_(1.0001), rb_right(x, c1, b1, act, c2, b2))[1],
        }[variant]()
    return fn


def rb_in_place(x, conv1, bn1, prelu, conv2, bn2):
    x += bn2(conv2(prelu(bn1(conv1(x)))))
    return x


def rb_in_place_data(x, conv1, bn1, prelu, conv2, bn2):
    body = bn2(conv2(prelu(bn1(conv1(x)))))
    x.data.add_(body.data)
    return x + 0 * body


RB_RIGHT = {"written out": rb_right, "nn.Sequential": rb_sequential, "out += x": rb_out_plus_equals,
            "F.conv2d and F.batch_norm": rb_functional}
RB_WRONG = {
    "no skip": (rb_with("no skip"), ["skip connection is missing"]),
    "PReLU after the sum": (rb_with("act after"), ["activation after the sum"]),
    "ReLU after the sum": (rb_with("relu after"), ["ReLU after the sum"]),
    "skip before bn2": (rb_with("skip before bn2"), ["before the second BatchNorm"]),
    "second PReLU": (rb_with("act at the end"), ["second PReLU after bn2"]),
    "PReLU before bn1": (rb_with("act before bn"), ["PReLU comes before bn1"]),
    "ReLU": (rb_with("relu"), ["this is a ReLU"]),
    "bn swapped": (rb_with("bn swapped"), ["bn1 and bn2 are swapped"]),
    "conv1 twice": (rb_with("conv1 twice"), ["conv1 was used twice"]),
    "no BatchNorm": (rb_with("no bn"), ["BatchNorm layers are missing"]),
    "running statistics in train mode": (rb_with("always running stats"), ["running statistics in train mode",
                                                                           "case 1 of 4"]),
    "batch statistics in eval mode": (rb_with("always batch stats"), ["changed in eval mode", "case 2 of 4",
                                                                      "batch's statistics in eval mode"]),
    "switched to eval": (rb_with("eval inside"), ["bn1 was switched to eval mode"]),
    "bn1 called twice": (rb_with("bn1 twice"), ["bn1's running statistics are not", "exactly once"]),
    "a new PReLU": (rb_with("new prelu"), ["default slope 0.25"]),
    "a new convolution": (rb_with("new conv"), ["global random generator", "created new layers"]),
    "skip detached": (rb_with("skip detached"), ["gradient with respect to x is not"]),
    "weights changed": (rb_with("weights changed"), ["conv1's weight changed"]),
    "x += ...": (rb_in_place, ["Your function raised", "changed in place"]),
    "x changed through .data": (rb_in_place_data, ["x was changed in place"]),
}


@pytest.mark.parametrize("name", [*RB_RIGHT, *RB_WRONG])
def test_residual_block(name, capsys):
    run(checks.check_residual_block, RB_RIGHT, RB_WRONG, name, capsys)


def test_the_residual_block_is_srresnets():
    from ganlab.srgan import ResidualBlock

    block = ResidualBlock(4)
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(rb_right(x, *copy.deepcopy(block).body), block(x))


# ---------------------------------------------------------------- the content loss
def cl_right(phi, sr, hr):
    with torch.no_grad():
        target = phi(imagenet_normalize(hr))
    return F.mse_loss(phi(imagenet_normalize(sr)), target)


def cl_by_hand(phi, sr, hr):
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    norm = lambda x: ((x + 1) / 2 - mean) / std  # noqa: E731
    return ((phi(norm(sr)) - phi(norm(hr)).detach()) ** 2).mean()


def cl_torchvision(phi, sr, hr):
    from torchvision.transforms.functional import normalize

    f = lambda x: phi(normalize((x + 1) / 2, IMAGENET_MEAN, IMAGENET_STD))  # noqa: E731
    return F.mse_loss(f(sr), f(hr.detach()))


def cl_library(phi, sr, hr):
    return content_loss(FeatureExtractor(phi), sr, hr)


def cl_with(norm=imagenet_normalize, loss=F.mse_loss, detach=True, sr_grad=True, swap=False):
    def fn(phi, sr, hr):
        a, b = (hr, sr) if swap else (sr, hr)
        target = phi(norm(b))
        target = target.detach() if detach else target
        out = phi(norm(a)) if sr_grad or swap else phi(norm(a)).detach()
        return loss(out, target)
    return fn


MEAN, STD = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def cl_train_mode(phi, sr, hr):
    phi.train()
    out = cl_right(phi, sr, hr)
    phi.eval()
    return out


def cl_stays_in_train(phi, sr, hr):
    return cl_right(phi.train(), sr, hr)


def cl_unfreezes(phi, sr, hr):
    phi.requires_grad_(True)  # "so that gradients flow through phi"
    return cl_right(phi, sr, hr)


def cl_new_phi(phi, sr, hr):
    return cl_right(random_features(width=4, depth=2).net, sr, hr)


def cl_backward(phi, sr, hr):
    loss = cl_right(phi, sr, hr)
    loss.backward()
    return loss


CL_RIGHT = {"no_grad target": cl_right, "by hand, detach": cl_by_hand, "torchvision normalize": cl_torchvision,
            "the library's, with FeatureExtractor": cl_library}
CL_WRONG = {
    "no normalisation": (cl_with(norm=lambda x: x), ["images as they are", "[-1, 1]"]),
    "normalised without the shift": (cl_with(norm=lambda x: (x - MEAN) / STD), ["applied to x in [-1, 1]"]),
    "[0, 1] only": (cl_with(norm=lambda x: (x + 1) / 2), ["mapped to [0, 1] but not normalised"]),
    "mean only": (cl_with(norm=lambda x: (x + 1) / 2 - MEAN), ["std not divided"]),
    "std only": (cl_with(norm=lambda x: (x + 1) / 2 / STD), ["mean not subtracted"]),
    "L1": (cl_with(loss=F.l1_loss), ["mean ABSOLUTE error"]),
    "sum": (cl_with(loss=lambda a, b: ((a - b) ** 2).sum()), ["summed"]),
    "RMSE": (cl_with(loss=lambda a, b: F.mse_loss(a, b).sqrt()), ["root of the MSE"]),
    "pixels": (lambda phi, sr, hr: F.mse_loss(sr, hr), ["pixels were compared"]),
    "train mode, switched back": (cl_train_mode, ["phi ran in train mode"]),
    "left in train mode": (cl_stays_in_train, ["phi was switched to train mode"]),
    "unfrozen": (cl_unfreezes, ["phi's weights now require gradients"]),
    "target not detached": (cl_with(detach=False), ["gradient reaches hr", "constant"]),
    "SR detached": (cl_with(sr_grad=False, detach=True), ["carries no gradient"]),
    "sr and hr swapped": (cl_with(swap=True), ["gradient with respect to sr is not"]),
    "a new phi": (cl_new_phi, ["global random generator", "use the phi you are given"]),
    "a float": (lambda phi, sr, hr: cl_right(phi, sr, hr).item(), ["must return a torch tensor"]),
    "backward inside": (cl_backward, ["called backward()"]),
    "per feature": (lambda phi, sr, hr: (phi(imagenet_normalize(sr)) - phi(imagenet_normalize(hr)).detach()) ** 2,
                    ["It returned shape", "one number"]),
}


@pytest.mark.parametrize("name", [*CL_RIGHT, *CL_WRONG])
def test_content_loss(name, capsys):
    run(checks.check_content_loss, CL_RIGHT, CL_WRONG, name, capsys)


# ---------------------------------------------------------------- SRGAN's generator loss
def gl_right(logits, content, w):
    return content + w * F.softplus(-logits).mean()


def gl_bce(logits, content, w):
    return content + w * F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


GL_RIGHT = {"softplus": gl_right, "logsigmoid": lambda l, c, w: c - w * F.logsigmoid(l).mean(),
            "BCE with logits": gl_bce,
            "the library's G loss": lambda l, c, w: c + w * g_loss_nonsaturating(l),
            "log of sigmoid (unstable)": lambda l, c, w: c - w * torch.log(torch.sigmoid(l)).mean()}
sp = lambda t: F.softplus(t).mean()  # noqa: E731
GL_WRONG = {
    "sign": (lambda l, c, w: c - w * sp(-l), ["adversarial term has the wrong sign"]),
    "saturating": (lambda l, c, w: c + w * torch.log(1 - torch.sigmoid(l)).mean(), ["saturating form"]),
    "label 0": (lambda l, c, w: c + w * F.binary_cross_entropy_with_logits(l, torch.zeros_like(l)), ["label 0"]),
    "weight on the content": (lambda l, c, w: w * c + sp(-l), ["weight is on the content term"]),
    "weight missing": (lambda l, c, w: c + sp(-l), ["weight is missing"]),
    "1 - weight": (lambda l, c, w: (1 - w) * c + w * sp(-l), ["1 - adversarial_weight"]),
    "content missing": (lambda l, c, w: w * sp(-l), ["content term is missing"]),
    "sigmoid twice": (lambda l, c, w: c + w * sp(-torch.sigmoid(l)), ["sigmoid applied twice"]),
    "summed": (lambda l, c, w: c + w * F.softplus(-l).sum(), ["summed over the batch"]),
    "log of the mean": (lambda l, c, w: c - w * torch.sigmoid(l).mean().log(), ["MEAN OF THE LOGS"]),
    "logits as probabilities": (lambda l, c, w: c - w * torch.log(l).mean(), ["NaN", "Logits are any real number"]),
    "BCE on logits": (lambda l, c, w: c + w * F.binary_cross_entropy(l, torch.ones_like(l)),
                      ["Your function raised", "binary_cross_entropy_with_logits"]),
    "per example": (lambda l, c, w: c + w * F.softplus(-l), ["not a scalar", "average the adversarial term"]),
    "a float": (lambda l, c, w: gl_right(l, c, w).item(), ["must return a torch tensor"]),
    "backward inside": (lambda l, c, w: (lambda loss: (loss.backward(), loss)[1])(gl_right(l, c, w)),
                        ["called backward()"]),
    "detached": (lambda l, c, w: gl_right(l, c, w).detach(), ["carries no gradient"]),
    "content detached": (lambda l, c, w: gl_right(l, c.detach(), w), ["gradient with respect to content"]),
}


@pytest.mark.parametrize("name", [*GL_RIGHT, *GL_WRONG])
def test_srgan_g_loss(name, capsys):
    run(checks.check_srgan_g_loss, GL_RIGHT, GL_WRONG, name, capsys)


def test_the_g_loss_check_notes_an_unstable_form(capsys):
    out = passes(checks.check_srgan_g_loss, GL_RIGHT["log of sigmoid (unstable)"], capsys)
    assert "Note (not an error)" in out and "F.softplus(-logits)" in out
    assert "Note" not in passes(checks.check_srgan_g_loss, gl_right, capsys)


# ---------------------------------------------------------------- network interpolation
def ni_state_dict(a, b, alpha):
    sb = b.state_dict()
    mixed = {k: (1 - alpha) * v + alpha * sb[k] if v.is_floating_point() else v for k, v in a.state_dict().items()}
    out = copy.deepcopy(a)
    out.load_state_dict(mixed)
    return out


@torch.no_grad()
def ni_in_a_copy(a, b, alpha):
    out = copy.deepcopy(a)
    for x, y in zip([*out.parameters(), *out.buffers()], [*b.parameters(), *b.buffers()]):
        if x.is_floating_point():
            x.lerp_(y, alpha)
    return out


def ni_with(alpha_of=lambda a: a, params_only=False, start="a", ints="a", in_place=False, weights=None):
    def fn(a, b, alpha):
        t = alpha_of(alpha)
        out = {"a": a, "b": b}[start] if in_place else copy.deepcopy({"a": a, "b": b}[start])
        keys = {k for k, _ in a.named_parameters()}
        sa, sb = a.state_dict(), b.state_dict()
        mixed = {}
        for k, v in sa.items():
            if params_only and k not in keys:
                continue
            if not v.is_floating_point():
                mixed[k] = {"a": v, "b": sb[k], "mix": ((1 - t) * v + t * sb[k]).long()}[ints]
            else:
                wa, wb = weights or (1 - t, t)
                mixed[k] = wa * v + wb * sb[k]
        out.load_state_dict(mixed, strict=False)
        return out
    return fn


def ni_shallow(a, b, alpha):
    out = copy.copy(a)
    out.load_state_dict(interpolate_networks(a, b, alpha).state_dict())
    return out


def ni_state(a, b, alpha):
    return interpolate_networks(a, b, alpha).state_dict()


def ni_lerp_ints(a, b, alpha):
    mixed = {k: torch.lerp(v, b.state_dict()[k], alpha) for k, v in a.state_dict().items()}
    out = copy.deepcopy(a)
    out.load_state_dict(mixed)
    return out


NI_RIGHT = {"the library's": interpolate_networks, "state dicts": ni_state_dict, "lerp_ in a copy": ni_in_a_copy}
NI_WRONG = {
    "alpha reversed": (ni_with(alpha_of=lambda t: 1 - t), ["alpha is reversed"]),
    "parameters only": (ni_with(params_only=True), ["float buffers", "they are a's", "state_dict(), not parameters()"]),
    "parameters only, from b": (ni_with(params_only=True, start="b", ints="b"), ["they are b's"]),
    "integer buffers mixed": (ni_with(ints="mix"), ["integer buffer", "num_batches_tracked", "take them from a"]),
    "integer buffers from b": (ni_with(ints="b"), ["integer buffer", "take them from a"]),
    "integer buffers lerped": (ni_lerp_ints, ["Your function raised", "integer buffer was interpolated"]),
    "a modified in place": (ni_with(in_place=True), ["a was changed", "returned a itself"]),
    "written into b": (ni_with(in_place=True, start="b"), ["b was changed", "returned b itself"]),
    "shallow copy": (ni_shallow, ["a was changed", "written into a"]),
    "a state dict": (ni_state, ["returned a dict", "load_state_dict"]),
    "a unchanged, returned": (lambda a, b, alpha: a, ["returned a itself", "NEW network"]),
    "no factor 1 - alpha": (lambda a, b, t: ni_with(weights=(1.0, t))(a, b, t), ["factor 1 - alpha"]),
    "an even mix": (ni_with(weights=(0.5, 0.5)), ["even mix"]),
}


@pytest.mark.parametrize("name", [*NI_RIGHT, *NI_WRONG])
def test_interpolate_networks(name, capsys):
    run(checks.check_interpolate_networks, NI_RIGHT, NI_WRONG, name, capsys)


# ---------------------------------------------------------------- all of them
RIGHT = [(checks.check_degrade, degrade), (checks.check_rgb_to_y, rgb_to_y), (checks.check_psnr, psnr_right),
         (checks.check_pixel_shuffle, F.pixel_shuffle), (checks.check_residual_block, rb_right),
         (checks.check_content_loss, cl_right), (checks.check_srgan_g_loss, gl_right),
         (checks.check_interpolate_networks, interpolate_networks)]


def test_no_check_moves_the_global_random_stream():
    """A check that builds layers or draws inputs must leave the student's seeded stream where it was."""
    for check, fn in RIGHT:
        state = torch.get_rng_state()
        check(fn)
        assert torch.equal(torch.get_rng_state(), state), check.__name__


def test_a_failure_names_the_case_the_values_and_the_diagnosis():
    message = fails(checks.check_psnr, PSNR_WRONG["no crop"][0])
    assert message.splitlines()[0].startswith("check_psnr failed (PSNR with the border cropped) on case 1 of 4.")
    assert "Diagnosis:" in message and "expected:" in message and "got:" in message and "scale = 4" in message


def test_an_unfinished_exercise_says_so():
    def todo(*args):
        raise NotImplementedError("Exercise 3: crop, then the MSE of each image")

    for check, _ in RIGHT:
        message = fails(check, todo, "Exercise 3 is not done yet")
        assert "`todo`" in message

"""Chapter 03's checks pass correct answers written in different ways and name each classic mistake."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn

import ganlab.latent
from ganlab import checks
from ganlab.image_metrics import fid_from_features
from ganlab.losses import d_loss_bce
from checking import fails, passes, slerp_from_cos


# ---------------------------------------------------------------- the generator block
def block_right(c_in, c_out):
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True))


class BlockModule(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.up(x)))


def block(conv=None, norm=True, act=nn.ReLU):
    def fn(c_in, c_out):
        layers = [conv(c_in, c_out) if conv else nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
        layers += [nn.BatchNorm2d(c_out)] if norm else []
        layers += [act()] if act else []
        return nn.Sequential(*layers)
    return fn


def test_generator_block(capsys):
    for fn in (block_right, BlockModule, block(act=lambda: nn.ReLU(inplace=False))):
        passes(checks.check_generator_block, fn, capsys)
    check = checks.check_generator_block
    fails(check, block(conv=lambda i, o: nn.ConvTranspose2d(i, o, 3, 1, 1, bias=False)), "stride 1")
    fails(check, block(conv=lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 1)), "bias=True before BatchNorm")
    fails(check, block(norm=False), "missing BatchNorm")
    fails(check, block(conv=lambda i, o: nn.ConvTranspose2d(i, o, 3, 2, 1, bias=False)), "kernel 3", "2H - 1")
    fails(check, block(conv=lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 0, bias=False)), "padding 0")
    fails(check, block(act=lambda: nn.LeakyReLU(0.2)), "LeakyReLU belongs to the discriminator")
    fails(check, block(act=nn.Tanh), "Tanh belongs only after G's LAST layer")
    fails(check, block(act=None), "ReLU is missing")
    fails(check, block(conv=lambda i, o: nn.Conv2d(i, o, 4, 2, 1, bias=False)), "TRANSPOSED")
    fails(check, lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.ReLU(),
                                            nn.BatchNorm2d(o)), "the order is convolution, then BatchNorm")
    fails(check, lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(i),
                                            nn.ReLU()), "raised")


# ---------------------------------------------------------------- the discriminator step on images
def d_step_right(G, D, real, z, opt_d):
    opt_d.zero_grad()
    with torch.no_grad():
        fake = G(z)
    loss = d_loss_bce(D(real), D(fake))
    loss.backward()
    opt_d.step()
    return loss.item()


def d_step_bce(G, D, real, z, opt_d):
    fake = G(z).detach()
    real_logits, fake_logits = D(real), D(fake)
    loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return loss.detach().cpu().item()


def d_step_variant(detach=True, zero=True, swap=False, sign=1.0, joint=False):
    def fn(G, D, real, z, opt_d):
        if zero:
            opt_d.zero_grad()
        fake = G(z).detach() if detach else G(z)
        if joint:
            logits = D(torch.cat([real, fake]))
            r, f = logits[:len(real)], logits[len(real):]
        else:
            r, f = D(real), D(fake)
        loss = sign * (d_loss_bce(f, r) if swap else d_loss_bce(r, f))
        loss.backward()
        opt_d.step()
        return loss.item()
    return fn


def test_d_step_images(capsys):
    for fn in (d_step_right, d_step_bce):
        passes(checks.check_d_step_images, fn, capsys)
    check = checks.check_d_step_images
    fails(check, d_step_variant(detach=False), "not detached")
    fails(check, d_step_variant(zero=False), "zero_grad() before loss.backward()")
    fails(check, d_step_variant(swap=True), "real and fake are swapped")
    fails(check, d_step_variant(sign=-1.0), "climbed its loss")
    fails(check, d_step_variant(joint=True), "ONE batch")
    fails(check, lambda *a: torch.tensor(d_step_right(*a)), "Python float")


# ---------------------------------------------------------------- lerp and slerp
def test_lerp(capsys):
    for fn in (lambda a, b, t: (1 - t) * a + t * b, torch.lerp, lambda a, b, t: a + t * (b - a)):
        passes(checks.check_lerp, fn, capsys)
    fails(checks.check_lerp, lambda a, b, t: t * a + (1 - t) * b, "endpoints are swapped")
    fails(checks.check_lerp, lambda a, b, t: a + t * b, "do not add up to 1")
    fails(checks.check_lerp, lambda a, b, t: ((1 - t) * a + t * b).tolist(), "torch tensor")


def slerp_right(z0, z1, t):
    cos = (F.normalize(z0, dim=1) * F.normalize(z1, dim=1)).sum(1, keepdim=True).clamp(-1, 1)
    return slerp_from_cos(cos, z0, z1, t)


def slerp_numpy(z0, z1, t):
    """White (2016)'s formula, a row at a time, with the |dot| > 0.9995 fallback of his code."""
    out = []
    for a, b in zip(z0.double().numpy(), z1.double().numpy()):
        dot = np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b))
        if abs(dot) > 0.9995:
            out.append((1 - t) * a + t * b)
            continue
        omega = np.arccos(dot)
        out.append(np.sin((1 - t) * omega) / np.sin(omega) * a + np.sin(t * omega) / np.sin(omega) * b)
    return torch.tensor(np.stack(out), dtype=z0.dtype)


def slerp_one_sided_guard(z0, z1, t):
    """Falls back to lerp only for parallel rows (cos close to +1): opposite rows divide by sin(pi) ~ 0."""
    cos = (F.normalize(z0, dim=1) * F.normalize(z1, dim=1)).sum(1, keepdim=True).clamp(-1, 1)
    omega = torch.acos(cos)
    small = cos > 1 - 1e-6
    so = torch.where(small, torch.ones_like(omega), torch.sin(omega))
    out = torch.sin((1 - t) * omega) / so * z0 + torch.sin(t * omega) / so * z1
    return torch.where(small, (1 - t) * z0 + t * z1, out)


def slerp_batch_if(z0, z1, t):
    """One `if` for the whole batch: lerp everywhere as soon as one row needs the fallback."""
    cos = (F.normalize(z0, dim=1) * F.normalize(z1, dim=1)).sum(1, keepdim=True).clamp(-1, 1)
    if (cos.abs() > 0.9995).any():
        return (1 - t) * z0 + t * z1
    omega = torch.acos(cos)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def slerp_numpy_loop(z0, z1, t):
    """White (2016)'s formula, one pair at a time, in NumPy."""
    out = []
    for a, b in zip(z0.numpy().astype(np.float64), z1.numpy().astype(np.float64)):
        omega = np.arccos(np.clip(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)), -1, 1))
        so = np.sin(omega)
        out.append((1.0 - t) * a + t * b if so < 1e-8 else np.sin((1.0 - t) * omega) / so * a + np.sin(t * omega) / so * b)
    return torch.tensor(np.stack(out), dtype=z0.dtype)


def slerp_atan2(z0, z1, t):
    dot = (z0 * z1).sum(1, keepdim=True)
    cross = (z0.norm(dim=1, keepdim=True) * z1.norm(dim=1, keepdim=True)) ** 2 - dot**2
    omega = torch.atan2(cross.clamp(min=0).sqrt(), dot)
    small = torch.sin(omega).abs() < 1e-5  # parallel or opposite
    so = torch.where(small, torch.ones_like(omega), torch.sin(omega))
    w0 = torch.where(small, 1 - t, torch.sin((1 - t) * omega) / so)
    w1 = torch.where(small, torch.full_like(omega, t), torch.sin(t * omega) / so)
    return w0 * z0 + w1 * z1


def test_slerp(capsys):
    for fn in (slerp_right, slerp_numpy, slerp_numpy_loop, slerp_atan2, ganlab.latent.slerp):
        out = passes(checks.check_slerp, fn, capsys)
        assert "(7 cases)" in out
    check = checks.check_slerp

    def with_omega(omega_fn, unit=False, divide=True, swap=False):
        def fn(z0, z1, t):
            if swap:
                z0, z1 = z1, z0
            omega = omega_fn(z0, z1)
            a, b = (F.normalize(z0, dim=1), F.normalize(z1, dim=1)) if unit else (z0, z1)
            so = torch.sin(omega) if divide else 1.0
            return torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b
        return fn

    per_row = lambda z0, z1: torch.acos((F.normalize(z0, dim=1) * F.normalize(z1, dim=1)).sum(1, keepdim=True))  # noqa: E731
    whole = lambda z0, z1: torch.acos((F.normalize(z0.flatten(), dim=0) * F.normalize(z1.flatten(), dim=0)).sum())  # noqa: E731
    fails(check, lambda z0, z1, t: (1 - t) * z0 + t * z1, "LINEAR interpolation")
    fails(check, lambda z0, z1, t: torch.lerp(z0, z1, t), "LINEAR interpolation")
    fails(check, with_omega(per_row, swap=True), "endpoints are swapped")
    fails(check, with_omega(whole), "one angle for the whole batch")
    fails(check, with_omega(per_row, unit=True), "inputs were normalised")
    fails(check, with_omega(per_row, divide=False), "division by sin(omega) is missing")
    fails(check, with_omega(lambda z0, z1: torch.acos((z0 * z1).sum(1, keepdim=True))), "NaN", "BOTH norms")
    fails(check, with_omega(lambda z0, z1: per_row(z0, z1).squeeze(1)), "keepdim=True")
    message = fails(check, with_omega(per_row), "case 6 of 7")  # correct except where the rows are parallel
    assert "parallel" in message or "Rows 2 and 3" in message
    fails(check, slerp_one_sided_guard, "case 7 of 7", "opposite", "NaN")
    fails(check, slerp_batch_if, "case 6 of 7", "LINEAR")


def test_the_library_slerp_and_lerp_reject_bad_input():
    z = torch.randn(3, 8)
    assert torch.equal(ganlab.latent.lerp(z, -z, 0.5), torch.zeros(3, 8))
    with pytest.raises(ValueError, match=r"same shape \(N, d\).*z\[None\]"):
        ganlab.latent.slerp(z[0], z[1], 0.5)
    with pytest.raises(ValueError, match="t must lie in"):
        ganlab.latent.slerp(z, z, 1.5)


# ---------------------------------------------------------------- FID from features
def fid_scipy(real, fake):
    r, f = real.double().numpy(), fake.double().numpy()
    s_r, s_f = np.cov(r, rowvar=False), np.cov(f, rowvar=False)
    covmean = scipy.linalg.sqrtm(s_r @ s_f).real
    return float(((r.mean(0) - f.mean(0)) ** 2).sum() + np.trace(s_r + s_f - 2 * covmean))


def fid_torch_eig(real, fake, ddof=1, sqrt_of_trace=False, mean_power=2, mean=True, dtype=torch.float64):
    r, f = real.to(dtype), fake.to(dtype)
    mu_r, mu_f = r.mean(0), f.mean(0)
    s_r = (r - mu_r).T @ (r - mu_r) / (len(r) - ddof)
    s_f = (f - mu_f).T @ (f - mu_f) / (len(f) - ddof)
    if sqrt_of_trace:
        tr = torch.trace(s_r @ s_f).sqrt()
    else:
        tr = torch.linalg.eigvals(s_r @ s_f).real.clamp(min=0).sqrt().sum()
    m = (mu_r - mu_f).norm() ** mean_power if mean else 0.0
    return m + torch.trace(s_r) + torch.trace(s_f) - 2 * tr


def fid_wrong_axis(real, fake):
    r, f = real.double().numpy(), fake.double().numpy()
    s_r, s_f = np.cov(r), np.cov(f)  # rowvar=True: (N, N)
    covmean = scipy.linalg.sqrtm(s_r @ s_f).real
    return float(((r.mean(0) - f.mean(0)) ** 2).sum() + np.trace(s_r + s_f - 2 * covmean))


def fid_elementwise_sqrt(real, fake):
    r, f = real.double(), fake.double()
    s_r, s_f = torch.cov(r.T), torch.cov(f.T)
    return ((r.mean(0) - f.mean(0)) ** 2).sum() + torch.trace(s_r + s_f - 2 * torch.sqrt(s_r @ s_f))


def fid_raw_moments_float32(real, fake):
    """Covariances as E[x x^T] - mu mu^T in float32: exact algebra, but large numbers cancel."""
    def stats(x):
        mu = x.mean(0)
        return mu, (x.T @ x / len(x) - torch.outer(mu, mu)) * len(x) / (len(x) - 1)
    (mu_r, s_r), (mu_f, s_f) = stats(real.float()), stats(fake.float())
    tr = torch.linalg.eigvals(s_r @ s_f).real.clamp(min=0).sqrt().sum()
    return ((mu_r - mu_f) ** 2).sum() + torch.trace(s_r) + torch.trace(s_f) - 2 * tr


def test_fid_from_features(capsys):
    passes(checks.check_fid_from_features, fid_from_features, capsys)
    for fn in (fid_scipy, fid_torch_eig):
        out = passes(checks.check_fid_from_features, fn, capsys)
        assert "Note" not in out
    out = passes(checks.check_fid_from_features, lambda r, f: fid_torch_eig(r, f, ddof=0), capsys)
    assert "divide by N (population)" in out
    check = checks.check_fid_from_features
    fails(check, fid_wrong_axis, "wrong axis")
    fails(check, lambda r, f: fid_torch_eig(r, f, sqrt_of_trace=True), "square root of the trace")
    fails(check, lambda r, f: fid_torch_eig(r, f, mean=False), "mean term")
    fails(check, lambda r, f: fid_torch_eig(r, f, mean_power=1), "not squared")
    fails(check, fid_elementwise_sqrt, "ELEMENTWISE square root")
    fails(check, fid_raw_moments_float32, "float64")
    fails(check, lambda r, f: fid_torch_eig(r, f, dtype=torch.float32), "float64", "case 5 of 5")


@pytest.mark.parametrize("check", [checks.check_generator_block, checks.check_d_step_images, checks.check_lerp,
                                   checks.check_slerp, checks.check_fid_from_features], ids=lambda c: c.__name__)
def test_unfinished_exercise_says_so(check):
    def todo(*args):
        raise NotImplementedError("Exercise 2: write it")
    fails(check, todo, "Exercise 2 is not done yet")

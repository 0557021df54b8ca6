import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganlab.images import natural_image
from ganlab.pyramids import (binomial_kernel, blur, downsample, gaussian_pyramid, laplacian_pyramid, reconstruct,
                             upsample)


def randn(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=dtype)


def smooth(h: int, w: int) -> torch.Tensor:
    """A slowly varying image (1, 2, h, w): cosines flat at the borders, so their reflection is smooth too."""
    i = torch.linspace(0, 1, h)[:, None]
    j = torch.linspace(0, 1, w)[None, :]
    return torch.stack([torch.cos(math.pi * i) * torch.cos(math.pi * j),
                        0.5 * torch.cos(2 * math.pi * i) + 0.25 * torch.cos(math.pi * j)])[None]


# --------------------------------------------------------------------------- the kernel
def test_kernel_is_the_binomial_filter():
    w = binomial_kernel()
    assert w.shape == (5,) and w.dtype == torch.float32
    assert torch.equal(w, torch.tensor([1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]))
    a = 0.375  # Burt & Adelson's [1/4 - a/2, 1/4, a, 1/4, 1/4 - a/2]
    assert torch.allclose(w, torch.tensor([0.25 - a / 2, 0.25, a, 0.25, 0.25 - a / 2]))


def test_kernel_sums_to_one_with_equal_contribution():
    w = binomial_kernel()
    assert w.sum() == 1 and torch.outer(w, w).sum() == 1
    assert w[0::2].sum() == w[1::2].sum() == 0.5  # why upsample multiplies by 4


# --------------------------------------------------------------------------- blur
@pytest.mark.parametrize("h, w", [(8, 8), (7, 10), (3, 5)])
def test_blur_matches_a_5x5_convolution_with_reflect_padding(h, w):
    x = randn(2, 3, h, w)
    k = torch.outer(binomial_kernel(), binomial_kernel()).repeat(3, 1, 1, 1)  # (3, 1, 5, 5)
    ref = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=3)
    assert torch.allclose(blur(x), ref, atol=1e-6)


@pytest.mark.parametrize("h, w", [(1, 1), (1, 4), (2, 2), (2, 5)])
def test_blur_of_tiny_images_matches_numpy_reflection(h, w):
    """Sides shorter than the padding reflect again and again, as np.pad(mode="reflect") does."""
    x = randn(1, 1, h, w, dtype=torch.float64)
    padded = torch.from_numpy(np.pad(x.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect"))
    k = torch.outer(binomial_kernel(), binomial_kernel()).double()[None, None]
    assert torch.allclose(blur(x), F.conv2d(padded, k), atol=1e-12)


@pytest.mark.parametrize("channels", [1, 3, 5])
def test_blur_keeps_a_constant_image_constant(channels):
    x = torch.full((2, channels, 9, 6), 0.7)
    assert torch.allclose(blur(x), x, atol=1e-6)


def test_blur_works_on_each_channel_alone():
    x = randn(1, 3, 8, 8)
    y = blur(x)
    assert all(torch.allclose(y[:, c:c + 1], blur(x[:, c:c + 1]), atol=1e-6) for c in range(3))


# --------------------------------------------------------------------------- down and up
@pytest.mark.parametrize("h, w, out", [(16, 16, (8, 8)), (27, 33, (14, 17)), (5, 2, (3, 1)), (2, 3, (1, 2))])
def test_downsample_rounds_odd_sizes_up(h, w, out):
    y = downsample(randn(2, 3, h, w))
    assert y.shape == (2, 3, *out)


def test_downsample_keeps_the_even_rows_and_columns_of_the_blur():
    x = randn(1, 2, 9, 7)
    assert torch.equal(downsample(x), blur(x)[:, :, ::2, ::2])


@pytest.mark.parametrize("h, w", [(16, 16), (27, 33), (2, 3)])
def test_upsample_returns_the_exact_size_asked(h, w):
    small = randn(1, 3, (h + 1) // 2, (w + 1) // 2)
    assert upsample(small, (h, w)).shape == (1, 3, h, w)


@pytest.mark.parametrize("h, w", [(16, 16), (27, 33), (2, 3)])
def test_upsample_keeps_a_constant_image_constant(h, w):
    """The factor 4 exactly undoes the zeros, at the borders and for odd sizes too."""
    small = torch.full((1, 2, (h + 1) // 2, (w + 1) // 2), -0.3)
    assert torch.allclose(upsample(small, (h, w)), torch.full((1, 2, h, w), -0.3), atol=1e-6)


def test_upsample_puts_four_blurred_zero_filled_samples():
    """EXPAND written differently: a stride-2 transposed convolution with 4 outer(w, w), away from the borders."""
    small = randn(1, 1, 6, 6, dtype=torch.float64)
    k = 4 * torch.outer(binomial_kernel(), binomial_kernel()).double()[None, None]
    ref = F.conv_transpose2d(small, k, stride=2, padding=2, output_padding=1)  # (1, 1, 12, 12)
    assert torch.allclose(upsample(small, (12, 12))[..., 3:-3, 3:-3], ref[..., 3:-3, 3:-3], atol=1e-12)


@pytest.mark.parametrize("h, w", [(32, 32), (27, 33)])
def test_upsampling_the_downsampled_smooth_image_gives_it_back(h, w):
    x = smooth(h, w)
    assert (upsample(downsample(x), (h, w)) - x).abs().max() < 0.05
    noise = randn(1, 2, h, w)  # detail finer than the half-size image can hold is lost
    assert (upsample(downsample(noise), (h, w)) - noise).abs().max() > 1


# --------------------------------------------------------------------------- pyramids
def test_gaussian_pyramid_halves_each_level_finest_first():
    x = randn(2, 3, 27, 33)
    pyr = gaussian_pyramid(x, 4)
    assert [tuple(g.shape[2:]) for g in pyr] == [(27, 33), (14, 17), (7, 9), (4, 5)]
    assert pyr[0] is x and torch.equal(pyr[2], downsample(downsample(x)))


def test_the_largest_number_of_levels_ends_at_one_pixel():
    pyr = gaussian_pyramid(randn(1, 1, 27, 33), 6)
    assert tuple(pyr[-1].shape[2:]) == (1, 2)
    assert len(gaussian_pyramid(randn(1, 1, 1, 5), 1)) == 1


def test_laplacian_pyramid_levels():
    x = randn(2, 3, 27, 33)
    gauss, lap = gaussian_pyramid(x, 4), laplacian_pyramid(x, 4)
    assert [t.shape for t in lap] == [g.shape for g in gauss]
    assert torch.equal(lap[-1], gauss[-1])  # the coarse Gaussian level, as it is
    assert torch.allclose(lap[1], gauss[1] - upsample(gauss[2], (14, 17)))


@pytest.mark.parametrize("shape, levels", [((2, 3, 32, 32), 5), ((1, 3, 27, 33), 6), ((3, 1, 17, 9), 3),
                                           ((1, 2, 5, 40), 4), ((1, 1, 1, 7), 1)])
def test_reconstruction_is_exact(shape, levels):
    x = randn(*shape)
    assert (reconstruct(laplacian_pyramid(x, levels)) - x).abs().max() < 1e-5


def test_reconstruction_of_a_natural_image_is_exact():
    x = natural_image("china", size=67)[None]  # (1, 3, 45, 67)
    pyr = laplacian_pyramid(x, 5)
    assert (reconstruct(pyr) - x).abs().max() < 1e-5
    assert pyr[0].abs().mean() < pyr[-1].abs().mean()  # the finest band holds only the detail


def test_laplacian_levels_of_a_constant_image_vanish():
    x = torch.full((1, 3, 27, 33), 0.25)
    lap = laplacian_pyramid(x, 5)
    assert all(band.abs().max() < 1e-6 for band in lap[:-1])
    assert torch.allclose(lap[-1], torch.full_like(lap[-1], 0.25))


def test_reconstruct_accepts_a_tuple_and_keeps_the_dtype():
    x = randn(1, 2, 10, 13, dtype=torch.float64)
    y = reconstruct(tuple(laplacian_pyramid(x, 3)))
    assert y.dtype == torch.float64 and (y - x).abs().max() < 1e-12


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("op", [blur, downsample, lambda x: upsample(x, (9, 12))])
def test_the_operators_are_differentiable(op):
    x = randn(1, 2, 5, 6, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(op, (x,))


def test_gradients_flow_through_a_pyramid_and_back():
    x = randn(1, 3, 11, 14).requires_grad_()
    reconstruct(laplacian_pyramid(x, 3)).sum().backward()
    assert torch.allclose(x.grad, torch.ones_like(x), atol=1e-5)  # the round trip is the identity


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, words", [
    (lambda: blur(randn(3, 8, 8)), ValueError, r"x should have shape \(N, C, H, W\), got \(3, 8, 8\).*x\[None\]"),
    (lambda: blur([[0.0]]), TypeError, r"x must be a torch.Tensor, got list"),
    (lambda: blur(torch.zeros(1, 1, 4, 4, dtype=torch.long)), TypeError, r"x should be a floating-point tensor"),
    (lambda: blur(torch.zeros(0, 1, 4, 4)), ValueError, r"x must not be empty"),
    (lambda: downsample(randn(1, 1, 1, 6)), ValueError, r"x must be at least 2x2 pixels to be halved, got 1x6"),
    (lambda: upsample(randn(1, 1, 4, 4), 8), TypeError, r"size must be a pair \(H, W\).*got 8"),
    (lambda: upsample(randn(1, 1, 4, 4), (8, 10)), ValueError, r"size must be .*4x4, H one of \[7, 8\] and W one "
                                                               r"of \[7, 8\]; got \(8, 10\)"),
    (lambda: upsample(randn(1, 1, 1, 4), (1, 8)), ValueError, r"H one of \[2\].*got \(1, 8\)"),
    (lambda: upsample(randn(1, 1, 4, 4), (8, 8.0)), TypeError, r"size\[1\] must be a positive integer, got float"),
    (lambda: gaussian_pyramid(randn(1, 1, 27, 33), 7), ValueError, r"levels must be at most 6 for a 27x33 image, "
                                                                   r"got 7"),
    (lambda: gaussian_pyramid(randn(1, 1, 8, 8), 0), ValueError, r"levels must be a positive integer, got 0"),
    (lambda: laplacian_pyramid(randn(1, 1, 8, 8), 2.0), TypeError, r"levels must be a positive integer, got float"),
    (lambda: laplacian_pyramid(randn(1, 1, 8, 8), True), TypeError, r"levels must be a positive integer, got bool"),
    (lambda: laplacian_pyramid(np.zeros((1, 1, 8, 8)), 2), TypeError, r"x must be a torch.Tensor, got numpy"),
    (lambda: reconstruct(randn(1, 1, 8, 8)), TypeError, r"pyramid must be a list of tensors.*got Tensor"),
    (lambda: reconstruct([]), ValueError, r"pyramid must hold at least one level"),
    (lambda: reconstruct([randn(1, 1, 8, 8), randn(1, 1, 3, 4)]), ValueError,
     r"pyramid\[1\] should have shape \(1, 1, 4, 4\).*got \(1, 1, 3, 4\)"),
    (lambda: reconstruct([randn(1, 1, 8, 8), randn(1, 2, 4, 4)]), ValueError, r"pyramid\[1\] should have shape"),
    (lambda: reconstruct([randn(1, 1, 8, 8), "coarse"]), TypeError, r"pyramid\[1\] must be a torch.Tensor, got str"),
    (lambda: reconstruct([randn(1, 1, 2, 2), randn(1, 1, 1, 1), randn(1, 1, 1, 1)]), ValueError,
     r"pyramid has too many levels: pyramid\[1\] is 1x1"),
])
def test_bad_input_is_refused_clearly(call, error, words):
    with pytest.raises(error, match=words):
        call()

"""Super-resolution's measurement and data (ganlab.superres): the BT.601 luma against its formula and scikit-image,
PSNR and SSIM on constructed pairs and against scikit-image, the bicubic degradation against Pillow, the aligned
training patches, the benchmark folders and the offline real-vs-SR critic."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganlab.data import DownloadNotAllowed
from ganlab.images import NATURAL_IMAGES, natural_image
from ganlab.superres import (HELD_OUT, SCALE, TRAIN_IMAGES, SRPatches, benchmark_images, critic_accuracy,
                             crop_to_multiple, degrade, held_out_images, patch_distance, psnr_y, quantize, rgb_to_y,
                             ssim_y, upscale_bicubic)

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py

Y_SUM = 65.481 + 128.553 + 24.966  # = 219: the luma's range above its offset of 16 (235 - 16)


def levels(n=1, h=32, w=32, low=0, high=245, seed=0):
    """Random 8-bit colour images as ganlab holds them: (n, 3, h, w), each value exactly a level: v / 127.5 - 1."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(low, high + 1, (n, 3, h, w), generator=g).float() / 127.5 - 1.0


def to_uint8(x):
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8, as a PNG holds it."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()


def from_uint8(pixels):
    return torch.tensor(np.asarray(pixels), dtype=torch.float32).permute(2, 0, 1) / 127.5 - 1.0


def photo(name="chelsea", scale=4):
    """A real photograph, 8-bit, cropped to a multiple of ``scale``: (3, H, W) in [-1, 1]."""
    return quantize(crop_to_multiple(natural_image(name), scale))


# --------------------------------------------------------------------------- luma
def test_rgb_to_y_is_bt601_studio_range_on_hand_values():
    colours = torch.tensor([[-1.0, -1, -1], [1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1], [0, 0, 0]])
    y = rgb_to_y(colours.view(6, 3, 1, 1)).flatten()
    expected = [16.0, 235.0, 16 + 65.481, 16 + 128.553, 16 + 24.966, 16 + Y_SUM / 2]
    assert y.tolist() == pytest.approx(expected, abs=1e-4)
    assert rgb_to_y(torch.zeros(2, 3, 4, 5)).shape == (2, 1, 4, 5)


def test_rgb_to_y_agrees_with_scikit_image_on_a_photograph():
    from skimage.color import rgb2ycbcr

    x = photo("astronaut")
    ours = rgb_to_y(x[None])[0, 0].numpy()
    theirs = rgb2ycbcr(to_uint8(x))[..., 0]  # MATLAB's rgb2ycbcr: the same matrix and offset
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-3  # float32 against float64; a wrong weight errs by > 0.1


# --------------------------------------------------------------------------- PSNR
def test_psnr_of_an_image_with_itself_is_inf_and_ssim_is_1():
    x = levels(2)
    assert psnr_y(x, x.clone()).tolist() == [math.inf, math.inf]
    assert ssim_y(x, x.clone()).tolist() == pytest.approx([1.0, 1.0], abs=1e-6)


@pytest.mark.parametrize("delta", [1, 3, 10])
def test_psnr_of_a_uniform_luma_difference_is_10_log10_255_squared_over_d_squared(delta):
    hr = levels(1)
    sr = hr + delta / 127.5  # every channel `delta` levels brighter: Y rises by d = 219 delta / 255 everywhere
    d = Y_SUM * delta / 255
    assert psnr_y(sr, hr).item() == pytest.approx(10 * math.log10(255 ** 2 / d ** 2), rel=1e-6)
    green = hr.clone()
    green[:, 1] += delta / 127.5  # the green channel alone: Y rises by 128.553 delta / 255
    d = 128.553 * delta / 255
    assert psnr_y(green, hr).item() == pytest.approx(10 * math.log10(255 ** 2 / d ** 2), rel=1e-6)


def test_psnr_and_ssim_round_to_8_bits_first():
    hr = levels(1)
    assert psnr_y(hr + 0.2 / 127.5, hr).item() == math.inf  # a fifth of a level rounds away, as in a saved PNG
    assert ssim_y(hr + 0.2 / 127.5, hr).item() == pytest.approx(1.0, abs=1e-6)


def test_psnr_and_ssim_ignore_exactly_scale_pixels_at_every_border():
    hr = levels(1, 40, 44, seed=1)
    sr = hr + 2 / 127.5
    base_psnr, base_ssim = psnr_y(sr, hr).item(), ssim_y(sr, hr).item()
    for scale in (2, 4):
        changed = sr.clone()
        changed[..., :scale, :] = -1.0  # wreck the border rows and columns, scale px wide
        changed[..., -scale:, :] = 1.0
        changed[..., :, :scale] = 1.0
        changed[..., :, -scale:] = -1.0
        inside_psnr, inside_ssim = psnr_y(sr, hr, scale).item(), ssim_y(sr, hr, scale).item()
        assert psnr_y(changed, hr, scale).item() == inside_psnr
        assert ssim_y(changed, hr, scale).item() == inside_ssim
        one = sr.clone()
        one[..., scale, scale] = -1.0  # the first pixel inside the crop
        assert psnr_y(one, hr, scale).item() < inside_psnr
        one = sr.clone()
        one[..., 20, 20] = -1.0  # (SSIM weighs a corner pixel by its Gaussian window's tail, 1e-5: one in the middle)
        assert ssim_y(one, hr, scale).item() < inside_ssim
    assert base_psnr == psnr_y(sr, hr, SCALE).item() and base_ssim == ssim_y(sr, hr, SCALE).item()  # default 4
    no_crop = hr + 2 / 127.5
    no_crop[..., 0, 0] = -1.0
    assert psnr_y(no_crop, hr, 0).item() < psnr_y(no_crop, hr, 1).item()  # scale 0 crops nothing


def test_psnr_and_ssim_are_per_image_in_a_batch():
    hr = levels(3, seed=2)
    sr = hr + torch.tensor([0.0, 1.0, 4.0]).view(3, 1, 1, 1) / 127.5
    psnr = psnr_y(sr, hr)
    assert psnr.shape == (3,) and psnr[0] == math.inf
    for k, delta in ((1, 1), (2, 4)):
        assert psnr[k].item() == pytest.approx(10 * math.log10(255 ** 2 / (Y_SUM * delta / 255) ** 2), rel=1e-6)
        assert psnr[k].item() == psnr_y(sr[k:k + 1], hr[k:k + 1]).item()  # each alone gives the same
    ssim = ssim_y(sr, hr)
    assert ssim.shape == (3,) and ssim[0].item() == pytest.approx(1.0, abs=1e-6) and ssim[2] < ssim[1] < 1.0
    assert ssim[1].item() == pytest.approx(ssim_y(sr[1:2], hr[1:2]).item(), abs=1e-7)


def test_psnr_agrees_with_scikit_image_on_a_photograph():
    from skimage.color import rgb2ycbcr
    from skimage.metrics import peak_signal_noise_ratio

    hr = photo()[:, :96, :128]
    noise = torch.randint(-6, 7, hr.shape, generator=torch.Generator().manual_seed(0)) / 127.5
    sr = (hr + noise).clamp(-1, 1)
    ys = [rgb2ycbcr(to_uint8(x))[..., 0][4:-4, 4:-4] for x in (sr, hr)]
    assert psnr_y(sr[None], hr[None]).item() == pytest.approx(peak_signal_noise_ratio(ys[1], ys[0], data_range=255),
                                                              abs=1e-4)


# --------------------------------------------------------------------------- SSIM
@pytest.mark.parametrize("v, delta", [(100, 10), (20, 40), (200, 3)])
def test_ssim_of_two_flat_images_is_the_luminance_term(v, delta):
    """Flat images have no variance, so SSIM reduces to (2 a b + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 255)^2."""
    hr = torch.full((1, 3, 32, 32), v / 127.5 - 1)
    sr = torch.full((1, 3, 32, 32), (v + delta) / 127.5 - 1)
    a, b, c1 = 16 + Y_SUM * v / 255, 16 + Y_SUM * (v + delta) / 255, (0.01 * 255) ** 2
    assert ssim_y(sr, hr).item() == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-6)


def test_ssim_agrees_with_scikit_image_gaussian_ssim_on_a_photograph():
    from skimage.color import rgb2ycbcr
    from skimage.metrics import structural_similarity

    hr = photo()[:, :96, :128]
    noise = torch.randint(-6, 7, hr.shape, generator=torch.Generator().manual_seed(0)) / 127.5
    sr = (hr + noise).clamp(-1, 1)
    ys = [rgb2ycbcr(to_uint8(x))[..., 0][4:-4, 4:-4] for x in (sr, hr)]
    theirs = structural_similarity(ys[0], ys[1], gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                   data_range=255)  # Wang et al. 2004's setting: Gaussian 11 x 11, sigma 1.5
    # measured: 0.96485 here against 0.96642; the same map cropped by 5 px gives 0.966416 (agrees to 1e-8)
    assert ssim_y(sr[None], hr[None]).item() == pytest.approx(theirs, abs=1e-5)


# --------------------------------------------------------------------------- the degradation and the baseline
def test_quantize_rounds_to_256_levels_and_clamps():
    x = torch.linspace(-1.2, 1.2, 1001)
    q = quantize(x)
    assert q.min() == -1.0 and q.max() == 1.0
    codes = (q + 1) * 127.5
    assert torch.allclose(codes, codes.round(), atol=1e-4)  # on the 8-bit grid
    inside = x.abs() <= 1
    assert (q[inside] - x[inside]).abs().max() <= 0.5 / 127.5 + 1e-6  # at most half a level away
    assert torch.equal(quantize(q), q)


def test_crop_to_multiple_keeps_the_top_left():
    x = torch.rand(3, 301, 455)
    y = crop_to_multiple(x, 4)
    assert y.shape == (3, 300, 452) and torch.equal(y, x[:, :300, :452])
    assert crop_to_multiple(x, 3).shape == (3, 300, 453)
    assert crop_to_multiple(torch.rand(2, 3, 17, 16), 8).shape == (2, 3, 16, 16)
    assert crop_to_multiple(torch.rand(17, 16), 8).shape == (16, 16)  # a grey (H, W) image too
    with pytest.raises(ValueError, match="smaller than the scale"):
        crop_to_multiple(torch.rand(3, 3, 10), 4)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_degrade_shapes_and_range(scale):
    hr = levels(2, 12 * scale, 8 * scale)
    lr = degrade(hr, scale)
    assert lr.shape == (2, 3, 12, 8) and lr.min() >= -1 and lr.max() <= 1
    assert torch.equal(degrade(hr[0], scale), lr[0])  # (C, H, W) as a batch of one
    up = upscale_bicubic(lr, scale) if scale != 3 else None
    if up is not None:
        assert up.shape == hr.shape and up.min() >= -1 and up.max() <= 1
        assert torch.equal(upscale_bicubic(lr[1], scale), up[1])


def test_degrade_refuses_sizes_that_are_not_multiples_of_the_scale():
    with pytest.raises(ValueError, match=r"multiples of the scale 4.*crop_to_multiple"):
        degrade(torch.zeros(1, 3, 30, 32), 4)
    with pytest.raises(ValueError, match="multiples of the scale 3"):
        degrade(torch.zeros(3, 12, 13), 3)
    with pytest.raises(ValueError, match="scale"):
        degrade(torch.zeros(1, 3, 8, 8), 1)


def test_a_flat_image_stays_flat():
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(degrade(flat), flat[..., :4, :4], atol=1e-6)
    assert torch.allclose(upscale_bicubic(flat[..., :4, :4]), flat, atol=1e-6)


@pytest.mark.parametrize("scale", [2, 4])
def test_degrade_and_upscale_agree_with_pillow_bicubic(scale):
    """Pillow's Image.BICUBIC is an independent implementation of the same kernel (a = -0.5, widened by the scale
    when shrinking): torch's ``antialias=True`` reproduces it, torch's plain bicubic (a = -0.75, no widening) does not.
    """
    hr = photo("chelsea", scale)  # 300 x 448
    pixels = to_uint8(hr)
    h, w = hr.shape[-2] // scale, hr.shape[-1] // scale
    lr = degrade(hr, scale)
    pil = from_uint8(Image.fromarray(pixels).resize((w, h), Image.BICUBIC))
    mad = ((lr - pil).abs() * 127.5).mean().item()  # in 8-bit levels
    # measured 0.29 (x2) and 0.27 (x4) levels: Pillow rounds its 8-bit output (and works in fixed point)
    assert mad < 0.5
    plain = F.interpolate(hr[None], size=(h, w), mode="bicubic", align_corners=False)[0].clamp(-1, 1)
    assert ((plain - pil).abs() * 127.5).mean().item() > 1.5  # measured 1.9 (x2) and 4.0 (x4): aliasing
    # in floating point (Pillow's mode "F") the two agree to rounding
    for c in range(3):
        ref = np.asarray(Image.fromarray(hr[c].numpy(), mode="F").resize((w, h), Image.BICUBIC))
        raw = F.interpolate(hr[None], size=(h, w), mode="bicubic", align_corners=False, antialias=True)[0, c]
        assert np.abs(raw.numpy() - ref).max() < 1e-5  # measured 1.8e-7
    # the baseline upscale: Pillow's bicubic enlargement of the 8-bit low-resolution image
    small = from_uint8(to_uint8(lr))
    up = upscale_bicubic(small, scale)
    pil_up = from_uint8(Image.fromarray(to_uint8(small)).resize((w * scale, h * scale), Image.BICUBIC))
    assert ((up - pil_up).abs() * 127.5).mean().item() < 0.5  # measured 0.32 levels for x2 and x4
    plain_up = F.interpolate(small[None], scale_factor=scale, mode="bicubic", align_corners=False)[0]
    for c in range(3):
        ref = np.asarray(Image.fromarray(small[c].numpy(), mode="F").resize((w * scale, h * scale), Image.BICUBIC))
        assert np.abs(up[c].numpy() - ref.clip(-1, 1)).max() < 1e-5  # measured 1.2e-7
        # torch's plain bicubic (a = -0.75) is another kernel: measured 0.49 (x2) and 0.61 (x4) levels off
        assert np.abs(plain_up[c].numpy() - ref).mean() * 127.5 > 0.3


# --------------------------------------------------------------------------- the held-out images
def test_held_out_and_training_images_split_the_natural_images():
    assert set(HELD_OUT).isdisjoint(TRAIN_IMAGES) and set(HELD_OUT) | set(TRAIN_IMAGES) == set(NATURAL_IMAGES)
    assert HELD_OUT == ("astronaut", "coffee")


@pytest.mark.parametrize("scale", [3, 4])
def test_held_out_images_are_whole_8_bit_and_multiples_of_the_scale(scale):
    images = held_out_images(scale)
    assert [im.name for im in images] == list(HELD_OUT)
    for im in images:
        full = natural_image(im.name)
        h, w = im.hr.shape[-2:]
        assert h % scale == 0 and w % scale == 0 and full.shape[-2] - h < scale and full.shape[-1] - w < scale
        assert torch.equal(im.hr, quantize(full[:, :h, :w])) and torch.equal(quantize(im.hr), im.hr)
        assert im.lr.shape == (3, h // scale, w // scale)
        assert torch.equal(im.lr, quantize(degrade(im.hr, scale)))
    with pytest.raises(ValueError, match="natural image"):
        held_out_images(4, ("lena",))


# --------------------------------------------------------------------------- training patches
@pytest.fixture(scope="module")
def small_patches():
    """Patches of one small photograph: chelsea shrunk to 128 px (84 x 128 after the crop), 8 px LR patches."""
    return SRPatches(("chelsea",), scale=4, lr_patch=8, max_size=128)


def _where(patch, image):
    """Every (flip, turns, i, j) at which ``patch`` is the window of ``image`` at (i, j), flipped and turned."""
    p, found = patch.shape[-1], []
    windows = image.unfold(1, p, 1).unfold(2, p, 1)  # (3, rows, cols, p, p)
    for flip in (0, 1):
        for turns in range(4):
            window = patch.rot90(-turns, (-2, -1))
            window = window.flip(-1) if flip else window
            hits = (windows == window[:, None, None]).all(dim=-1).all(dim=-1).all(dim=0)
            found += [(flip, turns, i, j) for i, j in torch.nonzero(hits).tolist()]
    return found


def test_patch_pairs_are_aligned_windows_of_the_same_place(small_patches):
    patches, s = small_patches, 4
    hr_image, lr_image = patches.hr[0], patches.lr[0]
    assert hr_image.shape == (3, 84, 128) and torch.equal(lr_image, quantize(degrade(hr_image, s)))
    lr, hr = patches.sample(24, torch.Generator().manual_seed(0))
    assert lr.shape == (24, 3, 8, 8) and hr.shape == (24, 3, 32, 32)
    seen = set()
    for a, b in zip(lr, hr):
        matches = []
        for flip, turns, i, j in _where(a, lr_image):
            window = hr_image[:, i * s:(i + 8) * s, j * s:(j + 8) * s]
            window = window.flip(-1) if flip else window
            if torch.equal(window.rot90(turns, (-2, -1)), b):
                matches.append((flip, turns))
        assert matches, "no place in the image holds this LR patch with its HR patch at the scaled place"
        seen.add(matches[0])
    assert len(seen) > 2  # flips and turns are drawn


def test_patches_are_drawn_from_the_generator_alone(small_patches):
    a = small_patches.sample(6, torch.Generator().manual_seed(3))
    torch.manual_seed(0)  # the global stream plays no part
    b = small_patches.sample(6, torch.Generator().manual_seed(3))
    c = small_patches.sample(6, torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_images_are_chosen_in_proportion_to_their_area():
    patches = SRPatches(("chelsea", "coins"), scale=2, lr_patch=8, max_size=64)
    areas = torch.tensor([x.shape[-1] * x.shape[-2] for x in patches.lr], dtype=torch.float)
    assert torch.allclose(patches.weights, areas / areas.sum()) and patches.weights.sum().item() == pytest.approx(1)
    assert "2 training images" in repr(patches) and "held out: astronaut, coffee" in repr(patches)


def test_patches_never_come_from_held_out_images():
    for name in HELD_OUT:
        with pytest.raises(ValueError, match="held out for evaluation"):
            SRPatches(("chelsea", name), max_size=128)
    with pytest.raises(TypeError, match="non-empty tuple"):
        SRPatches("chelsea")
    with pytest.raises(ValueError, match="smaller than one high-resolution patch"):
        SRPatches(("coins",), lr_patch=24, max_size=120)  # 303 x 384 shrunk to 94 x 120: no 96 px patch fits


# --------------------------------------------------------------------------- benchmark sets
def test_benchmark_images_offline_without_the_files_say_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_DOWNLOAD", "0")
    with pytest.raises(DownloadNotAllowed, match="Set5.*downloads are off"):
        benchmark_images("Set5", root=tmp_path)
    (tmp_path / "Set14").mkdir()  # an empty folder is no better
    with pytest.raises(DownloadNotAllowed, match="held_out_images"):
        benchmark_images("Set14", root=tmp_path)
    with pytest.raises(DownloadNotAllowed):
        benchmark_images("Set5", root=tmp_path, download=False)
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path))
    with pytest.raises(DownloadNotAllowed, match=str(tmp_path / "Set5")):
        benchmark_images("Set5")  # the default root is $GANLAB_DATA


def _save_png(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_benchmark_images_load_the_high_resolution_files_once_each(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    first = rng.integers(0, 256, (42, 41, 3), dtype=np.uint8)
    second = rng.integers(0, 256, (36, 40), dtype=np.uint8)  # grey, as two images of Set14 are
    folder = tmp_path / "Set5"
    for srf in (2, 4):  # SelfExSR's layout: each HR image once per scale, beside its LR image
        _save_png(folder / f"image_SRF_{srf}" / f"img_001_SRF_{srf}_HR.png", first)
        _save_png(folder / f"image_SRF_{srf}" / f"img_001_SRF_{srf}_LR.png", first[::srf, ::srf].copy())
        _save_png(folder / f"image_SRF_{srf}" / f"img_002_SRF_{srf}_HR.png", second)
        _save_png(folder / f"image_SRF_{srf}" / f"img_002_SRF_{srf}_LR.png", second[::srf, ::srf].copy())
    monkeypatch.setenv("GANLAB_DOWNLOAD", "0")
    images = benchmark_images("Set5", scale=4, root=tmp_path)
    assert len(images) == 2 and [im.name[:7] for im in images] == ["img_001", "img_002"]
    assert all("HR" in im.name.split("_") for im in images)
    a, b = images
    assert a.hr.shape == (3, 40, 40) and torch.equal(a.hr, from_uint8(first)[:, :40, :40])
    assert b.hr.shape == (3, 36, 40) and all(torch.equal(b.hr[c], b.hr[0]) for c in (1, 2))
    assert torch.equal(b.hr[0], torch.tensor(second, dtype=torch.float32)[:36, :40] / 127.5 - 1)
    assert a.lr.shape == (3, 10, 10) and torch.equal(a.lr, quantize(degrade(a.hr, 4)))  # degraded here, not read
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path))
    assert [im.name for im in benchmark_images("Set5", scale=4)] == [im.name for im in images]


def test_benchmark_images_use_every_file_when_none_is_marked(tmp_path):
    rng = np.random.default_rng(1)
    _save_png(tmp_path / "Set14" / "baboon.png", rng.integers(0, 256, (24, 26, 3), dtype=np.uint8))
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(tmp_path / "Set14" / "zebra.bmp")
    (tmp_path / "Set14" / "readme.txt").write_text("not an image")
    images = benchmark_images("Set14", scale=2, root=tmp_path, download=False)
    assert [(im.name, tuple(im.hr.shape)) for im in images] == [("baboon", (3, 24, 26)), ("zebra", (3, 20, 20))]
    with pytest.raises(ValueError, match="unknown benchmark 'Set6'"):
        benchmark_images("Set6", root=tmp_path)


# --------------------------------------------------------------------------- the offline critic
def _box_blur(x, k=9):
    return F.avg_pool2d(F.pad(x[None], (k // 2,) * 4, mode="replicate"), k, 1)[0]


@pytest.fixture(scope="module")
def textures():
    """Two fine textures (gravel 64 x 64, grass 64 x 96): 40 cells of 16 px, 20 to train on and 20 to score."""
    return [natural_image("gravel", 128)[:, :64, :64], natural_image("grass", 128)[:, :64, :96]]


def test_critic_cannot_tell_a_set_from_itself(textures):
    """With fake equal to real, each real test patch has an identical fake one, which the critic scores the same:
    exactly one of the two is classified right, whatever the critic learnt, so the accuracy is 1/2. The tolerance
    is one test patch in 40 (a logit within rounding of 0, computed in another batch)."""
    accuracy = critic_accuracy(textures, [x.clone() for x in textures], patch=16, steps=30, width=8)
    assert accuracy == pytest.approx(0.5, abs=1 / 40)


def test_critic_tells_a_blurred_copy_apart(textures):
    fake = [_box_blur(x) for x in textures]
    accuracy = critic_accuracy(textures, fake, patch=16, steps=100, width=8)
    assert accuracy >= 0.95  # measured 1.0 (0.95 after 50 steps): a 9 x 9 box blur removes all of the texture
    assert critic_accuracy(textures, fake, patch=16, steps=100, width=8) == accuracy  # seeded
    before = torch.get_rng_state()
    critic_accuracy(textures, fake, patch=16, steps=2, width=8, seed=1)
    assert torch.equal(torch.get_rng_state(), before)  # the global stream is left as it was


def test_critic_accuracy_refuses_sets_that_do_not_pair_up(textures):
    with pytest.raises(TypeError, match="real must be a non-empty list"):
        critic_accuracy([], [])
    with pytest.raises(TypeError, match="fake must be a non-empty list"):
        critic_accuracy(textures, textures[0])
    with pytest.raises(ValueError, match="pair up"):
        critic_accuracy(textures, textures[:1])
    with pytest.raises(ValueError, match=r"fake\[1\] should have shape \(3, 64, 96\)"):
        critic_accuracy(textures, [textures[0], textures[1][:, :, :64]])
    with pytest.raises(ValueError, match="patch must be an integer >= 16"):
        critic_accuracy(textures, textures, patch=8)


def test_patch_distance_is_zero_for_the_real_images_and_grows_with_blur(textures):
    assert patch_distance(textures, [x.clone() for x in textures]) == pytest.approx(0.0, abs=1e-9)
    blurred = [_box_blur(x) for x in textures]
    mild = [(x + b) / 2 for x, b in zip(textures, blurred)]  # half the texture removed
    assert 0 < patch_distance(textures, mild) < patch_distance(textures, blurred)
    # the average of the per-image distances: one image changed alone moves it by half its own distance
    one = patch_distance(textures[:1], blurred[:1])
    assert patch_distance(textures, [blurred[0], textures[1]]) == pytest.approx(one / 2, rel=1e-9)


def test_patch_distance_refuses_sets_that_do_not_pair_up(textures):
    with pytest.raises(TypeError, match="real must be a non-empty list"):
        patch_distance([], [])
    with pytest.raises(ValueError, match="pair up"):
        patch_distance(textures, textures[:1])
    with pytest.raises(ValueError, match=r"fake\[1\] should have shape \(3, 64, 96\)"):
        patch_distance(textures, [textures[0], textures[1][:, :, :64]])

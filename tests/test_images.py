import socket
import sys

import pytest
import torch

from ganlab import images
from ganlab.images import NATURAL_IMAGES, natural_image

GREY = ["camera", "coins", "moon", "brick", "grass", "gravel"]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach the network fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_the_names_asked_for_are_listed():
    assert {"china", "flower", "grace_hopper", "astronaut", "camera", "hubble_deep_field"} <= set(NATURAL_IMAGES)
    assert not {"eagle", "skin", "cells3d"} & set(NATURAL_IMAGES)  # scikit-image downloads these
    assert all(isinstance(about, str) and about for about in NATURAL_IMAGES.values())


@pytest.mark.parametrize("name", sorted(NATURAL_IMAGES))
def test_every_image_loads_offline_in_minus_one_one(name, no_network):
    if NATURAL_IMAGES[name].startswith("scikit-image"):
        pytest.importorskip("skimage")
    x = natural_image(name)
    h, w = (int(s) for s in NATURAL_IMAGES[name].split(",")[1].split()[0].split("x"))  # "..., 427x640 colour: ..."
    assert x.shape == (3, h, w) and x.dtype == torch.float32
    assert -1 <= x.min() < -0.5 and 0.5 < x.max() <= 1  # 8-bit pixels mapped by p / 127.5 - 1
    assert x.unique().numel() > 50  # a photograph, not a flat or binary picture


def test_pixels_map_exactly_to_minus_one_one():
    x = natural_image("china")
    assert torch.allclose((x + 1) * 127.5, ((x + 1) * 127.5).round(), atol=1e-4)  # whole 0..255 values
    from sklearn.datasets import load_sample_image

    ref = torch.tensor(load_sample_image("china.jpg")).permute(2, 0, 1).float() / 127.5 - 1
    assert torch.equal(x, ref)


@pytest.mark.parametrize("name", GREY)
def test_grey_images_become_three_equal_channels(name):
    pytest.importorskip("skimage")
    x = natural_image(name)
    assert x.shape[0] == 3 and torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])


def test_colour_images_have_distinct_channels():
    x = natural_image("flower")
    assert not torch.equal(x[0], x[1])


@pytest.mark.parametrize("name, size, shape", [
    ("china", 64, (43, 64)),  # 427x640: 427 * 64 / 640 = 42.7
    ("grace_hopper", 100, (100, 85)),  # 600x512: 512 * 100 / 600 = 85.3
    ("flower", 32, (21, 32)),
])
def test_resizing_sets_the_longer_side_and_keeps_the_aspect_ratio(name, size, shape):
    full = natural_image(name)
    x = natural_image(name, size=size)
    assert x.shape == (3, *shape) and x.dtype == torch.float32
    assert abs(shape[0] / shape[1] - full.shape[1] / full.shape[2]) < 1 / size
    assert x.min() >= -1 and x.max() <= 1


def test_resizing_antialiases():
    """Shrinking averages neighbourhoods: the small image is close to an area average, unlike plain sampling."""
    full = natural_image("china")[:, :424, :640]  # a multiple of 8 in both sides
    small = natural_image("china", size=80)  # (3, 53, 80), i.e. about 1/8 per side
    area = torch.nn.functional.adaptive_avg_pool2d(full[None], small.shape[1:])[0]
    picked = full[:, ::8, ::8][:, :small.shape[1], :small.shape[2]]
    assert (small - area).abs().mean() < (picked - area).abs().mean()


def test_full_size_is_the_original():
    assert torch.equal(natural_image("flower", size=640), natural_image("flower"))


def test_upsampling_is_refused():
    with pytest.raises(ValueError, match=r"size must be at most 640.*'china'.*427x640.*got 641"):
        natural_image("china", size=641)


@pytest.mark.parametrize("size, error", [(0, ValueError), (-3, ValueError), (32.0, TypeError), (True, TypeError),
                                         ("64", TypeError)])
def test_bad_sizes(size, error):
    with pytest.raises(error, match=r"\bsize\b"):
        natural_image("china", size=size)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown natural image 'lena'.*'china'.*'grace_hopper'"):
        natural_image("lena")
    with pytest.raises(ValueError, match="unknown natural image"):
        natural_image(["china"])


def test_missing_scikit_image_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "skimage.data", None)
    with pytest.raises(ModuleNotFoundError, match=r"'astronaut'.*scikit-image.*pip install scikit-image"):
        natural_image("astronaut")
    assert natural_image("china", size=16).shape == (3, 11, 16)  # the other packages still serve theirs


def test_every_source_names_its_package():
    for name, source in images._SOURCES.items():
        assert NATURAL_IMAGES[name].startswith(source.package + ",")

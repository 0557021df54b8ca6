import pytest
import torch

from ganlab import env


def test_fast_reads_the_variable(monkeypatch):
    monkeypatch.setenv("GANLAB_FAST", "1")
    assert env.is_fast() and env.fast("small", "big") == "small"
    monkeypatch.setenv("GANLAB_FAST", "0")
    assert not env.is_fast() and env.fast("small", "big") == "big"
    monkeypatch.delenv("GANLAB_FAST")
    assert not env.is_fast()


def test_bad_flag_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("GANLAB_FAST", "maybe")
    with pytest.raises(ValueError, match="GANLAB_FAST"):
        env.is_fast()


def test_downloads_off_by_default_outside_colab(monkeypatch):
    monkeypatch.delenv("GANLAB_DOWNLOAD", raising=False)
    assert not env.downloads_allowed()
    monkeypatch.setenv("GANLAB_DOWNLOAD", "1")
    assert env.downloads_allowed()


def test_get_device(monkeypatch):
    monkeypatch.delenv("GANLAB_DEVICE", raising=False)
    assert env.get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    assert env.get_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            env.get_device("cuda")


def test_seed_everything_reproduces_all_streams():
    import random

    import numpy as np

    env.seed_everything(3)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    env.seed_everything(3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    with pytest.raises(ValueError):
        env.seed_everything(-1)

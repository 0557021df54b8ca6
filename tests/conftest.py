"""Tests run in fast mode, offline, with a non-interactive matplotlib backend."""

import os

os.environ.setdefault("GANLAB_FAST", "1")
os.environ.setdefault("GANLAB_DOWNLOAD", "0")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def one_thread():
    """One PyTorch thread for the test, restored after: tiny layers run fastest so (a second thread only waits on
    the first when the cores are busy), and every run uses the same kernels, so resumed runs match bit for bit."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

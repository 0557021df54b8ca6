import math

import pytest
import torch
import torch.nn.functional as F

from ganlab import losses


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_d_loss_by_hand():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected = -(math.log(sigmoid(2.0)) + math.log(sigmoid(-1.0))) / 2 - (
        math.log(1 - sigmoid(0.5)) + math.log(1 - sigmoid(-3.0))) / 2
    assert losses.d_loss_bce(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_d_loss_is_binary_cross_entropy_with_logits():
    real, fake = torch.randn(64), torch.randn(64)
    ref = F.binary_cross_entropy_with_logits(real, torch.ones(64)) + F.binary_cross_entropy_with_logits(fake, torch.zeros(64))
    assert torch.allclose(losses.d_loss_bce(real, fake), ref)


def test_generator_losses_by_hand():
    fake = torch.tensor([1.0, -2.0, 0.0])
    minimax = sum(math.log(1 - sigmoid(v)) for v in fake.tolist()) / 3
    nonsat = -sum(math.log(sigmoid(v)) for v in fake.tolist()) / 3
    assert losses.g_loss_minimax(fake).item() == pytest.approx(minimax, rel=1e-6)
    assert losses.g_loss_nonsaturating(fake).item() == pytest.approx(nonsat, rel=1e-6)


def test_stable_for_confident_discriminators():
    fake = torch.tensor([-100.0, 100.0], requires_grad=True)
    for fn in (losses.g_loss_minimax, losses.g_loss_nonsaturating):
        value = fn(fake)
        (grad,) = torch.autograd.grad(value, fake)
        assert torch.isfinite(value) and torch.isfinite(grad).all()


def test_saturation_of_the_minimax_generator_loss():
    # When D confidently rejects a fake (logit -10), the minimax gradient nearly vanishes
    # while the non-saturating one stays near -1 per sample (Goodfellow et al. 2014, sec. 3).
    fake = torch.tensor([-10.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(losses.g_loss_minimax(fake), fake)
    (g_ns,) = torch.autograd.grad(losses.g_loss_nonsaturating(fake), fake)
    assert abs(g_mm.item()) < 1e-4 and g_ns.item() == pytest.approx(-1.0, abs=1e-4)


def test_losses_by_name():
    assert losses.get_loss("minimax").g_loss is losses.g_loss_minimax
    with pytest.raises(ValueError, match="nonsaturating"):
        losses.get_loss("wasserstein-typo")


def test_non_tensor_logits_are_rejected():
    with pytest.raises(TypeError, match="logits"):
        losses.d_loss_bce([0.1], torch.zeros(1))
    with pytest.raises(TypeError, match="floating-point"):
        losses.g_loss_nonsaturating(torch.zeros(3, dtype=torch.long))

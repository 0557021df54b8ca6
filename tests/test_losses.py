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


def test_lsgan_by_hand():
    real, fake = torch.tensor([1.5, 0.0]), torch.tensor([0.5, -1.0])
    assert losses.d_loss_lsgan(real, fake).item() == pytest.approx(0.5 * (0.25 + 1) / 2 + 0.5 * (0.25 + 1) / 2)
    assert losses.g_loss_lsgan(fake).item() == pytest.approx(0.5 * (0.25 + 4) / 2)


def test_wasserstein_and_hinge_by_hand():
    real, fake = torch.tensor([2.0, 0.5, -0.5]), torch.tensor([-2.0, 0.0, 1.5])
    assert losses.d_loss_wasserstein(real, fake).item() == pytest.approx((-0.5) / 3 - 2.0 / 3)
    assert losses.g_loss_wasserstein(fake).item() == pytest.approx(0.5 / 3)
    # hinge: relu(1 - [2, .5, -.5]) = [0, .5, 1.5]; relu(1 + [-2, 0, 1.5]) = [0, 1, 2.5]
    assert losses.d_loss_hinge(real, fake).item() == pytest.approx(2.0 / 3 + 3.5 / 3)


class Quadratic(torch.nn.Module):
    """D(x) = sum of a * x^2 per example: its input gradient 2 a x is known in closed form."""

    def __init__(self, a=1.5):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(a))

    def forward(self, x):
        return (self.a * x.pow(2)).flatten(1).sum(1)


def test_gradient_penalty_against_autograd_and_by_hand():
    torch.manual_seed(0)
    D = Quadratic()
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    torch.manual_seed(1)
    penalty = losses.gradient_penalty(D, real, fake, weight=10.0)
    torch.manual_seed(1)
    eps = torch.rand(6, 1, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat)
    assert torch.allclose(grad, 2 * 1.5 * x_hat)  # the closed form
    expected = 10.0 * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()  # one norm per example
    assert torch.allclose(penalty, expected)
    (g_a,) = torch.autograd.grad(penalty, D.a)  # create_graph: the penalty trains D
    assert g_a.abs() > 0


def test_r1_penalty_by_hand():
    D = Quadratic(a=0.5)  # grad = x, so R1 = gamma/2 * E ||x||^2
    real = torch.tensor([[1.0, 2.0], [0.0, 3.0]])
    assert losses.r1_penalty(D, real, gamma=2.0).item() == pytest.approx((5 + 9) / 2)
    assert losses.with_penalty_weight(losses.get_loss("r1"), 4.0).penalty(D, real, None).item() == pytest.approx(14)
    with pytest.raises(ValueError, match=r"no penalty to weight; the losses with one are \['r1', 'wgan-gp'\]"):
        losses.with_penalty_weight(losses.get_loss("hinge"), 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        losses.with_penalty_weight(losses.get_loss("r1"), -1.0)


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_every_loss_trains_a_few_steps(name):
    import dataclasses

    from ganlab import data
    from ganlab.nets import MLPDiscriminator, MLPGenerator
    from ganlab.train import TrainConfig, fit

    torch.manual_seed(0)
    G, D = MLPGenerator(width=16), MLPDiscriminator(width=16)
    history = fit(G, D, data.ring().sample, dataclasses.replace(TrainConfig(steps=5, batch_size=16, progress=False),
                                                                 loss=name, n_critic=2))
    loss = losses.get_loss(name)
    assert all(torch.isfinite(torch.tensor(history[k])).all() for k in ("loss_d", "loss_g"))
    assert ("penalty" in history) == (loss.penalty is not None)
    assert ("d_real" in history) == loss.logits and ("critic_real" in history) == (not loss.logits)
    if loss.clip is not None:
        assert max(p.abs().max().item() for p in D.parameters()) <= loss.clip

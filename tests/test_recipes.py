"""The toy2d recipe's settings: a penalty weight reaches the loss, bad settings fail early."""

import pytest
import torch

from ganlab import losses
from ganlab.recipes import Toy2DConfig, train_toy2d


def test_penalty_weight_sets_the_losses_penalty():
    x = torch.tensor([[1.0, 2.0], [0.0, 3.0]])

    class Quadratic(torch.nn.Module):  # D(x) = ||x||^2 / 2: grad = x, R1 = gamma / 2 * E||x||^2 = gamma * 3.5
        def forward(self, x):
            return 0.5 * x.pow(2).sum(1)

    assert Toy2DConfig(loss="r1").gan_loss().penalty(Quadratic(), x, None).item() == pytest.approx(35.0)  # gamma 10
    assert Toy2DConfig(loss="r1", penalty_weight=1.0).gan_loss().penalty(Quadratic(), x, None).item() == pytest.approx(3.5)
    assert Toy2DConfig(loss="hinge").gan_loss() is losses.get_loss("hinge")


@pytest.mark.parametrize("settings, message", [({"loss": "hinge", "penalty_weight": 1.0}, "no penalty to weight"),
                                               ({"loss": "r1", "penalty_weight": -1.0}, "non-negative"),
                                               ({"loss": "huber"}, "unknown loss"),
                                               ({"dataset": "spiral"}, "unknown dataset")])
def test_bad_settings_fail_when_the_config_is_made(settings, message):
    with pytest.raises(ValueError, match=message):
        Toy2DConfig(**settings)


def test_the_run_trains_with_the_weighted_penalty(tmp_path):
    config = Toy2DConfig(loss="r1", penalty_weight=0.0, steps=20, out=str(tmp_path))
    metrics = train_toy2d(config, progress=False)
    assert metrics["config"]["penalty_weight"] == 0.0 and metrics["steps_done"] == 20
    history = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["history"]
    assert len(history["penalty"]) == 20 and set(history["penalty"]) == {0.0}  # gamma 0: the penalty is off

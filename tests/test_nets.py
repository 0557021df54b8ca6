import pytest
import torch

from ganlab.nets import MLPDiscriminator, MLPGenerator


def test_shapes():
    G, D = MLPGenerator(latent_dim=3, out_dim=2, width=16), MLPDiscriminator(in_dim=2, width=16)
    x = G(torch.randn(5, 3))
    assert x.shape == (5, 2) and D(x).shape == (5,)
    assert G.sample(7).shape == (7, 2)


def test_discriminator_returns_logits_not_probabilities():
    D = MLPDiscriminator(width=16)
    assert not isinstance(D.net[-1], torch.nn.Sigmoid)
    with torch.no_grad():
        for p in D.parameters():
            p.mul_(50)
    out = D(torch.randn(256, 2))
    assert out.min() < 0 or out.max() > 1  # outside [0, 1]: logits


def test_wrong_input_shapes_get_clear_errors():
    G, D = MLPGenerator(latent_dim=2), MLPDiscriminator(in_dim=2)
    with pytest.raises(ValueError, match=r"should have shape \(N, 2\), got \(4, 3\)"):
        G(torch.randn(4, 3))
    with pytest.raises(ValueError, match=r"discriminator's input x should have shape \(N, 2\), got \(4,\)"):
        D(torch.randn(4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        D([[0.0, 0.0]])
    with pytest.raises(ValueError, match="positive"):
        MLPGenerator(width=0)


def test_spectral_norm_bounds_each_layer():
    D = MLPDiscriminator(width=32, spectral_norm=True)
    for _ in range(20):  # power iteration converges while training
        D(torch.randn(8, 2))
    for layer in D.net:
        if isinstance(layer, torch.nn.Linear):
            assert torch.linalg.matrix_norm(layer.weight, ord=2) <= 1.05


def test_depth_one_is_linear():
    G = MLPGenerator(latent_dim=2, out_dim=2, depth=1)
    assert len(G.net) == 1

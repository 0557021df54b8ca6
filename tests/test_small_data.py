"""Training on little data: DiffAugment, one-sided label smoothing, feature matching, minibatch
discrimination, and the AC-GAN discriminator with its steps."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab import losses
from ganlab.augment import Augmented, DiffAugment, brightness_contrast, cutout, translate
from ganlab.convnets import (ACGANDiscriminator, ConditionalDCGANGenerator, DCGANDiscriminator, DCGANGenerator,
                             MinibatchDiscrimination)
from ganlab.train import TrainConfig, acgan_d_step, acgan_g_step, feature_matching_g_step, fit, make_optimizers


def images(n=6, c=1, s=16, seed=0):
    return torch.rand(n, c, s, s, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --------------------------------------------------------------------------- DiffAugment
def test_translate_shifts_each_image_by_whole_pixels_within_the_range_and_fills_the_rest():
    x = images(20, 2, 16)
    torch.manual_seed(0)
    out = translate(x, fraction=0.125, fill=-1.0)  # shifts of -2 .. 2
    padded = F.pad(x, (2, 2, 2, 2), value=-1.0)
    shifts = set()
    for i in range(len(x)):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.equal(out[i], padded[i, :, 2 - dy:18 - dy, 2 - dx:18 - dx])]
        assert len(found) == 1, f"image {i} is not a shift of its input"
        shifts.add(found[0])
    assert len(shifts) > 5  # the shift is drawn per image
    assert torch.equal(translate(x, fraction=0.0), x)


def test_cutout_blanks_one_square_per_image_and_keeps_the_rest():
    x = images(30, 1, 16) * 0.5 + 0.5  # in (0, 1): no pixel is 0 before the cutout
    torch.manual_seed(1)
    out = cutout(x, fraction=0.5, fill=0.0)
    for i in range(len(x)):
        cut = out[i, 0] == 0
        rows, cols = cut.any(1).nonzero().flatten(), cut.any(0).nonzero().flatten()
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8
        box = torch.zeros_like(cut)
        box[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = True
        assert torch.equal(cut, box), "the cut is not one rectangle"
        assert torch.equal(out[i, 0][~cut], x[i, 0][~cut])
    assert (out == 0).flatten(1).sum(1).float().mean() > 30  # most squares lie mostly inside


def test_brightness_contrast_is_an_affine_map_per_image():
    x = images(10, 1, 8)
    torch.manual_seed(2)
    out = brightness_contrast(x)
    for i in range(len(x)):
        a = ((out[i] - out[i].mean()) / (x[i] - x[i].mean())).flatten()
        assert torch.allclose(a, a[0].expand_as(a), atol=1e-4) and 0.5 <= a[0] <= 1.5
        b = out[i].mean() - x[i].mean()  # the offset moves the mean; the contrast keeps it
        assert -0.5 <= b <= 0.5


def test_augmentations_pass_gradients_to_the_images():
    x = images(4, 1, 16).requires_grad_()
    DiffAugment("color,translation,cutout")(x).pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_policy_names_are_checked():
    assert DiffAugment(" translation , cutout ").policy == "translation,cutout"
    with pytest.raises(ValueError, match="translaton"):
        DiffAugment("translaton")
    with pytest.raises(ValueError, match="no transformation"):
        DiffAugment(" , ")


class Recorder(nn.Module):
    """A discriminator that keeps every input it is shown."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return x.flatten(1).mean(1) * self.w + self.w


def test_augmented_d_sees_only_augmented_images_in_both_players_steps():
    real = torch.full((8, 1, 16, 16), 0.5)
    G = nn.Sequential(nn.Flatten(), nn.Linear(2, 256), nn.Unflatten(1, (1, 16, 16)), nn.Tanh())
    G.latent_dim = 2
    D = Recorder()
    aug = Augmented(D, "cutout")
    assert list(aug.parameters()) == [D.w]  # the wrapper adds no weights
    fit(G, aug, real, TrainConfig(steps=1, batch_size=8, progress=False))
    assert len(D.seen) == 3  # D's step: real and fake; G's step: fake
    for x in D.seen:
        assert ((x == 0).flatten(1).sum(1) > 0).all(), "an image reached D without its cutout"


# --------------------------------------------------------------------------- label smoothing
def test_label_smoothing_is_cross_entropy_with_target_0_9_for_real_data_only():
    loss = losses.with_label_smoothing(losses.get_loss("nonsaturating"), 0.9)
    r, f = torch.randn(7), torch.randn(5)
    want = (F.binary_cross_entropy_with_logits(r, torch.full_like(r, 0.9))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    assert torch.allclose(loss.d_loss(r, f), want)
    assert loss.g_loss is losses.g_loss_nonsaturating
    other = losses.with_label_smoothing(losses.get_loss("r1"), 0.8)
    assert other.penalty is losses.r1_penalty
    assert torch.allclose(other.d_loss(r, f), F.binary_cross_entropy_with_logits(r, torch.full_like(r, 0.8))
                          + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))


def test_label_smoothing_moves_the_optimal_d_to_real_label_times_p_over_p_plus_q():
    # p_data = p_g at one point: D* = 0.9 * 1/2 with the smoothed target, 1/2 without
    logit = torch.zeros(1, requires_grad=True)
    loss = losses.with_label_smoothing(losses.get_loss("nonsaturating"), 0.9)
    opt = torch.optim.LBFGS([logit], max_iter=100)

    def closure():
        opt.zero_grad()
        value = loss.d_loss(logit, logit)
        value.backward()
        return value
    opt.step(closure)
    assert math.isclose(torch.sigmoid(logit).item(), 0.45, abs_tol=1e-4)


def test_label_smoothing_refuses_losses_without_a_cross_entropy():
    with pytest.raises(ValueError, match="hinge"):
        losses.with_label_smoothing(losses.get_loss("hinge"))
    with pytest.raises(ValueError, match="real_label"):
        losses.with_label_smoothing(losses.get_loss("nonsaturating"), 0.3)


# --------------------------------------------------------------------------- minibatch discrimination
def test_minibatch_discrimination_matches_the_papers_sums():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, kernels=3, kernel_dim=2)
    f = torch.randn(5, 6)
    out = layer(f)
    m = (f @ layer.T).view(5, 3, 2)
    for i in range(5):
        for b in range(3):
            want = sum(math.exp(-(m[i, b] - m[j, b]).abs().sum().item()) for j in range(5) if j != i)
            assert math.isclose(out[i, 6 + b].item(), want, rel_tol=1e-5)
    assert torch.equal(out[:, :6], f)


def test_minibatch_discrimination_sees_a_collapsed_batch():
    torch.manual_seed(0)
    D = DCGANDiscriminator(channels=1, width=8, image_size=32, minibatch_kernels=16)
    diverse = images(32, 1, 32)
    collapsed = diverse[:2].repeat(16, 1, 1, 1)

    def closeness(x):
        return D.head[1](D.head[0](D.features(x)))[:, -16:].mean().item()
    assert closeness(collapsed) > 5 * closeness(diverse)
    assert D(diverse).shape == (32,)


# --------------------------------------------------------------------------- feature matching
def test_feature_matching_step_matches_the_mean_features_and_updates_g_only():
    torch.manual_seed(0)
    G, D = DCGANGenerator(latent_dim=8, channels=1, width=8, image_size=28), DCGANDiscriminator(1, 8, 28)
    opt_g, _ = make_optimizers(G, D, TrainConfig())
    real, z = images(10, 1, 28), torch.randn(10, 8)
    d_before, g_before = copy.deepcopy(D.state_dict()), copy.deepcopy(G.state_dict())
    with torch.no_grad():
        want = (D.features(real).flatten(1).mean(0) - D.features(G(z)).flatten(1).mean(0)).pow(2).sum().item()
    D.load_state_dict(d_before)  # the BatchNorm statistics moved in the computation above
    G.load_state_dict(g_before)
    stats = feature_matching_g_step(G, D, real, z, opt_g)
    assert math.isclose(stats["loss_g"], want, rel_tol=1e-5)
    assert all(torch.equal(p, d_before[k]) for k, p in D.state_dict().items() if "running" not in k
               and "num_batches" not in k)
    assert all(p.requires_grad for p in D.parameters())
    assert any(not torch.equal(p, g_before[k]) for k, p in G.state_dict().items())


def test_feature_matching_needs_a_d_with_features():
    G = DCGANGenerator(latent_dim=8, channels=1, width=8, image_size=28)
    opt_g = torch.optim.Adam(G.parameters())
    with pytest.raises(TypeError, match="features"):
        feature_matching_g_step(G, nn.Linear(784, 1), images(2, 1, 28), torch.randn(2, 8), opt_g)


# --------------------------------------------------------------------------- AC-GAN
def acgan_players():
    torch.manual_seed(0)
    G = ConditionalDCGANGenerator(n_classes=10, latent_dim=8, channels=1, width=8, image_size=28)
    D = ACGANDiscriminator(n_classes=10, channels=1, width=8, image_size=28)
    return G, D


def test_acgan_d_returns_a_logit_and_class_logits():
    _, D = acgan_players()
    logits, classes = D(images(4, 1, 28))
    assert logits.shape == (4,) and classes.shape == (4, 10)


def test_acgan_steps_add_the_class_cross_entropy_to_both_players():
    G, D = acgan_players()
    loss = losses.get_loss("nonsaturating")
    opt_g, opt_d = make_optimizers(G, D, TrainConfig())
    real, y, z = images(6, 1, 28), torch.tensor([0, 1, 2, 3, 4, 9]), torch.randn(6, 8)
    fake = G(z, y).detach()
    D_copy = copy.deepcopy(D)
    (rl, rc), (fl, fc) = D_copy(real), D_copy(fake)
    stats = acgan_d_step(G, D, real, y, z, opt_d, loss, fake=fake, weight=0.5)
    assert math.isclose(stats["loss_d"], loss.d_loss(rl, fl).item(), rel_tol=1e-5)
    assert math.isclose(stats["loss_class_d"], (F.cross_entropy(rc, y) + F.cross_entropy(fc, y)).item(), rel_tol=1e-5)

    G_before, D_before = copy.deepcopy(G), copy.deepcopy(D)
    stats = acgan_g_step(G, D, z, y, opt_g, loss, weight=2.0)
    logits, classes = copy.deepcopy(D_before)(G_before(z, y))
    assert math.isclose(stats["loss_class_g"], F.cross_entropy(classes, y).item(), rel_tol=1e-5)
    assert math.isclose(stats["loss_g"], loss.g_loss(logits).item(), rel_tol=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(D.parameters(), D_before.parameters()))
    assert all(p.requires_grad for p in D.parameters())


def test_the_class_weight_scales_the_gradient_of_the_class_term():
    # with the weight 0 the step is the plain GAN step; the class term changes D's update otherwise
    G, D = acgan_players()
    loss = losses.get_loss("nonsaturating")
    real, y, z = images(6, 1, 28), torch.tensor([0, 1, 2, 3, 4, 9]), torch.randn(6, 8)
    after = []
    for weight in (0.0, 1.0, 3.0):
        D_w = copy.deepcopy(D)
        acgan_d_step(G, D_w, real, y, z, torch.optim.SGD(D_w.parameters(), lr=0.1), loss, weight=weight)
        after.append(D_w.classify.weight.detach().clone())
    assert torch.equal(after[0], D.classify.weight)  # weight 0: the class head gets no gradient
    assert torch.allclose(after[2] - D.classify.weight, 3 * (after[1] - D.classify.weight), atol=1e-6)


def test_fit_trains_an_acgan_and_refuses_unlabelled_data():
    G, D = acgan_players()
    x, y = images(40, 1, 28), torch.arange(40) % 10
    history = fit(G, D, (x, y), TrainConfig(steps=3, batch_size=8, classifier_weight=1.0, progress=False))
    assert {"loss_class_d", "loss_class_g", "class_acc_real"} <= set(history)
    with pytest.raises(ValueError, match="labels"):
        fit(G, D, x, TrainConfig(steps=1, batch_size=8, classifier_weight=1.0, progress=False))
    with pytest.raises(ValueError, match="penalty"):
        fit(G, D, (x, y), TrainConfig(steps=1, batch_size=8, classifier_weight=1.0, loss="r1", progress=False))


def test_fit_with_feature_matching_trains_and_refuses_labels():
    torch.manual_seed(0)
    G, D = DCGANGenerator(latent_dim=8, channels=1, width=8, image_size=28), DCGANDiscriminator(1, 8, 28)
    x = images(40, 1, 28)
    history = fit(G, D, x, TrainConfig(steps=3, batch_size=8, feature_matching=True, progress=False))
    assert len(history["loss_g"]) == 3
    with pytest.raises(ValueError, match="unconditional"):
        fit(G, D, (x, torch.arange(40) % 10), TrainConfig(steps=1, batch_size=8, feature_matching=True,
                                                          progress=False))
    with pytest.raises(ValueError, match="choose one"):
        TrainConfig(feature_matching=True, classifier_weight=1.0)


# --------------------------------------------------------------------------- the recipe's options
def test_training_digits_subset_is_fixed_and_the_full_set_keeps_its_order():
    from ganlab.image_recipes import training_digits

    full_x, full_y = training_digits(True)
    x, y = training_digits(True, n=500)
    assert x.shape == (500, 1, 28, 28) and torch.equal(x, training_digits(True, n=500)[0])
    rows = {tuple(row.flatten().tolist()) for row in full_x[:, :, ::4, ::4]}
    assert all(tuple(row.flatten().tolist()) in rows for row in x[:, :, ::4, ::4])
    assert len(torch.unique(y)) == 10  # a shuffle, not the first 500 of a sorted list
    assert torch.equal(full_x, training_digits(True, n=4000)[0])


def test_recipe_options_build_the_players_they_name():
    from ganlab.image_recipes import build_players, default_dcgan

    _, D = build_players(default_dcgan(augment="translation", minibatch_kernels=4, width=8))
    assert isinstance(D, Augmented) and isinstance(D.D.head[1], MinibatchDiscrimination)
    _, D = build_players(default_dcgan(True, conditional_d="acgan", width=8))
    assert isinstance(D, ACGANDiscriminator)
    config = default_dcgan(real_label=0.9, feature_matching=True)
    assert config.train_config().feature_matching and config.gan_loss().name == "nonsaturating, real label 0.9"
    assert default_dcgan(True, conditional_d="acgan").train_config().classifier_weight == 1.0


def test_an_augmented_acgan_run_trains_resumes_and_reports_ds_logits(tmp_path, monkeypatch):
    from ganlab.image_recipes import default_dcgan, load_or_train_dcgan, train_dcgan

    monkeypatch.setenv("GANLAB_FAST", "1")
    config = default_dcgan(True, conditional_d="acgan", augment="translation,cutout", train_digits=200, steps=4,
                           sample_every=2, eval_samples=20, width=8, out=str(tmp_path / "run"))
    r = train_dcgan(config, progress=False)
    assert r["status"] == "finished" and {"d_logit_train", "d_logit_heldout", "conditional_accuracy"} <= set(r)
    longer = default_dcgan(True, conditional_d="acgan", augment="translation,cutout", train_digits=200, steps=6,
                           sample_every=2, eval_samples=20, width=8, out=str(tmp_path / "run"))
    assert train_dcgan(longer, resume=True, progress=False)["steps_done"] == 6
    G, metrics = load_or_train_dcgan(longer, progress=False)  # loads the augmented D's checkpoint, trains nothing
    assert metrics["steps_done"] == 6 and not G.training


def test_classify_fakes_off_trains_the_class_head_on_real_images_only():
    G, D = acgan_players()
    loss = losses.get_loss("nonsaturating")
    real, y, z = images(6, 1, 28), torch.tensor([0, 1, 2, 3, 4, 9]), torch.randn(6, 8)
    fake = G(z, y).detach()
    D_copy = copy.deepcopy(D)
    (_, rc), _ = D_copy(real), D_copy(fake)
    stats = acgan_d_step(G, D, real, y, z, torch.optim.SGD(D.parameters(), lr=0.1), loss, fake=fake,
                         classify_fakes=False)
    assert math.isclose(stats["loss_class_d"], F.cross_entropy(rc, y).item(), rel_tol=1e-5)
    from ganlab.image_recipes import default_dcgan

    assert not default_dcgan(True, conditional_d="acgan-real").train_config().classify_fakes
    assert default_dcgan(True, conditional_d="acgan").train_config().classify_fakes

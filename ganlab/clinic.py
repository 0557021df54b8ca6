"""The bug clinic: classic GAN training bugs, each reproduced in a small runnable setting beside its fix.

Most cases train the same small GAN on the ring of 8 Gaussians (chapter 01's setting) with one
training step written out in full, once with the bug and once with the one-line fix, from the
same seed, and measure both runs the same way: modes covered, high-quality fraction, reverse KL
(``ganlab.metrics``) and what the training doctor (``ganlab.doctor``) says about the run. A bug
that raises instead of training gives ``{"error": its message}``. The bugs of other families
have their own small settings: super-resolution and a perceptual loss on digits (PSNR against
bicubic upscaling), a VAE on digits (its KL and active units), a classifier scored on the data it
was trained on.

    result = clinic.run_case("fakes_not_detached")
    result["buggy"]["modes_covered"], result["fixed"]["modes_covered"], result["buggy"]["doctor"]

``CASES`` lists them, each with its symptom, its diagnosis, its fix in words and, where one
exists, a public report of the bug in a GAN repository. The step functions are short on purpose,
in the form students write them (zero_grad, forward, loss, backward, step), so that each bug is
one visible line.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import data, validate
from .doctor import Doctor, diagnose
from .loop import History, run_steps
from .metrics import mode_stats
from .nets import MLPDiscriminator, MLPGenerator

__all__ = ["Case", "CASES", "run_case", "healthy_ring_run"]

BATCH = 256  # examples per step, real and fake each
STEPS = 1500  # steps of each run: enough for the fixed runs to cover all 8 modes
LR = 1e-3  # Adam, both players, betas (0.5, 0.999) as in DCGAN


@dataclass(frozen=True)
class Case:
    """One bug: what a run shows, why, the fix, and how to train it (buggy or fixed) and measure the result."""

    name: str
    symptom: str
    diagnosis: str
    fix: str
    train: Callable[[bool, int, int], dict[str, Any]]  # train(buggy, steps, seed) -> figures
    steps: int = STEPS
    setting: str = "ring"  # "ring", "sr", "vae" or "classifier"
    seen_in: tuple[str, ...] = ()  # public reports of the bug in GAN repositories


def _probabilities(real_out: Tensor, fake_out: Tensor, loss: str) -> dict[str, float]:
    """D's mean outputs as the doctor reads them: probabilities for logits, the raw scores for least squares."""
    squash = torch.sigmoid if loss == "bce" else (lambda t: t)
    return {"d_real": squash(real_out.detach()).mean().item(), "d_fake": squash(fake_out.detach()).mean().item()}


def _ones(t: Tensor) -> Tensor:
    return torch.ones_like(t)


# ----------------------------------------------------------------------------------------------- the cases' steps
def _fakes_not_detached(G, D, opt_g, opt_d, sample, z, buggy, **_):
    def step(i: int) -> dict[str, float]:
        real = sample(BATCH)
        if buggy:
            opt_g.zero_grad()  # cleared once, at the top, before D's step
        fake = G(z(BATCH))
        opt_d.zero_grad()
        real_out, fake_out = D(real), D(fake if buggy else fake.detach())  # BUG: no .detach()
        loss_d = (F.binary_cross_entropy_with_logits(real_out, _ones(real_out))
                  + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))
        loss_d.backward()  # with the bug, this also leaves D's gradient in G's weights ...
        opt_d.step()
        if not buggy:
            opt_g.zero_grad()
        out = D(G(z(BATCH)))
        loss_g = F.binary_cross_entropy_with_logits(out, _ones(out))
        loss_g.backward()  # ... and G's step then follows G's loss plus the gradient that helps D
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), **_probabilities(real_out, fake_out, "bce")}
    return step


def _bce_step(G, D, opt_g, opt_d, sample, z, squash=lambda t: t, real_target=1.0, fake_target=0.0,
              loss=F.binary_cross_entropy_with_logits, labels_require_grad=False, joint=False):
    """The plain step (D on real and detached fakes, then G through D), with what the next cases change: ``squash``
    D's outputs, the targets, the ``loss``, labels that ask for a gradient, D's step on one ``joint`` batch."""
    def label(like: Tensor, value: float) -> Tensor:
        return torch.full_like(like, value).requires_grad_(labels_require_grad)

    def step(i: int) -> dict[str, float]:
        real, fake = sample(BATCH), G(z(BATCH))
        opt_d.zero_grad()
        if joint:
            real_out, fake_out = squash(D(torch.cat([real, fake.detach()]))).split(BATCH)
        else:
            real_out, fake_out = squash(D(real)), squash(D(fake.detach()))
        loss_d = loss(real_out, label(real_out, real_target)) + loss(fake_out, label(fake_out, fake_target))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = squash(D(fake))
        loss_g = loss(out, label(out, 1.0))
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), **_probabilities(real_out, fake_out, "bce")}
    return step


def _sigmoid_then_logits_loss(G, D, opt_g, opt_d, sample, z, buggy, **_):
    # BUG: a Sigmoid at the end of D, and then a loss on logits (which applies the sigmoid again): what the loss
    # takes for logits are probabilities in (0, 1), so its own sigmoid of them lies in (0.5, 0.73)
    return _bce_step(G, D, opt_g, opt_d, sample, z, squash=torch.sigmoid if buggy else (lambda t: t))


def _labels_swapped(G, D, opt_g, opt_d, sample, z, buggy, **_):
    real_target, fake_target = (0.0, 1.0) if buggy else (1.0, 0.0)  # BUG: real labelled 0, fake 1
    return _bce_step(G, D, opt_g, opt_d, sample, z, real_target=real_target, fake_target=fake_target)


def _broadcast_targets(G, D, opt_g, opt_d, sample, z, buggy, **_):
    def step(i: int) -> dict[str, float]:
        real, fake = sample(BATCH), G(z(BATCH))
        opt_d.zero_grad()
        out = D(torch.cat([real, fake.detach()]))[:, None]  # (2N, 1), as from a head nn.Linear(width, 1)
        targets = torch.cat([torch.ones(BATCH), torch.zeros(BATCH)])  # (2N,)
        if not buggy:
            targets = targets[:, None]  # (2N, 1), as D's output
        # BUG: (2N, 1) against (2N,) broadcasts to (2N, 2N): every output regressed on every target, i.e. on 0.5
        with warnings.catch_warnings():  # torch warns once, in a message easily missed; the symptom is what counts
            warnings.filterwarnings("ignore", message="Using a target size")
            loss_d = 0.5 * F.mse_loss(out, targets)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        fake_out = D(fake)[:, None]
        loss_g = 0.5 * F.mse_loss(fake_out, torch.ones_like(fake_out))
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                **_probabilities(out[:BATCH], out[BATCH:], "lsgan")}
    return step


def _g_optimiser_on_d(G, D, opt_g, opt_d, sample, z, buggy, **_):
    if buggy:  # BUG: G's optimiser built on D's parameters (a copy-paste of the line above it)
        opt_g = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    return _bce_step(G, D, opt_g, opt_d, sample, z)


def _bce_on_raw_logits(G, D, opt_g, opt_d, sample, z, buggy, **_):
    # BUG: F.binary_cross_entropy (nn.BCELoss) takes probabilities, and D returns logits
    loss = F.binary_cross_entropy if buggy else F.binary_cross_entropy_with_logits
    return _bce_step(G, D, opt_g, opt_d, sample, z, loss=loss)


def _step_on_model(G, D, opt_g, opt_d, sample, z, buggy, **_):
    d_update = D if buggy else opt_d  # BUG: step() on the model; only an optimiser has one
    return _bce_step(G, D, opt_g, _Stepping(opt_d, d_update), sample, z)


class _Stepping:
    """An optimiser whose ``step`` is looked up on ``owner`` (the optimiser itself, or by mistake the model)."""

    def __init__(self, opt: torch.optim.Optimizer, owner: Any):
        self.opt, self.owner = opt, owner

    def zero_grad(self) -> None:
        self.opt.zero_grad()

    def step(self) -> None:
        self.owner.step()


def _step_not_called(G, D, opt_g, opt_d, sample, z, buggy, **_):
    return _bce_step(G, D, opt_g, _Stepping(opt_d, _NoStep() if buggy else opt_d), sample, z)


class _NoStep:
    """What ``opt_d.step`` without the parentheses does: it names the method and never calls it."""

    def step(self) -> None:
        pass


def _labels_require_grad(G, D, opt_g, opt_d, sample, z, buggy, **_):
    # BUG (if it is one): labels made with requires_grad=True
    return _bce_step(G, D, opt_g, opt_d, sample, z, labels_require_grad=buggy)


def _batchnorm_joint_batch(G, D, opt_g, opt_d, sample, z, buggy, **_):
    # BUG: one batch of real and fake for D's step, while G's step shows D the fakes alone
    return _bce_step(G, D, opt_g, opt_d, sample, z, joint=buggy)


def _plain(G, D, opt_g, opt_d, sample, z, buggy, **_):  # the bug is outside the step (the data, the networks)
    return _bce_step(G, D, opt_g, opt_d, sample, z)


GP_WEIGHT, N_CRITIC = 10.0, 5  # WGAN-GP's lambda and critic steps per G step (Gulrajani et al. 2017)


def _gradient_penalty_dim(G, D, opt_g, opt_d, sample, z, buggy, **_):
    def step(i: int) -> dict[str, float]:
        for _ in range(N_CRITIC):
            real, fake = sample(BATCH), G(z(BATCH)).detach()
            t = torch.rand(BATCH, 1)
            mixed = (t * real + (1 - t) * fake).requires_grad_(True)
            grad, = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)  # (N, 2): one row per example
            norms = grad.norm(dim=0 if buggy else 1)  # BUG: dim=0 takes the norm over the batch, per coordinate
            opt_d.zero_grad()
            real_out, fake_out = D(real), D(fake)
            loss_d = fake_out.mean() - real_out.mean() + GP_WEIGHT * (norms - 1).pow(2).mean()
            loss_d.backward()
            opt_d.step()
        opt_g.zero_grad()
        loss_g = -D(G(z(BATCH))).mean()
        loss_g.backward()
        opt_g.step()
        # critic scores, not probabilities: logged under their own names, which the doctor does not read as D(x)
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "critic_real": real_out.mean().item(),
                "critic_fake": fake_out.mean().item(), "grad_norm_mean": grad.norm(dim=1).mean().item()}
    return step


def _optimiser_state_lost(G, D, opt_g, opt_d, sample, z, buggy, steps: int = STEPS, **_):
    plain, resume_at = _bce_step(G, D, opt_g, opt_d, sample, z), steps // 2

    def step(i: int) -> dict[str, float]:
        if i == resume_at + 1:  # the run stopped after step resume_at, was saved, and resumes here
            buffer = io.BytesIO()
            saved = {"G": G.state_dict(), "D": D.state_dict()}
            if not buggy:  # BUG: the checkpoint holds the weights only
                saved |= {"opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict()}
            torch.save(saved, buffer)
            buffer.seek(0)
            loaded = torch.load(buffer)
            G.load_state_dict(loaded["G"]), D.load_state_dict(loaded["D"])
            for key, opt in (("opt_g", opt_g), ("opt_d", opt_d)):  # without the state: Adam starts afresh
                fresh = type(opt)(opt.param_groups[0]["params"], **opt.defaults)
                opt.load_state_dict(loaded.get(key, fresh.state_dict()))
        before = torch.cat([p.detach().flatten() for p in G.parameters()])
        stats = plain(i)
        after = torch.cat([p.detach().flatten() for p in G.parameters()])
        return {**stats, "g_update": (after - before).norm().item()}
    return step


# ------------------------------------------------------------------------------------- training on the ring
class _BatchNormDiscriminator(nn.Module):
    """The ring's D with BatchNorm after its second layer (DCGAN's D has none after its first)."""

    def __init__(self, width: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, width), nn.LeakyReLU(0.2),
                                 nn.Linear(width, width), nn.BatchNorm1d(width), nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)


class _TanhGenerator(nn.Module):
    """The ring's G ending in tanh, as image generators do: every output in (-1, 1)."""

    def __init__(self, g: MLPGenerator):
        super().__init__()
        self.g = g

    def forward(self, z: Tensor) -> Tensor:
        return torch.tanh(self.g(z))


def _on_ring(make_step, d_batchnorm: bool = False, data_outside_tanh: bool = False):
    """train(buggy, steps, seed) for a case on the ring: the case's step trains G and D, then the figures.

    ``d_batchnorm``: D has BatchNorm layers. ``data_outside_tanh``: G ends in tanh and the ring has radius 2; the
    buggy run trains on it as it is, the fixed run on the data scaled into (-1, 1), its samples scaled back."""
    def train(buggy: bool, steps: int, seed: int) -> dict[str, Any]:
        ring = data.ring(radius=2.0, sigma=0.02) if data_outside_tanh else data.toy("ring")
        scale = 1.0 if buggy or not data_outside_tanh else 2.0  # the fix: data / 2 lies in [-1, 1]
        torch.manual_seed(seed)
        G = MLPGenerator(latent_dim=2, out_dim=2, width=128, depth=3)
        D = _BatchNormDiscriminator() if d_batchnorm else MLPDiscriminator(in_dim=2, width=128, depth=3)
        net = _TanhGenerator(G) if data_outside_tanh else G
        opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
        stream = torch.Generator().manual_seed(seed)
        sample = lambda n: ring.sample(n, generator=stream) / scale  # noqa: E731
        z = lambda n: torch.randn(n, 2, generator=stream)  # noqa: E731
        watcher = Doctor({"G": G, "D": D}, quiet=True)
        try:
            history: History = run_steps(make_step(net, D, opt_g, opt_d, sample, z, buggy, steps=steps),
                                         steps=steps, state={"G": G, "D": D}, doctor=watcher,
                                         log_every=max(1, steps // 40), progress=False)
        except Exception as error:  # a loud bug: the message is the symptom
            return {"error": f"{type(error).__name__}: {error}"}
        findings = {f.code for f in diagnose(history)} | {f.code for f in watcher.findings}
        with torch.no_grad():
            points = net(torch.randn(2500, 2, generator=torch.Generator().manual_seed(seed))) * scale
        return {**mode_stats(points, ring), "history": dict(history), "doctor": sorted(findings), "samples": points,
                "g_weights": torch.cat([p.detach().flatten() for p in G.parameters()])}
    return train


# ---------------------------------------------------------------------------------- other families' settings
def _digits(n: int, seed: int, held_out: bool = False) -> tuple[Tensor, Tensor]:
    """``n`` training digits (or held-out ones, which no model here trains on) in [-1, 1], with their labels."""
    from .classifier import heldout_mnist, mnist_split

    order = torch.Generator().manual_seed(seed)
    if held_out:  # held out in class order: a random n of them, every class in about its share
        x, y = heldout_mnist()
        pick = torch.randperm(len(x), generator=order)[:n]
        return x[pick], y[pick]
    train, _ = mnist_split()
    x, y = data.load("mnist")
    pick = train[torch.randperm(len(train), generator=order)[:n]]
    return x[pick], y[pick]


class _SmallSR(nn.Module):
    """x2 super-resolution for digits: bicubic upscaling plus a learned residual (three 3x3 convolutions)."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1),
                                  nn.ReLU(), nn.Conv2d(width, 1, 3, padding=1))

    def forward(self, lr: Tensor) -> Tensor:
        up = F.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False)
        return up + self.body(up)


def _psnr(x: Tensor, y: Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2), over the whole batch."""
    return (10 * torch.log10(4.0 / (x.clamp(-1, 1) - y).pow(2).mean())).item()


def _train_sr(loss_of: Callable[[Tensor, Tensor], Tensor], input_of: Callable[[Tensor], Tensor], steps: int,
              seed: int) -> dict[str, Any]:
    """Train ``_SmallSR`` on 2,000 digits (batch 32, Adam 1e-3) with loss_of(sr, hr), feeding it input_of(lr); PSNR
    on 500 held-out digits, and bicubic upscaling's on the same."""
    from .superres import degrade, upscale_bicubic

    torch.manual_seed(seed)
    hr_train, _ = _digits(2000, seed)
    lr_train = degrade(hr_train, 2)
    net = _SmallSR()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    stream = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        pick = torch.randint(len(hr_train), (32,), generator=stream)
        opt.zero_grad()
        loss = loss_of(net(input_of(lr_train[pick])), hr_train[pick])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    hr, _ = _digits(500, seed, held_out=True)
    lr = degrade(hr, 2)
    with torch.no_grad():
        sr = net(input_of(lr))
    return {"psnr": round(_psnr(sr, hr), 2), "psnr_bicubic": round(_psnr(upscale_bicubic(lr, 2), hr), 2),
            "loss": losses, "lr": lr[:8], "sr": sr[:8].clamp(-1, 1), "hr": hr[:8]}


def _sr_never_sees_lr(buggy: bool, steps: int, seed: int) -> dict[str, Any]:
    # BUG: the generator is fed noise of the LR image's shape, as a GAN's G is fed z, instead of the LR image
    feed = (lambda lr: torch.randn_like(lr)) if buggy else (lambda lr: lr)
    return _train_sr(lambda sr, hr: (sr - hr).abs().mean(), feed, steps, seed)


def _perceptual_unnormalised(buggy: bool, steps: int, seed: int) -> dict[str, Any]:
    """The content loss on the features of the course's digit classifier, which was trained on images in [-1, 1]."""
    from .classifier import load_classifier

    phi = load_classifier("cpu").eval().conv[:2]  # its two convolutional blocks: (N, 64, 7, 7) feature maps
    for p in phi.parameters():
        p.requires_grad_(False)
    # BUG: the images reach phi in [0, 1], not in the range phi was trained on (like ImageNet's mean and std
    # left out before a VGG)
    prepare = (lambda x: (x + 1) / 2) if buggy else (lambda x: x)

    def loss_of(sr: Tensor, hr: Tensor) -> Tensor:
        with torch.no_grad():
            target = phi(prepare(hr))
        return F.mse_loss(phi(prepare(sr)), target)
    return _train_sr(loss_of, lambda lr: lr, steps, seed)


def _vae_reductions(buggy: bool, steps: int, seed: int) -> dict[str, Any]:
    """A ConvVAE (latent 16) on 2,000 digits, batch 64, Adam 1e-3; KL, active units and held-out reconstruction."""
    from .vae import ConvVAE, active_units, gaussian_kl, to_unit

    torch.manual_seed(seed)
    x_train, _ = _digits(2000, seed)
    model = ConvVAE(latent_dim=16, width=32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    stream = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"step": [], "loss": [], "kl": [], "reconstruction": []}
    for i in range(1, steps + 1):
        x = x_train[torch.randint(len(x_train), (64,), generator=stream)]
        opt.zero_grad()
        logits, mu, logvar, _ = model(x, stream)
        kl = gaussian_kl(mu, logvar).mean()  # nats per image
        if buggy:  # BUG: the reconstruction averaged over the 784 pixels, the KL summed over the 16 latents
            reconstruction = F.binary_cross_entropy_with_logits(logits, to_unit(x))
        else:
            reconstruction = F.binary_cross_entropy_with_logits(logits, to_unit(x), reduction="none").sum(
                dim=(1, 2, 3)).mean()
        loss = reconstruction + kl
        loss.backward()
        opt.step()
        for key, value in (("step", i), ("loss", loss.item()), ("kl", kl.item()),
                           ("reconstruction", reconstruction.item())):
            history[key].append(value)
    held_out, _ = _digits(500, seed, held_out=True)
    model.eval()
    with torch.no_grad():
        mu, _ = model.encode(held_out)
        again = model.mean_image(model.decode(mu))
    return {"kl": round(history["kl"][-1], 3), "active_units": active_units(model, held_out),
            "reconstruction_error": round((again - held_out).abs().mean().item(), 4), "history": history,
            "doctor": sorted({f.code for f in diagnose(history)}), "x": held_out[:8], "reconstructed": again[:8]}


def _scored_on_training_data(buggy: bool, steps: int, seed: int) -> dict[str, Any]:
    """A small classifier trained on 200 digits (batch 50, Adam 1e-3), scored on them or on held-out digits."""
    torch.manual_seed(seed)
    x, y = _digits(200, seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    stream = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        pick = torch.randint(len(x), (50,), generator=stream)
        opt.zero_grad()
        F.cross_entropy(net(x[pick]), y[pick]).backward()
        opt.step()
    # BUG: the score is computed on the digits the model was trained on
    score_x, score_y = (x, y) if buggy else _digits(1000, seed, held_out=True)
    held_x, held_y = _digits(1000, seed, held_out=True)
    with torch.no_grad():
        reported = (net(score_x).argmax(1) == score_y).float().mean().item()
        true = (net(held_x).argmax(1) == held_y).float().mean().item()
    return {"reported_accuracy": round(reported, 3), "held_out_accuracy": round(true, 3)}


ISSUE = "https://github.com/{}/issues/{}"
CASES = {case.name: case for case in (
    Case("fakes_not_detached",
         "G learns slowly and unevenly; its loss and D's move together",
         "D's step runs D's loss back into G (no .detach() on the fakes) and G's gradients, cleared once at the top "
         "of the iteration, keep that part: G's update follows its own loss plus the gradient that makes D's job "
         "easier",
         "fake.detach() in D's step (and opt_g.zero_grad() right before G's backward)", _on_ring(_fakes_not_detached),
         seen_in=(ISSUE.format("yunjey/pytorch-tutorial", 56), ISSUE.format("heykeetae/Self-Attention-GAN", 48))),
    Case("sigmoid_then_logits_loss",
         "D's outputs stay between 0.5 and 0.73 whatever it sees; G learns slowly",
         "D ends with a Sigmoid and the loss is BCEWithLogits, which applies a sigmoid again: D can never be "
         "confident, and its gradients shrink by the sigmoid's slope",
         "remove the Sigmoid (or use BCELoss on probabilities, less stable)", _on_ring(_sigmoid_then_logits_loss)),
    Case("bce_on_raw_logits",
         "the first step stops with 'all elements of input should be between 0 and 1'",
         "F.binary_cross_entropy (nn.BCELoss) takes probabilities, and D returns logits, any real number",
         "F.binary_cross_entropy_with_logits (nn.BCEWithLogitsLoss), which applies the sigmoid itself, stably",
         _on_ring(_bce_on_raw_logits), seen_in=(ISSUE.format("soumith/ganhacks", 36),)),
    Case("labels_swapped",
         "D rates the fakes as more real than the real data; G drifts away from the data",
         "D's targets are swapped: real labelled 0 and fakes 1, so D learns to call the fakes real and G is pushed "
         "to where D already agrees",
         "ones for real data, zeros for the fakes, in D's step", _on_ring(_labels_swapped)),
    Case("broadcast_targets",
         "D's outputs sit at 0.5 for real and fake alike; G learns nothing useful",
         "D's output has shape (2N, 1) and the targets (2N,): the least-squares loss broadcasts them to (2N, 2N), "
         "regressing every output on every target, that is on their mean 0.5 (torch warns once, in a message "
         "easily missed)",
         "targets of D's output's shape: targets[:, None], or out.squeeze(1)", _on_ring(_broadcast_targets)),
    Case("g_optimiser_on_d",
         "D wins outright (its outputs go to 1 on real data and 0 on fakes) and G's samples never move",
         "G's optimiser was built on D's parameters: G's step changes D, and G never changes",
         "torch.optim.Adam(G.parameters(), ...)", _on_ring(_g_optimiser_on_d)),
    Case("step_on_model",
         "the first step stops with \"'MLPDiscriminator' object has no attribute 'step'\"",
         "step() was called on the model; only an optimiser updates weights (a model has zero_grad, which misleads)",
         "opt_d.step()", _on_ring(_step_on_model)),
    Case("step_not_called",
         "D's weights never change: its outputs stay where they started, and G wanders",
         "opt_d.step without parentheses names the method and does nothing; Python raises no error",
         "opt_d.step()", _on_ring(_step_not_called)),
    Case("labels_require_grad",
         "none: the run is the same, weight for weight",
         "labels made with requires_grad=True only ask autograd to compute a gradient for them too, which nothing "
         "uses: a misreading of what requires_grad is for, not a bug in today's PyTorch",
         "leave requires_grad off for constants (it costs a little memory and time)", _on_ring(_labels_require_grad)),
    Case("batchnorm_joint_batch",
         "D wins outright from the first steps, and G's samples stay in a small blob far from the data",
         "D has BatchNorm and sees one batch of real and fake examples in its step but fakes alone in G's step: "
         "each batch is normalised with its own statistics, so G is trained against a D that differs from the one "
         "that was just trained",
         "D on real and fake batches separately, in both steps", _on_ring(_batchnorm_joint_batch, d_batchnorm=True),
         seen_in=(ISSUE.format("soumith/ganhacks", 52), ISSUE.format("eriklindernoren/PyTorch-GAN", 135))),
    Case("data_outside_tanh",
         "D wins outright; the samples press against the edge of tanh's range, short of the data",
         "G ends in tanh, whose outputs lie in (-1, 1), and the data does not (pixels in [0, 255], here a ring of "
         "radius 2): G cannot reach the data, and D separates them with ease",
         "scale the data into (-1, 1) (images: x / 127.5 - 1), and scale the samples back to show them",
         _on_ring(_plain, data_outside_tanh=True)),
    Case("gradient_penalty_dim",
         "G learns slowly; the critic's gradient norms settle far below 1",
         "the penalty's norm is taken over the wrong dimension: over the batch (dim=0) for points, or over the "
         "channels alone (dim=1 of an (N, C, H, W) gradient) for images, instead of over each example's "
         "coordinates; the penalty then constrains something else than each example's gradient",
         "grad.flatten(1).norm(dim=1): one norm per example", _on_ring(_gradient_penalty_dim),
         seen_in=(ISSUE.format("caogang/wgan-gp", 25), ISSUE.format("eriklindernoren/PyTorch-GAN", 20),
                  ISSUE.format("Zeleni9/pytorch-wgan", 40))),
    Case("optimiser_state_lost",
         "after a resume, G's first update is larger than the ones before it, and the run is no longer the run it "
         "would have been without the interruption",
         "the checkpoint held the weights but not the optimisers' state: Adam restarts with no moving averages, and "
         "its first update moves every weight by about the learning rate, whatever the size of its gradient",
         "save and load opt_g.state_dict() and opt_d.state_dict() with the weights",
         _on_ring(_optimiser_state_lost),
         seen_in=(ISSUE.format("NVlabs/stylegan2-ada-pytorch", 108), ISSUE.format("dansuh17/segan-pytorch", 14))),
    Case("sr_never_sees_lr",
         "the SR images are one blurry average digit whatever the input; PSNR far below bicubic upscaling",
         "the super-resolution network is fed noise (a GAN's z) instead of the low-resolution image: it can only "
         "learn the average of the targets",
         "sr = G(lr)", _sr_never_sees_lr, steps=600, setting="sr"),
    Case("perceptual_unnormalised",
         "none that shows here: the PSNR is within a few tenths of a decibel of the correctly fed loss's",
         "the feature network of the perceptual loss sees images in another range than the one it was trained on "
         "([0, 1] instead of [-1, 1]; for VGG, without ImageNet's mean and std): its features of SR and HR still "
         "agree only when the images do, so the loss still points the right way; what changes is which "
         "differences its features weigh (whether that matters for another network is measured, not assumed)",
         "normalise as the feature network expects before phi", _perceptual_unnormalised, steps=600, setting="sr"),
    Case("vae_reductions",
         "samples and reconstructions are one blurry average digit; the KL falls to almost 0 (posterior collapse)",
         "the reconstruction term is averaged over the 784 pixels while the KL is summed over the latents: the KL "
         "weighs 784 times too much, and the encoder learns to say nothing",
         "both terms summed per image (then averaged over the batch)", _vae_reductions, steps=600, setting="vae",
         seen_in=("https://github.com/zdebruine/MMVAE/pull/19", ISSUE.format("podgorskiy/VAE", 1))),
    Case("scored_on_training_data",
         "an excellent score that does not hold on new data",
         "the model is scored on the data it was trained on, which it may have memorised",
         "score on held-out data, never used for training or for choosing settings", _scored_on_training_data,
         steps=300, setting="classifier"),
)}


def run_case(name: str, steps: int | None = None, seed: int = 0) -> dict[str, dict]:
    """Train the case's buggy version and its fixed version from the same seed; the figures of each.

    On the ring: the modes covered, the high-quality fraction, the reverse KL, the history, G's final weights and
    the doctor's findings (``"doctor"``: their codes), or ``{"error": message}`` for a bug that raises. The other
    settings return their own figures (see ``Case.setting``). ``steps`` defaults to the case's."""
    validate.choice("name", name, CASES)
    case = CASES[name]
    steps = case.steps if steps is None else validate.integer("steps", steps)
    validate.integer("seed", seed, low=0)
    return {"buggy": case.train(True, steps, seed), "fixed": case.train(False, steps, seed)}


def healthy_ring_run(steps: int = STEPS, seed: int = 0) -> dict[str, Any]:
    """The plain, bug-free ring run of the clinic (what each ring case's fixed step trains), with the figures of
    ``run_case``: the run an interrupted and resumed one should end exactly where."""
    validate.integer("steps", steps)
    validate.integer("seed", seed, low=0)
    return _on_ring(_plain)(False, steps, seed)

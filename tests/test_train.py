import dataclasses

import pytest
import torch
from torch import nn

import ganlab
from ganlab import checkpoint as ckpt
from ganlab import data
from ganlab.amp import Precision
from ganlab.losses import get_loss
from ganlab.nets import MLPDiscriminator, MLPGenerator
from ganlab.train import TrainConfig, TrainingDiverged, d_step, fit, g_step, make_optimizers

CFG = TrainConfig(steps=30, batch_size=32, log_every=10, progress=False)


def players(seed=0, width=16):
    torch.manual_seed(seed)
    return MLPGenerator(width=width), MLPDiscriminator(width=width)


def params(m):
    return torch.cat([p.detach().flatten() for p in m.parameters()]).clone()


def test_d_step_updates_d_only_and_detaches_fakes():
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, CFG)
    g0, d0 = params(G), params(D)
    stats = d_step(G, D, torch.randn(8, 2), torch.randn(8, 2), opt_d, get_loss("nonsaturating"))
    assert torch.equal(params(G), g0) and not torch.equal(params(D), d0)
    assert all(p.grad is None for p in G.parameters())  # no graph through G
    assert set(stats) == {"loss_d", "d_real", "d_fake"} and all(isinstance(v, float) for v in stats.values())


def test_g_step_updates_g_only_and_leaves_d_trainable():
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, CFG)
    g0, d0 = params(G), params(D)
    g_step(G, D, torch.randn(8, 2), opt_g, get_loss("nonsaturating"))
    assert not torch.equal(params(G), g0) and torch.equal(params(D), d0)
    assert all(p.requires_grad for p in D.parameters())


def test_d_step_lowers_its_loss_on_a_fixed_batch():
    G, D = players()
    _, opt_d = make_optimizers(G, D, dataclasses.replace(CFG, lr_d=1e-2))
    real, z, loss = torch.randn(64, 2) + 3, torch.randn(64, 2), get_loss("minimax")
    first = d_step(G, D, real, z, opt_d, loss)["loss_d"]
    for _ in range(20):
        last = d_step(G, D, real, z, opt_d, loss)["loss_d"]
    assert last < first


def test_fit_trains_and_logs():
    G, D = players()
    g0, d0 = params(G), params(D)
    calls = []
    history = fit(G, D, data.ring().sample, CFG, callback=lambda step, *_: calls.append(step))
    assert history["step"] == list(range(1, 31))
    assert all(len(history[k]) == 30 for k in ("loss_d", "loss_g", "d_real", "d_fake"))
    assert calls == [10, 20, 30]
    assert not torch.equal(params(G), g0) and not torch.equal(params(D), d0)


def test_fit_samples_batches_from_a_tensor():
    G, D = players()
    history = fit(G, D, data.load("ring", n=100)[0], dataclasses.replace(CFG, steps=5))
    assert len(history["step"]) == 5
    with pytest.raises(TypeError, match="non-empty tensor"):
        fit(G, D, torch.zeros(0, 2), CFG)


def test_n_critic_counts_discriminator_steps():
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, CFG)
    fit(G, D, data.ring().sample, dataclasses.replace(CFG, steps=4, n_critic=3), opt_g=opt_g, opt_d=opt_d)
    assert opt_d.state[next(iter(D.parameters()))]["step"] == 12
    assert opt_g.state[next(iter(G.parameters()))]["step"] == 4


def test_config_validation():
    with pytest.raises(ValueError, match="nonsaturating"):
        TrainConfig(loss="nonsaturatin")
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="lr_d"):
        TrainConfig(lr_d=-1.0)


def test_nan_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path):
    G, D = players()
    path = tmp_path / "run.pt"
    fit(G, D, data.ring().sample, dataclasses.replace(CFG, steps=5), checkpoint=path)
    saved = path.read_bytes()
    bad = lambda n: torch.full((n, 2), float("nan"))  # noqa: E731
    with pytest.raises(TrainingDiverged, match=r"diverged at step 6.*holds step 5 and is unchanged.*Lower the learning rates"):
        fit(G, D, bad, dataclasses.replace(CFG, steps=10, checkpoint_every=1), checkpoint=path, resume=True)
    assert path.read_bytes() == saved


def test_keyboard_interrupt_returns_history_so_far():
    G, D = players()

    def stop(step, *_):
        if step == 20:
            raise KeyboardInterrupt

    history = fit(G, D, data.ring().sample, CFG, callback=stop)
    assert history.interrupted and history["step"][-1] == 20
    assert torch.isfinite(G.sample(4)).all()


def test_resume_continues_exactly(tmp_path):
    cfg = dataclasses.replace(CFG, steps=20)
    mix = data.ring()
    G1, D1 = players()  # seeds the global RNG, which draws the real samples
    straight = fit(G1, D1, mix.sample, cfg)
    path = tmp_path / "ckpt.pt"
    G2, D2 = players()
    fit(G2, D2, mix.sample, dataclasses.replace(cfg, steps=10), checkpoint=path)
    G3, D3 = players(seed=123)  # other weights, other RNG state: all must come from the checkpoint
    resumed = fit(G3, D3, mix.sample, cfg, checkpoint=path, resume=True)
    assert resumed["step"] == list(range(1, 21))
    assert resumed["loss_d"] == straight["loss_d"]
    assert torch.equal(params(G3), params(G1)) and torch.equal(params(D3), params(D1))
    assert ckpt.load_checkpoint(path, G=G2, D=D2)["step"] == 20


def test_checkpoint_round_trip(tmp_path):
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, CFG)
    fit(G, D, data.ring().sample, dataclasses.replace(CFG, steps=3), opt_g=opt_g, opt_d=opt_d)
    path = ckpt.save_checkpoint(tmp_path / "a" / "c.pt", G=G, D=D, opt_g=opt_g, opt_d=opt_d, step=3,
                                config={"lr": 1e-3}, history={"step": [1, 2, 3]})
    G2, D2 = players(seed=9)
    opt_g2, opt_d2 = make_optimizers(G2, D2, CFG)
    state = ckpt.load_checkpoint(path, G=G2, D=D2, opt_g=opt_g2, opt_d=opt_d2)
    assert state == {"step": 3, "config": {"lr": 1e-3}, "history": {"step": [1, 2, 3]}}
    assert torch.equal(params(G), params(G2)) and torch.equal(params(D), params(D2))
    assert opt_d2.state_dict()["state"][0]["step"] == opt_d.state_dict()["state"][0]["step"]
    assert [p.name for p in path.parent.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_rng_state_is_restored(tmp_path):
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, CFG)
    path = ckpt.save_checkpoint(tmp_path / "c.pt", G=G, D=D, opt_g=opt_g, opt_d=opt_d, step=0, config={}, history={})
    expected = torch.rand(3)
    torch.rand(100)
    ckpt.load_checkpoint(path, G=G, D=D)
    assert torch.equal(torch.rand(3), expected)


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, CFG)
    path = ckpt.save_checkpoint(tmp_path / "c.pt", G=G, D=D, opt_g=opt_g, opt_d=opt_d, step=1, config={}, history={})
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_checkpoint(path, G=G, D=D, opt_g=opt_g, opt_d=opt_d, step=2, config={}, history={})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_corrupted_checkpoint_gets_a_clear_error(tmp_path):
    G, D = players()
    path = tmp_path / "c.pt"
    path.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ckpt.CheckpointError, match="not a readable checkpoint.*corrupted"):
        ckpt.load_checkpoint(path, G=G, D=D)
    with pytest.raises(ckpt.CheckpointError, match="no checkpoint"):
        ckpt.load_checkpoint(tmp_path / "missing.pt", G=G, D=D)
    torch.save({"something": 1}, path)
    with pytest.raises(ckpt.CheckpointError, match="not a ganlab checkpoint"):
        ckpt.load_checkpoint(path, G=G, D=D)


def test_checkpoint_of_other_nets_gets_a_clear_error(tmp_path):
    G, D = players(width=16)
    opt_g, opt_d = make_optimizers(G, D, CFG)
    path = ckpt.save_checkpoint(tmp_path / "c.pt", G=G, D=D, opt_g=opt_g, opt_d=opt_d, step=1,
                                config={"width": 16}, history={})
    G2, D2 = players(width=32)
    with pytest.raises(ckpt.CheckpointError, match="another shape.*'width': 16"):
        ckpt.load_checkpoint(path, G=G2, D=D2)


def test_mixed_precision_runs_on_cpu_in_bfloat16():
    prec = Precision(torch.device("cpu"), enabled=True)
    assert prec.dtype == torch.bfloat16 and prec.scaler is None
    with prec.autocast():
        assert torch.nn.Linear(2, 2)(torch.randn(1, 2)).dtype == torch.bfloat16
    G, D = players()
    history = fit(G, D, data.ring().sample, dataclasses.replace(CFG, amp=True))
    assert all(torch.isfinite(torch.tensor(history[k])).all() for k in ("loss_d", "loss_g"))


@pytest.mark.cuda
def test_fit_on_cuda_with_and_without_amp():
    for amp in (False, True):
        G, D = players()
        G, D = G.cuda(), D.cuda()
        history = fit(G, D, lambda n: data.ring().sample(n), dataclasses.replace(CFG, amp=amp))
        assert next(G.parameters()).is_cuda and len(history["step"]) == CFG.steps
        assert all(torch.isfinite(torch.tensor(history[k])).all() for k in ("loss_d", "loss_g"))


def test_lr_decay_schedule():
    cfg = TrainConfig(steps=100, lr_decay=0.5)
    assert cfg.lr_factor(1) == 1.0 and cfg.lr_factor(51) == 1.0
    assert cfg.lr_factor(76) == pytest.approx(0.5) and cfg.lr_factor(100) == pytest.approx(0.02)
    assert TrainConfig(steps=100).lr_factor(100) == 1.0
    with pytest.raises(ValueError, match="fraction"):
        TrainConfig(lr_decay=1.5)


def test_fit_applies_the_decay():
    G, D = players()
    opt_g, opt_d = make_optimizers(G, D, CFG)
    fit(G, D, data.ring().sample, dataclasses.replace(CFG, steps=10, lr_decay=1.0), opt_g=opt_g, opt_d=opt_d)
    assert opt_g.param_groups[0]["lr"] == pytest.approx(CFG.lr_g / 10)
    assert opt_d.param_groups[0]["lr"] == pytest.approx(CFG.lr_d / 10)


def test_fit_takes_a_loss_object_instead_of_the_name():
    from ganlab import losses

    calls = []

    def counting_g_loss(fake):
        calls.append(1)
        return losses.g_loss_nonsaturating(fake)

    mine = losses.GANLoss("mine", losses.d_loss_bce, counting_g_loss, "a student's pair")
    G, D = players()
    fit(G, D, data.ring().sample, dataclasses.replace(CFG, steps=3), loss=mine)
    assert len(calls) == 3


# ---------------------------------------------------------------- conditional GANs and EMA
class _CondG(nn.Module):
    """z, y -> a point at the class's centre plus a learned offset: tiny, so the tests stay fast."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.latent_dim = 2
        self.net = nn.Linear(2, 2)
        self.centre = nn.Embedding(n_classes, 2)

    def forward(self, z, y):
        return self.net(z) + self.centre(y)


class _CondD(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
        self.embed = nn.Embedding(n_classes, 2)

    def forward(self, x, y):
        return self.net(x).squeeze(1) + (self.embed(y) * x).sum(1)


def _labelled(n=300):
    y = torch.arange(n) % 3
    x = torch.stack([y.float() * 3 - 3, torch.zeros(n)], 1) + 0.1 * torch.randn(n, 2)
    return x, y


def test_steps_pass_labels_to_both_players():
    torch.manual_seed(0)
    G, D = _CondG(), _CondD()
    seen = []
    D.register_forward_pre_hook(lambda m, args: seen.append(args[1].clone()))
    opt_g, opt_d = make_optimizers(G, D, TrainConfig())
    x, y = _labelled(12)
    d_step(G, D, x, torch.randn(12, 2), opt_d, ganlab.get_loss("r1"), y=y)  # the penalty needs D(x, y) too
    g_step(G, D, torch.randn(12, 2), opt_g, ganlab.get_loss("nonsaturating"), y=y)
    assert len(seen) >= 3 and all(torch.equal(s, y) for s in seen)


def test_fit_trains_a_conditional_gan_from_a_labelled_pair():
    torch.manual_seed(0)
    G, D = _CondG(), _CondD()
    history = fit(G, D, _labelled(), TrainConfig(steps=300, batch_size=64, lr_g=1e-2, lr_d=1e-2, progress=False))
    assert len(history["loss_d"]) == 300
    with torch.no_grad():  # each class's samples sit near that class's data (x = -3, 0, 3)
        means = [G(torch.randn(200, 2), torch.full((200,), k)).mean(0)[0].item() for k in range(3)]
    assert means == sorted(means) and means[2] - means[0] > 3, means


def test_labels_must_match_the_examples():
    x, y = _labelled(10)
    with pytest.raises(ValueError, match=r"labels should be a tensor of shape \(10,\)"):
        fit(_CondG(), _CondD(), (x, y[:5]), TrainConfig(steps=1, progress=False))


def test_ema_follows_g_slowly_and_is_checkpointed(tmp_path):
    torch.manual_seed(0)
    G, D = MLPGenerator(width=16, depth=2), MLPDiscriminator(width=16, depth=2)
    start = [p.detach().clone() for p in G.parameters()]
    ema = ganlab.ema_of(G, decay=0.9)
    config = TrainConfig(steps=20, batch_size=32, progress=False)
    fit(G, D, ganlab.data.ring().sample, config, ema=ema, checkpoint=tmp_path / "run.pt")
    for p0, p, a in zip(start, G.parameters(), ema.module.parameters()):
        assert not torch.equal(a, p) and not torch.equal(a, p0)  # the average lags behind G
    restored = ganlab.ema_of(MLPGenerator(width=16, depth=2), decay=0.9)
    ganlab.load_checkpoint(tmp_path / "run.pt", G=MLPGenerator(width=16, depth=2),
                           D=MLPDiscriminator(width=16, depth=2), ema=restored)
    assert all(torch.equal(a, b) for a, b in zip(ema.module.parameters(), restored.module.parameters()))
    with pytest.raises(ValueError, match="decay"):
        ganlab.ema_of(G, decay=1.5)


def test_ema_average_is_exact():
    G = nn.Linear(1, 1, bias=False)
    ema = ganlab.ema_of(G, decay=0.5)
    values = [1.0, 3.0, 5.0]
    for v in values:
        with torch.no_grad():
            G.weight.fill_(v)
        ema.update_parameters(G)
    # the first update copies, then theta_ema <- 0.5 theta_ema + 0.5 theta: 1, 2, 3.5
    assert ema.module.weight.item() == pytest.approx(3.5)


def test_loading_ema_from_a_run_without_one_is_a_clear_error(tmp_path):
    G, D = MLPGenerator(width=8, depth=2), MLPDiscriminator(width=8, depth=2)
    fit(G, D, ganlab.data.ring().sample, TrainConfig(steps=2, batch_size=8, progress=False), checkpoint=tmp_path / "a.pt")
    with pytest.raises(ganlab.CheckpointError, match="holds no ema: it was saved by a run without it"):
        ganlab.load_checkpoint(tmp_path / "a.pt", G=G, D=D, ema=ganlab.ema_of(G))


# ---------------------------------------------------------------- one forward of G per step
def test_reused_fakes_are_exactly_a_second_forward_on_the_same_z():
    """fit(reuse_fakes=True) == d_step then g_step on the same z, G run twice; and G runs once per step."""
    cfg = dataclasses.replace(CFG, steps=15, reuse_fakes=True)
    G1, D1 = players()
    calls = []
    G1.register_forward_hook(lambda *_: calls.append(1))
    history = fit(G1, D1, data.load("ring", n=500)[0], cfg)
    assert len(calls) == 15
    G2, D2 = players()
    opt_g, opt_d = make_optimizers(G2, D2, cfg)
    x, batches, loss = data.load("ring", n=500)[0], torch.Generator().manual_seed(cfg.seed), get_loss(cfg.loss)
    for step in range(cfg.steps):
        real = x[torch.randint(len(x), (cfg.batch_size,), generator=batches)]
        z = torch.randn(cfg.batch_size, G2.latent_dim, generator=batches)
        stats = d_step(G2, D2, real, z, opt_d, loss)
        stats |= g_step(G2, D2, z, opt_g, loss)  # the same z, G not yet updated
        assert history["loss_g"][step] == stats["loss_g"] and history["loss_d"][step] == stats["loss_d"]
    assert torch.equal(params(G1), params(G2)) and torch.equal(params(D1), params(D2))


def test_fresh_z_for_g_by_default_and_with_several_critic_steps():
    for cfg in (dataclasses.replace(CFG, steps=5), dataclasses.replace(CFG, steps=5, reuse_fakes=True, n_critic=2)):
        G, D = players()
        calls = []
        G.register_forward_hook(lambda *_: calls.append(1))
        fit(G, D, data.ring().sample, cfg)
        assert len(calls) == 5 * (cfg.n_critic + 1)


def test_d_step_detaches_fakes_it_is_handed():
    G, D = players()
    _, opt_d = make_optimizers(G, D, CFG)
    z = torch.randn(8, 2)
    d_step(G, D, torch.randn(8, 2), z, opt_d, get_loss("wgan-gp"), fake=G(z))  # with graph; the penalty too
    assert all(p.grad is None for p in G.parameters())

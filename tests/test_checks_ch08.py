"""Chapter 08's checks pass correct answers written in different ways and name each classic mistake."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as nnf

from ganlab.checks import ch08
from ganlab.cyclegan import ImagePool, d_loss, g_loss, linear_decay, receptive_field
from checking import fails, run

pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------- the cycle-consistency loss
def cyc_with(dist=lambda x, y: (x - y).abs().mean(), lam_a=True, lam_b=True, back=True, forward=True,
             detach_g=False, detach_f=False, target_swap=False):
    def fn(G, F, a, b, lam):
        ga, fb = G(a), F(b)
        ga, fb = (ga.detach() if detach_g else ga), (fb.detach() if detach_f else fb)
        ta, tb = (b, a) if target_swap else (a, b)
        loss = 0
        if forward:
            loss = loss + (lam if lam_a else 1.0) * dist(F(ga), ta)
        if back:
            loss = loss + (lam if lam_b else 1.0) * dist(G(fb), tb)
        return loss
    return fn


def cyc_l1_loss(G, F, a, b, lam):
    return lam * torch.nn.L1Loss()(F(G(a)), a) + lam * torch.nn.L1Loss()(G(F(b)), b)


def cyc_by_sums(G, F, a, b, lam):
    total = (F(G(a)) - a).abs().sum() / a.numel() + (G(F(b)) - b).abs().sum() / b.numel()
    return total * lam


def cyc_in_place(G, F, a, b, lam):
    a.mul_(1.0001)
    return cyc_with()(G, F, a, b, lam)


CYC_RIGHT = {"abs mean": cyc_with(), "L1Loss modules": cyc_l1_loss, "sums over numel": cyc_by_sums,
             "library terms": lambda G, F, a, b, lam: lam * sum(
                 torch.mean(torch.abs(x - y)) for x, y in ((F(G(a)), a), (G(F(b)), b)))}
CYC_WRONG = {
    "L2": (cyc_with(dist=lambda x, y: (x - y).pow(2).mean()), ["squared error (L2)"]),
    "forward only": (cyc_with(back=False), ["only the forward cycle"]),
    "backward only": (cyc_with(forward=False), ["only the backward cycle"]),
    "lambda ignored": (lambda G, F, a, b, lam: cyc_with()(G, F, a, b, 1.0), ["lambda_cyc is ignored (here 10.0)"]),
    "lambda on the forward term": (cyc_with(lam_b=False), ["multiplies the forward term only"]),
    "lambda on the backward term": (cyc_with(lam_a=False), ["multiplies the backward term only"]),
    "sum": (cyc_with(dist=lambda x, y: (x - y).abs().sum()), ["a sum where a mean belongs"]),
    "G(a) detached": (cyc_with(detach_g=True), ["G(a) was detached before F", "reaching G's weights"]),
    "F(b) detached": (cyc_with(detach_f=True), ["F(b) was detached before G", "reaching F's weights"]),
    "compared with the other domain": (cyc_with(target_swap=True), ["compared with b"]),
    "summed per image": (cyc_with(dist=lambda x, y: (x - y).abs().flatten(1).sum(1).mean()),
                         ["summed over each image's pixels"]),
    "the two directions averaged": (lambda G, F, a, b, lam: cyc_with()(G, F, a, b, lam) / 2, ["averaged"]),
    "detached result": (lambda *args: cyc_with()(*args).detach(), ["carries no gradient"]),
    "in place": (cyc_in_place, ["a was changed in place"]),
    "functional as F": (lambda G, F, a, b, lam: lam * (F.l1_loss(F(G(a)), a) + F.l1_loss(G(F(b)), b)),
                        ["AttributeError", "hides torch.nn.functional"]),
    "a float": (lambda *args: cyc_with()(*args).item(), ["must return a torch tensor"]),
}


@pytest.mark.parametrize("name", [*CYC_RIGHT, *CYC_WRONG])
def test_cycle_loss(name, capsys):
    run(ch08.check_cycle_loss, CYC_RIGHT, CYC_WRONG, name, capsys)


def test_cycle_loss_with_channels_that_differ_names_the_cross_domain_comparison():
    # case 3 has one channel in A and two in B: comparing F(G(a)) with b broadcasts there
    def cross(G, F, a, b, lam):
        if a.shape == b.shape:
            return cyc_with()(G, F, a, b, lam)
        return lam * ((F(G(a)) - b).abs().mean() + (G(F(b)) - a).abs().mean())
    fails(ch08.check_cycle_loss, cross, "case 3 of 4", "compared with b")


# ---------------------------------------------------------------- the identity loss
def idt_with(dist=lambda x, y: (x - y).abs().mean(), use_id=True, use_cyc=True, swap=False, g=True, f=True):
    def fn(G, F, a, b, lam, lam_id):
        w = (lam_id if use_id else 1.0) * (lam if use_cyc else 1.0)
        x_g, x_f = (a, b) if swap else (b, a)
        return w * ((dist(G(x_g), x_g) if g else 0) + (dist(F(x_f), x_f) if f else 0))
    return fn


IDT_RIGHT = {"abs mean": idt_with(),
             "L1Loss, weight last": lambda G, F, a, b, lam, lam_id: (torch.nn.L1Loss()(G(b), b)
                                                                    + torch.nn.L1Loss()(F(a), a)) * lam * lam_id,
             "one cat, per-term means": lambda G, F, a, b, lam, lam_id: lam * lam_id * torch.stack(
                 [(G(b) - b).abs().mean(), (F(a) - a).abs().mean()]).sum()}
IDT_WRONG = {
    "domains swapped": (idt_with(swap=True), ["domains are swapped"]),
    "lambda_id ignored": (idt_with(use_id=False), ["lambda_id is ignored (here 0.5)"]),
    "lambda_cyc ignored": (idt_with(use_cyc=False), ["lambda_cyc is ignored (here 10.0)"]),
    "both ignored": (idt_with(use_id=False, use_cyc=False), ["both weights are ignored"]),
    "L2": (idt_with(dist=lambda x, y: (x - y).pow(2).mean()), ["squared error (L2)"]),
    "compared with the other domain": (lambda G, F, a, b, lam, lam_id: lam * lam_id * (
        (G(b) - a).abs().mean() + (F(a) - b).abs().mean()), ["compared with the other domain"]),
    "G only": (idt_with(f=False), ["only G's term"]),
    "F only": (idt_with(g=False), ["only F's term"]),
    "sum": (idt_with(dist=lambda x, y: (x - y).abs().sum()), ["a sum where a mean belongs"]),
    "weights added": (lambda G, F, a, b, lam, lam_id: idt_with(use_id=False, use_cyc=False)(G, F, a, b, lam, lam_id)
                      * (lam + lam_id), ["weights were added"]),
    "G(b) detached": (lambda G, F, a, b, lam, lam_id: lam * lam_id * ((G(b).detach() - b).abs().mean()
                                                                      + (F(a) - a).abs().mean()),
                      ["gradient reaching G's weights"]),
    "python float": (lambda *args: idt_with()(*args).item(), ["must return a torch tensor"]),
}


@pytest.mark.parametrize("name", [*IDT_RIGHT, *IDT_WRONG])
def test_identity_loss(name, capsys):
    run(ch08.check_identity_loss, IDT_RIGHT, IDT_WRONG, name, capsys)


# ---------------------------------------------------------------- the image pool
class PoolByRule(ImagePool):
    """The library's pool (ganlab.cyclegan.ImagePool): the rule written out, one image at a time."""


class PoolIndexed(PoolByRule):
    """Writes into a copy of the batch by index; stores with detach().clone() per image."""

    def query(self, images):
        out = images.detach().clone()
        for k in range(len(images)):
            if self.size == 0:
                break
            if len(self.images) < self.size:
                self.images.append(images[k].detach().clone())
                continue
            if torch.rand((), generator=self.generator).item() < 0.5:
                i = torch.randint(0, self.size, (), generator=self.generator).item()
                out[k], self.images[i] = self.images[i].clone(), images[k].detach().clone()
        return out


def pool_class(**slip):
    """The rule with one slip switched on."""
    class Pool(PoolByRule):
        def query(self, images):
            if self.size == 0:
                return images
            source = images if slip.get("graph") else images.detach()
            out = []
            for image in source:
                if len(self.images) < self.size + (1 if slip.get("le") else 0):
                    if not slip.get("no_fill"):
                        self.images.append(image if slip.get("alias") else image.clone())
                    out.append(image)
                    continue
                if slip.get("i_first"):
                    j = int(torch.randint(self.size, (), generator=self.generator))
                u = torch.rand(()) if slip.get("global_rng") else torch.rand((), generator=self.generator)
                if (u >= 0.5) if slip.get("above") else (u < slip.get("p", 0.5)):
                    i = j if slip.get("i_first") else int(torch.randint(len(self.images), (),
                                                                         generator=self.generator))
                    if slip.get("new_both"):
                        out.append(image)
                    elif slip.get("wrong_way"):
                        self.images[i] = image.clone()
                        out.append(image)
                    elif slip.get("keep_old"):
                        out.append(self.images[i])
                    else:
                        out.append(self.images[i])
                        if slip.get("append"):
                            self.images.append(image.clone())
                        else:
                            self.images[i] = image.clone()
                else:
                    out.append(image)
            return torch.stack(out)
    return Pool


class PoolSizeZeroDraws(PoolByRule):
    """The rule without its case for size 0: a full pool of size 0 draws i from an empty range."""

    def query(self, images):
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


class PoolAlwaysSwaps(PoolByRule):
    def query(self, images):
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            else:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = image.clone()
        return torch.stack(out) if out else images


class PoolStoresGraph(PoolByRule):
    """Returns detached images but stores clones that keep the graph."""

    def query(self, images):
        out = super().query(images)
        self.images = [t.clone() for t in self.images]
        for k, image in enumerate(images[: self.size]):
            if self.size and k < len(self.images) and torch.equal(self.images[k], image.detach()):
                self.images[k] = image.clone()
        return out


class PoolOneCoin(PoolByRule):
    def query(self, images):
        out, u = [], None
        for image in images.detach():
            if len(self.images) < self.size or self.size == 0:
                if self.size:
                    self.images.append(image.clone())
                out.append(image)
                continue
            u = torch.rand((), generator=self.generator) if u is None else u
            if u < 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


class PoolReturnsList(PoolByRule):
    def query(self, images):
        return list(super().query(images))


class PoolWritesIntoTheBatch(PoolByRule):
    """Swaps by writing the stored image into the caller's batch."""

    def query(self, images):
        if self.size == 0:
            return images
        for k, image in enumerate(images.detach()):
            if len(self.images) < self.size:
                self.images.append(image.clone())
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                old, self.images[i] = self.images[i], image.clone()
                with torch.no_grad():
                    images[k] = old
        return images.detach()


class PoolReseeds(PoolByRule):
    def __init__(self, size, generator):
        super().__init__(size, generator.manual_seed(0))


POOL_RIGHT = {"by the rule": PoolByRule, "indexed copy": PoolIndexed, "the library's": ImagePool}
POOL_WRONG = {
    "new image in both cases": (pool_class(new_both=True), ["returned in both branches"]),
    "nothing stored while filling": (pool_class(no_fill=True), ["nothing is stored while the pool fills"]),
    "swap the wrong way": (pool_class(wrong_way=True), ["swap goes the wrong way"]),
    "not cloned": (pool_class(alias=True), ["changed when the caller changed its batch", "clone"]),
    "not detached": (pool_class(graph=True), ["returned batch requires grad"]),
    "grows": (pool_class(append=True), ["more than size = 3", "grows beyond size"]),
    "<= size": (pool_class(le=True), ["more than size = 3"]),
    "probability 1/4": (pool_class(p=0.25), ["probability 1/4"]),
    "probability 3/4": (pool_class(p=0.75), ["probability 3/4"]),
    "global generator": (pool_class(global_rng=True), ["global random generator"]),
    "size 0 draws": (PoolSizeZeroDraws, ["case 3 of 4", "size 0 turns the pool off"]),
    "swaps when u >= 1/2": (pool_class(above=True), ["when u >= 0.5"]),
    "always swaps": (PoolAlwaysSwaps, ["no coin flip"]),
    "keeps the old image": (pool_class(keep_old=True), ["the pool freezes"]),
    "i drawn first": (pool_class(i_first=True), ["i is drawn before u"]),
    "one coin per batch": (PoolOneCoin, ["one u for the whole batch"]),
    "stores the graph": (PoolStoresGraph, ["stored images require grad"]),
    "reseeds its generator": (PoolReseeds, ["reseeded"]),
    "writes into the caller's batch": (PoolWritesIntoTheBatch, ["images was changed in place"]),
    "returns a list": (PoolReturnsList, ["must return a torch tensor", "torch.stack"]),
}


@pytest.mark.parametrize("name", [*POOL_RIGHT, *POOL_WRONG])
def test_image_pool(name, capsys):
    run(ch08.check_image_pool, POOL_RIGHT, POOL_WRONG, name, capsys)


# ---------------------------------------------------------------- the learning-rate schedule
def decay_closed_form(step, constant, decay):
    return max(0.0, min(1.0, 1.0 - (step - constant + 1) / (decay + 1)))


def decay_branches(step, constant, decay):
    if step < constant:
        return 1.0
    done = step - constant + 1  # decayed steps so far, this one included
    return 0.0 if done > decay else float(1 - done / (decay + 1))


DECAY_RIGHT = {"the library's": linear_decay, "clamped closed form": decay_closed_form, "branches": decay_branches}
DECAY_WRONG = {
    "never decays at the first step": (lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c) / (d + 1)),
                                       ["off by one at the start"]),
    "reaches 0 early": (lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c + 1) / max(d, 1)),
                        ["reaches 0 one step early"]),
    "decays from the start": (lambda s, c, d: max(0.0, 1 - (s + 1) / (c + d + 1)), ["decay starts at step 0"]),
    "decay ignored": (lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c + 1) / 101),
                      ["does not change with decay"]),
    "negative after the end": (lambda s, c, d: 1.0 if s < c else 1 - (s - c + 1) / (d + 1), ["no floor at 0"]),
    "constant as decay": (lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c + 1) / (c + 1)),
                          ["lasts constant steps instead of decay"]),
    "step <= constant": (lambda s, c, d: 1.0 if s <= c else max(0.0, 1 - (s - c + 1) / (d + 1)), ["step <= constant"]),
    "(step - constant) / decay": (lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c) / max(d, 1)),
                                  ["still 1 at step = constant"]),
    "from the start, constant ignored": (lambda s, c, d: max(0.0, 1 - (s + 1) / (d + 1)),
                                         ["starts at step 0 and lasts decay steps"]),
    "a tensor": (lambda s, c, d: torch.tensor(linear_decay(s, c, d)), ["not a number", "float"]),
}


@pytest.mark.parametrize("name", [*DECAY_RIGHT, *DECAY_WRONG])
def test_linear_decay(name, capsys):
    run(ch08.check_linear_decay, DECAY_RIGHT, DECAY_WRONG, name, capsys)


# ---------------------------------------------------------------- the receptive field
def rf_backwards(layers):
    r = 1
    for k, s, _ in reversed(layers):
        r = r * s + (k - s)
    return r


def rf_jumps(layers):
    r, jump = 1, 1
    for k, s, _ in layers:
        r += (k - 1) * jump
        jump *= s
    return r


def rf_library(layers):
    with torch.random.fork_rng(devices=[]):  # building convolutions draws their weights
        net = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, k, s, p) for k, s, p in layers])
    return receptive_field(net)


def rf_reversing(layers):
    layers.reverse()
    r = 1
    for k, s, _ in layers:
        r = r * s + (k - s)
    return r


def rf_forwards(layers):
    r = 1
    for k, s, _ in layers:
        r = r * s + (k - s)
    return r


RF_RIGHT = {"backwards": rf_backwards, "forwards with jumps": rf_jumps, "the library on convolutions": rf_library}
RF_WRONG = {
    "sum of kernels": (lambda L: sum(k for k, _, _ in L), ["kernels were added up"]),
    "strides forgotten": (lambda L: 1 + sum(k - 1 for k, _, _ in L), ["strides are ignored"]),
    "walked forwards": (rf_forwards, ["from the first to the last"]),
    "padding included": (lambda L: _rf_padded(L), ["padding was counted"]),
    "list reversed in place": (rf_reversing, ["layers was changed in place"]),
    "jump first": (lambda L: _rf_jump_first(L), ["jump (the product of strides) was updated before"]),
    "r s + k": (lambda L: _rf_plus_k(L), ["r s + k"]),
    "a tensor": (lambda L: torch.tensor(rf_backwards(L)), ["whole number of pixels"]),
}


def _rf_padded(layers):
    r = 1
    for k, s, p in reversed(layers):
        r = r * s + (k - s) + 2 * p
    return r


def _rf_plus_k(layers):
    r = 1
    for k, s, _ in reversed(layers):
        r = r * s + k
    return r


def _rf_jump_first(layers):
    r, jump = 1, 1
    for k, s, _ in layers:
        jump *= s
        r += (k - 1) * jump
    return r


@pytest.mark.parametrize("name", [*RF_RIGHT, *RF_WRONG])
def test_receptive_field(name, capsys):
    run(ch08.check_receptive_field, RF_RIGHT, RF_WRONG, name, capsys)


def test_receptive_field_of_the_paper_discriminator_is_70():
    assert rf_backwards([(4, 2, 1)] * 3 + [(4, 1, 1)] * 2) == 70


# ---------------------------------------------------------------- the least-squares losses
def lsd_with(half=0.5, real_target=1.0, fake_target=0.0, reduce=torch.mean):
    return lambda r, f: half * (reduce((r - real_target) ** 2) + reduce((f - fake_target) ** 2))


def lsg_with(half=1.0, target=1.0, reduce=torch.mean):
    return lambda f: half * reduce((f - target) ** 2)


LS_RIGHT = {"the library's": (d_loss, g_loss),
            "mse_loss": (lambda r, f: 0.5 * (nnf.mse_loss(r, torch.ones_like(r))
                                             + nnf.mse_loss(f, torch.zeros_like(f))),
                         lambda f: nnf.mse_loss(f, torch.ones_like(f))),
            "one mean of both (equal shapes)": (lambda r, f: 0.5 * ((r - 1) ** 2 + f ** 2).mean(),
                                                lambda f: ((1 - f) * (1 - f)).mean())}
LS_WRONG = {
    "no 1/2 on D": ((lsd_with(half=1.0), g_loss), ["the 1/2 is missing"]),
    "1/2 on G": ((d_loss, lsg_with(half=0.5)), ["belongs to D's loss only"]),
    "D targets swapped": ((lsd_with(real_target=0.0, fake_target=1.0), g_loss), ["targets are swapped"]),
    "G target 0": ((d_loss, lsg_with(target=0.0)), ["target 0 is D's target"]),
    "BCE with logits on D": ((lambda r, f: nnf.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                              + nnf.binary_cross_entropy_with_logits(f, torch.zeros_like(f)), g_loss),
                             ["binary cross-entropy on logits"]),
    "BCE with logits on G": ((d_loss, lambda f: nnf.binary_cross_entropy_with_logits(f, torch.ones_like(f))),
                             ["non-saturating loss on logits"]),
    "D sum": ((lsd_with(reduce=torch.sum), g_loss), ["a sum where a mean belongs"]),
    "G as minus D's": ((d_loss, lambda f: -(f ** 2).mean()), ["minus D's loss on the fakes"]),
    "fake target -1": ((lsd_with(fake_target=-1.0), g_loss), ["fake target -1"]),
    "D per patch": ((lambda r, f: 0.5 * ((r - 1) ** 2 + f ** 2), g_loss), ["one loss per patch"]),
    "sigmoid on D's outputs": ((lambda r, f: d_loss(torch.sigmoid(r), torch.sigmoid(f)), g_loss),
                               ["a sigmoid was applied"]),
    "square of the mean on G": ((d_loss, lambda f: (f.mean() - 1) ** 2), ["the square of the mean"]),
    "only the real term": ((lambda r, f: 0.5 * ((r - 1) ** 2).mean(), g_loss), ["only the real term"]),
    "G detached": ((d_loss, lambda f: g_loss(f.detach())), ["carry no gradient"]),
    "D fake term detached": ((lambda r, f: d_loss(r, f.detach()), g_loss), ["gradient with respect to fake_out"]),
}


@pytest.mark.parametrize("name", [*LS_RIGHT, *LS_WRONG])
def test_lsgan_losses(name, capsys):
    if name in LS_RIGHT:
        ch08.check_lsgan_losses(*LS_RIGHT[name])
        out = capsys.readouterr().out
        assert out == "\u2713 check_lsgan_losses passed (4 cases)\n"
    else:
        fns, words = LS_WRONG[name]
        fails(lambda fn: ch08.check_lsgan_losses(*fn), fns, "check_lsgan_losses failed", *words)


# ---------------------------------------------------------------- the discriminators' step
def step_with(detach=True, pool=True, zero=True, half=0.5, swap_pools=False, floats=True, both=True,
              swap_fakes=False, swap_targets=False, zero_after=False, step=True):
    def fn(D_A, D_B, opt_d, a, b, fake_a, fake_b, pool_a, pool_b):
        fa, fb = (fake_a.detach(), fake_b.detach()) if detach else (fake_a, fake_b)
        fa, fb = (fb, fa) if swap_fakes else (fa, fb)
        pa, pb = (pool_b, pool_a) if swap_pools else (pool_a, pool_b)
        if pool:
            fa, fb = pa.query(fa), pb.query(fb)
        t_real, t_fake = (0.0, 1.0) if swap_targets else (1.0, 0.0)
        loss_a = half * (((D_A(a) - t_real) ** 2).mean() + ((D_A(fa) - t_fake) ** 2).mean())
        loss_b = half * (((D_B(b) - t_real) ** 2).mean() + ((D_B(fb) - t_fake) ** 2).mean())
        if zero:
            opt_d.zero_grad()
        (loss_a + loss_b if both else loss_a).backward()
        if zero_after:
            opt_d.zero_grad()
        if step:
            opt_d.step()
        return {"d_a": loss_a.item(), "d_b": loss_b.item()} if floats else {"d_a": loss_a, "d_b": loss_b}
    return fn


def step_library(D_A, D_B, opt_d, a, b, fake_a, fake_b, pool_a, pool_b):
    losses = {"d_a": d_loss(D_A(a), D_A(pool_a.query(fake_a.detach()))),
              "d_b": d_loss(D_B(b), D_B(pool_b.query(fake_b.detach())))}
    for p in itertools.chain(D_A.parameters(), D_B.parameters()):
        p.grad = None
    sum(losses.values()).backward()
    opt_d.step()
    return {k: v.item() for k, v in losses.items()}


def step_separate_backwards(D_A, D_B, opt_d, a, b, fake_a, fake_b, pool_a, pool_b):
    opt_d.zero_grad(set_to_none=False)
    out = {}
    for name, D, real, fake, pool in (("d_a", D_A, a, fake_a, pool_a), ("d_b", D_B, b, fake_b, pool_b)):
        loss = d_loss(D(real), D(pool.query(fake.detach())))
        loss.backward()
        out[name] = loss.item()
    opt_d.step()
    return out


def step_one_batch(D_A, D_B, opt_d, a, b, fake_a, fake_b, pool_a, pool_b):
    """Real and fake through each D as one batch (these discriminators have no batch statistics)."""
    losses = {}
    for name, D, real, fake, pool in (("d_a", D_A, a, fake_a, pool_a), ("d_b", D_B, b, fake_b, pool_b)):
        out = D(torch.cat([real, pool.query(fake.detach())]))
        target = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).view(-1, 1, 1, 1).expand_as(out)
        losses[name] = nnf.mse_loss(out[: len(real)], target[: len(real)]) / 2 + nnf.mse_loss(
            out[len(real):], target[len(real):]) / 2
    opt_d.zero_grad()
    (losses["d_a"] + losses["d_b"]).backward()
    opt_d.step()
    return {k: v.item() for k, v in losses.items()}


STEP_RIGHT = {"written out": step_with(), "the library's losses": step_library,
              "one backward per D": step_separate_backwards, "real and fake in one batch": step_one_batch}
STEP_WRONG = {
    "fakes not detached": (step_with(detach=False), ["case 3 of 4", "fakes were not detached"]),
    "no pool": (step_with(pool=False), ["pools are not used"]),
    "no zero_grad": (step_with(zero=False), ["not cleared first"]),
    "pools swapped": (step_with(swap_pools=True), ["pools are swapped"]),
    "no 1/2": (step_with(half=1.0), ["the 1/2 is missing"]),
    "tensors returned": (step_with(floats=False), ["Python floats", ".item()"]),
    "only D_A": (step_with(both=False), ["only D_A's loss"]),
    "each D judges the other domain": (step_with(swap_fakes=True), ["judged the other domain's fakes"]),
    "real and fake swapped": (step_with(swap_targets=True), ["real and fake are swapped"]),
    "zero_grad after backward": (step_with(zero_after=True), ["did not change", "not between it and the step"]),
    "no step": (step_with(step=False), ["did not change", "opt_d.step()"]),
}


@pytest.mark.parametrize("name", [*STEP_RIGHT, *STEP_WRONG])
def test_d_step(name, capsys):
    run(ch08.check_cyclegan_d_step, STEP_RIGHT, STEP_WRONG, name, capsys)


def test_a_failure_shows_the_input_and_the_diagnosis_first():
    message = fails(ch08.check_cycle_loss, CYC_WRONG["forward only"][0])
    assert message.startswith("check_cycle_loss failed (the cycle-consistency loss, both directions) on case 1 of 4.")
    assert "  input:" in message and "lambda_cyc = 10.0" in message and "Diagnosis: only the forward cycle" in message

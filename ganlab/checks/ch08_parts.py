"""Checks for chapter 08, CycleGAN, continued: the image pool (Exercise 3), the learning-rate schedule (Exercise 4)
and the PatchGAN's receptive field (Exercise 5)."""

from __future__ import annotations

import numbers
from typing import Any, Callable

import torch
from torch import Tensor

from ..cyclegan import linear_decay
from .ch05 import _IN_PLACE, _unchanged
from .ch06 import _call
from .core import _Check


# ---------------------------------------------------------------- the image pool (Exercise 3)
_POOL_RULE = ("for each image in order: while the pool holds fewer than size images, store a clone and return the "
              "image; once full, draw u = torch.rand((), generator=g); if u < 0.5, draw i = torch.randint(size, (), "
              "generator=g), return stored image i and store a clone of the new image in its place; else return the "
              "new image.")
_POOL_VARIANTS = {  # what the simulated pool does differently -> the diagnosis
    "always_new": "the new image is returned in both branches: D never sees an older fake. When u < 0.5, return the "
                  "STORED image i and put the new one in its place.",
    "no_fill_store": "nothing is stored while the pool fills: while it holds fewer than size images, store a clone "
                     "of each new image (and return the image itself).",
    "wrong_way": "the swap goes the wrong way: the new image went into slot i and was returned as well, so the old "
                 "image is lost unseen. Read the stored image i first, return it, then store the new image in its "
                 "place.",
    "keep_old": "the old image is returned but the new one is not stored: the pool freezes at its first size images. "
                "Put a clone of the new image into slot i.",
    "grows": "the new image was appended instead of replacing slot i: the pool grows beyond size. Store it at i.",
    "p25": "the swap happens with probability 1/4 (u < 0.25): it is 1/2, u < 0.5.",
    "p75": "the swap happens with probability 3/4 (u < 0.75): it is 1/2, u < 0.5.",
    "p1": "every new image is swapped once the pool is full (no coin flip): with probability 1/2 the new image is "
          "returned as it is. Draw u = torch.rand((), generator=g) for each image and swap when u < 0.5.",
    "u_above": "the swap happens when u >= 0.5: the rule swaps when u < 0.5 (the same probability, but the check "
               "follows the draws exactly).",
    "i_first": "i is drawn before u (or even when there is no swap): draw u first, and i only when u < 0.5.",
    "one_u": "one u for the whole batch: the coin is flipped for EACH image, one torch.rand((), generator=g) per "
             "image once the pool is full.",
}


def _pool_run(size: int, seed: int, batches: list[list[float]], variant: str = "right"
              ) -> list[tuple[list[float], list[float]]]:
    """The image ids that the pool (the rule, or one of the slips ``_POOL_VARIANTS``) returns and holds after each
    query, images being identified by their ids."""
    g = torch.Generator().manual_seed(seed)
    stored: list[float] = []
    history = []
    for batch in batches:
        out, u_batch = [], None
        for x in batch:
            if size == 0:
                out.append(x)
                continue
            if len(stored) < size:
                if variant != "no_fill_store":
                    stored.append(x)
                out.append(x)
                continue
            i = int(torch.randint(size, (), generator=g)) if variant == "i_first" else None
            if variant == "p1":
                u = 0.0
            elif variant == "one_u":
                u_batch = float(torch.rand((), generator=g)) if u_batch is None else u_batch
                u = u_batch
            else:
                u = float(torch.rand((), generator=g))
            swap = {"p25": u < 0.25, "p75": u < 0.75, "u_above": u >= 0.5}.get(variant, u < 0.5)
            if not swap:
                out.append(x)
                continue
            i = int(torch.randint(size, (), generator=g)) if i is None else i
            if variant in ("always_new", "wrong_way"):
                out.append(x)
            else:
                out.append(stored[i])
            if variant == "grows":
                stored.append(x)
            elif variant not in ("always_new", "keep_old"):
                stored[i] = x
        history.append((out, list(stored)))
    return history


def _ids(images: list[Tensor] | Tensor) -> list[float]:
    return [float(t.detach().reshape(-1)[0]) for t in images]


def _ids_text(ids: list[float]) -> str:
    return "[" + ", ".join(f"{i:g}" for i in ids) + "]"


def check_image_pool(cls: Callable[[int, torch.Generator], Any]) -> None:
    """cls(size, generator) -> a pool whose query(images (N, C, H, W)) returns a batch of N images by the rule of
    ``ganlab.cyclegan.ImagePool`` (Shrivastava et al., CVPR 2017; CycleGAN, sec. 4), drawing from ``generator`` only,
    keeping detached clones in the list ``self.images`` and never more than size of them."""
    setups = [(3, 1, [2, 2, 3, 4], (1, 2, 2)), (2, 2, [5, 1, 3], (2, 3, 3)), (0, 3, [2, 3], (1, 2, 2)),
              (4, 4, [4, 4, 4, 4, 4], (3, 2, 2))]
    chk = _Check("check_image_pool", "the history of generated images", cls, len(setups))
    for case, (size, seed, sizes, shape) in enumerate(setups, 1):
        ids, start = [], 1
        for n in sizes:
            ids.append([float(k) for k in range(start, start + n)])
            start += n
        right = _pool_run(size, seed, ids)
        g, g_ref = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        chk.hints = {"": "size 0 turns the pool off: return the images as they are, and store and draw nothing."} \
            if size == 0 else {**_IN_PLACE}
        chk.fn = cls
        pool = _call(chk, case, (size, g), "the pool draws from the generator it is given, never from the global one.",
                     size=size, generator=f"torch.Generator().manual_seed({seed})")
        if not isinstance(getattr(pool, "images", None), list) or pool.images:
            chk.fail("The pool has no empty list self.images.", diagnosis="keep the stored images in a list, "
                     "self.images (the check reads it), starting empty.")
        if not torch.equal(g.get_state(), g_ref.get_state()):
            chk.fail("The pool's generator was reseeded or drawn from when the pool was made.", diagnosis="use the "
                     "generator as it is given (the caller seeds it, and a resumed run restores its state): no "
                     "manual_seed, and no draws before the first query.")
        for q, batch_ids in enumerate(ids):
            before = right[q - 1][1] if q else []
            base = torch.tensor(batch_ids).view(-1, 1, 1, 1).expand(len(batch_ids), *shape).clone()  # (N, C, H, W)
            if size:
                base.requires_grad_(True)
            images = base * 1.0 if size else base  # as G's output: a graph behind it (the pool must detach)
            original = images.detach().clone()
            chk.fn = pool.query
            shown = dict(size=size, query=f"{q + 1} of {len(ids)}", pool_before=_ids_text(before),
                         images=f"ids {_ids_text(batch_ids)}, each image {shape} filled with its id"
                                + (", requires_grad" if size else ""))
            got = _call(chk, case, (images,), f"the pool draws from its generator only: {_POOL_RULE}", **shown)
            _unchanged(chk, "images", images, original)
            out_ref, stored_ref = right[q]
            n = len(batch_ids)
            if not isinstance(got, Tensor):
                chk.fail("query must return a torch tensor.", diagnosis=f"it returned a {type(got).__name__}: stack "
                         f"the returned images into one batch, torch.stack(out), shape {(n, *shape)}.")
            if tuple(got.shape) != (n, *shape):
                chk.fail(f"query returned shape {tuple(got.shape)}.", (n, *shape), tuple(got.shape),
                         "one image out for each image in: a batch of the same shape as the input.")
            if got.requires_grad:
                chk.fail("The returned batch requires grad.", diagnosis="the pool returns detached images: it is used "
                         "in D's step, where the fakes are constants, and an old fake's graph is long gone. Iterate "
                         "over images.detach().")
            stored = pool.images
            if not isinstance(stored, list):
                chk.fail("self.images is no longer a list.", diagnosis="keep the stored images in the list "
                         "self.images: append while filling, assign self.images[i] when swapping.")
            if len(stored) > max(size, 0):
                chk.fail(f"The pool holds {len(stored)} images, more than size = {size}.",
                         diagnosis=_POOL_VARIANTS["grows"] if size else "size 0 turns the pool off: store nothing.")
            got_out = _ids(got)
            try:
                got_stored = _ids(stored)
            except (AttributeError, TypeError, RuntimeError, IndexError):
                chk.fail("self.images holds something other than image tensors.",
                         diagnosis="store each image as a (C, H, W) tensor, a detached clone.")
            if (got_out, got_stored) != (out_ref, stored_ref):
                expected = f"returned {_ids_text(out_ref)}; pool holds {_ids_text(stored_ref)}"
                received = f"returned {_ids_text(got_out)}; pool holds {_ids_text(got_stored)}"
                whole_run = _history(cls, size, seed, ids, shape)  # the slip that explains every query wins
                for run_length in (len(ids), q + 1):
                    for variant, diagnosis in _POOL_VARIANTS.items():
                        if whole_run[:run_length] == _pool_run(size, seed, ids, variant)[:run_length]:
                            chk.fail("Wrong images returned or stored.", expected, received, diagnosis)
                chk.fail("Wrong images returned or stored.", expected, received, "no common slip matches: follow the "
                         f"rule exactly, {_POOL_RULE}")
            whole = torch.tensor(out_ref).view(-1, 1, 1, 1).expand(n, *shape)
            if not torch.equal(got.detach(), whole) or any(t.shape != torch.Size(shape) for t in stored) or any(
                    not torch.equal(t.detach(), torch.full(shape, i)) for t, i in zip(stored, stored_ref)):
                chk.fail("The right images, but not whole: each returned and each stored image must be an input "
                         "image, all of it.", diagnosis=f"return a batch of shape {(n, *shape)} and store each "
                         f"image as a (C, H, W) tensor, images[k].detach().clone().")
            if any(t.requires_grad for t in stored):
                chk.fail("The stored images require grad.", diagnosis="the pool keeps the graph of every stored fake "
                         "(and with it the generator's activations): store image.detach().clone().")
            with torch.no_grad():
                images.add_(1000.0)  # the caller reuses its tensor: the pool must not change with it
            if _ids(stored) != stored_ref:
                chk.fail("The pool changed when the caller changed its batch afterwards.",
                         f"pool holds {_ids_text(stored_ref)}", f"pool holds {_ids_text(_ids(stored))} after "
                         f"images += 1000", "the pool stores views of the caller's batch, not copies: store "
                         "image.detach().clone(), which owns its memory.")
            _replay(size, g_ref, len(before), len(batch_ids))
            if not torch.equal(g.get_state(), g_ref.get_state()):
                chk.fail("The right images, but the pool drew another number of random numbers from its generator.",
                         diagnosis=f"draw exactly as the rule says, so that runs can be resumed: {_POOL_RULE}")
    chk.passed()


def _history(cls: Callable[[int, torch.Generator], Any], size: int, seed: int, ids: list[list[float]],
             shape: tuple[int, ...]) -> list[tuple[list[float], list[float]]]:
    """The ids that a fresh pool of the student's class returns and holds after each query (as far as it runs)."""
    out = []
    try:
        pool = cls(size, torch.Generator().manual_seed(seed))
        with torch.random.fork_rng(devices=[]):
            for batch_ids in ids:
                images = torch.tensor(batch_ids).view(-1, 1, 1, 1).expand(len(batch_ids), *shape).clone()
                out.append((_ids(pool.query(images)), _ids(pool.images)))
    except Exception:  # noqa: BLE001 - only to word the diagnosis
        pass
    return out


def _replay(size: int, g: torch.Generator, held: int, n: int) -> None:
    """Draw from ``g`` what the rule draws for a batch of ``n`` images when the pool holds ``held``."""
    for _ in range(n):
        if size == 0:
            continue
        if held < size:
            held += 1
        elif torch.rand((), generator=g) < 0.5:
            torch.randint(size, (), generator=g)


# ---------------------------------------------------------------- the learning-rate schedule (Exercise 4)
def _schedule(constant: int, decay: int, steps: range, rule: Callable[[int, int, int], float]) -> list[float]:
    return [float(rule(s, constant, decay)) for s in steps]


_DECAY_VARIANTS: list[tuple[str, Callable[[int, int, int], float]]] = [
    ("off by one at the start: the factor is still 1 at step = constant, the first step of the decay, and "
     "reaches 0 a step late. Counting steps from 0, step = constant is the first decayed step: 1 - (step - constant "
     "+ 1) / (decay + 1).", lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c) / (d + 1))),
    ("off by one at the end: the factor reaches 0 one step early, at step = constant + decay - 1. Divide by decay "
     "+ 1: 1 - (step - constant + 1) / (decay + 1).",
     lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c + 1) / d) if d else 0.0),
    ("off by one: the factor is still 1 at step = constant, the first step of the decay. With 0-based steps the "
     "decay starts there: 1 - (step - constant + 1) / (decay + 1).",
     lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c) / d) if d else 0.0),
    ("1 is kept through step = constant inclusive (step <= constant): the factor is 1 for step < constant only.",
     lambda s, c, d: 1.0 if s <= c else max(0.0, 1 - (s - c + 1) / (d + 1))),
    ("the decay starts at step 0: the factor stays 1 for the first constant steps, then falls.",
     lambda s, c, d: max(0.0, 1 - (s + 1) / (c + d + 1))),
    ("the decay starts at step 0 and lasts decay steps: the factor stays 1 for the first constant steps.",
     lambda s, c, d: max(0.0, 1 - (s + 1) / (d + 1))),
    ("no floor at 0: after the decay the factor goes negative, which would make the optimiser climb the loss. "
     "Clamp it, max(0.0, ...).", lambda s, c, d: 1.0 if s < c else 1 - (s - c + 1) / (d + 1)),
    ("the decay lasts constant steps instead of decay: use the argument decay.",
     lambda s, c, d: 1.0 if s < c else max(0.0, 1 - (s - c + 1) / (c + 1))),
]


def _number(chk: _Check, got: Any, why: str) -> float:
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        chk.fail(f"It returned a {type(got).__name__}, not a number.", diagnosis=why)
    return float(got)


def check_linear_decay(fn: Callable[[int, int, int], float]) -> None:
    """fn(step, constant, decay) -> the learning-rate factor at the 0-based ``step``: 1 while step < constant, then
    1 - (step - constant + 1) / (decay + 1), never below 0 (``ganlab.cyclegan.linear_decay``; the paper: 100 epochs
    at the base rate, then 100 of linear decay to 0)."""
    setups = [(3, 5), (0, 4), (6, 2), (2, 1), (4, 0), (1, 7)]
    chk = _Check("check_linear_decay", "the factor of the learning rate at each step", fn, len(setups))
    for case, (constant, decay) in enumerate(setups, 1):
        steps = range(0, constant + decay + 3)
        expected = _schedule(constant, decay, steps, linear_decay)
        got = []
        for step in steps:
            value = _call(chk, case, (step, constant, decay), "the schedule is a formula of its arguments: nothing "
                          "is random.", step=f"{step} (of the steps {steps.start} to {steps.stop - 1})",
                          constant=constant, decay=decay)
            got.append(_number(chk, value, "return a Python float, e.g. float(...) or max(0.0, ...): LambdaLR "
                                           "multiplies the base rate by it."))
        if all(abs(x - y) < 1e-6 for x, y in zip(got, expected)):
            continue
        chk.inputs = {"steps": f"{steps.start} to {steps.stop - 1}", "constant": constant, "decay": decay}
        problem = f"Wrong factors over steps {steps.start} to {steps.stop - 1}."
        exp_arr, got_arr = torch.tensor(expected), torch.tensor(got)
        for diagnosis, rule in _DECAY_VARIANTS:
            if all(abs(x - y) < 1e-6 for x, y in zip(got, _schedule(constant, decay, steps, rule))):
                chk.fail(problem, exp_arr, got_arr, diagnosis)
        for name, other in (("decay", (constant, decay + 3)), ("constant", (constant + 2, decay))):
            try:
                alt = [float(fn(s, *other)) for s in steps]
            except Exception:  # noqa: BLE001 - only to word the diagnosis
                continue
            if alt == got:
                chk.fail(problem, exp_arr, got_arr, f"the result does not change with {name}: use the argument "
                         f"{name} (the schedule is 1 for `constant` steps, then falls to 0 over `decay` more).")
        chk.fail(problem, exp_arr, got_arr, "1 for step < constant, then 1 - (step - constant + 1) / (decay + 1), "
                 "floored at 0.")
    chk.passed()


# ---------------------------------------------------------------- the receptive field (Exercise 5)
def _walk_back(layers: list[tuple[int, int, int]], pad: bool = False) -> int:
    r = 1
    for k, s, p in reversed(layers):
        r = r * s + (k - s) + (2 * p if pad else 0)
    return r


def _walk_forward(layers: list[tuple[int, int, int]]) -> int:
    r = 1
    for k, s, _ in layers:
        r = r * s + (k - s)
    return r


def _jump_first(layers: list[tuple[int, int, int]]) -> int:
    r, jump = 1, 1
    for k, s, _ in layers:
        jump *= s
        r += (k - 1) * jump
    return r


_RF_CASES = [
    ([(4, 2, 1), (4, 2, 1), (4, 2, 1), (4, 1, 1), (4, 1, 1)], "the paper's 70 x 70 PatchGAN"),
    ([(7, 1, 3), (3, 2, 1), (3, 2, 1)], "the generator's c7s1 and two d-layers"),
    ([(2, 2, 0), (5, 1, 2)], "a pooling, then a 5 x 5 convolution"),
    ([(4, 2, 1), (4, 2, 1), (4, 1, 1), (4, 1, 1)], "the chapter's PatchGAN for digits (layers=2)"),
    ([(3, 1, 1), (3, 1, 1), (3, 1, 1)], "three 3 x 3 convolutions"),
    ([(5, 3, 0), (3, 1, 0), (2, 2, 1)], "mixed kernels and strides"),
]
_RF_VARIANTS = [
    ("the kernels were added up: a stride s spreads the next layer's window over s times more input positions. "
     "Walk back from one output: r <- r s + (k - s).", lambda L: sum(k for k, _, _ in L)),
    ("the strides are ignored (1 + sum of (k - 1)): that holds only when every stride is 1. Walk back from one "
     "output: r <- r s + (k - s).", lambda L: 1 + sum(k - 1 for k, _, _ in L)),
    ("the layers were walked from the first to the last: the window grows from ONE OUTPUT back to the input, so "
     "start at the last layer, r <- r s + (k - s) for reversed(layers).", _walk_forward),
    ("the padding was counted: padding moves the windows but does not widen them (p is not in the formula).",
     lambda L: _walk_back(L, pad=True)),
    ("r s + k was used: r output positions, s apart, with a kernel k each, span (r - 1) s + k = r s + (k - s) input "
     "positions.",
     lambda L: _walk_back([(k + s, s, p) for k, s, p in L])),
    ("the jump (the product of strides) was updated before the layer's kernel was added: layer l adds "
     "(k_l - 1) times the product of the strides BEFORE it.", _jump_first),
]


def check_receptive_field(fn: Callable[[list[tuple[int, int, int]]], int]) -> None:
    """fn(layers, a list of (kernel, stride, padding) from the input to the output) -> the side, in input pixels, of
    the window that one output sees: r = 1, then r <- r s + (k - s) for each layer from the LAST to the first."""
    chk = _Check("check_receptive_field", "the receptive field of a stack of convolutions", fn, len(_RF_CASES))
    for case, (layers, text) in enumerate(_RF_CASES, 1):
        given = [tuple(layer) for layer in layers]
        got = _call(chk, case, (given,), "the receptive field is a formula of the layers: nothing is random.",
                    layers=f"{layers}  ({text})")
        if given != layers:
            chk.fail("layers was changed in place.", layers, given, "layers.reverse() (or .sort(), .pop()) changes "
                     "the caller's list: walk it with reversed(layers) or layers[::-1], which leave it as it is.")
        if isinstance(got, bool) or not isinstance(got, numbers.Real) or float(got) != int(float(got)):
            chk.fail(f"It returned {got!r}.", diagnosis="return a whole number of pixels, a Python int (int(...) "
                     "turns a tensor or a float into one).")
        expected = _walk_back(layers)
        if int(got) != expected:
            chk.mismatch(expected, int(got), [(d, rule(layers)) for d, rule in _RF_VARIANTS],
                         problem=f"Wrong receptive field for {text}.",
                         fallback="start from r = 1 (one output) and walk back through the layers, last first: "
                                  "r <- r s + (k - s).")
    chk.passed()

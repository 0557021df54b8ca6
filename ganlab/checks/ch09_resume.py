"""Checks for chapter 09, debugging GANs, continued: saving a run and resuming it (Exercise 6). A run resumed from its
checkpoint, in new objects as after a restart, must go on exactly as if it had never stopped, which needs the
networks' weights and buffers, the optimisers' state (Adam's moment estimates and step count) and the step."""

from __future__ import annotations

import copy
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .ch06 import _seeded
from .ch09_steps import _OPTIMISERS, DATA_MEAN, DATA_STD, reference_d_step, reference_g_step
from .core import _Check

# G's width, G has BatchNorm, optimiser, learning rate, steps before the save, steps after the restart
_SETUPS = [(8, False, "Adam", 0.01, 3, 4), (6, True, "Adam", 0.02, 5, 3), (10, False, "RMSprop", 0.005, 2, 5),
           (8, True, "SGD+momentum", 0.05, 4, 2)]
_OPT_STATE = ("the optimisers' state was not saved, or not loaded: Adam keeps, for every weight, running averages of "
              "its gradient and of its squared gradient, and a step count for their bias correction (SGD with "
              "momentum keeps a velocity, RMSprop an average). Restarted from zero, the first updates after the "
              "restart differ from those of the run that never stopped. Save opt_g.state_dict() and "
              "opt_d.state_dict() beside the networks', and load them with opt.load_state_dict(...).")
_HINTS = {
    "Weights only load failed": "torch.load reads only tensors, numbers, strings and containers of them by default: "
                                "save state_dict()s and the step as a plain int, not whole modules or optimisers.",
    "Missing key(s) in state_dict": "the saved state does not fit the network it is loaded into: save "
                                    "G.state_dict() and D.state_dict() (weights AND buffers, such as BatchNorm's "
                                    "running statistics) under their own names and load each into its own network.",
    "Unexpected key(s) in state_dict": "the saved state does not fit the network it is loaded into: load G's state "
                                       "into G and D's into D.",
    "size mismatch": "the saved state does not fit the network it is loaded into: load G's state into G and D's "
                     "into D.",
    "doesn't match the size of optimizer's group": "an optimiser's state was loaded into the other optimiser: "
                                                   "opt_g's into opt_g, opt_d's into opt_d.",
    "No such file or directory": "load_state reads the file that save_state wrote, at the path it is given.",
}


def _objects(case: int, seed: int) -> dict[str, Any]:
    """The objects of a run as a new process builds them: seeded networks, optimisers without any state."""
    width, batchnorm, kind, lr, _, _ = _SETUPS[case - 1]

    def make() -> tuple[nn.Module, nn.Module]:
        G = nn.Sequential(nn.Linear(1, width), *([nn.BatchNorm1d(width)] if batchnorm else []), nn.ReLU(),
                          nn.Linear(width, 1))
        D = nn.Sequential(nn.Linear(1, 12), nn.LeakyReLU(0.2), nn.Linear(12, 1))
        return G, D

    G, D = _seeded(960 + 10 * case + seed, make)
    return {"G": G, "D": D, "opt_g": _OPTIMISERS[kind](G.parameters(), lr),
            "opt_d": _OPTIMISERS[kind](D.parameters(), lr)}


def _train(run: dict[str, Any], start: int, stop: int) -> None:
    """Steps start to stop - 1 of the reference GAN on N(2, 0.5^2); each step's batches depend on the step only."""
    for step in range(start, stop):
        gen = torch.Generator().manual_seed(step)
        real = DATA_MEAN + DATA_STD * torch.randn(16, 1, generator=gen)  # (16, 1)
        reference_d_step(run["G"], run["D"], run["opt_d"], real, torch.randn(16, 1, generator=gen))
        reference_g_step(run["G"], run["D"], run["opt_g"], torch.randn(16, 1, generator=gen))


def _snapshot(run: dict[str, Any]) -> dict[str, Any]:
    return {"G": copy.deepcopy(run["G"].state_dict()), "D": copy.deepcopy(run["D"].state_dict()),
            "opt_g": copy.deepcopy(run["opt_g"].state_dict()["state"]),
            "opt_d": copy.deepcopy(run["opt_d"].state_dict()["state"])}


def _equal(a: Any, b: Any) -> bool:
    """Bit for bit: tensors, numbers, and dicts of them."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and torch.equal(a, b)
    return type(a) is type(b) and a == b


def _largest_gap(a: dict[str, Any], b: dict[str, Any]) -> float:
    return max(float((a[net][k].float() - b[net][k].float()).abs().max()) for net in ("G", "D") for k in a[net])


def _net_problem(chk: _Check, name: str, now: dict, wanted: dict, fresh: dict, other: dict) -> None:
    """Fail, saying how the network ``name`` after load_state differs from the one that was saved."""
    if _equal(now, fresh):
        chk.fail(f"{name} still has its new, untrained weights after load_state.", diagnosis=f"load the saved state "
                 f"INTO the {name} you are given, {name}.load_state_dict(checkpoint[...]): assigning a new network to "
                 f"the name {name} inside the function does not change the caller's.")
    if _equal(now, other):
        chk.fail(f"{name} holds the state of another run's checkpoint, saved to another path.", diagnosis="read the "
                 "file at the path you are given (and write each checkpoint to its own path): a fixed file name, or "
                 "a variable kept between calls, mixes up runs.")
    buffers = [k for k in wanted if not _equal(now.get(k), wanted[k])]
    if buffers and all("running" in k or "num_batches" in k for k in buffers):
        chk.fail(f"{name}'s buffers {buffers} were not restored.", diagnosis="BatchNorm's running statistics are "
                 "buffers, not parameters: named_parameters() or parameters() misses them, state_dict() has "
                 "both. Save and load state_dict().")
    chk.fail(f"{name}'s state after load_state differs from the saved one in {buffers[:4]}.",
             diagnosis=f"save {name}.state_dict() and load it with {name}.load_state_dict(...).")


def check_save_and_resume(save_fn: Callable[..., Any], load_fn: Callable[..., int]) -> None:
    """save_fn(path, G, D, opt_g, opt_d, step) writes a checkpoint to ``path``; load_fn(path, G, D, opt_g, opt_d) ->
    step restores it into new objects (other initial weights, optimisers without state). The run resumed that way must
    end bit for bit where the run that never stopped ends: weights, buffers and optimiser states."""
    chk = _Check("check_save_and_resume", "saving a run and resuming it", save_fn, len(_SETUPS))
    chk.hints = dict(_HINTS)
    with tempfile.TemporaryDirectory() as folder:
        for case, (width, batchnorm, kind, lr, before, after) in enumerate(_SETUPS, 1):
            path = os.path.join(folder, f"run_{case}.pt") if case % 2 else Path(folder) / f"checkpoint-{case}.pth"
            straight = _objects(case, 0)
            _train(straight, 0, before + after)
            run = _objects(case, 0)
            _train(run, 0, before)
            saved = _snapshot(run)
            about = dict(G=f"Linear(1, {width}), " + ("BatchNorm1d, " if batchnorm else "") + f"ReLU, Linear({width}, "
                         f"1)", D="Linear(1, 12), LeakyReLU(0.2), Linear(12, 1)", opt=f"{kind}, lr {lr}")
            chk.fn = save_fn
            with torch.random.fork_rng(devices=[]):
                chk.call(case, path, run["G"], run["D"], run["opt_g"], run["opt_d"], before, path=repr(path),
                         G=f"{about['G']}, after {before} steps", D=f"{about['D']}, after {before} steps",
                         opt_g=f"{about['opt']}, after {before} steps", opt_d=f"{about['opt']}, after {before} steps",
                         step=before)
            if not _equal(_snapshot(run), saved):
                chk.fail("save_state changed the run it saved.", diagnosis="saving only reads: state_dict() gives the "
                         "state without changing it; no zero_grad, step or load inside save_state.")
            if not os.path.isfile(path):
                chk.fail(f"No file was written at path = {path!r}.", diagnosis="write the checkpoint to the path you "
                         "are given, torch.save({...}, path): a run stopped by a crash keeps only what is on disk.")
            other_path, other = os.path.join(folder, f"other_{case}.pt"), _objects(case, 1)
            _train(other, 0, before + 2)
            with torch.random.fork_rng(devices=[]):
                chk.call(case, other_path, other["G"], other["D"], other["opt_g"], other["opt_d"], before + 2,
                         path=repr(other_path), G="another run's G", D="another run's D", step=before + 2)
            fresh = _objects(case, 2)  # after a restart: other initial weights, no optimiser state
            start = _snapshot(fresh)
            chk.fn = load_fn
            with torch.random.fork_rng(devices=[]):
                step = chk.call(case, path, fresh["G"], fresh["D"], fresh["opt_g"], fresh["opt_d"], path=repr(path),
                                G=f"a new {about['G']}, other initial weights", D=f"a new {about['D']}, other "
                                f"initial weights", opt_g=f"a new {about['opt']}, no state yet",
                                opt_d=f"a new {about['opt']}, no state yet")
            restored, elsewhere = _snapshot(fresh), _snapshot(other)
            for name in ("G", "D"):
                if not _equal(restored[name], saved[name]):
                    _net_problem(chk, name, restored[name], saved[name], start[name], elsewhere[name])
            for name, mate in (("opt_g", "opt_d"), ("opt_d", "opt_g")):
                if _equal(restored[name], saved[name]):
                    continue
                if _equal(restored[name], saved[mate]):
                    chk.fail(f"{name} holds {mate}'s state.", diagnosis=f"load each optimiser's state into its own "
                             f"optimiser: {name}.load_state_dict(checkpoint[...]) with the state saved from {name}.")
                resumed = copy.deepcopy(fresh)
                _train(resumed, before, before + after)
                chk.fail(f"{name}'s state was not restored: after load_state it holds "
                         f"{len(restored[name])} entries, the saved one {len(saved[name])}. Resumed from here, the run "
                         f"ends up to {_largest_gap(_snapshot(resumed), _snapshot(straight)):.2g} away from the run "
                         f"that never stopped.", diagnosis=_OPT_STATE)
            if isinstance(step, torch.Tensor) or not isinstance(step, numbers.Integral) or isinstance(step, bool):
                chk.fail(f"load_state returned {step!r}.", before, repr(step), "return the step saved in the "
                         "checkpoint as a Python int (int(...) of a tensor or a float): the loop goes on from there.")
            if step != before:
                chk.fail("load_state returned the wrong step.", before, step, "save the step you are given, and "
                         "return the one that was saved: the run goes on from there, and its schedules and batches "
                         "depend on it.")
            _train(fresh, before, before + after)
            if not _equal(_snapshot(fresh), _snapshot(straight)):
                chk.fail(f"The run resumed after {before} steps ends, {after} steps later, up to "
                         f"{_largest_gap(_snapshot(fresh), _snapshot(straight)):.2g} away from the run that never "
                         f"stopped.", diagnosis="something of the run was not saved or not restored: the weights and "
                         "buffers (state_dict()) of both networks, and both optimisers' state_dict().")
    chk.passed()

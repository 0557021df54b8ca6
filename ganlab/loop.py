"""The training loop every model family shares.

A family (the GAN of ``ganlab.train``, and the later chapters' VAE, SRGAN, CycleGAN, ...)
brings what is its own: its networks and optimisers, and a *step function* that makes one
training iteration and returns a dict of floats. ``run_steps`` does everything around it,
in one place:

    for step in range(start + 1, steps + 1):
        set every optimiser's learning rate (the schedule)
        stats = step_fn(step)                 # the family's own update(s)
        update the weight averages (EMA)
        stop if a value is NaN or infinite     # TrainingDiverged
        history.append({"step": step, **stats})
        callback (and the training doctor, if asked for) every log_every steps; checkpoint every checkpoint_every steps

How a run ends, and what is on disk then:

- it reaches ``steps``: a checkpoint of the last step is written;
- Ctrl-C (or the notebook's stop button): the step under way is finished, a checkpoint of it
  is written, and the history is returned with ``history.interrupted = True``; a second Ctrl-C
  stops at once, in the middle of a step, and saves nothing (the last checkpoint stays);
- a callback raises ``KeyboardInterrupt``: as Ctrl-C, at the step that was just finished;
- a NaN or infinite value: ``TrainingDiverged``, naming the step; the checkpoint on disk is
  the last one written before it and is left alone;
- any other exception propagates; the checkpoint on disk is the last one written.

So the checkpoint, the history and the message always name the same step. A checkpoint
holds everything in ``state`` (networks, optimisers, averages, loss scalers, random
generators), the global RNG states, the step, the history and ``config``; resuming with a
different ``config`` is refused, naming the differences.

A family with one model and one loss (a VAE, SRResNet) writes, for instance:

    def vae_step(step):
        x = next_batch()                                   # its own data
        loss = negative_elbo(vae, x)                       # its own loss
        opt.zero_grad(); loss.backward(); opt.step()
        return {"loss": loss.item()}

    history = run_steps(vae_step, steps=10_000, state={"vae": vae, "opt": opt, "batches": rng},
                        checkpoint="runs/vae/checkpoint.pt", resume=True)

Why this shape: the step is written out in full by the family, as d2l writes ``update_D`` and
``update_G`` and Keras lets a GAN override ``train_step``, and the loop around it is one
visible loop, as nanoGPT keeps its own; there are no events, handlers or hooks on a class
to learn first. A family whose networks change shape while training (progressive growing's
new layers, SinGAN's next scale) runs the loop once per stage with a checkpoint per stage,
since a checkpoint can only be loaded into networks of the shapes it was saved from.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm.auto import tqdm

from . import distributed, validate
from .checkpoint import check_same_run, read_checkpoint, restore, save_checkpoint
from .doctor import Doctor


class History(dict):
    """Lists of logged values by name, e.g. ``history["loss_d"]``; ``history["step"]`` is the x axis.

    ``interrupted`` is True when the run was stopped early; ``start_step`` is the step it resumed from;
    ``findings`` is what the training doctor found (``ganlab.doctor.Finding`` s; empty for a healthy run).
    """

    interrupted: bool = False
    start_step: int = 0
    findings: tuple = ()

    def append(self, values: dict[str, float]) -> None:
        if not isinstance(values, dict):
            raise TypeError(f"values must be a dict of logged values by name, got {type(values).__name__}")
        for key, value in values.items():
            self.setdefault(key, []).append(value)

    @property
    def last_step(self) -> int:
        """The last step logged (0 before the first)."""
        return self.get("step", [0])[-1] if self.get("step") else 0


class TrainingDiverged(RuntimeError):
    """A value of the step function became NaN or infinite.

    ``step`` is the step at which it happened, ``history`` everything logged before it, and
    ``checkpoint_step`` the step of the checkpoint on disk (None if there is none).
    """

    def __init__(self, message: str, step: int, history: History, checkpoint_step: int | None):
        super().__init__(message)
        self.step, self.history, self.checkpoint_step = step, history, checkpoint_step


class _CtrlC:
    """While active, the first SIGINT asks the loop to stop after the current step; a second stops at once.

    Installed only in the main thread (the only one that receives signals), and never where
    SIGINT is ignored (a program started in the background by a shell script).
    """

    def __enter__(self) -> "_CtrlC":
        self.requested, self.previous = False, None
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous not in (signal.SIG_IGN, None):
                self.previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: stopping after this step (press Ctrl-C again to stop at once, in the middle of it).",
              file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def run_steps(step_fn: Callable[[int], dict[str, float]], *, steps: int, state: dict[str, Any],
              config: dict[str, Any] | None = None, checkpoint: str | os.PathLike | None = None,
              resume: bool = False, lr_factor: Callable[[int], float] | None = None,
              averages: dict[str, tuple[AveragedModel, nn.Module]] | None = None,
              callback: Callable[[int, History], None] | None = None, log_every: int = 100,
              checkpoint_every: int = 0, progress: bool = True, doctor: "Doctor | bool" = False) -> History:
    """Call ``step_fn(step)`` for steps ``start + 1 .. steps``, with everything around it (see the module docstring).

    ``state``: every object whose state a checkpoint must hold, by name (networks, optimisers,
    ``Precision`` objects, ``torch.Generator`` s). ``config``: what identifies the run; saved
    and compared on resume. ``lr_factor(step)`` multiplies each optimiser group's initial
    learning rate. ``averages``: ``{name: (average, network)}``, each average updated from its
    network after every step and saved under its name. ``doctor``: True has a ``ganlab.doctor.Doctor`` of the
    networks in ``state`` watch the run (it warns, with the step, when the signals show trouble, and the history
    returned lists its ``findings``), as every recipe asks; a ``Doctor`` of your own watches instead; False (the
    default, so that a notebook's own runs print nothing they did not ask for): none.
    ``callback(step, history)`` runs every
    ``log_every`` steps and at the last step. With ``checkpoint`` the run is saved there
    (atomically) every ``checkpoint_every`` steps (0: only at the end) and when it stops;
    ``resume=True`` continues from it, if it exists, up to ``steps``.
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be a function step -> dict of floats, got {type(step_fn).__name__}")
    validate.integer("steps", steps)
    validate.integer("log_every", log_every)
    validate.integer("checkpoint_every", checkpoint_every, low=0)
    validate.instance("state", state, dict, "a dict of the run's networks, optimisers, ... by name")
    if not isinstance(doctor, (bool, Doctor)):
        raise TypeError(f"doctor must be True, False or a ganlab.doctor.Doctor, got {type(doctor).__name__}")
    for name, obj in state.items():
        if not (isinstance(obj, torch.Generator) or hasattr(obj, "state_dict")):
            raise TypeError(f"state[{name!r}] cannot be saved in a checkpoint: pass networks, optimisers, averages, "
                            f"Precision objects or torch.Generators, got {type(obj).__name__}")
    for name, pair in (averages or {}).items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], AveragedModel)):
            raise TypeError(f"averages[{name!r}] must be a pair (ema_of(net), net), got {type(pair).__name__}")
    averages = averages or {}
    everything = {**state, **{name: avg for name, (avg, _) in averages.items()}}
    config = dict(config or {})
    optimizers = [obj for obj in state.values() if isinstance(obj, torch.optim.Optimizer)]
    for opt in optimizers:  # the schedule scales these, as torch's own schedulers do
        for group in opt.param_groups:
            group.setdefault("initial_lr", group["lr"])
    history, start, saved_step = History(), 0, None  # saved_step: the step the checkpoint on disk holds
    path = Path(checkpoint) if checkpoint is not None else None
    if resume and path is not None and path.exists():
        payload = read_checkpoint(path)
        check_same_run(path, payload["config"], config)
        saved = restore(payload, path, **everything)
        start = saved_step = saved["step"]
        history.update(saved["history"])
    history.start_step = start
    # made after the resume: the doctor's first reading of the weights is the one training starts from
    watcher = Doctor.of(state) if doctor is True else (doctor or None)
    if start >= steps:  # only after a resume: steps is at least 1
        print(f"Nothing to do: {path} already holds step {start}, and steps={steps}. Nothing was changed; "
              f"ask for more steps to train on.")
        return history

    main = distributed.is_main()  # with several processes, rank 0 alone saves, draws and shows progress

    def save(step: int) -> None:
        nonlocal saved_step
        if path is not None and main:
            save_checkpoint(path, step=step, config=config, history=history, **everything)
            saved_step = step

    def where_saved() -> str:
        if path is None:
            return "no checkpoint was asked for"
        if saved_step is None:
            return f"nothing has been saved to {path} in this run"
        return f"the checkpoint {path} holds step {saved_step} and is unchanged"

    done, in_step = start, False  # done: the last step finished and logged
    bar = tqdm(total=steps, initial=start, disable=not (progress and main), desc="training", leave=False)
    try:
        with _CtrlC() as ctrl_c:
            for step in range(start + 1, steps + 1):
                in_step = True
                if lr_factor is not None:
                    factor = lr_factor(step)
                    for opt in optimizers:
                        for group in opt.param_groups:
                            group["lr"] = group["initial_lr"] * factor
                stats = step_fn(step)
                if not isinstance(stats, dict):
                    raise TypeError(f"step_fn must return a dict of floats, e.g. {{'loss': loss.item()}}; "
                                    f"at step {step} it returned {type(stats).__name__}")
                # several processes: the values averaged over them, and a stop that any of them asked for, so that
                # every process logs, stops on NaN and stops on Ctrl-C at the same step
                stats, agreed_stop = distributed.average_stats(stats, ctrl_c.requested)
                for avg, net in averages.values():
                    avg.update_parameters(net)
                if not all(math.isfinite(v) for v in stats.values()):
                    bad = ", ".join(f"{k}={v}" for k, v in stats.items() if not math.isfinite(v))
                    raise TrainingDiverged(
                        f"training diverged at step {step}: {bad}. The networks in memory now hold NaN or inf; "
                        f"{where_saved()}. Lower the learning rates or try another loss, and start again.",
                        step, history, saved_step)
                history.append({"step": step, **stats})
                done, in_step = step, False
                bar.update(1)
                if step % log_every == 0 or step == steps:
                    bar.set_postfix({k: f"{v:.3g}" for k, v in list(stats.items())[:4]})
                    if watcher is not None and main:
                        watcher(step, history)
                    if callback is not None and main:
                        callback(step, history)
                # (in one process, a Ctrl-C that came during the callback counts at once; with several, at the next
                # step's agreement)
                if (agreed_stop if distributed.active() else ctrl_c.requested) and step < steps:
                    raise KeyboardInterrupt
                if checkpoint_every and step % checkpoint_every == 0 and step < steps:
                    save(step)
        save(steps)
    except KeyboardInterrupt:
        if in_step:  # a second Ctrl-C, in the middle of a step: the networks hold half an update
            print(f"\nStopped at once in the middle of step {done + 1}; nothing was saved ({where_saved()}).",
                  file=sys.stderr)
            raise
        history.interrupted = True
        if saved_step != done:
            save(done)
        if main:
            print(f"Interrupted after step {done} of {steps}: " + (
                f"saved {path} at step {done}; resume to continue." if path is not None else
                "the networks keep the weights of that step (pass checkpoint=... to save runs)."))
    finally:
        bar.close()
    if watcher is not None and main:
        watcher.finish(history)
        history.findings = tuple(watcher.findings)
    return history


"""Benchmark: how often the training doctor names a broken run's trouble, and how often it cries wolf.

    python benchmarks/doctor.py                        # the catalogue below, about two and a half minutes on one core
    python benchmarks/doctor.py --runs notebooks/runs  # and every finished run folder there, read after the fact

The catalogue, all on the ring of 8 Gaussians from fixed seeds:

- ``ganlab.clinic``'s cases whose runs the doctor watches (those on the ring and the VAE's; not the bugs that
  raise at once, nor the super-resolution and classifier settings), each run twice: with its bug (a broken run)
  and with its fix (a healthy one); labels with ``requires_grad``, which changes nothing, counts as healthy both
  times;
- runs of ``ganlab.fit`` broken by their settings: D's learning rate 1e-9 (D never learns), D's optimiser built
  on G's weights, both learning rates at 5e-2 (far too high);
- healthy ``fit`` runs with the non-saturating, minimax and least-squares losses.

A broken run counts as diagnosed when the doctor (after the fact, or live while it trained) names the finding the
bug should produce (any finding, for the bugs it has no rule for); "silent" when it names nothing. A healthy run with any finding is a false alarm. With
``--runs``, every run folder there (but fast mode's) is read with ``examine_run`` and its findings listed: they are
healthy runs, except those trained broken on purpose (chapter 07's beta 784, whose posterior collapses).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

ANY = "any finding"


def fit_run(lr_g: float = 1e-3, lr_d: float = 1e-3, loss: str = "nonsaturating", d_opt_on_g: bool = False,
            steps: int = 600) -> set[str]:
    from ganlab import data, doctor
    from ganlab.metrics import mode_labels
    from ganlab.nets import MLPDiscriminator, MLPGenerator
    from ganlab.train import TrainConfig, fit, make_optimizers

    torch.manual_seed(0)
    ring = data.toy("ring")
    G, D = MLPGenerator(latent_dim=2, out_dim=2, width=64, depth=3), MLPDiscriminator(in_dim=2, width=64, depth=3)
    config = TrainConfig(steps=steps, batch_size=128, lr_g=lr_g, lr_d=lr_d, loss=loss, log_every=20, progress=False)
    opt_g, opt_d = make_optimizers(G, D, config)
    if d_opt_on_g:
        opt_d = torch.optim.Adam(G.parameters(), lr=lr_d, betas=(0.5, 0.999))
    z = torch.randn(256, 2, generator=torch.Generator().manual_seed(1))
    watcher = doctor.Doctor({"G": G, "D": D}, sample=lambda: G(z), real=ring.sample(256),
                            label=lambda x: mode_labels(x, ring), quiet=True)
    history = fit(G, D, ring.sample, config, opt_g=opt_g, opt_d=opt_d, doctor=watcher)
    return {f.code for f in doctor.diagnose(history)} | {f.code for f in watcher.findings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", help="also read every run folder in this folder (e.g. notebooks/runs)")
    parser.add_argument("--fast", action="store_true", help="one clinic case and one healthy run, for a smoke test")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from ganlab import clinic, doctor

    rows = []  # (run, expected finding or "" for a healthy run, findings)
    start = time.perf_counter()
    # the finding each bug should produce; ANY where the doctor has no rule for it (any finding then counts)
    expected = {"sigmoid_then_logits_loss": "double_sigmoid", "labels_swapped": "d_prefers_fakes",
                "g_optimiser_on_d": "weights_frozen", "fakes_not_detached": ANY, "broadcast_targets": ANY,
                "step_not_called": "weights_frozen", "batchnorm_joint_batch": "d_wins", "data_outside_tanh": "d_wins",
                "gradient_penalty_dim": ANY, "vae_reductions": "posterior_collapse", "labels_require_grad": ""}
    for name in (["labels_swapped"] if args.fast else expected):
        result = clinic.run_case(name)
        rows.append((f"clinic: {name}", expected[name], set(result["buggy"]["doctor"])))
        rows.append((f"clinic: {name}, fixed", "", set(result["fixed"]["doctor"])))
    if not args.fast:
        rows.append(("fit: D's learning rate 1e-9", "d_learns_nothing", fit_run(lr_d=1e-9)))
        rows.append(("fit: D's optimiser on G's weights", "d_learns_nothing", fit_run(d_opt_on_g=True)))
        rows.append(("fit: learning rates 5e-2", "exploding_gradients", fit_run(lr_g=5e-2, lr_d=5e-2)))
    for loss in (["nonsaturating"] if args.fast else ("nonsaturating", "minimax", "lsgan")):
        rows.append((f"fit: healthy, {loss}", "", fit_run(loss=loss)))
    seconds = time.perf_counter() - start

    print("| run | should find | found | verdict |")
    print("|---|---|---|---|")
    broken = healthy = diagnosed = alarms = 0
    for run, want, found in rows:
        if want:
            broken += 1
            ok = bool(found) if want == ANY else want in found
            diagnosed += ok
            verdict = "diagnosed" if ok else ("silent" if not found else "other finding")
        else:
            healthy += 1
            alarms += bool(found)
            verdict = "false alarm" if found else "quiet"
        print(f"| {run} | {want or 'nothing'} | {', '.join(sorted(found)) or 'nothing'} | {verdict} |")
    print(f"\nbroken runs diagnosed: {diagnosed} of {broken}; false alarms: {alarms} of {healthy} healthy runs "
          f"({seconds:.0f} s)")
    if args.runs:
        print(f"\nrun folders in {args.runs}, read after the fact:")
        for folder in sorted(p for p in Path(args.runs).iterdir() if p.is_dir() and not p.name.endswith("_fast")):
            try:
                findings, logged = doctor.examine_run(folder)
            except FileNotFoundError:
                continue
            print(f"  {folder.name:<28} {', '.join(f.code for f in findings) or 'nothing'}")


if __name__ == "__main__":
    main()

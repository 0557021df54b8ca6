"""Run the lecture and solution notebooks in full mode and keep their outputs, for readers on GitHub.

    python tools/render_notebooks.py                          # every notebooks/*.ipynb and solutions/*.ipynb
    python tools/render_notebooks.py notebooks/03_dcgan.ipynb # one notebook
    python tools/render_notebooks.py --check                  # exit 1 if a kept output is older than its code

Each notebook runs top to bottom with ``GANLAB_FAST=0`` (the real settings), in its own folder,
on the CPU unless ``--device`` says otherwise. Every code cell then carries, in its metadata,
the SHA-256 of the source that made its outputs (``metadata.ganlab.source_sha256``), and the
notebook carries how long the run took and on what (``metadata.ganlab.run``). A test
(``tests/test_notebooks.py``) recomputes the hashes, so a cell edited after the last run fails
until this script is run again: the outputs a reader sees are never stale. Figures are PNG at
72 dpi, which keeps a chapter to a few megabytes. Exercise notebooks keep no outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "solutions")


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def stale_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of the code cells whose outputs were not made by their present source (or never made)."""
    return [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and cell.get("metadata", {}).get("ganlab", {}).get("source_sha256") != source_hash(cell.source)]


def render(path: Path, timeout: int, device: str) -> float:
    """Execute ``path`` in full mode, stamp its cells, write it back; returns the seconds the run took."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {"GANLAB_FAST": "0", "GANLAB_DEVICE": device, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    start = time.perf_counter()
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}},
                                extra_arguments=["--InlineBackend.rc={'figure.dpi': 72}"])
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)  # per-cell timestamps: noise in every diff
            cell.metadata["ganlab"] = {"source_sha256": source_hash(cell.source)}
    import torch

    nb.metadata["ganlab"] = {"run": {"seconds": round(seconds), "device": device, "cpu_count": os.cpu_count(),
                                     "torch": torch.__version__, "python": platform.python_version(),
                                     "made_by": "tools/render_notebooks.py"}}
    nbformat.write(nb, path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to run (default: all lecture and solutions)")
    parser.add_argument("--check", action="store_true", help="only report notebooks whose outputs are stale")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds one cell may run")
    parser.add_argument("--device", default="cpu", help="GANLAB_DEVICE for the runs (cpu: the times of a laptop)")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.paths] or sorted(
        p for folder in FOLDERS for p in (ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
    if args.check:
        stale = {p: stale_cells(nbformat.read(p, as_version=4)) for p in paths}
        for p, cells in stale.items():
            if cells:
                print(f"{p.relative_to(ROOT)}: code cells {cells} changed since their outputs were made")
        return 1 if any(stale.values()) else 0
    for path in paths:
        print(f"running {path.relative_to(ROOT)} in full mode ...", flush=True)
        seconds = render(path, args.timeout, args.device)
        size = path.stat().st_size / 1e6
        print(f"  {seconds:.0f} s, {size:.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

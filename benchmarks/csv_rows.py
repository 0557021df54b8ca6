"""The benchmarks' --csv option: one row per run, appended as the run finishes, so that a long
benchmark stopped early keeps the runs it finished."""

from __future__ import annotations

import csv
import os
from typing import Callable


def row_writer(path: str | None, fields: list[str]) -> Callable[[dict], None]:
    """Write the header of a new CSV file at ``path`` and return ``write(row)``, which appends one row;
    with ``path`` None, ``write`` does nothing."""
    if path is None:
        return lambda row: None
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.DictWriter(f, fieldnames=fields).writeheader()

    def write(row: dict) -> None:
        with open(path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=fields).writerow(row)

    return write

"""Make the exercise notebooks from their solutions: exercises/NN_name.ipynb from solutions/NN_name.ipynb.

In a solution's code cells, the lines from ``# BEGIN SOLUTION: <hint>`` to ``# END SOLUTION`` become

    raise NotImplementedError("Exercise N: <hint>")

at the indentation of the BEGIN line, where N is the number in the latest markdown heading
``### Exercise N`` above it. In markdown cells, text between ``<!-- BEGIN SOLUTION -->`` and
``<!-- END SOLUTION -->`` becomes "*Your answer here.*". Outputs and execution counts are
cleared and the "Open in Colab" badge points at exercises/. The output depends only on the
solution notebook, so a test can compare the two byte for byte.

    python tools/make_exercises.py           # write every exercise notebook
    python tools/make_exercises.py --check   # exit 1, listing the notebooks that are out of sync
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::\s*(?P<hint>.*?))?\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
MD_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s*Exercise\s+(\d+)", re.MULTILINE)
NOTEBOOK = re.compile(r"^\d\d_.*\.ipynb$")
PLACEHOLDER = "*Your answer here.*"


def strip_code(source: str, exercise: int | None, where: str) -> str:
    """The code cell ``source`` with each solution block replaced by a ``raise NotImplementedError``."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.split("\n"), 1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if inside:
                raise ValueError(f"{where}, line {number}: BEGIN SOLUTION inside another solution block")
            if exercise is None:
                raise ValueError(f"{where}, line {number}: a solution block needs a markdown heading "
                                 f"'### Exercise N' above it")
            message = f"Exercise {exercise}: {begin['hint'] or 'write your code here'}"
            out.append(f"{begin['indent']}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})")
            inside = True
        elif end:
            if not inside:
                raise ValueError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out)


def strip_markdown(source: str, where: str) -> str:
    """The markdown ``source`` with each answer block replaced by a placeholder; badge links to exercises/."""
    text = MD_BLOCK.sub(PLACEHOLDER, source)
    if "BEGIN SOLUTION -->" in text or "<!-- END SOLUTION" in text:
        raise ValueError(f"{where}: unbalanced <!-- BEGIN SOLUTION --> / <!-- END SOLUTION --> markers")
    return text.replace("/blob/main/solutions/", "/blob/main/exercises/")


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise notebook made from a solution notebook (which is left unchanged)."""
    nb = copy.deepcopy(solution)
    for key in ("widgets", "ganlab"):  # widget state and the record of the solution's full run
        nb.metadata.pop(key, None)
    exercise = None
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        if cell.cell_type == "markdown":
            headings = HEADING.findall(cell.source)
            exercise = int(headings[-1]) if headings else exercise
            cell.source = strip_markdown(cell.source, where)
        elif cell.cell_type == "code":
            cell.source = strip_code(cell.source, exercise, where)
            cell.outputs, cell.execution_count = [], None
            for key in ("execution", "collapsed", "scrolled", "ganlab"):
                cell.metadata.pop(key, None)
    return nb


def render(solution_path: Path) -> str:
    """The text of the exercise notebook for ``solution_path``, exactly as it is written to disk."""
    solution = nbformat.read(solution_path, as_version=4)
    text = nbformat.writes(make_exercise(solution, solution_path.name), version=4)
    return text if text.endswith("\n") else text + "\n"


def pairs(root: Path = ROOT) -> list[tuple[Path, Path]]:
    """(solution, exercise) paths for every numbered solution notebook."""
    return [(path, root / "exercises" / path.name) for path in sorted((root / "solutions").glob("*.ipynb"))
            if NOTEBOOK.match(path.name)]


def out_of_sync(root: Path = ROOT) -> list[str]:
    """Problems that ``--check`` reports: stale or missing exercises, and exercises without a solution."""
    problems = []
    for solution, exercise in pairs(root):
        if not exercise.exists():
            problems.append(f"{exercise.relative_to(root)} is missing (made from {solution.relative_to(root)})")
        elif exercise.read_text(encoding="utf-8") != render(solution):
            problems.append(f"{exercise.relative_to(root)} differs from what {solution.relative_to(root)} makes")
    for exercise in sorted((root / "exercises").glob("*.ipynb")):
        if NOTEBOOK.match(exercise.name) and not (root / "solutions" / exercise.name).exists():
            problems.append(f"{exercise.relative_to(root)} has no solution notebook solutions/{exercise.name}")
    return problems


def write_all(root: Path = ROOT) -> list[Path]:
    """Write every exercise notebook; returns the paths written."""
    written = []
    for solution, exercise in pairs(root):
        exercise.parent.mkdir(exist_ok=True)
        exercise.write_text(render(solution), encoding="utf-8", newline="\n")
        written.append(exercise)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make exercises/NN_*.ipynb from solutions/NN_*.ipynb.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if an exercise is out of sync")
    args = parser.parse_args(argv)
    if args.check:
        problems = out_of_sync()
        for problem in problems:
            print(problem)
        if problems:
            print("Run `python tools/make_exercises.py` to remake the exercise notebooks.")
        return 1 if problems else 0
    for path in write_all():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

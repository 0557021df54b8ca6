"""Exercise notebooks are made from the solutions, stay in sync with them, and stop at their first check."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
SOLUTIONS = [solution for solution, _ in tool.pairs(ROOT)]
EXERCISES = sorted(p for p in (ROOT / "exercises").glob("*.ipynb") if tool.NOTEBOOK.match(p.name))


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Stripped code lines that appear only inside solution blocks of a solution notebook."""
    inside, outside, within = set(), set(), False
    for cell in code_cells(nb):
        for line in cell.source.split("\n"):
            if tool.BEGIN.match(line) or tool.END.match(line):
                within = bool(tool.BEGIN.match(line))
            elif line.strip() and not line.strip().startswith("#"):
                (inside if within else outside).add(line.strip())
    return inside - outside


# ---------------------------------------------------------------- (a), (c), (d): sync and content
def test_exercises_are_in_sync_with_solutions():
    assert tool.out_of_sync(ROOT) == [], "run `python tools/make_exercises.py`"
    assert tool.main(["--check"]) == 0


def test_every_solution_has_an_exercise_and_every_exercise_a_solution():
    assert SOLUTIONS, "no solutions/NN_*.ipynb found"
    assert [p.name for p in SOLUTIONS] == [p.name for p in EXERCISES]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_has_answers_and_no_todo(solution):
    nb = nbformat.read(solution, as_version=4)
    sources = [cell.source for cell in code_cells(nb)]
    assert not any("raise NotImplementedError" in s for s in sources), "a solution must not contain the TODO raise"
    assert sum(s.count("# BEGIN SOLUTION") for s in sources) >= 6
    # solutions carry the outputs of a full run (tests/test_notebooks.py checks they are not stale)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_exercise_has_no_solution_code(solution):
    sol = nbformat.read(solution, as_version=4)
    ex = nbformat.read(ROOT / "exercises" / solution.name, as_version=4)
    text = "\n".join(cell.source for cell in ex.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    ex_lines = {line.strip() for cell in code_cells(ex) for line in cell.source.split("\n")}
    leaked = solution_lines(sol) & ex_lines
    assert not leaked, f"solution code in the exercise notebook: {sorted(leaked)}"
    answers = [m.strip() for cell in sol.cells if cell.cell_type == "markdown"
               for m in re.findall(r"<!-- BEGIN SOLUTION -->(.*?)<!-- END SOLUTION -->", cell.source, re.DOTALL)]
    assert all(answer not in text for answer in answers)
    n_blocks = sum(cell.source.count("# BEGIN SOLUTION") for cell in code_cells(sol))
    todos = re.findall(r'raise NotImplementedError\("Exercise (\d+): [^"]+"\)', text)
    assert len(todos) == n_blocks and todos == sorted(todos, key=int)
    assert "blob/main/exercises/" + solution.name in ex.cells[0].source and "blob/main/solutions/" not in text
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells(ex))


# ---------------------------------------------------------------- (b): an untouched exercise stops at its first check
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda p: p.name)
def test_exercise_runs_until_the_first_check_and_says_it_is_not_done(exercise, monkeypatch):
    monkeypatch.setenv("GANLAB_FAST", "1")  # the kernel inherits the environment
    nb = nbformat.read(exercise, as_version=4)
    first_check = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and "checks.check_" in cell.source)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    failed = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              and any(out.output_type == "error" for out in cell.outputs)]
    assert failed == [first_check], f"the first error should be in cell {first_check}, the first check cell"
    before = [cell for cell in nb.cells[:first_check] if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in before), "every cell before the first check must run"
    error = next(out for out in nb.cells[first_check].outputs if out.output_type == "error")
    assert error.ename == "CheckFailed"
    assert re.match(r"Exercise 1 is not done yet: replace the `raise NotImplementedError` in `\w+`", error.evalue)
    assert "not done yet" in str(info.value)


# ---------------------------------------------------------------- the tool itself, on a small notebook
def tiny_solution() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# T\n[badge](https://colab.research.google.com/github/ganlab/ganlab/blob/main/"
                                      "solutions/99_t.ipynb)"),
        nbformat.v4.new_markdown_cell("### Exercise 3: add\nWhy? <!-- BEGIN SOLUTION -->Because.<!-- END SOLUTION -->"),
        nbformat.v4.new_code_cell("def add(a, b):\n    x = 1\n    # BEGIN SOLUTION: add a and b\n    return a + b\n"
                                  "    # END SOLUTION\n", execution_count=4, outputs=[
                                      nbformat.v4.new_output("stream", name="stdout", text="hi")]),
        nbformat.v4.new_markdown_cell("### Exercise 4\n"),
        nbformat.v4.new_code_cell("# BEGIN SOLUTION\ny = 2\n# END SOLUTION"),
    ]
    return nb


def test_tool_replaces_blocks_and_answers():
    solution = tiny_solution()
    ex = tool.make_exercise(solution)
    assert ex.cells[2].source == 'def add(a, b):\n    x = 1\n    raise NotImplementedError("Exercise 3: add a and b")\n'
    assert ex.cells[4].source == 'raise NotImplementedError("Exercise 4: write your code here")'
    assert ex.cells[1].source == "### Exercise 3: add\nWhy? *Your answer here.*"
    assert "blob/main/exercises/99_t.ipynb" in ex.cells[0].source
    assert ex.cells[2].outputs == [] and ex.cells[2].execution_count is None
    assert solution.cells[2].execution_count == 4, "the solution itself is left unchanged"


@pytest.mark.parametrize("source", ["# BEGIN SOLUTION\nx = 1", "x = 1\n# END SOLUTION",
                                    "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION"])
def test_tool_rejects_unbalanced_markers(source):
    nb = tiny_solution()
    nb.cells[4].source = source
    with pytest.raises(ValueError, match="SOLUTION"):
        tool.make_exercise(nb)


def test_tool_needs_an_exercise_heading():
    nb = tiny_solution()
    nb.cells = nb.cells[4:]
    with pytest.raises(ValueError, match="Exercise N"):
        tool.make_exercise(nb)


def test_tool_output_is_deterministic_and_check_reports_drift(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    nbformat.write(tiny_solution(), tmp_path / "solutions" / "99_t.ipynb")
    assert tool.out_of_sync(tmp_path) == ["exercises/99_t.ipynb is missing (made from solutions/99_t.ipynb)"]
    tool.write_all(tmp_path)
    first = (tmp_path / "exercises" / "99_t.ipynb").read_text()
    tool.write_all(tmp_path)
    assert (tmp_path / "exercises" / "99_t.ipynb").read_text() == first
    assert tool.out_of_sync(tmp_path) == []
    (tmp_path / "exercises" / "99_t.ipynb").write_text(first.replace("Exercise 3", "Exercise 5"))
    nbformat.write(tiny_solution(), tmp_path / "exercises" / "98_orphan.ipynb")
    assert tool.out_of_sync(tmp_path) == [
        "exercises/99_t.ipynb differs from what solutions/99_t.ipynb makes",
        "exercises/98_orphan.ipynb has no solution notebook solutions/98_orphan.ipynb",
    ]

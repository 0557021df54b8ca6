"""Every notebook opens Colab-ready; lecture and solution notebooks carry the outputs of a full run of
their present code, exercise notebooks none.

The notebooks themselves run under ``pytest --nbval-lax`` (lecture and solution notebooks)
and ``tests/test_exercises.py`` (exercise notebooks).
"""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import render_notebooks  # noqa: E402
NOTEBOOKS = sorted(p for folder in ("notebooks", "exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb"))
BADGE = "https://colab.research.google.com/github/ganlab/ganlab/blob/main/{}"


def test_the_course_has_its_first_chapters():
    names = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    chapters = ("01_gan_theory", "02_gan_losses", "03_dcgan", "04_training_dynamics", "05_multiscale",
                "06_super_resolution", "07_vae", "08_cyclegan", "09_debugging")
    assert {"notebooks/00_start_here.ipynb"} | {f"notebooks/{chapter}.ipynb" for chapter in chapters} <= names
    for chapter in chapters:
        assert {f"exercises/{chapter}.ipynb", f"solutions/{chapter}.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_is_colab_ready_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert BADGE.format(path.relative_to(ROOT).as_posix()) in first.source, "Colab badge missing or pointing elsewhere"
    install = nb.cells[1]
    assert install.cell_type == "code" and '"google.colab" in sys.modules' in install.source
    assert "pip" in install.source and "find_spec(\"ganlab\")" in install.source
    if path.parent.name == "exercises":  # students start from a clean notebook
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, "commit exercises without outputs"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name != "exercises"],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_outputs_were_made_by_the_code_that_is_there(path):
    """Readers on GitHub see the outputs of a full run; a code cell edited since then fails here."""
    nb = nbformat.read(path, as_version=4)
    stale = render_notebooks.stale_cells(nb)
    assert not stale, (f"code cells {stale} of {path.name} changed since their outputs were made: "
                       f"run `python tools/render_notebooks.py {path.relative_to(ROOT).as_posix()}`")
    assert nb.metadata["ganlab"]["run"]["made_by"] == "tools/render_notebooks.py"
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.outputs), "no figure kept"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name == "notebooks"],
                         ids=lambda p: p.name)
def test_lecture_notebook_has_the_parts_of_a_chapter(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown").lower()
    for part in ("learning goals", "summary", "references"):
        assert part in text, f"{path.name} has no '{part}' section"

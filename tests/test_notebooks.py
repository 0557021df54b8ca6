"""Every notebook opens Colab-ready and is committed without outputs.

The notebooks themselves run under ``pytest --nbval-lax`` (lecture and solution notebooks)
and ``tests/test_exercises.py`` (exercise notebooks).
"""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb"))
BADGE = "https://colab.research.google.com/github/ganlab/ganlab/blob/main/{}"


def test_the_course_has_its_first_chapters():
    names = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    chapters = ("01_gan_theory", "02_gan_losses", "03_dcgan", "04_training_dynamics")
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
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "commit notebooks without outputs"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name == "notebooks"],
                         ids=lambda p: p.name)
def test_lecture_notebook_has_the_parts_of_a_chapter(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown").lower()
    for part in ("learning goals", "summary", "references"):
        assert part in text, f"{path.name} has no '{part}' section"

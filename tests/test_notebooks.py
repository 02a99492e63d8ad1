"""House rules of the notebook series (nbval executes the notebooks themselves)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def test_every_notebook_is_listed_in_the_readme():
    readme = (NOTEBOOKS / "README.md").read_text()
    listed = set(re.findall(r"\(([0-9]{2}_[^)]+\.ipynb)\)", readme))
    assert listed == {path.name for path in PATHS}


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_only_checked_cells_carry_outputs(path):
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "code":
            continue
        checked = "NBVAL_CHECK_OUTPUT" in _source(cell)
        assert checked or not cell.get("outputs"), f"{path.name} cell {index}: unchecked output"
        assert cell.get("execution_count") is None or checked, f"{path.name} cell {index}"


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebooks_import_the_library_and_close_with_exercises(path):
    cells = _cells(path)
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    text = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    assert "import gcseg" in code or "from gcseg" in code
    assert "GCSEG_QUICK" not in code, "use gcseg.notebook.settings() for quick mode"
    for heading in ("Summary", "Exercises"):
        assert re.search(rf"^#+ .*{heading}", text, re.MULTILINE), f"{path.name}: no {heading}"
    assert cells[0]["cell_type"] == "markdown" and "teaches" in _source(cells[0]).lower()


# The course conventions (issue 16): every exercise has a difficulty mark and a solution that
# the tests execute; checks come from gcseg.notebook; each notebook ends with a questionnaire.
EXERCISE = re.compile(r"^### Exercise (\d+)\b[^\n]*\((★{1,3})\)", re.MULTILINE)
MODULE_NOTEBOOKS = [p for p in PATHS if p.name[:2] in {"01", "02", "03", "04", "05", "07", "08"}]


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _exercises(cells: list[dict]) -> list[tuple[int, int]]:
    """(exercise number, index of its markdown cell) in order."""
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            found += [(int(m.group(1)), index) for m in EXERCISE.finditer(_source(cell))]
    return found


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_every_exercise_has_a_difficulty_and_an_executed_solution(path):
    cells = _cells(path)
    exercises = _exercises(cells)
    assert len(exercises) >= 3, f"{path.name}: fewer than 3 exercises marked '### Exercise N (★)'"
    numbers = [number for number, _ in exercises]
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: numbered {numbers}"
    bounds = [index for _, index in exercises[1:]] + [len(cells)]
    for (number, start), end in zip(exercises, bounds, strict=True):
        solutions = [c for c in cells[start + 1:end] if "solution" in _tags(c)]
        assert solutions, f"{path.name}: exercise {number} has no cell tagged 'solution' after it"
        for cell in solutions:
            _assert_collapsed(cell, f"{path.name}: the solution of exercise {number}")
            if cell["cell_type"] == "code":
                assert "assert" in _source(cell) or "check_" in _source(cell), (
                    f"{path.name}: the solution of exercise {number} checks nothing")


def _assert_collapsed(cell: dict, what: str) -> None:
    """A code solution's source is hidden (JupyterLab shows a bar to click); a written one
    sits in a <details> block, closed in JupyterLab, on GitHub and in the HTML site."""
    if cell["cell_type"] == "code":
        assert cell["metadata"].get("jupyter", {}).get("source_hidden"), f"{what}: not collapsed"
    else:
        text = _source(cell).strip()
        assert text.startswith("<details>") and text.endswith("</details>"), (
            f"{what}: not in a <details> block")


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_checks_come_from_the_library_and_a_questionnaire_closes(path):
    cells = _cells(path)
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    assert "def check_answer" not in code, "use gcseg.notebook.check_answer"
    headings = [i for i, c in enumerate(cells)
                if c["cell_type"] == "markdown" and re.search(r"^## .*Questionnaire",
                                                              _source(c), re.MULTILINE)]
    assert headings, f"{path.name}: no '## Questionnaire'"
    answers = [c for c in cells[headings[-1] + 1:] if "solution" in _tags(c)]
    assert answers, f"{path.name}: the questionnaire has no answers cell tagged 'solution'"
    for cell in answers:
        _assert_collapsed(cell, f"{path.name}: the questionnaire's answers")


@pytest.mark.parametrize("path", MODULE_NOTEBOOKS, ids=[p.name for p in MODULE_NOTEBOOKS])
def test_module_notebooks_ask_to_implement_a_piece(path):
    code = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "code")
    assert "check_implementation(" in code and "NotImplementedError" in code, (
        f"{path.name}: no implement-and-assert exercise")

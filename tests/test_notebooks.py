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

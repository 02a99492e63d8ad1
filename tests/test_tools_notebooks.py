"""tools/notebooks.py: pinning the checked outputs and the HTML site of the series."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "notebooks.py"
pytestmark = pytest.mark.slow      # starts Jupyter kernels


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("notebooks_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(path: Path, name: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell("# Solution to exercise 1\nassert 6 * 7 == 42\n"
                                         "print('solution ran')")
    solution.metadata.update({"tags": ["solution"], "jupyter": {"source_hidden": True}})
    notebook.cells = [
        nbformat.v4.new_markdown_cell(f"# {name}: a figure\n\nWhat this notebook teaches: "
                                      "plotting. Next: [the other](01_other.ipynb#top)."),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                                  "plt.plot([0, 1], [1, 0]);"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(2 + 2)"),
        nbformat.v4.new_code_cell("print('unchecked')"),
        solution,
    ]
    out = path / f"{name}.ipynb"
    nbformat.write(notebook, out)
    return out


def test_pin_keeps_only_the_checked_outputs(tool, tmp_path):
    path = _notebook(tmp_path, "00_fixture")
    tool.pin(path)
    cells = json.loads(path.read_text())["cells"]
    assert cells[1]["outputs"] == [] and cells[3]["outputs"] == []
    assert "".join(cells[2]["outputs"][0]["text"]) == "4\n"
    assert cells[1]["execution_count"] is None and cells[2]["execution_count"] == 2


def test_html_site_has_an_index_and_pages_with_figures(tool, tmp_path):
    paths = [_notebook(tmp_path, "00_fixture"), _notebook(tmp_path, "01_other")]
    out = tmp_path / "site"
    assert tool.main(["html", "--out", str(out), *map(str, paths)]) == 0
    index = (out / "index.html").read_text()
    assert 'href="00_fixture.html"' in index and 'href="01_other.html"' in index
    page = (out / "00_fixture.html").read_text()
    assert "data:image/png;base64" in page                 # the figure is embedded
    assert 'href="01_other.html#top"' in page              # links go to pages, not .ipynb
    assert "solution ran" in page
    assert page.count('jp-Notebook-cell celltag_solution"') == 1
    assert "Show the solution code" in page
    assert page.index("gcseg-solution-toggle") < page.index("</body>")
    site = json.loads((out / "site.json").read_text())
    assert [p["page"] for p in site["pages"]] == ["00_fixture.html", "01_other.html"]

    # an existing site is replaced only with --overwrite; the student edition drops solutions
    assert tool.main(["html", "--out", str(out), str(paths[0])]) == 2
    assert (out / "01_other.html").is_file()
    assert tool.main(["html", "--out", str(out), "--overwrite", "--no-solutions",
                      str(paths[0])]) == 0
    student = (out / "00_fixture.html").read_text()
    assert "solution ran" not in student and "Show the solution code" not in student
    assert not (out / "01_other.html").exists()


def test_a_failing_notebook_leaves_the_old_site(tool, tmp_path, capsys):
    good = _notebook(tmp_path, "00_fixture")
    out = tmp_path / "site"
    assert tool.main(["html", "--out", str(out), str(good)]) == 0
    bad = nbformat.v4.new_notebook()
    bad.cells = [nbformat.v4.new_code_cell("raise ValueError('broken cell')")]
    nbformat.write(bad, tmp_path / "01_bad.ipynb")
    assert tool.main(["html", "--out", str(out), "--overwrite", str(good),
                      str(tmp_path / "01_bad.ipynb")]) == 2
    assert "01_bad.ipynb: a cell failed" in capsys.readouterr().err
    assert (out / "00_fixture.html").is_file() and not (out / "01_bad.html").exists()

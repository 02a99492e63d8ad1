"""The pages of ``make html`` in a real browser: a solution's code starts hidden and its button
shows it (issue 16).  Runs with ``make test-browser`` (headless Chromium from Debian's package,
playwright from PyPI); skipped otherwise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

from tests.browser import CHROMIUM, REQUIRED, missing

TOOL = Path(__file__).resolve().parents[2] / "tools" / "notebooks.py"

pytestmark = [pytest.mark.slow, pytest.mark.browser]
if not REQUIRED:
    pytestmark.append(pytest.mark.skip(reason="browser test: run it with make test-browser"))
elif missing():
    pytest.fail(f"make test-browser: {missing()}", pytrace=False)


def _site(tmp_path: Path) -> Path:
    spec = importlib.util.spec_from_file_location("notebooks_tool", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    notebook = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell("# Solution to exercise 1\nanswer = 6 * 7\n"
                                         "print('the answer is', answer)")
    solution.metadata.update({"tags": ["solution"], "jupyter": {"source_hidden": True}})
    notebook.cells = [nbformat.v4.new_markdown_cell("# 00 · A page\n\nOne exercise."),
                      nbformat.v4.new_code_cell("print('shown code')"), solution]
    path = tmp_path / "00_page.ipynb"
    nbformat.write(notebook, path)
    out = tmp_path / "site"
    assert tool.main(["html", "--out", str(out), str(path)]) == 0
    return out / "00_page.html"


def test_a_solution_starts_hidden_and_its_button_shows_it(tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = _site(tmp_path)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri())
        code = page.locator(".celltag_solution .jp-Cell-inputWrapper")
        assert page.get_by_text("shown code", exact=False).first.is_visible()
        assert code.count() == 1 and not code.is_visible()
        assert page.get_by_text("the answer is 42").is_visible()  # the output stays
        button = page.get_by_role("button", name="Show the solution code")
        button.click()
        assert code.is_visible() and "answer = 6 * 7" in code.inner_text()
        page.get_by_role("button", name="Hide the solution code").click()
        assert not code.is_visible()
        browser.close()
    assert errors == []

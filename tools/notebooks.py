"""Developer and instructor tools for the notebook series.

    python tools/notebooks.py pin NOTEBOOK...    execute in quick mode; keep the outputs of the
                                                 NBVAL_CHECK_OUTPUT cells only (what nbval
                                                 compares), clear every other output
    python tools/notebooks.py html [--out build/html] [--no-solutions] [NOTEBOOK...]
                                                 execute the series (the mode of GCSEG_QUICK)
                                                 and write a browsable site: index.html and
                                                 one page per notebook with its figures

The notebooks are committed without outputs except the checked cells (tests/test_notebooks.py).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
CHECKED = "NBVAL_CHECK_OUTPUT"
SOLUTION_TAG = "solution"


def series() -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def execute(path: Path, timeout: int = 3600) -> nbformat.NotebookNode:
    """The notebook at ``path`` executed in its own folder (the kernel inherits the
    environment, so ``GCSEG_QUICK=1`` selects quick mode)."""
    notebook = nbformat.read(path, as_version=4)
    # The kernel talks over local sockets in a private folder (IPC transport), not over TCP:
    # nothing listens on the network, and ipykernel has no unencrypted-TCP warning to print.
    with tempfile.TemporaryDirectory(prefix="gcseg-kernel-") as sockets:
        kernel = KernelManager(kernel_name="python3", transport="ipc",
                               ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(notebook, km=kernel, timeout=timeout,
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        finally:
            if kernel.has_kernel:
                kernel.shutdown_kernel()
    return notebook


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def pin(path: Path) -> None:
    """Execute ``path`` in quick mode and store only the checked cells' outputs."""
    os.environ["GCSEG_QUICK"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    notebook = execute(path)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if CHECKED not in _source(cell):      # nbval needs the checked cells' counts
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    print(f"pinned {path}")


def _title_and_summary(notebook: nbformat.NotebookNode) -> tuple[str, str]:
    """The first heading of the notebook and the first paragraph after it."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            lines = _source(cell).strip().splitlines()
            title = lines[0].lstrip("# ").strip() if lines else ""
            rest = "\n".join(lines[1:]).strip().split("\n\n")[0]
            return title, rest
    return "", ""


def _linked_pages(body: str) -> str:
    """Links between notebooks point at their pages (``NN_name.ipynb`` -> ``NN_name.html``)."""
    return re.sub(r'href="((?:\./)?[0-9]{2}_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"',
                  lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', body)


HIDDEN_SOLUTIONS = """<style>.gcseg-hidden{display:none}
.gcseg-solution-toggle{margin:0.3em 0 0.3em 5em;font-size:90%}</style>
<script>
// The solution cells' code starts hidden, as in JupyterLab (nbconvert shows it): a button
// shows or hides it; the outputs stay visible.
document.querySelectorAll(".celltag_solution.jp-CodeCell").forEach(function (cell) {
  var input = cell.querySelector(".jp-Cell-inputWrapper");
  if (!input) { return; }
  input.classList.add("gcseg-hidden");
  var button = document.createElement("button");
  button.className = "gcseg-solution-toggle";
  button.textContent = "Show the solution code";
  button.addEventListener("click", function () {
    var hidden = input.classList.toggle("gcseg-hidden");
    button.textContent = hidden ? "Show the solution code" : "Hide the solution code";
  });
  cell.insertBefore(button, cell.firstChild);
});
</script>
"""
"""Appended to a page with solutions: their code collapsed behind a button."""


def render_page(notebook: nbformat.NotebookNode, solutions: bool) -> str:
    """One executed notebook as a standalone HTML page (figures embedded); with
    ``solutions`` their code starts hidden behind a button (:data:`HIDDEN_SOLUTIONS`)."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set() if solutions else {SOLUTION_TAG}
    exporter = HTMLExporter(config=config, template_name="lab")
    body, _ = exporter.from_notebook_node(notebook)
    if solutions:
        head, tail = body.rsplit("</body>", 1)
        body = head + HIDDEN_SOLUTIONS + "</body>" + tail
    return _linked_pages(body)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _index(pages: list[dict], provenance: dict) -> str:
    rows = "\n".join(
        f'<li><a href="{html.escape(page["page"])}">{html.escape(page["title"])}</a>'
        f'<p>{html.escape(page["summary"])}</p>'
        f'<p class="meta">executed in {page["seconds"]:.0f} s</p></li>' for page in pages)
    mode = "quick mode (GCSEG_QUICK=1: small data, a few steps)" if provenance["quick"] else \
        "default mode"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gcseg notebooks</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}}
li{{margin-bottom:1em}} .meta{{color:#666;font-size:90%}}</style></head>
<body><h1>gcseg: the notebook series</h1>
<p>A course on semi-supervised video object segmentation, built on the GCSeg paper. Each page is
a notebook of the series executed in {mode}, commit {html.escape(provenance["commit"])},
{html.escape(provenance["date"])}; solutions {"shown" if provenance["solutions"] else
"left out"}. Run them yourself in JupyterLab: <code>make lab</code>.</p>
<ol>
{rows}
</ol></body></html>
"""


def build_site(out: Path, notebooks: list[Path], overwrite: bool, solutions: bool) -> Path:
    """Execute ``notebooks`` and write their pages and an index into ``out``, whole or not
    at all (a failed notebook leaves an existing site as it was)."""
    sys.path.insert(0, str(REPO))
    from gcseg.files import staged_folder
    from gcseg.runtime import quick_mode

    pages = []
    with staged_folder(out, overwrite) as partial:
        for path in notebooks:
            start = time.monotonic()
            print(f"executing {path.name} ...", flush=True)
            try:
                notebook = execute(path)
            except CellExecutionError as error:
                raise CellExecutionError(f"{path}: a cell failed, no site written\n"
                                         f"{str(error)[-1500:]}", "", "") from None
            page = path.with_suffix(".html").name
            (partial / page).write_text(render_page(notebook, solutions), encoding="utf-8")
            title, summary = _title_and_summary(notebook)
            pages.append({"notebook": path.name, "page": page, "title": title or path.stem,
                          "summary": re.sub(r"[*_`$]", "", summary),
                          "seconds": time.monotonic() - start})
        provenance = {"quick": quick_mode(), "commit": _commit(), "solutions": solutions,
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        (partial / "index.html").write_text(_index(pages, provenance), encoding="utf-8")
        (partial / "site.json").write_text(json.dumps({**provenance, "pages": pages},
                                                      indent=1) + "\n")
    print(f"wrote {out}/index.html and {len(pages)} pages")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pin_parser = commands.add_parser("pin", help="store the checked cells' outputs")
    pin_parser.add_argument("notebooks", nargs="+", type=Path)
    site = commands.add_parser("html", help="execute the series and write a browsable site")
    site.add_argument("notebooks", nargs="*", type=Path, help="default: the whole series")
    site.add_argument("--out", type=Path, default=REPO / "build" / "html")
    site.add_argument("--overwrite", action="store_true", help="replace an existing site")
    site.add_argument("--no-solutions", action="store_true",
                      help="leave out the cells tagged 'solution' (a student edition)")
    args = parser.parse_args(argv)
    try:
        if args.command == "pin":
            for notebook_path in args.notebooks:
                pin(notebook_path.resolve())
        else:
            paths = [p.resolve() for p in args.notebooks] or series()
            build_site(args.out, paths, args.overwrite, not args.no_solutions)
    except (OSError, CellExecutionError, nbformat.ValidationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

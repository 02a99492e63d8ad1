"""The paper's ablation tables beside measured ones (notebook 09; paper IV-C, Tables V-VII).

- :data:`PAPER_TABLE_V` (components, DAVIS-2016 val, no pre-training), :data:`PAPER_TABLE_VI`
  (Adaptive Search, DAVIS-2017 val) and :data:`PAPER_TABLE_VII` (simulated pre-training,
  DAVIS-2016 val): J, F and J&F in percent (defined in :mod:`gcseg.ablation`).
- :func:`format_table`, :func:`comparison_table` -- text tables, paper next to measured.
- :func:`ranking` -- the order of the rows by a metric (what an ablation claims).
- :func:`ablation_figure` -- paired bars, paper and measured.

Measured tables are read with :func:`gcseg.ablation.read_records`.

Every function takes scores in percent (the paper's unit); multiply the evaluator's [0, 1]
numbers by 100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gcseg.ablation import PAPER_TABLE_V, PAPER_TABLE_VI, PAPER_TABLE_VII, VARIANT_NAMES

__all__ = [
    "PAPER_TABLE_V",
    "PAPER_TABLE_VI",
    "PAPER_TABLE_VII",
    "VARIANT_NAMES",
    "ablation_figure",
    "comparison_table",
    "format_table",
    "ranking",
]


# --------------------------------------------------------------------------- tables


def _cell(value: object, digits: int) -> str:
    if isinstance(value, (float, np.floating)):
        return "-" if math.isnan(value) else f"{float(value):.{digits}f}"
    return str(value)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[object]],
                 digits: int = 1) -> str:
    """A plain text table: the first column left-aligned, the others right-aligned; floats
    with ``digits`` decimals (NaN as ``-``)."""
    cells = [list(columns)] + [[_cell(v, digits) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                          strict=True)]
        lines.append("  ".join(parts))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def ranking(scores: Mapping[str, Mapping[str, float]], metric: str = "J&F") -> list[str]:
    """Row names from best to worst by ``metric`` (ties keep the given order)."""
    names = list(scores)
    return sorted(names, key=lambda name: (-scores[name][metric], names.index(name)))


def _ranks(scores: Mapping[str, Mapping[str, float]], metric: str = "J&F") -> dict[str, int]:
    """1 + the number of rows with a strictly better ``metric`` (ties share a rank)."""
    return {n: 1 + sum(other[metric] > row[metric] for other in scores.values())
            for n, row in scores.items()}


def comparison_table(measured: Mapping[str, Mapping[str, float]],
                     paper: Mapping[str, Mapping[str, float]],
                     metrics: Sequence[str] = ("J", "F", "J&F"),
                     names: Mapping[str, str] | None = None) -> str:
    """Paper and measured side by side, one row per name of ``paper`` (percent).

    Columns: for each metric the paper's value and ours, then each side's rank by J&F
    (1 = best; equal scores share a rank).  A name missing from ``measured`` shows ``-``.
    """
    names = names or {}
    present = {n: measured[n] for n in paper if n in measured}
    rank_paper, rank_ours = _ranks(paper), _ranks(present)
    columns = ["row"]
    for metric in metrics:
        columns += [f"{metric} paper", f"{metric} ours"]
    columns += ["rank paper", "rank ours"]
    rows = []
    for name in paper:
        row: list[object] = [names.get(name, name)]
        for metric in metrics:
            ours = measured.get(name, {}).get(metric, float("nan"))
            row += [float(paper[name][metric]), float(ours)]
        row += [rank_paper[name], rank_ours.get(name, "-")]
        rows.append(row)
    return format_table(columns, rows)


def ablation_figure(measured: Mapping[str, Mapping[str, float]],
                    paper: Mapping[str, Mapping[str, float]], metric: str = "J&F",
                    title: str | None = None, names: Mapping[str, str] | None = None,
                    reference_lines: Mapping[str, float] | None = None,
                    errors: Mapping[str, float] | None = None) -> Figure:
    """Paired bars of ``metric`` (percent) for each row of ``paper``: the paper's (grey) and
    ours (blue; missing rows are left empty).  ``reference_lines`` ``{label: value}`` adds
    dashed horizontal lines (e.g. trivial methods scored on the same videos); ``errors``
    ``{row: value}`` draws error bars on our bars (e.g. the standard deviation over seeds)."""
    names = names or {}
    rows = list(paper)
    x = np.arange(len(rows))
    figure, axis = plt.subplots(figsize=(1.6 * len(rows) + 2.5, 3.4))
    ours = [measured.get(row, {}).get(metric, np.nan) for row in rows]
    theirs = [paper[row][metric] for row in rows]
    axis.bar(x - 0.2, theirs, 0.4, color="0.6", label="paper")
    spread = [float((errors or {}).get(row, np.nan)) for row in rows]
    axis.bar(x + 0.2, ours, 0.4, color="tab:blue", label="measured here",
             yerr=None if errors is None else np.nan_to_num(spread), capsize=4)
    for position, value, error in zip(x + 0.2, ours, spread, strict=True):
        if not np.isnan(value):
            axis.text(position, value + 1 + np.nan_to_num(error), f"{value:.1f}", ha="center",
                      fontsize=8)
    for position, value in zip(x - 0.2, theirs, strict=True):
        axis.text(position, value + 1, f"{value:.1f}", ha="center", fontsize=8, color="0.3")
    for (label, value), colour in zip((reference_lines or {}).items(),
                                      ("tab:red", "tab:green", "tab:purple", "black"),
                                      strict=False):
        axis.axhline(value, color=colour, ls="--", lw=1, label=f"{label} ({value:.1f})")
    axis.set_xticks(x, [names.get(row, row) for row in rows])
    axis.set(ylabel=f"{metric} (%)", ylim=(0, 100), title=title or f"{metric}: paper and here")
    axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    return figure

"""Ablation tables and pictures (gcseg.viz.ablation), headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gcseg.config import VARIANTS  # noqa: E402
from gcseg.viz.ablation import (  # noqa: E402
    PAPER_TABLE_V,
    PAPER_TABLE_VI,
    PAPER_TABLE_VII,
    VARIANT_NAMES,
    ablation_figure,
    comparison_table,
    format_table,
    ranking,
)


def test_paper_tables_hold_the_published_numbers():
    assert list(PAPER_TABLE_V) == list(VARIANTS) == list(VARIANT_NAMES)
    assert [PAPER_TABLE_V[v]["J&F"] for v in VARIANTS] == [53.2, 61.9, 60.4, 71.1]
    assert PAPER_TABLE_VI["off"]["J&F"] == 66.6 and PAPER_TABLE_VI["on"]["J&F"] == 67.0
    assert PAPER_TABLE_VII["without"]["J&F"] < PAPER_TABLE_VII["with"]["J&F"]
    for table in (PAPER_TABLE_V, PAPER_TABLE_VI, PAPER_TABLE_VII):
        for row in table.values():  # J&F is the mean of J and F (to the paper's rounding)
            assert abs((row["J"] + row["F"]) / 2 - row["J&F"]) <= 0.06


def test_ranking_orders_best_first():
    assert ranking(PAPER_TABLE_V) == ["full", "ref", "coseg", "baseline"]
    assert ranking({"a": {"J&F": 1.0}, "b": {"J&F": 1.0}, "c": {"J&F": 2.0}}) == ["c", "a", "b"]


def test_format_table_aligns_columns():
    text = format_table(["row", "x"], [["a", 1.25], ["long name", float("nan")]], digits=1)
    lines = text.splitlines()
    assert lines[0] == "row          x"
    assert set(lines[1]) == {"-"} and len(lines[1]) == len(lines[0])
    assert lines[2] == "a          1.2"
    assert lines[3] == "long name    -"


def test_comparison_table_puts_ours_beside_the_paper():
    measured = {"baseline": {"J": 10.0, "F": 20.0, "J&F": 15.0},
                "full": {"J": 5.0, "F": 5.0, "J&F": 5.0}}
    text = comparison_table(measured, PAPER_TABLE_V, names=VARIANT_NAMES)
    lines = text.splitlines()
    assert len(lines) == 2 + 4
    base = lines[2].split()
    assert base[:7] == ["baseline", "55.2", "10.0", "51.3", "20.0", "53.2", "15.0"]
    assert base[-2:] == ["4", "1"]  # worst in the paper, best here
    ref = lines[3].split()
    assert ref[0] == "Ref" and ref[2] == "-" and ref[-1] == "-"
    assert lines[5].startswith("Ref + Co-seg") and lines[5].split()[-2:] == ["1", "2"]
    tied = comparison_table({"off": {"J": 1.0, "F": 1.0, "J&F": 1.0},
                             "on": {"J": 1.0, "F": 1.0, "J&F": 1.0}}, PAPER_TABLE_VI)
    assert [line.split()[-2:] for line in tied.splitlines()[2:]] == [["2", "1"], ["1", "1"]]


def test_ablation_figure_pairs_paper_and_measured_bars():
    measured = {"off": {"J&F": 40.0}}
    figure = ablation_figure(measured, PAPER_TABLE_VI, title="t")
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert heights[:2] == [66.6, 67.0]
    assert heights[2] == 40.0 and np.isnan(heights[3])
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["off", "on"]
    plt.close(figure)
    figure = ablation_figure(measured, PAPER_TABLE_VI, reference_lines={"copy-first": 25.0})
    lines = figure.axes[0].get_lines()
    assert len(lines) == 1 and list(lines[0].get_ydata()) == [25.0, 25.0]
    assert "copy-first (25.0)" in [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    plt.close(figure)
    figure = ablation_figure({"off": {"J&F": 40.0}, "on": {"J&F": 42.0}}, PAPER_TABLE_VI,
                             errors={"off": 1.5, "on": 2.5})
    caps = [line for line in figure.axes[0].get_lines() if line.get_marker() == "_"]
    tops = sorted(round(float(y), 1) for line in caps for y in line.get_ydata())
    assert tops == [38.5, 39.5, 41.5, 44.5]  # mean -/+ std of each measured bar
    plt.close(figure)

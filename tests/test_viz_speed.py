"""Speed pictures (gcseg.viz.speed), headless; the timing helpers: tests/test_benchmark.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gcseg.inference import FrameRecord  # noqa: E402
from gcseg.viz.speed import (  # noqa: E402
    PAPER_SECONDS_PER_FRAME,
    frame_times_figure,
    seconds_per_frame_figure,
    step_times_figure,
    strategy_scaling_figure,
)


def test_step_times_figure_draws_a_bar_per_step():
    figure = step_times_figure({"a": 0.010, "b": 0.002}, unit="ms")
    bars = figure.axes[0].patches
    assert [round(bar.get_width(), 6) for bar in bars] == [10.0, 2.0]
    assert [t.get_text() for t in figure.axes[0].texts] == [" 10.0 ms", " 2.0 ms"]
    plt.close(figure)


def test_seconds_per_frame_figure_puts_ours_beside_the_paper():
    figure = seconds_per_frame_figure({"tiny, CPU": 0.05})
    axis = figure.axes[0]
    widths = [bar.get_width() for bar in axis.patches]
    assert widths == [0.05, *PAPER_SECONDS_PER_FRAME.values()]
    assert axis.get_xscale() == "log"
    assert "20 fps" in axis.texts[0].get_text()
    plt.close(figure)
    assert PAPER_SECONDS_PER_FRAME["GCSeg, DAVIS-2016 (Table II)"] == 0.28
    assert PAPER_SECONDS_PER_FRAME["GCSeg, DAVIS-2017 (Table III)"] == 0.92
    assert PAPER_SECONDS_PER_FRAME["RGMP, DAVIS-2016 (Table II)"] == 0.13
    with pytest.raises(TypeError):
        PAPER_SECONDS_PER_FRAME["x"] = 1.0  # read-only


def test_frame_times_figure_marks_second_backbone_passes():
    records = [FrameRecord(t, [], None, None, 2 if t == 2 else 1, 0.01 * (t + 1))
               for t in range(4)]
    figure = frame_times_figure(records)
    bars = figure.axes[0].patches
    assert len(bars) == 4
    red = [bar for bar in bars if np.allclose(bar.get_facecolor()[:3],
                                              matplotlib.colors.to_rgb("tab:red"))]
    assert len(red) == 1 and red[0].get_height() == pytest.approx(30.0)
    mean = [line for line in figure.axes[0].get_lines()][0]
    assert mean.get_ydata()[0] == pytest.approx(np.mean([20, 30, 40]))
    plt.close(figure)


def test_strategy_scaling_figure_draws_a_line_per_strategy():
    times = [{"cached summaries": 0.01 * n, "backbone on every reference": 0.03 * n}
             for n in (1, 3, 6)]
    figure = strategy_scaling_figure([1, 3, 6], times)
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == list(times[0])
    np.testing.assert_allclose(lines[1].get_ydata(), [30, 90, 180])
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 3, 6])
    plt.close(figure)


def test_benchmark_figure_draws_each_variant_against_the_backbone():
    from gcseg.viz.speed import benchmark_figure

    def row(variant, backbone, seconds, refs=3, objects=1):
        return {"variant": variant, "backbone": backbone, "size": [240, 432], "objects": objects,
                "refs": None if variant == "baseline" else refs, "seconds_per_frame": seconds,
                "backbone_seconds_objects": 0.1, "ratio": seconds / 0.1}

    results = [row("baseline", "resnet18", 0.12), row("full", "resnet18", 0.3),
               row("full", "resnet18", 0.5, refs=6), row("full", "resnet50", 0.6),
               row("full", "resnet18", 0.9, objects=3)]
    figure = benchmark_figure(results)
    axis = figure.axes[0]
    heights = sorted(round(bar.get_height()) for bar in axis.patches)
    assert heights == [120, 300, 600]  # n = 6 and K = 3 left out
    assert [t.get_text() for t in axis.get_xticklabels()] == ["resnet18", "resnet50"]
    assert "3.0x" in [t.get_text() for t in axis.texts]
    plt.close(figure)

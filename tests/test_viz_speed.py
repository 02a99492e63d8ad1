"""Timing helpers and speed pictures (gcseg.viz.speed), headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gcseg.inference import FrameRecord  # noqa: E402
from gcseg.model import GCSeg  # noqa: E402
from gcseg.viz.speed import (  # noqa: E402
    PAPER_SECONDS_PER_FRAME,
    frame_times_figure,
    median_seconds,
    seconds_per_frame_figure,
    step_times_figure,
    strategy_scaling_figure,
    time_frame_steps,
    time_reference_strategies,
)
from tests.conftest import small_config  # noqa: E402


def _inputs(size=(64, 96)):
    image = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 1, *size)
    mask[..., 10:30, 20:50] = 1
    return image, mask


def test_median_seconds_warms_up_then_takes_the_median():
    calls = []
    durations = iter([0.0, 0.03, 0.0, 0.01])

    def work():
        calls.append(1)
        pause = next(durations)
        if pause:
            import time

            time.sleep(pause)

    seconds = median_seconds(work, repeats=3, warmup=1)
    assert len(calls) == 4
    assert 0.0 <= seconds < 0.03  # the median of ~0.03, ~0.0, ~0.01 is ~0.01
    with pytest.raises(ValueError):
        median_seconds(work, repeats=0)


@pytest.mark.parametrize("variant", ["full", "baseline"])
def test_time_frame_steps_returns_each_step(variant):
    torch.manual_seed(0)
    model = GCSeg(small_config(variant).model).eval()
    image, mask = _inputs()
    times = time_frame_steps(model, image, mask, num_refs=2, repeats=2, warmup=1)
    assert list(times) == ["encode_frame", "judge", "predict (1 reference)",
                           "predict (1+2 references)", "summarize_reference"]
    assert all(value >= 0 for value in times.values())
    assert times["encode_frame"] > 0
    if variant == "baseline":
        assert times["summarize_reference"] == 0.0
    assert torch.is_grad_enabled()  # inference mode ended with the timing


def test_objects_are_timed_as_one_batch():
    torch.manual_seed(0)
    model = GCSeg(small_config("full").model).eval()
    image, mask = _inputs()
    times = time_frame_steps(model, image.expand(3, -1, -1, -1), mask.repeat(3, 1, 1, 1),
                             num_refs=1, repeats=1, warmup=0)
    assert len(times) == 5 and min(times.values()) > 0
    strategies = time_reference_strategies(model, image.expand(2, -1, -1, -1),
                                           mask.repeat(2, 1, 1, 1), num_refs=1, repeats=1,
                                           warmup=0)
    assert min(strategies.values()) > 0


def test_re_encoding_the_references_costs_more_than_the_cache():
    torch.manual_seed(0)
    model = GCSeg(small_config("full").model).eval()
    image, mask = _inputs()
    times = time_reference_strategies(model, image, mask, num_refs=3, repeats=3, warmup=1)
    assert set(times) == {"cached summaries", "backbone on every reference"}
    assert times["backbone on every reference"] > times["cached summaries"] > 0


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

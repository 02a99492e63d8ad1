"""gcseg.viz.judgment: per-frame arrays of the Adaptive Search and its figures."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from gcseg.inference import FrameRecord, VideoResult
from gcseg.viz.judgment import (
    BoxedMask,
    absent_frames,
    disappearing_objects,
    j_per_frame,
    plot_j_per_frame,
    plot_judgment_boxes,
    plot_judgment_scores,
    plot_threshold_effect,
    record_scores,
    rejected_frames,
    strip_frames,
)
from tests.conftest import disappearing_video

T, H, W = 8, 16, 20


def _video() -> tuple[np.ndarray, np.ndarray]:
    """Object 1 present but absent in frames 3-4; object 2 always present."""
    return disappearing_video(T, absent=(3, 4), size=(H, W))


def _result(gt: np.ndarray, scores: list[float]) -> VideoResult:
    records = [FrameRecord(0, [], None, None, 1, 0.0)]
    for t in range(1, T):
        s = [scores[t], 0.9]
        reliable = [bool(np.isfinite(s[0]) and s[0] >= 0.7), True]
        records.append(FrameRecord(t, [0], s, reliable, 1 + (not reliable[0]), 0.0))
    return VideoResult(gt.copy(), [1, 2], records)


SCORES = [np.nan, 0.95, 0.9, 0.5, np.nan, 0.3, 0.8, 0.85]


def test_absent_and_disappearing():
    _, gt = _video()
    np.testing.assert_array_equal(absent_frames(gt, 1), [0, 0, 0, 1, 1, 0, 0, 0])
    assert not absent_frames(gt, 2).any()
    assert disappearing_objects(gt) == {1: 2}
    gone = gt.copy()
    gone[5:][gone[5:] == 2] = 0  # object 2 leaves for good: not DR
    assert disappearing_objects(gone) == {1: 2}


def test_record_scores_and_rejected_frames():
    _, gt = _video()
    scores, rejected = record_scores(_result(gt, SCORES).records, 0)
    np.testing.assert_array_equal(np.isnan(scores), np.isnan(SCORES))
    np.testing.assert_allclose(scores[1:4], [0.95, 0.9, 0.5])
    np.testing.assert_array_equal(np.flatnonzero(rejected), [3, 4, 5])
    np.testing.assert_array_equal(rejected_frames(scores, 0.7), [3, 4, 5])
    np.testing.assert_array_equal(rejected_frames(scores, 0.86), [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(rejected_frames(scores, 0.0), [4])  # NaN: no box
    other, other_rejected = record_scores(_result(gt, SCORES).records, 1)
    assert np.isnan(other[0]) and (other[1:] == 0.9).all() and not other_rejected.any()


def test_j_per_frame():
    _, gt = _video()
    np.testing.assert_array_equal(j_per_frame(gt, gt, 1), np.ones(T))  # absent & empty: 1
    pred = gt.copy()
    pred[3, 0:2, 0:2] = 1  # object predicted where it is absent
    pred[6][pred[6] == 1] = 0  # object missed
    j = j_per_frame(pred, gt, 1)
    assert j[3] == 0.0 and j[6] == 0.0 and j[0] == 1.0
    with pytest.raises(ValueError):
        j_per_frame(pred[:3], gt, 1)


def test_strip_frames():
    absent = np.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0], bool)
    picks = strip_frames(absent, count=6)
    assert picks[0] == 2 and picks[-1] == 7  # frame before it vanishes .. two after it is back
    assert len(picks) == 6 and picks == sorted(picks)
    assert strip_frames(np.zeros(10, bool), count=3) == [0, 4, 9]
    assert strip_frames(np.array([0, 0, 1, 1], bool), count=3) == [0, 2, 3]  # never back


def _render(figure: Figure) -> None:
    figure.savefig(io.BytesIO(), format="png")


def test_plot_judgment_scores():
    _, gt = _video()
    absent = absent_frames(gt, 1)
    figure = plot_judgment_scores(np.array(SCORES), 0.7, absent=absent)
    ax = figure.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "rejected: $M_{t-1}$ zeroed" in labels and "τ = 0.7" in labels
    rejected_line = ax.get_lines()[labels.index("rejected: $M_{t-1}$ zeroed")]
    np.testing.assert_array_equal(rejected_line.get_xdata(), [3, 4, 5])
    missing_line = ax.get_lines()[labels.index("no score: empty $M_{t-1}$")]
    np.testing.assert_array_equal(missing_line.get_xdata(), [4])
    assert len([p for p in ax.patches]) == 2  # two shaded absent frames
    _render(figure)
    oracle = np.ones(T)
    oracle[[3, 5]] = np.nan
    two = plot_judgment_scores({"run": np.array(SCORES), "oracle": oracle}, 0.9,
                               rejected=np.array([False] * T))
    lines = two.axes[0].get_lines()
    names = [line.get_label() for line in lines]
    assert {"run", "oracle"} <= set(names) and "rejected: $M_{t-1}$ zeroed" not in names
    ticks = [line for line in lines if line.get_marker() == "|"]
    assert [list(line.get_xdata()) for line in ticks] == [[4], [3, 5]]  # one row per curve
    assert ticks[0].get_ydata()[0] > ticks[1].get_ydata()[0]
    assert ticks[1].get_color() == lines[names.index("oracle")].get_color()
    _render(two)


def test_plot_judgment_boxes_and_j():
    frames, gt = _video()
    first = BoxedMask(frames[0], gt[0] == 1, (0, 2, 4, 6))
    figure = plot_judgment_boxes(first, BoxedMask(frames[5], gt[4] == 1, None), float("nan"),
                                 0.7, t=5)
    assert figure._suptitle.get_text().endswith("unreliable")
    assert len(figure.axes[0].patches) == 1 and len(figure.axes[1].patches) == 0
    _render(figure)
    good = plot_judgment_boxes(first, BoxedMask(frames[1], gt[0] == 1, (0, 2, 4, 6)), 0.93,
                               0.7)
    assert good._suptitle.get_text().endswith(": reliable")
    figure = plot_j_per_frame({"on": np.ones(T), "off": np.zeros(T)}, absent_frames(gt, 1))
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["on (mean J 1.000)", "off (mean J 0.000)"]
    _render(figure)


def test_plot_threshold_effect():
    frames, gt = _video()
    result = _result(gt, SCORES)
    figure = plot_threshold_effect(result, frames, gt, 1, 0.7)
    top, middle, bottom = figure.axes
    assert top.get_title() == "τ = 0.7: 3 of 7 frames rejected"
    np.testing.assert_array_equal(middle.get_lines()[0].get_ydata(), np.ones(T))
    labels = [t.get_text() for t in bottom.get_xticklabels()]
    assert labels[0] == "t=2" and "t=3 absent ✗" in labels
    _render(figure)
    other = plot_threshold_effect(result, frames, gt, 2, 0.7, strip=[0, 1])
    assert other.axes[0].get_title() == "τ = 0.7: 0 of 7 frames rejected"
    _render(other)

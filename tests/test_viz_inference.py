"""Pictures of inference and evaluation (gcseg.viz.inference), headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gcseg.evaluation import AttributeRow, EvaluationResult, ObjectResult  # noqa: E402
from gcseg.inference import FrameRecord, sample_reference_frames  # noqa: E402
from gcseg.viz.inference import (  # noqa: E402
    attribute_figure,
    filmstrip,
    fragment_bounds,
    frame_view,
    memory_growth_figure,
    merge_figure,
    per_frame_scores_figure,
    reference_matrix,
    reference_timeline,
)


def _records(count: int = 8, n: int = 3, seed: int = 0) -> list[FrameRecord]:
    rng = np.random.default_rng(seed)
    records = [FrameRecord(0, [], None, None, 1, 0.1)]
    for t in range(1, count):
        refs = sample_reference_frames(t, n, rng)
        records.append(FrameRecord(t, refs, [0.9], [t != 4], 2 if t == 4 else 1, 0.1))
    return records


def test_fragment_bounds_cover_the_past_evenly():
    assert fragment_bounds(9, 3) == [(0, 2), (3, 5), (6, 8)]
    assert fragment_bounds(10, 3) == [(0, 3), (4, 6), (7, 9)]
    assert fragment_bounds(2, 3) == [(0, 0), (1, 1)]
    assert fragment_bounds(5, 0) == []
    with pytest.raises(ValueError):
        fragment_bounds(0, 3)


def test_sampled_references_fall_in_their_fragments():
    rng = np.random.default_rng(3)
    for t in range(1, 40):
        refs = sample_reference_frames(t, 3, rng)
        assert refs[0] == 0
        for ref, (first, last) in zip(refs[1:], fragment_bounds(t, 3), strict=True):
            assert first <= ref <= last


def test_reference_matrix_counts_each_use():
    records = [FrameRecord(0, [], None, None, 1, 0.0), FrameRecord(1, [0, 0], None, None, 1, 0.0),
               FrameRecord(2, [0, 1], None, None, 1, 0.0)]
    matrix = reference_matrix(records)
    assert matrix.shape == (3, 3)
    np.testing.assert_array_equal(matrix, [[0, 0, 0], [2, 0, 0], [1, 1, 0]])
    assert reference_matrix(records, num_frames=5).shape == (5, 5)
    full = reference_matrix(_records(12))
    assert np.all(np.triu(full) == 0)  # a frame only uses earlier frames
    assert np.all(full[1:, 0] >= 1)  # frame 0 is always a reference
    assert full[1:].sum(axis=1).tolist() == [1 + min(3, t) for t in range(1, 12)]


def test_reference_timeline_draws_one_marker_per_reference():
    records = _records(8)
    figure = reference_timeline(records, num_refs=3)
    axis = figure.axes[0]
    drawn = sum(len(c.get_offsets()) for c in axis.collections)
    # per target: drawn refs + frame 0 + the target itself, + one cross for the rejected frame
    expected = sum(len(r.references) - 1 + 2 for r in records[1:]) + 1
    assert drawn == expected
    fragments = sum(len(fragment_bounds(t, 3)) for t in range(1, 8))
    assert len(axis.patches) == fragments
    plt.close(figure)


def test_memory_growth_is_linear_in_frames():
    figure = memory_growth_figure({"cache": 1000, "features": 10**6}, num_frames=50)
    lines = [line for line in figure.axes[0].get_lines() if len(line.get_xdata()) == 50]
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_ydata(), np.arange(1, 51) * 4000)
    assert figure.axes[0].get_yscale() == "log"
    plt.close(figure)


def test_filmstrip_stacks_ground_truth_above_prediction():
    frames = np.zeros((5, 20, 30, 3), np.uint8)
    labels = np.zeros((5, 20, 30), np.uint8)
    labels[:, 5:10, 5:10] = 1
    strip = filmstrip(frames, labels, [0, 2, 4])
    assert strip.shape == (20, 3 * 30 + 2 * 4, 3) and strip.dtype == np.uint8
    both = filmstrip(frames, labels, [0, 2, 4], ground_truth=np.zeros_like(labels))
    assert both.shape == (2 * 20 + 4, 98, 3)
    assert both[:20, :30].max() == 0  # no object in the ground truth row
    assert both[24:, :30].max() > 0  # the predicted object is tinted
    assert (both[20:24] == 255).all()  # the white gap between the rows


def test_frame_view_has_a_panel_per_picture():
    frame = np.zeros((20, 30, 3), np.uint8)
    labels = np.zeros((20, 30), np.uint8)
    record = FrameRecord(3, [0, 1, 2], [0.5], [False], 2, 0.1)
    figure = frame_view(frame, labels, labels, np.zeros((2, 20, 30)), record, index=3)
    images = [axis for axis in figure.axes if axis.get_images()]
    assert len(images) == 4  # prediction, ground truth, two probabilities
    assert "dropped" in figure._suptitle.get_text() and "frame 3" in figure._suptitle.get_text()
    plt.close(figure)
    figure = frame_view(frame, labels)
    assert len(figure.axes) == 1 and "frame 0" in figure._suptitle.get_text()
    plt.close(figure)


def _object(seq: str, oid: int, j: list[float], f: list[float]) -> ObjectResult:
    names = [f"{i:05d}" for i in range(1, len(j) + 1)]
    return ObjectResult.from_per_frame(seq, oid, names, np.array(j), np.array(f))


def test_per_frame_scores_plot_the_scored_frames():
    objects = [_object("a", 1, [1, 0.5, 0.2], [0.9, 0.4, 0.1]),
               _object("a", 2, [0, 0, 1], [0, 1, 1])]
    figure = per_frame_scores_figure(objects, title="a")
    left, right = figure.axes
    data = [line for line in left.get_lines() if len(line.get_xdata()) == 3]
    assert len(data) == 2
    np.testing.assert_array_equal(data[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(data[0].get_ydata(), [1, 0.5, 0.2])
    np.testing.assert_allclose(
        [line for line in right.get_lines() if len(line.get_xdata()) == 3][1].get_ydata(),
        [0, 1, 1])
    plt.close(figure)


def _result(jf: float) -> EvaluationResult:
    rows = [AttributeRow("OCC", 2, jf, jf, jf), AttributeRow("all", 3, jf / 2, jf / 2, jf / 2)]
    return EvaluationResult("val", "2017", ".", {}, [], rows)


def test_attribute_figure_has_a_bar_per_method_and_attribute():
    figure = attribute_figure({"gcseg": _result(0.6), "copy-first": _result(0.2)})
    bars = figure.axes[0].patches
    assert len(bars) == 4
    heights = sorted(round(bar.get_height(), 3) for bar in bars)
    assert heights == [0.1, 0.2, 0.3, 0.6]
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert labels == ["OCC\n(2)", "all\n(3)"]
    plt.close(figure)
    with pytest.raises(ValueError):
        attribute_figure({"x": EvaluationResult("val", "2017", ".", {}, [], [])})


def test_merge_figure_shows_the_argmax_with_background_at_half():
    probs = np.zeros((2, 4, 4), np.float32)
    probs[0, :, :2] = 0.7
    probs[1, :, 1:3] = 0.9
    probs[1, 0, 3] = 0.4  # below 0.5: background
    figure = merge_figure(np.zeros((4, 4, 3), np.uint8), probs, [1, 2])
    merged = figure.axes[2].get_images()[0].get_array()
    np.testing.assert_array_equal(merged[0], [1, 2, 2, 0])
    assert len(figure.axes) == 4
    plt.close(figure)
    given = np.full((4, 4), 2, np.uint8)
    figure = merge_figure(np.zeros((4, 4, 3), np.uint8), probs, [1, 2], labels=given)
    np.testing.assert_array_equal(figure.axes[2].get_images()[0].get_array(), given)
    plt.close(figure)

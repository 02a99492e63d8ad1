"""gcseg.viz.metrics: the pictures of J and F show the numbers the library computes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gcseg.evaluation import AttributeRow, ObjectResult
from gcseg.metrics import (
    boundary_map,
    boundary_precision_recall,
    contour_accuracy,
    region_similarity,
    sequence_statistics,
)
from gcseg.viz.metrics import (
    COLOURS,
    attribute_figure,
    boundary_figure,
    boundary_match,
    boundary_picture,
    crop_window,
    per_frame_figure,
    region_figure,
    region_picture,
    shift_curves_figure,
    shifted_squares,
    statistics_figure,
    tolerance_disk,
)


@pytest.mark.parametrize("shift", [0, 1, 4, 10, 40])
def test_shifted_squares_give_the_hand_computed_j(shift):
    pred, gt = shifted_squares((120, 200), side=40, shift=shift)
    assert pred.shape == gt.shape == (120, 200) and pred.dtype == bool
    assert pred.sum() == gt.sum() == 1600
    assert region_similarity(pred, gt) == pytest.approx((40 - shift) / (40 + shift))


def test_shifted_squares_down_and_placement():
    pred, gt = shifted_squares((50, 50), side=10, shift=3, top_left=(5, 7), direction="down")
    assert np.argwhere(gt).min(0).tolist() == [5, 7]
    assert np.argwhere(pred).min(0).tolist() == [8, 7]
    with pytest.raises(ValueError, match="do not fit"):
        shifted_squares((50, 50), side=10, shift=45)


def test_crop_window():
    mask = np.zeros((30, 40), bool)
    mask[10:12, 20:25] = True
    rows, cols = crop_window(mask, margin=3)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (7, 15, 17, 28)
    rows, cols = crop_window(np.zeros((30, 40)), margin=3)
    assert (rows.stop, cols.stop) == (30, 40)


def test_region_picture_colours_each_case():
    pred, gt = shifted_squares((40, 60), side=10, shift=4)
    void = np.zeros((40, 60), bool)
    void[0, 0] = True
    picture = region_picture(pred, gt, void)
    assert picture.shape == (40, 60, 3) and picture.dtype == np.uint8
    colours = {name: np.all(picture == COLOURS[name], axis=-1) for name in COLOURS}
    assert colours["true_positive"].sum() == (pred & gt).sum() == 60
    assert colours["false_positive"].sum() == (pred & ~gt).sum() == 40
    assert colours["false_negative"].sum() == (gt & ~pred).sum() == 40
    assert colours["void"].sum() == 1


def test_region_figure_title_holds_the_library_j():
    pred, gt = shifted_squares((60, 80), side=20, shift=5)
    fig = region_figure(pred, gt)
    title = fig._suptitle.get_text()
    assert "300 / 500" in title and f"{region_similarity(pred, gt):.4f}" in title
    assert len(fig.axes) == 4
    plt.close(fig)


@pytest.mark.parametrize("shift", [0, 2, 5, 9])
def test_boundary_match_agrees_with_the_library(shift):
    pred, gt = shifted_squares((240, 432), side=40, shift=shift)  # tolerance 4 px
    match = boundary_match(pred, gt)
    assert match.radius == 4
    np.testing.assert_array_equal(match.pred_boundary, boundary_map(pred))
    np.testing.assert_array_equal(match.gt_boundary, boundary_map(gt))
    counts = match.counts
    precision, recall = boundary_precision_recall(pred, gt)
    assert counts["pred_matched"] / counts["pred"] == pytest.approx(precision)
    assert counts["gt_matched"] / counts["gt"] == pytest.approx(recall)
    assert (match.precision, match.recall) == pytest.approx((precision, recall))
    assert match.f == pytest.approx(contour_accuracy(pred, gt))
    assert match.gt_band[match.gt_boundary].all()  # a band covers its own boundary
    assert match.gt_band.sum() > match.gt_boundary.sum()
    expected_f = 1.0 if shift <= 4 else pytest.approx(contour_accuracy(pred, gt))
    assert match.f == expected_f


def test_boundary_match_with_void_and_degenerate_cases():
    pred, gt = shifted_squares((60, 80), side=20, shift=2)
    void = np.zeros_like(gt)
    void[:, :40] = True
    match = boundary_match(pred, gt, void)
    assert match.f == pytest.approx(contour_accuracy(pred, gt, void))
    empty = np.zeros_like(gt)
    match = boundary_match(empty, gt)
    assert (match.precision, match.recall, match.f) == (1.0, 0.0, 0.0)


def test_tolerance_disk():
    disk = tolerance_disk(4)
    assert disk.shape == (9, 9) and disk[4, 4] and not disk[0, 0]
    assert disk.sum() == 49


def test_boundary_picture_and_figure():
    pred, gt = shifted_squares((240, 432), side=40, shift=6)
    match = boundary_match(pred, gt)
    picture = boundary_picture(match, "precision")
    assert picture.shape == (240, 432, 3)
    matched = np.all(picture == COLOURS["matched"], axis=-1)
    unmatched = np.all(picture == COLOURS["unmatched"], axis=-1)
    assert matched.sum() == match.counts["pred_matched"]
    assert unmatched.sum() == match.counts["pred"] - match.counts["pred_matched"]
    recall_picture = boundary_picture(match, "recall")
    assert np.all(recall_picture == COLOURS["matched"], axis=-1).sum() == \
        match.counts["gt_matched"]
    assert boundary_picture(match, "both").shape == (240, 432, 3)
    with pytest.raises(ValueError):
        boundary_picture(match, "nope")
    fig = boundary_figure(pred, gt)
    assert f"{match.f:.4f}" in fig._suptitle.get_text()
    assert len(fig.axes) == 3
    plt.close(fig)


def test_statistics_figure_title_holds_the_library_statistics():
    x = np.linspace(1.0, 0.0, 21)
    fig = statistics_figure(x, "F")
    mean, recall, decay = sequence_statistics(x)
    title = fig.axes[0].get_title()
    assert f"mean {mean:.3f}" in title and f"recall {recall:.3f}" in title
    assert f"decay {decay:.3f}" in title
    plt.close(fig)
    with pytest.raises(ValueError):
        statistics_figure(np.array([]))


def test_per_frame_and_attribute_figures():
    names = [f"{i:05d}" for i in range(1, 6)]
    objects = [ObjectResult.from_per_frame("v", k, names, np.linspace(1, 0.5, 5),
                                           np.linspace(0.9, 0.2, 5)) for k in (1, 2)]
    fig = per_frame_figure(objects, title="v")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4, 5])
    plt.close(fig)
    rows = [AttributeRow("OCC", 2, 0.5, 0.6, 0.4), AttributeRow("all", 3, 0.7, 0.8, 0.6)]
    fig = attribute_figure(rows)
    bars = [patch.get_width() for patch in fig.axes[0].patches]
    assert bars == pytest.approx([0.6, 0.8, 0.4, 0.6])
    plt.close(fig)
    with pytest.raises(ValueError):
        per_frame_figure([])


def test_shift_curves_figure_plots_library_values():
    fig = shift_curves_figure([0, 4, 5, 10])
    j_line, f_line = fig.axes[0].get_lines()[:2]
    np.testing.assert_allclose(j_line.get_ydata(), [1, 36 / 44, 35 / 45, 30 / 50])
    f = f_line.get_ydata()
    assert f[0] == f[1] == 1.0 and f[2] < 1.0
    plt.close(fig)

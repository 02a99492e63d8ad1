"""Tests of gcseg.metrics against worked examples counted by hand.

Conventions used below (derived from the seg2bmap rule, see test_boundary_map_square): the
boundary of a filled rectangle with rows a..b and columns c..d is the one-pixel outline of the
rectangle with rows a-1..b and columns c-1..d. On a 20x20 image the F tolerance is
ceil(0.008 * 28.28) = 1 pixel, and skimage's disk(1) is a plus-shaped cross: a boundary pixel is
matched when it or one of its four direct neighbours is a boundary pixel of the other mask.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gcseg.metrics import (
    boundary_map,
    boundary_precision_recall,
    contour_accuracy,
    decay_bins,
    region_similarity,
    sequence_statistics,
    tolerance_radius,
)


def square(rows: tuple[int, int], cols: tuple[int, int], size: int = 20) -> np.ndarray:
    """(size, size) uint8 mask with ones on rows[0]..rows[1] and cols[0]..cols[1] (inclusive)."""
    mask = np.zeros((size, size), np.uint8)
    mask[rows[0] : rows[1] + 1, cols[0] : cols[1] + 1] = 1
    return mask


def outline(rows: tuple[int, int], cols: tuple[int, int], size: int = 20) -> np.ndarray:
    """(size, size) bool one-pixel outline of the rectangle rows x cols (inclusive)."""
    filled = square(rows, cols, size).astype(bool)
    inner = np.zeros_like(filled)
    inner[rows[0] + 1 : rows[1], cols[0] + 1 : cols[1]] = True
    return filled & ~inner


# --------------------------------------------------------------------------- J


def test_j_square_shifted_two_pixels():
    gt = square((5, 14), (5, 14))  # 10x10 = 100 px
    pred = square((5, 14), (7, 16))  # shifted 2 px right
    # intersection: 10 rows x 8 cols = 80; union: 100 + 100 - 80 = 120
    assert region_similarity(pred, gt) == pytest.approx(80 / 120)
    assert region_similarity(gt, pred) == pytest.approx(80 / 120)


def test_j_empty_cases():
    empty = np.zeros((20, 20), np.uint8)
    assert region_similarity(empty, empty) == 1.0
    assert region_similarity(empty, square((5, 14), (5, 14))) == 0.0
    assert region_similarity(square((5, 14), (5, 14)), empty) == 0.0


def test_j_void_pixels_are_excluded():
    gt = square((5, 14), (5, 14))
    pred = square((5, 14), (7, 16))
    void = np.zeros((20, 20), bool)
    void[:, 15:17] = True  # the 20 pixels that only the prediction covers
    # intersection 80; union 120 - 20 = 100
    assert region_similarity(pred, gt, void) == pytest.approx(0.8)
    # every pixel void: the union is empty -> 1
    assert region_similarity(pred, gt, np.ones((20, 20), bool)) == 1.0


def test_j_nonbinary_ids_count_as_foreground():
    gt = square((5, 14), (5, 14)) * 3
    assert region_similarity(gt * 2, gt) == 1.0


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"\(20, 20\).*\(10, 20\)"):
        region_similarity(np.zeros((20, 20)), np.zeros((10, 20)))
    with pytest.raises(ValueError, match="void"):
        contour_accuracy(np.zeros((20, 20)), np.zeros((20, 20)), np.zeros((5, 5)))


# --------------------------------------------------------------------------- boundary map


def test_boundary_map_square():
    mask = np.array(
        [
            [0, 0, 0, 0, 0, 0],
            [0, 1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
        ]
    )
    # a pixel is boundary when it differs from its E, S or SE neighbour:
    # (0,0) differs from SE (1,1); (0,1..3) from S; (1..3,0) from E; (1..2,3) from E (0);
    # (3,1..3) from S; interior (1..2, 1..2) equals all three neighbours.
    expected = np.array(
        [
            [1, 1, 1, 1, 0, 0],
            [1, 0, 0, 1, 0, 0],
            [1, 0, 0, 1, 0, 0],
            [1, 1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
        ],
        bool,
    )
    result = boundary_map(mask)
    assert result.dtype == bool
    np.testing.assert_array_equal(result, expected)
    assert result.sum() == 12


def test_boundary_map_last_row_and_column_rules():
    mask = np.array(
        [
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 1, 1],
            [0, 0, 1, 1],
        ]
    )
    # (1,1): SE is foreground; (1,2), (1,3): S is foreground (last column: S only);
    # (2,1): E is foreground; (3,1): last row, E is foreground.
    # (2,3): last column, S is foreground too -> not boundary, although E (outside) is 0;
    # (3,2): last row, E is foreground -> not boundary, although S (outside) is 0;
    # (3,3): the corner is never boundary.
    expected = np.array(
        [
            [0, 0, 0, 0],
            [0, 1, 1, 1],
            [0, 1, 0, 0],
            [0, 1, 0, 0],
        ],
        bool,
    )
    np.testing.assert_array_equal(boundary_map(mask), expected)
    assert not boundary_map(np.ones((5, 7))).any()
    assert not boundary_map(np.zeros((5, 7))).any()


def test_boundary_map_rectangle_outline_convention():
    np.testing.assert_array_equal(boundary_map(square((5, 14), (5, 14))), outline((4, 14), (4, 14)))


# --------------------------------------------------------------------------- F


def test_tolerance_radius():
    assert tolerance_radius((480, 854)) == 8  # ceil(0.008 * 979.6) = ceil(7.84)
    assert tolerance_radius((20, 20)) == 1  # ceil(0.226)
    assert tolerance_radius((100, 200)) == 2  # ceil(1.79)
    assert tolerance_radius((20, 20), bound_th=3) == 3  # >= 1: pixels


def test_f_identical_masks():
    gt = square((5, 14), (5, 14))
    assert contour_accuracy(gt, gt) == 1.0


def test_f_shift_within_tolerance_is_perfect():
    gt = square((5, 14), (5, 14))
    # tolerance 1 px: the predicted outline is the true one moved 1 px sideways
    assert contour_accuracy(square((5, 14), (6, 15)), gt) == 1.0
    # tolerance given in pixels (2) and a 2 px shift
    assert contour_accuracy(square((5, 14), (7, 16)), gt, bound_th=2) == 1.0


def test_f_shift_beyond_tolerance_by_hand():
    gt = square((5, 14), (5, 14))  # boundary: outline rows 4..14, cols 4..14 (40 px)
    pred = square((5, 14), (8, 17))  # boundary: outline rows 4..14, cols 7..17 (40 px)
    # Predicted boundary within the 1-px cross of the true one:
    #   top row 4, cols 7..14 on it (8) + col 15 next to (4,14) (1)      =  9
    #   bottom row 14, likewise                                          =  9
    #   left col 7, rows 5..13: only rows 5 and 13 (next to rows 4, 14)  =  2
    #   right col 17: none                                                =  0
    # precision = 20 / 40; by symmetry recall = 20 / 40.
    precision, recall = boundary_precision_recall(pred, gt)
    assert precision == pytest.approx(0.5)
    assert recall == pytest.approx(0.5)
    assert contour_accuracy(pred, gt) == pytest.approx(0.5)


def test_f_square_ring_against_filled_square():
    filled = square((2, 17), (2, 17))  # 16x16
    ring = filled.copy()
    ring[7:13, 7:13] = 0  # 6x6 hole at rows/cols 7..12
    # ring boundary = outer outline rows/cols 1..17 (64 px) + hole outline rows/cols 6..12
    # (24 px); the filled square has the outer outline only, so the 24 inner pixels are
    # unmatched: P = 64/88 = 8/11, R = 64/64 = 1, F = 2PR/(P+R) = 16/19.
    bnd = boundary_map(ring)
    assert bnd.sum() == 88
    np.testing.assert_array_equal(bnd, outline((1, 17), (1, 17)) | outline((6, 12), (6, 12)))
    precision, recall = boundary_precision_recall(ring, filled)
    assert precision == pytest.approx(8 / 11)
    assert recall == 1.0
    assert contour_accuracy(ring, filled) == pytest.approx(16 / 19)
    assert region_similarity(ring, filled) == pytest.approx(220 / 256)


def test_f_round_annulus_against_its_disk():
    yy, xx = np.mgrid[:64, :64]
    radius = np.hypot(yy - 32, xx - 32)
    disk_mask = radius <= 20
    annulus = disk_mask & (radius > 10)
    hole = radius <= 10
    n_outer = boundary_map(disk_mask).sum()
    n_total = boundary_map(annulus).sum()
    # the annulus boundary is the disk's plus the hole's (disjoint)
    assert n_total == n_outer + boundary_map(hole).sum()
    precision, recall = boundary_precision_recall(annulus, disk_mask)
    assert precision == pytest.approx(n_outer / n_total)
    assert recall == 1.0


def test_f_empty_and_degenerate_cases():
    empty = np.zeros((20, 20), np.uint8)
    sq = square((5, 14), (5, 14))
    assert boundary_precision_recall(empty, empty) == (1.0, 1.0)
    assert contour_accuracy(empty, empty) == 1.0
    assert boundary_precision_recall(empty, sq) == (1.0, 0.0)  # no predicted boundary
    assert contour_accuracy(empty, sq) == 0.0
    assert boundary_precision_recall(sq, empty) == (0.0, 1.0)  # no true boundary
    assert contour_accuracy(sq, empty) == 0.0
    # a full-image prediction has no boundary at all: P = 1, R = 0
    assert boundary_precision_recall(np.ones((20, 20)), sq) == (1.0, 0.0)
    # boundaries far apart: P = R = 0 -> F = 0
    assert contour_accuracy(square((1, 4), (1, 4)), square((12, 17), (12, 17))) == 0.0


def test_f_void_pixels_are_background():
    gt = square((2, 9), (2, 9))
    pred = gt | square((14, 17), (14, 17))  # an extra blob
    void = square((13, 18), (13, 18)).astype(bool)  # covers the blob and its boundary
    assert contour_accuracy(pred, gt) < 1.0
    assert contour_accuracy(pred, gt, void) == 1.0
    assert region_similarity(pred, gt, void) == 1.0


# --------------------------------------------------------------------------- statistics


def test_decay_bins_official_rounding():
    # N = 7: linspace(1, 7, 5) = 1, 2.5, 4, 5.5, 7; +1e-10 rounds the halves up -> ids 0,2,3,5,6
    assert decay_bins(7) == [slice(0, 3), slice(2, 4), slice(3, 6), slice(5, 7)]
    # N = 8: 1, 2.75, 4.5, 6.25, 8 -> 1, 3, 5, 6, 8 -> ids 0, 2, 4, 5, 7
    assert decay_bins(8) == [slice(0, 3), slice(2, 5), slice(4, 6), slice(5, 8)]
    assert decay_bins(1) == [slice(0, 1)] * 4


def test_sequence_statistics_by_hand():
    x = np.array([1.0, 0.8, 0.5, 0.4, 0.9, 0.2, 0.0])
    mean, recall, decay = sequence_statistics(x)
    assert mean == pytest.approx(3.8 / 7)
    assert recall == pytest.approx(3 / 7)  # 1.0, 0.8, 0.9; 0.5 is not > 0.5
    # first bin x[0:3] = (1, .8, .5) -> 2.3/3; last bin x[5:7] = (.2, 0) -> 0.1
    assert decay == pytest.approx(2.3 / 3 - 0.1)


def test_sequence_statistics_nan_and_short():
    mean, recall, decay = sequence_statistics(np.array([1.0, np.nan, 0.0]))
    assert mean == pytest.approx(0.5)
    assert recall == pytest.approx(1 / 3)  # a NaN frame is a miss
    # N = 3: bins x[0:2], x[1:2], x[1:3], x[2:3] -> nanmean(1, nan) - 0 = 1
    assert decay == pytest.approx(1.0)
    assert sequence_statistics(np.array([0.7])) == (pytest.approx(0.7), 1.0, 0.0)
    assert all(math.isnan(v) for v in sequence_statistics(np.array([])))

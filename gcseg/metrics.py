"""DAVIS video object segmentation metrics: region similarity J and contour accuracy F.

The paper reports its results (Section IV, Tables I-VII) with the DAVIS protocol: the region
similarity ``J`` (intersection over union), the contour accuracy ``F`` (a boundary F-measure) and,
for each of them, the *mean*, the *recall* (fraction of frames scoring above 0.5) and the *decay*
(score on the first quarter of the frames minus score on the last quarter).

Everything here follows the official DAVIS evaluation code (``davis2017-evaluation``:
``db_eval_iou``, ``f_measure``, ``_seg2bmap``, ``db_statistics``) so that numbers computed with
``gcseg`` can be compared with published ones. The functions are pure numpy (plus OpenCV's
dilation and scikit-image's disk, as in the official code) and do no I/O.
"""

from __future__ import annotations

import math
import warnings

import cv2
import numpy as np
from skimage.morphology import disk

__all__ = [
    "boundary_map",
    "boundary_precision_recall",
    "contour_accuracy",
    "region_similarity",
    "sequence_statistics",
    "tolerance_radius",
]


def _check_shapes(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None) -> None:
    """Raise a ValueError naming the shapes when the masks do not have one common (H, W) shape."""
    if pred.ndim != 2:
        raise ValueError(f"masks must be 2-D (H, W) arrays, got prediction of shape {pred.shape}")
    if pred.shape != gt.shape:
        raise ValueError(
            f"prediction shape {pred.shape} does not match ground-truth shape {gt.shape}"
        )
    if void is not None and np.shape(void) != gt.shape:
        raise ValueError(
            f"void mask shape {np.shape(void)} does not match ground-truth shape {gt.shape}"
        )


def region_similarity(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None) -> float:
    """Region similarity ``J = |pred ∩ gt| / |pred ∪ gt|`` (the Jaccard index).

    Args:
        pred: (H, W) predicted mask; any non-zero value is foreground.
        gt: (H, W) ground-truth mask; any non-zero value is foreground.
        void: optional (H, W) mask of pixels excluded from both sets (DAVIS "void" label 255).

    Returns:
        J in [0, 1]. Two empty masks (an empty union) score 1, as in the official ``db_eval_iou``.
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    _check_shapes(pred, gt, void)
    pred_b = pred.astype(bool)  # (H, W)
    gt_b = gt.astype(bool)  # (H, W)
    keep = np.ones_like(gt_b) if void is None else ~np.asarray(void).astype(bool)  # (H, W)
    inter = np.count_nonzero(pred_b & gt_b & keep)
    union = np.count_nonzero((pred_b | gt_b) & keep)
    if union == 0:
        return 1.0
    return inter / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary of a binary mask, as the official ``seg2bmap``.

    A pixel is a boundary pixel when it differs from its right (east), bottom (south) or
    bottom-right (south-east) neighbour; neighbours outside the image count as background. The
    official code then treats the last row and the last column specially:

    - a pixel of the last row is boundary iff it differs from its right neighbour;
    - a pixel of the last column is boundary iff it differs from its bottom neighbour;
    - the bottom-right corner pixel is never boundary.

    Only right, bottom and bottom-right neighbours are looked at, so an object touching the image
    border has no boundary along the border itself. Boundary pixels sit half a pixel towards the
    origin from the true edge: on the foreground side of right and bottom edges, on the
    background side of left and top edges.

    Args:
        mask: (H, W) mask; any non-zero value is foreground.

    Returns:
        (H, W) bool boundary map.
    """
    seg = np.asarray(mask).astype(bool)  # (H, W)
    if seg.ndim != 2:
        raise ValueError(f"boundary_map needs a 2-D (H, W) mask, got shape {seg.shape}")
    east = np.zeros_like(seg)
    south = np.zeros_like(seg)
    south_east = np.zeros_like(seg)
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]

    bmap = (seg ^ east) | (seg ^ south) | (seg ^ south_east)  # (H, W)
    bmap[-1, :] = seg[-1, :] ^ east[-1, :]
    bmap[:, -1] = seg[:, -1] ^ south[:, -1]
    bmap[-1, -1] = False
    return bmap


def tolerance_radius(shape: tuple[int, int], bound_th: float = 0.008) -> float:
    """Matching tolerance of the contour accuracy, in pixels.

    ``ceil(bound_th * ||(H, W)||)`` (a fraction of the image diagonal) when ``bound_th < 1``, else
    ``bound_th`` itself (already in pixels). For a 480×854 DAVIS frame and the default 0.008 this
    is 8 pixels.
    """
    if bound_th >= 1:
        return float(bound_th)
    return float(math.ceil(bound_th * math.hypot(shape[0], shape[1])))


def _dilate(bmap: np.ndarray, radius: float) -> np.ndarray:
    """Dilate a (H, W) bool map with a disk of ``radius`` (OpenCV dilation, skimage disk)."""
    kernel = disk(radius).astype(np.uint8)  # (2r+1, 2r+1)
    return cv2.dilate(bmap.astype(np.uint8), kernel).astype(bool)  # (H, W)


def boundary_precision_recall(
    pred: np.ndarray,
    gt: np.ndarray,
    void: np.ndarray | None = None,
    bound_th: float = 0.008,
) -> tuple[float, float]:
    """Boundary precision and recall behind :func:`contour_accuracy`.

    Precision = fraction of predicted boundary pixels within the tolerance of a ground-truth
    boundary pixel; recall = fraction of ground-truth boundary pixels within the tolerance of a
    predicted one. Void pixels are set to background before the boundaries are taken. Special
    cases, as official: no predicted boundary but a ground-truth one → (1, 0); a predicted boundary
    but no ground-truth one → (0, 1); neither → (1, 1).
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    _check_shapes(pred, gt, void)
    keep = np.ones(gt.shape, bool) if void is None else ~np.asarray(void).astype(bool)  # (H, W)
    pred_bnd = boundary_map(pred.astype(bool) & keep)  # (H, W)
    gt_bnd = boundary_map(gt.astype(bool) & keep)  # (H, W)
    n_pred = int(np.count_nonzero(pred_bnd))
    n_gt = int(np.count_nonzero(gt_bnd))
    if n_pred == 0 and n_gt > 0:
        return 1.0, 0.0
    if n_pred > 0 and n_gt == 0:
        return 0.0, 1.0
    if n_pred == 0 and n_gt == 0:
        return 1.0, 1.0
    radius = tolerance_radius(gt.shape, bound_th)
    pred_matched = np.count_nonzero(pred_bnd & _dilate(gt_bnd, radius))
    gt_matched = np.count_nonzero(gt_bnd & _dilate(pred_bnd, radius))
    return pred_matched / n_pred, gt_matched / n_gt


def contour_accuracy(
    pred: np.ndarray,
    gt: np.ndarray,
    void: np.ndarray | None = None,
    bound_th: float = 0.008,
) -> float:
    """Contour accuracy ``F = 2PR / (P + R)``, the DAVIS boundary F-measure.

    Boundaries come from :func:`boundary_map`; a boundary pixel is matched when a boundary pixel
    of the other mask lies within a disk of radius :func:`tolerance_radius` (matching by
    dilation, as the official ``f_measure``). See :func:`boundary_precision_recall` for the
    precision/recall special cases; ``P + R = 0`` gives ``F = 0``.

    Args:
        pred: (H, W) predicted mask (non-zero = foreground).
        gt: (H, W) ground-truth mask (non-zero = foreground).
        void: optional (H, W) mask of void pixels, set to background in both masks.
        bound_th: tolerance as a fraction of the image diagonal (< 1) or in pixels (>= 1).

    Returns:
        F in [0, 1].
    """
    precision, recall = boundary_precision_recall(pred, gt, void, bound_th)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def decay_bins(n: int) -> list[slice]:
    """The four (overlapping) frame bins of the DAVIS decay, as slices of a length-``n`` array.

    ``ids = round(linspace(1, n, 5) + 1e-10) - 1`` and bin ``i`` is ``ids[i] : ids[i+1] + 1``
    (neighbouring bins share their edge frame). The official code casts ``ids`` to ``uint8``,
    which wraps around above 256 frames; this uses plain integers (identical on DAVIS, whose
    sequences are shorter).
    """
    ids = (np.round(np.linspace(1, n, 5) + 1e-10) - 1).astype(int)
    return [slice(int(ids[i]), int(ids[i + 1]) + 1) for i in range(4)]


def sequence_statistics(per_frame: np.ndarray) -> tuple[float, float, float]:
    """Mean, recall and decay of a per-frame score (J or F) over one object's frames.

    - mean = ``nanmean(x)``;
    - recall = ``nanmean(x > 0.5)`` (a NaN frame counts as a miss, as official);
    - decay = ``nanmean(first bin) - nanmean(last bin)`` over the 4 bins of :func:`decay_bins`.

    Args:
        per_frame: (T,) per-frame scores, NaN allowed.

    Returns:
        (mean, recall, decay); NaN where undefined (e.g. an empty array).
    """
    x = np.asarray(per_frame, dtype=float).ravel()  # (T,)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    bins = decay_bins(x.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = float(np.nanmean(x))
        recall = float(np.nanmean(x > 0.5))
        decay = float(np.nanmean(x[bins[0]]) - np.nanmean(x[bins[3]]))
    return mean, recall, decay

"""Pictures of the DAVIS measures: J drawn as intersection / union, F as boundary matching.

The numbers always come from :mod:`gcseg.metrics` (the evaluator's code); this module only draws
them. What the pictures show:

- :func:`region_picture` / :func:`region_figure` -- ``J = |P ∩ G| / |P ∪ G|``: true positives,
  false positives and false negatives in three colours, the intersection and the union side by
  side with the counts.
- :func:`boundary_match` / :func:`boundary_figure` -- the contour accuracy ``F``: both
  one-pixel boundaries (:func:`gcseg.metrics.boundary_map`), the tolerance disk of radius
  :func:`gcseg.metrics.tolerance_radius`, the band it sweeps around each boundary (a dilation),
  and which boundary pixels fall inside the other's band (matched) or not: precision and recall.
- :func:`statistics_figure` -- mean, recall (> 0.5) and decay (first quarter minus last quarter)
  of one per-frame curve.
- :func:`per_frame_figure`, :func:`attribute_figure` -- an evaluation
  (:class:`~gcseg.evaluation.EvaluationResult`) drawn: per-frame J/F of one video, J and F per
  challenge attribute.

Every function returns a ``matplotlib.figure.Figure`` or a numpy array and never calls
``plt.show()``; close figures with ``plt.close(fig)`` when done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch
from skimage.morphology import disk

from gcseg.evaluation import AttributeRow, ObjectResult
from gcseg.metrics import (
    boundary_map,
    boundary_precision_recall,
    contour_accuracy,
    decay_bins,
    region_similarity,
    sequence_statistics,
    tolerance_radius,
)

__all__ = [
    "BoundaryMatch",
    "COLOURS",
    "attribute_figure",
    "boundary_figure",
    "boundary_match",
    "boundary_picture",
    "crop_window",
    "per_frame_figure",
    "region_figure",
    "region_picture",
    "shift_curves_figure",
    "shifted_squares",
    "statistics_figure",
    "tolerance_disk",
]

COLOURS: dict[str, tuple[int, int, int]] = {
    "background": (255, 255, 255),
    "true_positive": (60, 170, 60),  # in both: the intersection
    "false_positive": (220, 60, 60),  # predicted only
    "false_negative": (60, 110, 220),  # ground truth only
    "void": (170, 170, 170),
    "gt_boundary": (30, 30, 200),
    "pred_boundary": (240, 140, 0),
    "band": (255, 225, 150),
    "matched": (40, 160, 40),
    "unmatched": (220, 30, 30),
}
"""RGB colours of the pictures (the legend of every figure uses the same names)."""


def _bool(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"masks must be 2-D (H, W) arrays, got shape {mask.shape}")
    return mask.astype(bool)


def _paint(shape: tuple[int, int], layers: Sequence[tuple[np.ndarray, str]]) -> np.ndarray:
    """(H, W, 3) uint8 white image with each ``(mask, colour name)`` painted in order."""
    out = np.empty((*shape, 3), np.uint8)
    out[:] = COLOURS["background"]
    for mask, name in layers:
        out[mask] = COLOURS[name]
    return out


def shifted_squares(size: tuple[int, int] = (240, 432), side: int = 40, shift: int = 4,
                    top_left: tuple[int, int] | None = None,
                    direction: str = "right") -> tuple[np.ndarray, np.ndarray]:
    """``(prediction, ground_truth)``: a ``side`` x ``side`` square and the same square moved.

    The ground truth is centred (or starts at ``top_left`` = (row, col)); the prediction is the
    same square moved by ``shift`` pixels ``right`` or ``down``. Both are ``(H, W)`` bool. For a
    horizontal shift ``0 <= k <= side`` the intersection is ``side * (side - k)`` pixels and the
    union ``side * (side + k)``, so ``J = (side - k) / (side + k)``.
    """
    height, width = size
    if top_left is None:
        top_left = ((height - side) // 2, (width - side) // 2)
    row, col = top_left
    d_row, d_col = {"right": (0, shift), "down": (shift, 0)}[direction]
    if min(row, col, row + d_row, col + d_col) < 0 or max(row, row + d_row) + side > height or \
            max(col, col + d_col) + side > width:
        raise ValueError(f"the squares (side {side}, shift {shift}) do not fit in {size}")
    gt = np.zeros(size, bool)
    pred = np.zeros(size, bool)
    gt[row:row + side, col:col + side] = True
    pred[row + d_row:row + d_row + side, col + d_col:col + d_col + side] = True
    return pred, gt


def crop_window(*masks: np.ndarray, margin: int = 8) -> tuple[slice, slice]:
    """``(rows, cols)`` slices around the non-zero pixels of ``masks``, plus ``margin``.

    The whole image when all masks are empty.
    """
    union = np.zeros(np.shape(masks[0]), bool)
    for mask in masks:
        union |= _bool(mask)
    if not union.any():
        return slice(0, union.shape[0]), slice(0, union.shape[1])
    rows, cols = np.nonzero(union)
    r0, r1 = max(rows.min() - margin, 0), min(rows.max() + margin + 1, union.shape[0])
    c0, c1 = max(cols.min() - margin, 0), min(cols.max() + margin + 1, union.shape[1])
    return slice(int(r0), int(r1)), slice(int(c0), int(c1))


# --------------------------------------------------------------------------- J


def region_picture(pred: np.ndarray, gt: np.ndarray,
                   void: np.ndarray | None = None) -> np.ndarray:
    """``(H, W, 3)`` uint8: true positives green, false positives red, false negatives blue.

    Void pixels (excluded from J) are grey; everything else white.
    """
    pred_b, gt_b = _bool(pred), _bool(gt)
    if pred_b.shape != gt_b.shape:
        raise ValueError(f"prediction {pred_b.shape} and ground truth {gt_b.shape} differ")
    void_b = np.zeros_like(gt_b) if void is None else _bool(void)
    return _paint(gt_b.shape, [
        (pred_b & gt_b, "true_positive"),
        (pred_b & ~gt_b, "false_positive"),
        (~pred_b & gt_b, "false_negative"),
        (void_b, "void"),
    ])


def region_figure(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None,
                  crop: bool = True, margin: int = 8) -> Figure:
    """Four panels: ground truth, prediction, intersection, union; J in the title.

    ``J`` is :func:`gcseg.metrics.region_similarity`; the counts printed under the intersection
    and union panels are taken from the same masks (void pixels excluded), so the title reads
    ``J = |P ∩ G| / |P ∪ G| = a / b``.
    """
    pred_b, gt_b = _bool(pred), _bool(gt)
    keep = np.ones_like(gt_b) if void is None else ~_bool(void)
    inter = pred_b & gt_b & keep
    union = (pred_b | gt_b) & keep
    j = region_similarity(pred_b, gt_b, void)
    rows, cols = crop_window(pred_b, gt_b, margin=margin) if crop else (slice(None),) * 2
    void_b = ~keep
    panels = [
        ("ground truth G", _paint(gt_b.shape, [(gt_b, "false_negative"), (void_b, "void")])),
        ("prediction P", _paint(gt_b.shape, [(pred_b, "false_positive"), (void_b, "void")])),
        (f"P ∩ G: {int(inter.sum())} px", _paint(gt_b.shape, [(inter, "true_positive"),
                                                              (void_b, "void")])),
        (f"P ∪ G: {int(union.sum())} px", region_picture(pred_b, gt_b, void)),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    for ax, (title, picture) in zip(axes, panels, strict=True):
        ax.imshow(picture[rows, cols], interpolation="nearest")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"J = |P ∩ G| / |P ∪ G| = {int(inter.sum())} / {int(union.sum())} = {j:.4f}")
    handles = [Patch(color=np.array(COLOURS[n]) / 255, label=label) for n, label in (
        ("true_positive", "in both (∩)"), ("false_positive", "predicted only"),
        ("false_negative", "ground truth only"), ("void", "void (not scored)"))]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    return fig


# --------------------------------------------------------------------------- F


@dataclass
class BoundaryMatch:
    """Everything behind one contour accuracy ``F`` (all maps ``(H, W)`` bool).

    ``pred_band`` is the prediction's boundary dilated by the tolerance disk (the pixels within
    ``radius`` of it); a ground-truth boundary pixel inside it is *matched* (``gt_matched``) and
    counts for the recall. Symmetrically ``gt_band`` / ``pred_matched`` give the precision.
    ``precision``, ``recall`` and ``f`` are the library's values
    (:func:`gcseg.metrics.boundary_precision_recall`, :func:`gcseg.metrics.contour_accuracy`).
    """

    pred_boundary: np.ndarray
    gt_boundary: np.ndarray
    pred_band: np.ndarray
    gt_band: np.ndarray
    pred_matched: np.ndarray
    gt_matched: np.ndarray
    radius: float
    precision: float
    recall: float
    f: float

    @property
    def counts(self) -> dict[str, int]:
        """Pixel counts: ``pred``, ``pred_matched``, ``gt``, ``gt_matched``."""
        return {
            "pred": int(self.pred_boundary.sum()),
            "pred_matched": int(self.pred_matched.sum()),
            "gt": int(self.gt_boundary.sum()),
            "gt_matched": int(self.gt_matched.sum()),
        }


def tolerance_disk(radius: float) -> np.ndarray:
    """``(2r+1, 2r+1)`` bool: the disk a boundary pixel may be off by (scikit-image's ``disk``,
    the structuring element of the official ``f_measure``)."""
    return disk(radius).astype(bool)


def boundary_match(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None,
                   bound_th: float = 0.008) -> BoundaryMatch:
    """The boundaries, bands and matched pixels behind ``F`` (see :class:`BoundaryMatch`).

    As in :func:`gcseg.metrics.boundary_precision_recall`, void pixels are set to background
    before the boundaries are taken, and the bands are dilations with :func:`tolerance_disk`.
    """
    pred_b, gt_b = _bool(pred), _bool(gt)
    if pred_b.shape != gt_b.shape:
        raise ValueError(f"prediction {pred_b.shape} and ground truth {gt_b.shape} differ")
    keep = np.ones_like(gt_b) if void is None else ~_bool(void)
    pred_bnd = boundary_map(pred_b & keep)  # (H, W)
    gt_bnd = boundary_map(gt_b & keep)  # (H, W)
    radius = tolerance_radius(gt_b.shape, bound_th)
    kernel = tolerance_disk(radius).astype(np.uint8)
    pred_band = cv2.dilate(pred_bnd.astype(np.uint8), kernel).astype(bool)
    gt_band = cv2.dilate(gt_bnd.astype(np.uint8), kernel).astype(bool)
    precision, recall = boundary_precision_recall(pred_b, gt_b, void, bound_th)
    return BoundaryMatch(
        pred_boundary=pred_bnd, gt_boundary=gt_bnd, pred_band=pred_band, gt_band=gt_band,
        pred_matched=pred_bnd & gt_band, gt_matched=gt_bnd & pred_band, radius=radius,
        precision=float(precision), recall=float(recall),
        f=float(contour_accuracy(pred_b, gt_b, void, bound_th)),
    )


def boundary_picture(match: BoundaryMatch, side: str = "precision") -> np.ndarray:
    """``(H, W, 3)`` uint8 picture of one half of the matching.

    - ``"precision"``: the ground truth's band (light), its boundary (blue), and the predicted
      boundary pixels, green where matched (inside the band), red where not;
    - ``"recall"``: the prediction's band, its boundary (orange), and the ground-truth boundary
      pixels, green / red;
    - ``"both"``: the two boundaries only (ground truth blue, prediction orange, overlap green).
    """
    shape = match.gt_boundary.shape
    if side == "precision":
        return _paint(shape, [
            (match.gt_band, "band"), (match.gt_boundary, "gt_boundary"),
            (match.pred_boundary & ~match.pred_matched, "unmatched"),
            (match.pred_matched, "matched"),
        ])
    if side == "recall":
        return _paint(shape, [
            (match.pred_band, "band"), (match.pred_boundary, "pred_boundary"),
            (match.gt_boundary & ~match.gt_matched, "unmatched"),
            (match.gt_matched, "matched"),
        ])
    if side == "both":
        return _paint(shape, [
            (match.gt_boundary, "gt_boundary"), (match.pred_boundary, "pred_boundary"),
            (match.gt_boundary & match.pred_boundary, "matched"),
        ])
    raise ValueError(f"side must be 'precision', 'recall' or 'both', got {side!r}")


def boundary_figure(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None,
                    bound_th: float = 0.008, crop: bool = True, margin: int | None = None
                    ) -> Figure:
    """Three panels: both boundaries with the tolerance disk, precision, recall; F in the title.

    ``margin`` (default: the tolerance radius + 4) pads the crop around the two masks.
    """
    match = boundary_match(pred, gt, void, bound_th)
    counts = match.counts
    if margin is None:
        margin = int(match.radius) + 4
    rows, cols = crop_window(pred, gt, margin=margin) if crop else (slice(None),) * 2
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    panels = [
        ("both boundaries", boundary_picture(match, "both")),
        (f"precision: {counts['pred_matched']} / {counts['pred']} predicted boundary px\n"
         f"within {match.radius:g} px of the ground truth = {match.precision:.4f}",
         boundary_picture(match, "precision")),
        (f"recall: {counts['gt_matched']} / {counts['gt']} ground-truth boundary px\n"
         f"within {match.radius:g} px of the prediction = {match.recall:.4f}",
         boundary_picture(match, "recall")),
    ]
    for ax, (title, picture) in zip(axes, panels, strict=True):
        ax.imshow(picture[rows, cols], interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    points = np.argwhere(match.gt_boundary[rows, cols])
    if len(points):  # draw the tolerance disk on one ground-truth boundary pixel
        y, x = points[len(points) // 2]
        axes[0].add_patch(Circle((x, y), match.radius, fill=False, lw=1.5, color="black"))
        axes[0].set_title(f"both boundaries; circle: tolerance disk, r = {match.radius:g} px",
                          fontsize=9)
    fig.suptitle(f"F = 2PR / (P + R) = {match.f:.4f}")
    handles = [Patch(color=np.array(COLOURS[n]) / 255, label=label) for n, label in (
        ("gt_boundary", "ground-truth boundary"), ("pred_boundary", "predicted boundary"),
        ("band", "tolerance band"), ("matched", "matched"), ("unmatched", "unmatched"))]
    fig.legend(handles=handles, loc="lower center", ncol=5, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    return fig


def shift_curves_figure(shifts: Sequence[int], size: tuple[int, int] = (240, 432),
                        side: int = 40, bound_th: float = 0.008) -> Figure:
    """J and F of a square against itself moved right by each of ``shifts`` pixels.

    J falls smoothly, ``(side - k) / (side + k)``; F stays 1 while the shift is within the
    tolerance radius (dotted line) and then drops at once, because the two vertical edges stop
    matching. Both curves are the library's values.
    """
    shifts = list(shifts)
    j_values, f_values = [], []
    for shift in shifts:
        pred, gt = shifted_squares(size, side, shift)
        j_values.append(region_similarity(pred, gt))
        f_values.append(contour_accuracy(pred, gt, bound_th=bound_th))
    radius = tolerance_radius(size, bound_th)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(shifts, j_values, marker="o", label="J (region)")
    ax.plot(shifts, f_values, marker="s", label="F (boundary)")
    ax.axvline(radius, color="grey", ls=":", label=f"tolerance r = {radius:g} px")
    ax.set_xlabel("shift k (pixels)")
    ax.set_ylabel("score")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"a {side}x{side} square shifted by k pixels in a {size[0]}x{size[1]} frame")
    ax.legend()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- statistics


def statistics_figure(per_frame: np.ndarray, name: str = "J",
                      frames: Sequence[int] | None = None) -> Figure:
    """One per-frame score with its DAVIS statistics drawn on it.

    Frames above the 0.5 line count for the recall; the first and last of the four decay bins
    (:func:`gcseg.metrics.decay_bins`) are shaded with their means, whose difference is the
    decay. The numbers in the title are :func:`gcseg.metrics.sequence_statistics`.
    """
    x = np.asarray(per_frame, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("statistics_figure needs at least one frame")
    t = np.arange(x.size) if frames is None else np.asarray(frames)
    mean, recall, decay = sequence_statistics(x)
    bins = decay_bins(x.size)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for k, colour in ((0, "tab:green"), (3, "tab:purple")):
        span = t[bins[k]]
        ax.axvspan(span[0] - 0.5, span[-1] + 0.5, color=colour, alpha=0.12)
        ax.hlines(np.nanmean(x[bins[k]]), span[0] - 0.5, span[-1] + 0.5, colors=colour, lw=2,
                  label=f"bin {k + 1} mean {np.nanmean(x[bins[k]]):.3f}")
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    above = x > 0.5
    ax.plot(t, x, color="black", lw=1)
    ax.scatter(t[above], x[above], color="tab:blue", zorder=3, s=18, label="> 0.5 (recall)")
    ax.scatter(t[~above], x[~above], color="tab:red", zorder=3, s=18, label="<= 0.5")
    ax.axhline(mean, color="tab:blue", lw=1, ls="--", label=f"mean {mean:.3f}")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("frame")
    ax.set_ylabel(name)
    ax.set_title(f"{name}: mean {mean:.3f}, recall {recall:.3f}, decay {decay:.3f} "
                 f"(= bin 1 - bin 4)")
    ax.legend(loc="lower left", fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def per_frame_figure(objects: Sequence[ObjectResult], title: str | None = None) -> Figure:
    """Per-frame J (solid) and F (dashed) of the given objects (e.g. one video's).

    ``objects`` are rows of :attr:`gcseg.evaluation.EvaluationResult.objects`; the x axis is the
    frame number of the scored frames.
    """
    if not objects:
        raise ValueError("per_frame_figure needs at least one ObjectResult")
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for index, obj in enumerate(objects):
        colour = f"C{index % 10}"
        frames = [int(name) if name.isdigit() else i for i, name in enumerate(obj.frame_names)]
        ax.plot(frames, obj.j_per_frame, color=colour, marker="o", ms=3,
                label=f"{obj.name} J (mean {obj.j_mean:.3f})")
        ax.plot(frames, obj.f_per_frame, color=colour, ls="--",
                label=f"{obj.name} F (mean {obj.f_mean:.3f})")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("frame")
    ax.set_ylabel("score")
    ax.set_title(title or "per-frame J and F")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def attribute_figure(rows: Sequence[AttributeRow], title: str | None = None) -> Figure:
    """Horizontal bars of J-Mean and F-Mean per challenge attribute (the ``all`` row last).

    ``rows`` is :attr:`gcseg.evaluation.EvaluationResult.attributes`; each label carries the
    number of objects the row averages over.
    """
    if not rows:
        raise ValueError("attribute_figure needs at least one AttributeRow")
    labels = [f"{r.attribute} ({r.objects} obj.)" for r in rows]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    ax.barh(y - 0.2, [r.j_mean for r in rows], height=0.4, label="J-Mean", color="tab:blue")
    ax.barh(y + 0.2, [r.f_mean for r in rows], height=0.4, label="F-Mean", color="tab:orange")
    for yi, row in zip(y, rows, strict=True):
        ax.text(max(row.j_mean, row.f_mean) + 0.01, yi, f"J&F {row.jf_mean:.3f}", va="center",
                fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("score")
    ax.set_title(title or "scores per challenge attribute")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig

"""Pictures of the Adaptive Search and its Judgment Module (paper III-B; notebook 07).

Helpers that turn a segmented video into per-frame arrays:

- :func:`absent_frames`, :func:`disappearing_objects` -- where an object's ground truth is empty
  (the DAVIS ``DR`` challenge: it disappears and comes back).
- :func:`record_scores` -- the judgment score and decision per frame of one object, from the
  :class:`~gcseg.inference.FrameRecord` list of a :class:`~gcseg.inference.VideoResult`.
- :func:`rejected_frames` -- the frames a threshold τ rejects, given the scores.
- :func:`j_per_frame` -- region similarity J of one object per frame.
- :func:`strip_frames` -- a few frame indices around a disappearance, for a filmstrip.

Figures (``matplotlib.figure.Figure`` made without pyplot; end a cell with one to show it):

- :func:`plot_judgment_boxes` -- the two boxes the module compares (:class:`BoxedMask`) and
  their cosine similarity.
- :func:`plot_judgment_scores` -- scores over time, τ, the absent and the rejected frames.
- :func:`plot_j_per_frame` -- J per frame of several runs (adaptive search on / off).
- :func:`plot_threshold_effect` -- all of it for one τ: what the explorer of
  :mod:`gcseg.widgets.judgment` draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gcseg.metrics import region_similarity
from gcseg.viz.frames import overlay, side_by_side

__all__ = [
    "BoxedMask",
    "absent_frames",
    "disappearing_objects",
    "j_per_frame",
    "plot_j_per_frame",
    "plot_judgment_boxes",
    "plot_judgment_scores",
    "plot_threshold_effect",
    "record_scores",
    "rejected_frames",
    "strip_frames",
]


# --------------------------------------------------------------------------- arrays


def absent_frames(masks: np.ndarray, object_id: int) -> np.ndarray:
    """``(T,)`` bool: frames where object ``object_id`` has no pixel in ``masks`` (T, H, W)."""
    masks = np.asarray(masks)
    return ~(masks == object_id).reshape(len(masks), -1).any(axis=1)


def disappearing_objects(masks: np.ndarray) -> dict[int, int]:
    """``{object id: absent frames}`` of the objects that vanish and come back (``DR``).

    An object counts when its mask is empty in some frame and non-empty in a later one; the
    value is the number of empty frames before its last reappearance.  Ids 0 and 255 are not
    objects.
    """
    masks = np.asarray(masks)
    found = {}
    for object_id in np.unique(masks):
        if object_id in (0, 255):
            continue
        absent = absent_frames(masks, int(object_id))
        present = np.flatnonzero(~absent)
        last = present[-1]
        gaps = int(absent[:last].sum())
        if gaps:
            found[int(object_id)] = gaps
    return found


def record_scores(records: Sequence, object_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, rejected)``, both ``(T,)``, for one object of a segmented video.

    ``scores[t]`` is the cosine similarity the Judgment Module computed at frame t (NaN at
    frame 0, without adaptive search, or where ``M_{t-1}`` was empty: no box); ``rejected[t]``
    is True where the module dropped ``M_{t-1}``.

    Args:
        records: :attr:`VideoResult.records <gcseg.inference.VideoResult.records>`.
        object_index: position of the object in ``VideoResult.object_ids``.
    """
    scores = np.full(len(records), np.nan)
    rejected = np.zeros(len(records), dtype=bool)
    for t, record in enumerate(records):
        if record.judgment_scores is not None:
            scores[t] = record.judgment_scores[object_index]
        if record.reliable is not None:
            rejected[t] = not record.reliable[object_index]
    return scores, rejected


def rejected_frames(scores: np.ndarray, threshold: float, start: int = 1) -> np.ndarray:
    """Indices ``t >= start`` where ``scores[t] >= threshold`` fails (NaN fails: no box).

    The rule of :class:`gcseg.model.JudgmentModule`: reliable when the score is at least τ.
    """
    scores = np.asarray(scores, dtype=float)
    with np.errstate(invalid="ignore"):
        reliable = scores >= threshold  # NaN compares False
    frames = np.flatnonzero(~reliable)
    return frames[frames >= start]


def j_per_frame(labels: np.ndarray, gt: np.ndarray, object_id: int) -> np.ndarray:
    """``(T,)`` J (IoU) of object ``object_id`` in predicted ``labels`` vs ``gt`` (T, H, W);
    a frame where both are empty scores 1 (DAVIS); ground-truth 255 is void."""
    labels, gt = np.asarray(labels), np.asarray(gt)
    if labels.shape != gt.shape:
        raise ValueError(f"labels {labels.shape} and ground truth {gt.shape} differ")
    return np.array([region_similarity(labels[t] == object_id, gt[t] == object_id, gt[t] == 255)
                     for t in range(len(gt))])


def strip_frames(absent: np.ndarray, count: int = 6) -> list[int]:
    """``count`` frame indices for a filmstrip: around the first disappearance and the
    reappearance when there is one (from the frame before it vanishes to two after it is
    back), else spread over the video."""
    absent = np.asarray(absent, dtype=bool)
    length = len(absent)
    gone = np.flatnonzero(absent)
    if gone.size and (~absent[gone[0]:]).any():
        back = gone[0] + int(np.flatnonzero(~absent[gone[0]:])[0])
        low, high = max(0, gone[0] - 1), min(length - 1, back + 2)
    else:
        low, high = 0, length - 1
    picks = np.unique(np.round(np.linspace(low, high, count)).astype(int))
    return [int(t) for t in picks]


# --------------------------------------------------------------------------- figures


def _figure_and_axes(ax, figsize: tuple[float, float]):
    """``(figure, ax)``: a new figure of ``figsize`` with one axes, or ``ax`` and its figure."""
    if ax is None:
        figure = Figure(figsize=figsize, layout="constrained")
        return figure, figure.subplots()
    return ax.figure, ax


def _shade(ax, absent: np.ndarray | None, label: str = "object absent (GT empty)") -> None:
    if absent is None:
        return
    first = True
    for t in np.flatnonzero(np.asarray(absent, dtype=bool)):
        ax.axvspan(t - 0.5, t + 0.5, color="0.85", zorder=0, label=label if first else None)
        first = False


def _draw_box(ax, box: Sequence[float], colour: str) -> None:
    x0, y0, x1, y1 = (float(v) for v in box)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                           edgecolor=colour, linewidth=2))


@dataclass(frozen=True)
class BoxedMask:
    """A frame, a mask over it and the mask's box, as the Judgment Module pools them.

    Attributes:
        frame: ``(H, W, 3)`` uint8; mask: ``(H, W)``, non-zero on the object.
        box: ``(x0, y0, x1, y1)`` image pixels (``x1`` one past the last column), or ``None``
            when the mask is empty.
    """

    frame: np.ndarray
    mask: np.ndarray
    box: Sequence[float] | None


def _show_boxed_mask(ax, boxed: BoxedMask, title: str) -> None:
    ax.imshow(overlay(boxed.frame, (np.asarray(boxed.mask) > 0).astype(np.uint8)))
    if boxed.box is not None:
        _draw_box(ax, boxed.box, "yellow")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_judgment_boxes(first: BoxedMask, current: BoxedMask, score: float, threshold: float,
                        t: int | None = None) -> Figure:
    """Frame 0 with ``M_0`` and its box, frame t with ``M_{t-1}`` and its box, and the verdict
    of ``score >= threshold`` (τ)."""
    figure = Figure(figsize=(9, 3.3), layout="constrained")
    left, right = figure.subplots(1, 2)
    _show_boxed_mask(left, first, "frame 0 with $M_0$: ROI-pool $F_0$ → $v_0$")
    name = "t" if t is None else str(t)
    _show_boxed_mask(right, current,
                     f"frame {name} with $M_{{t-1}}$: ROI-pool $F_t$ → $v_t$")
    verdict = "reliable" if np.isfinite(score) and score >= threshold else "unreliable"
    figure.suptitle(f"cos(v_0, v_t) = {score:.3f}, τ = {threshold:g}: {verdict}", fontsize=11)
    return figure


def plot_judgment_scores(scores: Mapping[str, np.ndarray] | np.ndarray, threshold: float,
                         absent: np.ndarray | None = None,
                         rejected: np.ndarray | None = None, title: str | None = None,
                         ax=None) -> Figure:
    """Judgment scores over time with τ, the absent frames shaded and the rejected marked.

    Args:
        scores: ``(T,)`` scores, or ``{label: (T,) scores}`` for several curves.  NaN (no
            score) is drawn as a tick under the curves where t >= 1 ("no box").
        threshold: τ, drawn as a dashed line.
        absent: ``(T,)`` bool, frames where the object's ground truth is empty.
        rejected: frame indices (or a ``(T,)`` bool) where ``M_{t-1}`` was dropped; red
            crosses on the first curve.  ``None``: the frames the first curve has below τ.
        ax: draw into this axes (the figure returned is its figure).
    """
    if not isinstance(scores, Mapping):
        scores = {"judgment score": np.asarray(scores, dtype=float)}
    figure, ax = _figure_and_axes(ax, (9, 3.2))
    _shade(ax, absent)
    first = None
    for k, (label, values) in enumerate(scores.items()):
        values = np.asarray(values, dtype=float)
        first = values if first is None else first
        line = ax.plot(np.arange(len(values)), values, marker="o", ms=3, label=label)[0]
        missing = [t for t in range(1, len(values)) if not np.isfinite(values[t])]
        if missing:  # no box: M_{t-1} empty; ticks under the curves, one row per curve
            ax.plot(missing, [-0.05 - 0.04 * k] * len(missing), marker="|", ls="none",
                    color=line.get_color(), ms=10, mew=2,
                    label="no score: empty $M_{t-1}$" if k == 0 else None)
    length = len(first)
    if rejected is None:
        rejected = rejected_frames(first, threshold)
    rejected = np.asarray(rejected)
    if rejected.dtype == bool:
        rejected = np.flatnonzero(rejected)
    if rejected.size:
        y = np.where(np.isfinite(first[rejected]), first[rejected], -0.05)
        ax.plot(rejected, y, marker="x", ls="none", color="red", ms=8, mew=2,
                label="rejected: $M_{t-1}$ zeroed")
    ax.axhline(threshold, color="black", ls="--", lw=1, label=f"τ = {threshold:g}")
    lows = [np.nanmin(v) for v in scores.values() if np.isfinite(v).any()]
    bottom = min([-0.1 - 0.04 * len(scores)] + [low - 0.05 for low in lows])
    ax.set(xlim=(-0.5, length - 0.5), ylim=(bottom, 1.05), xlabel="frame t",
           ylabel="cos(v_0, v_t)")
    ax.set_title(title or "Judgment Module score per frame", fontsize=10)
    ax.legend(fontsize=8, loc="lower left", ncol=2)
    return figure


def plot_j_per_frame(curves: Mapping[str, np.ndarray], absent: np.ndarray | None = None,
                     title: str | None = None, ax=None) -> Figure:
    """J per frame of several runs (``{label: (T,)}``), absent frames shaded; the legend
    gives each run's mean J over frames 1..T-2 (the frames DAVIS scores)."""
    figure, ax = _figure_and_axes(ax, (9, 3.0))
    _shade(ax, absent)
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        scored = values[1:-1] if len(values) > 2 else values
        ax.plot(np.arange(len(values)), values, marker="o", ms=3,
                label=f"{label} (mean J {np.mean(scored):.3f})")
    ax.set(ylim=(-0.05, 1.05), xlabel="frame t", ylabel="J (IoU)")
    ax.set_title(title or "region similarity J per frame", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return figure


def plot_threshold_effect(result, frames: Sequence[np.ndarray], gt: np.ndarray,
                          object_id: int, threshold: float,
                          strip: Sequence[int] | None = None) -> Figure:
    """One τ at a glance: scores and rejections, J per frame, and a filmstrip of the masks.

    Args:
        result: the :class:`~gcseg.inference.VideoResult` of a run with adaptive search at
            ``threshold``.
        frames: the video's frames (H, W, 3) uint8; ``gt``: its ground truth (T, H, W).
        object_id: the object to follow (one of ``result.object_ids``).
        strip: frames of the filmstrip (default :func:`strip_frames`).
    """
    gt = np.asarray(gt)
    index = list(result.object_ids).index(object_id)
    scores, rejected = record_scores(result.records, index)
    absent = absent_frames(gt, object_id)
    strip = list(strip) if strip is not None else strip_frames(absent)
    figure = Figure(figsize=(10, 8.2), layout="constrained")
    top, middle, bottom = figure.subplots(3, 1, height_ratios=[1.0, 0.9, 1.2])
    plot_judgment_scores({f"object {object_id}": scores}, threshold, absent,
                         np.flatnonzero(rejected), ax=top,
                         title=f"τ = {threshold:g}: {int(rejected.sum())} of "
                               f"{len(scores) - 1} frames rejected")
    j = j_per_frame(result.labels, gt, object_id)
    plot_j_per_frame({f"τ = {threshold:g}": j}, absent, ax=middle,
                     title=f"J of object {object_id} per frame")
    pictures = [overlay(frames[t], np.where(result.labels[t] == object_id, object_id, 0)
                        .astype(np.uint8)) for t in strip]
    bottom.imshow(side_by_side(pictures, gap=6))
    width = pictures[0].shape[1] + 6
    bottom.set_xticks([width * k + pictures[0].shape[1] / 2 for k in range(len(strip))])
    bottom.set_xticklabels([f"t={t}" + (" absent" if absent[t] else "")
                            + (" ✗" if rejected[t] else "") for t in strip], fontsize=8)
    bottom.set_yticks([])
    bottom.set_title(f"predicted mask of object {object_id} (✗: $M_{{t-1}}$ rejected)",
                     fontsize=10)
    return figure

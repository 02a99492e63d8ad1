"""Pictures of inference and evaluation (notebook 08; paper Section III-A-1, III-B, IV-A).

- :func:`fragment_bounds`, :func:`reference_matrix`, :func:`reference_timeline` -- which earlier
  frames each target frame used as references (frame 0 plus one frame from each of n even
  fragments), read from :attr:`gcseg.inference.VideoResult.records`.
- :func:`memory_growth_figure` -- what the reference cache costs against keeping feature maps.
- :func:`filmstrip`, :func:`frame_view` -- a segmented video as overlays (ground truth above,
  prediction below) and one frame in detail (the frame explorer draws it).
- :func:`per_frame_scores_figure`, :func:`attribute_figure` -- J and F frame by frame, and the
  J&F table by challenge attribute, from :class:`gcseg.evaluation.EvaluationResult`.
- :func:`merge_figure` -- merging K objects by argmax over ``[0.5, p_1, ..., p_K]``.

Plain functions: they return arrays or matplotlib figures and never call ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from gcseg.data.davis import PALETTE
from gcseg.inference.references import reference_fragments
from gcseg.viz.frames import label_strip, overlay

__all__ = [
    "attribute_figure",
    "filmstrip",
    "fragment_bounds",
    "frame_view",
    "memory_growth_figure",
    "merge_figure",
    "per_frame_scores_figure",
    "reference_matrix",
    "reference_timeline",
]


# --------------------------------------------------------------------------- references


def fragment_bounds(t: int, n: int) -> list[tuple[int, int]]:
    """``[(first, last), ...]``: the ``n`` even fragments of frames ``0..t-1`` (inclusive),
    those :func:`gcseg.inference.reference_fragments` draws the references from: with fewer
    than ``n`` frames there are as many fragments as frames; ``n = 0`` gives none.
    """
    return [(int(part[0]), int(part[-1])) for part in reference_fragments(t, n)]


def reference_matrix(records: Sequence, num_frames: int | None = None) -> np.ndarray:
    """``(T, T)`` int: entry ``[t, i]`` counts how often frame ``i`` was a reference of ``t``.

    ``records`` are :class:`gcseg.inference.FrameRecord` (anything with ``index`` and
    ``references``).  Frame 0 counts twice when it is also drawn from the first fragment.
    """
    count = num_frames if num_frames is not None else 1 + max(r.index for r in records)
    matrix = np.zeros((count, count), dtype=np.int64)
    for record in records:
        for reference in record.references:
            matrix[record.index, reference] += 1
    return matrix


def reference_timeline(records: Sequence, num_refs: int, num_frames: int | None = None,
                       title: str | None = None) -> Figure:
    """Target frame ``t`` (rows) against the frames it used as references (columns).

    Each row shades the ``num_refs`` even fragments of frames ``0..t-1`` in alternating
    greys, marks frame 0 (always a reference) with a star and the frame drawn from each
    fragment with a dot; a red cross at the row's end marks a frame whose ``M_{t-1}`` the
    Judgment Module rejected (a second backbone pass).
    """
    count = num_frames if num_frames is not None else 1 + max(r.index for r in records)
    figure, axis = plt.subplots(figsize=(min(14, 5 + 0.25 * count), min(9, 2.2 + 0.2 * count)))
    for record in records:
        t = record.index
        if t < 1:
            continue
        for k, (first, last) in enumerate(fragment_bounds(t, num_refs)):
            axis.add_patch(plt.Rectangle((first - 0.5, t - 0.4), last - first + 1, 0.8,
                                         color="0.85" if k % 2 == 0 else "0.7", lw=0))
        drawn = record.references[1:]
        axis.scatter(drawn, [t] * len(drawn), s=22, color="tab:blue", zorder=3)
        axis.scatter([0], [t], marker="*", s=60, color="tab:orange", zorder=4)
        axis.scatter([t], [t], marker="s", s=18, color="black", zorder=3)
        if record.backbone_passes > 1:
            axis.scatter([t + 0.9], [t], marker="x", s=30, color="tab:red", zorder=4)
    axis.set(xlim=(-0.7, count + 0.5), ylim=(count - 0.5, 0.5), xlabel="frame used as reference",
             ylabel="target frame t", title=title or f"references of each frame (n = {num_refs})")
    handles = [
        plt.Line2D([], [], marker="*", color="tab:orange", ls="", label="frame 0 (annotated)"),
        plt.Line2D([], [], marker="o", color="tab:blue", ls="", label="drawn from a fragment"),
        plt.Line2D([], [], marker="s", color="black", ls="", label="target frame"),
        Patch(color="0.78", label="fragments of 0..t-1"),
        plt.Line2D([], [], marker="x", color="tab:red", ls="", label="M_{t-1} rejected"),
    ]
    axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    return figure


def memory_growth_figure(per_frame: Mapping[str, int], num_frames: int,
                         bytes_per_number: int = 4) -> Figure:
    """Memory held after ``1..num_frames`` frames when each frame keeps ``per_frame[name]``
    numbers (log scale; 4 bytes per float32 number)."""
    frames = np.arange(1, num_frames + 1)
    figure, axis = plt.subplots(figsize=(6.5, 3.6))
    for name, numbers in per_frame.items():
        axis.plot(frames, frames * numbers * bytes_per_number, label=f"{name} ({numbers:,}/frame)")
    axis.set_yscale("log")
    for label, value in (("1 MB", 1e6), ("1 GB", 1e9)):
        axis.axhline(value, color="0.6", lw=0.8, ls=":")
        axis.text(frames[0], value * 1.15, label, color="0.4", fontsize=8)
    axis.set(xlabel="frames segmented", ylabel="bytes kept for references",
             title="memory of the references as the video goes on")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------- overlays


def filmstrip(frames: Sequence[np.ndarray], labels: Sequence[np.ndarray], indices: Sequence[int],
              ground_truth: Sequence[np.ndarray] | None = None, gap: int = 4) -> np.ndarray:
    """``(H', W', 3)`` uint8: overlays of frames ``indices`` side by side, the prediction
    ``labels``; with ``ground_truth``, its row above the prediction's."""
    bottom = label_strip(frames, labels, indices)
    if ground_truth is None:
        return bottom
    top = label_strip(frames, ground_truth, indices)
    return np.concatenate([top, np.full((gap, top.shape[1], 3), 255, np.uint8), bottom])


def _record_text(record) -> str:
    if record is None or not record.references:
        return "frame 0: the annotation M_0 (given)"
    text = f"references {record.references}"
    if record.judgment_scores is not None:
        scores = ", ".join(f"{s:.2f}" for s in record.judgment_scores)
        text += f"; judgment cos = [{scores}]"
        if record.backbone_passes > 1:
            text += " -> M_{t-1} dropped"
    return text


def frame_view(frame: np.ndarray, labels: np.ndarray, ground_truth: np.ndarray | None = None,
               probabilities: np.ndarray | None = None, record=None,
               index: int | None = None) -> Figure:
    """One frame in detail: prediction overlay, ground truth overlay (when given) and each
    object's probability (when ``probabilities`` ``(K, H, W)`` is given).  ``record`` (a
    :class:`gcseg.inference.FrameRecord`) adds the references and judgment scores."""
    panels = [("prediction", overlay(frame, labels))]
    if ground_truth is not None:
        panels.append(("ground truth", overlay(frame, ground_truth)))
    probs = [] if probabilities is None else list(probabilities)
    figure, axes = plt.subplots(1, len(panels) + len(probs),
                                figsize=(3.6 * (len(panels) + len(probs)), 3.2), squeeze=False)
    for axis, (name, picture) in zip(axes[0], panels, strict=False):
        axis.imshow(picture)
        axis.set_title(name)
    for k, (axis, prob) in enumerate(zip(axes[0][len(panels):], probs, strict=True)):
        shown = axis.imshow(prob, vmin=0, vmax=1, cmap="magma")
        axis.set_title(f"p of object {k + 1}")
        figure.colorbar(shown, ax=axis, fraction=0.046)
    for axis in axes[0]:
        axis.axis("off")
    frame_name = f"frame {index}: " if index is not None else ""
    figure.suptitle(frame_name + _record_text(record), fontsize=9)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------- scores


def _frame_numbers(names: Sequence[str]) -> np.ndarray:
    if all(name.isdigit() for name in names):
        return np.array([int(name) for name in names])
    return np.arange(1, len(names) + 1)


def per_frame_scores_figure(objects: Sequence, title: str | None = None) -> Figure:
    """J (left) and F (right) frame by frame for each :class:`~gcseg.evaluation.ObjectResult`
    (the scored frames: the first and last are not scored)."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
    for k, result in enumerate(objects):
        x = _frame_numbers(result.frame_names)
        colour = PALETTE[result.object_id] / 255 if result.object_id < 256 else None
        for axis, values in zip(axes, (result.j_per_frame, result.f_per_frame), strict=True):
            axis.plot(x, values, marker="o", ms=3, color=colour, label=result.name,
                      ls="-" if k % 2 == 0 else "--")
    for axis, name in zip(axes, ("J (region, IoU)", "F (contour accuracy)"), strict=True):
        axis.axhline(0.5, color="0.6", lw=0.8, ls=":")
        axis.set(xlabel="frame", title=name, ylim=(-0.03, 1.03))
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("score")
    axes[1].legend(fontsize=8, loc="best")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def attribute_figure(results: Mapping[str, object]) -> Figure:
    """J&F per challenge attribute, one bar per method: ``{method: EvaluationResult}``.

    Every result must come from the same videos (same attribute rows); the object count of
    each attribute is written under its name.
    """
    names = list(results)
    rows = results[names[0]].attributes
    if not rows:
        raise ValueError("the results have no attribute rows (no attributes.json)")
    codes = [row.attribute for row in rows]
    width = 0.8 / len(names)
    figure, axis = plt.subplots(figsize=(max(6, 0.9 * len(codes) * max(1, len(names) / 2)), 3.6))
    x = np.arange(len(codes))
    for m, name in enumerate(names):
        values = [row.jf_mean for row in results[name].attributes]
        if [row.attribute for row in results[name].attributes] != codes:
            raise ValueError(f"{name}: attribute rows differ from {names[0]}'s")
        axis.bar(x + (m - (len(names) - 1) / 2) * width, values, width, label=name)
    axis.set_xticks(x, [f"{row.attribute}\n({row.objects})" for row in rows])
    axis.set(ylabel="J&F", ylim=(0, 1), title="J&F by attribute (objects in brackets)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------- merging objects


def merge_figure(frame: np.ndarray, probabilities: np.ndarray, object_ids: Sequence[int],
                 labels: np.ndarray | None = None, background: float = 0.5) -> Figure:
    """How K binary predictions become one label map: each ``p_k`` (with its 0.5 contour),
    the winner of ``argmax([background, p_1, ..., p_K])`` per pixel, and its overlay.

    ``labels`` (the engine's output) is drawn when given; otherwise the argmax is computed.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)  # (K, H, W)
    stacked = np.concatenate([np.full_like(probabilities[:1], background), probabilities])
    winner = stacked.argmax(axis=0)  # (H, W): 0 background, k object k
    ids = np.array([0, *object_ids], dtype=np.uint8)
    merged = ids[winner] if labels is None else labels
    count = len(probabilities)
    figure, axes = plt.subplots(1, count + 2, figsize=(3.3 * (count + 2), 3.0), squeeze=False)
    axes = axes[0]
    for k, axis in enumerate(axes[:count]):
        axis.imshow(probabilities[k], vmin=0, vmax=1, cmap="magma")
        axis.contour(probabilities[k], levels=[background], colors="cyan", linewidths=0.8)
        axis.set_title(f"p_{k + 1} (object {object_ids[k]})")
    colours = ListedColormap(PALETTE[: int(ids.max()) + 1] / 255)
    axes[count].imshow(merged, cmap=colours, vmin=0, vmax=int(ids.max()),
                       interpolation="nearest")
    axes[count].set_title(f"argmax [{background}, p_1..p_{count}]")
    axes[count + 1].imshow(overlay(frame, merged))
    axes[count + 1].set_title("merged labels")
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    return figure

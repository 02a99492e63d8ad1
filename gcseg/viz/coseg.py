"""Pictures of the Co-segmentation Module (paper III-A-3; notebook 02).

The module attends each frame's features with the other frame's attention vector, level by
level: ``G1_l = F1_l ⊙ f2_l`` over the target and ``G2_l = F2_l ⊙ f1_l`` over the reference.
The figures show the vectors, the attended maps over the target and the co-segmentation-only
prediction M'_t, for one (target, reference) pair (:func:`gcseg.viz.probe.run_pair`) or as the
interval n between them grows (:func:`interval_scores`, :func:`plot_interval_sweep`).

Every figure is a :class:`matplotlib.figure.Figure` made without pyplot (nothing to close,
nothing shown twice inline), so the functions run headless and inside widgets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from gcseg.metrics import region_similarity
from gcseg.model import FrameFeatures, GCSeg, ReferenceSummary
from gcseg.viz.frames import outline
from gcseg.viz.heatmaps import (
    as_chw,
    channel_mean,
    channel_norm,
    contrast_label,
    heat_overlay,
    object_contrast,
    show_panel,
    to_numpy,
)
from gcseg.viz.probe import (
    Clip,
    PairView,
    encode,
    interval_reference,
    mask_batch,
    previous_mask,
    run_pair,
)

__all__ = [
    "coseg_figure",
    "interval_scores",
    "plot_attention_vectors",
    "plot_broadcast_example",
    "plot_coseg_pair",
    "plot_interval_sweep",
]


# ----------------------------------------------------------------------------- scores


def _pair_scores(model: GCSeg, features: FrameFeatures, summary: ReferenceSummary,
                 truth: np.ndarray) -> dict[str, float]:
    """The scores of :func:`interval_scores` for one (target, reference) pair."""
    prob, internals = model.predict(features, summary, with_aux=model.aux_decoder is not None)
    aux = internals.aux.prob if internals.aux is not None else prob
    return {
        "contrast_F": object_contrast(channel_norm(features[model.top_level]), truth),
        "contrast_G": object_contrast(channel_norm(internals.G), truth),
        "iou_coseg": region_similarity(to_numpy(aux)[0, 0] > 0.5, truth),
        "iou": region_similarity(to_numpy(prob)[0, 0] > 0.5, truth),
    }


@torch.no_grad()
def interval_scores(model: GCSeg, clip: Clip, intervals: Sequence[int],
                    object_id: int | None = None, targets: Sequence[int] | None = None,
                    prev_mask: str = "previous") -> list[dict[str, float]]:
    """How the pictures of the Co-segmentation Module change with the interval n.

    For each n, over the target frames t (default: every frame where the object is visible)
    with a reference t - n >= 0 whose mask is not empty, the means of:
    ``contrast_F`` (:func:`~gcseg.viz.heatmaps.object_contrast` of |F1| on the top level),
    ``contrast_G`` (of the projected |G|), ``iou_coseg`` (IoU of M'_t > 0.5, the
    co-segmentation-only decoder, with the truth) and ``iou`` (of M_t > 0.5). ``pairs`` counts
    the pairs averaged. Each frame goes through the backbone at most twice (as target, as
    reference), whatever the intervals.
    """
    if model.coseg is None:
        raise ValueError("this model has no Co-segmentation Module")
    if object_id is None:
        object_id = clip.object_ids[0]
    model.eval()
    visible = [t for t in range(1, len(clip)) if clip.mask(t, object_id).any()]
    targets = visible if targets is None else [t for t in targets if t in visible]
    target_features: dict[int, FrameFeatures] = {}
    summaries: dict[int, ReferenceSummary] = {}

    def target_features_of(t: int) -> FrameFeatures:
        if t not in target_features:
            previous = previous_mask(clip, t, object_id, prev_mask)
            target_features[t] = encode(model, clip.frames[t], previous)
        return target_features[t]

    def summary_of(r: int) -> ReferenceSummary:
        if r not in summaries:
            ref_mask = clip.mask(r, object_id)
            features = encode(model, clip.frames[r], ref_mask)
            summaries[r] = model.summarize_reference(
                features, mask_batch(ref_mask, features[model.top_level].device))
        return summaries[r]

    rows = []
    for interval in intervals:
        pairs = [(t, t - interval) for t in targets if interval >= 1 and t - interval >= 0
                 and clip.mask(t - interval, object_id).any()]
        scores = [_pair_scores(model, target_features_of(t), summary_of(r),
                               clip.mask(t, object_id)) for t, r in pairs]
        row = {"interval": float(interval), "pairs": float(len(pairs))}
        for name in ("contrast_F", "contrast_G", "iou_coseg", "iou"):
            row[name] = (sum(s[name] for s in scores) / len(scores) if scores
                         else float("nan"))
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- figures


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def plot_broadcast_example(features: Tensor | np.ndarray, vector: Tensor | np.ndarray,
                           attended: Tensor | np.ndarray) -> Figure:
    """A small hand example of ``G = F ⊙ f``: one row per channel, numbers printed.

    Args:
        features: (C, h, w) or (1, C, h, w); vector: (C,) or (1, C); attended: like features.
    """
    f_map, g_map = as_chw(features), as_chw(attended)
    vec = to_numpy(vector).reshape(-1)
    channels = f_map.shape[0]
    if vec.shape[0] != channels or g_map.shape != f_map.shape:
        raise ValueError("features, vector and attended do not match")
    figure = Figure(figsize=(7.0, 1.9 * channels), layout="constrained")
    axes = figure.subplots(channels, 3, squeeze=False)
    bound = max(np.abs(f_map).max(), np.abs(g_map).max(), 1e-6)
    for c in range(channels):
        panels = [(f_map[c], f"F, channel {c}"), (np.full((1, 1), vec[c]), f"f[{c}]"),
                  (g_map[c], f"G = F ⊙ f, channel {c}")]
        for axis, (values, title) in zip(axes[c], panels, strict=True):
            show_panel(axis, values, title, cmap="coolwarm", vmin=-bound, vmax=bound)
            for (i, j), value in np.ndenumerate(values):
                axis.text(j, i, f"{value:g}", ha="center", va="center", fontsize=9)
    return figure


def plot_attention_vectors(f_target: Mapping[str, Tensor], f_reference: Mapping[str, Tensor],
                           top: int = 0) -> Figure:
    """The co-segmentation vectors of both frames, one panel per level.

    ``f_target`` (f1, from F_t) and ``f_reference`` (f2, from F_{t-n}) are ``{level: (1, C_l)}``
    or ``{level: (C_l,)}``. Channels are sorted by f2 (the vector that attends the target).
    ``top > 0`` keeps only the ``top`` largest |f2| channels. The panel title gives the
    cosine similarity of f1 and f2.
    """
    levels = list(f_reference)
    figure = Figure(figsize=(4.2 * len(levels), 3.0), layout="constrained")
    axes = figure.subplots(1, len(levels), squeeze=False)[0]
    for axis, level in zip(axes, levels, strict=True):
        f2 = to_numpy(f_reference[level]).reshape(-1)
        f1 = to_numpy(f_target[level]).reshape(-1)
        order = np.argsort(-f2)
        if top > 0:
            keep = np.argsort(-np.abs(f2))[:top]
            order = keep[np.argsort(-f2[keep])]
        x = np.arange(len(order))
        axis.bar(x, f2[order], width=1.0, color="tab:orange", alpha=0.8,
                 label="f2 (reference)")
        axis.plot(x, f1[order], ".", markersize=3, color="tab:blue", label="f1 (target)")
        axis.axhline(0, color="black", linewidth=0.6)
        axis.set_title(f"{level}: {f2.size} channels, cos(f1, f2) = {_cosine(f1, f2):.2f}",
                       fontsize=9)
        axis.set_xlabel("channel (sorted by f2)")
    axes[0].set_ylabel("attention value")
    axes[0].legend(fontsize=8)
    return figure


def plot_coseg_pair(view: PairView) -> Figure:
    """The Co-segmentation Module on one pair, level by level.

    Row 1: the reference frame with M_{t-n}, the target frame with its ground truth (green),
    M'_t of the co-segmentation-only decoder and M_t. Row 2: |F1_l|, the channel norm of the
    target's features, per level. Row 3: |G1_l| = |F1_l ⊙ f2_l| per level and the projected
    G. Row 4: the channel mean of G1_l, which is ``F1_l(x) · f2_l / C_l``: how much each
    position looks like the reference's attention vector. Each title gives
    :func:`~gcseg.viz.heatmaps.object_contrast` against the target's ground truth.
    """
    if view.internals.G is None:
        raise ValueError("this model has no Co-segmentation Module")
    levels = list(view.internals.coseg_levels)
    ncols = max(4, len(levels) + 1)
    figure = Figure(figsize=(3.1 * ncols, 8.6), layout="constrained")
    axes = figure.subplots(4, ncols, squeeze=False)
    for axis in axes.ravel():
        axis.set_axis_off()
    image = view.target_frame
    show_panel(axes[0, 0], outline(view.reference_frame, view.reference_mask),
               f"reference t-n = {view.reference} with M_(t-n)")
    show_panel(axes[0, 1], outline(image, view.target_mask), f"target t = {view.target} (truth)")
    if view.aux_prob is not None:
        show_panel(axes[0, 2],
                   heat_overlay(image, view.aux_prob, cmap="viridis", limits=(0, 1)),
                   "M'_t (co-seg-only decoder)")
    show_panel(axes[0, 3], heat_overlay(image, view.prob, cmap="viridis", limits=(0, 1)),
               "M_t (main decoder)")
    rows = [
        {f"|F1| {level}": channel_norm(view.features_t[level]) for level in levels},
        {f"|G1| {level}": channel_norm(value)
         for level, value in view.internals.coseg_levels.items()},
        {f"mean G1 {level}": channel_mean(value)
         for level, value in view.internals.coseg_levels.items()},
    ]
    rows[1]["|G| projected"] = channel_norm(view.internals.G)
    for row, maps in enumerate(rows, start=1):
        for col, (name, heat) in enumerate(maps.items()):
            label = contrast_label(heat, view.target_mask)
            show_panel(axes[row, col], heat_overlay(image, heat), f"{name} ({label})")
    figure.suptitle(f"interval n = {view.interval}, M_(t-1): {view.prev_mode}; "
                    "G1 = F1 ⊙ f2 over the target frame", fontsize=10)
    return figure


def _show_attended_target(axis, view: PairView, title: str) -> None:
    """|G| (the projected co-segmentation map) over the target with the truth's outline;
    ``title`` is formatted with ``target`` (t) and ``contrast`` (:func:`contrast_label`)."""
    heat = channel_norm(view.internals.G)
    show_panel(axis, outline(heat_overlay(view.target_frame, heat), view.target_mask),
               title.format(target=view.target,
                            contrast=contrast_label(heat, view.target_mask)))


def _show_coseg_only(axis, view: PairView) -> None:
    """M'_t (the co-segmentation-only prediction, colours 0 to 1) and its IoU with the truth."""
    aux = view.aux_prob if view.aux_prob is not None else view.prob
    picture = heat_overlay(view.target_frame, aux, cmap="viridis", limits=(0, 1))
    iou = region_similarity(aux > 0.5, view.target_mask)
    show_panel(axis, outline(picture, view.target_mask), f"M'_t (co-seg only), IoU {iou:.2f}")


def coseg_figure(model: GCSeg, clip: Clip, target: int, interval: int,
                 object_id: int | None = None, prev_mask: str = "previous") -> Figure:
    """The explorer's picture: reference, target with |G| over it, and M'_t, for one interval.

    Panels: the reference frame t - n with its mask; the target with the channel norm of the
    projected G (contrast against the truth in the title); the target with M'_t, the
    co-segmentation-only prediction; f2 against f1 on the top level.
    """
    view = run_pair(model, clip, target, interval_reference(target, interval), object_id,
                    prev_mask)
    if view.internals.G is None:
        raise ValueError("this model has no Co-segmentation Module")
    figure = Figure(figsize=(13.0, 3.0), layout="constrained")
    axes = figure.subplots(1, 4)
    show_panel(axes[0], outline(view.reference_frame, view.reference_mask),
               f"reference {view.reference} (n = {view.interval})")
    _show_attended_target(axes[1], view, "|G| on target {target} ({contrast})")
    _show_coseg_only(axes[2], view)
    level = list(view.target_vectors)[-1]
    f2 = to_numpy(view.summary.f[level]).reshape(-1)
    f1 = to_numpy(view.target_vectors[level]).reshape(-1)
    axes[3].scatter(f2, f1, s=4)
    axes[3].set_xlabel(f"f2 (reference), {level}", fontsize=8)
    axes[3].set_ylabel("f1 (target)", fontsize=8)
    axes[3].set_title(f"attention vectors, cos = {_cosine(f1, f2):.2f}", fontsize=9)
    figure.suptitle(f"{clip.name}, object {view.object_id}", fontsize=10)
    return figure


def plot_interval_sweep(model: GCSeg, clip: Clip, target: int, intervals: Sequence[int],
                        object_id: int | None = None, prev_mask: str = "previous") -> Figure:
    """One row per interval n: reference t - n, |G| over the target, M'_t.

    Each row's titles give :func:`~gcseg.viz.heatmaps.object_contrast` of |G| against the
    target's truth and the IoU of M'_t > 0.5 (the co-segmentation-only prediction, colours from
    0 to 1).
    """
    rows = len(intervals)
    figure = Figure(figsize=(9.5, 2.6 * rows), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    for row, interval in enumerate(intervals):
        view = run_pair(model, clip, target, interval_reference(target, interval), object_id,
                        prev_mask)
        show_panel(axes[row, 0], outline(view.reference_frame, view.reference_mask),
                   f"n = {view.interval}: reference {view.reference}")
        _show_attended_target(axes[row, 1], view, "|G| on target {target}, {contrast}")
        _show_coseg_only(axes[row, 2], view)
    return figure

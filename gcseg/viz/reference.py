"""Pictures of the Reference Module (paper III-A-4b, Figure 4, eq. 1-2; notebook 04).

Upper stream: ``F' = conv1x1(F)``, ``R' = conv1x1(r)``, ``D1 = R'^T F'`` (one similarity value
per position), ``A = softmax over positions of D1`` (eq. 1), ``D1' = A ⊙ D1`` (eq. 2),
``R1 = F' + D1'``. Bottom stream: ``R2 = conv block([F, tile(r)])``. Fusion:
``R = conv block([R1, R2])``. The figures show these maps for one (reference, target) pair,
computed by :func:`gcseg.viz.probe.run_pair`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

from gcseg.metrics import region_similarity
from gcseg.model import GCSeg
from gcseg.viz.frames import outline
from gcseg.viz.heatmaps import (
    channel_mean,
    channel_norm,
    contrast_label,
    heat_overlay,
    show_panel,
    to_numpy,
)
from gcseg.viz.mask_encoder import draw_roi_grid
from gcseg.viz.probe import Clip, PairView, run_pair

__all__ = [
    "plot_eq12_example",
    "plot_reference_maps",
    "reference_figure",
    "reference_maps",
    "softmax_stats",
]


def _single(x: Tensor | np.ndarray) -> np.ndarray:
    """(h, w) of a (1, 1, h, w) map; the channel mean of a (1, C, h, w) per-channel map."""
    return channel_mean(x)


def reference_maps(view: PairView) -> dict[str, np.ndarray]:
    """The Reference Module's maps for the target frame of ``view``, each (h, w).

    Keys: ``D1`` (similarity), ``softmax(D1)`` (eq. 1), ``D1'`` (eq. 2), ``|F'|``, ``|R1|``,
    ``|R2|``, ``|R|`` (channel norms). ``F'`` is recovered as ``R1 - D1'``. For the
    ``per_channel`` variant the three D maps are channel means.
    """
    ref = view.internals.reference
    if ref is None:
        raise ValueError("this model has no Reference Module")
    f_prime = ref.R1 - ref.D1_attended  # R1 = F' + D1' (D1' broadcast over channels)
    return {
        "D1": _single(ref.D1),
        "softmax(D1)": _single(ref.attention),
        "D1'": _single(ref.D1_attended),
        "|F'|": channel_norm(f_prime),
        "|R1|": channel_norm(ref.R1),
        "|R2|": channel_norm(ref.R2),
        "|R|": channel_norm(ref.R),
    }


def softmax_stats(d1: Tensor | np.ndarray) -> dict[str, float]:
    """How peaked eq. 1's attention is for a (h, w) or (1, 1, h, w) map ``D1``.

    ``positions``: h·w; ``max``: the largest attention weight; ``effective``: 1 / Σ A², the
    number of positions the attention is spread over (1 = one position, h·w = uniform);
    ``spread``: max(D1) - min(D1), which alone decides how peaked the softmax is.
    """
    values = to_numpy(d1).reshape(-1).astype(np.float64)
    weights = np.exp(values - values.max())
    weights /= weights.sum()
    return {"positions": float(values.size), "max": float(weights.max()),
            "effective": float(1.0 / (weights**2).sum()),
            "spread": float(values.max() - values.min())}


def plot_eq12_example(d1: Tensor | np.ndarray) -> Figure:
    """Eq. 1-2 on a small hand-made map: D1, softmax(D1) and D1' with every number printed."""
    d1 = to_numpy(d1)
    d1 = d1.reshape(d1.shape[-2:])
    weights = np.exp(d1 - d1.max())
    weights /= weights.sum()
    panels = [(d1, "D1"), (weights, "A = softmax(D1), eq. 1"),
              (weights * d1, "D1' = A ⊙ D1, eq. 2")]
    figure = Figure(figsize=(3.3 * len(panels), 2.6), layout="constrained")
    axes = figure.subplots(1, len(panels))
    for axis, (values, title) in zip(axes, panels, strict=True):
        show_panel(axis, values, title, cmap="viridis")
        for (i, j), value in np.ndenumerate(values):
            axis.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=8,
                      color="white" if value < values.mean() else "black")
    return figure


def plot_reference_maps(view: PairView) -> Figure:
    """The Reference Module on one pair: both streams and their fusion.

    Row 1: the reference with its mask and ROI box, the target with its truth, M_t, and the
    similarity ``D1`` and its softmax (eq. 1). Row 2: ``D1'`` (eq. 2), |F'|, |R1| = |F' + D1'|,
    |R2| (bottom stream) and |R|. Titles give :func:`~gcseg.viz.heatmaps.object_contrast`
    against the target's truth (above 1: brighter on the object than on average).
    """
    maps = reference_maps(view)
    image = view.target_frame
    figure = Figure(figsize=(16.0, 5.6), layout="constrained")
    axes = figure.subplots(2, 5)
    boxes = view.summary.boxes[0] if view.summary.boxes is not None else np.zeros((10, 4))
    show_panel(axes[0, 0], draw_roi_grid(outline(view.reference_frame, view.reference_mask),
                                         boxes),
               f"reference {view.reference}: M and ROIs -> r")
    show_panel(axes[0, 1], outline(image, view.target_mask), f"target {view.target} (truth)")
    probability = heat_overlay(image, view.prob, cmap="viridis", limits=(0, 1))
    show_panel(axes[0, 2], outline(probability, view.target_mask), "M_t")
    names = ["D1", "softmax(D1)", "D1'", "|F'|", "|R1|", "|R2|", "|R|"]
    slots = [axes[0, 3], axes[0, 4], *axes[1]]
    for axis, name in zip(slots, names, strict=True):
        heat = maps[name]
        label = contrast_label(heat, view.target_mask)
        extra = f"max {heat.max():.2g}" if name in ("softmax(D1)", "D1'") else ""
        show_panel(axis, outline(heat_overlay(image, heat), view.target_mask),
                   f"{name}: {label} {extra}".strip())
    figure.suptitle(f"Reference Module, reference {view.reference} -> target {view.target} "
                    f"(M_(t-1): {view.prev_mode})", fontsize=10)
    return figure


def reference_figure(model: GCSeg, clip: Clip, object_id: int, reference: int, target: int,
                     prev_mask: str = "previous") -> Figure:
    """The explorer's picture: reference with its ROIs, D1, D1', |R| and M_t on the target.

    ``prev_mask`` is :func:`~gcseg.viz.probe.run_pair`'s (``"previous"`` or ``"none"``).
    """
    view = run_pair(model, clip, target, reference, object_id, prev_mask)
    maps = reference_maps(view)
    image = view.target_frame
    figure = Figure(figsize=(16.0, 3.0), layout="constrained")
    axes = figure.subplots(1, 5)
    valid = bool(view.summary.valid[0])
    show_panel(axes[0], draw_roi_grid(outline(view.reference_frame, view.reference_mask),
                                      view.summary.boxes[0]),
               f"reference {reference}" + ("" if valid else ": empty mask, r = 0 (skipped)"))
    stats = softmax_stats(view.internals.D1)
    for axis, name, extra in [
        (axes[1], "D1", f"spread {stats['spread']:.3g}"),
        (axes[2], "D1'", f"softmax spread over {stats['effective']:.1f} positions"),
        (axes[3], "|R|", ""),
    ]:
        label = contrast_label(maps[name], view.target_mask)
        show_panel(axis, outline(heat_overlay(image, maps[name]), view.target_mask),
                   f"{name} on target {target}: {label}\n{extra}".strip())
    truth_iou = region_similarity(view.prob > 0.5, view.target_mask)
    probability = heat_overlay(image, view.prob, cmap="viridis", limits=(0, 1))
    show_panel(axes[4], outline(probability, view.target_mask), f"M_t, IoU {truth_iou:.2f}")
    figure.suptitle(f"{clip.name}, object {object_id}", fontsize=10)
    return figure


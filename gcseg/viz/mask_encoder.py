"""Pictures of the Mask Encoder (paper III-A-4a, Figure 3; notebook 03).

The encoder turns a reference frame's features and mask into one vector ``r_{t-n}``: it zeroes
the background (``F ⊙ M``), pools 10 ROIs over the mask's bounding box (the whole box and a
3x3 grid of cells) and mixes them with a learned (10, 1) convolution. The figures here show
each step: the masked features, the ROI grid on the frame and on the feature grid, the pooled
ROI features, the 10 learned weights, what occlusion does to the grid, and (the ROI explorer's
picture) each ROI of a frame against the fused reference vector ``r``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import Tensor

from gcseg.model import FrameFeatures, GCSeg, MaskEncoding
from gcseg.viz.frames import outline
from gcseg.viz.heatmaps import channel_norm, show_panel, to_numpy
from gcseg.viz.probe import Clip, encode, mask_batch

__all__ = [
    "ROI_NAMES",
    "draw_roi_grid",
    "encode_mask",
    "find_occlusion_case",
    "fuse_weights",
    "mask_on_grid",
    "plot_fuse_weights",
    "plot_masked_features",
    "plot_occlusion",
    "plot_roi_features",
    "plot_roi_grid",
    "plot_rois_against_r",
    "roi_similarity",
]

ROI_NAMES: tuple[str, ...] = ("box",) + tuple(f"cell {i}" for i in range(1, 10))
"""Names of the 10 ROIs in the Mask Encoder's order: the whole box, then the 3x3 cells row by
row from the top-left."""

_WHOLE = (255, 64, 64)
_CELL = (255, 230, 0)


@torch.no_grad()
def encode_mask(model: GCSeg, frame: np.ndarray, mask: np.ndarray
                ) -> tuple[FrameFeatures, MaskEncoding]:
    """``F = E(I, M)`` and the Mask Encoder's output for one frame and a binary mask.

    The encoder reads the top level (``model.top_level``) as in ``GCSeg.summarize_reference``.
    """
    if model.mask_encoder is None:
        raise ValueError("this model has no Mask Encoder (variant 'ref' or 'full' has one)")
    model.eval()
    features = encode(model, frame, mask)
    device = features[model.top_level].device
    encoding = model.mask_encoder(features[model.top_level], mask_batch(mask, device))
    return features, encoding


def mask_on_grid(mask: np.ndarray, grid_size: tuple[int, int]) -> np.ndarray:
    """(h, w): the fraction of each feature cell the mask covers (the encoder's area resize)."""
    small = F.adaptive_avg_pool2d(mask_batch(mask), tuple(int(s) for s in grid_size))
    return small[0, 0].numpy()


def draw_roi_grid(image: np.ndarray, boxes: Tensor | np.ndarray, numbers: bool = True,
                  thickness: int = 1) -> np.ndarray:
    """(H, W, 3) uint8: the 10 ROI boxes (image pixels) drawn on ``image``.

    The whole box (ROI 0) in red, the 3x3 cells in yellow, numbered 1..9. A box
    ``(x0, y0, x1, y1)`` covers pixels ``x0 <= x < x1``. All-zero boxes (an empty mask) draw
    nothing.
    """
    boxes = to_numpy(boxes).reshape(-1, 4)
    out = np.array(image, dtype=np.uint8, copy=True)
    if not np.any(boxes):
        return out
    for index in list(range(1, len(boxes))) + [0]:
        x0, y0, x1, y1 = boxes[index]
        p0 = (int(round(x0)), int(round(y0)))
        p1 = (int(round(x1)) - 1, int(round(y1)) - 1)
        colour = _WHOLE if index == 0 else _CELL
        cv2.rectangle(out, p0, p1, colour, thickness + (index == 0))
        if numbers and index > 0:
            centre = (int((x0 + x1) / 2) - 3, int((y0 + y1) / 2) + 4)
            cv2.putText(out, str(index), centre, cv2.FONT_HERSHEY_SIMPLEX, 0.35, _CELL, 1,
                        cv2.LINE_AA)
    return out


def _grid_rectangles(axis, feature_boxes: np.ndarray) -> None:
    """Draw feature-grid boxes on an ``imshow`` of the grid (cell i spans [i-0.5, i+0.5])."""
    for index, (x0, y0, x1, y1) in enumerate(feature_boxes):
        colour = np.array(_WHOLE if index == 0 else _CELL) / 255.0
        axis.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                                 edgecolor=colour, linewidth=2.0 if index == 0 else 1.0))
        if index > 0:
            axis.text((x0 + x1) / 2 - 0.5, (y0 + y1) / 2 - 0.5, str(index), color=colour,
                      fontsize=7, ha="center", va="center")


def plot_masked_features(frame: np.ndarray, mask: np.ndarray, features: Tensor,
                         encoding: MaskEncoding) -> Figure:
    """Step 1 of the encoder: F, the mask on the feature grid, and F ⊙ M.

    Panels: the frame with the mask's outline; |F| (channel norm) on the feature grid; the
    mask resized to the grid by area (fraction of each cell covered); |F ⊙ M|.
    """
    grid = tuple(features.shape[-2:])
    panels = [
        (channel_norm(features), f"|F| on the {grid[0]}x{grid[1]} grid", "inferno"),
        (mask_on_grid(mask, grid), "M on the grid (area fraction)", "gray"),
        (channel_norm(encoding.masked_features), "|F ⊙ M|: background zeroed", "inferno"),
    ]
    figure = Figure(figsize=(13.0, 2.8), layout="constrained")
    axes = figure.subplots(1, 4)
    show_panel(axes[0], outline(frame, mask), "frame with M")
    for axis, (values, title, cmap) in zip(axes[1:], panels, strict=True):
        show_panel(axis, values, title, cmap=cmap)
    return figure


def plot_roi_grid(frame: np.ndarray, mask: np.ndarray, encoding: MaskEncoding) -> Figure:
    """Step 2: the 10 ROIs on the frame (image pixels) and on |F ⊙ M| (feature grid)."""
    figure = Figure(figsize=(10.0, 3.0), layout="constrained")
    axes = figure.subplots(1, 2)
    boxes = to_numpy(encoding.boxes)[0]
    show_panel(axes[0], draw_roi_grid(outline(frame, mask, (255, 255, 255)), boxes),
          "10 ROIs: the box (red) and its 3x3 cells")
    show_panel(axes[1], channel_norm(encoding.masked_features), "the same ROIs on |F ⊙ M|",
          cmap="inferno")
    if bool(encoding.valid[0]):
        _grid_rectangles(axes[1], to_numpy(encoding.feature_boxes)[0])
    return figure


def roi_similarity(a: Tensor | np.ndarray, b: Tensor | np.ndarray) -> np.ndarray:
    """(K,): cosine similarity of ROI k of ``a`` with ROI k of ``b`` (each (K, C) or (1, K, C)).

    ``nan`` where either vector is zero (an empty ROI).
    """
    a, b = to_numpy(a), to_numpy(b)
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = (a * b).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 1e-12, dots / np.maximum(norms, 1e-12), np.nan)


def plot_roi_features(encoding: MaskEncoding) -> Figure:
    """Step 3: the 10 pooled ROI vectors and r, and how alike the ROIs are.

    Left: a (11, C) heat map, rows = the 10 ROIs then ``r``. Right: the 10x10 cosine
    similarity of the ROI vectors (parts of one object share many channels).
    """
    rois = to_numpy(encoding.roi_features)[0]  # (10, C)
    r = to_numpy(encoding.r)[0]  # (C,)
    table = np.concatenate([rois, r[None]], axis=0)
    figure = Figure(figsize=(12.0, 3.4), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[2.2, 1])
    bound = max(float(np.abs(table).max()), 1e-6)
    image = left.imshow(table, aspect="auto", cmap="coolwarm", vmin=-bound, vmax=bound,
                        interpolation="nearest")
    left.set_yticks(range(11), list(ROI_NAMES) + ["r"], fontsize=8)
    left.set_xlabel(f"channel (C = {rois.shape[1]})")
    left.set_title("pooled ROI features and r", fontsize=9)
    figure.colorbar(image, ax=left, fraction=0.03)
    norms = np.linalg.norm(rois, axis=1)
    unit = rois / np.maximum(norms, 1e-12)[:, None]
    similarity = unit @ unit.T
    image = right.imshow(similarity, cmap="viridis", vmin=-1, vmax=1)
    right.set_xticks(range(10), ["B"] + [str(i) for i in range(1, 10)], fontsize=8)
    right.set_yticks(range(10), ["B"] + [str(i) for i in range(1, 10)], fontsize=8)
    right.set_title("cosine similarity between ROIs", fontsize=9)
    figure.colorbar(image, ax=right, fraction=0.05)
    return figure


def fuse_weights(model: GCSeg) -> tuple[np.ndarray, float]:
    """The learned (10, 1) convolution of the Mask Encoder: its 10 weights and its bias."""
    if model.mask_encoder is None:
        raise ValueError("this model has no Mask Encoder")
    conv = model.mask_encoder.fuse
    return to_numpy(conv.weight).reshape(-1), float(conv.bias.detach().float().cpu())


def plot_fuse_weights(weights: np.ndarray, bias: float = 0.0, initial: float | None = 0.1,
                      title: str = "learned (10, 1) convolution") -> Figure:
    """Bar chart of the 10 weights (whole box first), the initial value dashed, and the nine
    cell weights laid out as the 3x3 grid they weigh."""
    weights = np.asarray(weights, dtype=np.float32).reshape(-1)
    if weights.shape != (10,):
        raise ValueError(f"expected 10 weights, got {weights.shape}")
    figure = Figure(figsize=(10.0, 3.0), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[2.4, 1])
    colours = ["tab:red"] + ["tab:olive"] * 9
    left.bar(range(10), weights, color=colours)
    if initial is not None:
        left.axhline(initial, color="black", linestyle="--", linewidth=0.8,
                     label=f"initial value {initial:g} (mean of the ROIs)")
        left.legend(fontsize=8)
    left.axhline(0, color="black", linewidth=0.5)
    left.set_xticks(range(10), list(ROI_NAMES), rotation=45, fontsize=8)
    left.set_ylabel("weight")
    left.set_title(f"{title}; bias {bias:+.3f}, sum {weights.sum():.3f}", fontsize=9)
    cells = weights[1:].reshape(3, 3)
    centre = 0.0 if initial is None else initial  # colour: the change from the start
    bound = max(float(np.abs(cells - centre).max()), 1e-6)
    right.imshow(cells, cmap="coolwarm", vmin=centre - bound, vmax=centre + bound)
    for (i, j), value in np.ndenumerate(cells):
        right.text(j, i, f"{3 * i + j + 1}\n{value:.3f}", ha="center", va="center", fontsize=8)
    right.set_xticks([])
    right.set_yticks([])
    right.set_title(f"cell weights on the 3x3 grid\n(colour: change from {centre:g})",
                    fontsize=9)
    return figure


def find_occlusion_case(root: str | os.PathLike, split: str = "val",
                        min_fraction: float = 0.15, min_area: float = 0.03) -> dict:
    """A partly occluded object from the benchmark's ``synthetic.json``.

    Among the targets whose plan had an occluder pass over them (``"occluded"`` in their
    events; any target when none has) and that were once large (at least ``min_area`` of the
    frame; any size when none was), the frame where the visible area, as a fraction of the
    largest it had before that frame, is lowest but still ``>= min_fraction``.

    Returns:
        ``{"video", "object_id", "frame", "fraction", "start"}`` with ``start`` the earlier
        frame where it was largest (a good reference).
    """
    meta = json.loads((Path(root) / "synthetic.json").read_text())
    height, width = meta["parameters"]["size"]
    candidates = []
    for name, info in sorted(meta["sequences"].items()):
        if info["split"] != split:
            continue
        for target in info["objects"]:
            visible = np.asarray(target["visible_area"], dtype=np.float64)
            occluded = "occluded" in target.get("events", [])
            for frame in range(1, len(visible)):
                start = int(np.argmax(visible[:frame]))
                if visible[start] <= 0:
                    continue
                fraction = visible[frame] / visible[start]
                small = visible[start] < min_area * height * width
                if min_fraction <= fraction < 1.0:
                    candidates.append((not occluded, small, fraction, name,
                                       int(target["label"]), frame, start))
    if not candidates:
        raise ValueError(f"{root}: no {split!r} object loses part of its area")
    _, _, fraction, name, label, frame, start = min(candidates)
    return {"video": name, "object_id": label, "frame": frame, "fraction": float(fraction),
            "start": start}


def plot_occlusion(model: GCSeg, clip: Clip, object_id: int, frames: Sequence[int],
                   reference: int | None = None) -> Figure:
    """The ROI grid while an object gets occluded, and how each ROI still matches.

    Row 1: each frame of ``frames`` with its mask and ROI grid. Row 2: the cosine similarity
    of each ROI to the same ROI of ``reference`` (default: the first of ``frames``), the 3x3
    cells as a grid and the whole box in the title; "empty" marks a cell whose features are
    all zeroed (it lies off the visible object). When the visible part shrinks, the box
    shrinks with it and the cells slide over other parts of the object.
    """
    reference = frames[0] if reference is None else reference
    _, ref_encoding = encode_mask(model, clip.frames[reference], clip.mask(reference, object_id))
    figure = Figure(figsize=(3.2 * len(frames), 5.6), layout="constrained")
    axes = figure.subplots(2, len(frames), squeeze=False)
    for col, index in enumerate(frames):
        mask = clip.mask(index, object_id)
        _, encoding = encode_mask(model, clip.frames[index], mask)
        area = int(mask.sum())
        show_panel(axes[0, col], draw_roi_grid(outline(clip.frames[index], mask, (255, 255, 255)),
                                          encoding.boxes[0]),
              f"frame {index}: {area} px visible")
        similarity = roi_similarity(encoding.roi_features, ref_encoding.roi_features)
        cells = similarity[1:].reshape(3, 3)
        show_panel(axes[1, col], cells, f"ROI cosine to frame {reference}: box {similarity[0]:.2f}",
              cmap="viridis", vmin=0.0, vmax=1.0)
        for (i, j), value in np.ndenumerate(cells):
            text = "empty" if np.isnan(value) else f"{value:.2f}"
            axes[1, col].text(j, i, text, ha="center", va="center", fontsize=9,
                              color="black" if value > 0.6 or np.isnan(value) else "white")
    return figure



def plot_rois_against_r(model: GCSeg, clip: Clip, object_id: int, index: int,
                        reference: int = 0, reference_encoding: MaskEncoding | None = None
                        ) -> Figure:
    """One frame's 10 ROIs and how each pooled vector compares with a reference's fused ``r``.

    Panels: the reference frame with its ROIs; frame ``index`` with its mask (the ground truth,
    encoded as a reference would be, ``E(I, M)``) and its 10 ROIs; the same ROIs on
    ``|F ⊙ M|`` (feature grid); bars of the cosine of each ROI vector of frame ``index`` with
    the reference's ``r``, and of the frame's own fused ``r_t`` (last bar). An empty ROI (or an
    empty mask) has no vector: its bar is absent and marked "empty".

    Args:
        reference: the reference frame; ``reference_encoding``: its :class:`MaskEncoding` when
            already computed (the explorer encodes each reference once).
    """
    ref_mask = clip.mask(reference, object_id)
    if reference_encoding is None:
        _, reference_encoding = encode_mask(model, clip.frames[reference], ref_mask)
    mask = clip.mask(index, object_id)
    _, encoding = encode_mask(model, clip.frames[index], mask)
    r = to_numpy(reference_encoding.r).reshape(1, -1)
    cosines = np.concatenate([roi_similarity(encoding.roi_features[0], np.repeat(r, 10, 0)),
                              roi_similarity(encoding.r, r)])  # (11,): 10 ROIs, then r_t
    figure = Figure(figsize=(14.0, 3.0), layout="constrained")
    axes = figure.subplots(1, 4, width_ratios=[1, 1, 1, 1.2])
    show_panel(axes[0], draw_roi_grid(outline(clip.frames[reference], ref_mask, (255, 255, 255)),
                                      reference_encoding.boxes[0]),
               f"reference frame {reference}: r from its 10 ROIs")
    show_panel(axes[1], draw_roi_grid(outline(clip.frames[index], mask, (255, 255, 255)),
                                      encoding.boxes[0]),
               f"frame {index}: {int(mask.sum())} px visible")
    show_panel(axes[2], channel_norm(encoding.masked_features),
               "its ROIs on |F ⊙ M| (feature grid)", cmap="inferno")
    if bool(encoding.valid[0]):
        _grid_rectangles(axes[2], to_numpy(encoding.feature_boxes)[0])
    _cosine_bars(axes[3], cosines)
    return figure


def _cosine_bars(axis, cosines: np.ndarray) -> None:
    """Bars of the 10 ROI cosines and ``r_t``'s (nan: "empty")."""
    names = ["B"] + [str(i) for i in range(1, 10)] + ["r_t"]
    colours = ["tab:red"] + ["tab:olive"] * 9 + ["tab:blue"]
    axis.bar(range(11), np.nan_to_num(cosines, nan=0.0), color=colours)
    for position, value in enumerate(cosines):
        if np.isnan(value):
            axis.text(position, 0.02, "empty", rotation=90, ha="center", va="bottom",
                      fontsize=7)
    axis.set_xticks(range(11), names, fontsize=8)
    finite = cosines[~np.isnan(cosines)]
    axis.set_ylim(min([0.0, *finite.tolist()]) - 0.05, 1.05)
    axis.axhline(0, color="black", linewidth=0.5)
    axis.set_title("cosine with the reference's r", fontsize=9)

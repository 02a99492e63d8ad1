"""Pictures of a DAVIS-layout dataset: its folders, its palette PNGs, its objects and challenges.

Used by notebook 00 and the dataset browser (:mod:`gcseg.widgets.dataset`):

- :func:`layout_tree` -- the folder layout of a dataset root as text;
- :func:`palette_figure` -- the DAVIS palette: which colour each object id is drawn in;
- :func:`annotation_figure` -- a frame, its annotation as stored (palette colours) and as
  numbers (object ids, void 255), and the overlay;
- :func:`select_objects`, :func:`frame_view`, :func:`object_areas`, :func:`browse_figure` -- one
  frame with a chosen subset of its objects, and the objects' areas over the video;
- :func:`attribute_matrix`, :func:`attribute_figure` -- which video carries which challenge;
- :func:`area_curves_figure` -- how the synthetic benchmark measures its challenges: whole-shape,
  in-frame and visible area of each target over time.

Functions return arrays, strings or matplotlib Figures and never call ``plt.show()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gcseg.data.davis import PALETTE, VOID_ID
from gcseg.data.synthetic import ObjectInfo
from gcseg.viz.frames import overlay

__all__ = [
    "VOID_COLOUR",
    "AreaCurves",
    "annotation_figure",
    "annotation_picture",
    "area_curves_figure",
    "attribute_figure",
    "attribute_matrix",
    "browse_figure",
    "frame_view",
    "layout_tree",
    "object_areas",
    "palette_figure",
    "select_objects",
]

VOID_COLOUR = np.array([224, 224, 192], np.uint8)
"""Colour of void (255) pixels in :func:`annotation_picture` (the DAVIS palette's entry 255)."""


def layout_tree(root: str | os.PathLike, max_sequences: int = 2, max_files: int = 3) -> str:
    """The folder tree of a DAVIS-layout dataset as text, shortened.

    At most ``max_sequences`` sequence folders per resolution folder and ``max_files`` files per
    folder are listed; ``...`` with a count stands for the rest. Files at the root and in
    ``ImageSets`` are all listed (up to ``max_files``).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    lines = [f"{root.name}/"]

    def walk(folder: Path, prefix: str, depth: int) -> None:
        entries = sorted(folder.iterdir(), key=lambda p: (p.is_file(), p.name))
        entries = [e for e in entries if not e.name.startswith(".")]
        dirs = [e for e in entries if e.is_dir()]
        files = [e for e in entries if e.is_file()]
        # sequence folders sit three levels down: JPEGImages/480p/<seq>
        limit_dirs = max_sequences if depth == 2 else len(dirs)
        shown: list[tuple[Path | None, str]] = [(d, f"{d.name}/") for d in dirs[:limit_dirs]]
        if len(dirs) > limit_dirs:
            shown.append((None, f"... {len(dirs) - limit_dirs} more folders"))
        shown += [(f, f.name) for f in files[:max_files]]
        if len(files) > max_files:
            shown.append((None, f"... {len(files) - max_files} more files"))
        for index, (path, text) in enumerate(shown):
            last = index == len(shown) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{text}")
            if path is not None and path.is_dir():
                walk(path, prefix + ("    " if last else "│   "), depth + 1)

    walk(root, "", 0)
    return "\n".join(lines)


def annotation_picture(annotation: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8: an id map drawn as its palette PNG shows it (void in a light colour)."""
    annotation = np.asarray(annotation)
    if annotation.ndim != 2:
        raise ValueError(f"an annotation must be (H, W), got shape {annotation.shape}")
    picture = PALETTE[annotation.astype(np.uint8)]
    picture[annotation == VOID_ID] = VOID_COLOUR
    return picture


def palette_figure(ids: Iterable[int] = range(8), void: bool = True) -> Figure:
    """Colour swatches of the DAVIS palette for ``ids`` (and 255, void, when ``void``)."""
    ids = list(ids) + ([VOID_ID] if void else [])
    fig, axes = plt.subplots(1, len(ids), figsize=(1.1 * len(ids), 1.6))
    axes = np.atleast_1d(axes)
    for ax, object_id in zip(axes, ids, strict=True):
        colour = VOID_COLOUR if object_id == VOID_ID else PALETTE[object_id]
        ax.imshow(np.broadcast_to(colour, (4, 4, 3)))
        name = "void" if object_id == VOID_ID else ("bg" if object_id == 0 else "object")
        ax.set_title(f"{object_id}\n{name}", fontsize=9)
        ax.set_xlabel(f"{tuple(int(c) for c in colour)}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("pixel value (object id) -> colour of the DAVIS palette", fontsize=10)
    fig.tight_layout()
    return fig


def annotation_figure(frame: np.ndarray, annotation: np.ndarray,
                      title: str | None = None) -> Figure:
    """Three panels: the JPEG frame, the PNG annotation as stored, the overlay.

    The middle panel's legend lists each id present with its pixel count (the numbers the
    PNG holds; the colours are only the palette's rendering of them).
    """
    annotation = np.asarray(annotation)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].imshow(frame)
    axes[0].set_title("JPEGImages/…/00000.jpg (RGB)")
    axes[1].imshow(annotation_picture(annotation), interpolation="nearest")
    axes[1].set_title("Annotations/…/00000.png (palette)")
    axes[2].imshow(overlay(frame, annotation))
    axes[2].set_title("overlay")
    ids, counts = np.unique(annotation, return_counts=True)
    handles = []
    for object_id, count in zip(ids, counts, strict=True):
        colour = VOID_COLOUR if object_id == VOID_ID else PALETTE[object_id]
        label = {0: "0 background", VOID_ID: "255 void"}.get(int(object_id), f"{object_id} object")
        handles.append(Patch(facecolor=colour / 255, edgecolor="black",
                             label=f"{label}: {count} px"))
    axes[1].legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- objects


def select_objects(annotation: np.ndarray, objects: Iterable[int] | None) -> np.ndarray:
    """The id map with every object not in ``objects`` set to background (void kept).

    ``objects=None`` keeps every object.
    """
    annotation = np.asarray(annotation)
    if objects is None:
        return annotation.copy()
    keep = np.isin(annotation, [*objects, 0, VOID_ID])
    return np.where(keep, annotation, 0).astype(annotation.dtype)


def frame_view(frame: np.ndarray, annotation: np.ndarray | None,
               objects: Iterable[int] | None = None, show_gt: bool = True,
               alpha: float = 0.5) -> np.ndarray:
    """``(H, W, 3)`` uint8: the frame with the chosen objects' ground truth overlaid.

    ``show_gt=False`` (or no annotation) returns a copy of the frame.
    """
    frame = np.asarray(frame)
    if not show_gt or annotation is None:
        return frame.copy()
    return overlay(frame, select_objects(annotation, objects), alpha=alpha)


def object_areas(annotations: Sequence[np.ndarray] | np.ndarray,
                 object_ids: Sequence[int]) -> np.ndarray:
    """``(K, T)`` int: pixels of each object id in each annotation."""
    areas = np.zeros((len(object_ids), len(annotations)), np.int64)
    for t, mask in enumerate(annotations):
        mask = np.asarray(mask)
        for k, object_id in enumerate(object_ids):
            areas[k, t] = np.count_nonzero(mask == object_id)
    return areas


@dataclass(frozen=True)
class AreaCurves:
    """The objects' areas over a video, for :func:`browse_figure`.

    Attributes:
        object_ids: the K objects, in the rows' order.
        areas: ``(K, T)`` pixels of each object in each frame (:func:`object_areas`); NaN for
            frames without ground truth (drawn as points on the annotated frames).
    """

    object_ids: Sequence[int]
    areas: np.ndarray


def _plot_area_curves(ax, curves: AreaCurves, chosen: set[int], index: int,
                      frame_area: float) -> None:
    """Each object's area in % of the frame over time; unchosen ones grey, ``index`` marked."""
    for row, object_id in zip(np.asarray(curves.areas), curves.object_ids, strict=True):
        on = object_id in chosen
        colour = PALETTE[object_id] / 255 if on else (0.8, 0.8, 0.8)
        sparse = bool(np.isnan(row).any())  # annotated frames only: mark them
        ax.plot(100 * row / frame_area, color=colour, lw=2 if on else 1,
                marker="o" if sparse else None, ms=3, label=f"object {object_id}")
    ax.axvline(index, color="black", lw=1, ls="--")
    ax.set_xlabel("frame")
    ax.set_ylabel("area (% of the frame)")
    ax.set_title("ground-truth area of each object")
    if len(curves.object_ids):
        ax.legend(fontsize=8)


def browse_figure(frame: np.ndarray, annotation: np.ndarray | None, index: int,
                  curves: AreaCurves | None = None, objects: Iterable[int] | None = None,
                  show_gt: bool = True, title: str | None = None) -> Figure:
    """One frame of a video with the chosen objects, and the objects' areas over the video.

    Args:
        frame: ``(H, W, 3)`` uint8; annotation: ``(H, W)`` ids of that frame (or None).
        index: the frame number (marked on the area plot).
        curves: the objects' areas over the video (None: no area plot).
        objects: the ids to show (None: all); unselected ones are greyed in the area plot.
        show_gt: overlay the ground truth on the frame.
    """
    if curves is None:
        fig, ax_frame = plt.subplots(figsize=(7, 4.2))
    else:
        fig, (ax_frame, ax_area) = plt.subplots(
            1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
        chosen = set(curves.object_ids if objects is None else objects)
        height, width = np.asarray(frame).shape[:2]
        _plot_area_curves(ax_area, curves, chosen, index, float(height * width))
    ax_frame.imshow(frame_view(frame, annotation, objects, show_gt))
    ax_frame.set_xticks([])
    ax_frame.set_yticks([])
    ax_frame.set_title(title or f"frame {index}")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- challenges


def attribute_matrix(attributes: Mapping[str, Sequence[str]],
                     codes: Sequence[str]) -> np.ndarray:
    """``(S, A)`` bool: does sequence s (in ``attributes`` order) carry code a?"""
    matrix = np.zeros((len(attributes), len(codes)), bool)
    for s, carried in enumerate(attributes.values()):
        for a, code in enumerate(codes):
            matrix[s, a] = code in carried
    return matrix


def attribute_figure(attributes: Mapping[str, Sequence[str]], codes: Sequence[str],
                     title: str | None = None) -> Figure:
    """A sequences x challenge-codes table: a filled cell where the video has the challenge.

    The column titles count the videos per code.
    """
    matrix = attribute_matrix(attributes, codes)
    names = list(attributes)
    fig, ax = plt.subplots(figsize=(0.6 * len(codes) + 2.5, 0.28 * len(names) + 1.4))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1.3, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(codes)), [f"{c}\n{n}" for c, n in zip(codes, matrix.sum(0),
                                                                   strict=True)])
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_xticks(np.arange(-0.5, len(codes)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(names)), minor=True)
    ax.grid(which="minor", color="white", lw=1)
    ax.tick_params(which="minor", length=0)
    if title:
        ax.set_title(title, pad=30)
    fig.tight_layout()
    return fig


def area_curves_figure(objects: Sequence[ObjectInfo], title: str | None = None) -> Figure:
    """Per target: whole-shape, in-frame and visible area over time (the synthetic video's
    measurements, :class:`gcseg.data.synthetic.ObjectInfo`).

    The gap between the whole shape and the part inside the frame is what ``OV`` measures, the
    gap between in-frame and visible what ``OCC`` measures, a visible area of zero followed by
    a non-zero one is ``DR``.
    """
    if not objects:
        raise ValueError("area_curves_figure needs at least one object")
    fig, axes = plt.subplots(1, len(objects), figsize=(4.6 * len(objects), 3.2), squeeze=False)
    for ax, obj in zip(axes[0], objects, strict=True):
        t = np.arange(len(obj.shape_area))
        ax.plot(t, obj.visible_area, color=PALETTE[obj.label] / 255, lw=3, alpha=0.8,
                label="visible (mask)")
        ax.fill_between(t, obj.visible_area, obj.in_frame_area, color="tab:red", alpha=0.15,
                        label="hidden by others")
        ax.fill_between(t, obj.in_frame_area, np.maximum(obj.shape_area, obj.in_frame_area),
                        color="tab:orange", alpha=0.15, label="outside the frame")
        ax.plot(t, obj.in_frame_area, color="tab:orange", ls="--", label="inside the frame")
        ax.plot(t, obj.shape_area, color="black", ls=":", label="whole shape")
        ax.set_title(f"object {obj.label}: {obj.family}, events {obj.events or '-'}", fontsize=9)
        ax.set_xlabel("frame")
        ax.set_ylabel("pixels")
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig

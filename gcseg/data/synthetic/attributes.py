"""Measuring the challenges a rendered synthetic video really shows (DAVIS attribute codes).

The scene plan (:mod:`gcseg.data.synthetic.plan`) asks for occlusions, exits, look-alikes and
fast motion at random; what a video is *tagged* with is measured here from the rendered masks
and areas, with the rules of :data:`ATTRIBUTE_CODES` and the numbers of :data:`THRESHOLDS`.  So
a video is tagged ``DR`` only if an object's mask really becomes empty and non-empty again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gcseg.data.synthetic.plan import Plan
from gcseg.data.synthetic.shapes import Photo, shape_area, shape_iou

__all__ = [
    "ATTRIBUTE_CODES",
    "THRESHOLDS",
    "ObjectInfo",
    "camera_motion",
    "measure_attributes",
    "object_infos",
]

THRESHOLDS: dict[str, float] = {
    "occluded_fraction": 0.25,
    "out_of_view_fraction": 0.05,
    "scale_ratio": 2.0,
    "deformation_iou": 0.8,
    "fast_motion_diagonal": 0.02,
    "distractor_frames": 0.25,
    "distractor_visible": 0.25,
    "camera_diagonal": 0.03,
    "first_frame_area": 0.01,
    "first_frame_visible": 0.5,
}
"""The numbers behind the attribute rules of :data:`ATTRIBUTE_CODES` and the first-frame check."""

ATTRIBUTE_CODES: dict[str, str] = {
    "OCC": "Occlusion: another object (annotated or not) hides at least 25% of a target's "
    "in-frame area in some frame.",
    "OV": "Out of view: the image border cuts off at least 5% of a target's shape in some frame.",
    "DR": "Disappearance and reappearance: a target's mask is empty in some frame (out of view or "
    "fully occluded) and non-empty again in a later frame.",
    "SV": "Scale variation: a target's area (whole shape) leaves [0.5, 2] times its first-frame "
    "area in some frame.",
    "DEF": "Deformation: a target's outline, with size and rotation taken out, overlaps its "
    "first-frame outline with IoU below 0.8 in some frame.",
    "FM": "Fast motion: the centroid of a target's mask moves on average more than 2% of the "
    "image diagonal per frame (DAVIS: 20 px at 854x480).",
    "SD": "Similar distractor: an unannotated look-alike of a target (same photo texture, same "
    "shape family) shows at least 25% of its area in at least a quarter of the frames.",
    "MO": "Multiple objects: two or more annotated objects.",
    "CM": "Camera motion: the background moves (pan or zoom) by more than 3% of the image "
    "diagonal over the video.",
}
"""DAVIS-style challenge codes of the synthetic videos and the rule that measures each."""


@dataclass
class ObjectInfo:
    """One rendered layer: an annotated target (``label`` 1..K) or an unannotated one (0).

    The per-frame arrays have length T; areas are pixel counts measured on the rendering.
    """

    label: int
    role: str  # "target", "distractor" (look-alike of a target) or "occluder"
    family: str  # shape family, see gcseg.data.synthetic.shapes.FAMILIES
    texture: str  # name of the skimage.data photograph its texture is cut from
    depth: int  # drawing order, 0 = farthest back
    events: list[str]  # what the random plan asked for (measured attributes may differ)
    centers: np.ndarray  # (T, 2) shape centre (x, y) in pixels
    scales: np.ndarray  # (T,) pixels per shape unit: the whole shape covers ~pi * scale**2
    shape_area: np.ndarray  # (T,) pixels of the whole shape, border ignored
    in_frame_area: np.ndarray  # (T,) pixels of the shape inside the frame
    visible_area: np.ndarray  # (T,) pixels not hidden by layers in front
    outline_iou: np.ndarray  # (T,) IoU of the outline (size/rotation removed) with frame 0's
    similar_to: int = 0  # for a distractor: the label of the target it imitates

    def summary(self) -> dict:
        """A JSON-ready description (per-frame visible areas as integers)."""
        return {
            "label": self.label,
            "role": self.role,
            "family": self.family,
            "texture": self.texture,
            "depth": self.depth,
            "events": list(self.events),
            "similar_to": self.similar_to,
            "visible_area": [int(a) for a in self.visible_area],
        }


def camera_motion(camera: np.ndarray, size: tuple[int, int]) -> float:
    """Largest displacement (frame pixels) of a frame-0 corner's scene point over the video."""
    height, width = size
    corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]], float)
    scene = corners @ camera[0, :, :2].T + camera[0, :, 2]  # (4, 2) photo pixels
    largest = 0.0
    for affine in camera:
        back = (scene - affine[:, 2]) @ np.linalg.inv(affine[:, :2]).T  # (4, 2) frame pixels
        largest = max(largest, float(np.abs(back - corners).max()))
    return largest


def _target_codes(obj: ObjectInfo, masks: np.ndarray, diagonal: float) -> set[str]:
    """The codes among OCC, OV, DR, SV, DEF and FM that one annotated target shows."""
    inside, visible, area = obj.in_frame_area, obj.visible_area, obj.shape_area
    seen = inside > 0
    empty = np.flatnonzero(visible == 0)
    ratio = area / max(area[0], 1)
    limit = THRESHOLDS["scale_ratio"]
    steps = _centroid_steps(masks, obj.label)
    shows = {
        "OCC": np.any(visible[seen] < (1 - THRESHOLDS["occluded_fraction"]) * inside[seen]),
        "OV": np.any(inside < (1 - THRESHOLDS["out_of_view_fraction"]) * area),
        "DR": empty.size > 0 and np.any(visible[empty[0]:] > 0),
        "SV": np.any((ratio > limit) | (ratio < 1 / limit)),
        "DEF": np.any(obj.outline_iou < THRESHOLDS["deformation_iou"]),
        "FM": steps.size > 0 and steps.mean() > THRESHOLDS["fast_motion_diagonal"] * diagonal,
    }
    return {code for code, shown in shows.items() if shown}


def _look_alike_shown(other: ObjectInfo) -> bool:
    """SD: a look-alike shows enough of itself in enough frames."""
    if other.role != "distractor":
        return False
    shown = other.visible_area >= THRESHOLDS["distractor_visible"] * other.shape_area
    return bool(shown.mean() >= THRESHOLDS["distractor_frames"])


def measure_attributes(
    objects: list[ObjectInfo], distractors: list[ObjectInfo], masks: np.ndarray,
    camera_motion: float,
) -> list[str]:
    """The challenge codes of :data:`ATTRIBUTE_CODES` that the rendered video really shows.

    ``objects`` hold the measured per-frame areas of the targets, ``masks`` the ``(T, H, W)``
    id maps, ``camera_motion`` the background displacement in pixels.
    """
    _, height, width = masks.shape
    diagonal = float(np.hypot(height, width))
    found: set[str] = set()
    for obj in objects:
        found |= _target_codes(obj, masks, diagonal)
    if any(_look_alike_shown(other) for other in distractors):
        found.add("SD")
    if len(np.unique(masks[0][masks[0] > 0])) >= 2:
        found.add("MO")
    if camera_motion > THRESHOLDS["camera_diagonal"] * diagonal:
        found.add("CM")
    return [code for code in ATTRIBUTE_CODES if code in found]


def _centroid_steps(masks: np.ndarray, label: int) -> np.ndarray:
    """Centroid displacements (pixels) between consecutive frames where ``label`` is visible."""
    centroids = []
    for mask in masks:
        ys, xs = np.nonzero(mask == label)
        centroids.append((xs.mean(), ys.mean()) if xs.size else (np.nan, np.nan))
    centroids = np.array(centroids)  # (T, 2)
    steps = np.hypot(*np.diff(centroids, axis=0).T)  # (T-1,)
    return steps[~np.isnan(steps)]


def object_infos(
    plan: Plan, photos: tuple[Photo, ...], layer_maps: np.ndarray, in_frame: np.ndarray
) -> list[ObjectInfo]:
    """Per-layer measurements, in layer (depth) order; targets get labels 1..K."""
    n_frames = len(plan.camera)
    n_layers = len(plan.layers)
    visible = np.stack([np.bincount(m.ravel(), minlength=n_layers + 1)[1:] for m in layer_maps],
                       axis=1)  # (L, T)
    labels, next_label = {}, 1
    for index, layer in enumerate(plan.layers):
        if layer.role == "target":
            labels[index], next_label = next_label, next_label + 1
    infos = []
    for index, layer in enumerate(plan.layers):
        first = layer.outline(0)
        infos.append(ObjectInfo(
            label=labels.get(index, 0),
            role=layer.role,
            family=layer.shape.family,
            texture=photos[layer.photo].name,
            depth=index,
            events=list(layer.events),
            centers=layer.centers.copy(),
            scales=layer.scales.copy(),
            shape_area=np.array([shape_area(layer.points(t)) for t in range(n_frames)]),
            in_frame_area=in_frame[index].copy(),
            visible_area=visible[index].copy(),
            outline_iou=np.array([shape_iou(first, layer.outline(t)) for t in range(n_frames)]),
            similar_to=labels.get(layer.similar_to, 0),
        ))
    return infos


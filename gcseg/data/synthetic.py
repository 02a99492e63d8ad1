"""The built-in synthetic VOS benchmark, written in exactly the DAVIS layout (SPEC §10).

Real DAVIS is a multi-gigabyte download; a student who wants to see every stage of GCSeg run
end to end needs a small benchmark that is generated in seconds, has the same folder layout (so
the readers and the evaluator run on the same code path as on DAVIS), and shows the challenges
the paper's parts are meant for:

- the Reference Module and the Adaptive Search (paper III-A-4, III-B) matter when objects get
  occluded, leave the frame and come back (``OCC``, ``OV``, ``DR``);
- the Co-segmentation Module (III-A-3) must tell the target from look-alikes (``SD``);
- objects move fast, change scale and shape (``FM``, ``SV``, ``DEF``), with several objects per
  video (``MO``, DAVIS 2017) and a moving camera (``CM``).

Each video is a background cut from a real photograph (``skimage.data``) seen through a slowly
panning and zooming camera, with 1-3 annotated objects in front of it: random shapes (ellipses,
polygons, Fourier blobs) textured with crops of *other* photographs, drawn back to front so that
the masks hold what is visible.  Unannotated layers add look-alike distractors (same texture and
shape family as a target) and occluders.  The challenges are planned at random and then
**measured** from the rendered masks (see :data:`ATTRIBUTE_CODES` for the exact rules), so a
video is tagged ``DR`` only if an object's mask really becomes empty and non-empty again.

Output (``make_synthetic``)::

    <out>/JPEGImages/480p/syn-train-000/00000.jpg ...   frames (the folder is named 480p as in
    <out>/Annotations/480p/syn-train-000/00000.png ...  DAVIS, whatever ``size`` is)
    <out>/ImageSets/2017/{train,val}.txt                 the same lists for 2016 (objects merged)
    <out>/ImageSets/2016/{train,val}.txt
    <out>/attributes.json    {"codes": {CODE: description}, "sequences": {seq: [CODE, ...]}}
    <out>/synthetic.json     parameters, seed, format version, per-object summaries; its
                             ``generator`` field marks a folder ``--overwrite`` may replace

The same arguments give byte-identical files (with the same numpy, OpenCV, Pillow and
scikit-image): every video draws from its own ``numpy.random.SeedSequence(seed,
spawn_key=(split, index))``, so the splits never share a random stream and adding videos does
not change the earlier ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from gcseg.data.synthetic_shapes import (
    FAMILIES,
    Photo,
    Shape,
    bounding_box,
    fill_alpha,
    fold,
    load_photos,
    make_shape,
    place,
    shape_area,
    shape_iou,
    similar_shape,
    smooth_path,
    smoothstep_window,
)
from gcseg.runtime import staged_folder

__all__ = [
    "ATTRIBUTE_CODES",
    "FORMAT_VERSION",
    "SPLITS",
    "THRESHOLDS",
    "ObjectInfo",
    "SyntheticVideo",
    "camera_motion",
    "check_synthetic_folder",
    "make_synthetic",
    "measure_attributes",
    "render_video",
    "sequence_name",
]

FORMAT_VERSION = 1
"""Version of the files :func:`make_synthetic` writes (bumped when their content changes)."""

SPLITS: dict[str, int] = {"train": 0, "val": 1}
"""Split name -> the key in each video's seed sequence (disjoint streams per split)."""

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

_MIN_SIZE = 32
_MAX_PLAN_TRIES = 200
_SHADOW_STRENGTH = 0.35


# --------------------------------------------------------------------------- results


@dataclass
class ObjectInfo:
    """One rendered layer: an annotated target (``label`` 1..K) or an unannotated one (0).

    The per-frame arrays have length T; areas are pixel counts measured on the rendering.
    """

    label: int
    role: str  # "target", "distractor" (look-alike of a target) or "occluder"
    family: str  # shape family, see gcseg.data.synthetic_shapes.FAMILIES
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


@dataclass
class SyntheticVideo:
    """A rendered video held in memory (what :func:`render_video` returns)."""

    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    masks: np.ndarray  # (T, H, W) uint8 object ids 0..K
    attributes: list[str]  # measured challenge codes, in ATTRIBUTE_CODES order
    objects: list[ObjectInfo]  # annotated targets, ids 1..K in order
    distractors: list[ObjectInfo]  # unannotated layers (look-alikes, occluders)
    background: str  # name of the background photograph
    camera: np.ndarray = field(repr=False)  # (T, 2, 3) affine map frame pixel -> photo pixel

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def num_objects(self) -> int:
        return len(self.objects)


# --------------------------------------------------------------------------- planning


@dataclass
class _Layer:
    """A layer of the plan: a shape, its texture and its motion over T frames."""

    role: str
    shape: Shape
    photo: int
    tex_center: np.ndarray  # (2,) photo pixels (x, y)
    tex_scale: float  # photo pixels per shape unit
    tex_angle: float
    gain: float
    centers: np.ndarray  # (T, 2)
    scales: np.ndarray  # (T,)
    angles: np.ndarray  # (T,)
    depth_key: float
    events: list[str] = field(default_factory=list)
    similar_to: int = -1  # index (in the plan's layer list) of the imitated target

    def outline(self, t: int) -> np.ndarray:
        return self.shape.outline(t)  # (N, 2) shape units

    def points(self, t: int) -> np.ndarray:
        return place(self.outline(t), self.centers[t], self.scales[t], self.angles[t])

    def radius(self, t: int) -> float:
        """Largest distance from the centre to the outline, in pixels."""
        return float(self.scales[t] * self.shape.radii(t).max())


@dataclass
class _Plan:
    size: tuple[int, int]
    background: int
    camera: np.ndarray  # (T, 2, 3)
    layers: list[_Layer]  # back to front


def _texture(rng: np.random.Generator, photo: Photo) -> tuple[np.ndarray, float, float, float]:
    """Where an object's texture is cut: centre, photo pixels per shape unit, angle, gain.

    The object shows a patch of radius 12-30% of the photo's short side whatever its size in
    the frame, so it keeps recognisable content (fur, a face, bricks) at any resolution.
    """
    height, width = photo.image.shape[:2]
    tex_scale = rng.uniform(0.12, 0.3) * min(height, width)
    center = np.array([rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height])
    angle, gain = float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.85, 1.15))
    return center, float(tex_scale), angle, gain


def _scale_curve(rng: np.random.Generator, n_frames: int, s0: float, vary: bool) -> np.ndarray:
    """``(T,)`` scales: a log-linear trend (strong when ``vary``) plus a slow wobble."""
    t = np.arange(n_frames) / max(n_frames - 1, 1)
    trend = rng.uniform(0.45, 0.85) * rng.choice([-1.0, 1.0]) if vary else rng.uniform(-0.15, 0.15)
    wobble = 0.05 * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t + rng.uniform(0, 2 * np.pi))
    return s0 * np.exp(trend * t + wobble)


def _angle_curve(rng: np.random.Generator, n_frames: int, fast: bool) -> np.ndarray:
    """``(T,)`` rotation angles (radians): a steady spin plus a slow sway."""
    t = np.arange(n_frames, dtype=np.float64)
    spin = rng.uniform(-1, 1) * (0.08 if fast else 0.03)  # radians per frame
    return rng.uniform(0, 2 * np.pi) + spin * t + 0.15 * np.sin(t * rng.uniform(0.05, 0.2))


def _centers(
    rng: np.random.Generator, n_frames: int, size: tuple[int, int], radius: float, fast: bool
) -> np.ndarray:
    """``(T, 2)`` smooth trajectory bouncing inside the frame (margin may let it poke out)."""
    height, width = size
    diagonal = float(np.hypot(height, width))
    margin = rng.uniform(0.0, 1.0) * radius
    low, high = np.array([margin, margin]), np.array([width - 1 - margin, height - 1 - margin])
    start = low + rng.uniform(0.15, 0.85, 2) * np.maximum(high - low, 0)
    speed = diagonal * (rng.uniform(0.025, 0.05) if fast else rng.uniform(0.0015, 0.01))
    wiggle = rng.uniform(0.03, 0.12)
    path = start[None, :] + smooth_path(rng, n_frames, speed, wiggle, np.array([width, height]))
    return np.stack([fold(path[:, k], low[k], high[k]) for k in range(2)], axis=1)


def _new_target(
    rng: np.random.Generator, n_frames: int, size: tuple[int, int], photo_index: int,
    photos: tuple[Photo, ...],
) -> _Layer:
    """An annotated object with random shape, size, texture, motion and planned events."""
    height, width = size
    events = [name for name, p in (("deform", 0.3), ("fast", 0.25), ("scale", 0.3))
              if rng.random() < p]
    shape = make_shape(rng, str(rng.choice(FAMILIES)), deform="deform" in events)
    area_fraction = np.exp(rng.uniform(np.log(0.015), np.log(0.07)))
    s0 = np.sqrt(area_fraction * height * width / np.pi)
    scales = np.minimum(_scale_curve(rng, n_frames, s0, "scale" in events),
                        np.sqrt(0.22 * height * width / np.pi))
    radius = float(scales.max() * shape.rest.max() * 1.2)
    centers = _centers(rng, n_frames, size, radius, "fast" in events)
    tex = _texture(rng, photos[photo_index])
    return _Layer("target", shape, photo_index, *tex, centers, scales,
                  _angle_curve(rng, n_frames, "fast" in events), float(rng.random()), events)


def _add_look_alike(
    rng: np.random.Generator, target: _Layer, index: int, size: tuple[int, int]
) -> _Layer:
    """An unannotated distractor: the target's texture and shape family, its own motion."""
    n_frames = len(target.scales)
    shape = similar_shape(rng, target.shape)
    scales = target.scales[0] * rng.uniform(0.8, 1.2) * np.exp(
        0.05 * np.sin(np.arange(n_frames) * rng.uniform(0.05, 0.3))
    )
    radius = float(scales.max() * shape.rest.max() * 1.2)
    centers = _centers(rng, n_frames, size, radius, fast=False)
    offset = rng.uniform(-0.05, 0.05, 2) * target.tex_scale * 4
    return _Layer("distractor", shape, target.photo, target.tex_center + offset,
                  target.tex_scale, float(rng.uniform(0, 2 * np.pi)), target.gain,
                  centers, scales, _angle_curve(rng, n_frames, False), float(rng.random()),
                  ["look-alike"], similar_to=index)


def _add_overpass(
    rng: np.random.Generator, back: _Layer, role: str, photo_index: int,
    photos: tuple[Photo, ...], size: tuple[int, int],
) -> _Layer | None:
    """A larger layer that slides over ``back`` and covers it around a middle frame.

    Its centre is ``back``'s centre plus an offset that shrinks linearly to zero at frame
    ``t_m`` and keeps going, so it crosses right over ``back`` (full occlusion when it is big
    enough).  Returns None when no start position inside the frame keeps frame 0 clear.
    """
    height, width = size
    n_frames = len(back.scales)
    if n_frames < 4:
        return None
    shape = make_shape(rng, str(rng.choice(["ellipse", "blob"])), deform=False)
    scales = back.scales * rng.uniform(1.8, 2.4)
    t_m = int(rng.integers(max(1, round(0.3 * n_frames)), max(2, round(0.7 * n_frames)) + 1))
    t_m = min(t_m, n_frames - 2)
    clearance = 1.15 * (scales[0] * shape.rest.max() + back.radius(0))
    for _ in range(12):
        heading = rng.uniform(0, 2 * np.pi)
        offset = clearance * rng.uniform(1.0, 1.3) * np.array([np.cos(heading), np.sin(heading)])
        start = back.centers[0] + offset
        if 0.05 * width <= start[0] <= 0.95 * width and 0.05 * height <= start[1] <= 0.95 * height:
            break
    else:
        return None
    t = np.arange(n_frames, dtype=np.float64)[:, None]
    centers = back.centers + offset[None, :] * (1 - t / t_m)
    tex = _texture(rng, photos[photo_index])
    depth = back.depth_key + rng.uniform(0.01, 1.0) * (1.0 - back.depth_key)
    back.events.append("occluded")
    return _Layer(role, shape, photo_index, *tex, centers, scales,
                  _angle_curve(rng, n_frames, False), depth, ["occluder"])


def _add_exit(rng: np.random.Generator, layer: _Layer, size: tuple[int, int]) -> bool:
    """Push ``layer`` out through the nearest border for a few frames, then bring it back."""
    height, width = size
    n_frames = len(layer.scales)
    ramp = max(1, round(n_frames * rng.uniform(0.06, 0.12)))
    plateau = max(1, round(n_frames * rng.uniform(0.08, 0.2)))
    last_start = n_frames - 2 - (2 * ramp + plateau - 1)  # back in view before the last frame
    if last_start < 1:
        return False
    start = int(rng.integers(1, last_start + 1))
    weight = smoothstep_window(n_frames, start, ramp, plateau)  # (T,)
    middle = start + ramp + plateau // 2
    x, y = layer.centers[middle]
    gaps = np.array([x, width - 1 - x, y, height - 1 - y])  # left, right, top, bottom
    side = int(np.argmin(gaps))
    direction = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.float64)[side]
    axis, sign = side // 2, direction[side // 2]
    limit = 0.0 if sign < 0 else (width - 1 if axis == 0 else height - 1)
    frames = np.flatnonzero(weight > 0)
    push = max(abs(limit - layer.centers[t, axis]) + layer.radius(t) for t in frames) + 2.0
    layer.centers = layer.centers + weight[:, None] * push * direction[None, :]
    layer.events.append("exit")
    return True


def _camera(
    rng: np.random.Generator, photo: Photo, size: tuple[int, int], n_frames: int, moving: bool
) -> np.ndarray:
    """``(T, 2, 3)`` affine maps frame pixel -> photo pixel: a crop that pans and zooms."""
    height, width = size
    photo_h, photo_w = photo.image.shape[:2]
    k_max = min(photo_h / height, photo_w / width)  # photo pixels per frame pixel, whole photo
    k0 = k_max * rng.uniform(0.5, 0.9)
    k1 = k0 * np.exp(rng.uniform(-0.3, 0.3)) if moving else k0
    k1 = min(k1, k_max)

    def valid_center(k: float, fractions: np.ndarray) -> np.ndarray:
        half = np.array([k * width / 2, k * height / 2])
        return half + fractions * np.maximum(np.array([photo_w, photo_h]) - 2 * half, 0)

    start = rng.uniform(0, 1, 2)  # where the crop sits in the photo, as fractions
    end = np.clip(start + rng.uniform(-0.6, 0.6, 2), 0, 1) if moving else start
    c0, c1 = valid_center(k0, start), valid_center(k1, end)
    progress = np.arange(n_frames) / max(n_frames - 1, 1)
    progress = progress * progress * (3 - 2 * progress)  # ease in and out
    maps = np.zeros((n_frames, 2, 3))
    for t, u in enumerate(progress):
        k = k0 * (k1 / k0) ** u
        center = c0 + u * (c1 - c0)
        maps[t, :, :2] = np.eye(2) * k
        maps[t, :, 2] = center - k * np.array([(width - 1) / 2, (height - 1) / 2])
    return maps


def _plan_video(
    rng: np.random.Generator, n_frames: int, size: tuple[int, int], photos: tuple[Photo, ...]
) -> _Plan:
    """Draw one random plan (not yet checked for a usable first frame)."""
    order = [int(i) for i in rng.permutation(len(photos))]  # photos without repetition
    background, textures = order[0], order[1:]
    camera = _camera(rng, photos[background], size, n_frames, moving=rng.random() < 0.65)
    n_targets = int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))
    overpass = rng.random() < 0.5
    annotated_front = overpass and n_targets >= 2 and rng.random() < 0.5
    n_plain = n_targets - int(annotated_front)
    layers = [_new_target(rng, n_frames, size, textures[k % len(textures)], photos)
              for k in range(n_plain)]
    if overpass:
        back = int(rng.integers(n_plain))
        role = "target" if annotated_front else "occluder"
        front = _add_overpass(rng, layers[back], role, textures[n_plain % len(textures)],
                              photos, size)
        if front is not None:
            layers.append(front)
        elif annotated_front:  # keep the planned number of targets
            layers.append(_new_target(rng, n_frames, size, textures[n_plain % len(textures)],
                                      photos))
    if rng.random() < 0.3:
        candidates = [i for i, layer in enumerate(layers)
                      if layer.role == "target" and "occluder" not in layer.events]
        if candidates:
            chosen = int(rng.choice(candidates))
            _add_exit(rng, layers[chosen], size)
    if rng.random() < 0.4:
        targets = [i for i, layer in enumerate(layers) if layer.role == "target"]
        imitated = int(rng.choice(targets))
        layers.append(_add_look_alike(rng, layers[imitated], imitated, size))
    return _Plan(size, background, camera, layers)


def _sort_layers(plan: _Plan) -> None:
    """Order layers back to front; distractors keep pointing at their targets."""
    order = sorted(range(len(plan.layers)), key=lambda i: plan.layers[i].depth_key)
    position = {old: new for new, old in enumerate(order)}
    layers = [plan.layers[i] for i in order]
    for layer in layers:
        if layer.similar_to >= 0:
            layer.similar_to = position[layer.similar_to]
    plan.layers = layers


def _first_frame_ok(plan: _Plan, photos: tuple[Photo, ...]) -> bool:
    """Every target shows at least 1% of the frame and half of its shape in frame 0."""
    height, width = plan.size
    _, layer_maps, _ = _render(plan, photos, n_frames=1, with_image=False)
    counts = np.bincount(layer_maps[0].ravel(), minlength=len(plan.layers) + 1)
    for index, layer in enumerate(plan.layers):
        if layer.role != "target":
            continue
        visible = counts[index + 1]
        if visible < THRESHOLDS["first_frame_area"] * height * width:
            return False
        if visible < THRESHOLDS["first_frame_visible"] * shape_area(layer.points(0)):
            return False
    return True


# --------------------------------------------------------------------------- rendering


def _composite(
    image: np.ndarray, layer: _Layer, t: int, photos: tuple[Photo, ...],
    window: tuple[int, int, int, int], alpha: np.ndarray, shadow_offset: np.ndarray,
) -> None:
    """Draw ``layer`` (texture, soft shadow) into the float32 ``image`` inside ``window``."""
    x0, y0, x1, y1 = window
    points = layer.points(t)
    region = image[y0:y1, x0:x1]  # (h, w, 3) view
    scale = float(layer.scales[t])
    shadow = fill_alpha(points + shadow_offset * scale, (y1 - y0, x1 - x0), (x0, y0))
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(0.12 * scale, 0.8)).astype(np.float32)
    region *= (1 - _SHADOW_STRENGTH / 255 * shadow)[:, :, None]
    # frame pixel -> photo pixel: u = R(-theta)(x - c)/s, photo = c_tex + k_tex R(angle_tex) u
    turn = layer.tex_angle - layer.angles[t]
    linear = layer.tex_scale / scale * np.array(
        [[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]
    )
    shift = layer.tex_center - linear @ (layer.centers[t] - np.array([x0, y0]))
    affine = np.hstack([linear, shift[:, None]])
    texture = photos[layer.photo].warp(affine, (x1 - x0, y1 - y0)).astype(np.float32)
    texture *= layer.gain  # (h, w, 3)
    weight = (alpha.astype(np.float32) / 255)[:, :, None]
    region += weight * (texture - region)


def _render(
    plan: _Plan, photos: tuple[Photo, ...], n_frames: int | None = None, with_image: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Render frames back to front.

    Returns ``frames`` ``(T, H, W, 3)`` uint8 (None unless ``with_image``), ``layer_maps``
    ``(T, H, W)`` uint8 (0 = background, ``i + 1`` = layer ``i`` visible there) and
    ``in_frame`` ``(L, T)`` pixel counts of each layer's shape inside the frame.
    """
    height, width = plan.size
    total = len(plan.camera) if n_frames is None else n_frames
    frames = np.zeros((total, height, width, 3), np.uint8) if with_image else None
    layer_maps = np.zeros((total, height, width), np.uint8)
    in_frame = np.zeros((len(plan.layers), total), np.int64)
    shadow_offset = np.array([0.12, 0.16])  # light from the top left, in shape units
    background = photos[plan.background]
    for t in range(total):
        if with_image:
            image = background.warp(plan.camera[t], (width, height)).astype(np.float32)
        for index, layer in enumerate(plan.layers):
            points = layer.points(t)
            pad = 0.5 * layer.scales[t] if with_image else 0.0  # room for the shadow
            x0, y0, x1, y1 = bounding_box(points, pad)
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
            if x1 <= x0 or y1 <= y0:
                continue
            alpha = fill_alpha(points, (y1 - y0, x1 - x0), (x0, y0))  # (h, w)
            mask = alpha >= 128
            in_frame[index, t] = np.count_nonzero(mask)
            layer_maps[t, y0:y1, x0:x1][mask] = index + 1
            if with_image:
                _composite(image, layer, t, photos, (x0, y0, x1, y1), alpha, shadow_offset)
        if with_image:
            frames[t] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return frames, layer_maps, in_frame


# --------------------------------------------------------------------------- measuring


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


def measure_attributes(
    objects: list[ObjectInfo], distractors: list[ObjectInfo], masks: np.ndarray,
    camera_motion: float,
) -> list[str]:
    """The challenge codes of :data:`ATTRIBUTE_CODES` that the rendered video really shows.

    ``objects`` hold the measured per-frame areas of the targets, ``masks`` the ``(T, H, W)``
    id maps, ``camera_motion`` the background displacement in pixels.
    """
    n_frames, height, width = masks.shape
    diagonal = float(np.hypot(height, width))
    found: set[str] = set()
    for obj in objects:
        inside, visible = obj.in_frame_area, obj.visible_area
        seen = inside > 0
        if np.any(visible[seen] < (1 - THRESHOLDS["occluded_fraction"]) * inside[seen]):
            found.add("OCC")
        if np.any(inside < (1 - THRESHOLDS["out_of_view_fraction"]) * obj.shape_area):
            found.add("OV")
        empty = np.flatnonzero(visible == 0)
        if empty.size and np.any(visible[empty[0]:] > 0):
            found.add("DR")
        ratio = obj.shape_area / max(obj.shape_area[0], 1)
        limit = THRESHOLDS["scale_ratio"]
        if np.any((ratio > limit) | (ratio < 1 / limit)):
            found.add("SV")
        if np.any(obj.outline_iou < THRESHOLDS["deformation_iou"]):
            found.add("DEF")
        steps = _centroid_steps(masks, obj.label)
        if steps.size and steps.mean() > THRESHOLDS["fast_motion_diagonal"] * diagonal:
            found.add("FM")
    for other in distractors:
        if other.role != "distractor":
            continue
        shown = other.visible_area >= THRESHOLDS["distractor_visible"] * other.shape_area
        if shown.mean() >= THRESHOLDS["distractor_frames"]:
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


def _object_infos(
    plan: _Plan, photos: tuple[Photo, ...], layer_maps: np.ndarray, in_frame: np.ndarray
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


def _as_rng(rng_or_seed) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if isinstance(rng_or_seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(rng_or_seed)
    raise TypeError(f"expected a numpy Generator, SeedSequence or int seed, got {rng_or_seed!r}")


def _check_size(size) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (H, W), got {size!r}") from None
    if height < _MIN_SIZE or width < _MIN_SIZE:
        raise ValueError(f"size {size!r} is too small: at least {_MIN_SIZE}x{_MIN_SIZE}")
    return height, width


def render_video(
    rng_or_seed: np.random.Generator | np.random.SeedSequence | int,
    n_frames: int,
    size: tuple[int, int],
    *,
    photos: tuple[Photo, ...] | None = None,
) -> SyntheticVideo:
    """Render one synthetic VOS video in memory.

    Args:
        rng_or_seed: a numpy ``Generator`` (advanced in place), a ``SeedSequence`` or an int.
        n_frames: T >= 1.
        size: ``(H, W)`` of the frames, each at least 32.
        photos: the photographs to use (default :func:`load_photos`).

    Returns:
        A :class:`SyntheticVideo` with ``frames`` ``(T, H, W, 3)`` uint8, ``masks``
        ``(T, H, W)`` uint8 ids 0..K (every object non-empty in frame 0), the measured
        ``attributes`` and the per-object metadata.
    """
    if int(n_frames) < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    n_frames, size = int(n_frames), _check_size(size)
    rng = _as_rng(rng_or_seed)
    photos = load_photos() if photos is None else photos
    for _ in range(_MAX_PLAN_TRIES):
        plan = _plan_video(rng, n_frames, size, photos)
        _sort_layers(plan)
        if _first_frame_ok(plan, photos):
            break
    else:
        raise RuntimeError(f"no usable first frame after {_MAX_PLAN_TRIES} plans at size {size}")
    frames, layer_maps, in_frame = _render(plan, photos)
    infos = _object_infos(plan, photos, layer_maps, in_frame)
    lookup = np.array([0] + [info.label for info in infos], dtype=np.uint8)
    masks = lookup[layer_maps]  # (T, H, W) ids
    objects = [info for info in infos if info.role == "target"]
    objects.sort(key=lambda info: info.label)
    distractors = [info for info in infos if info.role != "target"]
    attributes = measure_attributes(objects, distractors, masks,
                                    camera_motion(plan.camera, size))
    return SyntheticVideo(frames, masks, attributes, objects, distractors,
                          photos[plan.background].name, plan.camera)


# --------------------------------------------------------------------------- the dataset


def sequence_name(split: str, index: int) -> str:
    """``"syn-train-000"``, ``"syn-val-003"``, ..."""
    return f"syn-{split}-{index:03d}"


def _frame_range(frames) -> tuple[int, int]:
    if isinstance(frames, (int, np.integer)):
        low = high = int(frames)
    else:
        try:
            low, high = (int(v) for v in frames)
        except (TypeError, ValueError):
            raise ValueError(f"frames must be an int or (min, max), got {frames!r}") from None
    if not 2 <= low <= high:
        raise ValueError(f"frames must satisfy 2 <= min <= max, got {frames!r}")
    return low, high


def _write_video(root: Path, name: str, video: SyntheticVideo, quality: int) -> None:
    from gcseg.data.davis import write_annotation, write_frame

    for t in range(len(video)):
        write_frame(root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg", video.frames[t],
                    quality=quality)
        write_annotation(root / "Annotations" / "480p" / name / f"{t:05d}.png", video.masks[t])


GENERATOR = "gcseg.data.synthetic.make_synthetic"
"""The ``generator`` field of ``synthetic.json``: the marker of a folder :func:`make_synthetic`
wrote, the only kind its ``overwrite`` replaces."""

WRITTEN = ("JPEGImages", "Annotations", "ImageSets", "attributes.json", "synthetic.json")
"""What :func:`make_synthetic` writes at the root of a benchmark."""


def check_synthetic_folder(folder: str | os.PathLike) -> None:
    """Raise FileExistsError unless ``folder`` is a benchmark :func:`make_synthetic` wrote: its
    ``synthetic.json`` names :data:`GENERATOR` and nothing else was added at its root."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "synthetic.json").read_text(encoding="utf-8"))
        generator = meta["generator"]
    except (OSError, ValueError, TypeError, KeyError):
        generator = None
    if generator != GENERATOR:
        raise FileExistsError(
            f"{folder}: not a synthetic benchmark written by gcseg (no synthetic.json from "
            "make-synthetic): --overwrite replaces only one; choose another --out or remove "
            "the folder yourself")
    extra = sorted(entry.name for entry in folder.iterdir() if entry.name not in WRITTEN)
    if extra:
        raise FileExistsError(
            f"{folder}: holds {', '.join(extra[:3])}{' ...' if len(extra) > 3 else ''}, which "
            "make-synthetic did not write: --overwrite would delete it; move it away or "
            "choose another --out")


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def _generate(
    root: Path, *, seed: int, counts: dict[str, int], frames: tuple[int, int],
    size: tuple[int, int], quality: int, progress: bool, parameters: dict,
) -> None:
    """Render and write every video and the index files into ``root``."""
    import skimage
    from tqdm.auto import tqdm

    photos = load_photos()
    names: dict[str, list[str]] = {split: [] for split in SPLITS}
    attributes: dict[str, list[str]] = {}
    summaries: dict[str, dict] = {}
    with tqdm(total=sum(counts.values()), desc="synthetic videos", unit="video",
              disable=not progress) as bar:
        for split, key in SPLITS.items():
            for index in range(counts[split]):
                rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, index)))
                n_frames = int(rng.integers(frames[0], frames[1] + 1))
                video = render_video(rng, n_frames, size, photos=photos)
                name = sequence_name(split, index)
                _write_video(root, name, video, quality)
                names[split].append(name)
                attributes[name] = video.attributes
                summaries[name] = {
                    "split": split,
                    "n_frames": n_frames,
                    "background": video.background,
                    "attributes": video.attributes,
                    "objects": [obj.summary() for obj in video.objects],
                    "distractors": [obj.summary() for obj in video.distractors],
                }
                bar.update(1)
    for year in ("2016", "2017"):
        for split in SPLITS:
            split_file = root / "ImageSets" / year / f"{split}.txt"
            split_file.parent.mkdir(parents=True, exist_ok=True)
            split_file.write_text("".join(f"{name}\n" for name in names[split]))
    _write_json(root / "attributes.json", {"codes": ATTRIBUTE_CODES, "sequences": attributes})
    _write_json(root / "synthetic.json", {
        "format_version": FORMAT_VERSION,
        "generator": GENERATOR,
        "parameters": parameters,
        "scikit_image": skimage.__version__,
        "photos": [photo.name for photo in photos],
        "thresholds": THRESHOLDS,
        "splits": names,
        "sequences": summaries,
    })


def make_synthetic(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    n_train: int = 20,
    n_val: int = 10,
    frames: int | tuple[int, int] = (24, 40),
    size: tuple[int, int] = (240, 432),
    progress: bool = True,
    overwrite: bool = False,
    quality: int = 90,
) -> Path:
    """Write the synthetic benchmark in the DAVIS layout; returns ``out_dir``.

    Args:
        out_dir: the dataset root to create.
        seed: the benchmark's seed; video ``i`` of a split draws from
            ``SeedSequence(seed, spawn_key=(split_key, i))`` (train 0, val 1).
        n_train, n_val: videos per split (``syn-train-000``, ..., ``syn-val-000``, ...).
        frames: frames per video, an int or an inclusive ``(min, max)`` range drawn per video.
        size: ``(H, W)`` of the frames (the folders are still named ``480p``, as in DAVIS).
        progress: show a tqdm progress bar over the videos.
        overwrite: replace an existing non-empty ``out_dir`` (otherwise refuse), only when it
            is a benchmark this function wrote (:func:`check_synthetic_folder`).
        quality: JPEG quality of the frames.

    The files are written into a staging folder beside ``out_dir`` (``.<name>.partial-...``)
    that is renamed into place at the end (:func:`gcseg.runtime.staged_folder`), so an
    interrupted run never leaves a half-written dataset at ``out_dir``; the staging folder of
    a run killed outright is removed at the next start.

    Raises:
        FileExistsError: ``out_dir`` is a file, or a non-empty folder and ``overwrite`` is
            false, or not a benchmark written here (checked before anything is written).
    """
    out = Path(out_dir)
    size, frame_range = _check_size(size), _frame_range(frames)
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    counts = {"train": int(n_train), "val": int(n_val)}
    if min(counts.values()) < 0 or sum(counts.values()) == 0:
        raise ValueError(f"need n_train, n_val >= 0 and at least one video, got {counts}")
    parameters = {
        "seed": int(seed), "n_train": counts["train"], "n_val": counts["val"],
        "frames": list(frame_range) if not isinstance(frames, (int, np.integer)) else int(frames),
        "size": list(size), "quality": int(quality),
    }
    with staged_folder(out, overwrite, replaceable=check_synthetic_folder) as partial:
        _generate(partial, seed=int(seed), counts=counts, frames=frame_range, size=size,
                  quality=int(quality), progress=progress, parameters=parameters)
    return out

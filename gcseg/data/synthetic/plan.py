"""Planning a synthetic video at random: the background camera and the layers in front of it.

A :class:`Plan` is drawn before anything is rendered: a background photograph seen through a
slowly panning and zooming camera, and 1-3 annotated targets (random shapes textured with crops
of *other* photographs) with their motion over T frames.  Some plans add an occluder (or a
second target) that slides right over a target, push a target out of the frame and back, or add
an unannotated look-alike of a target (same texture and shape family).  The draws follow a fixed
order from one numpy ``Generator``, so a seed gives the same plan on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gcseg.data.synthetic.shapes import (
    FAMILIES,
    Photo,
    Shape,
    fold,
    make_shape,
    place,
    similar_shape,
    smooth_path,
    smoothstep_window,
)

__all__ = ["Layer", "Plan", "plan_video", "sort_layers"]


@dataclass
class Layer:
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
class Plan:
    size: tuple[int, int]
    background: int
    camera: np.ndarray  # (T, 2, 3)
    layers: list[Layer]  # back to front



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
) -> Layer:
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
    return Layer("target", shape, photo_index, *tex, centers, scales,
                  _angle_curve(rng, n_frames, "fast" in events), float(rng.random()), events)


def _add_look_alike(
    rng: np.random.Generator, target: Layer, index: int, size: tuple[int, int]
) -> Layer:
    """An unannotated distractor: the target's texture and shape family, its own motion."""
    n_frames = len(target.scales)
    shape = similar_shape(rng, target.shape)
    scales = target.scales[0] * rng.uniform(0.8, 1.2) * np.exp(
        0.05 * np.sin(np.arange(n_frames) * rng.uniform(0.05, 0.3))
    )
    radius = float(scales.max() * shape.rest.max() * 1.2)
    centers = _centers(rng, n_frames, size, radius, fast=False)
    offset = rng.uniform(-0.05, 0.05, 2) * target.tex_scale * 4
    return Layer("distractor", shape, target.photo, target.tex_center + offset,
                  target.tex_scale, float(rng.uniform(0, 2 * np.pi)), target.gain,
                  centers, scales, _angle_curve(rng, n_frames, False), float(rng.random()),
                  ["look-alike"], similar_to=index)


def _add_overpass(
    rng: np.random.Generator, back: Layer, role: str, photo_index: int,
    photos: tuple[Photo, ...], size: tuple[int, int],
) -> Layer | None:
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
    return Layer(role, shape, photo_index, *tex, centers, scales,
                  _angle_curve(rng, n_frames, False), depth, ["occluder"])


def _add_exit(rng: np.random.Generator, layer: Layer, size: tuple[int, int]) -> bool:
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


def plan_video(
    rng: np.random.Generator, n_frames: int, size: tuple[int, int], photos: tuple[Photo, ...]
) -> Plan:
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
    return Plan(size, background, camera, layers)


def sort_layers(plan: Plan) -> None:
    """Order layers back to front; distractors keep pointing at their targets."""
    order = sorted(range(len(plan.layers)), key=lambda i: plan.layers[i].depth_key)
    position = {old: new for new, old in enumerate(order)}
    layers = [plan.layers[i] for i in order]
    for layer in layers:
        if layer.similar_to >= 0:
            layer.similar_to = position[layer.similar_to]
    plan.layers = layers


"""Rendering a planned synthetic video: frames, masks, and the measured challenges.

:func:`render_video` draws plans until one has a usable first frame (every target clearly
visible), draws its layers back to front onto the moving background (each with a soft shadow),
so that the masks hold what is visible, and measures what the video shows
(:mod:`gcseg.data.synthetic.attributes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from gcseg.data.synthetic.attributes import (
    THRESHOLDS,
    ObjectInfo,
    camera_motion,
    measure_attributes,
    object_infos,
)
from gcseg.data.synthetic.plan import Layer, Plan, plan_video, sort_layers
from gcseg.data.synthetic.shapes import (
    Photo,
    bounding_box,
    fill_alpha,
    load_photos,
    shape_area,
)

__all__ = ["MIN_SIZE", "RenderedVideo", "check_size", "render_video"]

MIN_SIZE = 32
"""Smallest frame height and width."""

_MAX_PLAN_TRIES = 200
_SHADOW_STRENGTH = 0.35


@dataclass
class RenderedVideo:
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


def _first_frame_ok(plan: Plan, photos: tuple[Photo, ...]) -> bool:
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


def _composite(
    image: np.ndarray, layer: Layer, t: int, photos: tuple[Photo, ...],
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
    plan: Plan, photos: tuple[Photo, ...], n_frames: int | None = None, with_image: bool = True
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



def _as_rng(rng_or_seed) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if isinstance(rng_or_seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(rng_or_seed)
    raise TypeError(f"expected a numpy Generator, SeedSequence or int seed, got {rng_or_seed!r}")


def check_size(size) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (H, W), got {size!r}") from None
    if height < MIN_SIZE or width < MIN_SIZE:
        raise ValueError(f"size {size!r} is too small: at least {MIN_SIZE}x{MIN_SIZE}")
    return height, width


def render_video(
    rng_or_seed: np.random.Generator | np.random.SeedSequence | int,
    n_frames: int,
    size: tuple[int, int],
    *,
    photos: tuple[Photo, ...] | None = None,
) -> RenderedVideo:
    """Render one synthetic VOS video in memory.

    Args:
        rng_or_seed: a numpy ``Generator`` (advanced in place), a ``SeedSequence`` or an int.
        n_frames: T >= 1.
        size: ``(H, W)`` of the frames, each at least 32.
        photos: the photographs to use (default :func:`load_photos`).

    Returns:
        A :class:`RenderedVideo` with ``frames`` ``(T, H, W, 3)`` uint8, ``masks``
        ``(T, H, W)`` uint8 ids 0..K (every object non-empty in frame 0), the measured
        ``attributes`` and the per-object metadata.
    """
    if int(n_frames) < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    n_frames, size = int(n_frames), check_size(size)
    rng = _as_rng(rng_or_seed)
    photos = load_photos() if photos is None else photos
    for _ in range(_MAX_PLAN_TRIES):
        plan = plan_video(rng, n_frames, size, photos)
        sort_layers(plan)
        if _first_frame_ok(plan, photos):
            break
    else:
        raise RuntimeError(f"no usable first frame after {_MAX_PLAN_TRIES} plans at size {size}")
    frames, layer_maps, in_frame = _render(plan, photos)
    infos = object_infos(plan, photos, layer_maps, in_frame)
    lookup = np.array([0] + [info.label for info in infos], dtype=np.uint8)
    masks = lookup[layer_maps]  # (T, H, W) ids
    objects = [info for info in infos if info.role == "target"]
    objects.sort(key=lambda info: info.label)
    distractors = [info for info in infos if info.role != "target"]
    attributes = measure_attributes(objects, distractors, masks,
                                    camera_motion(plan.camera, size))
    return RenderedVideo(frames, masks, attributes, objects, distractors,
                          photos[plan.background].name, plan.camera)


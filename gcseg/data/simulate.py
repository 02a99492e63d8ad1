"""Simulated frame pairs from still images: the paper's pre-training data (IV-A, Figure 8).

From one image with an object mask the paper makes a *reference* frame (the image itself) and
a *target* frame in one of two ways:

- **Way-1** -- the object is scaled/deformed and pasted back onto *the same* background with a
  small shift: the motion between adjacent frames.  The hole the object leaves is filled by
  OpenCV inpainting so the network cannot find the object by its old outline.
- **Way-2** -- the transformed object is pasted onto *a different* background, anywhere: fast
  motion; with probability ``occlusion_prob`` another image's object is pasted over it
  (occlusion).

Both return a :class:`SimulatedPair` of numpy arrays; :mod:`gcseg.data.pairs` turns them into
training tensors alongside real video pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gcseg.data.still_images import StillImageSource
from gcseg.data.transforms import bounding_box, crop_resize, random_affine, random_crop_box

__all__ = [
    "SimulatedPair",
    "prepare_still",
    "elastic_field",
    "transform_object",
    "way1",
    "way2",
    "simulate_pair",
]


@dataclass
class SimulatedPair:
    """A reference frame with its mask and a target frame with its mask, all ``out_size``."""

    ref_image: np.ndarray  # (H, W, 3) uint8
    ref_mask: np.ndarray  # (H, W) bool
    target_image: np.ndarray  # (H, W, 3) uint8
    target_mask: np.ndarray  # (H, W) bool
    way: int


def prepare_still(
    image: np.ndarray, mask: np.ndarray, out_size: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A random crop with the training aspect ratio, resized to ``out_size``, keeping the object.

    Falls back to the whole image when the crop would lose most of the object.
    """
    height, width = out_size
    mask = mask.astype(np.uint8)
    box = random_crop_box(image.shape[:2], rng, scale=(0.7, 1.0), aspect=width / height)
    cropped = crop_resize(mask, box, out_size, is_mask=True)
    if cropped.sum() * _area(box) < 0.5 * mask.sum() * height * width:
        box = (0, 0, image.shape[1], image.shape[0])
        cropped = crop_resize(mask, box, out_size, is_mask=True)
    return crop_resize(image, box, out_size, is_mask=False), cropped.astype(bool)


def _area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def elastic_field(
    size: tuple[int, int],
    rng: np.random.Generator,
    amplitude: float = 4.0,
    smoothness: float = 12.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(map_x, map_y)`` for ``cv2.remap``: identity plus a smooth random displacement.

    The displacement is white noise blurred with a Gaussian of ``smoothness`` pixels and scaled
    so its largest value is ``amplitude`` pixels: a non-rigid, locally smooth deformation.
    """
    height, width = size
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    displacement = []
    for _ in range(2):
        noise = rng.standard_normal((height, width)).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), smoothness)
        peak = float(np.abs(smooth).max()) or 1.0
        displacement.append(smooth / peak * amplitude)
    return grid_x + displacement[0], grid_y + displacement[1]


def transform_object(
    image: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    max_shift: float,
    scale: tuple[float, float] = (0.8, 1.2),
    max_rotation: float = 15.0,
    deform: float = 4.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Scale, rotate, shift and elastically deform the object; returns (image, mask) warped."""
    height, width = mask.shape
    box = bounding_box(mask)
    assert box is not None, "transform_object needs a non-empty mask"
    center = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    matrix = random_affine(
        (height, width), rng, max_shift=max_shift, scale=scale, max_rotation=max_rotation,
        center=center,
    )
    warped_image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR)
    warped_mask = cv2.warpAffine(mask.astype(np.uint8), matrix, (width, height),
                                 flags=cv2.INTER_NEAREST)
    if deform > 0:
        map_x, map_y = elastic_field((height, width), rng, amplitude=deform)
        warped_image = cv2.remap(warped_image, map_x, map_y, cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT)
        warped_mask = cv2.remap(warped_mask, map_x, map_y, cv2.INTER_NEAREST)
    return warped_image, warped_mask.astype(bool)


def _paste(background: np.ndarray, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = background.copy()
    out[mask] = image[mask]
    return out


def _inpaint_object(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill the object's region (slightly dilated) from its surroundings (Telea inpainting)."""
    hole = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8))
    return cv2.inpaint(image, hole, 5, cv2.INPAINT_TELEA)


def _transformed_visible(image, mask, rng, max_shift, tries: int = 5):
    """Transform until at least a quarter of the object stays in the frame (else no shift)."""
    for _ in range(tries):
        warped_image, warped_mask = transform_object(image, mask, rng, max_shift=max_shift)
        if warped_mask.sum() >= 0.25 * mask.sum():
            return warped_image, warped_mask
    return transform_object(image, mask, rng, max_shift=0.0)


def way1(
    image: np.ndarray, mask: np.ndarray, rng: np.random.Generator, max_shift: float = 0.08
) -> SimulatedPair:
    """Way-1: the object moved a little on its own (inpainted) background."""
    mask = mask.astype(bool)
    background = _inpaint_object(image, mask)
    moved_image, moved_mask = _transformed_visible(image, mask, rng, max_shift)
    target = _paste(background, moved_image, moved_mask)
    return SimulatedPair(image, mask, target, moved_mask, way=1)


def way2(
    image: np.ndarray,
    mask: np.ndarray,
    other_image: np.ndarray,
    other_mask: np.ndarray,
    rng: np.random.Generator,
    max_shift: float = 0.3,
    occlusion_prob: float = 0.5,
) -> SimulatedPair:
    """Way-2: the object pasted far away on another image; sometimes occluded by its object."""
    mask = mask.astype(bool)
    moved_image, moved_mask = _transformed_visible(image, mask, rng, max_shift)
    target = _paste(other_image, moved_image, moved_mask)
    target_mask = moved_mask
    if rng.random() < occlusion_prob and other_mask.any():
        # The other image's object, moved to overlap ours, covers part of it.
        occluder_image, occluder_mask = _move_onto(other_image, other_mask.astype(bool),
                                                   moved_mask, rng)
        covered = target_mask & occluder_mask
        if covered.sum() < 0.7 * target_mask.sum():  # keep the target at least partly visible
            target = _paste(target, occluder_image, occluder_mask)
            target_mask = target_mask & ~occluder_mask
    return SimulatedPair(image, mask, target, target_mask, way=2)


def _move_onto(image, mask, target_mask, rng):
    """Shift ``mask``'s object so its centre lands near the edge of ``target_mask``'s box."""
    height, width = mask.shape
    source_box, target_box = bounding_box(mask), bounding_box(target_mask)
    assert source_box is not None and target_box is not None
    source_center = np.array([(source_box[0] + source_box[2]) / 2,
                              (source_box[1] + source_box[3]) / 2])
    corner = np.array([rng.choice([target_box[0], target_box[2]]),
                       rng.choice([target_box[1], target_box[3]])], dtype=float)
    shift = corner - source_center
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    moved_image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR)
    moved_mask = cv2.warpAffine(mask.astype(np.uint8), matrix, (width, height),
                                flags=cv2.INTER_NEAREST)
    return moved_image, moved_mask.astype(bool)


def simulate_pair(
    source: StillImageSource,
    index: int,
    out_size: tuple[int, int],
    rng: np.random.Generator,
    way1_prob: float = 0.5,
) -> SimulatedPair:
    """Item ``index`` of ``source`` as a simulated pair, Way-1 or Way-2 at random."""
    image, mask = prepare_still(*source[index], out_size, rng)
    if rng.random() < way1_prob or len(source) < 2:
        return way1(image, mask, rng)
    other = int(rng.integers(0, len(source) - 1))
    other += other >= index  # any item but this one
    other_image, other_mask = prepare_still(*source[other], out_size, rng)
    return way2(image, mask, other_image, other_mask, rng)

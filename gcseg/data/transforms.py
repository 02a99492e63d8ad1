"""Small image/mask operations shared by the training datasets.

All functions take numpy arrays (``(H, W, 3)`` uint8 images, ``(H, W)`` masks) and a
``numpy.random.Generator``, so every random choice is seeded by the caller.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from gcseg.data.davis import VOID_ID

__all__ = [
    "bounding_box",
    "random_crop_box",
    "crop_resize",
    "perturb_mask",
    "random_affine",
    "to_tensor_image",
    "to_tensor_mask",
]


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)`` of the non-zero pixels (x1, y1 exclusive), or None when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def random_crop_box(
    size: tuple[int, int],
    rng: np.random.Generator,
    scale: tuple[float, float] = (0.75, 1.0),
    aspect: float | None = None,
) -> tuple[int, int, int, int]:
    """A random crop ``(x0, y0, x1, y1)`` covering ``scale`` of each side of a ``(H, W)`` image.

    With ``aspect`` (W / H of the output) the crop keeps that aspect ratio, so resizing it to
    the training size does not stretch the image.
    """
    height, width = size
    s = rng.uniform(*scale)
    crop_h, crop_w = max(1, round(height * s)), max(1, round(width * s))
    if aspect is not None:
        crop_w = min(width, max(1, round(crop_h * aspect)))
        crop_h = min(height, max(1, round(crop_w / aspect)))
    y0 = int(rng.integers(0, height - crop_h + 1))
    x0 = int(rng.integers(0, width - crop_w + 1))
    return x0, y0, x0 + crop_w, y0 + crop_h


def crop_resize(
    array: np.ndarray, box: tuple[int, int, int, int], out_size: tuple[int, int], is_mask: bool
) -> np.ndarray:
    """Crop ``box`` and resize to ``out_size`` (H, W): bilinear for images, nearest for masks."""
    x0, y0, x1, y1 = box
    crop = array[y0:y1, x0:x1]
    interpolation = cv2.INTER_NEAREST if is_mask else cv2.INTER_LINEAR
    height, width = out_size
    if crop.shape[:2] == (height, width):
        return np.ascontiguousarray(crop)
    return cv2.resize(crop, (width, height), interpolation=interpolation)


def random_affine(
    size: tuple[int, int],
    rng: np.random.Generator,
    max_shift: float = 0.05,
    scale: tuple[float, float] = (0.9, 1.1),
    max_rotation: float = 10.0,
    center: tuple[float, float] | None = None,
) -> np.ndarray:
    """A random 2×3 affine matrix: rotation and scale about ``center`` then a shift.

    ``max_shift`` is a fraction of the image side; ``max_rotation`` is in degrees.
    """
    height, width = size
    cx, cy = center if center is not None else (width / 2, height / 2)
    matrix = cv2.getRotationMatrix2D(
        (float(cx), float(cy)),
        float(rng.uniform(-max_rotation, max_rotation)),
        float(rng.uniform(*scale)),
    )
    matrix[0, 2] += rng.uniform(-max_shift, max_shift) * width
    matrix[1, 2] += rng.uniform(-max_shift, max_shift) * height
    return matrix


def perturb_mask(mask: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A plausible *previous-frame prediction* made from a ground-truth mask.

    The mask is moved by a small random affine transform, then dilated or eroded by a few
    pixels, so the network learns to use ``M_{t-1}`` as a rough location cue rather than to
    copy it (the paper trains on ground truth with perturbations, as RGMP does).
    """
    binary = (mask > 0).astype(np.uint8)
    if not binary.any():
        return binary
    height, width = binary.shape
    box = bounding_box(binary)
    assert box is not None
    center = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    matrix = random_affine(
        (height, width),
        rng,
        max_shift=0.03 * strength,
        scale=(1 - 0.1 * strength, 1 + 0.1 * strength),
        max_rotation=8 * strength,
        center=center,
    )
    moved = cv2.warpAffine(binary, matrix, (width, height), flags=cv2.INTER_NEAREST)
    radius = int(rng.integers(0, max(1, round(3 * strength)) + 1))
    if radius:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        operation = cv2.dilate if rng.random() < 0.5 else cv2.erode
        moved = operation(moved, kernel)
    return moved


def to_tensor_image(image: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 → ``(3, H, W)`` float32 in [0, 1] (the model normalises)."""
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div_(255.0)


def to_tensor_mask(mask: np.ndarray) -> torch.Tensor:
    """``(H, W)`` mask → ``(1, H, W)`` float32 with values 0/1."""
    return torch.from_numpy((np.asarray(mask) > 0).astype(np.float32))[None]



def to_tensor_void(labels: np.ndarray) -> torch.Tensor:
    """``(H, W)`` id labels → ``(1, H, W)`` bool, True on void pixels (``VOID_ID``, 255)."""
    return torch.from_numpy(np.asarray(labels) == VOID_ID)[None]


def loss_target(mask: torch.Tensor, void: torch.Tensor | None) -> torch.Tensor:
    """A 0/1 ``mask`` as the loss's target: ``VOID_ID`` where ``void`` (the value
    :func:`gcseg.model.gcseg_loss` leaves out); ``mask`` itself when ``void`` is None."""
    return mask if void is None else mask.masked_fill(void, float(VOID_ID))


"""Pictures: plain functions that return arrays or matplotlib figures (testable headless).

Notebook widgets are thin wrappers over these; the demo report uses them too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from gcseg.data.davis import PALETTE
from gcseg.files import atomic_write

__all__ = ["as_uint8_image", "overlay", "contour", "outline", "side_by_side", "save_gif",
           "label_strip"]


def as_uint8_image(image) -> np.ndarray:
    """A picture as ``(H, W, 3)`` uint8: accepts that, or ``(3, H, W)`` floats in [0, 1]
    (numpy or torch, as the datasets and the model take them)."""
    if hasattr(image, "detach"):  # a torch tensor
        image = image.detach().cpu().float().numpy()
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] == 3 and image.shape[-1] != 3:
        image = image.transpose(1, 2, 0)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    return image


def overlay(image: np.ndarray, labels: np.ndarray, alpha: float = 0.5,
            draw_contours: bool = True) -> np.ndarray:
    """``(H, W, 3)`` uint8: ``image`` with each object id tinted in its DAVIS colour.

    Object pixels are blended with ``alpha``; their outlines are drawn in full colour.
    """
    if image.shape[:2] != labels.shape:
        raise ValueError(f"image {image.shape[:2]} and labels {labels.shape} differ in size")
    out = image.astype(np.float32)
    objects = (labels > 0) & (labels != 255)
    colours = PALETTE[labels].astype(np.float32)
    out[objects] = (1 - alpha) * out[objects] + alpha * colours[objects]
    out = out.round().astype(np.uint8)
    if draw_contours:
        for object_id in np.unique(labels[objects]):
            edge = contour(labels == object_id)
            out[edge] = PALETTE[object_id]
    return out


def contour(mask: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Boolean ``(H, W)``: the pixels of ``mask`` that touch the background (its outline)."""
    mask = mask.astype(np.uint8)
    kernel = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
    return (mask - cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)) > 0


def outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (0, 255, 0),
            thickness: int = 1) -> np.ndarray:
    """(H, W, 3) uint8: ``image`` with the outline of ``mask`` drawn in ``colour``."""
    out = np.array(image, dtype=np.uint8, copy=True)
    out[contour(np.asarray(mask, dtype=bool), thickness)] = colour
    return out


def side_by_side(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Images of the same height side by side with a white gap."""
    height = images[0].shape[0]
    pieces = []
    for index, image in enumerate(images):
        if image.shape[0] != height:
            raise ValueError("side_by_side needs images of the same height")
        if index:
            pieces.append(np.full((height, gap, 3), 255, np.uint8))
        pieces.append(image)
    return np.concatenate(pieces, axis=1)


def label_strip(frames: Sequence[np.ndarray], labels: Sequence[np.ndarray],
                indices: Sequence[int]) -> np.ndarray:
    """Overlays of the chosen frame ``indices``, side by side (a filmstrip)."""
    return side_by_side([overlay(frames[i], labels[i]) for i in indices])


def save_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 8.0,
             max_width: int = 480) -> Path:
    """Write an animated GIF of ``(H, W, 3)`` uint8 frames (resized to ``max_width``)."""
    pictures = []
    for frame in frames:
        picture = Image.fromarray(frame)
        if picture.width > max_width:
            height = round(picture.height * max_width / picture.width)
            picture = picture.resize((max_width, height), Image.BILINEAR)
        pictures.append(picture)
    return atomic_write(path, lambda tmp: pictures[0].save(
        tmp, format="GIF", save_all=True, append_images=pictures[1:],
        duration=round(1000 / fps), loop=0))

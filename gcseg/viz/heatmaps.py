"""Heat maps over a frame: a feature map reduced to one value per position, coloured over the
image, and scored against the object's mask (notebooks 02-04).

- :func:`to_numpy`, :func:`as_chw` -- tensors or arrays as float32 NumPy maps.
- :func:`channel_norm`, :func:`channel_mean` -- a (C, h, w) map reduced over its channels.
- :func:`resize_map`, :func:`heat_overlay` -- an (h, w) map brought to the frame and coloured.
- :func:`object_contrast`, :func:`contrast_label` -- how much a map picks the object.
- :func:`show_panel` -- one picture on a matplotlib axis, titled, without ticks.
"""

from __future__ import annotations

import cv2
import numpy as np
from matplotlib import colormaps
from torch import Tensor

__all__ = [
    "as_chw",
    "channel_mean",
    "channel_norm",
    "contrast_label",
    "heat_overlay",
    "object_contrast",
    "resize_map",
    "show_panel",
    "to_numpy",
]


def to_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    """A float32 NumPy copy of a tensor (detached, on the CPU) or an array."""
    if isinstance(x, Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def as_chw(x: Tensor | np.ndarray) -> np.ndarray:
    """One map as (C, h, w) float32: from (C, h, w), (1, C, h, w) or (h, w) (one channel)."""
    array = to_numpy(x)
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError(f"expected one map, got a batch of {array.shape[0]}")
        array = array[0]
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"expected (C, H, W), (1, C, H, W) or (H, W), got {array.shape}")
    return array


def channel_norm(x: Tensor | np.ndarray) -> np.ndarray:
    """(h, w): the L2 norm over channels of a (C, h, w) or (1, C, h, w) map."""
    return np.sqrt((as_chw(x) ** 2).sum(axis=0))


def channel_mean(x: Tensor | np.ndarray) -> np.ndarray:
    """(h, w): the mean over channels of a (C, h, w) or (1, C, h, w) map."""
    return as_chw(x).mean(axis=0)


def resize_map(heat: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an (h, w) map to ``size`` = (H, W) (float32)."""
    heat = np.asarray(heat, dtype=np.float32)
    return cv2.resize(heat, (int(size[1]), int(size[0])), interpolation=cv2.INTER_LINEAR)


def _normalize(heat: np.ndarray) -> np.ndarray:
    low, high = float(np.min(heat)), float(np.max(heat))
    if high - low < 1e-12:
        return np.zeros_like(heat, dtype=np.float32)
    return ((heat - low) / (high - low)).astype(np.float32)


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.55,
                 cmap: str = "inferno", limits: tuple[float, float] | None = None) -> np.ndarray:
    """(H, W, 3) uint8: ``heat`` (any size) coloured over ``image``.

    The colours span ``limits = (low, high)`` (values outside are clipped), or the map's own
    minimum and maximum when ``limits`` is ``None``. Use ``(0, 1)`` for probabilities.
    """
    heat = resize_map(heat, image.shape[:2])
    if limits is None:
        heat = _normalize(heat)
    else:
        low, high = limits
        heat = np.clip((heat - low) / max(high - low, 1e-12), 0.0, 1.0)
    colours = colormaps[cmap](heat)[..., :3] * 255.0
    out = (1 - alpha) * image.astype(np.float32) + alpha * colours
    return out.round().clip(0, 255).astype(np.uint8)


def object_contrast(heat: np.ndarray, mask: np.ndarray) -> float:
    """How much ``heat`` picks the object: mean over ``mask`` / mean over the frame.

    ``heat`` is resized to the mask's size and shifted to be >= 0 (its minimum becomes 0).
    1 means no preference, above 1 the object is brighter than average; ``nan`` when the
    mask is empty or the map is flat.
    """
    mask = np.asarray(mask, dtype=bool)
    heat = resize_map(heat, mask.shape)
    heat = heat - heat.min()
    mean = float(heat.mean())
    if not mask.any() or mean <= 1e-12:
        return float("nan")
    return float(heat[mask].mean() / mean)


def contrast_label(heat: np.ndarray, mask: np.ndarray) -> str:
    """``"contrast 1.23"`` (:func:`object_contrast`), or ``"object absent"`` for an empty mask."""
    if not np.asarray(mask, dtype=bool).any():
        return "object absent"
    return f"contrast {object_contrast(heat, mask):.2f}"


def show_panel(axis, image: np.ndarray, title: str, **kwargs) -> None:
    """``imshow`` ``image`` on ``axis`` with a small ``title`` and no ticks."""
    axis.imshow(image, **kwargs)
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])

"""The frame-size check: a model sees its objects at the scale it was trained at."""

from __future__ import annotations

from gcseg.config import GCSegConfig

__all__ = ["SMALL_FRAME_RATIO", "FrameSizeWarning", "frame_size_warning", "trained_frame_size"]

SMALL_FRAME_RATIO = 0.75
"""Frames whose height or width is below this fraction of :func:`trained_frame_size` get a
:class:`FrameSizeWarning` (the shipped model, trained at 240x432: J&F 0.375 at 240x432, 0.199
at 128x224, 0.125 at 64x96 on two short synthetic videos)."""


class FrameSizeWarning(UserWarning):
    """Inference frames much smaller than the frames the model was trained at."""


def trained_frame_size(config: GCSegConfig) -> tuple[int, int]:
    """(H, W) of whole frames at the scale a model trained with ``config`` saw its objects.

    Training crops a fraction ``data.crop_scale`` of each side of a frame and resizes it to
    ``data.frame_size``, so the crops show objects as large as frames of ``frame_size /
    crop_scale`` would; the largest crop (the smallest objects) sets the bound.  Inference
    feeds frames at their own size, whatever ``frame_size`` says."""
    height, width = config.data.frame_size
    largest = max(config.data.crop_scale)
    return round(height / largest), round(width / largest)


def frame_size_warning(size: tuple[int, int], trained: tuple[int, int] | None,
                       name: str = "video") -> str | None:
    """The warning for frames of ``size`` (H, W) given a model trained at ``trained``, or
    ``None`` when they are large enough (:data:`SMALL_FRAME_RATIO`)."""
    if trained is None:
        return None
    if min(size[0] / trained[0], size[1] / trained[1]) >= SMALL_FRAME_RATIO:
        return None
    return (f"{name}: frames of {size[0]}x{size[1]} are much smaller than the "
            f"{trained[0]}x{trained[1]} frames this model was trained at (data.frame_size / "
            f"crop_scale): expect a much lower J&F; resize the frames or train at this size")

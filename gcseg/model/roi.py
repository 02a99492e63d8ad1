"""ROI geometry shared by the Mask Encoder (Section III-A-4a, Figure 3) and the Judgment Module
(Section III-B, Figure 6): a mask's bounding box, the whole box plus its 3x3 grid, and one
pooled feature vector per box.

- :func:`mask_boxes`: the box of a full-resolution mask (pixels > 0.5), ``(x0, y0, x1, y1)``
  with ``x1``/``y1`` one past the last object pixel; an empty mask has none (``valid=False``).
- :func:`grid_boxes`: the whole box then its 3x3 cells, row by row from the top-left: the 10
  ROIs of the Mask Encoder's pyramid pooling (index 0 is the whole box).
- :func:`scale_boxes`: image pixels to feature-grid coordinates, per axis.
- :func:`pool_rois`: ``torchvision.ops.roi_align`` (average, default) or ``roi_pool`` (max, as
  in "ROI pooling"), one vector per box.
- :func:`pool_boxes`: the last two in one step, for boxes in image pixels.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import roi_align, roi_pool

from gcseg.config import ROI_MODES, RoiMode

__all__ = ["GRID", "NUM_ROIS", "grid_boxes", "mask_boxes", "pool_boxes", "pool_rois",
           "scale_boxes"]

GRID = 3
"""The Mask Encoder divides the box into a GRID x GRID grid (Section III-A-4a: 3x3)."""
NUM_ROIS = 1 + GRID * GRID
"""The whole box and its grid cells: 10 ROIs."""


def mask_boxes(mask: Tensor, threshold: float = 0.5) -> tuple[Tensor, Tensor]:
    """Bounding boxes of the pixels ``> threshold`` of ``mask`` (B, 1, H, W) or (B, H, W).

    Returns:
        boxes (B, 4) float ``(x0, y0, x1, y1)`` with ``x1 = last column + 1`` (a box covers
        pixels ``x0 <= x < x1``), zeros where empty; valid (B,) bool.
    """
    if mask.dim() == 4:
        mask = mask[:, 0]
    on = mask.detach() > threshold  # (B, H, W)
    cols, rows = on.any(dim=1), on.any(dim=2)  # (B, W), (B, H)
    valid = cols.any(dim=1)  # (B,)
    width, height = cols.shape[1], rows.shape[1]
    xs = torch.arange(width, device=mask.device)
    ys = torch.arange(height, device=mask.device)
    big = max(width, height) + 1
    x0 = torch.where(cols, xs, big).amin(dim=1)
    x1 = torch.where(cols, xs, -1).amax(dim=1) + 1
    y0 = torch.where(rows, ys, big).amin(dim=1)
    y1 = torch.where(rows, ys, -1).amax(dim=1) + 1
    boxes = torch.stack([x0, y0, x1, y1], dim=1).to(torch.float32)  # (B, 4)
    return boxes * valid[:, None], valid


def grid_boxes(boxes: Tensor, grid: int = GRID) -> Tensor:
    """The whole box then its ``grid x grid`` cells, row by row: (B, 4) -> (B, 1+grid², 4)."""
    x0, y0, x1, y1 = boxes.unbind(dim=1)  # each (B,)
    steps = torch.arange(grid + 1, device=boxes.device, dtype=boxes.dtype) / grid  # (grid+1,)
    xs = x0[:, None] + (x1 - x0)[:, None] * steps  # (B, grid+1)
    ys = y0[:, None] + (y1 - y0)[:, None] * steps
    cells = [
        torch.stack([xs[:, j], ys[:, i], xs[:, j + 1], ys[:, i + 1]], dim=1)
        for i in range(grid)
        for j in range(grid)
    ]
    return torch.stack([boxes, *cells], dim=1)


def scale_boxes(boxes: Tensor, image_size: tuple[int, int], grid_size: tuple[int, int]) -> Tensor:
    """Image-pixel boxes (..., 4) to feature-grid coordinates, per axis (sizes are (H, W))."""
    sy = grid_size[0] / image_size[0]
    sx = grid_size[1] / image_size[1]
    scale = boxes.new_tensor([sx, sy, sx, sy])
    return boxes * scale


def pool_rois(features: Tensor, feature_boxes: Tensor, output_size: int = 1,
              mode: RoiMode = "align") -> Tensor:
    """One vector per box: features (B, C, h, w), boxes (B, K, 4) in grid coords -> (B, K, C).

    ``align``: ``roi_align`` (bilinear samples averaged; ``aligned=True``, so a box ``[i, i+1)``
    samples the centre of cell i); ``pool``: ``roi_pool`` (max). The ``output_size²`` bins are
    averaged.
    """
    batch, num = feature_boxes.shape[:2]
    index = torch.arange(batch, device=features.device, dtype=features.dtype)
    index = index[:, None, None].expand(batch, num, 1)
    rois = torch.cat([index, feature_boxes.to(features.dtype)], dim=2).reshape(-1, 5)  # (B*K, 5)
    if mode == "align":
        pooled = roi_align(features, rois, output_size, spatial_scale=1.0, sampling_ratio=-1,
                           aligned=True)
    elif mode == "pool":
        # roi_pool rounds the corners and counts the end cell in (Fast R-CNN's inclusive
        # convention): the box [x0, x1) is passed as cells x0 .. x1 - 1.
        inclusive = rois - rois.new_tensor([0.0, 0.0, 0.0, 1.0, 1.0])
        pooled = roi_pool(features, inclusive, output_size, spatial_scale=1.0)
    else:
        raise ValueError(f"mode must be one of {ROI_MODES}, got {mode!r}")
    return pooled.mean(dim=(2, 3)).reshape(batch, num, -1)  # (B, K, C)


def pool_boxes(features: Tensor, boxes: Tensor, image_size: tuple[int, int],
               output_size: int = 1, mode: RoiMode = "align") -> tuple[Tensor, Tensor]:
    """Pool ``features`` (B, C, h, w) over ``boxes`` (B, K, 4) given in the pixels of an image
    of ``image_size`` (H, W): returns the vectors (B, K, C) and the boxes in grid coordinates
    (B, K, 4)."""
    feature_boxes = scale_boxes(boxes, image_size, tuple(features.shape[-2:]))
    return pool_rois(features, feature_boxes, output_size, mode), feature_boxes

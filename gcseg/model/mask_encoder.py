"""Mask Encoder (paper Section III-A-4a, Figure 3; SPEC §3).

It summarises the object of a reference frame in one C-vector ``r_{t-n}``:

1. ``F_{t-n} ⊙ M_{t-n}``: the mask, resized to the feature grid by area averaging (the
   fraction of each feature cell covered by the object), zeroes the background features.
2. Pyramid ROI pooling over the mask's bounding box: the whole box plus a 3x3 grid of cells,
   10 ROIs (whole objects and object parts, for occlusion and deformation). The box comes from
   the full-resolution mask (pixels > 0.5), ``(x0, y0, x1, y1)`` with ``x1``/``y1`` one past the
   last object pixel, and is scaled to feature coordinates per axis. ``torchvision.ops.roi_align``
   (average, default) or ``roi_pool`` (max, as in "ROI pooling") gives one vector per ROI.
3. The 10 x C map goes through a learned convolution with kernel (10, 1): a learned weighted
   sum of the 10 ROI vectors, shared across channels (10 weights + 1 bias). It starts as the
   mean of the 10 ROIs. The paper: "input the concatenated feature into a 10-1 convolutional
   layer to obtain a 1xC feature".

An empty mask has no box: ``r`` is zero and the reference is marked invalid (``valid=False``),
so inference can skip it.

ROI order: index 0 is the whole box, 1..9 the grid cells row by row from the top-left.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import roi_align, roi_pool

__all__ = ["MaskEncoder", "MaskEncoding", "grid_boxes", "mask_boxes", "pool_rois",
           "scale_boxes"]

NUM_ROIS = 10


@dataclass
class MaskEncoding:
    """What the Mask Encoder returns (all shown by the "ROI grid" figure).

    Attributes:
        r: (B, C) the reference feature ``r_{t-n}`` (zero where invalid).
        valid: (B,) bool, False where the mask is empty.
        boxes: (B, 10, 4) ROI boxes ``(x0, y0, x1, y1)`` in image pixels.
        feature_boxes: (B, 10, 4) the same boxes in feature-grid coordinates.
        roi_features: (B, 10, C) the pooled feature of every ROI.
        masked_features: (B, C, h, w) ``F ⊙ M`` on the feature grid.
    """

    r: Tensor
    valid: Tensor
    boxes: Tensor
    feature_boxes: Tensor
    roi_features: Tensor
    masked_features: Tensor


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


def grid_boxes(boxes: Tensor, grid: int = 3) -> Tensor:
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
              mode: str = "align") -> Tensor:
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
        raise ValueError(f"mode must be 'align' or 'pool', got {mode!r}")
    return pooled.mean(dim=(2, 3)).reshape(batch, num, -1)  # (B, K, C)


class MaskEncoder(nn.Module):
    """``(F (B,C,h,w), M (B,1,H,W)) -> MaskEncoding`` with ``r`` (B, C).

    Args:
        roi_output_size: bins per ROI side before averaging.
        mode: ``align`` or ``pool``.
    """

    def __init__(self, roi_output_size: int = 1, mode: str = "align") -> None:
        super().__init__()
        self.roi_output_size = roi_output_size
        self.mode = mode
        self.fuse = nn.Conv2d(1, 1, kernel_size=(NUM_ROIS, 1))  # the (10, 1) convolution
        nn.init.constant_(self.fuse.weight, 1.0 / NUM_ROIS)  # starts as the mean of the ROIs
        nn.init.zeros_(self.fuse.bias)

    def forward(self, features: Tensor, mask: Tensor) -> MaskEncoding:
        """Encode the object of ``mask`` (B, 1, H, W) in ``features`` (B, C, h, w)."""
        if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[0] != features.shape[0]:
            raise ValueError(f"mask must be (B, 1, H, W) with B={features.shape[0]}, "
                             f"got {tuple(mask.shape)}")
        boxes, valid = mask_boxes(mask)  # (B, 4), (B,)
        return self.encode(features, mask, boxes, valid)

    def encode(self, features: Tensor, mask: Tensor, boxes: Tensor, valid: Tensor) -> MaskEncoding:
        """The encoder given the boxes (B, 4) and validity (B,) of ``mask``."""
        image_size = tuple(mask.shape[-2:])
        grid_size = tuple(features.shape[-2:])
        small = F.adaptive_avg_pool2d(mask.to(features.dtype), grid_size)  # (B, 1, h, w), area
        masked = features * small  # (B, C, h, w): background zeroed
        rois = grid_boxes(boxes)  # (B, 10, 4) image pixels
        feature_rois = scale_boxes(rois, image_size, grid_size)  # (B, 10, 4) grid coords
        roi_features = pool_rois(masked, feature_rois, self.roi_output_size, self.mode)
        roi_features = roi_features * valid[:, None, None]  # (B, 10, C)
        r = self.fuse(roi_features[:, None])[:, 0, 0]  # (B, 1, 10, C) -> (B, C)
        r = r * valid[:, None]  # an empty mask gives r = 0 (and the bias is dropped)
        return MaskEncoding(r=r, valid=valid, boxes=rois, feature_boxes=feature_rois,
                            roi_features=roi_features, masked_features=masked)

"""Mask Encoder (paper Section III-A-4a, Figure 3).

It summarises the object of a reference frame in one C-vector ``r_{t-n}``:

1. ``F_{t-n} ⊙ M_{t-n}``: the mask, resized to the feature grid by area averaging (the
   fraction of each feature cell covered by the object), zeroes the background features.
2. Pyramid ROI pooling over the mask's bounding box: the whole box plus a 3x3 grid of cells,
   10 ROIs (whole objects and object parts, for occlusion and deformation). The geometry (the
   box of the full-resolution mask, its grid, the scaling to feature coordinates, the pooling
   with ``roi_align`` or ``roi_pool``) is :mod:`gcseg.model.roi`, shared with the Judgment
   Module.
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

import torch.nn.functional as F
from torch import Tensor, nn

from gcseg.config import RoiMode
from gcseg.model.roi import NUM_ROIS, grid_boxes, mask_boxes, pool_boxes

__all__ = ["MaskEncoder", "MaskEncoding"]


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


class MaskEncoder(nn.Module):
    """``(F (B,C,h,w), M (B,1,H,W)) -> MaskEncoding`` with ``r`` (B, C).

    Args:
        roi_output_size: bins per ROI side before averaging.
        mode: ``align`` or ``pool``.
    """

    def __init__(self, roi_output_size: int = 1, mode: RoiMode = "align") -> None:
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
        grid_size = tuple(features.shape[-2:])
        small = F.adaptive_avg_pool2d(mask.to(features.dtype), grid_size)  # (B, 1, h, w), area
        masked = features * small  # (B, C, h, w): background zeroed
        rois = grid_boxes(boxes)  # (B, 10, 4) image pixels
        roi_features, feature_rois = pool_boxes(masked, rois, tuple(mask.shape[-2:]),
                                                self.roi_output_size, self.mode)
        roi_features = roi_features * valid[:, None, None]  # (B, 10, C)
        r = self.fuse(roi_features[:, None])[:, 0, 0]  # (B, 1, 10, C) -> (B, C)
        r = r * valid[:, None]  # an empty mask gives r = 0 (and the bias is dropped)
        return MaskEncoding(r=r, valid=valid, boxes=rois, feature_boxes=feature_rois,
                            roi_features=roi_features, masked_features=masked)

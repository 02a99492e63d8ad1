"""Judgment Module of the Adaptive Search (paper Section III-B, Figure 6).

Is the previous prediction ``M_{t-1}`` still on the object? Compare the object of the
annotated first frame with what ``M_{t-1}`` points at in the current frame:

    v_0 = ROIPool(F_0, box(M_0))          # (B, C)  F_0 = E(I_0, M_0)
    v_t = ROIPool(F_t, box(M_{t-1}))      # (B, C)  F_t = E(I_t, M_{t-1})
    s   = cos(v_0, v_t)                   # (B,)
    reliable = s >= tau                   # tau = 0.7 (the paper's example value)

tau's default is :data:`gcseg.config.JUDGMENT_THRESHOLD`. No learned weights. The features are
pooled unmasked over the box (the paper pools "over the bounding box region"), with the Mask
Encoder's pooling (:mod:`gcseg.model.roi`). An empty ``M_{t-1}`` (or ``M_0``) has no box: its
score is NaN and it is unreliable. The Adaptive Search then replaces ``M_{t-1}`` by zeros for
this frame and recomputes ``F_t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gcseg.config import JUDGMENT_THRESHOLD, RoiMode
from gcseg.model.roi import mask_boxes, pool_boxes

__all__ = ["JudgmentModule", "JudgmentResult", "PooledObject"]


@dataclass
class PooledObject:
    """``vector`` (B, C) pooled over ``box`` (B, 4) image pixels; ``valid`` (B,) bool."""

    vector: Tensor
    box: Tensor
    valid: Tensor

    def replace_rows(self, rows: Tensor, other: PooledObject) -> PooledObject:
        """A copy whose rows ``rows`` (a bool (B,) mask) are those of ``other`` (one row of
        ``other`` per row replaced): e.g. objects given their mask at a later frame."""
        return PooledObject(*(mine.index_put((rows,), theirs.to(mine.dtype)) for mine, theirs in
                              ((self.vector, other.vector), (self.box, other.box),
                               (self.valid, other.valid))))


@dataclass
class JudgmentResult:
    """``score`` (B,) cosine similarity (NaN without a box); ``reliable`` (B,) bool;
    ``box_first``/``box_prev`` (B, 4) the boxes of M_0 and M_{t-1}; ``threshold`` tau."""

    score: Tensor
    reliable: Tensor
    box_first: Tensor
    box_prev: Tensor
    threshold: float


class JudgmentModule(nn.Module):
    """Cosine similarity of ROI-pooled features, thresholded at ``threshold``."""

    def __init__(self, threshold: float = JUDGMENT_THRESHOLD, roi_output_size: int = 1,
                 mode: RoiMode = "align") -> None:
        super().__init__()
        self.threshold = threshold
        self.roi_output_size = roi_output_size
        self.mode = mode

    def pool(self, features: Tensor, mask: Tensor) -> PooledObject:
        """Pool ``features`` (B, C, h, w) over the box of ``mask`` (B, 1, H, W)."""
        box, valid = mask_boxes(mask)  # (B, 4), (B,)
        vectors, _ = pool_boxes(features, box[:, None], tuple(mask.shape[-2:]),
                                self.roi_output_size, self.mode)  # (B, 1, C)
        vector = vectors[:, 0]
        return PooledObject(vector=vector * valid[:, None], box=box, valid=valid)

    def compare(self, first: PooledObject, current: PooledObject,
                threshold: float | None = None) -> JudgmentResult:
        """Decide from two pooled objects (``first`` may have batch 1: broadcast)."""
        tau = self.threshold if threshold is None else threshold
        score = F.cosine_similarity(first.vector, current.vector, dim=1, eps=1e-8)  # (B,)
        valid = first.valid & current.valid
        score = torch.where(valid, score, torch.full_like(score, float("nan")))
        reliable = valid & (score >= tau)
        batch = score.shape[0]
        return JudgmentResult(score=score, reliable=reliable,
                              box_first=first.box.expand(batch, 4),
                              box_prev=current.box.expand(batch, 4), threshold=tau)

    def forward(self, features_first: Tensor, mask_first: Tensor, features_t: Tensor,
                mask_prev: Tensor, threshold: float | None = None) -> JudgmentResult:
        """``F_0`` with ``M_0`` against ``F_t`` with ``M_{t-1}``."""
        return self.compare(self.pool(features_first, mask_first),
                            self.pool(features_t, mask_prev), threshold)

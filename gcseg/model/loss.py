"""The loss of eq. 3 (paper Section III-A-5): the sum of the pixel-wise binary cross-entropy
of each output the variant has.

    L = L(M_t) + L(M_{t-n}) + L(M'_t) + L(M'_{t-n})

``M`` from the main decoder, ``M'`` from the co-segmentation-only decoder (Figure 1); GT_t is the
target of the ``_t`` outputs, GT_{t-n} of the ``_ref`` ones.  Each term is the mean over pixels
by default (``reduction="sum"``: the paper's "sum of pixel-wise BCE", summed over pixels and
averaged over the batch).  Pixels marked void (DAVIS 2016's 255) are left out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gcseg.config import LOSS_REDUCTIONS, LossReduction
from gcseg.model.containers import TrainOutput

__all__ = ["bce_from_logits", "gcseg_loss", "gcseg_loss_terms"]


def bce_from_logits(logits: Tensor, target: Tensor, reduction: LossReduction = "mean",
                    ignore_value: float | None = 255.0) -> Tensor:
    """Pixel-wise binary cross-entropy of the foreground softmax of 2-class ``logits``.

    ``-(y log p1 + (1 - y) log p0)`` with ``p = softmax(logits)``, computed with
    ``log_softmax`` (stable). Equal to ``F.binary_cross_entropy(prob, y)``.

    Args:
        logits: (B, 2, H, W); target: (B, 1, H, W) or (B, H, W), values in [0, 1]; pixels equal
            to ``ignore_value`` (DAVIS 2016's void 255) are left out.
        reduction: ``mean`` over the kept pixels of the batch, or ``sum`` over pixels averaged
            over the batch.
    """
    if target.dim() == 4:
        target = target[:, 0]
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"target {tuple(target.shape)} does not fit logits "
                         f"{tuple(logits.shape)}")
    target = target.to(logits.dtype)
    keep = (torch.ones_like(target, dtype=torch.bool) if ignore_value is None
            else target != ignore_value)
    y = torch.where(keep, target, torch.zeros_like(target))
    log_p = F.log_softmax(logits, dim=1)  # (B, 2, H, W)
    loss = -(y * log_p[:, 1] + (1 - y) * log_p[:, 0]) * keep  # (B, H, W)
    if reduction == "mean":
        return loss.sum() / keep.sum().clamp(min=1)
    if reduction == "sum":
        return loss.sum() / loss.shape[0]
    raise ValueError(f"reduction must be one of {LOSS_REDUCTIONS}, got {reduction!r}")


def gcseg_loss_terms(out: TrainOutput, gt_t: Tensor, gt_ref: Tensor | None = None,
                     reduction: LossReduction = "mean", ignore_value: float | None = 255.0
                     ) -> dict[str, Tensor]:
    """Each BCE term of eq. 3 that the variant has: ``m_t``/``aux_t`` against ``gt_t`` (GT_t),
    ``m_ref``/``aux_ref`` against ``gt_ref`` (GT_{t-n})."""
    terms = {}
    for name, output in out.outputs().items():
        gt = gt_t if name.endswith("_t") else gt_ref
        if gt is None:
            raise ValueError(f"output {name} needs gt_ref (the reference frame's ground truth)")
        terms[name] = bce_from_logits(output.logits, gt, reduction, ignore_value)
    return terms


def gcseg_loss(out: TrainOutput, gt_t: Tensor, gt_ref: Tensor | None = None,
               reduction: LossReduction = "mean", ignore_value: float | None = 255.0) -> Tensor:
    """Eq. 3: ``L(M_t) + L(M_{t-n}) + L(M'_t) + L(M'_{t-n})``, the terms the variant has.

    ``baseline``: L(M_t); ``ref``: + L(M_{t-n}); ``coseg``/``full``: all four (two without
    the auxiliary decoder). Each term is the mean over pixels (``reduction="mean"``, default)
    or the per-frame sum over pixels averaged over the batch (``"sum"``).
    """
    terms = gcseg_loss_terms(out, gt_t, gt_ref, reduction, ignore_value)
    return torch.stack(list(terms.values())).sum()

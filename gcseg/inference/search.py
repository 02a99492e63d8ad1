"""The Adaptive Search step (paper Section III-B).

The Judgment Module compares ``F_t`` pooled over box(``M_{t-1}``) with each object's first
features pooled over box(``M_0``); where the cosine similarity is below τ, ``M_{t-1}`` is
replaced by zeros and those objects' features are computed again (the only second backbone
pass).  An already-empty ``M_{t-1}`` is unreliable but needs no second pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gcseg.inference.runner import ModelRunner
from gcseg.model import FrameFeatures, PooledObject, ReferenceSummary

__all__ = ["SearchOutcome", "adaptive_search"]


@dataclass
class SearchOutcome:
    """The frame's features after the search and what the Judgment Module said.

    Attributes:
        features: ``F_t``, with the rows of the rejected objects encoded without ``M_{t-1}``.
        scores: per object, the cosine similarity (``None`` without search).
        reliable: per object, whether ``M_{t-1}`` was kept (``None`` without search).
        backbone_passes: 1, or 2 when some ``M_{t-1}`` was dropped.
    """

    features: FrameFeatures
    scores: list[float] | None = None
    reliable: list[bool] | None = None
    backbone_passes: int = 1


def adaptive_search(runner: ModelRunner, image: torch.Tensor, features: FrameFeatures,
                    prev_masks: torch.Tensor, first: ReferenceSummary | PooledObject,
                    threshold: float, plain: FrameFeatures | None = None) -> SearchOutcome:
    """Judge each object's ``M_{t-1}`` (``prev_masks`` (K, 1, H, W), which gave
    ``features``) against ``first`` (frame 0's summary, or its pooled object) with threshold
    τ; the rejected objects get features without ``M_{t-1}``.

    With ``plain`` = E(I_t, 0) (batch 1; the ``"no-mask"`` judgment features) the judgment
    pools ``plain`` instead of ``features``, and ``plain`` is what a rejected object gets: no
    further pass.  Otherwise the rejected objects are encoded again without ``M_{t-1}``."""
    k = prev_masks.shape[0]
    judged = features if plain is None else plain.expand(k)
    judgment = runner.model.judge(judged, prev_masks, first, threshold)
    outcome = SearchOutcome(features, judgment.score.float().tolist(),
                            judgment.reliable.tolist(), 1 if plain is None else 2)
    rejected = ~judgment.reliable & (prev_masks.flatten(1) > 0.5).any(dim=1)  # (K,)
    if rejected.any():  # forget M_{t-1} for those objects: features without it
        again = (runner.encode(image, torch.zeros_like(prev_masks[rejected])) if plain is None
                 else plain.expand(int(rejected.sum())))
        outcome.features = features.replace_rows(rejected, again)
        outcome.backbone_passes = 2
    return outcome

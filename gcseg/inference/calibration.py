"""Calibrating τ of the Judgment Module on a training split (paper Section III-B).

The paper gives τ = 0.7 as an example. Whether a threshold separates anything depends on the
model: a Judgment Module whose scores sit near 1 for every ``M_{t-1}`` rejects nothing at 0.7.
:func:`calibrate_threshold` segments a split without ever rejecting (τ = -1, so every frame
follows its own previous mask), labels each scored ``M_{t-1}`` *good* when its J against the
ground truth of frame t-1 is at least ``good_j`` and *bad* otherwise, and picks the τ that
separates the two best (balanced accuracy: the mean of the bad ones rejected and the good ones
kept).  Use it on a training split: the validation split stays unseen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from gcseg.data.davis import DavisDataset, Sequence
from gcseg.inference.dataset import segment_sequence
from gcseg.inference.engine import VideoSegmenter
from gcseg.metrics import region_similarity

__all__ = ["ThresholdCalibration", "calibrate_threshold", "judged_previous_masks"]


@dataclass
class ThresholdCalibration:
    """The τ that best separates good from bad previous masks, and how well it does.

    Attributes:
        threshold: the calibrated τ (a mask is kept when its score is at least τ).
        balanced_accuracy: mean of the bad masks rejected and the good masks kept at τ.
        auc: the chance that a good mask scores above a bad one (ties count half); ``None``
            without masks of both kinds.
        good, bad: how many scored previous masks were good / bad.
        median_good, median_bad: their median scores (``None`` without any).
        good_j: the J from which a previous mask counts as good.
        judgment_features: the features the Judgment Module pooled.
    """

    threshold: float
    balanced_accuracy: float
    auc: float | None
    good: int
    bad: int
    median_good: float | None
    median_bad: float | None
    good_j: float
    judgment_features: str

    def to_dict(self) -> dict:
        return asdict(self)


def judged_previous_masks(segmenter: VideoSegmenter, sequence: Sequence
                          ) -> list[tuple[float, float]]:
    """(score, J of ``M_{t-1}``) for every object the Judgment Module scored in ``sequence``,
    segmented by ``segmenter`` (whose search should never reject: τ = -1)."""
    result = segment_sequence(segmenter, sequence)
    pairs = []
    for record in result.records[1:]:
        t = record.index
        truth = sequence.annotation(t - 1)
        for object_id, score in zip(result.object_ids, record.judgment_scores, strict=True):
            if score != score:  # NaN: an empty mask has no box
                continue
            j = region_similarity(result.labels[t - 1] == object_id, truth == object_id,
                                  void=truth == 255)
            pairs.append((float(score), float(j)))
    return pairs


def _best_threshold(scores: np.ndarray, good: np.ndarray) -> tuple[float, float]:
    """The τ (midway between two neighbouring scores) of the highest balanced accuracy."""
    values = np.unique(scores)
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2,
                                 [values[-1] + 1e-6]])
    best = (float(candidates[0]), -1.0)
    for tau in candidates:
        kept = scores >= tau
        rates = [kept[good].mean() if good.any() else None,
                 (~kept[~good]).mean() if (~good).any() else None]
        accuracy = float(np.mean([rate for rate in rates if rate is not None]))
        if accuracy > best[1]:
            best = (float(tau), accuracy)
    return best


def _auc(scores: np.ndarray, good: np.ndarray) -> float | None:
    if good.all() or not good.any():
        return None
    above = scores[good][:, None] - scores[~good][None, :]
    return float(((above > 0) + 0.5 * (above == 0)).mean())


def calibrate_threshold(segmenter: VideoSegmenter, dataset: DavisDataset,
                        good_j: float = 0.5) -> ThresholdCalibration:
    """Calibrate τ on ``dataset`` (fully annotated; a training split) with ``segmenter``'s
    model and settings, its Adaptive Search scoring every frame but never rejecting."""
    probe = VideoSegmenter(segmenter.model,
                           segmenter.options.replace(adaptive_search=True, threshold=-1.0),
                           segmenter.device)
    pairs = [pair for sequence in dataset for pair in judged_previous_masks(probe, sequence)]
    if not pairs:
        raise ValueError(f"{dataset}: no previous mask was scored (every mask empty?)")
    scores = np.array([score for score, _ in pairs])
    good = np.array([j >= good_j for _, j in pairs])
    threshold, accuracy = _best_threshold(scores, good)
    return ThresholdCalibration(
        threshold=threshold, balanced_accuracy=accuracy, auc=_auc(scores, good),
        good=int(good.sum()), bad=int((~good).sum()),
        median_good=float(np.median(scores[good])) if good.any() else None,
        median_bad=float(np.median(scores[~good])) if (~good).any() else None,
        good_j=good_j, judgment_features=segmenter.options.judgment_features)

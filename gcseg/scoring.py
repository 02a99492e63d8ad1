"""Segment a split, then score it: the one path from a model (or a baseline) to J, F and J&F.

torchvision's ``references/segmentation`` has one ``evaluate(model, data_loader)`` that
training, testing and every table call; here :func:`score_split` plays that part for the demo,
the validation during training, the ablations, the model cards and the learning curves:

1. the segmenter (a :class:`~gcseg.inference.VideoSegmenter`) writes its masks for every video
   of the dataset into a results folder (:func:`~gcseg.inference.segment_dataset`);
2. the evaluator scores the folder against the same dataset object
   (:func:`~gcseg.evaluation.evaluate`, the DAVIS protocol of the paper's Section IV).

:func:`score_baseline` does the same for a trivial method of :mod:`gcseg.baselines`.  Both return
a :class:`SplitScore`: the evaluator's result (``.result.jf_mean``, ``.result.means()``, the
per-object and per-attribute rows) and, for a model, the timing of its segmentation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from gcseg.baselines import run_baseline
from gcseg.data import DavisDataset
from gcseg.evaluation import EvaluationResult, evaluate
from gcseg.inference import VideoSegmenter, segment_dataset

__all__ = ["SplitScore", "score_baseline", "score_split"]


@dataclass(frozen=True)
class SplitScore:
    """How well one method segments one split.

    Attributes:
        result: the evaluator's result (J, F, J&F, per object, per attribute).
        timing: :func:`~gcseg.inference.segment_dataset`'s timing (per video: frames, seconds
            per frame, second backbone passes); ``None`` for a baseline.
        seconds: wall seconds of the segmentation (writing the masks included); ``None`` for a
            baseline.
    """

    result: EvaluationResult
    timing: dict | None = None
    seconds: float | None = None

    @property
    def seconds_per_frame(self) -> float | None:
        """Mean seconds per segmented frame (``None`` for a baseline)."""
        return None if self.timing is None else self.timing["seconds_per_frame"]


def score_split(segmenter: VideoSegmenter, dataset: DavisDataset,
                out: str | os.PathLike, progress: bool = False) -> SplitScore:
    """Segment every video of ``dataset`` with ``segmenter`` into the results folder ``out``
    (replaced whole), then score the folder against ``dataset``.  ``progress`` shows the
    segmentation's progress bars."""
    started = time.perf_counter()
    timing = segment_dataset(segmenter, dataset, out, progress=progress)
    seconds = time.perf_counter() - started
    return SplitScore(evaluate(dataset, out, progress=False), timing, seconds)


def score_baseline(method: str, dataset: DavisDataset, out: str | os.PathLike) -> SplitScore:
    """Write the masks of baseline ``method`` (``copy-first``, ``empty``) for ``dataset`` into
    ``out`` (replaced whole), then score them against ``dataset``."""
    run_baseline(method, dataset, out, progress=False)
    return SplitScore(evaluate(dataset, out, progress=False))

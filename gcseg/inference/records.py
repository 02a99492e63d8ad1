"""What the engine gives back: a record per frame, the frames one by one, a whole video."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FrameRecord", "SegmentedFrame", "VideoResult"]


@dataclass
class FrameRecord:
    """What happened at one frame (the notebooks draw these)."""

    index: int
    references: list[int]
    judgment_scores: list[float] | None  # per object; None at frame 0 or without search
    reliable: list[bool] | None
    backbone_passes: int
    seconds: float


@dataclass
class SegmentedFrame:
    """One frame from :meth:`VideoSegmenter.stream`: ``labels`` ``(H, W)`` uint8 object ids,
    its :class:`FrameRecord`, and the per-object probabilities ``(K, H, W)`` float32 when the
    segmenter keeps them."""

    labels: np.ndarray
    record: FrameRecord
    probabilities: np.ndarray | None = None


@dataclass
class VideoResult:
    """Labels ``(T, H, W)`` uint8 with the object ids, per-object probabilities optional."""

    labels: np.ndarray
    object_ids: list[int]
    records: list[FrameRecord] = field(default_factory=list)
    probabilities: np.ndarray | None = None  # (T, K, H, W) float32 when kept

    @property
    def seconds_per_frame(self) -> float:
        """Mean time of the frames after the first (the propagated ones)."""
        times = [record.seconds for record in self.records[1:]]
        return float(np.mean(times)) if times else float("nan")

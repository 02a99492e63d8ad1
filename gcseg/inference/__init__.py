"""Segmenting whole videos with a trained GCSeg (paper Section III-A-1, III-B, IV-A).

The engine, split along its seams (as Cutie splits its inference core into a memory manager,
an object manager and an image feature store):

- :mod:`~gcseg.inference.options` -- :class:`InferenceOptions`, everything the engine is told
  (n, τ, Adaptive Search and the Judgment Module's features, the seed, the reference
  encoding), with its :class:`SpeedOptions`.
- :mod:`~gcseg.inference.references` -- the :class:`ReferenceBank`: the summaries of the
  frames segmented so far and the one rule that draws references from n even fragments.
- :mod:`~gcseg.inference.objects` -- the objects of a video (:class:`ObjectSchedule`: those of
  frame 0 and those that appear later) and their merge into one label map.
- :mod:`~gcseg.inference.search` -- the Adaptive Search step (Section III-B).
- :mod:`~gcseg.inference.runner` -- the network's passes with the speed switches applied.
- :mod:`~gcseg.inference.engine` -- :class:`VideoSegmenter`, the per-frame loop composing them:
  :meth:`~VideoSegmenter.stream` yields the frames one by one (memory stays flat however long
  the video: the engine keeps only the summaries); :meth:`~VideoSegmenter.segment` collects
  them.
- :mod:`~gcseg.inference.dataset` -- :func:`segment_dataset`, a whole split into the official
  results layout and ``timing.json`` (``python -m gcseg segment``), with what the Judgment
  Module said (rejection rate, median score).
- :mod:`~gcseg.inference.calibration` -- :func:`calibrate_threshold`: τ fitted on a training
  split to separate good previous masks from bad ones.

Fast paths (each equal to the plain path within float tolerance; ``tests/test_fast_paths.py``;
``python -m gcseg bench`` measures them): ``torch.inference_mode``, the cached summaries, the
batched references and objects and the shared RGB convolution are always on; the switches of
:class:`SpeedOptions` (channels-last, autocast on CUDA, ``torch.compile``) are chosen.

*Reading the paper*: a reference's features should be ``E(I_{t-n}, M_{t-n})``, as in training
(where the reference frame goes in with its ground truth).  By default
(``reference_encoding="cached"``) the engine reuses the features computed when frame ``t-n``
was segmented, ``E(I_{t-n}, M_{t-n-1})``, and masks them with ``M_{t-n}``; ``"own-mask"``
computes the exact ones, a second backbone pass per frame (measured in the README).
"""

from gcseg.inference.calibration import ThresholdCalibration, calibrate_threshold
from gcseg.inference.dataset import segment_dataset, segment_sequence
from gcseg.inference.engine import VideoSegmenter
from gcseg.inference.frame_size import (
    SMALL_FRAME_RATIO,
    FrameSizeWarning,
    frame_size_warning,
    trained_frame_size,
)
from gcseg.inference.objects import (
    ObjectSchedule,
    merge_objects,
    soft_aggregation,
    soft_aggregation_labels,
    video_objects,
)
from gcseg.inference.options import AMP_DTYPES, InferenceOptions, SpeedOptions
from gcseg.inference.records import FrameRecord, SegmentedFrame, VideoResult
from gcseg.inference.references import (
    ReferenceBank,
    reference_fragments,
    sample_reference_frames,
)

__all__ = [
    "ThresholdCalibration",
    "calibrate_threshold",
    "AMP_DTYPES",
    "SMALL_FRAME_RATIO",
    "FrameRecord",
    "FrameSizeWarning",
    "InferenceOptions",
    "ObjectSchedule",
    "ReferenceBank",
    "SegmentedFrame",
    "SpeedOptions",
    "VideoResult",
    "VideoSegmenter",
    "frame_size_warning",
    "merge_objects",
    "soft_aggregation",
    "soft_aggregation_labels",
    "reference_fragments",
    "sample_reference_frames",
    "segment_dataset",
    "segment_sequence",
    "trained_frame_size",
    "video_objects",
]

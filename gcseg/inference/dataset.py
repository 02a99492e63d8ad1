"""Segmenting a whole DAVIS-layout split into the official results layout, with
``timing.json`` (what ``python -m gcseg segment`` writes)."""

from __future__ import annotations

import os
from collections.abc import Sequence as SequenceABC
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from gcseg.data.davis import DavisDataset, Sequence, write_sequence_results
from gcseg.files import dataset_inputs, results_folder, write_json
from gcseg.inference.engine import VideoSegmenter
from gcseg.inference.options import InferenceOptions
from gcseg.inference.records import VideoResult

__all__ = ["segment_dataset", "segment_sequence"]


def segment_dataset(
    segmenter: VideoSegmenter,
    dataset: DavisDataset,
    out_dir: str | os.PathLike,
    progress: bool = True,
    overwrite: bool = True,
) -> dict:
    """Segment every sequence of ``dataset`` into ``out_dir`` (official layout) + timing.json.

    ``out_dir`` is written whole into a staging folder and swapped in at the end
    (:func:`gcseg.files.results_folder`): a killed run leaves the old results as they were,
    never old and new sequences mixed.  An existing non-empty ``out_dir`` is replaced only with
    ``overwrite`` (the command line's ``--overwrite``; the library's default, so a notebook can
    run again) and only when it holds results; never the dataset's own folders.

    In ``timing.json`` (and the returned dict) a time per frame or a rate is ``null``/``None``
    where no frame after the first was timed (videos of one frame).  With the Adaptive Search
    it also holds what the Judgment Module said: ``judgments`` (frames x objects with a
    score), ``rejected`` (of those, how many ``M_{t-1}`` were dropped), ``rejection_rate`` and
    ``median_judgment_score``."""
    options = segmenter.options
    timing = {"sequences": {}}
    frames_total, seconds_total = 0, 0.0
    scores: list[float] = []
    rejected = 0
    with results_folder(Path(out_dir), overwrite, inputs=dataset_inputs(dataset)) as staging:
        for sequence in tqdm(list(dataset), desc="sequences", disable=not progress):
            result = segment_sequence(segmenter, sequence, progress=progress)
            write_sequence_results(staging, sequence.name, result.labels, sequence.frame_names)
            judged = _judgments(result)
            row = _sequence_timing(result, options, judged)
            timing["sequences"][sequence.name] = row
            frames_total += len(result.records) - 1
            seconds_total += sum(record.seconds for record in result.records[1:])
            scores += [score for score, _ in judged]
            rejected += row["rejected"]
        height, width = dataset[0].size
        timing.update(
            seconds_per_frame=seconds_total / frames_total if frames_total else None,
            frames_per_second=frames_total / seconds_total if seconds_total > 0 else None,
            frames=frames_total,
            device=str(segmenter.device),
            amp=segmenter.runner.amp,
            resolution=f"{width}x{height}",
            num_refs=options.num_refs,
            adaptive_search=options.adaptive_search,
            judgment_features=options.judgment_features,
            reference_fusion=options.reference_fusion,
            judgments=len(scores),
            rejected=rejected,
            rejection_rate=rejected / len(scores) if scores else None,
            median_judgment_score=float(np.median(scores)) if scores else None,
        )
        write_json(staging / "timing.json", timing)
    return timing


def _sequence_timing(result: VideoResult, options: InferenceOptions,
                     judged: list[tuple[float, bool]]) -> dict:
    """One sequence's row of ``timing.json``; ``judged`` are its :func:`_judgments`."""
    usual = (1 + (options.reference_encoding == "own-mask")  # passes per frame
             + (options.adaptive_search and options.judgment_features == "no-mask"))
    seconds = sum(record.seconds for record in result.records[1:])
    timed = len(result.records) - 1
    return {
        "frames": len(result.records),
        "objects": len(result.object_ids),
        "seconds_per_frame": seconds / timed if timed else None,
        # frames whose M_{t-1} the Judgment Module dropped (or that gave a late object its
        # mask): one pass more than the encoding's own
        "second_backbone_passes": sum(r.backbone_passes > usual for r in result.records[1:]),
        "rejected": sum(not reliable for _, reliable in judged),
    }


def _judgments(result: VideoResult) -> list[tuple[float, bool]]:
    """(score, reliable) of every object the Judgment Module scored (a box in M_0 and in
    M_{t-1}; an empty mask has no score), all frames."""
    return [(score, reliable) for record in result.records[1:]
            for score, reliable in zip(record.judgment_scores or [], record.reliable or [],
                                       strict=True)
            if score == score]  # NaN: no box


class _LazyFrames(SequenceABC):
    """The frames of a :class:`Sequence`, read when indexed (never the whole video at once)."""

    def __init__(self, sequence: Sequence) -> None:
        self.sequence = sequence

    def __len__(self) -> int:
        return len(self.sequence)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.sequence.frame(index)


def segment_sequence(segmenter: VideoSegmenter, sequence: Sequence,
                     progress: bool = False) -> VideoResult:
    """Segment one DAVIS-layout sequence from its first-frame annotation (and, for objects
    absent from frame 0, the annotation of the frame where each appears first)."""
    return segmenter.segment(_LazyFrames(sequence), sequence.first_mask, progress=progress,
                             name=sequence.name, later_masks=sequence.later_annotations())

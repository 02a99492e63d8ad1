"""The DAVIS semi-supervised evaluator: score a results folder against a DAVIS-layout dataset.

This is the protocol behind the paper's tables (Section IV): for every object of every sequence,
the region similarity J and the contour accuracy F are computed frame by frame
(:mod:`gcseg.metrics`), summarised per object by mean, recall and decay, and averaged over all
objects of all sequences. It mirrors the official ``davis2017-evaluation`` toolkit:

- the first frame (given as input) and the last frame are not scored, unless
  ``score_all_frames=True`` (the official toolkit's ``[1:-1]``; it gives no reason for the last);
- sparse ground truth (YouTube-Objects, a mask about every 10th frame; see
  :class:`gcseg.data.davis.Sequence`) is scored on its annotated frames only, all but the first
  (the given one): the last annotated frame *is* scored, as in the usual YouTube-Objects protocol
  (the paper reports the mean J there, Table IV). ``score_all_frames=True`` adds the first;
- the scored objects are the ids of the first frame's annotation (``objects="first-frame"``, the
  default), as in the official toolkit: ``davis2017/davis.py`` (``DAVIS.get_all_masks``) builds
  the per-object ground truth from ``num_objects = int(np.max(masks[0, ...]))`` (void 255 set to
  0 first) and ``davis2017/evaluation.py`` scores objects ``1..num_objects``. An object that
  enters later is not scored, nor is its first mask (given as input by the semi-supervised
  protocol) scored against itself. The official code takes ``1..max(ids of frame 0)``; this
  takes the ids present in frame 0: the two agree whenever frame 0 shows objects 1..K, as on
  every DAVIS sequence. ``objects="all"`` scores every id of the ground truth instead (union over
  the annotated frames), on every scored frame;
- an object is scored on every scored frame, including frames where it is absent from the ground
  truth (a correct empty prediction then scores J = F = 1);
- a sequence too short to have a scored frame (one or two frames of dense ground truth) is not
  scored: it is listed in :attr:`EvaluationResult.excluded`, in the printed table and in
  ``excluded_sequences-<split>.csv``, never averaged in as NaN (the official toolkit's mean would
  be NaN); when no sequence is left, :func:`evaluate` raises :class:`DavisFormatError`;
- global numbers are plain means over objects (a sequence with three objects weighs three times
  as much as a one-object sequence);
- the CSV files have the official names and columns, with three decimals; they are derived from
  the results folder, so evaluating again replaces them (atomically, mode 0644 less the umask).

Results are read from ``<results_dir>/<sequence>/<frame>.png``: palette PNGs (or grayscale PNGs)
whose pixel values are object ids.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from gcseg.data import VOID_ID, DavisDataset, DavisFormatError, Sequence, read_annotation
from gcseg.data.davis import check_regular_file
from gcseg.evaluation.report import (
    AttributeRow,
    EvaluationResult,
    ObjectResult,
    attribute_row,
    global_stats,
)
from gcseg.metrics import contour_accuracy, region_similarity

__all__ = ["OBJECT_RULES", "evaluate", "evaluate_sequence"]

OBJECT_RULES = ("first-frame", "all")
"""Which object ids are scored: those of frame 0 (official, default), or every id of the ground
truth (union over the annotated frames)."""


def _scored_indices(sequence: Sequence, score_all_frames: bool) -> list[int]:
    """Frames scored in the semi-supervised protocol, ascending.

    - Every frame annotated (DAVIS): all but the first and the last (the official toolkit's).
    - Sparse ground truth (YouTube-Objects): the annotated frames but the first; the last
      annotated frame is scored.

    ``score_all_frames=True`` scores every annotated frame (first and last included).
    """
    annotated = sequence.annotated_indices
    if score_all_frames:
        return annotated
    if sequence.fully_annotated:
        return annotated[1:-1]
    return annotated[1:]


def _ground_truth(sequence: Sequence) -> dict[int, np.ndarray]:
    """``{frame index: (H, W) uint8 ids}`` for the annotated frames of ``sequence``.

    A video of several frames annotated in its first frame only (DAVIS test-dev) has no ground
    truth to score: an error naming the annotation folder.
    """
    _check_scored_ground_truth(sequence)
    return {index: sequence.annotation(index) for index in sequence.annotated_indices}


def _check_scored_ground_truth(sequence: Sequence) -> None:
    """A video of several frames annotated in its first frame only (DAVIS test-dev) has no ground
    truth to score: an error naming the annotation folder."""
    if len(sequence.annotated_indices) == 1 and len(sequence) > 1:
        folder = sequence.annotation_paths[0].parent
        raise DavisFormatError(
            f"{folder}: only the first of {len(sequence)} frames is annotated; evaluation needs "
            "the ground truth of the frames it scores (every frame, or a subset as in "
            "YouTube-Objects)"
        )


def _object_ids(
    sequence: Sequence, annotations: dict[int, np.ndarray], objects: str
) -> list[int]:
    """The object ids scored in ``sequence`` (ids > 0, void excluded), ascending.

    ``objects="first-frame"`` (default, official): the ids of frame 0's annotation. The official
    ``davis2017-evaluation`` (``davis2017/davis.py``, ``DAVIS.get_all_masks``) takes
    ``num_objects = int(np.max(masks[0, ...]))`` after setting void (255) to 0, and
    ``davis2017/evaluation.py`` scores the per-object masks ``1..num_objects``; ids present in
    frame 0 and ``1..max`` agree whenever frame 0 shows objects 1..K (every DAVIS sequence).
    ``objects="all"``: the union of the ids over the annotated frames, so an object that enters
    later is scored too (on every scored frame, including the one where its mask was given).

    An empty first-frame annotation is an error naming the file: semi-supervised segmentation
    starts from the objects of frame 0, and there are none to score.
    """
    if objects not in OBJECT_RULES:
        raise ValueError(f"objects must be one of {OBJECT_RULES}, got {objects!r}")
    first = {int(i) for i in np.unique(annotations[0])} - {0, VOID_ID}
    if not first:
        raise DavisFormatError(
            f"{sequence.annotation_paths[0]}: the first-frame annotation holds no object (every "
            "pixel 0 or void); semi-supervised evaluation scores the objects of frame 0"
        )
    if objects == "first-frame":
        return sorted(first)
    present: set[int] = set()
    for mask in annotations.values():
        present.update(int(i) for i in np.unique(mask))
    return sorted(i for i in present if i not in (0, VOID_ID))


def _read_result(path: Path, size: tuple[int, int], gt_path: Path) -> np.ndarray:
    """Read one result frame as (H, W) ids; a missing, special or wrong-size file is named."""
    if not path.exists():
        raise FileNotFoundError(f"missing result frame: {path}")
    check_regular_file(path)  # a FIFO would block the reader: refused before opening
    mask = read_annotation(path, require_palette=False)  # (H, W) uint8
    if mask.shape != tuple(size):
        raise DavisFormatError(
            f"{path}: result size {mask.shape[1]}x{mask.shape[0]} (WxH) differs from the "
            f"ground truth's {size[1]}x{size[0]} ({gt_path})"
        )
    return mask


def _too_short(sequence: Sequence, score_all_frames: bool) -> str | None:
    """Why ``sequence`` has no frame to score, or ``None`` when it has one."""
    _check_scored_ground_truth(sequence)
    if _scored_indices(sequence, score_all_frames):
        return None
    return (
        f"{len(sequence)} frame(s), none scored (the first frame is given and the last is not "
        "scored; --all-frames / score_all_frames=True scores them)"
    )


def evaluate_sequence(
    sequence: Sequence,
    results_dir: str | os.PathLike,
    score_all_frames: bool = False,
    bound_th: float = 0.008,
    objects: str = "first-frame",
) -> list[ObjectResult]:
    """Per-object J and F of one sequence against ``<results_dir>/<sequence.name>/``.

    The scored frames are those of :func:`_scored_indices`: all but the first and the last when
    every frame is annotated (DAVIS), the annotated frames but the first when the ground truth is
    sparse (YouTube-Objects); only their result files are read (and must exist). Mean, recall and
    decay are taken over the scored frames (for sparse ground truth: over the annotated ones, in
    frame order). The scored objects are those of :func:`_object_ids`: by default the ids of
    frame 0 (the official rule), with ``objects="all"`` every id of the ground truth.

    For each object id ``k`` and each scored frame: the predicted mask is ``result == k``
    (``result > 0`` when the sequence is read as DAVIS 2016, whose objects are merged into one;
    so 0/255 binary results work too), the ground-truth mask is ``gt == k``, and ground-truth
    void pixels (255) are excluded from both. Result ids that are not scored are ignored.

    Void: the official 2017 toolkit turns 255 into background before it builds its void mask,
    so there void is never excluded; this evaluator excludes it, as DAVIS 2016 defines void. The
    two agree whenever the ground truth holds no 255 pixel.

    Raises:
        DavisFormatError: the sequence has no scored frame (one or two frames; :func:`evaluate`
            excludes such sequences with a note instead), its first-frame annotation holds no
            object, or a result frame is unreadable, not a regular file or of the wrong size.
        FileNotFoundError: the results folder or a scored result frame is missing.
    """
    result_folder = Path(results_dir) / sequence.name
    if not result_folder.is_dir():
        raise FileNotFoundError(
            f"missing results folder of sequence {sequence.name!r}: {result_folder}"
        )
    reason = _too_short(sequence, score_all_frames)
    if reason is not None:
        raise DavisFormatError(f"{sequence.frame_paths[0].parent}: {reason}")
    annotations = _ground_truth(sequence)  # {frame index: (H, W)}
    object_ids = _object_ids(sequence, annotations, objects)
    indices = _scored_indices(sequence, score_all_frames)
    names = [sequence.frame_names[i] for i in indices]
    gt_paths = dict(zip(sequence.annotated_indices, sequence.annotation_paths, strict=True))
    merge = sequence.year == "2016"

    j_scores = np.zeros((len(object_ids), len(indices)))  # (K, T_scored)
    f_scores = np.zeros((len(object_ids), len(indices)))  # (K, T_scored)
    for t, (index, name) in enumerate(zip(indices, names, strict=True)):
        gt = annotations[index]  # (H, W)
        result = _read_result(result_folder / f"{name}.png", gt.shape, gt_paths[index])  # (H, W)
        void = gt == VOID_ID  # (H, W)
        for k, object_id in enumerate(object_ids):
            pred = result > 0 if merge else result == object_id  # (H, W)
            target = gt == object_id  # (H, W)
            j_scores[k, t] = region_similarity(pred, target, void)
            f_scores[k, t] = contour_accuracy(pred, target, void, bound_th)
    return [
        ObjectResult.from_per_frame(sequence.name, object_id, names, j_scores[k], f_scores[k])
        for k, object_id in enumerate(object_ids)
    ]


def _select(dataset: DavisDataset, sequences: str | Iterable[str] | None) -> list[str]:
    if sequences is None:
        return dataset.sequences
    wanted = [sequences] if isinstance(sequences, str) else list(sequences)
    unknown = [name for name in wanted if name not in dataset.sequences]
    if unknown:
        raise ValueError(f"sequences {unknown} are not in {dataset.split_file}")
    return wanted


def _attribute_rows(dataset: DavisDataset, objects: list[ObjectResult]) -> list[AttributeRow]:
    """One row per attribute carried by an evaluated sequence, in ``codes`` order, then ``all``."""
    per_sequence = dataset.attributes  # {sequence: [code, ...]}
    if not per_sequence:
        return []
    evaluated = {o.sequence for o in objects}
    carried = {code for seq in evaluated for code in per_sequence.get(seq, [])}
    known = list(getattr(dataset, "attribute_codes", {}))
    order = [c for c in known if c in carried] + sorted(carried - set(known))
    rows = [
        attribute_row(code, [o for o in objects if code in per_sequence.get(o.sequence, [])])
        for code in order
    ]
    rows.append(attribute_row("all", objects))
    return rows


def evaluate(
    dataset: DavisDataset,
    results_dir: str | os.PathLike,
    score_all_frames: bool = False,
    sequences: str | Iterable[str] | None = None,
    progress: bool = True,
    objects: str = "first-frame",
) -> EvaluationResult:
    """Score ``results_dir`` against ``dataset``, a DAVIS-layout split (J and F).

    Args:
        dataset: the split scored, as the caller opened it: its split, year and resolution
            decide which annotations are read; ``year="2016"`` merges the objects of both
            ground truth and results into one.
        results_dir: ``<results_dir>/<sequence>/<frame>.png`` id maps (palette or grayscale).
        score_all_frames: also score the first and last frames (not done by the official
            semi-supervised protocol); for sparse ground truth, the first annotated frame.
        sequences: a subset of the split's sequences (default: all of them).
        progress: show a progress bar over sequences.
        objects: ``"first-frame"`` (default) scores the ids of frame 0's annotation, as the
            official ``davis2017-evaluation`` does (``num_objects = max(masks[0])`` in
            ``davis2017/davis.py``); ``"all"`` also scores ids that appear later (the union over
            the annotated frames), including the frame where their mask was given as input.

    Returns:
        An :class:`EvaluationResult`; call ``.table()`` to print it and ``.write_csvs()`` to
        write the official CSV files (nothing is written by this function). Sequences with no
        scored frame (one or two frames) are left out and listed in ``.excluded``.

    Raises:
        FileNotFoundError: the results folder, a sequence's results folder or a scored result
            frame is missing (named).
        DavisFormatError: (a ValueError) a sequence of several frames is annotated in its first
            frame only (nothing to score), a first-frame annotation holds no object, a result
            frame is unreadable, not a regular file or of the wrong size (file and both sizes
            named), or no sequence has a frame to score.
        ValueError: an unknown sequence or ``objects`` rule was asked for.
    """
    if objects not in OBJECT_RULES:
        raise ValueError(f"objects must be one of {OBJECT_RULES}, got {objects!r}")
    names = _select(dataset, sequences)
    scored: list[ObjectResult] = []
    excluded: dict[str, str] = {}
    frames: dict[str, int] = {}
    for name in tqdm(names, desc="evaluate", unit="seq", disable=not progress):
        sequence = dataset[name]
        reason = _too_short(sequence, score_all_frames)
        if reason is not None:
            excluded[name], frames[name] = reason, len(sequence)
            continue
        scored.extend(
            evaluate_sequence(sequence, results_dir, score_all_frames, objects=objects)
        )
    if not scored:
        raise DavisFormatError(
            f"{dataset.image_dir}: no sequence of {dataset.split_file} has a frame to score: "
            + "; ".join(f"{name}: {why}" for name, why in excluded.items())
        )
    return EvaluationResult(
        split=dataset.split,
        year=dataset.year,
        results_dir=Path(results_dir),
        global_stats=global_stats(scored),
        objects=scored,
        attributes=_attribute_rows(dataset, scored),
        objects_rule=objects,
        excluded=excluded,
        frames=frames,
    )

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

import csv
import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from gcseg.data.davis import (
    VOID_ID,
    DavisDataset,
    DavisFormatError,
    Sequence,
    check_regular_file,
    public_file_mode,
    read_annotation,
)
from gcseg.metrics import contour_accuracy, region_similarity, sequence_statistics

__all__ = [
    "AttributeRow",
    "EvaluationResult",
    "GLOBAL_COLUMNS",
    "OBJECT_RULES",
    "ObjectResult",
    "check_csv_folder",
    "evaluate",
    "evaluate_sequence",
]

GLOBAL_COLUMNS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
"""Columns of ``global_results-<split>.csv`` (the official toolkit's)."""

SEQUENCE_COLUMNS = ("Sequence", "J-Mean", "F-Mean")
"""Columns of ``per-sequence_results-<split>.csv``."""

ATTRIBUTE_COLUMNS = ("Attribute", "Objects", "J&F-Mean", "J-Mean", "F-Mean")
"""Columns of ``per-attribute_results-<split>.csv``."""

EXCLUDED_COLUMNS = ("Sequence", "Frames", "Reason")
"""Columns of ``excluded_sequences-<split>.csv`` (sequences with no scored frame)."""

OBJECT_RULES = ("first-frame", "all")
"""Which object ids are scored: those of frame 0 (official, default), or every id of the ground
truth (union over the annotated frames)."""


# --------------------------------------------------------------------------- result containers


@dataclass
class ObjectResult:
    """Scores of one object of one sequence.

    ``j_per_frame`` and ``f_per_frame`` are (T_scored,) arrays aligned with ``frame_names`` (the
    scored frames only), for per-frame plots.
    """

    sequence: str
    object_id: int
    frame_names: list[str]
    j_per_frame: np.ndarray
    f_per_frame: np.ndarray
    j_mean: float
    j_recall: float
    j_decay: float
    f_mean: float
    f_recall: float
    f_decay: float

    @property
    def name(self) -> str:
        """``<sequence>_<object id>``, the row name of the per-sequence CSV."""
        return f"{self.sequence}_{self.object_id}"

    @property
    def jf_mean(self) -> float:
        """``(J-Mean + F-Mean) / 2`` of this object."""
        return (self.j_mean + self.f_mean) / 2

    @classmethod
    def from_per_frame(
        cls,
        sequence: str,
        object_id: int,
        frame_names: list[str],
        j_per_frame: np.ndarray,
        f_per_frame: np.ndarray,
    ) -> ObjectResult:
        """Build the row from per-frame scores (statistics by :func:`sequence_statistics`)."""
        j_stats = sequence_statistics(j_per_frame)
        f_stats = sequence_statistics(f_per_frame)
        return cls(
            sequence, object_id, list(frame_names), j_per_frame, f_per_frame, *j_stats, *f_stats
        )


@dataclass
class AttributeRow:
    """Mean scores over the objects of the sequences that carry one DAVIS attribute."""

    attribute: str
    objects: int
    jf_mean: float
    j_mean: float
    f_mean: float


@dataclass
class EvaluationResult:
    """Everything :func:`evaluate` computed.

    Attributes:
        split, year: the evaluated split and year (``year="2016"``: objects merged into one).
        results_dir: the results folder that was scored (default folder for the CSVs).
        global_stats: ``{column: value}`` over :data:`GLOBAL_COLUMNS`.
        objects: one :class:`ObjectResult` per object per sequence, in sequence order.
        attributes: per-attribute rows (empty when the dataset has no ``attributes.json``),
            the last one named ``all``.
        objects_rule: which object ids were scored (:data:`OBJECT_RULES`).
        excluded: ``{sequence: reason}`` of the sequences not scored (no scored frame).
        frames: ``{sequence: frame count}`` of the excluded sequences.
    """

    split: str
    year: str
    results_dir: Path
    global_stats: dict[str, float]
    objects: list[ObjectResult]
    attributes: list[AttributeRow] = field(default_factory=list)
    objects_rule: str = "first-frame"
    excluded: dict[str, str] = field(default_factory=dict)
    frames: dict[str, int] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """One line per excluded sequence (``sequence 'x' not scored: ...``)."""
        return [f"sequence {name!r} not scored: {why}" for name, why in self.excluded.items()]

    def table(self) -> str:
        """A printable table like the official toolkit's: global row, then per sequence."""
        parts = [
            _rule(f" Global results for {self.split} "),
            _format_table(GLOBAL_COLUMNS, [[self.global_stats[c] for c in GLOBAL_COLUMNS]]),
            "",
            _rule(f" Per sequence results for {self.split} "),
            _format_table(SEQUENCE_COLUMNS, [[o.name, o.j_mean, o.f_mean] for o in self.objects]),
        ]
        if self.attributes:
            parts += [
                "",
                _rule(f" Per attribute results for {self.split} "),
                _format_table(ATTRIBUTE_COLUMNS, [_attribute_cells(r) for r in self.attributes]),
            ]
        if self.objects_rule != "first-frame":
            parts += ["", "objects: every id of the ground truth (not the official rule: the "
                          "ids of frame 0)"]
        if self.excluded:
            parts += ["", _rule(f" Not scored ({len(self.excluded)}) "), *self.notes()]
        return "\n".join(parts)

    def write_csvs(self, out_dir: str | os.PathLike | None = None) -> list[Path]:
        """Write the official CSV files (atomically) into ``out_dir`` (default: results dir).

        Returns the written paths: ``global_results-<split>.csv``,
        ``per-sequence_results-<split>.csv`` and, when attributes are known,
        ``per-attribute_results-<split>.csv``; and, when sequences were excluded,
        ``excluded_sequences-<split>.csv`` (an older one is removed when none is). Files of these
        names are replaced: they are derived from the results folder.

        Raises:
            NotADirectoryError, PermissionError: ``out_dir`` (or the folder it would be created
                in) is a file or not writable; the message names it.
        """
        out = check_csv_folder(self.results_dir if out_dir is None else out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PermissionError(
                f"{out}: cannot create the folder for the CSV files "
                f"({error.strerror or error})"
            ) from None
        paths = [
            _write_csv(
                out / f"global_results-{self.split}.csv",
                GLOBAL_COLUMNS,
                [[self.global_stats[c] for c in GLOBAL_COLUMNS]],
            ),
            _write_csv(
                out / f"per-sequence_results-{self.split}.csv",
                SEQUENCE_COLUMNS,
                [[o.name, o.j_mean, o.f_mean] for o in self.objects],
            ),
        ]
        if self.attributes:
            paths.append(
                _write_csv(
                    out / f"per-attribute_results-{self.split}.csv",
                    ATTRIBUTE_COLUMNS,
                    [_attribute_cells(r) for r in self.attributes],
                )
            )
        excluded = out / f"excluded_sequences-{self.split}.csv"
        if self.excluded:
            rows = [[name, self.frames.get(name, ""), why] for name, why in self.excluded.items()]
            paths.append(_write_csv(excluded, EXCLUDED_COLUMNS, rows))
        elif excluded.is_file():
            excluded.unlink()  # from an earlier evaluation: it would describe other results
        return paths


# --------------------------------------------------------------------------- formatting


def _cell(value: object) -> str:
    """Format one table/CSV cell: floats with 3 decimals (the official ``%.3f``)."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3f}"
    return str(value)


def _attribute_cells(row: AttributeRow) -> list[object]:
    return [row.attribute, row.objects, row.jf_mean, row.j_mean, row.f_mean]


def _rule(title: str, width: int = 72) -> str:
    return title.center(width, "-")


def _format_table(columns: Iterable[str], rows: list[list[object]]) -> str:
    """Right-aligned fixed-width text table (like ``pandas.DataFrame.to_string(index=False)``)."""
    cells = [list(columns)] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def check_csv_folder(folder: str | os.PathLike) -> Path:
    """Check, before any work, that the CSV files can be written into ``folder``.

    ``folder`` may not exist yet (it is created); then the closest existing folder above it must
    be writable. Raises ``NotADirectoryError`` (a file is in the way) or ``PermissionError`` (not
    writable), naming the path. Returns ``Path(folder)``.
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        if probe.is_symlink():  # a dangling link: mkdir would fail
            raise NotADirectoryError(f"{probe}: a broken symbolic link, not a folder")
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(
            f"{probe}: is a file, not a folder; the CSV files are written into a folder"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"{probe}: folder not writable; the CSV files cannot be written")
    return folder


def _write_csv(path: Path, columns: Iterable[str], rows: list[list[object]]) -> Path:
    """Write a CSV through a temporary file in the same folder, then ``os.replace`` it.

    The file gets the mode a plain ``open`` would give (0644 under the usual umask), not
    ``mkstemp``'s private 0600. A NaN or infinite number is refused: no result file holds one.
    """
    for row in rows:
        for value in row:
            if isinstance(value, (float, np.floating)) and not math.isfinite(value):
                raise ValueError(f"{path}: refusing to write {value} in row {row}")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise PermissionError(
            f"{path}: cannot write the CSV file ({error.strerror or error})"
        ) from None
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            os.fchmod(handle.fileno(), public_file_mode())
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(list(columns))
            writer.writerows([[_cell(v) for v in row] for row in rows])
        try:
            os.replace(tmp_name, path)
        except OSError as error:  # e.g. a folder of that name is in the way
            raise FileExistsError(
                f"{path}: cannot be replaced by the new CSV file ({error.strerror or error})"
            ) from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- evaluation


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


def _mean(values: list[float]) -> float:
    """Plain mean (NaN propagates, as the official ``np.mean``); NaN for no values."""
    return float(np.mean(values)) if values else math.nan


def _global_stats(objects: list[ObjectResult]) -> dict[str, float]:
    """Means over all objects of the per-object statistics; ``J&F-Mean`` = their average."""
    stats = {
        "J-Mean": _mean([o.j_mean for o in objects]),
        "J-Recall": _mean([o.j_recall for o in objects]),
        "J-Decay": _mean([o.j_decay for o in objects]),
        "F-Mean": _mean([o.f_mean for o in objects]),
        "F-Recall": _mean([o.f_recall for o in objects]),
        "F-Decay": _mean([o.f_decay for o in objects]),
    }
    stats["J&F-Mean"] = (stats["J-Mean"] + stats["F-Mean"]) / 2
    return {column: stats[column] for column in GLOBAL_COLUMNS}


def _attribute_row(name: str, objects: list[ObjectResult]) -> AttributeRow:
    j_mean = _mean([o.j_mean for o in objects])
    f_mean = _mean([o.f_mean for o in objects])
    return AttributeRow(name, len(objects), (j_mean + f_mean) / 2, j_mean, f_mean)


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
        _attribute_row(code, [o for o in objects if code in per_sequence.get(o.sequence, [])])
        for code in order
    ]
    rows.append(_attribute_row("all", objects))
    return rows


def evaluate(
    davis_root: str | os.PathLike,
    results_dir: str | os.PathLike,
    split: str = "val",
    year: str = "2017",
    resolution: str = "480p",
    score_all_frames: bool = False,
    sequences: str | Iterable[str] | None = None,
    progress: bool = True,
    objects: str = "first-frame",
) -> EvaluationResult:
    """Score ``results_dir`` against the DAVIS-layout dataset at ``davis_root`` (J and F).

    Args:
        davis_root: dataset root (``JPEGImages/``, ``Annotations/``, ``ImageSets/``).
        results_dir: ``<results_dir>/<sequence>/<frame>.png`` id maps (palette or grayscale).
        split, year, resolution: which split file and annotations to use; ``year="2016"`` merges
            the objects of both ground truth and results into one.
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
        DavisFormatError: (a ValueError) the dataset breaks the layout, a sequence of several
            frames is annotated in its first frame only (nothing to score), a first-frame
            annotation holds no object, a result frame is unreadable, not a regular file or of
            the wrong size (file and both sizes named), or no sequence has a frame to score.
        ValueError: an unknown sequence or ``objects`` rule was asked for.
    """
    if objects not in OBJECT_RULES:
        raise ValueError(f"objects must be one of {OBJECT_RULES}, got {objects!r}")
    dataset = DavisDataset(davis_root, year=year, split=split, resolution=resolution)
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
        split=split,
        year=str(year),
        results_dir=Path(results_dir),
        global_stats=_global_stats(scored),
        objects=scored,
        attributes=_attribute_rows(dataset, scored),
        objects_rule=objects,
        excluded=excluded,
        frames=frames,
    )

"""What :func:`~gcseg.evaluation.evaluate` returns, and how it is printed and written.

- :class:`ObjectResult` -- J and F of one object, frame by frame, with mean, recall and decay;
- :class:`AttributeRow` -- the mean over the objects of the videos that carry one attribute;
- :class:`EvaluationResult` -- the whole evaluation: global statistics (means over objects),
  per object, per attribute, the sequences not scored; its :meth:`~EvaluationResult.table`
  prints like the official ``davis2017-evaluation`` toolkit and
  :meth:`~EvaluationResult.write_csvs` writes its CSV files (three decimals, atomically).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gcseg.files import atomic_write
from gcseg.metrics import sequence_statistics

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "EXCLUDED_COLUMNS",
    "GLOBAL_COLUMNS",
    "SEQUENCE_COLUMNS",
    "AttributeRow",
    "EvaluationResult",
    "ObjectResult",
    "attribute_row",
    "check_csv_folder",
    "global_stats",
]

GLOBAL_COLUMNS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
"""Columns of ``global_results-<split>.csv`` (the official toolkit's)."""

SEQUENCE_COLUMNS = ("Sequence", "J-Mean", "F-Mean")
"""Columns of ``per-sequence_results-<split>.csv``."""

ATTRIBUTE_COLUMNS = ("Attribute", "Objects", "J&F-Mean", "J-Mean", "F-Mean")
"""Columns of ``per-attribute_results-<split>.csv``."""

EXCLUDED_COLUMNS = ("Sequence", "Frames", "Reason")
"""Columns of ``excluded_sequences-<split>.csv`` (sequences with no scored frame)."""

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
    """Everything :func:`~gcseg.evaluation.evaluate` computed.

    Attributes:
        split, year: the evaluated split and year (``year="2016"``: objects merged into one).
        results_dir: the results folder that was scored (default folder for the CSVs).
        global_stats: ``{column: value}`` over :data:`GLOBAL_COLUMNS`.
        objects: one :class:`ObjectResult` per object per sequence, in sequence order.
        attributes: per-attribute rows (empty when the dataset has no ``attributes.json``),
            the last one named ``all``.
        objects_rule: which object ids were scored (``first-frame`` or ``all``, see
            :data:`gcseg.evaluation.OBJECT_RULES`).
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

    @property
    def j_mean(self) -> float:
        """Region similarity J, the mean over every scored object."""
        return self.global_stats["J-Mean"]

    @property
    def f_mean(self) -> float:
        """Contour accuracy F, the mean over every scored object."""
        return self.global_stats["F-Mean"]

    @property
    def jf_mean(self) -> float:
        """``(J + F) / 2``: the headline number of the paper's tables."""
        return self.global_stats["J&F-Mean"]

    def means(self, scale: float = 1.0) -> dict[str, float]:
        """``{"J&F", "J", "F"}`` times ``scale`` (100: percent, as the paper's tables)."""
        return {"J&F": scale * self.jf_mean, "J": scale * self.j_mean, "F": scale * self.f_mean}

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
    """Write a CSV with :func:`gcseg.files.atomic_write` (a temporary file, then a rename; the
    mode a plain ``open`` would give). A NaN or infinite number is refused: no result file
    holds one."""
    for row in rows:
        for value in row:
            if isinstance(value, (float, np.floating)) and not math.isfinite(value):
                raise ValueError(f"{path}: refusing to write {value} in row {row}")

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(list(columns))
            writer.writerows([[_cell(v) for v in row] for row in rows])

    return atomic_write(path, write)


# --------------------------------------------------------------------------- summaries


def _mean(values: list[float]) -> float:
    """Plain mean (NaN propagates, as the official ``np.mean``); NaN for no values."""
    return float(np.mean(values)) if values else math.nan


def global_stats(objects: list[ObjectResult]) -> dict[str, float]:
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


def attribute_row(name: str, objects: list[ObjectResult]) -> AttributeRow:
    j_mean = _mean([o.j_mean for o in objects])
    f_mean = _mean([o.f_mean for o in objects])
    return AttributeRow(name, len(objects), (j_mean + f_mean) / 2, j_mean, f_mean)



"""What a run writes beside its checkpoint: ``log.csv``, ``eval.csv`` and the weights' digest."""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import torch

__all__ = ["EVAL_COLUMNS", "LOG_COLUMNS", "append_row", "read_log", "truncate_log",
           "weights_digest"]

LOG_COLUMNS = ["step", "stage", "loss", "lr", "seconds"]
"""Columns of ``log.csv``: the mean loss since the last logged step, the learning rate, the
training seconds so far."""

EVAL_COLUMNS = ["step", "J&F", "J", "F"]
"""Columns of ``eval.csv``: the validation scores at a step."""


def append_row(path: Path, header: list[str], row: list) -> None:
    """Add ``row`` to the CSV file ``path``, writing ``header`` first when it is new."""
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(header)
        writer.writerow(row)


def truncate_log(path: Path, step: int) -> None:
    """Drop logged rows after ``step`` (written by a run that went on past its checkpoint)."""
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [row for row in rows[1:] if int(row[0]) <= step]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(kept)


def read_log(run_dir: str | os.PathLike) -> tuple[list[dict], list[dict]]:
    """The rows of ``log.csv`` and ``eval.csv`` of a run (empty lists when absent)."""
    run_dir = Path(run_dir)
    tables = []
    for name in ("log.csv", "eval.csv"):
        path = run_dir / name
        tables.append(list(csv.DictReader(path.open())) if path.is_file() else [])
    return tables[0], tables[1]


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer (bitwise identical weights ⇔ same digest)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()

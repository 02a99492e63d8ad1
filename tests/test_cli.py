"""``python -m gcseg`` end to end in a subprocess: make-synthetic, validate, baseline, evaluate."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _gcseg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gcseg", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.slow
def test_make_synthetic_validate_baseline_evaluate(tmp_path):
    data = tmp_path / "synthetic"
    args = ["--seed", "3", "--train", "1", "--val", "2", "--frames", "5-7", "--size", "64x112"]
    done = _gcseg("make-synthetic", "--out", str(data), *args)
    assert done.returncode == 0, done.stderr
    again = _gcseg("make-synthetic", "--out", str(tmp_path / "again"), *args)
    assert again.returncode == 0 and _digest(data) == _digest(tmp_path / "again")

    done = _gcseg("validate", "--davis", str(data), "--set", "val")
    assert done.returncode == 0 and "every file readable" in done.stdout

    results = tmp_path / "results"
    done = _gcseg("baseline", "--davis", str(data), "--out", str(results))
    assert done.returncode == 0, done.stderr
    done = _gcseg("evaluate", "--davis", str(data), "--results", str(results))
    assert done.returncode == 0, done.stderr
    for column in ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"):
        assert column in done.stdout
    with (results / "global_results-val.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and 0.0 <= float(rows[0]["J&F-Mean"]) <= 1.0
    with (results / "per-sequence_results-val.csv").open() as handle:
        sequences = [row["Sequence"] for row in csv.DictReader(handle)]
    assert all(name.startswith("syn-val-") for name in sequences)

    done = _gcseg("make-synthetic", "--out", str(data), *args)
    assert done.returncode == 2 and "not empty" in done.stderr  # a good dataset is kept
    done = _gcseg("make-synthetic", "--out", str(tmp_path / "x"), "--size", "10x10")
    assert done.returncode == 2 and "too small" in done.stderr

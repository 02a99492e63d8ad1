"""Hostile DAVIS-layout inputs through ``python -m gcseg validate/evaluate``.

Each case runs the command line in a subprocess and checks: exit status 2, one ``error:`` line
that names the file and the fault, no traceback, and that no file of the dataset or the results
changed (nothing lost). The fixtures are tiny DAVIS-layout folders written here (32x48 frames).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gcseg import files
from gcseg.data.davis import write_annotation, write_sequence_results
from tests.conftest import square_video, write_davis

pytestmark = pytest.mark.slow  # runs the command line in subprocesses

ROOT = Path(__file__).resolve().parent.parent


def _gcseg(*args: str | Path, umask: int | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m gcseg ARGS``; a 120 s timeout turns a hang (a FIFO read) into a failure."""
    preexec = None if umask is None else (lambda: os.umask(umask))
    return subprocess.run([sys.executable, "-m", "gcseg", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, preexec_fn=preexec)


def _digest(*folders: Path) -> str:
    """Hash of every regular file's path and bytes below ``folders`` (FIFOs by name only)."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            digest.update(str(path).encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _refused(done: subprocess.CompletedProcess, *fragments: str | Path) -> str:
    """Assert exit 2, one ``error:`` line holding every fragment, and no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert str(fragment) in lines[0], (fragment, lines[0])
    return lines[0]


def _dataset(tmp_path: Path, videos: dict | None = None) -> tuple[Path, Path]:
    """A dataset (default: ``one`` 6 frames, ``two`` 5 frames with 2 objects) and a results
    folder equal to its ground truth; returns (root, results)."""
    videos = videos or {"one": square_video(6), "two": square_video(5, objects=2, seed=1)}
    root = write_davis(tmp_path / "davis", videos)
    results = tmp_path / "results"
    for name, (_, masks) in videos.items():
        write_sequence_results(results, name, masks, [f"{t:05d}" for t in range(len(masks))])
    return root, results


def _evaluate(root: Path, results: Path, *extra: str | Path) -> subprocess.CompletedProcess:
    return _gcseg("evaluate", "--davis", root, "--results", results, *extra)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------- sparse ground truth


def test_one_missing_annotation_is_named_not_made_sparse(tmp_path):
    root, results = _dataset(tmp_path)
    missing = root / "Annotations" / "480p" / "one" / "00002.png"
    missing.unlink()
    before = _digest(root, results)
    for command in (("validate", "--davis", root), ("evaluate", "--davis", root,
                                                       "--results", results)):
        _refused(_gcseg(*command), missing, "annotation of frame 00002.jpg not found",
                 "5 for 6 frames")
    assert _digest(root, results) == before
    assert not list(results.glob("*.csv"))


def test_sparse_ground_truth_by_rule_or_declaration_is_reported(tmp_path):
    frames, masks = square_video(10)
    root, results = _dataset(tmp_path, {"every3": (frames, masks), "odd": (frames, masks),
                                        "dense": square_video(4, seed=2)})
    annotations = root / "Annotations" / "480p"
    for t in (1, 2, 4, 5, 7, 8):  # every3: 0, 3, 6, 9 -- a regular pattern
        (annotations / "every3" / f"{t:05d}.png").unlink()
    for t in (1, 3, 4, 6, 7, 8, 9):  # odd: 0, 2, 5 -- no rule
        (annotations / "odd" / f"{t:05d}.png").unlink()
    # the closest rule is every 2nd frame (0, 2, 4, ...): 00004.png is named as missing
    _refused(_gcseg("validate", "--davis", root), annotations / "odd" / "00004.png",
             "annotation of frame 00004.jpg not found", "every N-th frame, or be declared in",
             root / "sparse_annotations.json")

    manifest = root / "sparse_annotations.json"
    manifest.write_text(json.dumps({"sequences": {"odd": {"annotated": ["00000", "00002",
                                                                        "00005"]}}}))
    done = _gcseg("validate", "--davis", root)
    assert done.returncode == 0, done.stderr
    assert "annotated every frame: 1 sequence(s)" in done.stdout
    assert "annotated every 3rd frame: 1 sequence(s) (every3)" in done.stdout
    assert "annotated declared in sparse_annotations.json: 1 sequence(s) (odd)" in done.stdout
    done = _evaluate(root, results)
    assert done.returncode == 0, done.stderr
    sequences = [row["Sequence"] for row in _rows(results / "per-sequence_results-val.csv")]
    assert sequences == ["every3_1", "odd_1", "dense_1"]

    (annotations / "odd" / "00005.png").unlink()  # declared but lost
    before = _digest(root, results)
    _refused(_gcseg("validate", "--davis", root), annotations / "odd" / "00005.png",
             "annotation not found", f"declared in {manifest}")
    assert _digest(root, results) == before


# --------------------------------------------------------------------------- objects scored


def _late_object(tmp_path: Path) -> tuple[Path, Path]:
    """``s``: 6 frames, object 1 everywhere, object 2 from frame 3 on; the results copy the
    ground truth but lose object 2 after frame 3 (where its mask was given)."""
    frames, masks = square_video(6, objects=2)
    masks[:3][masks[:3] == 2] = 0
    root, results = _dataset(tmp_path, {"s": (frames, masks)})
    late = masks[4].copy()
    late[late == 2] = 0
    write_annotation(results / "s" / "00004.png", late)
    return root, results


def test_objects_absent_from_frame_0_follow_the_official_rule(tmp_path):
    root, results = _late_object(tmp_path)
    done = _evaluate(root, results)
    assert done.returncode == 0, done.stderr
    rows = _rows(results / "per-sequence_results-val.csv")
    assert [(r["Sequence"], r["J-Mean"]) for r in rows] == [("s_1", "1.000")]

    done = _evaluate(root, results, "--objects", "all", "--out", tmp_path / "all")
    assert done.returncode == 0, done.stderr
    assert "not the official rule" in done.stdout
    rows = _rows(tmp_path / "all" / "per-sequence_results-val.csv")
    # object 2 on frames 1-4: absent and not predicted (1, 1), given (1), lost (0)
    assert [(r["Sequence"], r["J-Mean"]) for r in rows] == [("s_1", "1.000"), ("s_2", "0.750")]


# --------------------------------------------------------------------------- short sequences


def test_sequences_with_no_scored_frame(tmp_path):
    root, results = _dataset(tmp_path, {"single": square_video(1), "pair": square_video(2)})
    before = _digest(root, results)
    _refused(_evaluate(root, results), root / "JPEGImages" / "480p",
             "no sequence of", "has a frame to score", "pair: 2 frame(s), none scored")
    assert _digest(root, results) == before

    root, results = _dataset(tmp_path / "mixed", {"pair": square_video(2),
                                                  "long": square_video(5)})
    done = _evaluate(root, results)
    assert done.returncode == 0, done.stderr
    assert "note: sequence 'pair' not scored: 2 frame(s), none scored" in done.stderr
    assert "Not scored (1)" in done.stdout
    for path in results.glob("*.csv"):
        assert "nan" not in path.read_text().lower(), path
    assert [r["Sequence"] for r in _rows(results / "per-sequence_results-val.csv")] == ["long_1"]
    (excluded,) = _rows(results / "excluded_sequences-val.csv")
    assert (excluded["Sequence"], excluded["Frames"]) == ("pair", "2")


# --------------------------------------------------------------------------- unreadable files


def test_wrong_size_result_is_named(tmp_path):
    root, results = _dataset(tmp_path)
    bad = results / "two" / "00002.png"
    write_annotation(bad, np.zeros((10, 20), np.uint8))
    before = _digest(root, results)
    _refused(_evaluate(root, results), bad, "result size 20x10 (WxH) differs from the ground "
             "truth's 48x32", root / "Annotations" / "480p" / "two" / "00002.png")
    assert _digest(root, results) == before


def test_empty_first_jpeg_is_named(tmp_path):
    root, results = _dataset(tmp_path)
    empty = root / "JPEGImages" / "480p" / "two" / "00000.jpg"
    empty.write_bytes(b"")
    before = _digest(root, results)
    _refused(_evaluate(root, results), empty, "empty file (0 bytes)")  # validate: test_davis
    assert _digest(root, results) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("where", ["frame", "result"])
def test_fifo_is_refused_before_it_is_opened(tmp_path, where):
    root, results = _dataset(tmp_path)
    fifo = (root / "JPEGImages" / "480p" / "one" / "00003.jpg" if where == "frame"
            else results / "one" / "00003.png")
    fifo.unlink()
    os.mkfifo(fifo)
    before = _digest(root, results)
    _refused(_evaluate(root, results), fifo, "is a FIFO (named pipe), not a regular file")
    assert stat.S_ISFIFO(fifo.stat().st_mode) and _digest(root, results) == before


def test_first_frame_without_any_object_is_named(tmp_path):
    frames, masks = square_video(5)
    masks[0] = 0
    root, results = _dataset(tmp_path, {"s": (frames, masks)})
    first = root / "Annotations" / "480p" / "s" / "00000.png"
    before = _digest(root, results)
    _refused(_evaluate(root, results), first, "the first-frame annotation holds no object")
    assert _digest(root, results) == before  # validate names it too: test_davis


def test_split_file_not_utf8_or_with_a_path_is_named(tmp_path):
    root, results = _dataset(tmp_path)
    split = root / "ImageSets" / "2017" / "val.txt"
    split.write_bytes(b"one\ntw\xff\n")
    before = _digest(root, results)
    _refused(_evaluate(root, results), split, "not UTF-8 text (byte 0xff at offset 6)")
    assert _digest(root, results) == before
    split.write_text("one\n../../escape\n")
    before = _digest(root, results)
    _refused(_gcseg("validate", "--davis", root), split,
             "sequence name '../../escape' is not a plain folder name")
    assert _digest(root, results) == before


# --------------------------------------------------------------------------- result files


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_csv_files_get_the_usual_mode(tmp_path, umask, mode):
    root, results = _dataset(tmp_path)
    done = _gcseg("evaluate", "--davis", root, "--results", results, umask=umask)
    assert done.returncode == 0, done.stderr
    paths = sorted(results.glob("*.csv"))
    assert len(paths) == 2
    assert all(stat.S_IMODE(path.stat().st_mode) == mode for path in paths)
    assert not list(results.glob(".*"))  # no temporary file left


def test_out_that_is_a_file_is_named(tmp_path):
    root, results = _dataset(tmp_path)
    out = tmp_path / "notes.txt"
    out.write_text("keep me\n")
    _refused(_evaluate(root, results, "--out", out), out, "is a file, not a folder")
    assert out.read_text() == "keep me\n"
    assert not list(results.glob("*.csv"))  # refused before the work, nothing written


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_out_that_is_read_only_is_named(tmp_path):
    root, results = _dataset(tmp_path)
    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o555)
    try:
        _refused(_evaluate(root, results, "--out", out), out, "folder not writable")
        _refused(_evaluate(root, results, "--out", out / "new"), out, "folder not writable")
    finally:
        out.chmod(0o755)
    assert not list(out.iterdir())


def test_csv_writer_names_an_unwritable_folder(tmp_path, monkeypatch):
    """The same checks in-process (root ignores permissions, so they are simulated here)."""
    from gcseg import evaluation
    from gcseg.data import DavisDataset
    from gcseg.evaluation import report

    root, results = _dataset(tmp_path)
    result = evaluation.evaluate(DavisDataset(root), results, progress=False)
    (tmp_path / "file").write_text("keep me\n")
    with pytest.raises(NotADirectoryError, match=re.escape(f"{tmp_path / 'file'}: is a file")):
        result.write_csvs(tmp_path / "file" / "sub")
    monkeypatch.setattr(report.os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match=re.escape(f"{tmp_path}: folder not writable")):
        result.write_csvs(tmp_path / "new")
    monkeypatch.undo()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=r"global_results-val.csv: cannot be written "
                                              r"\(Permission denied\)"):
        result.write_csvs(tmp_path / "out")

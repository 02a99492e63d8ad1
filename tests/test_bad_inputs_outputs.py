"""Hostile outputs: outputs that exist are never lost, and no leftovers.

Each case runs the command line in a subprocess, as a user would, and checks the exit status
(2), the one-line message (the path and what is wrong), that no traceback is printed, and that
what existed before is byte-identical afterwards; its variants run the same ``main`` in this
process (no interpreter start-up each).  Library-level checks cover what a subprocess cannot
show cheaply (the exact stale-file rules)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from gcseg.checkpoint import load_checkpoint, save_checkpoint
from gcseg.files import clean_stale_staging, remove_stale_temporaries, staged_folder, write_json
from tests.conftest import small_config, square_video, write_davis

pytestmark = pytest.mark.slow  # runs the command line in subprocesses

ROOT = Path(__file__).resolve().parent.parent
SMALL_SYNTHETIC = ["--train", "0", "--val", "1", "--frames", "2", "--size", "48x64"]


def _gcseg(*args: object) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "GCSEG_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "gcseg", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)


def _main(*args: object) -> subprocess.CompletedProcess:
    """``gcseg.cli.main`` in this process (the same code as ``_gcseg`` without the start-up
    of a new interpreter): for the variants of a case whose first form runs in a subprocess."""
    import contextlib
    import io

    from gcseg.cli import main

    argv = list(map(str, args))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def _refused(done: subprocess.CompletedProcess, path: Path, *fault: str) -> str:
    """Assert a named error: exit 2, ``error: ...`` naming ``path`` and ``fault``, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("error: ") and str(path) in message, message
    for words in fault:
        assert words in message, message
    return message


def _digest(path: Path) -> str:
    """Names and bytes of a file or of every file under a folder (hidden ones included)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else "").encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _dead_pid() -> int:
    """The id of a process that has ended (for staging names of a "killed" run)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def davis(tmp_path: Path) -> Path:
    """Two 3-frame 64x96 sequences and one of a single frame (nothing to time)."""
    return write_davis(tmp_path / "davis", {
        "one": square_video(3, (64, 96), objects=1),
        "two": square_video(3, (64, 96), objects=2, seed=1),
        "still": square_video(1, (64, 96), seed=2),
    })


@pytest.fixture
def training_checkpoint(tmp_path: Path) -> Path:
    """A resumable checkpoint (weights, optimiser state, config) of a small model."""
    from gcseg.model import GCSeg

    torch.manual_seed(0)
    config = small_config()
    model = GCSeg(config.model)
    optimizer = torch.optim.AdamW(model.parameters())
    return save_checkpoint(tmp_path / "run" / "checkpoint.pt", {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 3,
        "stage": "video_pairs", "config": config.to_dict(), "metrics": {}})


def _results(folder: Path, sequences: dict[str, int], extra: dict[str, str] | None = None):
    """A results folder another method wrote: ``{sequence: frames}`` and extra files."""
    from gcseg.data.davis import write_annotation

    for name, frames in sequences.items():
        for t in range(frames):
            write_annotation(folder / name / f"{t:05d}.png", square_video(1, (64, 96))[1][0])
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    return folder


# --------------------------------------------------------------------------- 1: export


def test_export_never_writes_over_its_own_input(training_checkpoint: Path, tmp_path: Path):
    before = _digest(training_checkpoint)
    link = tmp_path / "link.pt"
    link.symlink_to(training_checkpoint)
    done = _gcseg("export", "--checkpoint", training_checkpoint, "--out", training_checkpoint,
                  "--overwrite")
    _refused(done, training_checkpoint, "own input", "not even --overwrite")
    for out in (link, training_checkpoint.parent / ".." / "run" / "checkpoint.pt"):
        done = _main("export", "--checkpoint", training_checkpoint, "--out", out, "--overwrite")
        _refused(done, out, "own input", "not even --overwrite")
    done = _main("export", "--foundation", "--checkpoint", training_checkpoint,
                 "--out", training_checkpoint, "--overwrite")
    _refused(done, training_checkpoint, "own input")
    assert _digest(training_checkpoint) == before
    assert "optimizer" in load_checkpoint(training_checkpoint)  # --resume still works


def test_export_replaces_a_file_only_with_overwrite(training_checkpoint: Path, tmp_path: Path):
    out = tmp_path / "shared.pt"
    out.write_bytes(b"someone else's weights")
    done = _gcseg("export", "--checkpoint", training_checkpoint, "--out", out)
    _refused(done, out, "exists", "--overwrite")
    assert out.read_bytes() == b"someone else's weights"
    card = tmp_path / "fresh.json"  # the card export --davis would write beside fresh.pt
    card.write_text("{}")
    done = _main("export", "--checkpoint", training_checkpoint, "--out", tmp_path / "fresh.pt",
                 "--davis", tmp_path / "no-such-dataset")
    _refused(done, card, "exists")
    assert card.read_text() == "{}" and not (tmp_path / "fresh.pt").exists()
    done = _main("export", "--checkpoint", training_checkpoint, "--out", out, "--overwrite")
    assert done.returncode == 0, done.stderr
    exported = load_checkpoint(out)
    assert "optimizer" not in exported and exported["step"] == 3


def test_export_to_a_folder_or_under_a_file(training_checkpoint: Path, tmp_path: Path):
    folder = tmp_path / "exports"
    folder.mkdir()
    _refused(_main("export", "--checkpoint", training_checkpoint, "--out", folder),
             folder, "is a folder")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker / "model.pt"
    _refused(_main("export", "--checkpoint", training_checkpoint, "--out", out),
             out, f"{blocker} is a file, not a folder")
    assert blocker.read_text() == "x"


# --------------------------------------------------------------------------- 2: make-synthetic


def test_make_synthetic_overwrite_replaces_only_its_own_datasets(tmp_path: Path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    done = _gcseg("make-synthetic", "--out", precious, "--overwrite", *SMALL_SYNTHETIC)
    _refused(done, precious, "not a synthetic benchmark written by gcseg")
    assert (precious / "chapter1.tex").read_text() == "years of work"

    data = tmp_path / "synthetic"
    assert _main("make-synthetic", "--out", data, *SMALL_SYNTHETIC).returncode == 0
    (data / "my-results").mkdir()
    (data / "my-results" / "notes.txt").write_text("keep")
    before = _digest(data)
    done = _main("make-synthetic", "--out", data, "--overwrite", "--seed", "1", *SMALL_SYNTHETIC)
    _refused(done, data, "my-results", "did not write")
    assert _digest(data) == before

    (data / "my-results" / "notes.txt").unlink()
    (data / "my-results").rmdir()
    done = _main("make-synthetic", "--out", data, "--overwrite", "--seed", "1", *SMALL_SYNTHETIC)
    assert done.returncode == 0, done.stderr
    assert json.loads((data / "synthetic.json").read_text())["parameters"]["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic", "thesis"]


def test_sigterm_during_make_synthetic_leaves_nothing_at_the_next_start(tmp_path: Path):
    data = tmp_path / "bench"
    env = {**os.environ, "GCSEG_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "gcseg", "make-synthetic", "--out", str(data), "--train", "200",
         "--val", "0", "--frames", "4", "--size", "48x64"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    partial = []
    while time.monotonic() < deadline and child.poll() is None:
        partial = [p for p in tmp_path.glob(".bench.partial-*") if any(p.rglob("*.jpg"))]
        if partial:
            break
        time.sleep(0.1)
    assert partial, "make-synthetic never started writing"
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=60) == -signal.SIGTERM
    assert not data.exists() and partial[0].is_dir()  # what a killed run used to leave

    unrelated = tmp_path / ".bench.partial-notours"
    unrelated.mkdir()
    done = _main("make-synthetic", "--out", data, *SMALL_SYNTHETIC)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".bench.partial-notours", "bench"]


# --------------------------------------------------------------------------- 3: results folders


def test_results_folder_refused_without_overwrite(davis: Path, tmp_path: Path,
                                                  training_checkpoint: Path):
    results = _results(tmp_path / "results", {"one": 3, "old-sequence": 2},
                       {"global_results-val.csv": "J&F-Mean\n0.9\n"})
    before = _digest(results)
    for run, command in ((_gcseg, ["baseline"]),
                         (_main, ["segment", "--checkpoint", training_checkpoint])):
        done = run(*command, "--davis", davis, "--out", results)
        _refused(done, results, "not empty", "--overwrite")
        assert _digest(results) == before


def test_results_folder_is_replaced_whole(davis: Path, tmp_path: Path,
                                          training_checkpoint: Path):
    results = _results(tmp_path / "results", {"one": 3, "old-sequence": 2},
                       {"global_results-val.csv": "J&F-Mean\n0.9\n"})
    done = _gcseg("segment", "--davis", davis, "--checkpoint", training_checkpoint,
                  "--out", results, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # nothing of the other method's results is left beside the new masks
    assert sorted(p.name for p in results.iterdir()) == ["one", "still", "timing.json", "two"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["davis", "results", "run"]

    # 4: timing.json is strict JSON; the 1-frame sequence has no time per frame (null)
    def no_constants(name: str):
        raise ValueError(f"timing.json holds {name}")

    timing = json.loads((results / "timing.json").read_text(), parse_constant=no_constants)
    assert timing["sequences"]["still"]["seconds_per_frame"] is None
    assert timing["frames"] == 4 and timing["seconds_per_frame"] > 0


def test_overwrite_replaces_only_results_and_never_the_input(davis: Path, tmp_path: Path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep")
    _refused(_gcseg("baseline", "--davis", davis, "--out", notes, "--overwrite"),
             notes, "not a results folder", "todo.txt")
    assert (notes / "todo.txt").read_text() == "keep"
    before = _digest(davis)
    for out in (davis, davis / "Annotations" / "480p", tmp_path):
        done = _main("baseline", "--davis", davis, "--out", out, "--overwrite")
        _refused(done, out, "the command's input")
    assert _digest(davis) == before


def test_a_killed_run_leaves_the_old_results_and_is_cleaned_next_time(davis: Path,
                                                                      tmp_path: Path):
    results = _results(tmp_path / "results", {"one": 3})
    before = _digest(results)
    stale = tmp_path / f".results.partial-{_dead_pid()}-0123abcd"  # a run killed while writing
    _results(stale, {"one": 1, "two": 1})
    live = tmp_path / f".results.partial-{os.getpid()}-89abcdef"  # a run still writing
    live.mkdir()
    assert _digest(results) == before  # readers see the old results meanwhile
    done = _main("baseline", "--davis", davis, "--out", results, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert not stale.exists() and live.is_dir()
    assert sorted(p.name for p in results.iterdir()) == ["one", "still", "two"]


def test_staged_folder_keeps_the_old_folder_when_the_block_fails(tmp_path: Path):
    out = _results(tmp_path / "results", {"one": 2})
    before = _digest(out)
    with pytest.raises(KeyboardInterrupt), staged_folder(out) as staging:
        (staging / "half").mkdir()
        raise KeyboardInterrupt
    assert _digest(out) == before and sorted(tmp_path.iterdir()) == [out]


def test_a_run_killed_between_the_renames_gets_its_old_folder_back(tmp_path: Path):
    out = tmp_path / "results"
    old = _results(tmp_path / f".results.old-{_dead_pid()}-0123abcd", {"one": 2})
    before = _digest(old)
    clean_stale_staging(out)
    assert out.is_dir() and not old.exists() and _digest(out) == before


# --------------------------------------------------------------------------- 4: JSON


def test_write_json_never_writes_nan(tmp_path: Path):
    path = write_json(tmp_path / "x.json", {"rate": float("nan"), "inf": [float("inf"), 1.5],
                                            "nested": {"v": -float("inf")}})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"rate": None, "inf": [None, 1.5], "nested": {"v": None}}


# ------------------------------------------------------------------ 5: checkpoint temporaries


def test_a_save_killed_by_sigterm_leaves_a_temporary_the_next_save_removes(tmp_path: Path):
    path = tmp_path / "run" / "checkpoint.pt"
    script = textwrap.dedent(f"""
        import os, signal, torch
        from gcseg.checkpoint import save_checkpoint

        def killed(payload, name):
            open(name, "wb").write(b"x" * 4096)  # half a checkpoint
            os.kill(os.getpid(), signal.SIGTERM)

        torch.save = killed
        save_checkpoint({str(path)!r}, {{"model": {{}}, "config": {{}}}})
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True)
    assert done.returncode == -signal.SIGTERM
    left = list(path.parent.glob(".checkpoint.pt.*.tmp"))
    assert len(left) == 1 and left[0].stat().st_size == 4096  # what a killed run used to leave
    save_checkpoint(path, {"model": {"w": torch.ones(2)}, "config": {}})
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.pt"]


def test_only_stale_temporaries_of_the_same_file_are_removed(tmp_path: Path):
    target = tmp_path / "checkpoint.pt"
    dead, alive = _dead_pid(), os.getpid()
    names = {
        f".checkpoint.pt.{dead}.ab_cd123.tmp": False,  # a killed save: removed
        f".checkpoint.pt.{alive}.ef_gh456.tmp": True,  # a save in progress: kept
        ".checkpoint.pt.oldstyle.tmp": False,  # earlier versions, two hours old: removed
        ".checkpoint.pt.newstyle.tmp": True,  # earlier versions, just written: kept
        f".other.pt.{dead}.ab_cd123.tmp": True,  # another file's: kept
        "checkpoint.pt.tmp": True,  # not the package's pattern: kept
    }
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(tmp_path / ".checkpoint.pt.oldstyle.tmp", (two_hours_ago, two_hours_ago))
    removed = remove_stale_temporaries(target)
    assert sorted(p.name for p in removed) == sorted(n for n, keep in names.items() if not keep)
    assert all((tmp_path / name).exists() == keep for name, keep in names.items())


# --------------------------------------------------------------------------- 6: bad --out paths


def test_out_that_is_a_file_or_under_a_file(davis: Path, tmp_path: Path,
                                            training_checkpoint: Path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    under = a_file / "out"
    commands = {
        "make-synthetic": ["make-synthetic", *SMALL_SYNTHETIC],
        "baseline": ["baseline", "--davis", davis],
        "segment": ["segment", "--davis", davis, "--checkpoint", training_checkpoint],
    }
    _refused(_gcseg(*commands["make-synthetic"], "--out", a_file),
             a_file, "exists and is not a folder")
    for command in commands.values():
        _refused(_main(*command, "--out", a_file), a_file, "exists and is not a folder")
        _refused(_main(*command, "--out", under, "--overwrite"),
                 under, f"{a_file} is a file, not a folder")
    assert a_file.read_text() == "not a folder"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_out_in_a_read_only_folder(davis: Path, tmp_path: Path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes into read-only folders: simulate what a user is told
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False
                            if Path(path) == locked and mode & os.W_OK
                            else real_access(path, mode, **kw))
    try:
        for command in (["make-synthetic", *SMALL_SYNTHETIC], ["baseline", "--davis", davis]):
            out = locked / "out"
            _refused(_main(*command, "--out", out), out, f"{locked} is read-only")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_a_checkpoint_whose_weights_do_not_fit_its_config_names_a_few_keys():
    from gcseg.checkpoint import CheckpointError, model_from_payload
    from gcseg.model import GCSeg

    config = small_config("full")
    state = GCSeg(config.model).state_dict()
    state.pop("extractor.conv1.weight")
    state["stray"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as error:
        model_from_payload({"config": config.to_dict(), "model": state}, source="bad.pt")
    message = str(error.value)
    assert message.startswith("bad.pt: weights do not fit its config")
    assert "1 missing (extractor.conv1.weight)" in message and "1 unexpected (stray)" in message
    assert len(message) < 400  # not load_state_dict's list of every key

"""Hostile inputs to training, configs, devices and arguments, through the command
line in a subprocess: each ends with one ``error: ...`` line naming the file or setting and the
fault, exit code 2 and no traceback, and nothing that was there is lost.  SIGINT and SIGTERM
during ``train`` save the checkpoint and exit with 130 and 143; ``--resume`` then ends bitwise
identical to a run that was never stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gcseg.checkpoint import load_checkpoint, save_checkpoint
from gcseg.config import config_differences
from gcseg.runtime import DeviceError, pick_device
from gcseg.train import RunLimits, read_log, train
from tests.conftest import moving_squares_davis, small_config

pytestmark = pytest.mark.slow  # trains and runs the command line in subprocesses

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GCSEG_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _gcseg(*args, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gcseg", *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def _refused(done: subprocess.CompletedProcess, *words: str) -> str:
    """Exit code 2, no traceback, and a last stderr line holding every one of ``words``."""
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert "error:" in last, done.stderr
    for word in words:
        assert word in last, (word, last)
    assert len(last) < 600, last  # a sentence, not a dump
    return last


def _digest(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    return moving_squares_davis(tmp_path_factory.mktemp("videos") / "davis")


def _config(root: str | None = None, steps: int = 3, **train_settings):
    """The smallest config that trains: ``baseline``, video pairs only, batch 1."""
    config = small_config("baseline")
    config.data.root = root
    train = config.train
    train.steps, train.recurrent_steps, train.batch_size = steps, 0, 1
    train.log_every, train.checkpoint_every, train.eval_every = 1, 1000, 0
    for key, value in train_settings.items():
        setattr(train, key, value)
    return config


def _config_file(path: Path, root: str | None = None, **settings) -> Path:
    _config(root, **settings).to_yaml(path)
    return path


# ----------------------------------------------------------------------------- 1, 2: arguments


@pytest.mark.parametrize(("arguments", "words"), [
    (["--train", "-1"], ["--train", "expected an integer >= 0", "'-1'"]),
    (["--val", "-1"], ["--val", "expected an integer >= 0", "'-1'"]),
    (["--seed", "-1"], ["--seed", "expected an integer >= 0", "'-1'"]),
    (["--train", "zero"], ["--train", "'zero'"]),
    (["--frames", "-3"], ["--frames", "from 2 to 1000", "'-3'"]),
    (["--frames", "1001"], ["--frames", "from 2 to 1000", "'1001'"]),
    (["--frames", "24-100000"], ["--frames", "from 2 to 1000", "'24-100000'"]),
    (["--size", "480x100000"], ["--size", "too large", "at most 4096", "'480x100000'"]),
    (["--size", "16x432"], ["--size", "too small", "at least 32x32", "'16x432'"]),
    (["--jobs", "0"], ["--jobs", "expected an integer >= 1", "'0'"]),
])
def test_make_synthetic_rejects_bad_counts_when_parsing(tmp_path, arguments, words):
    done = _gcseg("make-synthetic", "--out", tmp_path / "data", *arguments)
    _refused(done, *words)
    assert not (tmp_path / "data").exists()


def test_make_synthetic_with_no_video_has_nothing_to_write(tmp_path):
    done = _gcseg("make-synthetic", "--out", tmp_path / "data", "--train", "0", "--val", "0")
    _refused(done, "--train 0 --val 0", "nothing to write")
    assert not (tmp_path / "data").exists()


def test_negative_counts_of_the_training_commands_are_refused(tmp_path):
    _refused(_gcseg("segment", "--davis", tmp_path, "--checkpoint", tmp_path / "c.pt",
                    "--out", tmp_path / "r", "--refs", "-1"), "--refs", "'-1'")
    _refused(_gcseg("segment", "--davis", tmp_path, "--checkpoint", tmp_path / "c.pt",
                    "--out", tmp_path / "r", "--seed", "-1"), "--seed", "'-1'")
    _refused(_gcseg("train", "--config", "tiny", "--out", tmp_path / "run",
                    "--stop-after", "0"), "--stop-after", "'0'")
    _refused(_gcseg("train", "--config", "tiny", "--out", tmp_path / "run",
                    "--max-minutes", "-5"), "--max-minutes", "'-5'")
    _refused(_gcseg("ablate", "--table", "V", "--config", "tiny", "--out", tmp_path / "a",
                    "--seeds", "-1"), "--seeds", "'-1'")
    _refused(_gcseg("ablate", "--table", "V", "--config", "tiny", "--out", tmp_path / "a",
                    "--jobs", "0"), "--jobs", "'0'")
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- 3: devices


def test_pick_device_names_what_is_available():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(DeviceError, match=r"'cdua' is not a device name \(available here: cpu"):
        pick_device("cdua")
    with pytest.raises(DeviceError, match="'cuda:99'"):
        pick_device("cuda:99")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="'cuda': CUDA is not available on this machine"):
            pick_device("cuda")


def test_a_misspelt_device_is_named_before_any_work(tmp_path):
    config = _config_file(tmp_path / "c.yaml", str(tmp_path / "davis"))
    done = _gcseg("train", "--config", config, "--out", tmp_path / "run", "--device", "cdua")
    _refused(done, "device 'cdua' is not a device name", "available here: cpu")
    assert not (tmp_path / "run").exists()
    done = _gcseg("bench", "--quick", "--device", "cdua", "--out", tmp_path / "b.json")
    _refused(done, "device 'cdua'")
    assert not (tmp_path / "b.json").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_named(tmp_path, videos):
    config = _config_file(tmp_path / "c.yaml", str(videos))
    done = _gcseg("train", "--config", config, "--out", tmp_path / "run", "--device", "cuda")
    _refused(done, "device 'cuda': CUDA is not available on this machine")
    done = _gcseg("short-run", "--davis", videos, "--minutes", "1", "--out", tmp_path / "s",
                  "--device", "cuda")
    _refused(done, "device 'cuda'")
    assert not (tmp_path / "run").exists() and not (tmp_path / "s").exists()


# ----------------------------------------------------------------------------- 4: config files


@pytest.mark.parametrize(("text", "words"), [
    ("", ["the config file is empty", "preset: tiny"]),
    ("# only a comment\n", ["the config file is empty"]),
    ("- tiny\n- paper\n", ["the top level must be a mapping", "got a list"]),
    ("tiny\n", ["the top level must be a mapping", "got a str"]),
    (b"preset: tiny\nmodel:\n  variant: \xff\xfe\n", ["not a UTF-8 text file"]),
])
def test_a_config_file_that_says_nothing_is_refused(tmp_path, text, words):
    path = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    done = _gcseg("train", "--config", path, "--out", tmp_path / "run", "--data", tmp_path)
    _refused(done, str(path), *words)
    assert not (tmp_path / "run").exists()


def test_config_differences_compare_paths_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative, absolute = _config("data/synthetic"), _config(str(tmp_path / "data/synthetic"))
    relative.data.still_sources = ("davis-stills:data/synthetic",)
    absolute.data.still_sources = (f"davis-stills:{tmp_path}/data/synthetic",)
    assert config_differences(relative, absolute) == {}
    absolute.train.lr, absolute.model.weights = 3e-3, "foundation"
    assert config_differences(relative, absolute) == {
        "model.weights": (None, "foundation"), "train.lr": (relative.train.lr, 3e-3)}


# ----------------------------------------------------------------------------- 6: weights


def _weights_files(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir()
    garbage = folder / "garbage.pt"
    garbage.write_bytes(os.urandom(4096))
    listed = folder / "list.pt"
    torch.save([torch.ones(2), torch.zeros(2)], listed)
    state = torch.nn.Linear(64, 64).state_dict()
    whole = folder / "whole.pt"
    torch.save({f"w{i}": torch.randn(64, 64) for i in range(4)} | state, whole)
    truncated = folder / "truncated.pt"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return {"garbage": (garbage, "not a readable state dict"),
            "list": (listed, "expected a state dict (names to tensors), got a list"),
            "truncated": (truncated, "not a readable state dict")}


@pytest.mark.parametrize("kind", ["garbage", "list", "truncated"])
def test_a_bad_weights_file_is_named(tmp_path, kind):
    path, fault = _weights_files(tmp_path / "weights")[kind]
    config = _config(str(tmp_path))
    config.model.weights = str(path)
    config.to_yaml(tmp_path / "c.yaml")
    done = _gcseg("train", "--config", tmp_path / "c.yaml", "--out", tmp_path / "run")
    _refused(done, f"model.weights {path}", fault)
    assert not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------- 8, 9: run folders


def test_a_file_or_an_earlier_run_as_the_run_folder_is_refused(tmp_path, videos):
    taken = tmp_path / "taken"
    taken.write_text("keep me\n")
    config = _config_file(tmp_path / "c.yaml", str(videos))
    _refused(_gcseg("train", "--config", config, "--out", taken), str(taken),
             "exists and is a file", "--out")
    _refused(_gcseg("train", "--config", config, "--out", taken / "run"), str(taken / "run"),
             f"{taken} is a file")
    _refused(_gcseg("ablate", "--table", "V", "--config", config, "--out", taken), str(taken),
             "exists and is a file")
    _refused(_gcseg("short-run", "--davis", videos, "--minutes", "1", "--out", taken,
                    "--device", "cpu"), str(taken), "exists and is a file")
    _refused(_gcseg("demo", "--quick", "--workdir", taken, "--device", "cpu"), str(taken),
             "--workdir")
    assert taken.read_text() == "keep me\n"

    earlier = tmp_path / "earlier"  # an earlier run killed before its first checkpoint
    earlier.mkdir()
    (earlier / "log.csv").write_text("step,stage,loss,lr,seconds\n1,video,0.5,1e-4,1.0\n")
    before = _digest(earlier)
    last = _refused(_gcseg("train", "--config", config, "--out", earlier), str(earlier),
                    "an earlier run exists there (log.csv)", "choose another --out")
    assert "--resume" not in last  # nothing to resume without a checkpoint
    assert _digest(earlier) == before


def test_a_config_kept_beside_its_run_is_not_an_earlier_run(tmp_path, videos):
    run = tmp_path / "run"
    run.mkdir()
    config = _config_file(run / "config.yaml", str(videos), steps=1)
    done = _gcseg("train", "--config", config, "--out", run, "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    assert [row["step"] for row in read_log(run)[0]] == ["1"]


# ----------------------------------------------------------------------------- 5, 7: resume


def _interrupt(command: list, run: Path, signum: int, cwd: Path) -> tuple[int, str]:
    """Start ``train``, send ``signum`` once its first step is logged; (exit code, stderr)."""
    process = subprocess.Popen([sys.executable, "-m", "gcseg", *map(str, command)], cwd=cwd,
                               env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 240
        while not (run / "log.csv").is_file() and process.poll() is None:
            assert time.monotonic() < deadline, "no step logged in time"
            time.sleep(0.01)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stderr


def test_sigint_checkpoints_and_resume_with_the_data_written_otherwise_is_exact(tmp_path,
                                                                                 videos):
    steps = 200  # far more than run before the signal lands
    config = _config_file(tmp_path / "c.yaml", None, steps=steps)
    relative = os.path.relpath(videos, tmp_path)
    run = tmp_path / "run"
    code, stderr = _interrupt(["train", "--config", "c.yaml", "--out", "run", "--data",
                               relative, "--no-progress"], run, signal.SIGINT, tmp_path)
    assert code == 130, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    found = re.search(r"SIGINT: stopped after step (\d+) of (\d+), checkpoint saved in (\S+); "
                      r"continue with: python -m gcseg train .* --resume$", stderr.strip())
    assert found, stderr
    stopped = int(found.group(1))
    assert 1 <= stopped < steps and int(found.group(2)) == steps
    assert load_checkpoint(run / "checkpoint.pt")["step"] == stopped
    assert int(read_log(run)[0][-1]["step"]) == stopped

    # the data named by its absolute path: the same run, not "another config"
    end = stopped + 2
    done = _gcseg("train", "--config", config, "--out", run, "--data", videos, "--resume",
                  "--stop-after", end, "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert load_checkpoint(run / "checkpoint.pt")["step"] == end
    assert [int(row["step"]) for row in read_log(run)[0]] == list(range(1, end + 1))
    straight = train(_config(str(videos), steps=steps), tmp_path / "straight", progress=False,
                     limits=RunLimits(stop_after=end))
    resumed = (run / "summary.json").read_text()
    assert straight["weights_sha256"] in resumed  # bitwise the same weights

    # a config that really differs: the settings named, nothing written
    before = _digest(run)
    other = _config_file(tmp_path / "other.yaml", str(videos), steps=steps, lr=3e-3)
    other_text = other.read_text().replace("variant: baseline", "variant: ref")
    other.write_text(other_text)
    done = _gcseg("train", "--config", other, "--out", run, "--resume", cwd=tmp_path)
    _refused(done, "checkpoint.pt: written with another config", "model.variant", "train.lr",
             "resume with the same config or start a new --out")
    assert _digest(run) == before


def test_sigterm_checkpoints_at_the_step_reached(tmp_path, videos):
    config = _config_file(tmp_path / "c.yaml", str(videos), steps=200)
    run = tmp_path / "run"
    code, stderr = _interrupt(["train", "--config", config, "--out", run, "--no-progress"],
                              run, signal.SIGTERM, tmp_path)
    assert code == 143 and "Traceback" not in stderr, stderr[-3000:]
    stopped = int(re.search(r"SIGTERM: stopped after step (\d+) of 200", stderr).group(1))
    assert load_checkpoint(run / "checkpoint.pt")["step"] == stopped
    assert not list(run.glob(".*.tmp"))  # no temporary file left behind


def test_resume_refuses_what_it_cannot_continue(tmp_path, videos):
    config = _config_file(tmp_path / "c.yaml", str(videos), steps=1)
    run, empty = tmp_path / "run", tmp_path / "empty"
    _refused(_gcseg("train", "--config", config, "--out", empty, "--resume"),
             str(empty / "checkpoint.pt"), "checkpoint not found")
    # weights without the optimiser (an export) where a training checkpoint should be
    payload = {"model": {"w": torch.ones(2)}, "config": _config(str(videos)).to_dict(),
               "step": 1}
    save_checkpoint(run / "checkpoint.pt", payload)
    _refused(_gcseg("train", "--config", config, "--out", run, "--resume"),
             str(run / "checkpoint.pt"), "not a training checkpoint", "optimizer")
    # weights that do not fit: the first keys and the counts, not every key
    init = tmp_path / "init.pt"
    save_checkpoint(init, payload)
    settings = _config(str(videos), steps=1)
    settings.train.init_from = str(init)
    settings.to_yaml(tmp_path / "init.yaml")
    last = _refused(_gcseg("train", "--config", tmp_path / "init.yaml", "--out", tmp_path / "i"),
                    f"{init}: its weights do not fit this run's model", "missing (",
                    "1 unexpected (w)")
    assert re.search(r"\d+ missing \(extractor\.", last)

"""tools/gpu_session.py: the prepared plans for a lent GPU. They run only there; here their
commands are parsed by ``python -m gcseg``'s own parser, their pieces run on the CPU, and the
step runner is checked on stand-in commands."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gcseg.cli import build_parser
from gcseg.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("gpu_session", ROOT / "tools" / "gpu_session.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def _gcseg_argv(step) -> list[str] | None:
    return step.command[3:] if step.command[1:3] == ["-m", "gcseg"] else None


@pytest.mark.parametrize("plan", ["ablation", "foundation", "speed"])
def test_every_plan_parses_and_fits_one_device_call(plan, tmp_path):
    script = _script()
    steps = script.PLANS[plan](tmp_path)
    assert sum(step.seconds for step in steps) <= script.CALL_SECONDS
    assert len({step.name for step in steps}) == len(steps)
    for step in steps:
        argv = _gcseg_argv(step)
        if argv is not None:
            build_parser().parse_args(argv)  # exits (SystemExit) on any unknown option


def test_speed_plan_times_the_issues_case(tmp_path):
    for step in _script().speed_plan(tmp_path):
        argv = _gcseg_argv(step)
        if argv is not None:
            args = build_parser().parse_args(argv)
            assert args.sizes == [(480, 854)] and args.objects == [1] and args.refs == [3]
            assert args.out.parent == tmp_path


def test_foundation_plan_trains_the_gpu_config_on_the_videos_it_writes(tmp_path):
    steps = {step.name: step for step in _script().foundation_plan(tmp_path)}
    config = load_config(ROOT / "configs" / "foundation_tiny_gpu.yaml")
    assert config.model.variant == "baseline"  # neither head of Table V shapes it
    videos = build_parser().parse_args(_gcseg_argv(steps["training-videos"]))
    assert Path(config.data.root) == videos.out and videos.val == 0
    train = build_parser().parse_args(_gcseg_argv(steps["train-foundation"]))
    export = build_parser().parse_args(_gcseg_argv(steps["export-foundation"]))
    assert export.checkpoint == train.out / "checkpoint.pt" and export.foundation
    short = build_parser().parse_args(_gcseg_argv(steps["short-run"]))
    assert short.variant == "full" and short.device == "cuda"
    kept = steps["keep-short-run"].command[3:]  # source, target pairs
    assert kept[0::2] == [str(short.out / name) for name in
                          ("summary.json", "learning_curve.json", "log.csv")]
    assert all(Path(target).is_relative_to(tmp_path) for target in kept[1::2])


def test_ablation_plan_runs_the_gpu_protocol_from_the_foundation_on_the_videos_it_writes(
        tmp_path):
    steps = {step.name: step for step in _script().ablation_plan(tmp_path)}
    ablate = build_parser().parse_args(_gcseg_argv(steps["ablate"]))
    config = load_config(ROOT / ablate.config)
    videos = build_parser().parse_args(_gcseg_argv(steps["benchmark"]))
    assert Path(config.data.root) == videos.out and videos.val == 30
    assert config.model.weights == "foundation" and config.train.freeze_backbone_after_pretrain
    assert ablate.device == "cuda" and len(ablate.seeds) >= 5 and ablate.jobs > 1
    assert sorted(ablate.table) == ["V", "VI", "VII"]
    kept = steps["keep-tables"].command[3:]
    assert str(ablate.out / "V.json") in kept[0::2]
    assert all(Path(target).is_relative_to(tmp_path) for target in kept[1::2])


def test_keep_step_copies_folders_without_weights_or_images(tmp_path):
    run = tmp_path / "runs" / "full-scratch-seed0"
    (run / "val-2016-search-on").mkdir(parents=True)
    (run / "checkpoint.pt").write_bytes(b"weights")
    (run / "val-2016-search-on" / "00001.png").write_bytes(b"mask")
    (run / "log.csv").write_text("step,loss\n")
    subprocess.run(_script()._copy((tmp_path / "runs", tmp_path / "out")), check=True)
    copied = {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")
              if p.is_file()}
    assert copied == {"full-scratch-seed0/log.csv"}


def test_keep_step_copies_what_exists_and_names_what_does_not(tmp_path):
    source = tmp_path / "a.pt"
    source.write_bytes(b"weights")
    command = _script()._copy((source, tmp_path / "out" / "a.pt"),
                              (tmp_path / "missing.csv", tmp_path / "out" / "missing.csv"))
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert (tmp_path / "out" / "a.pt").read_bytes() == b"weights"
    assert "missing:" in done.stdout and not (tmp_path / "out" / "missing.csv").exists()


def test_runner_stops_a_step_at_its_limit_skips_what_exists_and_what_the_budget_cannot_hold(
        tmp_path):
    script = _script()
    python = sys.executable
    (tmp_path / "done-before").write_text("")
    steps = [script.Step("ok", [python, "-c", "print('done')"], 30),
             script.Step("there", [python, "-c", "print('again')"], 30, tmp_path / "done-before"),
             script.Step("slow", [python, "-c", "import time; time.sleep(60)"], 2),
             script.Step("late", [python, "-c", "print('never')"], 30)]
    outcomes = script.run(steps, tmp_path / "out", budget=11.0)
    assert [o["exit"] for o in outcomes] == [
        0, f"skipped: {tmp_path / 'done-before'} exists", "stopped after 2 s",
        "not run: out of time"]
    assert (tmp_path / "out" / "ok.log").read_text() == "done\n"
    assert json.loads((tmp_path / "out" / "gpu_session.json").read_text())["steps"] == outcomes

"""The foundation (export, card, ``model.weights: foundation``) and short runs fitted to a
wall-time budget, with snapshots scored into a learning curve."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from gcseg.checkpoint import CheckpointError, load_checkpoint
from gcseg.cli import main
from gcseg.config import ConfigError, get_preset, load_config
from gcseg.data import DavisDataset
from gcseg.foundation import export_foundation
from gcseg.model import GCSeg, WeightsUnavailableError
from gcseg.model.feature_extractor import FOUNDATION_PATH
from gcseg.short_run import (
    fit_steps,
    learning_curve,
    measure_step_seconds,
    recipe_config,
    short_run,
)
from gcseg.train import RunLimits, StepBudget, read_log, train
from gcseg.viz.training import plot_learning_curve
from tests.conftest import moving_squares_davis, small_config


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    """A train and a val split of small moving-square videos."""
    return moving_squares_davis(tmp_path_factory.mktemp("videos") / "davis")


@pytest.fixture(scope="module")
def baseline_run(videos, tmp_path_factory) -> Path:
    """A `baseline` run of 3 steps: what a foundation is exported from."""
    config = small_config("baseline")
    config.data.root = str(videos)
    config.train.steps, config.train.recurrent_steps, config.train.log_every = 3, 0, 1
    run = tmp_path_factory.mktemp("baseline") / "run"
    train(config, run, progress=False)
    return run


def test_foundation_keeps_the_extractor_in_float16_with_a_card(baseline_run, videos, tmp_path):
    out = export_foundation(baseline_run / "checkpoint.pt", tmp_path / "f.pt", davis_root=videos,
                            command="python -m gcseg export --foundation ...", device="cpu")
    payload = torch.load(out, weights_only=True)
    trained = load_checkpoint(baseline_run / "checkpoint.pt")["model"]
    extractor = {k[len("extractor."):]: v for k, v in trained.items()
                 if k.startswith("extractor.")}
    assert set(payload["extractor"]) == set(extractor)
    weight = payload["extractor"]["layer1.0.conv1.weight"]
    assert weight.dtype == torch.float16
    torch.testing.assert_close(weight.float(), extractor["layer1.0.conv1.weight"],
                               rtol=1e-3, atol=1e-3)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["trained_as"]["variant"] == "baseline"
    assert "no Reference Module, no Co-segmentation Module" in card["trained_as"]["heads"]
    assert card["steps"] == 3 and card["seed"] == 0
    assert card["training"]["wall_seconds"] > 0
    scores = card["validation_of_the_trained_model"]
    assert scores["videos"] == 1 and 0 <= scores["gcseg"]["J&F-Mean"] <= 1


def test_foundation_loads_into_every_variant_with_fresh_heads(baseline_run, tmp_path):
    out = export_foundation(baseline_run / "checkpoint.pt", tmp_path / "f.pt")
    stored = torch.load(out, weights_only=True)["extractor"]
    for variant in ("baseline", "ref", "coseg", "full"):
        config = small_config(variant)
        config.model.weights = str(out)
        torch.manual_seed(0)
        model = GCSeg(config.model)
        torch.manual_seed(0)
        random = GCSeg(small_config(variant).model)
        for key, value in stored.items():
            ours = model.extractor.state_dict()[key]
            torch.testing.assert_close(ours, value.to(ours.dtype))
        heads = {k: v for k, v in model.state_dict().items() if not k.startswith("extractor.")}
        fresh = random.state_dict()
        assert all(torch.equal(value, fresh[key]) for key, value in heads.items())
        assert not torch.equal(model.extractor.layer1[0].conv1.weight,
                               random.extractor.layer1[0].conv1.weight)
    with pytest.raises(FileExistsError, match="exists"):
        export_foundation(baseline_run / "checkpoint.pt", out)


def test_the_shipped_foundation_is_named_by_a_switch():
    config = get_preset("tiny")
    config.model.weights = "foundation"
    if not FOUNDATION_PATH.is_file():
        with pytest.raises(WeightsUnavailableError, match="foundation"):
            GCSeg(config.model)
        return
    model = GCSeg(config.model)
    stored = torch.load(FOUNDATION_PATH, weights_only=True)["extractor"]
    torch.testing.assert_close(model.extractor.conv1_mask.weight,
                               stored["conv1_mask.weight"].float())
    paper = get_preset("paper")
    paper.model.weights = "foundation"
    with pytest.raises(WeightsUnavailableError, match="resnet18 extractor up to res4"):
        GCSeg(paper.model)


def test_export_foundation_command_refuses_a_model_file(tmp_path, capsys):
    (tmp_path / "bad.pt").write_bytes(b"junk")
    code = main(["export", "--foundation", "--checkpoint", str(tmp_path / "bad.pt"),
                 "--out", str(tmp_path / "f.pt")])
    assert code == 2 and "bad.pt: not a readable checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "f.pt").exists()


def test_crop_scale_is_checked():
    config = get_preset("tiny")
    config.data.crop_scale = (0.9, 0.5)
    with pytest.raises(ConfigError, match="data.crop_scale"):
        config.validate()


def test_fit_steps_keeps_the_ratio_and_fills_the_budget(videos):
    config = recipe_config(videos, "cpu")
    assert config.model.weights == "foundation" and config.model.freeze_backbone
    assert config.data.frame_size == (32, 48)  # half of the 64x96 frames
    fitted = fit_steps(config, 100.0, {"video": 0.1, "recurrent": 0.5})
    steps, recurrent = fitted.train.steps, fitted.train.recurrent_steps
    assert steps * 0.1 + recurrent * 0.5 == pytest.approx(100.0, abs=0.6)
    assert steps / recurrent == pytest.approx(config.train.steps / config.train.recurrent_steps,
                                              rel=0.02)
    assert config.train.steps == recipe_config(videos, "cpu").train.steps  # a copy
    tiny = fit_steps(config, 0.01, {"video": 1.0, "recurrent": 1.0})
    assert tiny.train.steps == 1 and tiny.train.recurrent_steps == 1


def test_step_budget_replans_from_the_runs_own_step_times(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("gcseg.train.budget.time.perf_counter", lambda: clock[0])
    # The first timing said 1 s a pair step and 2 s a clip; the run does a pair step in 0.5 s.
    budget = StepBudget(100.0, {"video": 1.0, "recurrent": 2.0})
    budget.start_stage("video", 0)
    due = []
    for step in range(1, 11):
        clock[0] += 0.5
        due.append(budget.due(step))
    assert due == [False] * 9 + [True]  # after the 10th step; the first two are warm-up
    counts = budget.plan("video", 10, 50, {"video": 50, "recurrent": 10}, elapsed=5.0)
    # 95 s left; 40 pair steps at 0.5 s and 10 clips at 1 s (2 s scaled by 0.5/1) take 30 s.
    assert counts == {"video": 10 + math.floor(40 * 95 / 30),
                      "recurrent": math.floor(10 * 95 / 30)}
    budget.start_stage("video", 10)  # the same stage again (a new loader): timing goes on
    clock[0] += 0.5
    assert not budget.due(11)
    assert [budget.due(step) for step in range(12, 21)][-1]  # then at each doubling
    spent = budget.plan("video", 20, 136, {"video": 136, "recurrent": 31}, elapsed=100.0)
    assert spent == {"video": 21, "recurrent": 1}  # time is up: one more step each


def test_a_trainer_with_a_budget_replans_its_step_counts(videos, tmp_path):
    config = small_config("baseline")
    config.data.root = str(videos)
    config.train.steps, config.train.recurrent_steps, config.train.log_every = 12, 2, 1
    # A first timing of 10 s a step: the run's own steps are far faster, so after the 10th
    # step the plan grows past 12; the hard cap of 8 s stops it (long enough for the first 10
    # steps on a loaded 2-core CPU, far short of the grown plan).
    slow = StepBudget(140.0, {"video": 10.0, "recurrent": 10.0})
    summary = train(config, tmp_path / "grown", progress=False,
                    limits=RunLimits(max_seconds=8.0, budget=slow))
    saved = load_config(tmp_path / "grown" / "config.yaml").train
    assert saved.steps > 12 and summary["stopped_by"] == "time"
    assert load_checkpoint(tmp_path / "grown" / "checkpoint.pt")["config"]["train"]["steps"] \
        == saved.steps == summary["total_steps"] - saved.recurrent_steps
    # A first timing far too fast: at the 10th step the budget is spent, one step per stage
    # is left, and the run ends there without the cap.
    fast = StepBudget(1e-3, {"video": 1e-4, "recurrent": 1e-4})
    summary = train(config, tmp_path / "shrunk", progress=False, limits=RunLimits(budget=fast))
    saved = load_config(tmp_path / "shrunk" / "config.yaml").train
    assert (saved.steps, saved.recurrent_steps) == (11, 1)
    assert summary["step"] == summary["total_steps"] == 12 and "stopped_by" not in summary


@pytest.mark.slow
def test_short_run_fits_the_budget_and_scores_its_snapshots(baseline_run, videos, tmp_path):
    foundation = export_foundation(baseline_run / "checkpoint.pt", tmp_path / "f.pt")
    overrides = {"model": {"weights": str(foundation), "coseg_dim": 16, "ref_dim": 16,
                           "decoder_dim": 16, "aspp_rates": [1, 2]},
                 "train": {"batch_size": 2, "recurrent_clip_len": 3, "log_every": 1}}
    config = recipe_config(videos, "cpu", overrides=overrides)
    seconds = measure_step_seconds(config, "cpu", steps=1)
    assert set(seconds) == {"video", "recurrent"} and all(v > 0 for v in seconds.values())
    summary = short_run(config, tmp_path / "run", minutes=0.1, device="cpu", snapshots=2,
                        progress=False)
    assert summary["budget_minutes"] == 0.1 and summary["step"] >= 1
    assert summary["calibration_seconds"] > 0
    assert summary["training_seconds"] <= 6.0 + 5.0  # the cap stops after the step
    losses, _ = read_log(tmp_path / "run")
    assert all(float(row["seconds"]) >= 0 for row in losses)
    snapshots = sorted((tmp_path / "run" / "snapshots").glob("*.pt"))
    assert len(snapshots) >= 2
    curve = learning_curve(tmp_path / "run", DavisDataset(videos, "2017", "val"), device="cpu")
    assert len(curve) == len(snapshots)
    assert [row["seconds"] for row in curve] == sorted(row["seconds"] for row in curve)
    assert all(0 <= row["J&F"] <= 1 for row in curve)
    assert json.loads((tmp_path / "run" / "learning_curve.json").read_text()) == curve
    figure = plot_learning_curve({"run": curve}, {"copy-first": 0.1})
    assert len(figure.axes[0].lines) == 2
    with pytest.raises(FileExistsError):
        short_run(config, tmp_path / "run", minutes=0.1, device="cpu")


def test_snapshots_of_a_trainer_hold_the_step_and_seconds(videos, tmp_path):
    config = small_config("baseline")
    config.data.root = str(videos)
    config.train.steps, config.train.recurrent_steps = 3, 0
    train(config, tmp_path / "run", progress=False, limits=RunLimits(snapshot_every=1e-6))
    snapshots = sorted((tmp_path / "run" / "snapshots").glob("*.pt"))
    assert snapshots
    payload = load_checkpoint(snapshots[-1])
    assert payload["step"] == 3 and payload["seconds"] > 0
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "run" / "snapshots" / "missing.pt")


def test_short_run_command_prints_the_curve(baseline_run, videos, tmp_path, capsys):
    foundation = export_foundation(baseline_run / "checkpoint.pt", tmp_path / "f.pt")
    settings = [f"model.weights={foundation}", "model.coseg_dim=16", "model.ref_dim=16",
                "model.decoder_dim=16", "train.batch_size=2", "train.recurrent_clip_len=3"]
    argv = ["short-run", "--davis", str(videos), "--minutes", "0.05", "--out",
            str(tmp_path / "run"), "--snapshots", "2", "--device", "cpu", "--no-progress"]
    for setting in settings:
        argv += ["--override", setting]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "J&F" in out and "learning_curve.json" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["command"].startswith("python -m gcseg short-run --davis")
    assert summary["recipe"] == "cpu" and summary["budget_minutes"] == 0.05
    assert main(argv) == 2  # the run folder exists: refused, nothing replaced
    assert "exists" in capsys.readouterr().err
    assert main(["recipe-table", str(tmp_path / "run"), "--out", str(tmp_path / "table")]) == 0
    record = json.loads((tmp_path / "table" / "recipe.json").read_text())
    curve = json.loads((tmp_path / "run" / "learning_curve.json").read_text())
    (row,) = record["rows"]
    assert row["name"] == "run" and row["J&F"] == curve[-1]["J&F"]
    assert row["change"] == ", ".join(settings) and row["command"] == summary["command"]
    assert 0 <= record["copy_first"] <= 1 and (tmp_path / "table" / "learning_curves.png").is_file()
    with pytest.raises(SystemExit):
        main(["short-run", "--davis", str(videos), "--minutes", "0", "--out", "x"])

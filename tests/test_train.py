"""Training: stages, logs, checkpoints, exact resume, DDP with two CPU processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gcseg.checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from gcseg.train import RunLimits, Trainer, read_log, train, weights_digest
from gcseg.viz.training import plot_training
from tests.conftest import moving_squares_davis

pytestmark = pytest.mark.slow  # trains (DDP included)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    """A train and a val split of small moving-square videos."""
    return moving_squares_davis(tmp_path_factory.mktemp("videos") / "davis")


def _config(root: Path, variant: str = "full"):
    from tests.conftest import small_config

    config = small_config(variant)
    config.data.root = str(root)
    train = config.train
    train.batch_size, train.pretrain_steps, train.simulated_pretraining = 2, 2, True
    train.steps, train.recurrent_steps, train.recurrent_clip_len = 3, 1, 3
    train.log_every, train.checkpoint_every, train.eval_every = 1, 2, 0
    return config


def test_three_stages_log_checkpoint_and_evaluate(videos, tmp_path):
    config = _config(videos)
    config.train.eval_every = 6
    summary = train(config, tmp_path / "run", progress=False)
    assert summary["step"] == 6 and summary["total_steps"] == 6
    losses, evals = read_log(tmp_path / "run")
    assert [row["stage"] for row in losses] == ["simulated"] * 2 + ["video"] * 3 + ["recurrent"]
    assert all(float(row["loss"]) > 0 for row in losses)
    assert [int(row["step"]) for row in evals] == [6]
    assert 0.0 <= float(evals[0]["J&F"]) <= 1.0
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert checkpoint["step"] == 6 and checkpoint["stage"] == "done"
    assert checkpoint["metrics"]["J&F"] == pytest.approx(float(evals[0]["J&F"]), abs=1e-4)
    model, loaded_config = load_model(tmp_path / "run" / "checkpoint.pt")
    assert loaded_config.model == config.model and not model.training
    assert (tmp_path / "run" / "val_results" / "v0" / "00005.png").is_file()
    figure = plot_training(tmp_path / "run")
    assert len(figure.axes) == 2 and figure.axes[0].lines
    with pytest.raises(FileExistsError, match="--resume"):
        train(config, tmp_path / "run", progress=False)


def test_frozen_backbone_after_pretraining(videos, tmp_path):
    config = _config(videos)
    config.train.freeze_backbone_after_pretrain = True
    trainer = Trainer(config, tmp_path / "run", progress=False)
    before = {k: v.clone() for k, v in trainer.model.extractor.state_dict().items()}
    trainer.run(RunLimits(stop_after=2))  # stage 1: the extractor learns
    after_stage1 = {k: v.clone() for k, v in trainer.model.extractor.state_dict().items()}
    assert any(not torch.equal(before[k], after_stage1[k]) for k in before)
    trainer.run(RunLimits(stop_after=5))  # stage 2: frozen, BatchNorm statistics too
    for key, value in trainer.model.extractor.state_dict().items():
        torch.testing.assert_close(value, after_stage1[key], msg=key)


def test_without_pretraining_the_backbone_is_frozen_from_the_first_step(videos, tmp_path):
    """Table VII without confound: the run without stage 1 fixes the extractor for its video
    stages exactly as the run with stage 1 does after it."""
    config = _config(videos)
    config.train.freeze_backbone_after_pretrain = True
    config.train.simulated_pretraining = False
    trainer = Trainer(config, tmp_path / "run", progress=False)
    before = {k: v.clone() for k, v in trainer.model.extractor.state_dict().items()}
    trainer.run(RunLimits(stop_after=2))
    for key, value in trainer.model.extractor.state_dict().items():
        torch.testing.assert_close(value, before[key], msg=key)


def test_the_video_stages_run_the_same_schedule_with_and_without_stage_1(videos, tmp_path):
    """Table VII without confound: stage 1 has its own learning-rate schedule and the video
    stages start theirs anew, so the rows with and without it see the same rates there."""
    rates = {}
    for pretrain in (True, False):
        config = _config(videos)
        config.train.simulated_pretraining = pretrain
        trainer = Trainer(config, tmp_path / f"run-{pretrain}", progress=False)
        seen = []
        for _ in range(trainer.total_steps):
            seen.append(trainer.optimisation.lr)
            trainer.optimisation.scheduler.step()
        rates[pretrain] = seen
    lr = _config(videos).train.lr
    poly = [lr * (1 - k / 4) ** 0.9 for k in range(4)]  # 3 video steps + 1 recurrent
    assert rates[True][:2] == pytest.approx([lr, lr * 0.5 ** 0.9])  # stage 1: 2 steps
    assert rates[True][2:] == pytest.approx(poly) and rates[False] == pytest.approx(poly)


def test_resume_gives_the_same_weights(videos, tmp_path):
    config = _config(videos, variant="coseg")
    straight = train(config, tmp_path / "straight", progress=False)
    first = Trainer(config, tmp_path / "resumed", progress=False)
    first.run(RunLimits(stop_after=3))  # "interrupted" in stage 2
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["step"] == 3
    resumed = train(config, tmp_path / "resumed", resume=True, progress=False)
    assert resumed["weights_sha256"] == straight["weights_sha256"]
    losses, _ = read_log(tmp_path / "resumed")
    assert [int(row["step"]) for row in losses] == list(range(1, 7))
    other = _config(videos, variant="full")
    with pytest.raises(ValueError, match="another config"):
        train(other, tmp_path / "resumed", resume=True, progress=False)


def test_a_time_limit_stops_after_the_step_and_resume_finishes_it(videos, tmp_path):
    config = _config(videos, variant="coseg")
    straight = train(config, tmp_path / "straight", progress=False)
    capped = train(config, tmp_path / "capped", progress=False,
                   limits=RunLimits(max_seconds=0.0))
    assert capped["step"] == 1 and capped["stopped_by"] == "time"
    assert load_checkpoint(tmp_path / "capped" / "checkpoint.pt")["step"] == 1
    assert json.loads((tmp_path / "capped" / "summary.json").read_text())["stopped_by"] == "time"
    assert [int(row["step"]) for row in read_log(tmp_path / "capped")[0]] == [1]
    resumed = train(config, tmp_path / "capped", resume=True, progress=False)
    assert "stopped_by" not in resumed and resumed["step"] == 6
    assert resumed["weights_sha256"] == straight["weights_sha256"]


def test_checkpoints_are_atomic_and_loaded_safely(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(2)}, "config": {}, "step": 1})
    good = path.read_bytes()

    def broken_save(obj, name):
        Path(name).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"model": {}, "config": {}})
    monkeypatch.undo()
    assert path.read_bytes() == good and not list(tmp_path.glob("*.tmp"))
    (tmp_path / "bad.pt").write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="bad.pt: not a readable checkpoint"):
        load_checkpoint(tmp_path / "bad.pt")

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"model": Evil(), "config": {}}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="missing.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_ddp_two_cpu_processes_stay_identical(videos, tmp_path):
    config = _config(videos)
    config.train.pretrain_steps, config.train.steps, config.train.recurrent_steps = 1, 2, 1
    config_path = tmp_path / "config.yaml"
    config.to_yaml(config_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # --standalone: torchrun's rendezvous binds a port the system chooses (no port picked
    # here and released before torchrun binds it, which another process could take meanwhile)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", "-m", "gcseg", "train",
               "--config", str(config_path), "--out", str(tmp_path / "ddp"), "--device", "cpu",
               "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["replicas_identical"] is True
    model, _ = load_model(tmp_path / "ddp" / "checkpoint.pt")
    assert weights_digest(model) == summary["weights_sha256"]


def test_init_from_starts_with_the_given_weights(videos, tmp_path):
    config = _config(videos, variant="ref")
    config.train.pretrain_steps, config.train.steps, config.train.recurrent_steps = 0, 1, 0
    first = train(config, tmp_path / "first", progress=False)
    config.train.init_from = str(tmp_path / "first" / "checkpoint.pt")
    trainer = Trainer(config, tmp_path / "second", progress=False)
    assert weights_digest(trainer.model) == first["weights_sha256"]
    other = _config(videos, variant="full")
    other.train.init_from = config.train.init_from
    with pytest.raises(ValueError, match="model config differs from this run's in model.variant"):
        Trainer(other, tmp_path / "third", progress=False)
    # the similarity scale keeps every weight: a run may switch it (with a note)
    rescaled = _config(videos, variant="ref")
    rescaled.model.ref_scaled = not config.model.ref_scaled
    rescaled.train.init_from = config.train.init_from
    trainer = Trainer(rescaled, tmp_path / "fourth", progress=False)
    assert weights_digest(trainer.model) == first["weights_sha256"]

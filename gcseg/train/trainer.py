"""The training loop: :class:`Trainer` runs the stages of a config into a run folder.

Like torchvision's ``references/segmentation/train.py`` (``train_one_epoch``, ``evaluate``,
``main``), the loop only strings named steps together; the parts live beside it:
:mod:`~gcseg.train.processes` (one process or DDP), :mod:`~gcseg.train.optimisation` (Adam, the
schedule, the gradient scaler), :mod:`~gcseg.train.stages` (the stages' data and loss),
:mod:`~gcseg.train.budget` (a wall-time budget), :mod:`~gcseg.train.interrupt` (Ctrl-C and
SIGTERM) and :mod:`~gcseg.train.logs` (``log.csv``, ``eval.csv``).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from gcseg.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gcseg.config import ConfigError, GCSegConfig, config_differences
from gcseg.data import DavisDataset
from gcseg.files import write_json
from gcseg.model import GCSeg
from gcseg.model.feature_extractor import state_dict_mismatch
from gcseg.runtime import provenance, seed_everything
from gcseg.train.budget import StepBudget
from gcseg.train.interrupt import SignalFlag, TrainingInterrupted
from gcseg.train.logs import (
    EVAL_COLUMNS,
    LOG_COLUMNS,
    append_row,
    truncate_log,
    weights_digest,
)
from gcseg.train.optimisation import Optimisation
from gcseg.train.processes import Processes
from gcseg.train.run_folder import check_run_folder
from gcseg.train.stages import STEP_KEYS, Stage, plan_stages, stage_batches, stage_loss

__all__ = ["WEIGHT_NEUTRAL_SETTINGS", "RunLimits", "Trainer", "train"]

WEIGHT_NEUTRAL_SETTINGS = frozenset({"ref_scaled", "weights", "freeze_backbone"})
"""Model settings that ``train.init_from`` may change: they keep every weight's shape and
meaning (how D1 is scaled, where the initial backbone came from, whether it is frozen)."""


@dataclass(frozen=True)
class RunLimits:
    """Where a run stops early, and what it keeps along the way.

    Attributes:
        stop_after: stop at this global step (checkpointed); ``None``: the last step.
        max_seconds: stop after the step during which this much wall time has passed
            (checkpointed; the summary's ``stopped_by`` says ``"time"``).
        snapshot_every: keep the weights whenever this many more seconds of training have
            passed, in ``snapshots/s<seconds>.pt`` (and at the end).
        budget: a :class:`~gcseg.train.budget.StepBudget` that re-plans the step counts of
            the current and later stages as the steps are timed.
    """

    stop_after: int | None = None
    max_seconds: float | None = None
    snapshot_every: float | None = None
    budget: StepBudget | None = None


@dataclass
class _Progress:
    """The state of one call of :meth:`Trainer.run`: its clock, its bar, why it stops."""

    limits: RunLimits
    signals: SignalFlag
    bar: tqdm
    seconds_before: float
    started: float = field(default_factory=time.perf_counter)
    next_snapshot: float = math.inf
    out_of_time: bool = False
    signalled: int | None = None

    @property
    def stopping(self) -> bool:
        return self.out_of_time or bool(self.signalled)


def _listing(items: list[str], limit: int = 5) -> str:
    """The first ``limit`` items, then how many more."""
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def _next_multiple(value: float, every: float) -> float:
    """The first multiple of ``every`` above ``value``."""
    return (math.floor(value / every) + 1) * every


class Trainer:
    """Runs the stages of ``config`` into ``out_dir``; see :mod:`gcseg.train`."""

    def __init__(self, config: GCSegConfig, out_dir: str | os.PathLike,
                 device: str | torch.device | None = None, progress: bool = True) -> None:
        self.config = copy.deepcopy(config)  # a StepBudget re-plans its step counts
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.processes = Processes(device)
        self.rank, self.world, self.device = (self.processes.rank, self.processes.world,
                                              self.processes.device)
        self.amp = config.train.amp and self.device.type == "cuda"

        seed_everything(config.train.seed)
        self.model = GCSeg(config.model).to(self.device)
        self.optimisation = Optimisation(self.model, config.train, self._schedule_phase,
                                         self.amp)
        self.step = 0
        self.seconds = 0.0
        """Wall seconds of training so far, over every resumed part of the run."""
        self.metrics: dict[str, float] = {}
        self._val_dataset: DavisDataset | None = None
        if config.train.init_from:
            self._init_from(config.train.init_from)

    def _init_from(self, path: str) -> None:
        """Load the model weights of ``path`` (float16 exports are cast back).

        The network must be the same; only the settings that leave the weights as they are
        (:data:`WEIGHT_NEUTRAL_SETTINGS`, e.g. the similarity scale) may change, with a note."""
        payload = load_checkpoint(path, map_location=self.device)
        theirs = GCSegConfig.from_dict(payload["config"], source=str(path)).to_dict()["model"]
        ours = self.config.to_dict()["model"]
        changed = sorted(key for key in ours if theirs.get(key) != ours[key])
        if set(changed) - WEIGHT_NEUTRAL_SETTINGS:
            raise ConfigError(f"train.init_from {path}: its model config differs from this "
                              f"run's in {_listing(['model.' + key for key in changed])}; "
                              "train.init_from needs the same network")
        for key in changed:
            if self.rank == 0:
                print(f"init_from {path}: model.{key} was {theirs.get(key)!r}, now {ours[key]!r}")
        self._load_weights(payload, path)

    def _load_weights(self, payload: dict, path: str | os.PathLike) -> None:
        """The model weights of a checkpoint; a mismatch names the first keys, not all."""
        problem = state_dict_mismatch(self.model, payload["model"])
        if problem:
            raise CheckpointError(f"{path}: its weights do not fit this run's model: {problem}")
        self.model.load_state_dict(payload["model"])

    # ----------------------------------------------------------------------- layout

    @property
    def stages(self) -> list[Stage]:
        """The stages that run (their step counts as planned now)."""
        return plan_stages(self.config.train)

    @property
    def total_steps(self) -> int:
        return sum(stage.steps for stage in self.stages)

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / "checkpoint.pt"

    def _stage_at(self, step: int) -> str:
        for stage in self.stages:
            if step < stage.end:
                return stage.name
        return "done"

    def _schedule_phase(self, step: int) -> tuple[int, int]:
        """``(steps into the phase, steps of the phase)`` of global ``step`` for the
        learning-rate schedule: stage 1 (simulated pre-training) is one phase and the video
        stages another, so each starts at the full learning rate as the paper's separate
        pre-training and fine-tuning do, and a run with stage 1 trains its video stages on
        the same schedule as one without (Table VII)."""
        stages = self.stages
        if stages and stages[0].name == "simulated":
            if step < stages[0].end:
                return step, stages[0].steps
            return step - stages[0].end, self.total_steps - stages[0].end
        return step, self.total_steps

    def _apply_freezing(self, step: int) -> None:
        """Freeze the extractor for the video stages when the config says so (III-A-2: "fixed
        after pre-training"): after stage 1, or from the first step when there is no stage 1,
        so that a run with and one without pre-training differ by stage 1 alone (Table VII)."""
        train = self.config.train
        video_stage = self._stage_at(step) != "simulated"
        frozen = self.config.model.freeze_backbone or (
            train.freeze_backbone_after_pretrain and video_stage)
        self.model.extractor.set_frozen(frozen)

    # ----------------------------------------------------------------------- state

    def state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            **self.optimisation.state_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "stage": self._stage_at(self.step),
            "config": self.config.to_dict(),
            "metrics": dict(self.metrics),
            "provenance": provenance(self.device),
        }

    def save(self) -> None:
        self.processes.sync_buffers(self.model)
        if self.rank == 0:
            save_checkpoint(self.checkpoint_path, self.state())

    def resume(self) -> None:
        """Continue from ``checkpoint.pt``: weights, optimiser, schedule, scaler and step."""
        path = self.checkpoint_path
        payload = self._training_checkpoint(path)
        self._apply_freezing(int(payload["step"]))
        self._load_weights(payload, path)
        try:
            self.optimisation.load_state_dict(payload)
        except (ValueError, KeyError, RuntimeError, TypeError) as error:
            raise CheckpointError(f"{path}: its optimiser state does not fit this run "
                                  f"({type(error).__name__}: {error})") from None
        self.step = int(payload["step"])
        self.seconds = float(payload.get("seconds", 0.0))
        self.metrics = dict(payload.get("metrics", {}))
        if self.rank == 0:
            truncate_log(self.out_dir / "log.csv", self.step)
            truncate_log(self.out_dir / "eval.csv", self.step)

    def _training_checkpoint(self, path: Path) -> dict:
        """The checkpoint a run of this very config saved at ``path``, or an error saying
        what it is instead."""
        if not path.is_file():
            raise CheckpointError(f"{path}: checkpoint not found: --resume continues a run "
                                  "that saved one (leave --resume out to start this run)")
        payload = load_checkpoint(path, map_location=self.device)
        lacking = [key for key in ("optimizer", "scheduler", "scaler", "step")
                   if key not in payload]
        if lacking:
            raise CheckpointError(f"{path}: not a training checkpoint (no {', '.join(lacking)}; "
                                  "an exported model?): --resume needs the checkpoint.pt a "
                                  "train run wrote")
        saved = GCSegConfig.from_saved(payload["config"], source=str(path))
        differences = config_differences(saved, self.config)
        if differences:
            shown = [f"{key} ({there!r} there, {here!r} here)"
                     for key, (there, here) in differences.items()]
            raise ConfigError(f"{path}: written with another config: {_listing(shown)}; "
                              "resume with the same config or start a new --out")
        return payload

    def snapshot(self) -> Path | None:
        """Keep the current weights in ``snapshots/s<seconds>.pt`` (rank 0)."""
        self.processes.sync_buffers(self.model)
        if self.rank != 0:
            return None
        path = self.out_dir / "snapshots" / f"s{int(round(self.seconds)):05d}.pt"
        return save_checkpoint(path, {"model": self.model.state_dict(),
                                      "config": self.config.to_dict(), "step": self.step,
                                      "seconds": self.seconds})

    # ----------------------------------------------------------------------- one step

    def batches(self, stage: Stage, start: int) -> Iterator[dict]:
        """This process's batches of ``stage`` from in-stage step ``start`` on."""
        return stage_batches(self.config, stage, start, self.rank, self.world, self.device)

    def train_step(self, model, stage: str, batch: dict) -> float:
        """One optimisation step on ``batch`` of ``stage`` (``model``: this process's replica);
        returns the loss."""
        self.model.train()
        with torch.autocast("cuda", dtype=torch.float16, enabled=self.amp):
            loss = stage_loss(model, stage, batch, self.config.train)
        self.optimisation.step(loss)
        return float(loss.detach())

    # ----------------------------------------------------------------------- the run

    def run(self, limits: RunLimits | None = None) -> dict:
        """Train to the end or to ``limits`` (:class:`RunLimits`); returns the summary.

        ``--stop-after`` at the step a time limit reached repeats such a run with the same
        sequence of batches.  Snapshots (``limits.snapshot_every``), scored later, give the
        validation J&F against wall time without slowing the run down.  With
        ``limits.budget`` the counts in ``config.yaml`` and the checkpoint are the re-planned
        ones.

        SIGINT (Ctrl-C) or SIGTERM while it runs: the step in progress finishes, the checkpoint
        is saved at it and :class:`~gcseg.train.interrupt.TrainingInterrupted` is raised."""
        limits = limits or RunLimits()
        with SignalFlag(announce=self.rank == 0) as signals:
            if self.rank == 0:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self.config.to_yaml(self.out_dir / "config.yaml")
            bar = tqdm(total=self._last_step(limits), initial=self.step, desc="train",
                       disable=not self.progress or self.rank != 0)
            run = _Progress(limits, signals, bar, seconds_before=self.seconds)
            if limits.snapshot_every:
                run.next_snapshot = _next_multiple(self.seconds, limits.snapshot_every)
            while self.step < self._last_step(limits) and not run.stopping:
                self._train_stage(next(s for s in self.stages if self.step < s.end), run)
            bar.close()
            return self._finish(run)

    def _last_step(self, limits: RunLimits) -> int:
        """The step the run ends at (re-planning moves it)."""
        total = self.total_steps
        return total if limits.stop_after is None else min(limits.stop_after, total)

    def _train_stage(self, stage: Stage, run: _Progress) -> None:
        """The steps of ``stage`` until it ends, the run stops or a re-plan changes it."""
        self._apply_freezing(self.step)
        model = self.processes.wrap(self.model)
        losses: list[float] = []
        if run.limits.budget:
            run.limits.budget.start_stage(stage.name, self.step)
        for batch in self.batches(stage, self.step - stage.first_step):
            losses.append(self.train_step(model, stage.name, batch))
            self._after_step(stage, run, losses)
            if self.step >= self._last_step(run.limits) or run.stopping:
                break
            if self._replanned(stage, run):
                break  # a new loader over the stage's new length

    def _after_step(self, stage: Stage, run: _Progress, losses: list[float]) -> None:
        """Count the step, then snapshot, check the time and signals, log, validate and save
        as they fall due."""
        self.step += 1
        self.seconds = run.seconds_before + time.perf_counter() - run.started
        run.bar.update(1)
        if self.seconds >= run.next_snapshot:
            self.snapshot()
            run.next_snapshot = _next_multiple(self.seconds, run.limits.snapshot_every)
        run.out_of_time, run.signalled = self._should_stop(run)
        train = self.config.train
        if (self.step % train.log_every == 0
                or self.step in (stage.end, self._last_step(run.limits)) or run.stopping):
            self._log(stage.name, losses)
            run.bar.set_postfix(stage=stage.name, loss=f"{np.mean(losses):.3f}")
            losses.clear()
        if train.eval_every and self.step % train.eval_every == 0:
            self.evaluate()
        if self.step % train.checkpoint_every == 0:
            self.save()

    def _should_stop(self, run: _Progress) -> tuple[bool, int | None]:
        """Whether the wall-time cap has passed (rank 0's clock) and the signal that asked to
        stop (any process's), the same answers in every process."""
        max_seconds = run.limits.max_seconds
        late = max_seconds is not None and time.perf_counter() - run.started >= max_seconds
        late, received = self.processes.stop_flags(late, run.signals.received or 0)
        return late, received or None

    def _replanned(self, stage: Stage, run: _Progress) -> bool:
        """Re-plan the step counts from ``stage`` on when the budget says it is time (every
        process takes rank 0's plan); whether they changed."""
        budget = run.limits.budget
        if not (budget and self.step < stage.end and budget.due(self.step)):
            return False
        counts = budget.plan(stage.name, self.step, stage.end,
                             {s.name: s.steps for s in self.stages},
                             time.perf_counter() - run.started)
        counts = self.processes.from_rank0(counts)
        changed = False
        for name, count in counts.items():
            if getattr(self.config.train, STEP_KEYS[name]) != count:
                setattr(self.config.train, STEP_KEYS[name], count)
                changed = True
        if changed:
            run.bar.total = self._last_step(run.limits)
            run.bar.refresh()
        return changed

    def _finish(self, run: _Progress) -> dict:
        """Save (and raise when a signal stopped the run), snapshot, validate the finished
        model, write the summary."""
        last_step = self._last_step(run.limits)
        if run.limits.budget and self.rank == 0:
            self.config.to_yaml(self.out_dir / "config.yaml")
        if run.signalled:
            self.save()
            raise TrainingInterrupted(run.signalled, self.step, last_step, self.checkpoint_path)
        if run.limits.snapshot_every:
            self.snapshot()
        if self.step >= self.total_steps and self.config.train.eval_every \
                and self.metrics.get("step") != self.step:
            self.evaluate()
        self.save()
        stopped_by = "time" if run.out_of_time and self.step < last_step else None
        summary = self._summary(time.perf_counter() - run.started, stopped_by)
        if stopped_by and self.rank == 0:
            print(f"stopped by the time limit at step {self.step} of {last_step}; "
                  "--resume continues it")
        return summary

    # ----------------------------------------------------------------------- records

    def _log(self, stage: str, losses: list[float]) -> None:
        if self.rank != 0 or not losses:
            return
        append_row(self.out_dir / "log.csv", LOG_COLUMNS,
                   [self.step, stage, f"{np.mean(losses):.6f}", f"{self.optimisation.lr:.3e}",
                    f"{self.seconds:.1f}"])

    def evaluate(self) -> dict[str, float] | None:
        """Segment and score the validation videos (rank 0); appends to ``eval.csv``."""
        if self.rank == 0:
            from gcseg.inference import VideoSegmenter
            from gcseg.scoring import score_split

            segmenter = VideoSegmenter.from_config(self.model, self.config, self.device)
            result = score_split(segmenter, self._validation_videos(),
                                 self.out_dir / "val_results").result
            self.metrics = {"step": self.step, **result.means()}
            append_row(self.out_dir / "eval.csv", EVAL_COLUMNS,
                       [self.step] + [f"{result.means()[key]:.4f}" for key in EVAL_COLUMNS[1:]])
            self.model.train()
        self.processes.barrier()
        return self.metrics or None

    def _validation_videos(self) -> DavisDataset:
        """The first ``train.eval_videos`` videos of the validation split (all with 0),
        opened at the first validation of the run."""
        if self._val_dataset is None:
            data = self.config.data
            dataset = DavisDataset(data.root, data.year, data.val_split, data.resolution)
            count = self.config.train.eval_videos
            if count and count < len(dataset):
                dataset = DavisDataset(data.root, data.year, data.val_split, data.resolution,
                                       sequences=dataset.sequences[:count])
            self._val_dataset = dataset
        return self._val_dataset

    def _summary(self, seconds: float, stopped_by: str | None = None) -> dict:
        digest = weights_digest(self.model)
        summary = {"step": self.step, "total_steps": self.total_steps, "metrics": self.metrics,
                   "seconds": seconds, "training_seconds": self.seconds,
                   "weights_sha256": digest, "world_size": self.world,
                   **provenance(self.device)}
        if stopped_by:
            summary["stopped_by"] = stopped_by
        if self.processes.distributed:
            summary["replicas_identical"] = self.processes.all_equal(digest)
        if self.rank == 0:
            write_json(self.out_dir / "summary.json", summary)
        return summary


def train(config: GCSegConfig, out_dir: str | os.PathLike, resume: bool = False,
          device: str | None = None, progress: bool = True,
          limits: RunLimits | None = None) -> dict:
    """Train ``config`` into ``out_dir`` (see :mod:`gcseg.train`); returns the summary.

    A new run (not ``resume``) refuses a folder holding an earlier run's files
    (:func:`~gcseg.train.run_folder.check_run_folder`); ``limits`` stops it early
    (:class:`RunLimits`); SIGINT/SIGTERM raise
    :class:`~gcseg.train.interrupt.TrainingInterrupted` after saving the checkpoint."""
    if int(os.environ.get("RANK", "0")) == 0:
        check_run_folder(out_dir, config=None if resume else config)
    trainer = Trainer(config, out_dir, device=device, progress=progress)
    try:
        if resume:
            trainer.resume()
        return trainer.run(limits)
    finally:
        trainer.processes.close()

"""Training GCSeg: three stages, checkpoints that resume exactly, DDP (paper IV-A; SPEC §9).

Stages, run in order, each skipped when its step count is 0:

1. ``simulated`` -- pairs simulated from still images (Way-1 / Way-2,
   :mod:`gcseg.data.simulate`); sources from ``data.still_sources``: ``pascal-voc:<VOC2012>``,
   ``msra10k:<Imgs folder>`` and, offline, ``davis-stills`` (the training split's frames used
   as still images).  Off when ``train.simulated_pretraining`` is false (Table VII).
2. ``video`` -- (reference, target) pairs at random intervals from the training videos.
3. ``recurrent`` -- short clips; the model's own (soft) prediction of frame t-1 is the previous
   mask of frame t, gradients flow through the whole clip.

Each step minimises eq. 3 (:func:`gcseg.model.gcseg_loss`) with Adam, a poly or constant
learning-rate schedule over all stages, gradient clipping, and fp16 autocast on CUDA.

Determinism and resuming: the samples of step ``s`` are a pure function of
``(seed, stage, s, rank)`` (see :mod:`gcseg.data.pairs`), and a checkpoint holds the weights,
the optimiser, the scheduler, the gradient scaler and the step.  A run stopped after k steps
and resumed therefore ends with the same weights as one that never stopped.

Distributed: started by ``torchrun --nproc_per_node N -m gcseg train --config FILE``, every
process trains a :class:`~torch.nn.parallel.DistributedDataParallel` replica on its own
samples (``gloo`` on CPU, ``nccl`` on CUDA); rank 0 writes logs and checkpoints.  The same
command without ``torchrun`` is a single process.

Outputs in ``out_dir``: ``checkpoint.pt`` (latest), ``config.yaml``, ``log.csv`` (loss per
logged step), ``eval.csv`` (validation J&F per evaluation), ``summary.json``.  A new run refuses
a folder that holds an earlier run's files (:data:`RUN_FILES`: its logs would be appended to,
its checkpoint replaced); ``--resume`` continues such a run, anything else needs another folder.

Ctrl-C (SIGINT) and SIGTERM during :meth:`Trainer.run` do not kill the run mid-step: the step in
progress finishes, the checkpoint is saved at it, and :class:`TrainingInterrupted` is raised
(``python -m gcseg train`` prints how to resume and exits with 130 for SIGINT, 143 for SIGTERM,
the shell's 128 + signal number).  The resumed run ends bitwise identical to one that was never
stopped.  A second signal while the first is handled acts as usual (aborts without saving).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from gcseg.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gcseg.config import ConfigError, GCSegConfig, config_differences
from gcseg.data.davis import DavisDataset
from gcseg.data.pairs import SimulatedPairs, VideoClips, VideoPairs
from gcseg.data.still_images import (
    MSRA10K,
    ConcatStills,
    DavisStills,
    PascalVOCObjects,
    StillImageSource,
)
from gcseg.data.transforms import loss_target
from gcseg.model import GCSeg, gcseg_loss
from gcseg.model.feature_extractor import state_dict_mismatch
from gcseg.runtime import pick_device, provenance, seed_everything, write_json

__all__ = ["RUN_FILES", "STAGES", "StepBudget", "Trainer", "TrainingInterrupted", "train",
           "check_run_folder", "still_sources", "plot_training", "read_log"]

STAGES = ("simulated", "video", "recurrent")

RUN_FILES = ("checkpoint.pt", "log.csv", "eval.csv", "summary.json", "snapshots", "val_results")
"""What a run writes into its folder besides ``config.yaml``: a new run refuses a folder holding
any of them (``config.yaml`` alone is allowed, a config kept beside its run)."""


# --------------------------------------------------------------------------- data


def still_sources(config: GCSegConfig) -> StillImageSource:
    """The still-image sources of stage 1 named by ``config.data.still_sources``."""
    sources: list[StillImageSource] = []
    for spec in config.data.still_sources:
        kind, _, path = spec.partition(":")
        if kind == "pascal-voc":
            sources.append(PascalVOCObjects(path, split="train"))
        elif kind == "msra10k":
            sources.append(MSRA10K(path))
        elif kind == "davis-stills":
            root = path or config.data.root
            sources.append(DavisStills(DavisDataset(root, config.data.year, config.data.split,
                                                    config.data.resolution)))
        else:
            raise ValueError(f"unknown still-image source {spec!r} "
                             "(pascal-voc:DIR, msra10k:DIR or davis-stills[:DIR])")
    return ConcatStills(sources)


class _Window(Dataset):
    """Samples ``[start, start + length)`` of a seeded dataset, for one process."""

    def __init__(self, dataset: Dataset, indices: list[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        return self.dataset[self.indices[i]]


@dataclass
class _Stage:
    name: str
    steps: int
    first_step: int  # global step at which the stage starts


# --------------------------------------------------------------------------- the trainer


WEIGHT_NEUTRAL_SETTINGS = frozenset({"ref_scaled", "weights", "freeze_backbone"})
"""Model settings that ``train.init_from`` may change: they keep every weight's shape and
meaning (how D1 is scaled, where the initial backbone came from, whether it is frozen)."""


class StepBudget:
    """Fits a run's step counts to a wall-time budget while it trains.

    A few steps timed before the run (``step_seconds``: seconds per step of each stage) give a
    first plan, but the first steps of a process are slower than the rest (cold file cache,
    allocator), so a plan from them alone ends minutes early.  During the run, after the 10th
    step of a stage and at each doubling of its steps, :meth:`plan` times the stage's own steps
    (after its first two) and rescales the steps left in it and in the later stages so that
    they fill the seconds left; the later stages keep their measured speed relative to this one.
    """

    first_check = 10

    def __init__(self, seconds: float, step_seconds: dict[str, float]) -> None:
        self.seconds = float(seconds)
        self.step_seconds = dict(step_seconds)
        self.stage: str | None = None
        self._stage_start: tuple[int, float] | None = None
        self._warm: tuple[int, float] | None = None
        self._next_check = 0

    def start_stage(self, name: str, step: int) -> None:
        """Start timing stage ``name`` at global step ``step`` (no-op if it is the current)."""
        if name == self.stage:
            return
        self.stage = name
        self._stage_start = (step, time.perf_counter())
        self._warm = None
        self._next_check = step + self.first_check

    def due(self, step: int) -> bool:
        """Whether to re-plan after global step ``step`` (marks the warm-up's end too)."""
        if self._stage_start and self._warm is None and step >= self._stage_start[0] + 2:
            self._warm = (step, time.perf_counter())
        if self._warm is None or step < self._next_check:
            return False
        self._next_check = step + max(self.first_check, step - self._stage_start[0])
        return step > self._warm[0]

    def plan(self, stage: str, step: int, stage_end: int, counts: dict[str, int],
             elapsed: float) -> dict[str, int]:
        """New step counts (``{stage: steps}``) of stage ``stage`` (now at global ``step``,
        planned to end at ``stage_end``) and the later stages in ``counts``, so that the run
        ends ``self.seconds`` after it started (``elapsed`` seconds ago)."""
        warm_step, warm_time = self._warm
        rate = (time.perf_counter() - warm_time) / (step - warm_step)
        measured = self.step_seconds.get(stage)
        scale = rate / measured if measured else 1.0  # this machine against the first timing
        names = list(counts)
        later = names[names.index(stage) + 1:]
        left_steps = {stage: stage_end - step, **{name: counts[name] for name in later}}
        seconds = {stage: rate, **{name: self.step_seconds.get(name, rate) * scale
                                   for name in later}}
        planned = sum(left_steps[name] * seconds[name] for name in left_steps)
        factor = max(0.0, self.seconds - elapsed) / planned if planned > 0 else 1.0
        new = {name: max(1, math.floor(left_steps[name] * factor)) for name in left_steps}
        new[stage] += counts[stage] - (stage_end - step)  # the steps already done stay
        return new


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped :meth:`Trainer.run`, after the checkpoint was saved at
    ``step``; ``--resume`` continues it.  A :class:`KeyboardInterrupt`, so that code catching
    ``Exception`` lets it through as it would Ctrl-C."""

    def __init__(self, signum: int, step: int, total: int, checkpoint: Path) -> None:
        self.signum, self.step, self.total, self.checkpoint = signum, step, total, checkpoint
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum  # the shell's convention: 130 SIGINT, 143 SIGTERM
        super().__init__(f"{self.signal_name}: stopped after step {step} of {total}, "
                         f"checkpoint saved in {checkpoint}")

    def __reduce__(self):  # pickled back from a worker process (ablate --jobs N)
        return type(self), (self.signum, self.step, self.total, self.checkpoint)


class _SignalFlag:
    """While active, SIGINT and SIGTERM only note that they came (``received``); the first one
    puts the earlier handlers back, so a second signal acts as usual (aborts at once).

    Only the main thread may set signal handlers; elsewhere this does nothing."""

    def __init__(self, announce: bool = True) -> None:
        self.received: int | None = None
        self.announce = announce
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _SignalFlag:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._note)
        return self

    def _note(self, signum: int, frame) -> None:
        if self.received is None:
            self.received = signum
        self._restore()
        if self.announce:  # os.write: print() is not safe inside a signal handler
            os.write(2, f"\n{signal.Signals(signum).name}: stopping after this step and saving "
                        "the checkpoint (send it again to abort without saving)\n".encode())

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __exit__(self, *exc_info) -> None:
        self._restore()


class Trainer:
    """Runs the stages of ``config`` into ``out_dir``; see the module docstring."""

    def __init__(self, config: GCSegConfig, out_dir: str | os.PathLike,
                 device: str | torch.device | None = None, progress: bool = True) -> None:
        self.config = copy.deepcopy(config)  # a StepBudget re-plans its step counts
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        if self.distributed and not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() and device != "cpu" else "gloo"
            dist.init_process_group(backend)
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        if device is None and torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        self.device = pick_device(str(device) if device is not None else None)
        self.amp = config.train.amp and self.device.type == "cuda"

        seed_everything(config.train.seed)
        self.model = GCSeg(config.model).to(self.device)
        train = config.train
        schedule = _schedule(train.schedule, lambda: self.total_steps)
        self.optimizer = torch.optim.Adam(
            [p for p in self.model.parameters() if p.requires_grad],
            lr=train.lr, weight_decay=train.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.step = 0
        self.seconds = 0.0
        """Wall seconds of training so far, over every resumed part of the run."""
        self.metrics: dict[str, float] = {}
        if train.init_from:
            self._init_from(train.init_from)

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
    def stages(self) -> list[_Stage]:
        train, stages, first = self.config.train, [], 0
        counts = {
            "simulated": train.pretrain_steps if train.simulated_pretraining else 0,
            "video": train.steps,
            "recurrent": train.recurrent_steps,
        }
        for name in STAGES:
            if counts[name]:
                stages.append(_Stage(name, counts[name], first))
                first += counts[name]
        return stages

    @property
    def total_steps(self) -> int:
        return sum(stage.steps for stage in self.stages)

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / "checkpoint.pt"

    # ----------------------------------------------------------------------- state

    def state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "stage": self._stage_at(self.step),
            "config": self.config.to_dict(),
            "metrics": dict(self.metrics),
            "provenance": provenance(self.device),
        }

    def _sync_buffers(self) -> None:
        """Give every replica rank 0's buffers (BatchNorm statistics).

        DDP broadcasts buffers at the start of each forward, so after the last step each
        replica still holds the statistics of its own last batch; sync before saving/ending.
        """
        if self.distributed:
            for buffer in self.model.buffers():
                dist.broadcast(buffer, src=0)

    def save(self) -> None:
        self._sync_buffers()
        if self.rank == 0:
            save_checkpoint(self.checkpoint_path, self.state())

    def resume(self) -> None:
        """Continue from ``checkpoint.pt``: weights, optimiser, schedule, scaler and step."""
        path = self.checkpoint_path
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
        self._apply_freezing(int(payload["step"]))
        self._load_weights(payload, path)
        try:
            self.optimizer.load_state_dict(payload["optimizer"])
            self.scheduler.load_state_dict(payload["scheduler"])
            self.scaler.load_state_dict(payload["scaler"])
        except (ValueError, KeyError, RuntimeError, TypeError) as error:
            raise CheckpointError(f"{path}: its optimiser state does not fit this run "
                                  f"({type(error).__name__}: {error})") from None
        self.step = int(payload["step"])
        self.seconds = float(payload.get("seconds", 0.0))
        self.metrics = dict(payload.get("metrics", {}))
        if self.rank == 0:
            _truncate_csv(self.out_dir / "log.csv", self.step)
            _truncate_csv(self.out_dir / "eval.csv", self.step)

    def _stage_at(self, step: int) -> str:
        for stage in self.stages:
            if step < stage.first_step + stage.steps:
                return stage.name
        return "done"

    def _apply_freezing(self, step: int) -> None:
        """Freeze the extractor after stage 1 when the config says so (III-A-2)."""
        train = self.config.train
        after_pretraining = any(s.name == "simulated" and step >= s.first_step + s.steps
                                for s in self.stages)
        frozen = self.config.model.freeze_backbone or (
            train.freeze_backbone_after_pretrain and after_pretraining)
        self.model.extractor.set_frozen(frozen)

    # ----------------------------------------------------------------------- data

    def _dataset(self, stage: _Stage) -> Dataset:
        config, size = self.config, tuple(self.config.data.frame_size)
        seed = config.train.seed * 1000 + STAGES.index(stage.name)
        per_epoch = stage.steps * self.world * config.train.batch_size
        if stage.name == "simulated":
            return SimulatedPairs(still_sources(config), size, per_epoch,
                                  config.train.zero_prev_mask_prob, seed=seed)
        videos = DavisDataset(config.data.root, config.data.year, config.data.split,
                              config.data.resolution)
        if stage.name == "video":
            return VideoPairs(videos, size, per_epoch, config.train.zero_prev_mask_prob,
                              seed=seed, max_interval=config.train.max_interval,
                              crop_scale=config.data.crop_scale)
        return VideoClips(videos, size, config.train.recurrent_clip_len,
                          samples_per_epoch=per_epoch, seed=seed,
                          crop_scale=config.data.crop_scale)

    def _batches(self, stage: _Stage, start: int) -> Iterator[dict]:
        """This process's batches for in-stage steps ``start..``: a function of the step."""
        batch = self.config.train.batch_size
        indices = [((step * self.world + self.rank) * batch) + i
                   for step in range(start, stage.steps) for i in range(batch)]
        workers = self.config.train.num_workers
        loader = DataLoader(_Window(self._dataset(stage), indices), batch_size=batch,
                            shuffle=False, num_workers=workers,
                            pin_memory=self.device.type == "cuda",
                            worker_init_fn=_ignore_sigint if workers else None)
        for sample in loader:
            yield {key: value.to(self.device, non_blocking=True) for key, value in sample.items()}

    # ----------------------------------------------------------------------- steps

    def _loss(self, model, stage: str, batch: dict) -> torch.Tensor:
        reduction = self.config.train.loss_reduction
        if stage != "recurrent":
            out = model(batch["target_image"], batch["target_prev_mask"], batch["ref_image"],
                        batch["ref_mask"])
            # Void pixels (label 255) are left out of every term; the inputs see them as 0.
            return gcseg_loss(out, loss_target(batch["target_mask"], batch.get("target_void")),
                              loss_target(batch["ref_mask"], batch.get("ref_void")), reduction)
        images, masks = batch["images"], batch["masks"]  # (B, L, 3, H, W), (B, L, 1, H, W)
        targets = loss_target(masks, batch.get("voids"))
        ref_image, ref_mask, prev = images[:, 0], masks[:, 0], masks[:, 0]
        total = 0.0
        for k in range(1, images.shape[1]):
            out = model(images[:, k], prev, ref_image, ref_mask)
            total = total + gcseg_loss(out, targets[:, k], targets[:, 0], reduction)
            prev = out.m_t.prob  # the model's own soft prediction feeds the next frame
            if self.config.train.recurrent_detach:
                prev = prev.detach()  # no gradient back through the earlier frames
        return total / (images.shape[1] - 1)

    def _train_step(self, model, stage: str, batch: dict) -> float:
        self.model.train()
        with torch.autocast("cuda", dtype=torch.float16, enabled=self.amp):
            loss = self._loss(model, stage, batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        if self.config.train.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return float(loss.detach())

    # ----------------------------------------------------------------------- the run

    def run(self, stop_after: int | None = None, max_seconds: float | None = None,
            snapshot_every: float | None = None, budget: StepBudget | None = None) -> dict:
        """Train to the end (or until global step ``stop_after``); returns the summary.

        ``max_seconds`` caps the wall time: the run stops after the step during which the time
        ran out and saves its checkpoint, so ``--resume`` continues it; the summary's
        ``stopped_by`` says ``"time"`` then.  ``--stop-after`` at the reached step repeats
        such a run with the same sequence of batches.

        ``snapshot_every`` (seconds of training) keeps the weights whenever that much more
        wall time has passed, in ``snapshots/s<seconds>.pt`` (and at the end): scored later,
        they give the validation J&F against wall time without slowing the run down.

        ``budget`` (a :class:`StepBudget`) re-plans the step counts of the current and later
        stages as the steps are timed, so that the run ends when its seconds are spent (the
        counts in ``config.yaml`` and the checkpoint are the re-planned ones).

        SIGINT (Ctrl-C) or SIGTERM while it runs: the step in progress finishes, the checkpoint
        is saved at it and :class:`TrainingInterrupted` is raised (see the module docstring)."""
        with _SignalFlag(announce=self.rank == 0) as signals:
            return self._run(stop_after, max_seconds, snapshot_every, budget, signals)

    def _run(self, stop_after: int | None, max_seconds: float | None,
             snapshot_every: float | None, budget: StepBudget | None,
             signals: _SignalFlag) -> dict:
        if self.rank == 0:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.config.to_yaml(self.out_dir / "config.yaml")
        train = self.config.train

        def last_step() -> int:  # re-planning moves it
            return self.total_steps if stop_after is None else min(stop_after, self.total_steps)

        started = time.perf_counter()
        seconds_before = self.seconds
        next_snapshot = _next_multiple(self.seconds, snapshot_every) if snapshot_every \
            else math.inf
        out_of_time, signalled = False, None
        bar = tqdm(total=last_step(), initial=self.step, desc="train",
                   disable=not self.progress or self.rank != 0)
        while self.step < last_step() and not out_of_time and not signalled:
            stage = next(s for s in self.stages if self.step < s.first_step + s.steps)
            self._apply_freezing(self.step)
            model = self._wrap()
            losses = []
            if budget:
                budget.start_stage(stage.name, self.step)
            for batch in self._batches(stage, self.step - stage.first_step):
                losses.append(self._train_step(model, stage.name, batch))
                self.step += 1
                self.seconds = seconds_before + time.perf_counter() - started
                bar.update(1)
                if self.seconds >= next_snapshot:
                    self.snapshot()
                    next_snapshot = _next_multiple(self.seconds, snapshot_every)
                out_of_time, signalled = self._should_stop(started, max_seconds, signals)
                stage_end = stage.first_step + stage.steps
                if (self.step % train.log_every == 0 or self.step in (stage_end, last_step())
                        or out_of_time or signalled):
                    self._log(stage.name, losses)
                    bar.set_postfix(stage=stage.name, loss=f"{np.mean(losses):.3f}")
                    losses = []
                if train.eval_every and self.step % train.eval_every == 0:
                    self.evaluate()
                if self.step % train.checkpoint_every == 0:
                    self.save()
                if self.step >= last_step() or out_of_time or signalled:
                    break
                if budget and self.step < stage_end and budget.due(self.step):
                    if self._replan(budget, stage, time.perf_counter() - started):
                        bar.total = last_step()
                        bar.refresh()
                        break  # a new loader over the stage's new length
        bar.close()
        if budget and self.rank == 0:
            self.config.to_yaml(self.out_dir / "config.yaml")
        if signalled:
            self.save()
            raise TrainingInterrupted(signalled, self.step, last_step(), self.checkpoint_path)
        if snapshot_every:
            self.snapshot()
        if self.step >= self.total_steps and train.eval_every:
            if not self.metrics or self.metrics.get("step") != self.step:
                self.evaluate()
        self.save()
        stopped_by = "time" if out_of_time and self.step < last_step() else None
        summary = self._summary(time.perf_counter() - started, stopped_by)
        if stopped_by and self.rank == 0:
            print(f"stopped by the time limit at step {self.step} of {last_step()}; "
                  "--resume continues it")
        return summary

    def _replan(self, budget: StepBudget, stage: _Stage, elapsed: float) -> bool:
        """Re-plan the step counts from this stage on (every process takes rank 0's plan);
        whether they changed."""
        counts = budget.plan(stage.name, self.step, stage.first_step + stage.steps,
                             {s.name: s.steps for s in self.stages}, elapsed)
        if self.distributed:
            shared = [counts]
            dist.broadcast_object_list(shared, src=0)
            counts = shared[0]
        keys = {"simulated": "pretrain_steps", "video": "steps", "recurrent": "recurrent_steps"}
        changed = False
        for name, count in counts.items():
            if getattr(self.config.train, keys[name]) != count:
                setattr(self.config.train, keys[name], count)
                changed = True
        return changed

    def snapshot(self) -> Path | None:
        """Keep the current weights in ``snapshots/s<seconds>.pt`` (rank 0)."""
        self._sync_buffers()
        if self.rank != 0:
            return None
        path = self.out_dir / "snapshots" / f"s{int(round(self.seconds)):05d}.pt"
        return save_checkpoint(path, {"model": self.model.state_dict(),
                                      "config": self.config.to_dict(), "step": self.step,
                                      "seconds": self.seconds})

    def _should_stop(self, started: float, max_seconds: float | None,
                     signals: _SignalFlag) -> tuple[bool, int | None]:
        """Whether the wall-time cap has passed (rank 0's clock) and the signal that asked to
        stop (any process's), the same answers in every process."""
        late = max_seconds is not None and time.perf_counter() - started >= max_seconds
        received = signals.received or 0
        if self.distributed:
            flags = torch.tensor([float(late and self.rank == 0), float(received)],
                                 device=self.device)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
            late, received = bool(flags[0].item()), int(flags[1].item())
        return late, received or None

    def _wrap(self):
        if not self.distributed:
            return self.model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(self.model, device_ids=ids)

    def _log(self, stage: str, losses: list[float]) -> None:
        if self.rank != 0 or not losses:
            return
        _append_csv(self.out_dir / "log.csv", ["step", "stage", "loss", "lr", "seconds"],
                    [self.step, stage, f"{np.mean(losses):.6f}",
                     f"{self.scheduler.get_last_lr()[0]:.3e}", f"{self.seconds:.1f}"])

    def evaluate(self) -> dict[str, float] | None:
        """Segment and score the validation videos (rank 0); appends to ``eval.csv``."""
        if self.rank == 0:
            from gcseg.evaluation import evaluate
            from gcseg.inference import VideoSegmenter, segment_dataset

            data = self.config.data
            dataset = DavisDataset(data.root, data.year, data.val_split, data.resolution)
            names = dataset.sequences[: self.config.train.eval_videos or None]
            dataset = DavisDataset(data.root, data.year, data.val_split, data.resolution,
                                   sequences=names)
            segmenter = VideoSegmenter.from_config(self.model, self.config,
                                                   self.device)
            results = self.out_dir / "val_results"
            segment_dataset(segmenter, dataset, results, progress=False)
            scores = evaluate(data.root, results, split=data.val_split, year=data.year,
                              resolution=data.resolution, sequences=names, progress=False)
            stats = scores.global_stats
            self.metrics = {"step": self.step, "J&F": stats["J&F-Mean"],
                            "J": stats["J-Mean"], "F": stats["F-Mean"]}
            _append_csv(self.out_dir / "eval.csv", ["step", "J&F", "J", "F"],
                        [self.step] + [f"{stats[k]:.4f}" for k in
                                       ("J&F-Mean", "J-Mean", "F-Mean")])
            self.model.train()
        if self.distributed:
            dist.barrier()
        return self.metrics or None

    def _summary(self, seconds: float, stopped_by: str | None = None) -> dict:
        digest = weights_digest(self.model)
        summary = {"step": self.step, "total_steps": self.total_steps, "metrics": self.metrics,
                   "seconds": seconds, "training_seconds": self.seconds,
                   "weights_sha256": digest, "world_size": self.world,
                   **provenance(self.device)}
        if stopped_by:
            summary["stopped_by"] = stopped_by
        if self.distributed:
            digests: list[str] = [""] * self.world
            dist.all_gather_object(digests, digest)
            summary["replicas_identical"] = len(set(digests)) == 1
        if self.rank == 0:
            write_json(self.out_dir / "summary.json", summary)
        return summary


def _ignore_sigint(worker_id: int) -> None:
    """Data-loading workers leave Ctrl-C to the training process: it finishes its step and
    saves, which it could not do with its workers gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _listing(items: list[str], limit: int = 5) -> str:
    """The first ``limit`` items, then how many more."""
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer (bitwise identical weights ⇔ same digest)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _next_multiple(value: float, every: float) -> float:
    """The first multiple of ``every`` above ``value``."""
    return (math.floor(value / every) + 1) * every


def _schedule(kind: str, total: Callable[[], int]):
    """The learning-rate factor of a step; ``total()`` is read at each step (a
    :class:`StepBudget` may re-plan it)."""
    if kind == "constant":
        return lambda step: 1.0
    if kind == "poly":
        return lambda step: max(0.0, 1.0 - step / max(1, total())) ** 0.9
    if kind == "cosine":
        return lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total())
                                                  / max(1, total())))
    raise ValueError(f"unknown schedule {kind!r} (constant, poly, cosine)")


def _append_csv(path: Path, header: list[str], row: list) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(header)
        writer.writerow(row)


def _truncate_csv(path: Path, step: int) -> None:
    """Drop logged rows after ``step`` (written by a run that went on past its checkpoint)."""
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [row for row in rows[1:] if int(row[0]) <= step]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(kept)


def train(config: GCSegConfig, out_dir: str | os.PathLike, resume: bool = False,
          device: str | None = None, progress: bool = True,
          stop_after: int | None = None, max_seconds: float | None = None,
          snapshot_every: float | None = None, budget: StepBudget | None = None) -> dict:
    """Train ``config`` into ``out_dir`` (see the module docstring); returns the summary.

    A new run (not ``resume``) refuses a folder holding an earlier run's files
    (:func:`check_run_folder`); SIGINT/SIGTERM raise :class:`TrainingInterrupted` after saving
    the checkpoint."""
    if int(os.environ.get("RANK", "0")) == 0:
        check_run_folder(out_dir, config=None if resume else config)
    trainer = Trainer(config, out_dir, device=device, progress=progress)
    if resume:
        trainer.resume()
    return trainer.run(stop_after=stop_after, max_seconds=max_seconds,
                       snapshot_every=snapshot_every, budget=budget)


def check_run_folder(out_dir: str | os.PathLike, config: GCSegConfig | None = None,
                     option: str = "--out", resumable: bool = True) -> Path:
    """Check that a run can write into ``out_dir``; returns it as a path.

    ``out_dir`` (and the nearest of its parents that exists) must be a folder.  With ``config``
    (a new run), the folder must hold none of an earlier run's files (:data:`RUN_FILES`; a
    ``config.yaml`` only when it is this config): a new run would append to its ``log.csv`` and
    replace its checkpoint.  :class:`FileExistsError` otherwise, naming what is there, the
    command-line ``option`` that chose the folder and, when the command can resume
    (``resumable``) and there is a checkpoint, ``--resume``."""
    out_dir = Path(out_dir)
    for folder in (out_dir, *out_dir.parents):
        if folder.exists() or folder.is_symlink():
            if folder == out_dir and not folder.is_dir():
                raise FileExistsError(f"{out_dir}: exists and is a file, not a folder; "
                                      f"choose another {option}")
            if not folder.is_dir():
                raise FileExistsError(f"{out_dir}: the folder cannot be made: {folder} is "
                                      f"a file; choose another {option}")
            break
    if config is None or not out_dir.is_dir():
        return out_dir
    earlier = [name for name in RUN_FILES if (out_dir / name).exists()]
    saved = out_dir / "config.yaml"
    if saved.is_file():
        try:
            same = not config_differences(GCSegConfig.from_yaml(saved), config)
        except (ConfigError, OSError):
            same = False
        if not same:
            earlier.append("config.yaml of another config")
    if earlier:
        resume = resumable and (out_dir / "checkpoint.pt").is_file()
        raise FileExistsError(
            f"{out_dir}: an earlier run exists there ({', '.join(earlier)}): "
            + (f"pass --resume to continue it, or choose another {option}" if resume else
               f"choose another {option} (or remove those files)"))
    return out_dir


# --------------------------------------------------------------------------- logs


def read_log(run_dir: str | os.PathLike) -> tuple[list[dict], list[dict]]:
    """The rows of ``log.csv`` and ``eval.csv`` of a run (empty lists when absent)."""
    run_dir = Path(run_dir)
    tables = []
    for name in ("log.csv", "eval.csv"):
        path = run_dir / name
        tables.append(list(csv.DictReader(path.open())) if path.is_file() else [])
    return tables[0], tables[1]


def plot_training(run_dir: str | os.PathLike):
    """A figure of a run: the loss per logged step (stages shaded) and validation J&F."""
    import matplotlib.pyplot as plt

    losses, evals = read_log(run_dir)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    for stage in STAGES:
        rows = [row for row in losses if row["stage"] == stage]
        if rows:
            left.plot([int(r["step"]) for r in rows], [float(r["loss"]) for r in rows],
                      label=stage, marker="o" if len(rows) == 1 else None)
    left.set(xlabel="step", ylabel="loss (eq. 3)", title="training loss")
    if losses:
        left.legend()
    if evals:
        steps = [int(r["step"]) for r in evals]
        for key in ("J&F", "J", "F"):
            right.plot(steps, [float(r[key]) for r in evals], marker="o", label=key)
        right.legend()
    right.set(xlabel="step", ylabel="score", title="validation", ylim=(0, 1))
    figure.tight_layout()
    return figure

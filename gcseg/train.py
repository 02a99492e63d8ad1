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
logged step), ``eval.csv`` (validation J&F per evaluation), ``summary.json``.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from gcseg.checkpoint import load_checkpoint, save_checkpoint
from gcseg.config import GCSegConfig
from gcseg.data.davis import DavisDataset
from gcseg.data.pairs import SimulatedPairs, VideoClips, VideoPairs
from gcseg.data.still_images import (
    MSRA10K,
    ConcatStills,
    DavisStills,
    PascalVOCObjects,
    StillImageSource,
)
from gcseg.model import GCSeg, gcseg_loss
from gcseg.runtime import pick_device, provenance, seed_everything, write_json

__all__ = ["STAGES", "Trainer", "train", "still_sources", "plot_training", "read_log"]

STAGES = ("simulated", "video", "recurrent")


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


class Trainer:
    """Runs the stages of ``config`` into ``out_dir``; see the module docstring."""

    def __init__(self, config: GCSegConfig, out_dir: str | os.PathLike,
                 device: str | torch.device | None = None, progress: bool = True) -> None:
        self.config = config
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
        schedule = _schedule(train.schedule, self.total_steps)
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
            raise ValueError(f"{path}: its model config differs from this run's in "
                             f"{', '.join('model.' + key for key in changed)}; "
                             "train.init_from needs the same network")
        for key in changed:
            if self.rank == 0:
                print(f"init_from {path}: model.{key} was {theirs.get(key)!r}, now {ours[key]!r}")
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
        payload = load_checkpoint(self.checkpoint_path, map_location=self.device)
        saved = payload["config"]
        # Settings added since the checkpoint was written take their defaults.
        saved = GCSegConfig.from_dict({**saved, "preset": saved.get("name")},
                                      source=str(self.checkpoint_path)).to_dict()
        if saved != self.config.to_dict():
            raise ValueError(f"{self.checkpoint_path}: written with another config; "
                             "resume with the same config or start a new out_dir")
        self._apply_freezing(int(payload["step"]))
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["scheduler"])
        self.scaler.load_state_dict(payload["scaler"])
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
        loader = DataLoader(_Window(self._dataset(stage), indices), batch_size=batch,
                            shuffle=False, num_workers=self.config.train.num_workers,
                            pin_memory=self.device.type == "cuda")
        for sample in loader:
            yield {key: value.to(self.device, non_blocking=True) for key, value in sample.items()}

    # ----------------------------------------------------------------------- steps

    def _loss(self, model, stage: str, batch: dict) -> torch.Tensor:
        reduction = self.config.train.loss_reduction
        if stage != "recurrent":
            out = model(batch["target_image"], batch["target_prev_mask"], batch["ref_image"],
                        batch["ref_mask"])
            return gcseg_loss(out, batch["target_mask"], batch["ref_mask"], reduction)
        images, masks = batch["images"], batch["masks"]  # (B, L, 3, H, W), (B, L, 1, H, W)
        ref_image, ref_mask, prev = images[:, 0], masks[:, 0], masks[:, 0]
        total = 0.0
        for k in range(1, images.shape[1]):
            out = model(images[:, k], prev, ref_image, ref_mask)
            total = total + gcseg_loss(out, masks[:, k], ref_mask, reduction)
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
            snapshot_every: float | None = None) -> dict:
        """Train to the end (or until global step ``stop_after``); returns the summary.

        ``max_seconds`` caps the wall time: the run stops after the step during which the time
        ran out and saves its checkpoint, so ``--resume`` continues it; the summary's
        ``stopped_by`` says ``"time"`` then.  ``--stop-after`` at the reached step repeats
        such a run with the same sequence of batches.

        ``snapshot_every`` (seconds of training) keeps the weights whenever that much more
        wall time has passed, in ``snapshots/s<seconds>.pt`` (and at the end): scored later,
        they give the validation J&F against wall time without slowing the run down."""
        if self.rank == 0:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.config.to_yaml(self.out_dir / "config.yaml")
        train = self.config.train
        end = self.total_steps if stop_after is None else min(stop_after, self.total_steps)
        started = time.perf_counter()
        seconds_before = self.seconds
        next_snapshot = _next_multiple(self.seconds, snapshot_every) if snapshot_every \
            else math.inf
        out_of_time = False
        bar = tqdm(total=end, initial=self.step, desc="train", disable=not self.progress
                   or self.rank != 0)
        for stage in self.stages:
            stage_end = stage.first_step + stage.steps
            if self.step >= stage_end or self.step >= end or out_of_time:
                continue
            self._apply_freezing(self.step)
            model = self._wrap()
            losses = []
            for batch in self._batches(stage, self.step - stage.first_step):
                losses.append(self._train_step(model, stage.name, batch))
                self.step += 1
                self.seconds = seconds_before + time.perf_counter() - started
                bar.update(1)
                if self.seconds >= next_snapshot:
                    self.snapshot()
                    next_snapshot = _next_multiple(self.seconds, snapshot_every)
                out_of_time = self._out_of_time(started, max_seconds)
                if (self.step % train.log_every == 0 or self.step in (stage_end, end)
                        or out_of_time):
                    self._log(stage.name, losses)
                    bar.set_postfix(stage=stage.name, loss=f"{np.mean(losses):.3f}")
                    losses = []
                if train.eval_every and self.step % train.eval_every == 0:
                    self.evaluate()
                if self.step % train.checkpoint_every == 0:
                    self.save()
                if self.step >= end or out_of_time:
                    break
        bar.close()
        if snapshot_every:
            self.snapshot()
        if self.step >= self.total_steps and train.eval_every:
            if not self.metrics or self.metrics.get("step") != self.step:
                self.evaluate()
        self.save()
        stopped_by = "time" if out_of_time and self.step < end else None
        summary = self._summary(time.perf_counter() - started, stopped_by)
        if stopped_by and self.rank == 0:
            print(f"stopped by the time limit at step {self.step} of {end}; "
                  "--resume continues it")
        return summary

    def snapshot(self) -> Path | None:
        """Keep the current weights in ``snapshots/s<seconds>.pt`` (rank 0)."""
        self._sync_buffers()
        if self.rank != 0:
            return None
        path = self.out_dir / "snapshots" / f"s{int(round(self.seconds)):05d}.pt"
        return save_checkpoint(path, {"model": self.model.state_dict(),
                                      "config": self.config.to_dict(), "step": self.step,
                                      "seconds": self.seconds})

    def _out_of_time(self, started: float, max_seconds: float | None) -> bool:
        """Whether the wall-time cap has passed; every process takes rank 0's answer."""
        if max_seconds is None:
            return False
        late = time.perf_counter() - started >= max_seconds
        if self.distributed:
            flag = torch.tensor([float(late)], device=self.device)
            dist.broadcast(flag, src=0)
            late = bool(flag.item())
        return late

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
            segmenter = VideoSegmenter.from_config(self.model, self.config.inference,
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


def _schedule(kind: str, total: int):
    if kind == "constant":
        return lambda step: 1.0
    if kind == "poly":
        return lambda step: max(0.0, 1.0 - step / max(1, total)) ** 0.9
    if kind == "cosine":
        return lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(1, total)))
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
          snapshot_every: float | None = None) -> dict:
    """Train ``config`` into ``out_dir`` (see the module docstring); returns the summary."""
    trainer = Trainer(config, out_dir, device=device, progress=progress)
    if resume:
        trainer.resume()
    elif trainer.checkpoint_path.is_file() and trainer.rank == 0:
        raise FileExistsError(f"{trainer.checkpoint_path} exists: pass --resume to continue it "
                              "or choose another --out")
    return trainer.run(stop_after=stop_after, max_seconds=max_seconds,
                       snapshot_every=snapshot_every)


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

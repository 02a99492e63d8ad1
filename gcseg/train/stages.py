"""The three training stages of the paper (Section IV-A): their steps, their data, their loss.

1. ``simulated`` -- pairs simulated from still images (Way-1 / Way-2, Section III-A-1,
   :mod:`gcseg.data.simulate`) from the sources of ``data.still_sources``.
2. ``video`` -- (reference, target) pairs at random intervals from the training videos.
3. ``recurrent`` -- short clips; the model's own (soft) prediction of frame t-1 is the previous
   mask of frame t, gradients flow through the whole clip.

The samples of step ``s`` are a pure function of ``(seed, stage, s, rank)``
(:mod:`gcseg.data.pairs`): :func:`stage_batches` starts at any step, which is what makes a
resumed run exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset

from gcseg.config import GCSegConfig, TrainConfig
from gcseg.data import DavisDataset
from gcseg.data.pairs import Augmentation, SimulatedPairs, VideoClips, VideoPairs
from gcseg.data.still_images import (
    MSRA10K,
    ConcatStills,
    DavisStills,
    PascalVOCObjects,
    StillImageSource,
)
from gcseg.data.transforms import loss_target
from gcseg.model import gcseg_loss
from gcseg.train.interrupt import ignore_sigint

__all__ = ["STAGES", "STEP_KEYS", "Stage", "plan_stages", "stage_batches", "stage_counts",
           "stage_dataset", "stage_loss", "still_sources"]

STAGES = ("simulated", "video", "recurrent")

STEP_KEYS = {"simulated": "pretrain_steps", "video": "steps", "recurrent": "recurrent_steps"}
"""The ``train`` setting that holds each stage's step count."""


@dataclass
class Stage:
    """One stage of a run: ``steps`` global steps from ``first_step``."""

    name: str
    steps: int
    first_step: int

    @property
    def end(self) -> int:
        """The global step at which the stage is over."""
        return self.first_step + self.steps


def stage_counts(train: TrainConfig) -> dict[str, int]:
    """``{stage: steps}`` of every stage (0: skipped; stage 1 is off without
    ``train.simulated_pretraining``)."""
    return {
        "simulated": train.pretrain_steps if train.simulated_pretraining else 0,
        "video": train.steps,
        "recurrent": train.recurrent_steps,
    }


def plan_stages(train: TrainConfig) -> list[Stage]:
    """The stages that run, in order, each with its first global step."""
    stages, first = [], 0
    counts = stage_counts(train)
    for name in STAGES:
        if counts[name]:
            stages.append(Stage(name, counts[name], first))
            first += counts[name]
    return stages


# --------------------------------------------------------------------------- data


def still_sources(config: GCSegConfig) -> StillImageSource:
    """The still-image sources of stage 1 named by ``config.data.still_sources``:
    ``pascal-voc:<VOC2012>``, ``msra10k:<Imgs folder>`` and, offline, ``davis-stills`` (the
    training split's frames used as still images)."""
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


def stage_dataset(config: GCSegConfig, stage: Stage, world: int) -> Dataset:
    """The seeded samples of ``stage`` for ``world`` processes."""
    size = tuple(config.data.frame_size)
    seed = config.train.seed * 1000 + STAGES.index(stage.name)
    per_epoch = stage.steps * world * config.train.batch_size
    if stage.name == "simulated":
        return SimulatedPairs(still_sources(config), size, per_epoch,
                              config.train.zero_prev_mask_prob, seed=seed)
    videos = DavisDataset(config.data.root, config.data.year, config.data.split,
                          config.data.resolution)
    augment = Augmentation(crop_scale=tuple(config.data.crop_scale))
    if stage.name == "video":
        return VideoPairs(videos, size, per_epoch, config.train.zero_prev_mask_prob,
                          augment=augment, seed=seed, max_interval=config.train.max_interval)
    return VideoClips(videos, size, config.train.recurrent_clip_len,
                      samples_per_epoch=per_epoch, augment=augment, seed=seed)


def stage_batches(config: GCSegConfig, stage: Stage, start: int, rank: int, world: int,
                  device: torch.device) -> Iterator[dict]:
    """Process ``rank``'s batches for the in-stage steps ``start..``, on ``device``: a
    function of the step, whatever came before."""
    batch = config.train.batch_size
    indices = [((step * world + rank) * batch) + i
               for step in range(start, stage.steps) for i in range(batch)]
    workers = config.train.num_workers
    loader = DataLoader(_Window(stage_dataset(config, stage, world), indices), batch_size=batch,
                        shuffle=False, num_workers=workers,
                        pin_memory=device.type == "cuda",
                        worker_init_fn=ignore_sigint if workers else None)
    for sample in loader:
        yield {key: value.to(device, non_blocking=True) for key, value in sample.items()}


# --------------------------------------------------------------------------- loss


def stage_loss(model, stage: str, batch: dict, train: TrainConfig) -> torch.Tensor:
    """The loss of eq. 3 (:func:`gcseg.model.gcseg_loss`) on one batch of ``stage``.

    A pair is one forward pass; a clip of L frames is L - 1 passes, each given the model's own
    soft prediction of the frame before (detached with ``train.recurrent_detach``), and the
    mean of their losses."""
    reduction = train.loss_reduction
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
        if train.recurrent_detach:
            prev = prev.detach()  # no gradient back through the earlier frames
    return total / (images.shape[1] - 1)

"""Training samples as torch ``Dataset``s: frame pairs and short clips (paper III-A-1, IV-A).

Three stages of training, three datasets, one sample format:

- :class:`SimulatedPairs` -- stage 1, pairs simulated from still images (Way-1 / Way-2).
- :class:`VideoPairs` -- stage 2, a reference and a target frame of one video at a random
  interval (short, middle or long), one object at a time.
- :class:`VideoClips` -- stage 3, a short clip for recurrent fine-tuning: the model's own
  prediction of frame t-1 is fed to frame t by the trainer.

A pair sample is a dict of float tensors::

    ref_image        (3, H, W) in [0, 1]     the reference frame I_{t-n}
    ref_mask         (1, H, W) in {0, 1}     its mask M_{t-n} (ground truth)
    target_image     (3, H, W)               the frame to segment I_t
    target_prev_mask (1, H, W)               M_{t-1}: ground truth of frame t-1, perturbed,
                                             zeroed with probability ``prev_zero_prob`` (0.5,
                                             paper III-B: the unreliable-previous-mask case)
    target_mask      (1, H, W)               ground truth GT_t

Randomness comes from a generator seeded by ``(seed, epoch, index)``, so a sample is the same
whatever the number of data-loader workers; call :meth:`set_epoch` each epoch for new draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from gcseg.data.davis import DavisDataset, Sequence
from gcseg.data.simulate import simulate_pair
from gcseg.data.still_images import StillImageSource
from gcseg.data.transforms import (
    crop_resize,
    perturb_mask,
    random_crop_box,
    to_tensor_image,
    to_tensor_mask,
    to_tensor_void,
)

__all__ = [
    "INTERVALS",
    "NO_AUGMENTATION",
    "Augmentation",
    "SimulatedPairs",
    "VideoClips",
    "VideoPairs",
    "sample_interval",
]

INTERVALS = ("short", "middle", "long")
"""The paper's three kinds of reference: the last frames, a few frames back, far back."""


@dataclass(frozen=True)
class Augmentation:
    """The random crop and horizontal flip shared by every frame of one video sample.

    The crop box covers ``crop_scale`` of the frame's area (drawn uniformly) at the output's
    aspect ratio; the flip happens with probability 1/2.  ``enabled=False`` shows whole frames.
    """

    crop_scale: tuple[float, float] = (0.8, 1.0)
    enabled: bool = True


NO_AUGMENTATION = Augmentation(enabled=False)
"""Whole frames, never flipped: for validation samples and figures."""


class _Seeded(Dataset):
    """Per-sample generators from ``(seed, epoch, index)``."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])


def _previous_mask(mask: np.ndarray, rng: np.random.Generator, zero_prob: float) -> np.ndarray:
    if rng.random() < zero_prob:
        return np.zeros_like(mask, dtype=np.uint8)
    return perturb_mask(mask, rng)


def sample_interval(
    length: int, rng: np.random.Generator, max_interval: int | None = None
) -> tuple[int, int, str]:
    """``(ref, target, kind)`` frame indices with ``ref < target`` at a random kind of interval.

    short: 1–2 frames; middle: 3 frames to a third of the video; long: more than that, or the
    first frame (half of the long draws, whatever ``max_interval``, as at inference frame 0 is
    always a reference).  Kinds the video is too short for fall back to the longest possible;
    ``max_interval`` caps the other draws.
    """
    if length < 2:
        raise ValueError("a pair needs a video of at least 2 frames")
    kind = INTERVALS[int(rng.integers(0, 3))]
    third = max(3, length // 3)
    bounds = {"short": (1, 2), "middle": (3, third), "long": (third + 1, length - 1)}
    low, high = bounds[kind]
    high = min(high, length - 1, max_interval or length)
    low = min(low, high)
    interval = int(rng.integers(low, high + 1))
    target = int(rng.integers(interval, length))
    ref = 0 if kind == "long" and rng.random() < 0.5 else target - interval
    return ref, target, kind


class SimulatedPairs(_Seeded):
    """Stage 1: ``samples_per_epoch`` pairs simulated from a still-image source."""

    def __init__(
        self,
        source: StillImageSource,
        out_size: tuple[int, int],
        samples_per_epoch: int | None = None,
        prev_zero_prob: float = 0.5,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        if len(source) == 0:
            raise ValueError(f"{source.name}: no still images to simulate videos from")
        self.source = source
        self.out_size = out_size
        self.samples_per_epoch = samples_per_epoch or len(source)
        self.prev_zero_prob = prev_zero_prob

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self.rng(index)
        item = int(rng.integers(0, len(self.source)))
        pair = simulate_pair(self.source, item, self.out_size, rng)
        prev = _previous_mask(pair.target_mask, rng, self.prev_zero_prob)
        return {
            "ref_image": to_tensor_image(pair.ref_image),
            "ref_mask": to_tensor_mask(pair.ref_mask),
            "target_image": to_tensor_image(pair.target_image),
            "target_prev_mask": to_tensor_mask(prev),
            "target_mask": to_tensor_mask(pair.target_mask),
        }


class _VideoSamples(_Seeded):
    """Shared by pairs and clips: pick a video and an object, crop/flip frames consistently."""

    def __init__(
        self,
        dataset: DavisDataset,
        out_size: tuple[int, int],
        samples_per_epoch: int | None,
        augment: Augmentation,
        seed: int,
    ) -> None:
        super().__init__(seed)
        # Frames are sampled by index, so every frame needs its mask: sparse ground truth
        # (YouTube-Objects) and first-frame-only sequences are left out.
        self.sequences: list[Sequence] = [s for s in dataset if s.fully_annotated and len(s) > 1]
        if not self.sequences:
            raise ValueError(f"{dataset.split_file}: no fully annotated videos to train on")
        self.out_size = out_size
        self.samples_per_epoch = samples_per_epoch or len(self.sequences)
        self.augment = augment

    def __len__(self) -> int:
        return self.samples_per_epoch

    def _frames(self, sequence: Sequence, indices: list[int], rng: np.random.Generator):
        """Images and id masks of ``indices``, with one crop and flip shared by all."""
        height, width = self.out_size
        size = sequence.size
        if self.augment.enabled:
            scale = (float(self.augment.crop_scale[0]), float(self.augment.crop_scale[1]))
            box = random_crop_box(size, rng, scale=scale, aspect=width / height)
            flip = rng.random() < 0.5
        else:
            box, flip = (0, 0, size[1], size[0]), False
        images, masks = [], []
        for index in indices:
            image = crop_resize(sequence.frame(index), box, self.out_size, is_mask=False)
            mask = crop_resize(sequence.annotation(index), box, self.out_size, is_mask=True)
            if flip:
                image, mask = image[:, ::-1], mask[:, ::-1]
            images.append(image)
            masks.append(mask)
        return images, masks

    @staticmethod
    def _pick_object(mask: np.ndarray, sequence: Sequence, rng: np.random.Generator) -> int:
        """An object visible in ``mask`` (falls back to any object of the sequence)."""
        visible = [k for k in sequence.object_ids if (mask == k).any()]
        choices = visible or sequence.object_ids
        return int(choices[int(rng.integers(0, len(choices)))])


class VideoPairs(_VideoSamples):
    """Stage 2: a reference and a target frame of one video, one object as a binary problem."""

    def __init__(
        self,
        dataset: DavisDataset,
        out_size: tuple[int, int],
        samples_per_epoch: int | None = None,
        prev_zero_prob: float = 0.5,
        augment: Augmentation = Augmentation(),
        seed: int = 0,
        max_interval: int | None = None,
    ) -> None:
        super().__init__(dataset, out_size, samples_per_epoch, augment, seed)
        self.prev_zero_prob = prev_zero_prob
        self.max_interval = max_interval

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self.rng(index)
        sequence = self.sequences[int(rng.integers(0, len(self.sequences)))]
        ref, target, _ = sample_interval(len(sequence.annotation_paths), rng, self.max_interval)
        images, masks = self._frames(sequence, [ref, target - 1, target], rng)
        object_id = self._pick_object(masks[0], sequence, rng)
        prev = _previous_mask(masks[1] == object_id, rng, self.prev_zero_prob)
        return {
            "ref_image": to_tensor_image(images[0]),
            "ref_mask": to_tensor_mask(masks[0] == object_id),
            "ref_void": to_tensor_void(masks[0]),
            "target_image": to_tensor_image(images[2]),
            "target_prev_mask": to_tensor_mask(prev),
            "target_mask": to_tensor_mask(masks[2] == object_id),
            "target_void": to_tensor_void(masks[2]),
        }


class VideoClips(_VideoSamples):
    """Stage 3: ``clip_length`` frames at a random stride, one object.

    A sample holds ``images (L, 3, H, W)`` and ``masks (L, 1, H, W)``; frame 0 of the clip
    serves as the annotated reference and the trainer feeds its own predictions forward.
    """

    def __init__(
        self,
        dataset: DavisDataset,
        out_size: tuple[int, int],
        clip_length: int = 4,
        max_stride: int = 3,
        samples_per_epoch: int | None = None,
        augment: Augmentation = Augmentation(),
        seed: int = 0,
    ) -> None:
        super().__init__(dataset, out_size, samples_per_epoch, augment, seed)
        if clip_length < 2:
            raise ValueError("a clip needs at least 2 frames")
        self.clip_length = clip_length
        self.max_stride = max_stride

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self.rng(index)
        sequence = self.sequences[int(rng.integers(0, len(self.sequences)))]
        length = len(sequence.annotation_paths)
        stride = int(rng.integers(1, self.max_stride + 1))
        stride = max(1, min(stride, (length - 1) // (self.clip_length - 1)))
        span = stride * (self.clip_length - 1)
        start = int(rng.integers(0, max(1, length - span)))
        indices = [min(start + stride * k, length - 1) for k in range(self.clip_length)]
        images, masks = self._frames(sequence, indices, rng)
        object_id = self._pick_object(masks[0], sequence, rng)
        return {
            "images": torch.stack([to_tensor_image(image) for image in images]),
            "masks": torch.stack([to_tensor_mask(mask == object_id) for mask in masks]),
            "voids": torch.stack([to_tensor_void(mask) for mask in masks]),
        }

"""Measuring one benchmark case, and the flat-memory check.

:func:`measure_case` times the real :class:`~gcseg.inference.VideoSegmenter` on a
:class:`TimingVideo` held in memory (random frames, K rectangles in the first mask; random
weights: the speed does not depend on them):

- **seconds per frame**: only frames late enough that the n references exist are timed (after
  ``n + warmup`` frames); they are ``repeats`` blocks of ``frames`` frames and the figure is the
  median of the blocks' means. Each frame's time is the engine's own record (network, merge and
  summary; not reading the frame). The Judgment Module runs with τ = -1: it never rejects, so no
  frame pays a second backbone pass (a trained model on real videos rarely does; its count is
  reported). Frames per second = 1 / seconds per frame. On CUDA the timed frames are also
  measured with CUDA events (``seconds_per_frame_events``).
- **backbone alone**: :meth:`VideoSegmenter.encode` -- the feature extractor as the engine runs
  it (same layout, precision, compilation) -- on one frame with one mask, and on one frame with
  K masks (the objects' batch), median of ``max(3, repeats)`` calls after a warm-up call.
  ``ratio`` = seconds per frame / backbone alone for the same K.
- **peak memory** while the video is segmented (:class:`~gcseg.speed.memory.MemoryProbe`):
  ``peak_growth_mb`` is the peak minus the memory in use at the start of the case: activations
  and workspaces (the weights were loaded before). Where the peak cannot be reset, the growth is
  a lower bound.

:func:`memory_check` streams one long video frame by frame and reads the engine's reference
bank (:class:`~gcseg.inference.ReferenceBank`: numbers and bytes) and the memory in use after
N and after 2N frames (on the CPU after glibc's ``malloc_trim``: the resident pages of freed
blocks otherwise grow with the frames streamed, by about 0.5 MB per frame, though nothing
is held). The bank grows by O(C) numbers per frame (the summaries of the frames
that may be drawn as references); nothing else should.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gcseg.config import get_preset
from gcseg.data.transforms import to_tensor_image, to_tensor_mask
from gcseg.inference import InferenceOptions, SpeedOptions, VideoSegmenter
from gcseg.model import GCSeg
from gcseg.speed.cases import BenchCase, BenchSettings
from gcseg.speed.memory import MemoryProbe
from gcseg.speed.rgmp import RGMPPeer, rgmp_seconds_per_frame
from gcseg.speed.timing import median_seconds, synchronize

__all__ = ["TimingVideo", "build_model", "measure_case", "measure_rgmp", "memory_check"]


class TimingVideo(Sequence):
    """A video in memory for timing: ``length`` frames of ``size`` (H, W) cycling through
    ``pool`` seeded random frames (the content does not change the time, and a long video
    costs no memory), and ``first_mask`` with ``objects`` rectangles side by side."""

    def __init__(self, size: tuple[int, int], length: int, objects: int = 1, seed: int = 0,
                 pool: int = 4) -> None:
        height, width = size
        if objects < 1 or objects > 255:
            raise ValueError(f"objects must be in 1..255, got {objects}")
        rng = np.random.default_rng(seed)
        self.pool = rng.integers(0, 256, (pool, height, width, 3), dtype=np.uint8)
        self.length = length
        self.objects = objects
        self.first_mask = np.zeros((height, width), dtype=np.uint8)
        slot = width / objects
        for k in range(objects):  # a rectangle in the middle of each of K vertical slots
            left, right = int(k * slot + 0.2 * slot), max(int(k * slot + 0.8 * slot),
                                                           int(k * slot + 0.2 * slot) + 1)
            self.first_mask[height // 4: max(3 * height // 4, height // 4 + 1), left:right] = k + 1

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> np.ndarray:
        if not -self.length <= index < self.length:
            raise IndexError(index)
        return self.pool[index % len(self.pool)]

    def first_masks(self) -> torch.Tensor:
        """``(K, 1, H, W)`` float: the objects' masks of frame 0, one row per object."""
        return torch.stack([to_tensor_mask(self.first_mask == k + 1)
                            for k in range(self.objects)])


def build_model(variant: str, backbone: str, preset: str = "paper", seed: int = 0) -> GCSeg:
    """A randomly initialised GCSeg: ``preset``'s heads with ``backbone``, eval mode."""
    config = dataclasses.replace(get_preset(preset).model, variant=variant, backbone=backbone,
                                 weights=None)
    torch.manual_seed(seed)
    return GCSeg(config).eval()


def _segmenter(model: GCSeg, refs: int | None, settings: BenchSettings) -> VideoSegmenter:
    amp = settings.dtype != "float32"
    if amp and torch.device(settings.device).type != "cuda":
        raise ValueError(f"dtype {settings.dtype} needs CUDA (the engine runs float32 on the CPU)")
    if settings.compile:  # a fresh start per case: no case runs into the recompilation limit
        torch.compiler.reset()
    speed = SpeedOptions(amp=amp, amp_dtype=settings.dtype if amp else "float16",
                         channels_last=settings.channels_last, compile=settings.compile)
    options = InferenceOptions(num_refs=refs or 0, adaptive_search=True, threshold=-1.0,
                               seed=settings.seed, speed=speed,
                               reference_fusion=settings.reference_fusion)
    return VideoSegmenter(model, options, settings.device)


def _stream_records(segmenter: VideoSegmenter, video: TimingVideo, warm: int,
                    device: torch.device) -> tuple[list, float | None]:
    """Segment ``video``: the frames' records, and on CUDA the seconds from the end of frame
    ``warm`` to the end of the video measured with CUDA events (``None`` elsewhere)."""
    records, events = [], None
    for frame in segmenter.stream(video, video.first_mask):
        records.append(frame.record)
        if frame.record.index == warm and device.type == "cuda":
            events = (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
            events[0].record(torch.cuda.current_stream(device))
    if events is None:
        return records, None
    events[1].record(torch.cuda.current_stream(device))
    events[1].synchronize()
    return records, events[0].elapsed_time(events[1]) / 1e3


def _backbone_seconds(segmenter: VideoSegmenter, video: TimingVideo, calls: int,
                      device: torch.device) -> tuple[float, float]:
    """Median seconds of the backbone alone on frame 0 with one mask, and with the K masks."""
    image = to_tensor_image(video[0])[None]  # (1, 3, H, W)
    masks = video.first_masks()  # (K, 1, H, W)
    one = median_seconds(lambda: segmenter.encode(image, masks[:1]), calls, 1, device)
    if video.objects == 1:
        return one, one
    return one, median_seconds(lambda: segmenter.encode(image, masks), calls, 1, device)


def measure_case(case: BenchCase, settings: BenchSettings) -> dict[str, Any]:
    """Time one case (see the module docstring); returns a JSON-ready row."""
    device = torch.device(settings.device)
    model = build_model(case.variant, case.backbone, settings.preset, settings.seed)
    segmenter = _segmenter(model, case.refs, settings)
    warm = max(case.refs or 0, 1) + settings.warmup  # frames before the clock starts
    timed = settings.frames * settings.repeats
    video = TimingVideo(case.size, 1 + warm + timed, case.objects, settings.seed)
    probe = MemoryProbe(device)
    probe.start()
    records, events_seconds = _stream_records(segmenter, video, warm, device)
    peak_mb, growth_mb = probe.peak_mb(), probe.peak_growth_mb()
    steady = records[warm + 1:]
    blocks = [float(np.mean([r.seconds for r in steady[i:i + settings.frames]]))
              for i in range(0, timed, settings.frames)]
    seconds = statistics.median(blocks)
    backbone_one, backbone_batch = _backbone_seconds(segmenter, video,
                                                     max(3, settings.repeats), device)
    row = {
        **dataclasses.asdict(case),
        "size": list(case.size),
        "seconds_per_frame": seconds,
        "frames_per_second": 1.0 / seconds,
        "seconds_per_frame_blocks": blocks,
        "backbone_seconds": backbone_one,
        "backbone_seconds_objects": backbone_batch,
        "ratio": seconds / backbone_batch,
        "references_per_frame": float(np.mean([len(set(r.references)) for r in steady])),
        "second_backbone_passes": int(sum(r.backbone_passes > 1 for r in steady)),
        "frames_timed": len(steady),
        "peak_memory_mb": peak_mb,
        "peak_growth_mb": growth_mb,
    }
    if events_seconds is not None:
        row["seconds_per_frame_events"] = events_seconds / len(steady)
    return row


def measure_rgmp(case: BenchCase, settings: BenchSettings) -> dict[str, Any]:
    """RGMP's network (:mod:`gcseg.speed.rgmp`) on the case's input: the same frame size,
    K objects, backbone, layout and precision, ``warmup`` + ``frames * repeats`` frames after
    the first; the median of the frames' seconds."""
    timed = settings.frames * settings.repeats
    video = TimingVideo(case.size, 2 + settings.warmup + timed, case.objects, settings.seed)
    torch.manual_seed(settings.seed)
    seconds, _ = rgmp_seconds_per_frame(
        RGMPPeer(case.backbone), list(video), video.first_mask, settings.device,
        warmup=1 + settings.warmup, channels_last=settings.channels_last, dtype=settings.dtype)
    return {"rgmp_seconds_per_frame": seconds, "rgmp_frames_timed": timed}


def memory_check(case: BenchCase, frames: int, settings: BenchSettings) -> dict[str, Any]:
    """Stream a ``1 + 2 * frames`` long video of ``case``; the reference cache and the memory
    in use (resident set size, or CUDA allocated) after ``frames`` and ``2 * frames`` frames.

    The cache holds O(K·C) numbers per frame and no feature map, so the memory between the two
    points should grow by the cache's growth only (a few kB per frame), not with the frame size
    (``labels`` are yielded and dropped: the stream keeps no output).
    """
    if frames < 1:
        raise ValueError("frames must be >= 1")
    device = torch.device(settings.device)
    model = build_model(case.variant, case.backbone, settings.preset, settings.seed)
    segmenter = _segmenter(model, case.refs, settings)
    video = TimingVideo(case.size, 1 + 2 * frames, case.objects, settings.seed)
    probe = MemoryProbe(device)
    points = {}
    for frame in segmenter.stream(video, video.first_mask):
        if frame.record.index in (frames, 2 * frames):
            synchronize(device)
            points[frame.record.index] = (probe.in_use_mb(), segmenter.bank.nbytes(),
                                          segmenter.bank.numel())
    (mem_1, bytes_1, numel_1), (mem_2, bytes_2, numel_2) = points[frames], points[2 * frames]
    per_frame_cache = (bytes_2 - bytes_1) / frames
    return {
        "case": case.label,
        "frames": [frames, 2 * frames],
        "memory_mb": [mem_1, mem_2],
        "memory_measure": ("torch.cuda.memory_allocated" if device.type == "cuda"
                           else "resident set size of the process after malloc_trim"),
        "cache_numel": [numel_1, numel_2],
        "cache_mb": [bytes_1 / 2**20, bytes_2 / 2**20],
        "cache_bytes_per_frame": per_frame_cache,
        "memory_growth_mb_per_1000_frames": (mem_2 - mem_1) / frames * 1000,
        "cache_growth_mb_per_1000_frames": per_frame_cache * 1000 / 2**20,
    }

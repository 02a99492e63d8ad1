"""Speed of the inference engine (the paper's Time(s) columns, Tables II-IV; issue 7).

GCSeg's title promises *fast* video object segmentation: 0.28 s per frame on DAVIS-2016 and
0.92 s on DAVIS-2017 (RGMP: 0.13 s). The floor for any method of this family is one backbone
pass per frame, so every figure here comes with the cost of the backbone alone on the same input.

What :func:`run_benchmark` (``python -m gcseg bench``, ``benchmarks/bench_inference.py``)
measures, for each :class:`BenchCase` (variant x backbone x frame size x objects K x references n):

- **seconds per frame**: the real :class:`~gcseg.inference.VideoSegmenter` on a synthetic video
  held in memory (random frames, K rectangles in the first mask; random weights: the speed does
  not depend on them). Only frames late enough that the n references exist are timed (after
  ``n + warmup`` frames); they are ``repeats`` blocks of ``frames`` frames and the figure is the
  median of the blocks' means. Each frame's time is the engine's own record (network, merge
  and summary; not reading the frame). The Judgment Module runs with τ = -1: it never rejects,
  so no frame pays a second backbone pass (a trained model on real videos rarely does; its count
  is reported). Frames per second = 1 / seconds per frame.
- **backbone alone**: :meth:`VideoSegmenter.encode` -- the feature extractor as the engine runs
  it (same layout, precision, compilation) -- on one frame with one mask, and on one frame with
  K masks (the objects' batch), median of ``max(3, repeats)`` calls after a warm-up call.
  ``ratio`` = seconds per frame / backbone alone for the same K.
- **peak memory** while the video is segmented: on CUDA ``torch.cuda.max_memory_allocated``
  (tensors, weights included; ``peak_growth_mb`` is the part above the allocation at the start);
  on the CPU the process's peak resident set size (Linux: ``VmHWM``, reset through
  ``/proc/self/clear_refs`` before each case; elsewhere ``getrusage``'s ``ru_maxrss``, which is
  never reset, so only a new peak of the process shows). ``peak_growth_mb`` is the peak minus
  the resident size at the start of the case: activations and workspaces (the weights were
  loaded before). Memory freed by earlier cases is first handed back to the system (glibc's
  ``malloc_trim``); where that is not possible, the growth is a lower bound.
- **flat memory** (:func:`memory_check`): one long video streamed frame by frame; the engine's
  reference cache (:meth:`VideoSegmenter.cache_nbytes`) and the resident size after N and after
  2N frames. The cache grows by O(C) numbers per frame (the summaries of the frames that may be
  drawn as references); nothing else should.

On CUDA the benchmark warms up, synchronises, and also times the steady-state frames with CUDA
events (``seconds_per_frame_events``); ``torch.backends.cudnn.benchmark`` is switched on.

The measuring helpers of notebook 10 live here too: :func:`median_seconds`,
:func:`time_frame_steps` (the steps of one frame timed one by one) and
:func:`time_reference_strategies` (cached summaries against re-encoding every reference).
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gcseg.config import VARIANTS, get_preset
from gcseg.inference import VideoSegmenter
from gcseg.model import GCSeg, ReferenceSummary
from gcseg.runtime import provenance, write_json

__all__ = [
    "BACKBONES",
    "BenchCase",
    "BenchSettings",
    "MemoryProbe",
    "SyntheticVideo",
    "default_cases",
    "format_results",
    "grid",
    "measure_case",
    "median_seconds",
    "memory_check",
    "parse_size",
    "ratio_summary",
    "run_benchmark",
    "time_frame_steps",
    "time_reference_strategies",
]

BACKBONES = ("resnet18", "resnet50", "resnet101")
"""The backbones of the default grid."""
NAMED_SIZES = {"tiny": "tiny", "paper": "paper", "480p": "paper"}
"""Size names -> the preset whose ``data.frame_size`` they mean (tiny 240x432, paper 480x854)."""


# --------------------------------------------------------------------------- timing helpers


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1,
                   device: torch.device | str | None = None) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs.

    On CUDA each run is timed with CUDA events after a synchronisation (kernels are
    asynchronous); on the CPU with ``time.perf_counter``.
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    device = torch.device(device) if device is not None else torch.device("cpu")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.synchronize(device)
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end) / 1e3)  # ms -> s
        else:
            start_time = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start_time)
    return statistics.median(times)


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _autocast(device: torch.device, amp: bool):
    return torch.autocast("cuda", dtype=torch.float16, enabled=amp and device.type == "cuda")


def _stack(features, copies: int):
    return features.map(lambda x: x.repeat(copies, *([1] * (x.dim() - 1))))


def time_frame_steps(model: GCSeg, image: torch.Tensor, mask: torch.Tensor, num_refs: int = 3,
                     repeats: int = 5, warmup: int = 1, threshold: float = 0.7,
                     amp: bool = True) -> dict[str, float]:
    """Median seconds of each step of one frame, as :class:`~gcseg.inference.VideoSegmenter`
    runs them (fp16 autocast on CUDA when ``amp``).

    Args:
        model: the network (its device is used).
        image: ``(1, 3, H, W)`` in [0, 1], the frame, shared by the K objects (or ``(K, 3, H,
            W)``, the frame repeated); mask: ``(K, 1, H, W)`` the previous masks ``M_{t-1}``
            (also used as the references' masks: the content does not change the time).
        num_refs: n; the frame reads ``1 + n`` references (frame 0 and one per fragment),
            all ``(1 + n) x K`` rows in one batch.

    Returns:
        ``{"encode_frame", "judge", "predict (1 reference)", "predict (1+n references)",
        "summarize_reference"}`` in seconds (``baseline`` has no judge/summary steps: 0).
    """
    device = _device(model)
    image, mask = image.to(device), mask.to(device)
    count = 1 + num_refs
    with torch.inference_mode(), _autocast(device, amp):
        features = model.encode_frame(image, mask)
        first = model.summarize_reference(features, mask).compact()
        refs = ReferenceSummary.cat([first] * count)
        stacked = _stack(features, count)
        two = model.uses_two_frames

        def timed(fn: Callable[[], object]) -> float:
            return median_seconds(fn, repeats, warmup, device)

        return {
            "encode_frame": timed(lambda: model.encode_frame(image, mask)),
            "judge": timed(lambda: model.judge(features, mask, first, threshold)),
            "predict (1 reference)": timed(lambda: model.predict(features, first if two
                                                                 else None)),
            f"predict (1+{num_refs} references)": timed(
                lambda: model.predict(stacked, refs) if two else model.predict(features)),
            "summarize_reference": timed(lambda: model.summarize_reference(features, mask)
                                         .compact()) if two else 0.0,
        }


def time_reference_strategies(model: GCSeg, image: torch.Tensor, mask: torch.Tensor,
                              num_refs: int = 3, repeats: int = 5, warmup: int = 1,
                              amp: bool = True) -> dict[str, float]:
    """Median seconds of one frame's work with two ways of using ``1 + num_refs`` references.

    - ``"cached summaries"``: ``encode_frame(I_t)``, ``predict`` with the cached summaries of
      the references (one batch), ``summarize_reference`` of this frame for later frames.
    - ``"backbone on every reference"``: ``encode_frame(I_t)``, then the backbone and the
      summary of every reference frame again (one batch of ``(1 + n) x K`` frames), then
      ``predict`` -- what a method that keeps no summaries must do.

    ``image`` ``(1 or K, 3, H, W)`` and ``mask`` ``(K, 1, H, W)`` as in
    :func:`time_frame_steps`. The Judgment Module (the same in both) is left out.
    """
    device = _device(model)
    image, mask = image.to(device), mask.to(device)
    count = 1 + num_refs
    objects = mask.shape[0]
    ref_images = image.expand(objects, -1, -1, -1).repeat(count, 1, 1, 1)  # other frames
    ref_masks = mask.repeat(count, 1, 1, 1)
    with torch.inference_mode(), _autocast(device, amp):
        features = model.encode_frame(image, mask)
        cached = ReferenceSummary.cat([model.summarize_reference(features, mask).compact()]
                                      * count)

        def with_cache() -> None:
            current = model.encode_frame(image, mask)
            model.predict(_stack(current, count), cached)
            model.summarize_reference(current, mask).compact()

        def without_cache() -> None:
            current = model.encode_frame(image, mask)
            again = model.encode_frame(ref_images, ref_masks)  # the references, re-encoded
            refs = model.summarize_reference(again, ref_masks)
            model.predict(_stack(current, count), refs)

        return {
            "cached summaries": median_seconds(with_cache, repeats, warmup, device),
            "backbone on every reference": median_seconds(without_cache, repeats, warmup,
                                                          device),
        }


# --------------------------------------------------------------------------- memory


def _proc_status_mb(field: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` (Linux) in MB, or None elsewhere."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def _max_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else kB


def _release_freed_memory() -> None:
    """Give the memory freed by earlier cases back to the system (glibc's ``malloc_trim``), so
    that the next case's peak shows its own activations instead of reusing resident pages."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class MemoryProbe:
    """Memory of the process (CPU) or of the CUDA caching allocator, with a resettable peak.

    ``start()`` resets the peak and remembers the current use; ``current_mb()``,
    ``peak_mb()`` and ``peak_growth_mb()`` read it. ``measure`` says what is measured.
    """

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.start_mb = 0.0
        if self.device.type == "cuda":
            self.measure = "torch.cuda.max_memory_allocated (tensors on the GPU)"
        elif _proc_status_mb("VmHWM") is not None:
            self.measure = "peak resident set size of the process (/proc VmHWM, reset per case)"
        else:
            self.measure = ("peak resident set size of the process (getrusage ru_maxrss, "
                            "never reset)")

    def current_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.memory_allocated(self.device) / 2**20
        rss = _proc_status_mb("VmRSS")
        if rss is not None:
            return rss
        try:
            import psutil  # optional: not a dependency of gcseg

            return psutil.Process().memory_info().rss / 2**20
        except ImportError:
            return _max_rss_mb()

    def start(self) -> None:
        if self.device.type == "cuda":
            _synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            _release_freed_memory()
            try:  # Linux: "5" resets the peak resident set size (VmHWM) to the current one
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass
        self.start_mb = self.current_mb()

    def peak_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        peak = _proc_status_mb("VmHWM")
        return peak if peak is not None else _max_rss_mb()

    def peak_growth_mb(self) -> float:
        return max(0.0, self.peak_mb() - self.start_mb)


# --------------------------------------------------------------------------- the cases


class SyntheticVideo(Sequence):
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


@dataclass(frozen=True)
class BenchCase:
    """One configuration: the variant, the backbone, the frame size (H, W), the objects K and
    the sampled references n (``None`` for ``baseline``, which reads none)."""

    variant: str
    backbone: str
    size: tuple[int, int]
    objects: int
    refs: int | None

    @property
    def label(self) -> str:
        refs = "-" if self.refs is None else self.refs
        return (f"{self.variant} {self.backbone} {self.size[0]}x{self.size[1]} "
                f"K={self.objects} n={refs}")


@dataclass
class BenchSettings:
    """How every case is run.

    Attributes:
        device: ``cpu``, ``cuda`` ...
        dtype: ``float32``, or ``float16``/``bfloat16`` (CUDA autocast).
        preset: the heads and the top level of the model (``paper``: 256 channels, res5;
            ``tiny``: 64 channels, res4); the backbone is the case's. Random weights.
        frames: timed frames per block; repeats: blocks (the median of their means is kept).
        warmup: frames segmented before the clock starts, after the n references exist.
        channels_last, compile: the engine's options (see :class:`VideoSegmenter`).
        memory_frames: N of :func:`memory_check` (0: no check).
        seed: of the synthetic video, the weights and the reference sampling.
    """

    device: str = "cpu"
    dtype: str = "float32"
    preset: str = "paper"
    frames: int = 8
    repeats: int = 3
    warmup: int = 2
    channels_last: bool = True
    compile: bool | dict[str, Any] = False
    memory_frames: int = 100
    seed: int = 0


def parse_size(text: str) -> tuple[int, int]:
    """``tiny`` (240x432), ``paper``/``480p`` (480x854) or ``HxW`` -> (H, W)."""
    if text in NAMED_SIZES:
        return tuple(get_preset(NAMED_SIZES[text]).data.frame_size)
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must be tiny, paper, 480p or HxW (e.g. 480x854), got {text!r}"
                         ) from None
    if height < 32 or width < 32:
        raise ValueError(f"size {text!r} is too small (at least 32x32)")
    return height, width


def grid(variants: Iterable[str], backbones: Iterable[str], sizes: Iterable[tuple[int, int]],
         objects: Iterable[int], refs: Iterable[int]) -> list[BenchCase]:
    """Every combination (``baseline`` once per backbone, size and K: it reads no reference)."""
    cases = []
    for size in sizes:
        for backbone in backbones:
            for variant in variants:
                for k in objects:
                    for n in ([None] if variant == "baseline" else refs):
                        cases.append(BenchCase(variant, backbone, tuple(size), k, n))
    return list(dict.fromkeys(cases))


def default_cases(variants: Sequence[str] = VARIANTS, backbones: Sequence[str] = BACKBONES,
                  small: tuple[int, int] | None = None, large: tuple[int, int] | None = None,
                  objects: Sequence[int] = (1, 3), refs: Sequence[int] = (0, 3, 6)
                  ) -> list[BenchCase]:
    """The default grid: everything at the ``small`` size (the tiny preset's 240x432); at the
    ``large`` one (480x854) every variant x backbone for K = 1, n = 3, and the objects x
    references sweep for ``full`` only (ResNet-101 at 480x854 takes seconds per frame on a CPU).
    """
    small = small or parse_size("tiny")
    large = large or parse_size("paper")
    cases = grid(variants, backbones, [small], objects, refs)
    cases += grid(variants, backbones, [large], [1], [3])
    cases += grid([v for v in variants if v == "full"], backbones, [large], objects, refs)
    return list(dict.fromkeys(cases))


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
    return VideoSegmenter(model, num_refs=refs or 0, adaptive_search=True, threshold=-1.0,
                          seed=settings.seed, device=settings.device, amp=amp,
                          amp_dtype=settings.dtype if amp else "float16",
                          channels_last=settings.channels_last, compile=settings.compile)


def measure_case(case: BenchCase, settings: BenchSettings) -> dict[str, Any]:
    """Time one case (see the module docstring); returns a JSON-ready row."""
    device = torch.device(settings.device)
    model = build_model(case.variant, case.backbone, settings.preset, settings.seed)
    segmenter = _segmenter(model, case.refs, settings)
    warm = max(case.refs or 0, 1) + settings.warmup  # frames before the clock starts
    timed = settings.frames * settings.repeats
    video = SyntheticVideo(case.size, 1 + warm + timed, case.objects, settings.seed)
    probe = MemoryProbe(device)
    probe.start()
    records, events = [], None
    for frame in segmenter.stream(video, video.first_mask):
        records.append(frame.record)
        if frame.record.index == warm and device.type == "cuda":
            events = (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
            events[0].record(torch.cuda.current_stream(device))
    if events is not None:
        events[1].record(torch.cuda.current_stream(device))
        events[1].synchronize()
    peak_mb, growth_mb = probe.peak_mb(), probe.peak_growth_mb()
    steady = records[warm + 1:]
    blocks = [float(np.mean([r.seconds for r in steady[i:i + settings.frames]]))
              for i in range(0, timed, settings.frames)]
    seconds = statistics.median(blocks)

    image = torch.from_numpy(video[0]).permute(2, 0, 1)[None].float().div(255.0)
    masks = torch.stack([torch.from_numpy(video.first_mask == k + 1)
                         for k in range(case.objects)])[:, None].float()  # (K, 1, H, W)
    calls = max(3, settings.repeats)
    backbone_one = median_seconds(lambda: segmenter.encode(image, masks[:1]), calls, 1, device)
    backbone_batch = (backbone_one if case.objects == 1 else
                      median_seconds(lambda: segmenter.encode(image, masks), calls, 1, device))
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
    if events is not None:
        row["seconds_per_frame_events"] = events[0].elapsed_time(events[1]) / 1e3 / len(steady)
    return row


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
    video = SyntheticVideo(case.size, 1 + 2 * frames, case.objects, settings.seed)
    probe = MemoryProbe(device)
    points = {}
    for frame in segmenter.stream(video, video.first_mask):
        if frame.record.index in (frames, 2 * frames):
            _synchronize(device)
            points[frame.record.index] = (probe.current_mb(), segmenter.cache_nbytes(),
                                          segmenter.cache_numel())
    (mem_1, bytes_1, numel_1), (mem_2, bytes_2, numel_2) = points[frames], points[2 * frames]
    per_frame_cache = (bytes_2 - bytes_1) / frames
    return {
        "case": case.label,
        "frames": [frames, 2 * frames],
        "memory_mb": [mem_1, mem_2],
        "memory_measure": ("torch.cuda.memory_allocated" if device.type == "cuda"
                           else "resident set size of the process"),
        "cache_numel": [numel_1, numel_2],
        "cache_mb": [bytes_1 / 2**20, bytes_2 / 2**20],
        "cache_bytes_per_frame": per_frame_cache,
        "memory_growth_mb_per_1000_frames": (mem_2 - mem_1) / frames * 1000,
        "cache_growth_mb_per_1000_frames": per_frame_cache * 1000 / 2**20,
    }


# --------------------------------------------------------------------------- the report


def ratio_summary(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``full`` with K = 1, n = 3 against the backbone alone, per backbone and size."""
    return [{"backbone": row["backbone"], "size": row["size"],
             "seconds_per_frame": row["seconds_per_frame"],
             "backbone_seconds": row["backbone_seconds"], "ratio": row["ratio"]}
            for row in results
            if row["variant"] == "full" and row["objects"] == 1 and row["refs"] == 3]


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [columns, *rows]) for i in range(len(columns))]
    lines = ["  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in [columns, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def format_results(results: Sequence[dict[str, Any]]) -> str:
    """The results as a plain text table (one row per case), then the ratios of ``full``."""
    columns = ["variant", "backbone", "size", "K", "n", "ms/frame", "fps", "backbone ms",
               "x backbone", "refs/frame", "peak +MB"]
    rows = []
    for row in results:
        rows.append([
            row["variant"], row["backbone"], f"{row['size'][0]}x{row['size'][1]}",
            str(row["objects"]), "-" if row["refs"] is None else str(row["refs"]),
            f"{1e3 * row['seconds_per_frame']:.1f}", f"{row['frames_per_second']:.2f}",
            f"{1e3 * row['backbone_seconds_objects']:.1f}", f"{row['ratio']:.2f}",
            f"{row['references_per_frame']:.2f}", f"{row['peak_growth_mb']:.0f}",
        ])
    text = _table(columns, rows)
    ratios = ratio_summary(results)
    if ratios:
        text += "\n\nfull (K = 1, n = 3) / backbone alone:\n" + _table(
            ["backbone", "size", "ms/frame", "backbone ms", "ratio"],
            [[r["backbone"], f"{r['size'][0]}x{r['size'][1]}",
              f"{1e3 * r['seconds_per_frame']:.1f}", f"{1e3 * r['backbone_seconds']:.1f}",
              f"{r['ratio']:.2f}"] for r in ratios])
    return text


def run_benchmark(cases: Sequence[BenchCase], settings: BenchSettings,
                  out: str | Path | None = None, command: str | None = None,
                  log: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Measure ``cases`` one after the other (a progress line each), then the flat-memory check
    on the first case of the smallest frame size as ``full`` with K = 1, n = 3. Returns the
    JSON-ready report, also written to ``out`` when given."""
    device = torch.device(settings.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # the frame size is fixed: pick the fastest kernels
    log = log or (lambda line: None)
    environment = {**provenance(device), "dtype": settings.dtype,
                   "channels_last": settings.channels_last,
                   "compile": settings.compile if settings.compile else False,
                   "cudnn_benchmark": device.type == "cuda",
                   "memory_measure": MemoryProbe(device).measure}
    log(f"{len(cases)} configurations on {environment['device']} "
        f"({environment['device_name']}), {environment['threads']} thread(s), "
        f"torch {environment['torch']}, {settings.dtype}")
    results = []
    for index, case in enumerate(cases, start=1):
        row = measure_case(case, settings)
        results.append(row)
        log(f"[{index}/{len(cases)}] {case.label}: {1e3 * row['seconds_per_frame']:.1f} "
            f"ms/frame ({row['frames_per_second']:.2f} fps), backbone "
            f"{1e3 * row['backbone_seconds_objects']:.1f} ms, x{row['ratio']:.2f}, "
            f"peak +{row['peak_growth_mb']:.0f} MB")
    memory = None
    if settings.memory_frames > 0 and cases:
        smallest = min(cases, key=lambda c: (c.size[0] * c.size[1], cases.index(c)))
        probe_case = BenchCase("full", smallest.backbone, smallest.size, 1, 3)
        log(f"flat memory: {probe_case.label}, {settings.memory_frames} and "
            f"{2 * settings.memory_frames} frames")
        memory = memory_check(probe_case, settings.memory_frames, settings)
        log(f"  memory {memory['memory_mb'][0]:.0f} -> {memory['memory_mb'][1]:.0f} MB "
            f"({memory['memory_growth_mb_per_1000_frames']:+.1f} MB per 1000 frames), cache "
            f"{memory['cache_bytes_per_frame'] / 1e3:.1f} kB per frame")
    report = {
        "what": "seconds per frame of gcseg.inference.VideoSegmenter on a synthetic video "
                "(random weights), and of its backbone alone (python -m gcseg bench)",
        "command": command,
        "environment": environment,
        "settings": {**dataclasses.asdict(settings), "threshold": -1.0,
                     "compile": settings.compile if settings.compile else False},
        "results": results,
        "ratios": ratio_summary(results),
        "memory_check": memory,
    }
    if out is not None:
        write_json(out, report)
    return report


def run_cli(args: Any) -> int:
    """``python -m gcseg bench``: the parsed arguments of :mod:`gcseg.cli` -> table + JSON."""
    from gcseg.runtime import configure_threads, pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        configure_threads()
    device = pick_device(args.device)
    dtype = args.dtype or ("float16" if device.type == "cuda" else "float32")
    quick = args.quick
    settings = BenchSettings(
        device=str(device), dtype=dtype, preset=args.preset,
        frames=args.frames or (2 if quick else 8), repeats=args.repeats or (1 if quick else 3),
        warmup=args.warmup if args.warmup is not None else (0 if quick else 2),
        channels_last=not args.no_channels_last,
        compile=(({"mode": args.compile_mode} if args.compile_mode else True)
                 if args.compile or args.compile_mode else False),
        memory_frames=(args.memory_frames if args.memory_frames is not None
                       else (3 if quick else 100)),
        seed=args.seed,
    )
    variants = args.variants or list(VARIANTS)
    backbones = args.backbones or (["resnet18"] if quick else list(BACKBONES))
    explicit = any(value is not None for value in (args.sizes, args.objects, args.refs))
    if explicit or quick:
        sizes = [parse_size(s) for s in (args.sizes or (["tiny"] if quick else ["tiny", "paper"]))]
        cases = grid(variants, backbones, sizes, args.objects or ([1] if quick else [1, 3]),
                     args.refs if args.refs is not None else ([3] if quick else [0, 3, 6]))
    else:
        cases = default_cases(variants, backbones)
    command = " ".join(["python -m gcseg", *getattr(args, "argv", ["bench"])])
    report = run_benchmark(cases, settings, out=args.out, command=command)
    print()
    print(format_results(report["results"]))
    if args.out is not None:
        print(f"\nwrote {args.out}")
    return 0

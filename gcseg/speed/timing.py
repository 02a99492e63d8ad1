"""Timing one call, and the steps of one frame as the inference engine runs them (notebook 10).

- :func:`median_seconds` -- the median wall-clock time of a call after a warm-up; on CUDA each
  call is timed with CUDA events after a synchronisation (kernels are asynchronous).
- :func:`time_frame_steps` -- each step of one frame on its own: the backbone, the Judgment
  Module, the heads with one reference and with ``1 + n``, the frame's summary.
- :func:`time_reference_strategies` -- one frame's work with the cached reference summaries
  against re-encoding every reference frame.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from gcseg.config import JUDGMENT_THRESHOLD, NUM_REFERENCES
from gcseg.model import GCSeg, ReferenceSummary

__all__ = ["median_seconds", "synchronize", "time_frame_steps", "time_reference_strategies"]


def synchronize(device: torch.device) -> None:
    """Wait for the kernels queued on ``device`` (CUDA); nothing to wait for on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _cuda_seconds(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds of one ``fn()`` on CUDA, measured with events after a synchronisation."""
    with torch.cuda.device(device):
        torch.cuda.synchronize(device)
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3  # ms -> s


def _wall_seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
    if device.type == "cuda":
        times = [_cuda_seconds(fn, device) for _ in range(repeats)]
    else:
        times = [_wall_seconds(fn) for _ in range(repeats)]
    return statistics.median(times)


def _autocast(device: torch.device, amp: bool) -> torch.autocast:
    return torch.autocast("cuda", dtype=torch.float16, enabled=amp and device.type == "cuda")


def time_frame_steps(model: GCSeg, image: torch.Tensor, mask: torch.Tensor,
                     num_refs: int = NUM_REFERENCES, repeats: int = 5, warmup: int = 1,
                     amp: bool = True) -> dict[str, float]:
    """Median seconds of each step of one frame, as :class:`~gcseg.inference.VideoSegmenter`
    runs them (fp16 autocast on CUDA when ``amp``).

    Args:
        model: the network (its device is used).
        image: ``(1, 3, H, W)`` in [0, 1], the frame, shared by the K objects (or ``(K, 3, H,
            W)``, the frame repeated); mask: ``(K, 1, H, W)`` the previous masks ``M_{t-1}``
            (also used as the references' masks: the content does not change the time).
        num_refs: n; the frame reads ``1 + n`` references (frame 0 and one per fragment),
            all ``(1 + n) x K`` rows in one batch against the K feature rows (the heads'
            frame-only parts once per object, as the engine runs them).

    The Judgment Module compares with the paper's τ (its time does not depend on τ).

    Returns:
        ``{"encode_frame", "judge", "predict (1 reference)", "predict (1+n references)",
        "summarize_reference"}`` in seconds (``baseline`` has no judge/summary steps: 0).
    """
    device = next(model.parameters()).device
    image, mask = image.to(device), mask.to(device)
    count = 1 + num_refs
    with torch.inference_mode(), _autocast(device, amp):
        features = model.encode_frame(image, mask)
        first = model.summarize_reference(features, mask).compact()
        refs = ReferenceSummary.cat([first] * count)  # (1 + n) x K rows, reference-major
        two = model.uses_two_frames

        def timed(fn: Callable[[], object]) -> float:
            return median_seconds(fn, repeats, warmup, device)

        return {
            "encode_frame": timed(lambda: model.encode_frame(image, mask)),
            "judge": timed(lambda: model.judge(features, mask, first, JUDGMENT_THRESHOLD)),
            "predict (1 reference)": timed(lambda: model.predict(features, first if two
                                                                 else None)),
            f"predict (1+{num_refs} references)": timed(
                lambda: model.predict(features, refs) if two else model.predict(features)),
            "summarize_reference": timed(lambda: model.summarize_reference(features, mask)
                                         .compact()) if two else 0.0,
        }


def time_reference_strategies(model: GCSeg, image: torch.Tensor, mask: torch.Tensor,
                              num_refs: int = NUM_REFERENCES, repeats: int = 5, warmup: int = 1,
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
    device = next(model.parameters()).device
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
            model.predict(current, cached)
            model.summarize_reference(current, mask).compact()

        def without_cache() -> None:
            current = model.encode_frame(image, mask)
            again = model.encode_frame(ref_images, ref_masks)  # the references, re-encoded
            refs = model.summarize_reference(again, ref_masks)
            model.predict(current, refs)

        return {
            "cached summaries": median_seconds(with_cache, repeats, warmup, device),
            "backbone on every reference": median_seconds(without_cache, repeats, warmup,
                                                          device),
        }

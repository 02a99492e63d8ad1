"""Speed of GCSeg at inference: where a frame's time goes, and pictures of it (notebook 10).

Measuring (library logic that lives here until a ``gcseg.benchmarks`` module takes it over):

- :func:`median_seconds` -- the median wall time of a callable over repetitions, after warm-up
  runs, with CUDA synchronised;
- :func:`time_frame_steps` -- the steps of one frame of :class:`gcseg.inference.VideoSegmenter`
  timed one by one: ``encode_frame``, ``judge``, ``predict`` (one reference, and 1 + n
  references batched), ``summarize_reference``;
- :func:`time_reference_strategies` -- one frame with cached reference summaries against one
  that runs the backbone again on every reference frame.

Drawing: :func:`step_times_figure`, :func:`strategy_scaling_figure`,
:func:`seconds_per_frame_figure`, :func:`frame_times_figure`,
and :data:`PAPER_SECONDS_PER_FRAME`, the Time(s) column of the paper's Tables II-IV.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from gcseg.model import GCSeg, ReferenceSummary

__all__ = [
    "PAPER_SECONDS_PER_FRAME",
    "frame_times_figure",
    "median_seconds",
    "seconds_per_frame_figure",
    "step_times_figure",
    "strategy_scaling_figure",
    "time_frame_steps",
    "time_reference_strategies",
]

PAPER_SECONDS_PER_FRAME: Mapping[str, float] = MappingProxyType({
    "GCSeg, DAVIS-2016 (Table II)": 0.28,
    "GCSeg, DAVIS-2017 (Table III)": 0.92,
    "GCSeg, YouTube-Objects (Table IV)": 0.19,
    "RGMP, DAVIS-2016 (Table II)": 0.13,
})
"""Seconds per frame in the paper's Time(s) columns (ResNet-101, 480p DAVIS frames; the paper
names neither its GPU nor its exact resolution)."""


# --------------------------------------------------------------------------- measuring


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1,
                   device: torch.device | str | None = None) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs.

    On CUDA the device is synchronised before and after each run (kernels are asynchronous).
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    device = torch.device(device) if device is not None else torch.device("cpu")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        fn()
        _synchronize(device)
        times.append(time.perf_counter() - start)
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
        image: ``(K, 3, H, W)`` in [0, 1], the frame repeated once per object (the engine
            batches the K objects); mask: ``(K, 1, H, W)`` the previous masks ``M_{t-1}``
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
      summary of every reference frame again (one batch of ``1 + n`` frames), then
      ``predict`` -- what a method that keeps no summaries must do.

    ``image`` ``(K, 3, H, W)`` and ``mask`` ``(K, 1, H, W)`` as in :func:`time_frame_steps`.
    The Judgment Module (the same in both) is left out.
    """
    device = _device(model)
    image, mask = image.to(device), mask.to(device)
    count = 1 + num_refs
    ref_images, ref_masks = image.repeat(count, 1, 1, 1), mask.repeat(count, 1, 1, 1)
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


# --------------------------------------------------------------------------- drawing


def step_times_figure(times: Mapping[str, float], title: str | None = None,
                      unit: str = "ms") -> Figure:
    """Horizontal bars of ``{step: seconds}`` (in ms or s), each labelled with its value."""
    scale = {"ms": 1e3, "s": 1.0}[unit]
    names = list(times)
    values = np.array([times[name] for name in names]) * scale
    figure, axis = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    bars = axis.barh(names, values, color="tab:blue")
    axis.invert_yaxis()
    for bar, value in zip(bars, values, strict=True):
        axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:.1f} {unit}",
                  va="center", fontsize=8)
    axis.set(xlabel=f"median time ({unit})", title=title or "time of each step")
    axis.set_xlim(0, values.max() * 1.25 if len(values) and values.max() > 0 else 1)
    figure.tight_layout()
    return figure


def strategy_scaling_figure(num_refs: Sequence[int],
                            times: Sequence[Mapping[str, float]]) -> Figure:
    """Milliseconds per frame of each strategy (one line each) against n, the number of
    sampled references: ``times[i]`` is :func:`time_reference_strategies` at ``num_refs[i]``."""
    figure, axis = plt.subplots(figsize=(6, 3.4))
    for name in times[0]:
        axis.plot(num_refs, [row[name] * 1e3 for row in times], marker="o", label=name)
    axis.set(xlabel="n (references: frame 0 + n)", ylabel="ms per frame",
             title="one frame's time as the references grow", ylim=(0, None))
    axis.set_xticks(list(num_refs))
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def seconds_per_frame_figure(measured: Mapping[str, float],
                             paper: Mapping[str, float] = PAPER_SECONDS_PER_FRAME) -> Figure:
    """Seconds per frame on a log axis: ``measured`` rows (orange) above the ``paper``'s
    (grey), each bar labelled with its value and its frames per second."""
    names = list(measured) + list(paper)
    values = [measured[n] for n in measured] + [paper[n] for n in paper]
    colours = ["tab:orange"] * len(measured) + ["0.6"] * len(paper)
    figure, axis = plt.subplots(figsize=(8, 0.45 * len(names) + 1.4))
    bars = axis.barh(names, values, color=colours)
    axis.invert_yaxis()
    axis.set_xscale("log")
    for bar, value in zip(bars, values, strict=True):
        axis.text(value * 1.05, bar.get_y() + bar.get_height() / 2,
                  f"{value:.3g} s ({1 / value:.3g} fps)", va="center", fontsize=8)
    low, high = min(values), max(values)
    axis.set_xlim(low / 2, high * 8)
    axis.set(xlabel="seconds per frame (log scale)",
             title="measured here (orange) and in the paper (grey)")
    figure.tight_layout()
    return figure


def frame_times_figure(records: Sequence) -> Figure:
    """Seconds of each frame of a video (``VideoResult.records``); frames where the Judgment
    Module dropped ``M_{t-1}`` (two backbone passes) in red."""
    index = np.array([r.index for r in records])
    seconds = np.array([r.seconds for r in records])
    twice = np.array([r.backbone_passes > 1 for r in records])
    figure, axis = plt.subplots(figsize=(8, 3))
    axis.bar(index[~twice], seconds[~twice] * 1e3, color="tab:blue", label="one backbone pass")
    if twice.any():
        axis.bar(index[twice], seconds[twice] * 1e3, color="tab:red",
                 label="two passes (M_{t-1} dropped)")
    if len(records) > 1:
        mean = seconds[1:].mean() * 1e3
        axis.axhline(mean, color="black", lw=0.8, ls="--",
                     label=f"mean of frames 1.. {mean:.0f} ms")
    axis.set(xlabel="frame", ylabel="ms", title="time of each frame")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure

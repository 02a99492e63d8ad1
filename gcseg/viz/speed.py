"""Pictures of GCSeg's speed at inference (notebook 10).

Drawing: :func:`step_times_figure`, :func:`strategy_scaling_figure`,
:func:`seconds_per_frame_figure`, :func:`frame_times_figure`,
and :data:`PAPER_SECONDS_PER_FRAME`, the Time(s) column of the paper's Tables II-IV.

The measuring lives in :mod:`gcseg.speed` (:mod:`gcseg.speed.timing`: ``median_seconds``,
``time_frame_steps``, ``time_reference_strategies``; the benchmark of ``python -m gcseg
bench``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gcseg.config import NUM_REFERENCES, VARIANTS

__all__ = [
    "PAPER_SECONDS_PER_FRAME",
    "benchmark_figure",
    "frame_times_figure",
    "seconds_per_frame_figure",
    "step_times_figure",
    "strategy_scaling_figure",
]

PAPER_SECONDS_PER_FRAME: Mapping[str, float] = MappingProxyType({
    "GCSeg, DAVIS-2016 (Table II)": 0.28,
    "GCSeg, DAVIS-2017 (Table III)": 0.92,
    "GCSeg, YouTube-Objects (Table IV)": 0.19,
    "RGMP, DAVIS-2016 (Table II)": 0.13,
})
"""Seconds per frame in the paper's Time(s) columns (ResNet-101, 480p DAVIS frames; the paper
names neither its GPU nor its exact resolution)."""


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
    sampled references: ``times[i]`` is :func:`gcseg.speed.timing.time_reference_strategies` at
    ``num_refs[i]``."""
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


def benchmark_figure(results: Sequence[Mapping], objects: int = 1,
                     refs: int = NUM_REFERENCES) -> Figure:
    """Milliseconds per frame of each variant from ``python -m gcseg bench`` results, one panel
    per frame size, bars grouped by backbone (``objects`` K and ``refs`` n; ``baseline`` has no
    references), with the backbone alone as a black line over each group and the ratio
    variant / backbone written on the bars."""
    rows = [r for r in results if r["objects"] == objects
            and (r["refs"] == refs or r["variant"] == "baseline")]
    sizes = sorted({tuple(r["size"]) for r in rows})
    variants = [v for v in VARIANTS if any(r["variant"] == v for r in rows)]
    figure, axes = plt.subplots(1, max(1, len(sizes)), figsize=(5.5 * max(1, len(sizes)), 3.8),
                                squeeze=False)
    colours = dict(zip(VARIANTS, ("0.6", "tab:blue", "tab:green", "tab:orange"), strict=True))
    for axis, size in zip(axes[0], sizes, strict=False):
        here = [r for r in rows if tuple(r["size"]) == size]
        backbones = sorted({r["backbone"] for r in here}, key=lambda b: int(b[6:]))
        width = 0.8 / max(1, len(variants))
        for i, backbone in enumerate(backbones):
            alone = [r["backbone_seconds_objects"] for r in here if r["backbone"] == backbone]
            if alone:
                axis.hlines(1e3 * min(alone), i - 0.42, i + 0.42, color="black", lw=1.5,
                            label="backbone alone" if i == 0 else None)
            for j, variant in enumerate(variants):
                match = [r for r in here if r["backbone"] == backbone and r["variant"] == variant]
                if not match:
                    continue
                value = 1e3 * match[0]["seconds_per_frame"]
                x = i - 0.4 + width * (j + 0.5)
                axis.bar(x, value, width, color=colours[variant],
                         label=variant if i == 0 else None)
                axis.text(x, value, f"{match[0]['ratio']:.1f}x", ha="center", va="bottom",
                          fontsize=7)
        axis.set_xticks(range(len(backbones)), backbones)
        axis.set(ylabel="ms per frame", title=f"{size[0]}x{size[1]}, K = {objects}, n = {refs}")
        axis.legend(fontsize=7)
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

"""Pictures of the training data and the training run (paper IV-A; notebook 06).

- :func:`sample_arrays` -- one training sample (a dict of tensors from :mod:`gcseg.data.pairs`,
  or a :class:`~gcseg.data.simulate.SimulatedPair`) as numpy images and masks.
- :func:`pair_panels` -- the three pictures of a pair: the reference with ``M_{t-n}``, the
  target with the previous mask ``M_{t-1}`` it is given, the target with ``GT_t``.
- :func:`plot_pairs` -- several pairs, one per row.
- :func:`plot_clip` -- a recurrent fine-tuning clip as a filmstrip.
- :func:`plot_masks` -- one image with several masks (e.g. perturbed previous masks).
- :func:`interval_counts`, :func:`plot_interval_draws` -- the short / middle / long frame
  intervals drawn by :func:`gcseg.data.pairs.sample_interval`.
- :func:`plot_training` -- a run's loss per logged step and its validation J&F.
- :func:`plot_learning_curve` -- validation J&F against wall minutes (short runs,
  :func:`gcseg.short_run.learning_curve`); :func:`plot_fresh_run` adds the run's loss.
- :func:`training_curves`, :func:`smooth`, :func:`value_at`, :func:`plot_training_log` -- a
  run's logged curves (loss, learning rate, validation J&F) over steps or minutes, a step
  range, smoothing and the value at a step (the explorer of :mod:`gcseg.widgets.training`).

Figures are ``matplotlib.figure.Figure`` objects made without pyplot (display one by ending a
cell with it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from gcseg.data.pairs import INTERVALS
from gcseg.data.simulate import SimulatedPair
from gcseg.metrics import region_similarity
from gcseg.train import STAGES, read_log
from gcseg.viz.frames import as_uint8_image, overlay

__all__ = [
    "LOG_CURVES",
    "PAIR_KEYS",
    "SCORE_CURVES",
    "Curve",
    "interval_counts",
    "pair_panels",
    "plot_clip",
    "plot_fresh_run",
    "plot_interval_draws",
    "plot_learning_curve",
    "plot_masks",
    "plot_pairs",
    "plot_training",
    "plot_training_log",
    "sample_arrays",
    "smooth",
    "training_curves",
    "value_at",
]

PAIR_KEYS = ("ref_image", "ref_mask", "target_image", "target_prev_mask", "target_mask")
"""The keys of a pair sample (:mod:`gcseg.data.pairs`)."""

_PANEL_TITLES = ("reference $I_{t-n}$, $M_{t-n}$", "target $I_t$, given $M_{t-1}$",
                 "target $I_t$, $GT_t$")


def _mask(value: np.ndarray | Tensor) -> np.ndarray:
    """(1, H, W) or (H, W), bool/float -> (H, W) uint8 in {0, 1}."""
    if isinstance(value, Tensor):
        value = value.detach().cpu().float().numpy()
    value = np.asarray(value)
    if value.ndim == 3:
        value = value[0]
    return (value > 0.5).astype(np.uint8)


def sample_arrays(sample: Mapping[str, np.ndarray | Tensor] | SimulatedPair
                  ) -> dict[str, np.ndarray]:
    """A pair as numpy: images (H, W, 3) uint8, masks (H, W) uint8 in {0, 1}.

    Accepts the dict of :class:`~gcseg.data.pairs.SimulatedPairs` / ``VideoPairs`` (tensors)
    or a :class:`~gcseg.data.simulate.SimulatedPair` (which has no previous mask: its target
    mask stands in, as the data set perturbs it).
    """
    if isinstance(sample, SimulatedPair):
        sample = {"ref_image": sample.ref_image, "ref_mask": sample.ref_mask,
                  "target_image": sample.target_image,
                  "target_prev_mask": sample.target_mask, "target_mask": sample.target_mask}
    missing = [key for key in PAIR_KEYS if key not in sample]
    if missing:
        raise KeyError(f"not a pair sample: missing {missing}")
    return {key: as_uint8_image(sample[key]) if key.endswith("image") else _mask(sample[key])
            for key in PAIR_KEYS}


def pair_panels(sample: Mapping[str, np.ndarray | Tensor] | SimulatedPair) -> list[np.ndarray]:
    """Three (H, W, 3) uint8 overlays: reference with ``M_{t-n}``, target with ``M_{t-1}``,
    target with ``GT_t``."""
    arrays = sample_arrays(sample)
    return [
        overlay(arrays["ref_image"], arrays["ref_mask"]),
        overlay(arrays["target_image"], arrays["target_prev_mask"]),
        overlay(arrays["target_image"], arrays["target_mask"]),
    ]


def plot_pairs(samples: Sequence[Mapping[str, np.ndarray | Tensor] | SimulatedPair],
               titles: Sequence[str] | None = None, show_prev: bool = True) -> Figure:
    """One row per pair: reference, (target with the previous mask), target with GT.

    Row titles (``titles``) go on the left; the previous-mask column shows its IoU with
    ``GT_t`` ("zeroed" when the mask is empty).  ``show_prev=False`` drops that column (for a
    :class:`SimulatedPair`, which has none).
    """
    if titles is not None and len(titles) != len(samples):
        raise ValueError(f"{len(titles)} titles for {len(samples)} samples")
    columns = (0, 1, 2) if show_prev else (0, 2)
    first = sample_arrays(samples[0])["ref_image"]
    aspect = first.shape[1] / first.shape[0]
    figure = Figure(figsize=(2.6 * aspect * len(columns), 2.6 * len(samples) + 0.3),
                    layout="constrained")
    axes = np.array(figure.subplots(len(samples), len(columns), squeeze=False))
    for row, sample in enumerate(samples):
        arrays = sample_arrays(sample)
        panels = pair_panels(sample)
        for ax, column in zip(axes[row], columns, strict=True):
            ax.imshow(panels[column])
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(_PANEL_TITLES[column], fontsize=10)
            if column == 1:
                prev = arrays["target_prev_mask"]
                note = ("zeroed" if not prev.any()
                        else f"IoU with GT_t {region_similarity(prev, arrays['target_mask']):.2f}")
                ax.set_xlabel(note, fontsize=9)
        if titles is not None:
            axes[row, 0].set_ylabel(titles[row], fontsize=10)
    return figure


def plot_clip(sample: Mapping[str, Tensor | np.ndarray], title: str | None = None) -> Figure:
    """A :class:`~gcseg.data.pairs.VideoClips` sample: ``images`` (L, 3, H, W) with ``masks``
    (L, 1, H, W) as a filmstrip; frame 0 is the annotated reference."""
    images, masks = sample["images"], sample["masks"]
    length = len(images)
    first = as_uint8_image(images[0])
    aspect = first.shape[1] / first.shape[0]
    figure = Figure(figsize=(2.2 * aspect * length, 2.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, length))
    for k, ax in enumerate(axes):
        ax.imshow(overlay(as_uint8_image(images[k]), _mask(masks[k])))
        ax.set_title("reference (GT)" if k == 0 else f"clip frame {k}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


def plot_masks(image: np.ndarray | Tensor, masks: Sequence[np.ndarray | Tensor],
               titles: Sequence[str] | None = None) -> Figure:
    """One image with each of ``masks`` drawn over it, side by side."""
    picture = as_uint8_image(image)
    aspect = picture.shape[1] / picture.shape[0]
    figure = Figure(figsize=(2.4 * aspect * len(masks), 2.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(masks)))
    for k, (ax, mask) in enumerate(zip(axes, masks, strict=True)):
        ax.imshow(overlay(picture, _mask(mask)))
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return figure


def interval_counts(draws: Sequence[tuple[int, int, str]]) -> dict[str, int]:
    """How many of ``(ref, target, kind)`` draws are of each kind (short, middle, long)."""
    counts = {kind: 0 for kind in INTERVALS}
    for _, _, kind in draws:
        counts[kind] += 1
    return counts


def plot_interval_draws(draws: Sequence[tuple[int, int, str]], length: int) -> Figure:
    """Histogram of the interval ``target - ref`` of each kind, for a video of ``length``
    frames, and where the reference frames fall (frame 0 is a long-range favourite)."""
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    bins = np.arange(0.5, length, 1.0)
    for kind in INTERVALS:
        intervals = [t - r for r, t, k in draws if k == kind]
        left.hist(intervals, bins=bins, alpha=0.7, label=f"{kind} ({len(intervals)})")
        refs = [r for r, _, k in draws if k == kind]
        right.hist(refs, bins=np.arange(-0.5, length, 1.0), alpha=0.7, label=kind)
    left.set(xlabel="interval n = target - reference (frames)", ylabel="draws",
             title=f"intervals in a {length}-frame video")
    right.set(xlabel="reference frame index", ylabel="draws", title="reference frames")
    left.legend()
    right.legend()
    return figure


# --------------------------------------------------------------------------- a run


def plot_training(run_dir: str | os.PathLike) -> Figure:
    """A figure of a run: the loss per logged step (one line per stage) and validation J&F."""
    losses, evals = read_log(run_dir)
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    left, right = figure.subplots(1, 2)
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
    return figure


def plot_learning_curve(curves: Mapping[str, list[dict]],
                        floors: Mapping[str, float] | None = None,
                        ax: Axes | None = None) -> Figure:
    """Validation J&F against wall minutes, one line per run (rows of
    :func:`gcseg.short_run.learning_curve`), with horizontal floors (e.g.
    ``{"copy-first": 0.127}``); drawn on ``ax`` when given; returns the figure."""
    if ax is None:
        figure = Figure(figsize=(6, 3.5), layout="constrained")
        ax = figure.subplots()
    else:
        figure = ax.figure
    for name, rows in curves.items():
        ax.plot([row["minutes"] for row in rows], [row["J&F"] for row in rows],
                marker="o", label=name)
    for index, (name, value) in enumerate((floors or {}).items()):
        ax.axhline(value, linestyle="--", color=f"C{len(curves) + index}", label=name)
    ax.set(xlabel="wall time of the run (minutes)", ylabel="validation J&F", ylim=(0, 1),
           title="J&F against wall time")
    ax.legend(fontsize="small")
    return figure


def plot_fresh_run(curve: list[dict], run_dir: str | os.PathLike, floors: Mapping[str, float],
                   offset_seconds: float = 0.0) -> Figure:
    """A short run: its training loss and its validation J&F against the minutes of its
    budget (``offset_seconds``: the step timing before the training started), beside
    ``floors`` (other methods' J&F)."""
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    losses, _ = read_log(run_dir)
    for stage in ("video", "recurrent"):
        rows = [row for row in losses if row["stage"] == stage]
        if rows:
            left.plot([(float(r["seconds"]) + offset_seconds) / 60 for r in rows],
                      [float(r["loss"]) for r in rows], label=stage,
                      marker="o" if len(rows) < 3 else None)
    left.set(xlabel="wall time of the run (minutes)", ylabel="loss (eq. 3)",
             title="training loss of the fresh run")
    if losses:
        left.legend()
    plot_learning_curve({"fresh run (trained here)": curve}, floors, ax=right)
    return figure


# --------------------------------------------------------------------------- the log explorer


@dataclass(frozen=True)
class Curve:
    """One logged quantity of a run: ``values`` at ``steps``, with the training ``seconds``
    (NaN where the run did not log them) and the ``stages`` of the log rows ("" for scores)."""

    name: str
    steps: np.ndarray  # (N,) int
    seconds: np.ndarray  # (N,) float
    values: np.ndarray  # (N,) float
    stages: tuple[str, ...]


LOG_CURVES = ("loss", "lr")
"""Curves from ``log.csv`` (:data:`gcseg.train.LOG_COLUMNS`)."""

SCORE_CURVES = ("J&F", "J", "F")
"""Validation curves, from ``learning_curve.json`` (scored snapshots) or ``eval.csv``."""


def _column(rows: Sequence[Mapping], key: str) -> np.ndarray:
    return np.array([float(row[key]) if row.get(key) not in (None, "") else np.nan
                     for row in rows], dtype=float)


def training_curves(run_dir: str | os.PathLike) -> dict[str, Curve]:
    """The curves of a run's folder: ``loss`` and ``lr`` of ``log.csv``; ``J&F``, ``J``, ``F``
    of ``learning_curve.json`` (its snapshots scored by :func:`gcseg.short_run.learning_curve`)
    or else of ``eval.csv``.  Scores without seconds get them from the log's steps (linear
    interpolation).  Only what the folder holds: an empty dict for a folder without logs."""
    run_dir = Path(run_dir)
    losses, evals = read_log(run_dir)
    curves: dict[str, Curve] = {}
    log_steps = np.array([int(row["step"]) for row in losses], dtype=int)
    log_seconds = _column(losses, "seconds")
    stages = tuple(row["stage"] for row in losses)
    for name in LOG_CURVES:
        if losses:
            curves[name] = Curve(name, log_steps, log_seconds, _column(losses, name), stages)
    snapshots = run_dir / "learning_curve.json"
    rows = json.loads(snapshots.read_text()) if snapshots.is_file() else evals
    if rows:
        steps = np.array([int(row["step"]) for row in rows], dtype=int)
        seconds = _column(rows, "seconds")
        known = np.isfinite(log_seconds)
        if np.isnan(seconds).all() and known.any():
            seconds = np.interp(steps, log_steps[known], log_seconds[known])
        for name in SCORE_CURVES:
            curves[name] = Curve(name, steps, seconds, _column(rows, name), ("",) * len(rows))
    return curves


def smooth(values: Sequence[float] | np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing): ``s_k =
    weight * s_(k-1) + (1 - weight) * x_k``, divided by ``1 - weight^(k+1)`` so that the first
    values are not pulled towards 0; ``weight = 0`` returns the values."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"weight must be in [0, 1), got {weight}")
    values = np.asarray(values, dtype=float)
    out = np.empty_like(values)
    average = 0.0
    for k, value in enumerate(values):
        average = weight * average + (1.0 - weight) * value
        out[k] = average / (1.0 - weight ** (k + 1))
    return out


def value_at(curve: Curve, step: int, weight: float = 0.0) -> tuple[int, float] | None:
    """``(logged step, value)`` of ``curve`` at the last logged step ``<= step`` (smoothed
    with ``weight``), or ``None`` before its first row."""
    index = int(np.searchsorted(curve.steps, step, side="right")) - 1
    if index < 0:
        return None
    return int(curve.steps[index]), float(smooth(curve.values, weight)[index])


_PANELS = {"loss": ("loss (eq. 3)", "training loss"), "lr": ("learning rate", "learning rate"),
           "score": ("validation score", "validation")}


def _panel(name: str) -> str:
    return "score" if name in SCORE_CURVES else name


def _mark_stages(ax: Axes, curve: Curve, where: np.ndarray, keep: np.ndarray) -> None:
    """A dotted line and the stage's name where a logged stage begins (after the first)."""
    for k in range(1, len(curve.stages)):
        if curve.stages[k] != curve.stages[k - 1] and keep[k]:
            ax.axvline(where[k], color="0.6", linestyle="--", linewidth=0.8)
            ax.annotate(curve.stages[k], (where[k], 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -12), textcoords="offset points", fontsize=8, color="0.4")


def plot_training_log(curves: Mapping[str, Curve], names: Sequence[str] | None = None,
                      x: str = "step", steps: tuple[int, int] | None = None,
                      smoothing: float = 0.0, at: int | None = None) -> Figure:
    """The chosen ``names`` of ``curves`` (:func:`training_curves`), one panel per kind (loss,
    learning rate, validation scores), against ``x`` = ``"step"`` or ``"minutes"``.

    ``steps`` = (first, last) keeps the rows in that range; ``smoothing`` is the weight of
    :func:`smooth` (the raw values stay as a faint line); ``at`` marks a step with a vertical
    line and writes each curve's value there in its legend. A dashed line marks where a
    training stage begins (e.g. ``recurrent``) on the loss.
    """
    names = list(curves) if names is None else list(names)
    missing = [name for name in names if name not in curves]
    if missing or not names:
        raise ValueError(f"no curve {missing or 'chosen'}; the run has {list(curves)}")
    if x not in ("step", "minutes"):
        raise ValueError(f"x must be 'step' or 'minutes', got {x!r}")
    panels = list(dict.fromkeys(_panel(name) for name in names))
    figure = Figure(figsize=(4.2 * len(panels) + 1, 3.4), layout="constrained")
    axes = dict(zip(panels, np.atleast_1d(figure.subplots(1, len(panels))), strict=True))
    low, high = steps if steps is not None else (-np.inf, np.inf)
    for index, name in enumerate(names):
        curve, ax = curves[name], axes[_panel(name)]
        keep = (curve.steps >= low) & (curve.steps <= high)
        where = curve.steps if x == "step" else curve.seconds / 60
        shown = smooth(curve.values, smoothing)
        label = name
        picked = value_at(curve, at, smoothing) if at is not None else None
        if picked is not None:
            label += f" = {picked[1]:.4g} (step {picked[0]})"
        if smoothing > 0:
            ax.plot(where[keep], curve.values[keep], color=f"C{index}", alpha=0.25)
        ax.plot(where[keep], shown[keep], color=f"C{index}", label=label,
                marker="o" if keep.sum() < 12 else None)
        if name == "loss":
            _mark_stages(ax, curve, where, keep)
    for panel, ax in axes.items():
        ylabel, title = _PANELS[panel]
        ax.set(xlabel="step" if x == "step" else "training minutes", ylabel=ylabel, title=title)
        if at is not None and x == "step":
            ax.axvline(at, color="0.4", linestyle=":")
        ax.legend(fontsize="small")
    return figure

"""Short runs that learn: a fresh GCSeg from the foundation in minutes of wall time.

The paper starts every model from ImageNet weights and trains for days.  Here a run has minutes,
so it starts from the project's foundation (``model.weights: foundation``,
:mod:`gcseg.foundation`) with fresh heads and follows a recipe measured to learn within that
budget (``results/recipe/``):

- the foundation frozen: only the heads learn, and the backbone runs forward only;
- crops of half to 0.8 of each side of the frames, resized to half the frame size: the objects
  at about the scale of the full frames, on a quarter of the pixels;
- video pairs, then recurrent clips fed with the model's own predictions (so that it learns to
  recover from its own mistakes instead of copying a near-perfect previous mask), each frame's
  prediction fed forward without its gradient (``train.recurrent_detach``: a cheaper step).

:func:`recipe_config` builds the recipe's config for a dataset; :func:`short_run` fits its step
counts to a wall-time budget (measuring a few steps of each stage first, so a faster machine
trains more steps on the same schedule) and trains, keeping snapshots of the weights;
:func:`learning_curve` scores those snapshots: validation J&F against wall time.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch
import yaml

from gcseg.config import (
    GCSegConfig,
    config_differences,
    get_preset,
    load_config,
    merge_settings,
)
from gcseg.data import DavisDataset
from gcseg.files import write_json
from gcseg.runtime import pick_device

__all__ = [
    "RECIPES",
    "fit_steps",
    "learning_curve",
    "measure_step_seconds",
    "recipe_config",
    "short_run",
    "train_or_reuse",
    "write_recipe_table",
]

_COMMON = {
    "model": {"weights": "foundation", "freeze_backbone": True},
    "train": {"lr": 1e-3, "recurrent_clip_len": 4, "recurrent_detach": True,
              "zero_prev_mask_prob": 0.5, "log_every": 10, "checkpoint_every": 100,
              "schedule": "poly"},
}
RECIPES: dict[str, dict] = {
    "cpu": {"model": _COMMON["model"], "data": {"crop_scale": (0.5, 0.8)},
            "train": {**_COMMON["train"], "batch_size": 8, "steps": 500, "recurrent_steps": 100,
                      "num_workers": 0}},
    "gpu": {"model": _COMMON["model"], "data": {"crop_scale": (0.8, 1.0)},
            "train": {**_COMMON["train"], "batch_size": 32, "steps": 600,
                      "recurrent_steps": 150, "num_workers": 4}},
}
"""The short-run recipes over the ``tiny`` preset: ``cpu`` (its step counts fill about 10
minutes of a 2-core CPU) and ``gpu``.  :func:`short_run` rescales the step counts to the
budget; the ratios between stages stay."""


def recipe_config(root: str | os.PathLike, recipe: str = "cpu", variant: str = "full",
                  seed: int = 0, overrides: dict | None = None) -> GCSegConfig:
    """The ``tiny`` preset with a short-run recipe on the dataset at ``root``.

    The frame size is the dataset's (``gpu``) or half of it (``cpu``, with crops of half to
    0.8 of each side: about the frames' own scale).  ``overrides`` is a nested dict of further
    settings (``{"train": {"lr": 3e-4}}``), checked like a YAML config.
    """
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r} (known: {list(RECIPES)})")
    height, width = DavisDataset(root, "2017", "train")[0].size
    if recipe == "cpu":
        height, width = height // 2, width // 2
    config = get_preset("tiny")
    config = merge_settings(config, RECIPES[recipe], f"recipe {recipe!r}", prefix="")
    config.model.variant = variant
    config.data.root = str(root)
    config.data.frame_size = (height, width)
    config.train.seed = seed
    if overrides:
        config = merge_settings(config, overrides, "overrides", prefix="")
    config.validate(f"recipe {recipe!r}")
    return config


# ----------------------------------------------------------------------------- the budget


def measure_step_seconds(config: GCSegConfig, device: str | torch.device | None = None,
                         steps: int = 3) -> dict[str, float]:
    """Seconds per training step of each stage of ``config`` on ``device`` (data loading
    included): the median of ``steps`` steps after one warm-up step, on a scratch model."""
    from gcseg.train import Trainer

    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(config, scratch, device=device, progress=False)
        for stage in trainer.stages:
            times, last = [], time.perf_counter()
            for index, batch in enumerate(trainer.batches(stage, 0)):
                trainer.train_step(trainer.model, stage.name, batch)
                if trainer.device.type == "cuda":
                    torch.cuda.synchronize(trainer.device)
                now = time.perf_counter()
                if index > 0:
                    times.append(now - last)
                last = now
                if index >= steps:
                    break
            seconds[stage.name] = statistics.median(times) if times else now - last
    return seconds


def fit_steps(config: GCSegConfig, seconds: float, step_seconds: dict[str, float]
              ) -> GCSegConfig:
    """A copy of ``config`` whose step counts fill ``seconds``, keeping their ratios.

    ``step_seconds`` is :func:`measure_step_seconds`'s answer; every stage keeps at least one
    step."""
    from gcseg.train.stages import STEP_KEYS, stage_counts

    counts = stage_counts(config.train)
    planned = sum(counts[name] * step_seconds.get(name, 0.0) for name in counts)
    if planned <= 0:
        raise ValueError("the config has no training step to fit")
    scale = seconds / planned
    fitted = copy.deepcopy(config)
    for name, count in counts.items():
        if count:
            setattr(fitted.train, STEP_KEYS[name], max(1, math.floor(count * scale)))
    return fitted


def short_run(config: GCSegConfig, out_dir: str | os.PathLike, minutes: float,
              device: str | torch.device | None = None, snapshots: int = 5,
              progress: bool = True, record: dict | None = None) -> dict:
    """Train ``config`` for ``minutes`` of wall time into ``out_dir``; returns the summary.

    First measures a few steps of each stage (counted in the budget) for a first plan of the
    step counts that fill what is left, then trains, re-planning them as the run's own steps
    are timed (:class:`gcseg.train.StepBudget`), with the wall time as a hard cap.  Keeps
    ``snapshots`` evenly spaced snapshots of the weights for :func:`learning_curve`.  The
    summary adds ``budget_minutes``, ``step_seconds``, the ``first_plan`` and the re-planned
    ``steps`` and the entries of ``record`` (e.g. the command that ran it).
    """
    from gcseg.train import RunLimits, StepBudget, train

    out_dir = Path(out_dir)
    if (out_dir / "checkpoint.pt").exists():
        raise FileExistsError(f"{out_dir / 'checkpoint.pt'} exists: choose another folder")
    device = pick_device(str(device) if device is not None else None)
    started = time.perf_counter()
    step_seconds = measure_step_seconds(config, device)
    left = 60.0 * minutes - (time.perf_counter() - started)
    fitted = fit_steps(config, max(left, 1.0), step_seconds)
    if progress:
        print(f"{minutes:g} minutes: {fitted.train.steps} video-pair steps and "
              f"{fitted.train.recurrent_steps} recurrent clips fit (measured "
              + ", ".join(f"{k} {v:.2f} s/step" for k, v in step_seconds.items()) + ")")
    seconds = max(left, 1.0)
    summary = train(fitted, out_dir, device=str(device), progress=progress,
                    limits=RunLimits(max_seconds=seconds, snapshot_every=seconds / snapshots,
                                     budget=StepBudget(seconds, step_seconds)))
    trained = load_config(out_dir / "config.yaml").train  # the counts as re-planned
    summary.update(budget_minutes=minutes, step_seconds=step_seconds,
                   calibration_seconds=60.0 * minutes - left,
                   first_plan={"video": fitted.train.steps,
                               "recurrent": fitted.train.recurrent_steps},
                   steps={"video": trained.steps, "recurrent": trained.recurrent_steps},
                   **(record or {}))
    write_json(out_dir / "summary.json", summary)
    return summary


def train_or_reuse(config: GCSegConfig, run_dir: str | os.PathLike, minutes: float,
                   device: str | torch.device | None = None, progress: bool = True) -> dict:
    """:func:`short_run` into a scratch folder of the caller's own (the demo's, a notebook's):
    a finished run there of the same config and budget is reused; anything else in
    ``run_dir`` (an interrupted run, another budget) is removed first."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if summary_path.is_file() and (run_dir / "checkpoint.pt").is_file():
        summary = json.loads(summary_path.read_text())
        saved = run_dir / "requested.yaml"
        same = saved.is_file() and not config_differences(
            GCSegConfig.from_saved(yaml.safe_load(saved.read_text()), str(saved)), config)
        if summary.get("budget_minutes") == minutes and same:
            if progress:
                print(f"reusing the finished {minutes:g}-minute run in {run_dir}")
            return summary
    if run_dir.exists():
        shutil.rmtree(run_dir)
    summary = short_run(config, run_dir, minutes, device, progress=progress)
    config.to_yaml(run_dir / "requested.yaml")
    return summary


# ----------------------------------------------------------------------------- the curve


def learning_curve(run_dir: str | os.PathLike, dataset: DavisDataset,
                   device: str | None = None) -> list[dict]:
    """Score every snapshot of a run on ``dataset`` (e.g. the validation split): one row per
    snapshot, ``{"seconds", "minutes", "step", "J&F", "J", "F"}`` (scores rounded to 4
    decimals; ``seconds`` adds the calibration seconds of a :func:`short_run`, so ``minutes``
    counts the whole budget); also written to ``<run_dir>/learning_curve.json``."""
    from gcseg.checkpoint import load_checkpoint, model_from_payload
    from gcseg.inference import VideoSegmenter
    from gcseg.scoring import score_split

    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    offset = float(summary.get("calibration_seconds", 0.0))
    device = pick_device(device)
    rows = []
    for path in sorted((run_dir / "snapshots").glob("s*.pt")):
        payload = load_checkpoint(path)
        model, config = model_from_payload(payload, device, source=str(path))
        segmenter = VideoSegmenter.from_config(model, config, device)
        with tempfile.TemporaryDirectory() as scratch:
            scores = score_split(segmenter, dataset, Path(scratch) / "gcseg").result.means()
        seconds = float(payload["seconds"]) + offset
        rows.append({"seconds": round(seconds, 1), "minutes": round(seconds / 60, 2),
                     "step": int(payload["step"]),
                     **{key: round(float(value), 4) for key, value in scores.items()}})
    write_json(run_dir / "learning_curve.json", rows)
    return rows


def write_recipe_table(run_dirs: list[str | os.PathLike], out_dir: str | os.PathLike,
                       device: str | None = None, command: str | None = None) -> dict:
    """Gather short runs (each with ``summary.json`` and ``learning_curve.json``) into
    ``<out_dir>/recipe.json`` -- one row per run: its last snapshot's J&F, the minutes, steps,
    device and threads, the settings it changed and its command -- beside the copy-first
    floor of the same validation videos, and ``learning_curves.png`` (J&F against time)."""
    from gcseg.runtime import provenance
    from gcseg.scoring import score_baseline
    from gcseg.viz.training import plot_learning_curve

    out_dir = Path(out_dir)
    rows, curves, roots = [], {}, set()
    for run_dir in map(Path, run_dirs):
        summary = json.loads((run_dir / "summary.json").read_text())
        curve = json.loads((run_dir / "learning_curve.json").read_text())
        config = load_config(run_dir / "config.yaml")
        roots.add(config.data.root)
        last = curve[-1]
        rows.append({"name": run_dir.name, "J&F": last["J&F"], "J": last["J"], "F": last["F"],
                     "minutes": summary["budget_minutes"], "steps": summary["step"],
                     "stopped_by": summary.get("stopped_by", "steps"),
                     "change": ", ".join(summary.get("overrides", [])) or "the recipe",
                     "variant": config.model.variant, "device": summary.get("device"),
                     "threads": summary.get("threads"), "commit": summary.get("commit"),
                     "command": summary.get("command"), "curve": curve})
        curves[run_dir.name] = curve
    if len(roots) != 1:
        raise ValueError(f"the runs were trained on different datasets: {sorted(roots)}")
    root = roots.pop()
    with tempfile.TemporaryDirectory() as scratch:
        copy_first = score_baseline("copy-first", DavisDataset(root, "2017", "val"),
                                    Path(scratch)).result.jf_mean
    record = {"rows": rows, "copy_first": round(float(copy_first), 4), "dataset": root,
              "split": "val", "command": command,
              "device": ", ".join(sorted({str(row["device"]) for row in rows})),
              **{f"table_written_with_{k}": v for k, v in provenance(device or "cpu").items()}}
    write_json(out_dir / "recipe.json", record)
    figure = plot_learning_curve(curves, {"copy-first": record["copy_first"]})
    figure.savefig(out_dir / "learning_curves.png", dpi=100)
    return record

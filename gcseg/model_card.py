"""The JSON card beside a shared checkpoint: how it was made and how well it segments.

``python -m gcseg export --checkpoint RUN/checkpoint.pt --out checkpoints/X.pt --davis DATA``
exports the weights (:func:`gcseg.checkpoint.export_model`) and writes ``checkpoints/X.json``
with the training command's config, seed, commit, device and wall time (from the run's
``summary.json``), and the validation scores measured now with the exported weights: GCSeg's
J&F and the copy-the-first-mask baseline's, on the same split with the same evaluator.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from gcseg.checkpoint import load_checkpoint, load_model
from gcseg.data import DavisDataset
from gcseg.files import write_json
from gcseg.inference import VideoSegmenter
from gcseg.runtime import pick_device, provenance
from gcseg.scoring import score_baseline, score_split

__all__ = ["score_on_split", "training_record", "write_model_card"]


def _rounded(stats: dict[str, float]) -> dict[str, float]:
    """The evaluator's global statistics, rounded to 4 decimals (as a card shows them)."""
    return {key: round(float(value), 4) for key, value in stats.items()}


def score_on_split(model, config, dataset: DavisDataset, device: str | None = None,
                   copy_first: bool = True) -> dict:
    """Segment ``dataset`` with ``model`` (the settings of ``config.inference``) and score it,
    beside copy-first.

    Returns ``{"dataset", "split", "videos", "gcseg", "copy_first_baseline",
    "seconds_per_frame", "segment_seconds", "scored_with_*"}`` (the scores are the evaluator's
    global statistics, rounded to 4 decimals); ``copy_first=False`` leaves the baseline out
    (its ``copy_first_baseline`` is ``None``), for a caller scoring many models of one split."""
    device = pick_device(device)
    segmenter = VideoSegmenter.from_config(model, config, device)
    with tempfile.TemporaryDirectory() as scratch:
        gcseg = score_split(segmenter, dataset, Path(scratch) / "gcseg")
        baseline = (score_baseline("copy-first", dataset, Path(scratch) / "copy-first")
                    if copy_first else None)
    return {
        "dataset": str(dataset.root),
        "split": dataset.split,
        "videos": len(dataset),
        "gcseg": _rounded(gcseg.result.global_stats),
        "copy_first_baseline": None if baseline is None else _rounded(
            baseline.result.global_stats),
        "seconds_per_frame": gcseg.seconds_per_frame,
        "segment_seconds": gcseg.seconds,
        **{f"scored_with_{key}": value for key, value in provenance(device).items()},
    }


def training_record(run_dir: str | os.PathLike) -> dict:
    """Commit, device, threads, torch and wall time of a run, from its ``summary.json``."""
    summary_path = Path(run_dir) / "summary.json"
    training = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    return {
        "commit": training.get("commit"),
        "device": training.get("device"),
        "device_name": training.get("device_name"),
        "threads": training.get("threads"),
        "torch": training.get("torch"),
        "wall_seconds": training.get("seconds"),
    }


def write_model_card(
    exported: str | os.PathLike,
    run_dir: str | os.PathLike,
    davis_root: str | os.PathLike,
    split: str = "val",
    command: str | None = None,
    device: str | None = None,
) -> Path:
    """Score ``exported`` on ``davis_root``/``split`` and write ``<exported>.json``."""
    exported = Path(exported)
    payload = load_checkpoint(exported)
    model, config = load_model(exported, pick_device(device))
    dataset = DavisDataset(davis_root, config.data.year, split, config.data.resolution)
    card = {
        "checkpoint": exported.name,
        "size_bytes": exported.stat().st_size,
        "command": command,
        "config": payload["config"],
        "seed": payload["config"]["train"]["seed"],
        "trained_steps": payload.get("step"),
        "training": training_record(run_dir),
        "validation": score_on_split(model, config, dataset, device),
    }
    return write_json(exported.with_suffix(".json"), card)

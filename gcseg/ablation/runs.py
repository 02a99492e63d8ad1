"""Training and scoring the runs of the ablation tables, and the tables' trivial floors.

A run is one (variant, pre-training, seed) training; runs shared by tables (Table V's ``full``
is Table VII's "without") are trained once.  Each run lives in ``<out>/runs/<key>/`` with its
checkpoint and the results of each scoring; a finished run of the same configuration is reused,
an interrupted one resumed, so an interrupted ablation continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import torch

from gcseg.ablation.plan import SUBSET_ATTRIBUTES, Cell, Run, Scoring, run_config, table_plan
from gcseg.ablation.tables import (
    read_records,
    summary_markdown,
    table_record,
    write_table_csv,
)
from gcseg.config import GCSegConfig
from gcseg.data import DavisDataset
from gcseg.evaluation import EvaluationResult
from gcseg.files import write_json, write_text
from gcseg.runtime import provenance
from gcseg.scoring import SplitScore, score_baseline, score_split

__all__ = ["Workers", "run_ablation"]


@dataclass(frozen=True)
class Workers:
    """How the runs are trained: ``jobs`` at the same time (separate processes), with
    ``threads`` torch threads each."""

    jobs: int = 1
    threads: int = 1


def _validation_videos(config: GCSegConfig, year: str) -> DavisDataset:
    """The validation split read as ``year`` (``2016``: the objects of a video merged)."""
    data = config.data
    return DavisDataset(data.root, year, data.val_split, data.resolution)


# --------------------------------------------------------------------------- one run


def _finished(config: GCSegConfig, run_dir: Path) -> bool:
    summary, saved = run_dir / "summary.json", run_dir / "config.yaml"
    if not (summary.is_file() and saved.is_file() and (run_dir / "checkpoint.pt").is_file()):
        return False
    done = json.loads(summary.read_text())
    return saved.read_text() == config.to_yaml() and done.get("step") == done.get("total_steps")


def _per_sequence(result: EvaluationResult) -> dict[str, dict[str, float]]:
    """``{sequence: {"J", "F", "J&F"}}``: the mean over the sequence's objects (percent)."""
    out: dict[str, list] = {}
    for obj in result.objects:
        out.setdefault(obj.sequence, []).append(obj)
    return {name: {"J": 100 * statistics.fmean(o.j_mean for o in objs),
                   "F": 100 * statistics.fmean(o.f_mean for o in objs),
                   "J&F": 100 * statistics.fmean(o.jf_mean for o in objs),
                   "objects": len(objs)}
            for name, objs in out.items()}


def _scoring_record(score: SplitScore) -> dict:
    """What a run's table cells need of one scoring (percent): J, F, J&F, per attribute, per
    sequence, speed, the frames whose previous mask the Judgment Module rejected and what it
    said of every scored previous mask (rejected, rejection rate, median score)."""
    result, timing = score.result, score.timing
    rejected = sum(s["second_backbone_passes"] for s in timing["sequences"].values())
    return {**result.means(100),
            "attributes": {row.attribute: {"J": 100 * row.j_mean, "F": 100 * row.f_mean,
                                           "J&F": 100 * row.jf_mean, "objects": row.objects}
                           for row in result.attributes},
            "sequences": _per_sequence(result),
            "seconds_per_frame": score.seconds_per_frame,
            "rejected_frames": rejected, "frames": timing["frames"],
            "judgment": {key: timing[key] for key in (
                "judgment_features", "judgments", "rejected", "rejection_rate",
                "median_judgment_score")}}


def initial_weights(weights: str | None) -> dict:
    """What every run's extractor started from: ``model.weights`` and, for a file (the
    foundation, or a state dict), its path and SHA-256, so a record names the exact weights."""
    from gcseg.model.feature_extractor import weights_file

    path = weights_file(weights)
    if path is None or not path.is_file():
        return {"weights": weights}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"weights": weights, "file": str(path), "sha256": digest}


def _calibrated_threshold(config: GCSegConfig, run_dir: Path, model, features: str,
                          device: str) -> float:
    """τ calibrated for the run's model on the training split (cached in the run folder)."""
    from gcseg.inference import VideoSegmenter, calibrate_threshold

    record = run_dir / f"calibration-{features}.json"
    if not record.is_file():
        segmenter = VideoSegmenter.from_config(model, config, device=device,
                                               judgment_features=features)
        data = config.data
        train = DavisDataset(data.root, "2017", data.split, data.resolution)
        write_json(record, calibrate_threshold(segmenter, train).to_dict())
    return float(json.loads(record.read_text())["threshold"])


def _score_run(config: GCSegConfig, run_dir: Path, scoring: Scoring, device: str) -> dict:
    """Segment the validation split read as ``scoring.year`` and score it (cached)."""
    from gcseg.checkpoint import load_model
    from gcseg.inference import VideoSegmenter

    record = run_dir / f"{scoring.key}.json"
    if record.is_file():
        return json.loads(record.read_text())
    results = run_dir / scoring.key
    shutil.rmtree(results, ignore_errors=True)
    model, _ = load_model(run_dir / "checkpoint.pt", device)
    options = {"adaptive_search": scoring.adaptive_search,
               "judgment_features": scoring.judgment_features}
    if scoring.threshold == "calibrated":
        options["threshold"] = _calibrated_threshold(config, run_dir, model,
                                                     scoring.judgment_features, device)
    segmenter = VideoSegmenter.from_config(model, config, device=device, **options)
    out = _scoring_record(score_split(segmenter, _validation_videos(config, scoring.year),
                                      results))
    out["judgment"]["threshold"] = segmenter.options.threshold
    write_json(record, out)
    return out


def _train_run(config: GCSegConfig, run: Run, run_dir: Path, device: str,
               threads: int) -> dict:
    """Train ``run`` (unless finished); returns its record, its scores still to come."""
    from gcseg.train import train

    torch.set_num_threads(threads)
    config = run_config(config, run)
    started = time.perf_counter()
    if not _finished(config, run_dir):
        saved = run_dir / "config.yaml"
        if (run_dir / "checkpoint.pt").is_file() and saved.is_file() \
                and saved.read_text() == config.to_yaml():
            train(config, run_dir, resume=True, device=device, progress=False)  # interrupted
        else:
            shutil.rmtree(run_dir, ignore_errors=True)  # another configuration
            train(config, run_dir, device=device, progress=False)
    summary = json.loads((run_dir / "summary.json").read_text())
    return {"key": run.key, "train_seconds": summary["seconds"], "steps": summary["step"],
            "train_commit": summary.get("commit"), "scores": {},
            "wall_seconds": time.perf_counter() - started}


def _score_group(config: GCSegConfig, run: Run, scorings: list[Scoring], run_dir: Path,
                 device: str, threads: int) -> tuple[dict, float]:
    """Score the trained ``run`` each way of ``scorings``; ``({key: score}, wall seconds)``."""
    torch.set_num_threads(threads)
    config = run_config(config, run)
    started = time.perf_counter()
    scores = {s.key: _score_run(config, run_dir, s, device) for s in scorings}
    return scores, time.perf_counter() - started


def _scoring_groups(scorings: set[Scoring]) -> list[list[Scoring]]:
    """The scorings of one run in groups that can run side by side: those that calibrate τ
    for the same Judgment features share the calibration, so they go together."""
    groups: dict[str, list[Scoring]] = {}
    for scoring in sorted(scorings, key=lambda s: s.key):
        shared = (f"calibration-{scoring.judgment_features}"
                  if scoring.threshold == "calibrated" else scoring.key)
        groups.setdefault(shared, []).append(scoring)
    return list(groups.values())


def _do_runs(config: GCSegConfig, cells: list[Cell], out_dir: Path, device: str,
             workers: Workers) -> dict[str, dict]:
    """Train and score every run the ``cells`` need (each once); ``{run key: record}``.

    With several jobs, a run's scorings are queued as soon as it is trained and share the
    processes with the runs still training, so no process idles while another has work."""
    wanted: dict[Run, set[Scoring]] = {}
    for cell in cells:
        wanted.setdefault(cell.run, set()).add(cell.scoring)
    folders = {run: out_dir / "runs" / run.key for run in wanted}
    records: dict[str, dict] = {}

    def add(run: Run, scored: tuple[dict, float]) -> None:
        records[run.key]["scores"].update(scored[0])
        records[run.key]["wall_seconds"] += scored[1]

    if workers.jobs == 1:
        for run, scorings in wanted.items():
            records[run.key] = _train_run(config, run, folders[run], device, workers.threads)
            for group in _scoring_groups(scorings):
                add(run, _score_group(config, run, group, folders[run], device,
                                      workers.threads))
        return records
    with ProcessPoolExecutor(workers.jobs, mp_context=get_context("spawn")) as pool:
        training = {pool.submit(_train_run, config, run, folders[run], device,
                                workers.threads): run for run in wanted}
        scoring = []
        for trained in as_completed(training):
            run = training[trained]
            records[run.key] = trained.result()
            scoring += [(run, pool.submit(_score_group, config, run, group, folders[run],
                                          device, workers.threads))
                        for group in _scoring_groups(wanted[run])]
        for run, scored in scoring:
            add(run, scored.result())
    return {run.key: records[run.key] for run in wanted}


# --------------------------------------------------------------------------- floors


def _floors(videos: dict[str, DavisDataset], out_dir: Path) -> dict:
    """``empty`` and ``copy-first`` scored on the same videos, per year read (percent)."""
    floors: dict[str, dict] = {}
    for year in sorted(videos):
        for method in ("empty", "copy-first"):
            score = score_baseline(method, videos[year], out_dir / "runs" / f"{method}-{year}")
            floors.setdefault(year, {})[method] = score.result.means(100)
    return floors


def _subset_sequences(videos: DavisDataset) -> list[str]:
    """The videos carrying every attribute of Table VI's subset."""
    attributes = videos.attributes
    return [name for name in videos.sequences
            if all(code in attributes.get(name, []) for code in SUBSET_ATTRIBUTES)]


# --------------------------------------------------------------------------- the tables


def run_ablation(config: GCSegConfig, tables: Sequence[str], seeds: Sequence[int],
                 out_dir: str | os.PathLike, device: str = "cpu",
                 workers: Workers | None = None, command: str | None = None) -> dict[str, dict]:
    """Train, score and tabulate ``tables`` for ``seeds`` into ``out_dir``.

    Args:
        config: the base configuration (data, budget, model size); the tables set the switches.
        tables: any of ``V``, ``VI``, ``VII``.
        seeds: the training (and reference-sampling) seeds; each row is trained once per seed.
        out_dir: results folder: ``<table>.json``, ``<table>.csv`` and ``runs/``.
        device: where to train and segment.
        workers: runs trained at the same time and torch threads per run (default: one run,
            one thread).
        command: the command line to record (default: this function's arguments).

    Returns:
        ``{table: record}``, the records written as ``<out_dir>/<table>.json`` (and ``.csv``),
        each written to a temporary file and renamed, so a failed run never replaces a good
        table; ``<out_dir>/summary.md`` sets every table of the folder out in markdown
        (:func:`~gcseg.ablation.tables.summary_markdown`).
    """
    if config.data.root is None or not Path(config.data.root).is_dir():
        raise FileNotFoundError(f"data.root {config.data.root!r} is not a folder: make the "
                                "benchmark first (python -m gcseg make-synthetic)")
    if not seeds:
        raise ValueError("at least one seed is needed")
    workers = workers or Workers()
    out_dir = Path(out_dir)
    cells = {table: table_plan(table, seeds, config) for table in tables}
    started = time.perf_counter()
    records = _do_runs(config, [c for t in cells.values() for c in t], out_dir, device, workers)
    videos = {year: _validation_videos(config, year)
              for year in {c.scoring.year for t in cells.values() for c in t}}
    floors = _floors(videos, out_dir)
    subset = _subset_sequences(videos["2017"]) if "VI" in cells else []
    meta = {"command": command or f"run_ablation(tables={list(tables)}, seeds={list(seeds)})",
            "config": config.to_dict(), "seeds": list(seeds),
            "wall_seconds": time.perf_counter() - started, "jobs": workers.jobs,
            "threads_per_job": workers.threads,
            "initial_weights": initial_weights(config.model.weights), **provenance(device)}
    out = {}
    for table, table_cells in cells.items():
        record = table_record(table, table_cells, records, floors, subset, meta)
        write_json(out_dir / f"{table}.json", record)
        write_table_csv(out_dir / f"{table}.csv", record)
        out[table] = record
    write_text(out_dir / "summary.md", summary_markdown(read_records(out_dir)))
    return out

"""The paper's ablations (Section IV-C, Tables V-VII), run with one protocol (issue 6).

    python -m gcseg ablate --table V VI VII --config configs/ablation_synthetic.yaml \\
        --seeds 0 1 2 --out results/ablations

An ablation changes one switch and keeps everything else: the data, the training budget, the
seeds and the evaluator. The three tables and their switches:

- **Table V** (components): ``model.variant`` in ``baseline``, ``ref``, ``coseg``, ``full``,
  each trained *without* simulated pre-training (as the paper's Table V), scored with the
  objects of a video merged into one (the benchmark read as DAVIS-2016).
- **Table VI** (Adaptive Search): one ``full`` model per seed, trained as the config says,
  segments the validation videos with the Judgment Module off and on (an inference switch);
  scored per object (read as DAVIS-2017), on all videos and on the videos whose attributes
  include both disappearance/reappearance (``DR``) and occlusion (``OCC``).
- **Table VII** (simulated pre-training): ``full`` without and with stage 1 before the same
  video training, scored as Table V. The "with" row trains ``train.pretrain_steps`` more
  steps in all, as in the paper.

A run is one (variant, pre-training, seed) training; runs shared by tables (Table V's ``full``
is Table VII's "without") are trained once. Each run lives in ``<out>/runs/<key>/`` with its
checkpoint and the results of each scoring; a finished run of the same configuration is
reused, so an interrupted ablation continues where it stopped. ``--jobs`` trains runs in
parallel processes (one thread each by default).

Every table is written as ``<out>/<table>.json`` (rows with mean and standard deviation over
seeds, per-seed numbers, per-attribute breakdown, the trivial ``empty`` and ``copy-first``
floors on the same videos, the paper's numbers, provenance: command, config, seeds, commit,
device, wall time per run) and ``<out>/<table>.csv``, each written to a temporary file and
renamed, so a failed run never replaces a good table. Scores are in percent, as the paper's.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import shutil
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from types import MappingProxyType

import torch

from gcseg.config import VARIANTS, GCSegConfig
from gcseg.runtime import provenance, write_json

__all__ = [
    "PAPER_CLAIMS",
    "PAPER_TABLES",
    "PAPER_TABLE_V",
    "PAPER_TABLE_VI",
    "PAPER_TABLE_VII",
    "TABLES",
    "VARIANT_NAMES",
    "Run",
    "Scoring",
    "claims_table",
    "format_record",
    "paired_difference",
    "read_records",
    "run_ablation",
    "run_config",
    "table_plan",
]

TABLES = ("V", "VI", "VII")
SUBSET_ATTRIBUTES = ("DR", "OCC")
"""Table VI's subset: videos carrying all of these attribute codes."""


def _frozen(table: dict[str, dict[str, float]]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({name: MappingProxyType(row) for name, row in table.items()})


VARIANT_NAMES: Mapping[str, str] = MappingProxyType(
    {"baseline": "baseline", "ref": "Ref", "coseg": "Co-seg", "full": "Ref + Co-seg"})
"""The library's variant names (``ModelConfig.variant``) and the paper's row names."""

PAPER_TABLE_V = _frozen({
    "baseline": {"J": 55.2, "F": 51.3, "J&F": 53.2},
    "ref": {"J": 62.5, "F": 61.2, "J&F": 61.9},
    "coseg": {"J": 61.1, "F": 59.7, "J&F": 60.4},
    "full": {"J": 70.5, "F": 71.7, "J&F": 71.1},
})
"""Table V: each component on DAVIS-2016 val, trained without simulated pre-training."""

PAPER_TABLE_VI = _frozen({
    "off": {"J": 65.1, "F": 68.0, "J&F": 66.6},
    "on": {"J": 65.5, "F": 68.4, "J&F": 67.0},
})
"""Table VI: Adaptive Search off / on, DAVIS-2017 val."""

PAPER_TABLE_VII = _frozen({
    "without": {"J": 70.5, "F": 71.7, "J&F": 71.1},
    "with": {"J": 82.6, "F": 81.7, "J&F": 82.2},
})
"""Simulated pre-training off / on, DAVIS-2016 val.  Table VII's own cells are lost in the
text of the paper we have; these are the two rows of Table II for the same model ("Ours †",
without pre-training on other data, and "Ours"), which the paper's text says Table VII shows."""


PAPER_TABLES = {name: {row: dict(values) for row, values in table.items()}
                for name, table in (("V", PAPER_TABLE_V), ("VI", PAPER_TABLE_VI),
                                    ("VII", PAPER_TABLE_VII))}
"""The paper's J, F, J&F (percent) of each table, as plain dicts (written into the records)."""


PAPER_CLAIMS = {
    "V": [("ref", "baseline"), ("coseg", "baseline"), ("full", "ref"), ("full", "coseg")],
    "VI": [("on", "off")],
    "VII": [("with", "without")],
}
"""What each table claims: ``(better, worse)`` pairs of rows, by J&F."""


@dataclass(frozen=True)
class Run:
    """One training: a variant, with or without simulated pre-training, one seed."""

    variant: str
    pretrain: bool
    seed: int

    @property
    def key(self) -> str:
        return f"{self.variant}-{'pretrained' if self.pretrain else 'scratch'}-seed{self.seed}"


@dataclass(frozen=True)
class Scoring:
    """One scoring of a run: the year the benchmark is read as, and the Adaptive Search."""

    year: str
    adaptive_search: bool

    @property
    def key(self) -> str:
        return f"val-{self.year}-search-{'on' if self.adaptive_search else 'off'}"


@dataclass(frozen=True)
class Cell:
    """Row ``row`` of ``table`` for one seed: which run and which scoring give it."""

    table: str
    row: str
    run: Run
    scoring: Scoring


def table_plan(table: str, seeds: Sequence[int], config: GCSegConfig) -> list[Cell]:
    """The cells of ``table`` (``V``, ``VI`` or ``VII``) for ``seeds``."""
    search = config.inference.adaptive_search
    cells = []
    for seed in seeds:
        if table == "V":
            cells += [Cell("V", v, Run(v, False, seed), Scoring("2016", search)) for v in VARIANTS]
        elif table == "VI":
            run = Run("full", config.train.simulated_pretraining, seed)
            cells += [Cell("VI", name, run, Scoring("2017", on))
                      for name, on in (("off", False), ("on", True))]
        elif table == "VII":
            cells += [Cell("VII", name, Run("full", pretrain, seed), Scoring("2016", search))
                      for name, pretrain in (("without", False), ("with", True))]
        else:
            raise ValueError(f"unknown table {table!r}; choose from {', '.join(TABLES)}")
    return cells


def run_config(config: GCSegConfig, run: Run) -> GCSegConfig:
    """``config`` with the switches of ``run`` (variant, pre-training, seed) set."""
    out = copy.deepcopy(config)
    out.model.variant = run.variant
    out.train.simulated_pretraining = run.pretrain
    out.train.seed = run.seed
    out.inference.seed = run.seed
    out.train.eval_every = 0  # the ablation scores every run itself, on all validation videos
    return out


# --------------------------------------------------------------------------- one run


def _finished(config: GCSegConfig, run_dir: Path) -> bool:
    summary, saved = run_dir / "summary.json", run_dir / "config.yaml"
    if not (summary.is_file() and saved.is_file() and (run_dir / "checkpoint.pt").is_file()):
        return False
    done = json.loads(summary.read_text())
    return saved.read_text() == config.to_yaml() and done.get("step") == done.get("total_steps")


def _score_stats(result) -> dict[str, float]:
    stats = result.global_stats
    return {"J": 100 * stats["J-Mean"], "F": 100 * stats["F-Mean"],
            "J&F": 100 * stats["J&F-Mean"]}


def _per_sequence(result) -> dict[str, dict[str, float]]:
    """``{sequence: {"J", "F", "J&F"}}``: the mean over the sequence's objects (percent)."""
    out: dict[str, list] = {}
    for obj in result.objects:
        out.setdefault(obj.sequence, []).append(obj)
    return {name: {"J": 100 * statistics.fmean(o.j_mean for o in objs),
                   "F": 100 * statistics.fmean(o.f_mean for o in objs),
                   "J&F": 100 * statistics.fmean(o.jf_mean for o in objs),
                   "objects": len(objs)}
            for name, objs in out.items()}


def _score_run(config: GCSegConfig, run_dir: Path, scoring: Scoring, device: str) -> dict:
    """Segment the validation split read as ``scoring.year`` and score it (cached)."""
    from gcseg.checkpoint import load_model
    from gcseg.data.davis import DavisDataset
    from gcseg.evaluation import evaluate
    from gcseg.inference import VideoSegmenter, segment_dataset

    data = config.data
    record = run_dir / f"{scoring.key}.json"
    if record.is_file():
        return json.loads(record.read_text())
    results = run_dir / scoring.key
    shutil.rmtree(results, ignore_errors=True)
    model, _ = load_model(run_dir / "checkpoint.pt", device)
    segmenter = VideoSegmenter.from_config(model, config, device=device,
                                           adaptive_search=scoring.adaptive_search)
    videos = DavisDataset(data.root, scoring.year, data.val_split, data.resolution)
    timing = segment_dataset(segmenter, videos, results, progress=False)
    result = evaluate(data.root, results, data.val_split, scoring.year, data.resolution,
                      progress=False)
    rejected = sum(s["second_backbone_passes"] for s in timing["sequences"].values())
    out = {**_score_stats(result),
           "attributes": {row.attribute: {"J": 100 * row.j_mean, "F": 100 * row.f_mean,
                                          "J&F": 100 * row.jf_mean, "objects": row.objects}
                          for row in result.attributes},
           "sequences": _per_sequence(result),
           "seconds_per_frame": timing["seconds_per_frame"],
           "rejected_frames": rejected, "frames": timing["frames"]}
    write_json(record, out)
    return out


def _do_run(config: GCSegConfig, run: Run, scorings: list[Scoring], run_dir: Path,
            device: str, threads: int) -> dict:
    """Train ``run`` (unless finished) and score it each way; returns its record."""
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
    scores = {s.key: _score_run(config, run_dir, s, device) for s in scorings}
    return {"key": run.key, "train_seconds": summary["seconds"], "steps": summary["step"],
            "train_commit": summary.get("commit"), "scores": scores,
            "wall_seconds": time.perf_counter() - started}


# --------------------------------------------------------------------------- floors


def _floors(config: GCSegConfig, out_dir: Path, years: Iterable[str]) -> dict:
    """``empty`` and ``copy-first`` scored on the same videos, per year read."""
    from gcseg.baselines import run_baseline
    from gcseg.data.davis import DavisDataset
    from gcseg.evaluation import evaluate

    data, floors = config.data, {}
    for year in sorted(set(years)):
        videos = DavisDataset(data.root, year, data.val_split, data.resolution)
        for method in ("empty", "copy-first"):
            results = out_dir / "runs" / f"{method}-{year}"
            run_baseline(method, videos, results, progress=False)
            result = evaluate(data.root, results, data.val_split, year, data.resolution,
                              progress=False)
            floors.setdefault(year, {})[method] = _score_stats(result)
    return floors


# --------------------------------------------------------------------------- tables


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else math.nan)


def _summarise(cells: list[Cell], records: dict[str, dict], key_of) -> list[dict]:
    """One row per row name: mean and std over seeds of what ``key_of(score)`` picks."""
    rows: dict[str, list] = {}
    for cell in cells:
        rows.setdefault(cell.row, []).append(cell)
    out = []
    for name, row_cells in rows.items():
        per_seed = []
        for cell in row_cells:
            score = key_of(records[cell.run.key]["scores"][cell.scoring.key])
            if score is not None:
                per_seed.append({"seed": cell.run.seed, "run": cell.run.key,
                                 "J": score["J"], "F": score["F"], "J&F": score["J&F"]})
        if not per_seed:
            continue
        row = {"name": name}
        for metric in ("J", "F", "J&F"):
            row[metric], row[f"{metric}_std"] = _mean_std([s[metric] for s in per_seed])
        row["seeds"] = len(per_seed)
        row["per_seed"] = per_seed
        out.append(row)
    return out


def _attribute_breakdown(cells: list[Cell], records: dict[str, dict]) -> dict:
    """``{row: {attribute: {"J&F": mean, "J&F_std": std, "objects": n}}}`` over seeds."""
    out: dict[str, dict] = {}
    for cell in cells:
        attributes = records[cell.run.key]["scores"][cell.scoring.key]["attributes"]
        for code, values in attributes.items():
            entry = out.setdefault(cell.row, {}).setdefault(code, {"values": [], "objects": 0})
            entry["values"].append(values["J&F"])
            entry["objects"] = values["objects"]
    for row in out.values():
        for code, entry in row.items():
            mean, std = _mean_std(entry.pop("values"))
            row[code] = {"J&F": mean, "J&F_std": std, "objects": entry["objects"]}
    return out


def _subset_sequences(config: GCSegConfig) -> list[str]:
    from gcseg.data.davis import DavisDataset

    videos = DavisDataset(config.data.root, "2017", config.data.val_split,
                          config.data.resolution)
    attributes = videos.attributes
    return [name for name in videos.sequences
            if all(code in attributes.get(name, []) for code in SUBSET_ATTRIBUTES)]


def _table_record(table: str, cells: list[Cell], records: dict[str, dict],
                  config: GCSegConfig, floors: dict, meta: dict) -> dict:
    rows = _summarise(cells, records, lambda score: score)
    record = {"table": table, "rows": rows, "paper": PAPER_TABLES[table],
              "attributes": _attribute_breakdown(cells, records),
              "floors": floors[cells[0].scoring.year]}
    if table == "VI":
        subset = _subset_sequences(config)
        name = " and ".join(SUBSET_ATTRIBUTES)
        record["subsets"] = {name: {
            "sequences": subset,
            "rows": _summarise(cells, records, lambda score: _subset_from_sequences(score, subset)),
        }}
        record["rejected_frames"] = {
            cell.row: records[cell.run.key]["scores"][cell.scoring.key]["rejected_frames"]
            for cell in cells}
    runs = sorted({cell.run.key for cell in cells})
    record["provenance"] = {**meta, "runs": {key: {k: records[key][k] for k in (
        "train_seconds", "wall_seconds", "steps", "train_commit")} for key in runs}}
    return record


def _subset_from_sequences(score: dict, sequences: list[str]) -> dict | None:
    """Mean over the objects of ``sequences`` from a scoring's per-sequence numbers."""
    chosen = [score["sequences"][name] for name in sequences if name in score["sequences"]]
    if not chosen:
        return None
    weights = [entry["objects"] for entry in chosen]
    return {metric: sum(e[metric] * w for e, w in zip(chosen, weights, strict=True))
            / sum(weights) for metric in ("J", "F", "J&F")}


def _write_csv(path: Path, record: dict) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["table", "subset", "row", "J", "J_std", "F", "F_std", "J&F", "J&F_std",
                     "seeds", "paper J&F"])
    groups = [("all", record["rows"])] + [
        (name, subset["rows"]) for name, subset in record.get("subsets", {}).items()]
    for subset, rows in groups:
        for row in rows:
            paper = record["paper"].get(row["name"], {}).get("J&F", "")
            writer.writerow([record["table"], subset, row["name"]]
                            + [f"{row[k]:.2f}" for k in ("J", "J_std", "F", "F_std", "J&F",
                                                          "J&F_std")]
                            + [row["seeds"], paper])
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buffer.getvalue())
    os.replace(tmp, path)


def _std(value: float | None) -> str:
    """A standard deviation cell; one seed has none (``null`` in the JSON record)."""
    return "  - " if value is None or value != value else f"{value:<3.1f}"


def format_record(record: dict) -> str:
    """A printable table of one table record: mean ± std over seeds, and the paper."""
    lines = [f"Table {record['table']} (percent; mean ± std over seeds)",
             f"{'row':<12}{'J':>14}{'F':>14}{'J&F':>14}{'paper J&F':>11}"]
    groups = [("", record["rows"])] + [
        (f"videos with {name}: ", subset["rows"])
        for name, subset in record.get("subsets", {}).items()]
    for prefix, rows in groups:
        if prefix:
            lines.append(prefix)
        for row in rows:
            cells = "".join(f"{row[m]:>8.1f} ± {_std(row[m + '_std'])}" for m in ("J", "F", "J&F"))
            paper = record["paper"].get(row["name"], {}).get("J&F", float("nan"))
            lines.append(f"{row['name']:<12}{cells}{paper:>11.1f}")
    floors = ", ".join(f"{m} {v['J&F']:.1f}" for m, v in record["floors"].items())
    lines.append(f"floors on the same videos (J&F): {floors}")
    return "\n".join(lines)


def run_ablation(config: GCSegConfig, tables: Sequence[str], seeds: Sequence[int],
                 out_dir: str | os.PathLike, device: str = "cpu", jobs: int = 1,
                 threads: int = 1, command: str | None = None) -> dict[str, dict]:
    """Train, score and tabulate ``tables`` for ``seeds`` into ``out_dir``.

    Args:
        config: the base configuration (data, budget, model size); the tables set the switches.
        tables: any of ``V``, ``VI``, ``VII``.
        seeds: the training (and reference-sampling) seeds; each row is trained once per seed.
        out_dir: results folder: ``<table>.json``, ``<table>.csv`` and ``runs/``.
        device: where to train and segment.
        jobs: runs trained at the same time (separate processes).
        threads: torch threads per run.
        command: the command line to record (default: this function's arguments).

    Returns:
        ``{table: record}``, the records written as ``<out_dir>/<table>.json``.
    """
    if config.data.root is None or not Path(config.data.root).is_dir():
        raise FileNotFoundError(f"data.root {config.data.root!r} is not a folder: make the "
                                "benchmark first (python -m gcseg make-synthetic)")
    if not seeds:
        raise ValueError("at least one seed is needed")
    out_dir = Path(out_dir)
    cells = {table: table_plan(table, seeds, config) for table in tables}
    wanted: dict[Run, set[Scoring]] = {}
    for table_cells in cells.values():
        for cell in table_cells:
            wanted.setdefault(cell.run, set()).add(cell.scoring)
    started = time.perf_counter()
    arguments = [(config, run, sorted(scorings, key=lambda s: s.key),
                  out_dir / "runs" / run.key, device, threads)
                 for run, scorings in wanted.items()]
    if jobs > 1:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            done = list(pool.map(_do_run, *zip(*arguments, strict=True)))
    else:
        done = [_do_run(*args) for args in arguments]
    records = {record["key"]: record for record in done}
    floors = _floors(config, out_dir, {c.scoring.year for t in cells.values() for c in t})
    meta = {"command": command or f"run_ablation(tables={list(tables)}, seeds={list(seeds)})",
            "config": config.to_dict(), "seeds": list(seeds),
            "wall_seconds": time.perf_counter() - started, "jobs": jobs,
            "threads_per_job": threads, **provenance(device)}
    out = {}
    for table, table_cells in cells.items():
        record = _table_record(table, table_cells, records, config, floors, meta)
        write_json(out_dir / f"{table}.json", record)
        _write_csv(out_dir / f"{table}.csv", record)
        out[table] = record
    return out


# --------------------------------------------------------------------------- reading


def read_records(folder: str | os.PathLike) -> dict[str, dict]:
    """``{table: record}`` of the ``<table>.json`` files ``ablate`` wrote in ``folder``
    (tables without a file are left out; a file that is not such a record raises, naming it)."""
    records = {}
    for table in TABLES:
        path = Path(folder) / f"{table}.json"
        if not path.is_file():
            continue
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not readable as JSON ({error})") from None
        if not isinstance(record, dict) or not {"table", "rows", "provenance"} <= set(record):
            raise ValueError(f"{path}: not an ablation record (needs table, rows, provenance)")
        records[table] = record
    return records


def paired_difference(rows: list[dict], better: str, worse: str,
                      metric: str = "J&F") -> tuple[float, float, list[float]]:
    """``better - worse`` per seed (the same seed trains both rows), with its mean and std.

    Returns ``(mean, std, per_seed)``; the std is NaN for one seed."""
    by_name = {row["name"]: {s["seed"]: s[metric] for s in row["per_seed"]} for row in rows}
    seeds = sorted(set(by_name[better]) & set(by_name[worse]))
    diffs = [by_name[better][seed] - by_name[worse][seed] for seed in seeds]
    mean, std = _mean_std(diffs)
    return mean, std, diffs


def claims_table(record: dict, subset: str | None = None) -> str:
    """Each of the paper's claims of ``record``'s table against our per-seed differences.

    A claim *holds* when the mean difference is positive and at least twice its standard
    deviation over seeds, *goes the other way* when negative by as much, and is *not resolved*
    otherwise (our differences are within the seed-to-seed spread)."""
    rows = record["rows"] if subset is None else record["subsets"][subset]["rows"]
    paper = PAPER_TABLES[record["table"]]
    lines = [f"{'claim':<22}{'paper':>8}{'here (per seed)':>34}  verdict"]
    for better, worse in PAPER_CLAIMS[record["table"]]:
        mean, std, diffs = paired_difference(rows, better, worse)
        theirs = paper[better]["J&F"] - paper[worse]["J&F"]
        if len(diffs) > 1 and mean > 0 and mean >= 2 * std:
            verdict = "holds"
        elif len(diffs) > 1 and mean < 0 and -mean >= 2 * std:
            verdict = "goes the other way"
        else:
            verdict = "not resolved"
        seeds = ", ".join(f"{d:+.1f}" for d in diffs)
        lines.append(f"{better + ' > ' + worse:<22}{theirs:>+8.1f}"
                     f"{f'{mean:+.1f} ± {std:.1f} ({seeds})':>34}  {verdict}")
    return "\n".join(lines)

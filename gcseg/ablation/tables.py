"""The ablation tables: scores over seeds (mean and standard deviation), the records written as
``<table>.json`` and ``<table>.csv``, their printed form and the paper's claims against them.
Scores are in percent, as the paper's."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
from pathlib import Path

from gcseg.ablation.plan import (
    PAPER_CLAIMS,
    PAPER_TABLES,
    SUBSET_ATTRIBUTES,
    TABLES,
    VARIANT_NAMES,
    Cell,
)
from gcseg.files import write_text

__all__ = ["claims_table", "format_record", "paired_difference", "read_records",
           "summary_markdown", "table_record", "write_table_csv"]


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


def table_record(table: str, cells: list[Cell], records: dict[str, dict], floors: dict,
                 subset: list[str], meta: dict) -> dict:
    """The record of ``table`` from the records of its runs (``{run key: record}``), the
    floors of each year read, the sequences of Table VI's subset and the provenance ``meta``."""
    rows = _summarise(cells, records, lambda score: score)
    record = {"table": table, "rows": rows, "paper": PAPER_TABLES[table],
              "attributes": _attribute_breakdown(cells, records),
              "floors": floors[cells[0].scoring.year]}
    if table == "VI":
        name = " and ".join(SUBSET_ATTRIBUTES)
        record["subsets"] = {name: {
            "sequences": subset,
            "rows": _summarise(cells, records, lambda score: _subset_from_sequences(score, subset)),
        }}
        record["rejected_frames"] = {
            cell.row: records[cell.run.key]["scores"][cell.scoring.key]["rejected_frames"]
            for cell in cells}
        record["judgment"] = _judgment_by_row(
            cells, records, meta["config"]["inference"]["judgment_threshold"])
    if table == "VII":  # what stage 1 read: offline, never the paper's Pascal VOC + MSRA10K
        record["stage_1_stills"] = list(meta["config"]["data"]["still_sources"])
    runs = sorted({cell.run.key for cell in cells})
    record["provenance"] = {**meta, "runs": {key: {k: records[key][k] for k in (
        "train_seconds", "wall_seconds", "steps", "train_commit")} for key in runs}}
    return record


def _judgment_by_row(cells: list[Cell], records: dict[str, dict], tau: float) -> dict:
    """Per row of Table VI: the Judgment Module's rejection rate (mean and std over seeds), its
    median score and its τ (mean over seeds; ``tau``, the config's, for scorings recorded
    without theirs), from the scorings that ran the search (``None`` for the row without it,
    or for records written before these numbers were kept)."""
    out: dict[str, dict] = {}
    for cell in cells:
        judgment = records[cell.run.key]["scores"][cell.scoring.key].get("judgment")
        row = out.setdefault(cell.row, {"rates": [], "medians": [], "taus": []})
        if judgment and judgment["rejection_rate"] is not None:
            row["rates"].append(judgment["rejection_rate"])
            row["medians"].append(judgment["median_judgment_score"])
            row["taus"].append(judgment.get("threshold", tau))
    summary = {}
    for name, row in out.items():
        mean, std = _mean_std(row["rates"]) if row["rates"] else (None, None)
        summary[name] = {"rejection_rate": mean, "rejection_rate_std": std,
                         "median_judgment_score": (statistics.median(row["medians"])
                                                   if row["medians"] else None),
                         "threshold": statistics.fmean(row["taus"]) if row["taus"] else None,
                         "seeds": len(row["rates"])}
    return summary


def _subset_from_sequences(score: dict, sequences: list[str]) -> dict | None:
    """Mean over the objects of ``sequences`` from a scoring's per-sequence numbers."""
    chosen = [score["sequences"][name] for name in sequences if name in score["sequences"]]
    if not chosen:
        return None
    weights = [entry["objects"] for entry in chosen]
    return {metric: sum(e[metric] * w for e, w in zip(chosen, weights, strict=True))
            / sum(weights) for metric in ("J", "F", "J&F")}


def write_table_csv(path: Path, record: dict) -> None:
    """``record`` as CSV: one line per row (and per row of each subset), with the paper's J&F."""
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
    write_text(path, buffer.getvalue())


def _std(value: float | None) -> str:
    """A standard deviation cell; one seed has none (``null`` in the JSON record)."""
    return "  - " if value is None or value != value else f"{value:<3.1f}"


def _floors_line(floors: dict) -> str:
    """The trivial floors of a record in one line (J&F, percent)."""
    return "floors on the same videos (J&F): " + ", ".join(
        f"{name} {values['J&F']:.1f}" for name, values in floors.items())


def format_record(record: dict) -> str:
    """A printable table of one table record: mean ± std over seeds, and the paper (blank for
    the rows the paper does not have)."""
    groups = [("", record["rows"])] + [
        (f"videos with {name}: ", subset["rows"])
        for name, subset in record.get("subsets", {}).items()]
    width = max(12, *(len(row["name"]) + 2 for _, rows in groups for row in rows))
    lines = [f"Table {record['table']} (percent; mean ± std over seeds)",
             f"{'row':<{width}}{'J':>14}{'F':>14}{'J&F':>14}{'paper J&F':>11}"]
    for prefix, rows in groups:
        if prefix:
            lines.append(prefix)
        for row in rows:
            cells = "".join(f"{row[m]:>8.1f} ± {_std(row[m + '_std'])}" for m in ("J", "F", "J&F"))
            paper = record["paper"].get(row["name"], {}).get("J&F")
            lines.append(f"{row['name']:<{width}}{cells}"
                         f"{'' if paper is None else f'{paper:.1f}':>11}")
    lines.append(_floors_line(record["floors"]))
    return "\n".join(lines)


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


def verdict(mean: float, std: float, seeds: int) -> str:
    """A claim *holds* when the mean paired difference is positive and at least twice its
    standard deviation over seeds, *goes the other way* when negative by as much, and is *not
    resolved* otherwise (within the seed-to-seed spread, or a single seed)."""
    if seeds > 1 and mean > 0 and mean >= 2 * std:
        return "holds"
    if seeds > 1 and mean < 0 and -mean >= 2 * std:
        return "goes the other way"
    return "not resolved"


def claim_verdicts(record: dict, subset: str | None = None) -> list[dict]:
    """Each of the paper's claims of ``record``'s table (``better > worse``): the paper's
    difference, our per-seed paired differences, their mean and std, and the :func:`verdict`."""
    rows = record["rows"] if subset is None else record["subsets"][subset]["rows"]
    paper = PAPER_TABLES[record["table"]]
    claims = []
    for better, worse in PAPER_CLAIMS[record["table"]]:
        mean, std, diffs = paired_difference(rows, better, worse)
        claims.append({"better": better, "worse": worse,
                       "paper": paper[better]["J&F"] - paper[worse]["J&F"],
                       "mean": mean, "std": std, "per_seed": diffs,
                       "verdict": verdict(mean, std, len(diffs))})
    return claims


def claims_table(record: dict, subset: str | None = None) -> str:
    """:func:`claim_verdicts` as a printable table."""
    lines = [f"{'claim':<22}{'paper':>8}{'here (per seed)':>34}  verdict"]
    for claim in claim_verdicts(record, subset):
        seeds = ", ".join(f"{d:+.1f}" for d in claim["per_seed"])
        here = f"{claim['mean']:+.1f} ± {claim['std']:.1f} ({seeds})"
        lines.append(f"{claim['better'] + ' > ' + claim['worse']:<22}{claim['paper']:>+8.1f}"
                     f"{here:>34}  {claim['verdict']}")
    return "\n".join(lines)


_TITLES = {"V": "Table V, the components (objects merged, as DAVIS-2016)",
           "VI": "Table VI, the Adaptive Search (per object, as DAVIS-2017)",
           "VII": "Table VII, simulated pre-training (objects merged, as DAVIS-2016)"}


def _row_lines(rows: list[dict], paper: dict, floor: float | None) -> list[str]:
    lines = ["| row | J&F here | here - copy-first | seeds | paper J&F |",
             "|---|---:|---:|---:|---:|"]
    for row in rows:
        against = "" if floor is None else f"{row['J&F'] - floor:+.1f}"
        paper_jf = paper.get(row["name"], {}).get("J&F")
        lines.append(f"| {VARIANT_NAMES.get(row['name'], row['name'])} | {row['J&F']:.1f} ± "
                     f"{_std(row['J&F_std']).strip()} | {against} | {row['seeds']} | "
                     f"{'' if paper_jf is None else f'{paper_jf:.1f}'} |")
    return lines


def _claim_lines(record: dict, subset: str | None = None) -> list[str]:
    lines = ["| claim | paper | here: mean ± std (per seed) | verdict |", "|---|---:|---|---|"]
    for claim in claim_verdicts(record, subset):
        seeds = ", ".join(f"{d:+.1f}" for d in claim["per_seed"])
        lines.append(f"| {claim['better']} > {claim['worse']} | {claim['paper']:+.1f} | "
                     f"{claim['mean']:+.1f} ± {_std(claim['std']).strip()} ({seeds}) | "
                     f"{claim['verdict']} |")
    return lines


def _further_lines(record: dict, subset: str | None = None) -> list[str]:
    """The rows the paper does not have (Table VI's looks into the Judgment Module), each
    against the table's first row as paired differences: what they change, not a claim."""
    rows = record["rows"] if subset is None else record["subsets"][subset]["rows"]
    first = rows[0]["name"]
    extra = [row["name"] for row in rows[1:] if row["name"] not in PAPER_TABLES[record["table"]]]
    if not extra:
        return []
    lines = [f"| further row against {first} (not a claim of the paper) | here: mean ± std "
             "(per seed) | verdict |", "|---|---|---|"]
    for name in extra:
        mean, std, diffs = paired_difference(rows, name, first)
        seeds = ", ".join(f"{d:+.1f}" for d in diffs)
        lines.append(f"| {name} | {mean:+.1f} ± {_std(std).strip()} ({seeds}) | "
                     f"{verdict(mean, std, len(diffs))} |")
    return lines + [""]


def summary_markdown(records: dict[str, dict]) -> str:
    """``{table: record}`` as one markdown page, written by ``ablate`` as ``summary.md``: per
    table, each row's J&F (percent, mean ± std over seeds) against the ``copy-first`` floor
    on the same videos and the paper's, then each of the paper's claims as paired differences
    with its :func:`verdict` (and each row the paper does not have against the table's first
    row), then what the records name (weights, commit, device, wall time)."""
    lines = ["# Ablation tables (written by `python -m gcseg ablate`; do not edit)", ""]
    for table, record in records.items():
        floors = record["floors"]
        lines += [f"## {_TITLES[table]}", ""]
        lines += _row_lines(record["rows"], record["paper"], floors["copy-first"]["J&F"])
        lines += ["", _floors_line(floors), ""]
        lines += _claim_lines(record) + [""] + _further_lines(record)
        for name, subset in record.get("subsets", {}).items():
            lines += [f"Videos with {name} ({len(subset['sequences'])}):", ""]
            lines += _row_lines(subset["rows"], {}, None) + [""]
            lines += _claim_lines(record, name) + [""] + _further_lines(record, name)
        notes = [f"- Judgment Module, row {row}: "
                 + ("" if said.get("threshold") is None else f"τ {said['threshold']:.3f}, ")
                 + f"{100 * said['rejection_rate']:.1f} % of previous masks rejected (± "
                 f"{100 * said['rejection_rate_std']:.1f} over seeds), median score "
                 f"{said['median_judgment_score']:.3f}"
                 for row, said in record.get("judgment", {}).items()
                 if said["rejection_rate"] is not None]
        if "stage_1_stills" in record:
            notes.append(f"- Stage-1 stills: {', '.join(record['stage_1_stills'])}")
        lines += notes + ([""] if notes else [])
    if records:
        lines += ["## Provenance", ""] + _provenance_lines(records)
    return "\n".join(lines)


def _provenance_lines(records: dict[str, dict]) -> list[str]:
    """What produced the records: one block per command run (tables written by one
    ``ablate`` share it; a table re-run later gets its own)."""
    runs: dict[tuple, list[str]] = {}
    for table, record in records.items():
        prov = record["provenance"]
        runs.setdefault((prov["command"], prov["commit"], prov["wall_seconds"]), []).append(table)
    lines = []
    for tables in runs.values():
        prov = records[tables[0]]["provenance"]
        weights = prov.get("initial_weights", {})
        digest = f", SHA-256 {weights['sha256'][:16]}…" if "sha256" in weights else ""
        heading = f"Table{'s' if len(tables) > 1 else ''} {', '.join(tables)}"
        lines += [f"{heading}:", "",
                  f"- command: `{prov['command']}`",
                  f"- initial weights: {weights.get('weights')}{digest}",
                  f"- seeds {prov['seeds']}; commit {prov['commit']}; {prov['device']} "
                  f"({prov['device_name']}), torch {prov['torch']}; {prov['jobs']} jobs of "
                  f"{prov['threads_per_job']} thread(s); {prov['wall_seconds'] / 60:.0f} minutes "
                  "of wall time", ""]
    return lines

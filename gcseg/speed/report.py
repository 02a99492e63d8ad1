"""The speed benchmark as a whole: every case, then the flat-memory check, as one report.

:func:`run_benchmark` measures the cases one after the other (a progress line each) and returns
a JSON-ready report (written to a file when asked): the command, the environment (device, its
name, threads, torch version, commit, precision, layout, compilation, what memory is measured),
the settings, one row per case (:func:`gcseg.speed.measure.measure_case`), the ratios of
``full`` with K = 1, n = 3 to the backbone alone (:func:`ratio_summary`) and the memory check.
:func:`format_results` prints the rows as a plain text table.

On CUDA the benchmark switches ``torch.backends.cudnn.benchmark`` on: the frame size is fixed,
so cuDNN may pick the fastest kernels once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from gcseg.config import NUM_REFERENCES
from gcseg.files import write_json
from gcseg.runtime import provenance
from gcseg.speed.cases import BenchCase, BenchSettings
from gcseg.speed.measure import measure_case, measure_rgmp, memory_check
from gcseg.speed.memory import MemoryProbe

__all__ = ["format_results", "ratio_summary", "run_benchmark"]


def ratio_summary(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``full`` with K = 1, n = 3 against the backbone alone, per backbone and size."""
    return [{"backbone": row["backbone"], "size": row["size"],
             "seconds_per_frame": row["seconds_per_frame"],
             "backbone_seconds": row["backbone_seconds"], "ratio": row["ratio"],
             "rgmp_seconds_per_frame": row.get("rgmp_seconds_per_frame"),
             "x_rgmp": row.get("x_rgmp")}
            for row in results
            if row["variant"] == "full" and row["objects"] == 1
            and row["refs"] == NUM_REFERENCES]


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first three left-aligned, numbers right."""
    widths = [max(len(str(row[i])) for row in [columns, *rows]) for i in range(len(columns))]
    lines = ["  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in [columns, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _size(size: Sequence[int]) -> str:
    return f"{size[0]}x{size[1]}"


def format_results(results: Sequence[dict[str, Any]]) -> str:
    """The results as a plain text table (one row per case), then the ratios of ``full``."""
    peer = any("rgmp_seconds_per_frame" in row for row in results)
    columns = ["variant", "backbone", "size", "K", "n", "ms/frame", "fps", "backbone ms",
               "x backbone", "refs/frame", "peak +MB"] + (["RGMP ms", "x RGMP"] if peer else [])
    rows = [[row["variant"], row["backbone"], _size(row["size"]), str(row["objects"]),
             "-" if row["refs"] is None else str(row["refs"]),
             f"{1e3 * row['seconds_per_frame']:.1f}", f"{row['frames_per_second']:.2f}",
             f"{1e3 * row['backbone_seconds_objects']:.1f}", f"{row['ratio']:.2f}",
             f"{row['references_per_frame']:.2f}", f"{row['peak_growth_mb']:.0f}"]
            + ([f"{1e3 * row['rgmp_seconds_per_frame']:.1f}", f"{row['x_rgmp']:.2f}"]
               if "rgmp_seconds_per_frame" in row else ["-", "-"] if peer else [])
            for row in results]
    text = _table(columns, rows)
    ratios = ratio_summary(results)
    if ratios:
        text += f"\n\nfull (K = 1, n = {NUM_REFERENCES}) / backbone alone" + (
            " and / RGMP" if peer else "") + ":\n" + _table(
            ["backbone", "size", "ms/frame", "backbone ms", "ratio"]
            + (["RGMP ms", "x RGMP"] if peer else []),
            [[r["backbone"], _size(r["size"]), f"{1e3 * r['seconds_per_frame']:.1f}",
              f"{1e3 * r['backbone_seconds']:.1f}", f"{r['ratio']:.2f}"]
             + ([f"{1e3 * r['rgmp_seconds_per_frame']:.1f}", f"{r['x_rgmp']:.2f}"]
                if peer else []) for r in ratios])
    return text


def _environment(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    return {**provenance(device), "dtype": settings.dtype,
            "channels_last": settings.channels_last,
            "compile": settings.compile if settings.compile else False,
            "cudnn_benchmark": device.type == "cuda",
            "memory_measure": MemoryProbe(device).measure}


def _measure_all(cases: Sequence[BenchCase], settings: BenchSettings,
                 log: Callable[[str], None]) -> list[dict[str, Any]]:
    results, peers = [], {}
    for index, case in enumerate(cases, start=1):
        row = measure_case(case, settings)
        if settings.rgmp:  # RGMP once per backbone, size and K, beside every variant
            key = (case.backbone, case.size, case.objects)
            if key not in peers:
                peers[key] = measure_rgmp(case, settings)
            row.update(peers[key])
            row["x_rgmp"] = row["seconds_per_frame"] / row["rgmp_seconds_per_frame"]
        results.append(row)
        versus = (f", RGMP {1e3 * row['rgmp_seconds_per_frame']:.1f} ms (x{row['x_rgmp']:.2f})"
                  if settings.rgmp else "")
        log(f"[{index}/{len(cases)}] {case.label}: {1e3 * row['seconds_per_frame']:.1f} "
            f"ms/frame ({row['frames_per_second']:.2f} fps), backbone "
            f"{1e3 * row['backbone_seconds_objects']:.1f} ms, x{row['ratio']:.2f}, "
            f"peak +{row['peak_growth_mb']:.0f} MB{versus}")
    return results


def _check_memory(cases: Sequence[BenchCase], settings: BenchSettings,
                  log: Callable[[str], None]) -> dict[str, Any] | None:
    """The flat-memory check on ``full``, K = 1, n = 3, with the backbone and size of the
    first case of the smallest frame size (``None`` when switched off or without cases)."""
    if settings.memory_frames <= 0 or not cases:
        return None
    smallest = min(cases, key=lambda c: (c.size[0] * c.size[1], cases.index(c)))
    probe_case = BenchCase("full", smallest.backbone, smallest.size, 1, NUM_REFERENCES)
    log(f"flat memory: {probe_case.label}, {settings.memory_frames} and "
        f"{2 * settings.memory_frames} frames")
    memory = memory_check(probe_case, settings.memory_frames, settings)
    log(f"  memory {memory['memory_mb'][0]:.0f} -> {memory['memory_mb'][1]:.0f} MB "
        f"({memory['memory_growth_mb_per_1000_frames']:+.1f} MB per 1000 frames), cache "
        f"{memory['cache_bytes_per_frame'] / 1e3:.1f} kB per frame")
    return memory


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
    environment = _environment(settings, device)
    log(f"{len(cases)} configurations on {environment['device']} "
        f"({environment['device_name']}), {environment['threads']} thread(s), "
        f"torch {environment['torch']}, {settings.dtype}")
    results = _measure_all(cases, settings, log)
    memory = _check_memory(cases, settings, log)
    report = {
        "what": "seconds per frame of gcseg.inference.VideoSegmenter on a synthetic video "
                "(random weights), of its backbone alone, and of RGMP's network on the same "
                "input (gcseg.speed.rgmp; python -m gcseg bench)",
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

"""The main job on the built-in synthetic benchmark (``make demo`` / ``python -m gcseg demo``).

Steps: generate the synthetic benchmark (or reuse it when its parameters match), run the
copy-the-first-mask baseline on the validation split, score it with the DAVIS evaluator, and
write a small report folder.  Later stages (training and segmenting with GCSeg) add their rows
to the same table.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from gcseg.baselines import run_baseline
from gcseg.data.davis import DavisDataset
from gcseg.data.synthetic import make_synthetic
from gcseg.evaluation import evaluate

__all__ = ["DEMO_SETTINGS", "run_demo"]

DEMO_SETTINGS = {
    "full": {"n_train": 20, "n_val": 10, "frames": (24, 40), "size": (240, 432)},
    "quick": {"n_train": 2, "n_val": 3, "frames": (8, 12), "size": (96, 160)},
}
"""Benchmark sizes of the demo: the default one and the one ``--quick`` (tests) uses."""


def _prepare_benchmark(root: Path, seed: int, settings: dict) -> Path:
    """Generate the benchmark unless ``root`` already holds one made with the same settings."""
    meta = root / "synthetic.json"
    if meta.is_file():
        recorded = json.loads(meta.read_text())
        wanted = {"seed": seed, **{k: list(v) if isinstance(v, tuple) else v
                                   for k, v in settings.items()}}
        if all(recorded.get("parameters", {}).get(k) == v for k, v in wanted.items()):
            print(f"reusing the synthetic benchmark in {root}")
            return root
        print(f"{root} was made with other settings; generating it again")
    return make_synthetic(root, seed=seed, overwrite=True, **settings)


def run_demo(workdir: str | os.PathLike = "runs/demo", seed: int = 0, quick: bool = False) -> Path:
    """Run the demo end to end; returns the report folder (``<workdir>/report``)."""
    workdir = Path(workdir)
    settings = DEMO_SETTINGS["quick" if quick else "full"]
    root = _prepare_benchmark(workdir / "synthetic", seed, settings)
    dataset = DavisDataset(root, year="2017", split="val")

    report = workdir / "report"
    report.mkdir(parents=True, exist_ok=True)
    rows = []
    for method in ("copy-first",):
        results = workdir / "results" / method
        start = time.perf_counter()
        run_baseline(method, dataset, results)
        result = evaluate(root, results, split="val", year="2017")
        result.write_csvs(report / method)
        rows.append((method, result.global_stats, time.perf_counter() - start))
        print(result.table())

    lines = [f"Synthetic benchmark {root} (seed {seed}), val split, {len(dataset)} videos",
             f"{'method':<14}{'J&F-Mean':>10}{'J-Mean':>9}{'F-Mean':>9}{'seconds':>9}"]
    for method, stats, seconds in rows:
        lines.append(f"{method:<14}{stats['J&F-Mean']:>10.3f}{stats['J-Mean']:>9.3f}"
                     f"{stats['F-Mean']:>9.3f}{seconds:>9.1f}")
    summary = "\n".join(lines)
    (report / "summary.txt").write_text(summary + "\n")
    print("\n" + summary)
    print(f"\nreport written to {report}")
    return report

"""The main job on the built-in synthetic benchmark (``make demo`` / ``python -m gcseg demo``).

1. Generate the synthetic benchmark (or reuse it when its parameters match).
2. Score the copy-the-first-mask baseline on the validation split.
3. Segment and score it with the shipped model, ``checkpoints/tiny_synthetic.pt`` (or the
   model given by ``--checkpoint``).
4. With ``--train-minutes M``: train a fresh ``full`` model from the foundation with the
   short-run recipe (:mod:`gcseg.short_run`) for M minutes of wall time, score snapshots of it
   along the way (the learning curve), then segment and score it.
5. Write a report folder: the J&F table and the per-attribute breakdown with one column per
   method, the learning curve, overlay filmstrips of every validation video (ground truth, then
   each model) and an animated GIF of one.

Every number in the report comes from this run; ``report/summary.json`` has a row per method and
records the command's settings, seed, device and commit.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image

from gcseg.baselines import run_baseline
from gcseg.checkpoint import SHIPPED_CHECKPOINT, CheckpointError, load_model
from gcseg.config import get_preset
from gcseg.data.davis import DavisDataset, read_annotation
from gcseg.data.synthetic import make_synthetic
from gcseg.evaluation import EvaluationResult, evaluate
from gcseg.inference import VideoSegmenter, segment_dataset
from gcseg.runtime import pick_device, provenance
from gcseg.viz.frames import label_strip, overlay, save_gif, side_by_side

__all__ = ["DEMO_SETTINGS", "demo_config", "prepare_benchmark", "run_demo"]

DEMO_SETTINGS = {
    "full": {
        "benchmark": {"n_train": 20, "n_val": 10, "frames": (24, 40), "size": (240, 432)},
        "train": {"steps": 300, "recurrent_steps": 20},
    },
    "quick": {
        "benchmark": {"n_train": 2, "n_val": 2, "frames": (6, 8), "size": (96, 160)},
        "train": {"steps": 2, "recurrent_steps": 1},
    },
}
"""Benchmark size of the demo and of ``--quick`` (the tests); the step counts are those of
:func:`demo_config`'s fixed-step run (the notebooks' quick mode)."""


def demo_config(root: Path, quick: bool, seed: int):
    """The ``tiny`` preset with the demo's data and a fixed number of steps (random weights:
    the notebooks' quick-mode model)."""
    settings = DEMO_SETTINGS["quick" if quick else "full"]
    config = get_preset("tiny")
    config.data.root = str(root)
    config.data.frame_size = settings["benchmark"]["size"]
    config.train.seed = seed
    config.train.steps = settings["train"]["steps"]
    config.train.recurrent_steps = settings["train"]["recurrent_steps"]
    config.train.recurrent_clip_len = 3
    config.train.log_every = 1 if quick else 20
    config.train.checkpoint_every = 100
    if quick:
        config.model.coseg_dim = config.model.ref_dim = config.model.decoder_dim = 16
    return config


def prepare_benchmark(root: Path, seed: int, settings: dict) -> Path:
    """Generate the benchmark unless ``root`` already holds one made with the same settings."""
    meta = root / "synthetic.json"
    if meta.is_file():
        recorded = json.loads(meta.read_text()).get("parameters", {})
        wanted = {"seed": seed, **{k: list(v) if isinstance(v, tuple) else v
                                   for k, v in settings.items()}}
        if all(recorded.get(k) == v for k, v in wanted.items()):
            print(f"reusing the synthetic benchmark in {root}")
            return root
        print(f"{root} was made with other settings; generating it again")
    return make_synthetic(root, seed=seed, overwrite=True, **settings)


def _train_fresh(root: Path, run_dir: Path, minutes: float, seed: int, device) -> dict:
    """A fresh ``full`` model from the foundation, trained for ``minutes`` (or the finished run
    of the same budget already in ``run_dir``); returns the run's summary."""
    from gcseg.short_run import recipe_config, train_or_reuse

    recipe = "gpu" if device.type == "cuda" else "cpu"
    config = recipe_config(root, recipe, variant="full", seed=seed)
    finish = time.strftime("%H:%M", time.localtime(time.time() + 60 * minutes))
    print(f"a fresh full model from the foundation ({recipe} recipe), {minutes:g} minutes "
          f"on {device} (until about {finish} when it trains)")
    return train_or_reuse(config, run_dir, minutes, device)


def _row(name: str, result: EvaluationResult, seconds_per_frame: float | None) -> dict:
    stats = result.global_stats
    return {"method": name, "J&F": stats["J&F-Mean"], "J": stats["J-Mean"],
            "F": stats["F-Mean"], "seconds_per_frame": seconds_per_frame}


def _table(rows: list[dict]) -> str:
    width = max(22, *(len(row["method"]) + 2 for row in rows))
    lines = [f"{'method':<{width}}{'J&F':>8}{'J':>8}{'F':>8}{'s/frame':>10}"]
    for row in rows:
        speed = "" if row["seconds_per_frame"] is None else f"{row['seconds_per_frame']:.3f}"
        lines.append(f"{row['method']:<{width}}{row['J&F']:>8.3f}{row['J']:>8.3f}{row['F']:>8.3f}"
                     f"{speed:>10}")
    return "\n".join(lines)


def _attribute_table(results: dict[str, EvaluationResult]) -> str:
    names = list(results)
    lines = [f"{'attribute':<10}{'objects':>8}" + "".join(f"{n:>22}" for n in names)]
    first = results[names[0]].attributes
    for index, row in enumerate(first):
        cells = "".join(f"{results[n].attributes[index].jf_mean:>22.3f}" for n in names)
        lines.append(f"{row.attribute:<10}{row.objects:>8}{cells}")
    return "J&F by attribute (objects of the videos with it)\n" + "\n".join(lines)


def _pictures(dataset: DavisDataset, results: dict[str, Path], out: Path) -> list[Path]:
    """A filmstrip per video (ground truth on top, then one strip per method in ``results``:
    ``{name: results folder}``) and a GIF of the first video (ground truth beside each)."""
    written = []
    gap_rows = 4
    for index, sequence in enumerate(dataset):
        def predicted(folder: Path, t: int, sequence=sequence) -> np.ndarray:
            return read_annotation(folder / sequence.name / f"{sequence.frame_names[t]}.png",
                                   require_palette=False)

        picks = sorted({int(round(i)) for i in np.linspace(0, len(sequence) - 1, 5)})
        frames = {t: sequence.frame(t) for t in picks}
        strips = [label_strip(frames, {t: sequence.annotation(t) for t in picks}, picks)]
        for folder in results.values():
            strips.append(label_strip(frames, {t: predicted(folder, t) for t in picks}, picks))
        gap = np.full((gap_rows, strips[0].shape[1], 3), 255, np.uint8)
        stacked = [part for strip in strips for part in (strip, gap)][:-1]
        path = out / "overlays" / f"{sequence.name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(stacked)).save(path)
        written.append(path)
        if index == 0:
            animation = [
                side_by_side([overlay(sequence.frame(t), sequence.annotation(t))]
                             + [overlay(sequence.frame(t), predicted(folder, t))
                                for folder in results.values()])
                for t in range(len(sequence))
            ]
            written.append(save_gif(animation, out / f"{sequence.name}.gif"))
    return written


def _learning_curve_figure(curve: list[dict], log_dir: Path, floors: dict[str, float],
                           offset_seconds: float = 0.0):
    """The fresh run: its training loss and its validation J&F against the minutes of its
    budget (``offset_seconds``: the step timing before the training started)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from gcseg.short_run import plot_learning_curve
    from gcseg.train import read_log

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    losses, _ = read_log(log_dir)
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
    figure.tight_layout()
    return figure


def run_demo(workdir: str | os.PathLike = "runs/demo", seed: int = 0, quick: bool = False,
             checkpoint: str | os.PathLike | None = None, device: str | None = None,
             train_minutes: float | None = None) -> Path:
    """Run the demo end to end; returns the report folder (``<workdir>/report``).

    ``checkpoint`` (default: the shipped model) is segmented and scored beside copy-first;
    ``train_minutes`` also trains a fresh ``full`` model from the foundation for that many
    minutes and scores it beside them."""
    from gcseg.short_run import learning_curve

    workdir = Path(workdir)
    settings = DEMO_SETTINGS["quick" if quick else "full"]
    device = pick_device(device)
    checkpoint = Path(checkpoint) if checkpoint is not None else SHIPPED_CHECKPOINT
    if not checkpoint.is_file():
        raise CheckpointError(f"{checkpoint}: checkpoint not found (the shipped model comes "
                              "with the repository: git checkout checkpoints/)")
    started = time.perf_counter()
    root = prepare_benchmark(workdir / "synthetic", seed, settings["benchmark"])
    dataset = DavisDataset(root, year="2017", split="val")

    scored: dict[str, EvaluationResult] = {}
    folders: dict[str, Path] = {}
    rows = []
    baseline_dir = workdir / "results" / "copy-first"
    run_baseline("copy-first", dataset, baseline_dir, progress=False)
    scored["copy-first"] = evaluate(root, baseline_dir, progress=False)
    rows.append(_row("copy-first baseline", scored["copy-first"], None))

    def segment(name: str, model_path: Path, folder: str, **extra) -> None:
        model, config = load_model(model_path, device)
        segmenter = VideoSegmenter.from_config(model, config, device)
        results_dir = workdir / "results" / folder
        timing = segment_dataset(segmenter, dataset, results_dir, progress=not quick)
        scored[folder] = evaluate(root, results_dir, progress=False)
        folders[name] = results_dir
        rows.append({**_row(name, scored[folder], timing["seconds_per_frame"]),
                     "model": str(model_path), **extra})

    print(f"segmenting with {checkpoint} ...")
    segment(f"GCSeg shipped ({checkpoint.stem})", checkpoint, "shipped")
    curve, run_dir = None, None
    if train_minutes is not None:
        run_dir = workdir / f"train-{train_minutes:g}min-seed{seed}"
        summary = _train_fresh(root, run_dir, train_minutes, seed, device)
        print("scoring the snapshots of the fresh run (its learning curve) ...")
        curve = learning_curve(run_dir, root, device=str(device))
        segment(f"GCSeg fresh, {train_minutes:g} min here", run_dir / "checkpoint.pt",
                "fresh", trained_minutes=train_minutes, steps=summary["step"],
                stopped_by=summary.get("stopped_by", "steps"), learning_curve=curve)

    report = workdir / "report"
    partial = workdir / ".report.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, result in scored.items():
        result.write_csvs(partial / name)
    table = _table(rows)
    attributes = _attribute_table(scored) if scored["shipped"].attributes else ""
    sources = [f"shipped model: {checkpoint}"]
    if run_dir is not None:
        sources.append(f"fresh model: trained here from the foundation for {train_minutes:g} "
                       f"minutes ({rows[-1]['steps']} steps) in {run_dir}")
    header = (f"Synthetic benchmark {root} (seed {seed}), val split: {len(dataset)} videos; "
              f"device {device}.\n" + "\n".join(sources))
    text = "\n\n".join(part for part in (header, table, attributes) if part)
    (partial / "summary.txt").write_text(text + "\n")
    (partial / "summary.json").write_text(json.dumps({
        "rows": rows, "seed": seed, "quick": quick, "checkpoint": str(checkpoint),
        "train_minutes": train_minutes,
        "benchmark": {k: list(v) if isinstance(v, tuple) else v
                      for k, v in settings["benchmark"].items()},
        "wall_seconds": time.perf_counter() - started, **provenance(device),
    }, indent=2))
    if curve is not None:
        floors = {"copy-first": rows[0]["J&F"], "shipped model": rows[1]["J&F"]}
        figure = _learning_curve_figure(curve, run_dir, floors,
                                        summary.get("calibration_seconds", 0.0))
        figure.savefig(partial / "learning_curve.png", dpi=100)
        import matplotlib.pyplot as plt

        plt.close(figure)
    _pictures(dataset, folders, partial)
    if report.exists():
        old = workdir / ".report.old"
        shutil.rmtree(old, ignore_errors=True)
        report.rename(old)
        partial.rename(report)
        shutil.rmtree(old)
    else:
        partial.rename(report)
    print("\n" + text)
    print(f"\nreport written to {report}")
    return report

"""The main job on the built-in synthetic benchmark (``make demo`` / ``python -m gcseg demo``).

1. Generate the synthetic benchmark (or reuse it when its parameters match).
2. Score the copy-the-first-mask baseline on the validation split.
3. Train the ``tiny`` preset for a few minutes on the training split -- or, with
   ``--checkpoint``, load a trained model such as the shipped ``checkpoints/tiny_synthetic.pt``.
4. Segment the validation split with GCSeg and score it with the DAVIS evaluator.
5. Write a report folder: the J&F table, the per-attribute breakdown, overlay filmstrips of
   every validation video and an animated GIF of one.

Every number in the report comes from this run; ``report/summary.json`` records the command's
settings, seed, device and commit.
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
from gcseg.checkpoint import load_model
from gcseg.config import get_preset
from gcseg.data.davis import DavisDataset, read_annotation
from gcseg.data.synthetic import make_synthetic
from gcseg.evaluation import EvaluationResult, evaluate
from gcseg.inference import VideoSegmenter, segment_dataset
from gcseg.runtime import pick_device, provenance
from gcseg.train import train
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
"""Benchmark size and training budget of the demo, and of ``--quick`` (the tests)."""


def demo_config(root: Path, quick: bool, seed: int):
    """The ``tiny`` preset with the demo's data and budget."""
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


def _train(config, run_dir: Path, device) -> Path:
    """Train (or finish / reuse a finished run of the same config) into ``run_dir``."""
    checkpoint = run_dir / "checkpoint.pt"
    resume = checkpoint.is_file()
    try:
        train(config, run_dir, resume=resume, device=str(device))
    except ValueError:  # a previous run of another config: start afresh
        shutil.rmtree(run_dir)
        train(config, run_dir, device=str(device))
    return checkpoint


def _row(name: str, result: EvaluationResult, seconds_per_frame: float | None) -> dict:
    stats = result.global_stats
    return {"method": name, "J&F": stats["J&F-Mean"], "J": stats["J-Mean"],
            "F": stats["F-Mean"], "seconds_per_frame": seconds_per_frame}


def _table(rows: list[dict]) -> str:
    lines = [f"{'method':<22}{'J&F':>8}{'J':>8}{'F':>8}{'s/frame':>10}"]
    for row in rows:
        speed = "" if row["seconds_per_frame"] is None else f"{row['seconds_per_frame']:.3f}"
        lines.append(f"{row['method']:<22}{row['J&F']:>8.3f}{row['J']:>8.3f}{row['F']:>8.3f}"
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


def _pictures(dataset: DavisDataset, results_dir: Path, out: Path) -> list[Path]:
    """A filmstrip per video (ground truth above, GCSeg below) and a GIF of the first."""
    written = []
    for index, sequence in enumerate(dataset):
        names = sequence.frame_names

        def predicted(t: int, folder: Path = results_dir / sequence.name,
                      names: list[str] = names) -> np.ndarray:
            return read_annotation(folder / f"{names[t]}.png", require_palette=False)

        picks = sorted({int(round(i)) for i in np.linspace(0, len(sequence) - 1, 5)})
        frames = {t: sequence.frame(t) for t in picks}
        top = label_strip(frames, {t: sequence.annotation(t) for t in picks}, picks)
        bottom = label_strip(frames, {t: predicted(t) for t in picks}, picks)
        gap = np.full((4, top.shape[1], 3), 255, np.uint8)
        path = out / "overlays" / f"{sequence.name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate([top, gap, bottom])).save(path)
        written.append(path)
        if index == 0:
            animation = [
                side_by_side([overlay(sequence.frame(t), sequence.annotation(t)),
                              overlay(sequence.frame(t), predicted(t))])
                for t in range(len(sequence))
            ]
            written.append(save_gif(animation, out / f"{sequence.name}.gif"))
    return written


def run_demo(workdir: str | os.PathLike = "runs/demo", seed: int = 0, quick: bool = False,
             checkpoint: str | os.PathLike | None = None, device: str | None = None) -> Path:
    """Run the demo end to end; returns the report folder (``<workdir>/report``)."""
    workdir = Path(workdir)
    settings = DEMO_SETTINGS["quick" if quick else "full"]
    device = pick_device(device)
    started = time.perf_counter()
    root = prepare_benchmark(workdir / "synthetic", seed, settings["benchmark"])
    dataset = DavisDataset(root, year="2017", split="val")

    scored: dict[str, EvaluationResult] = {}
    rows = []
    baseline_dir = workdir / "results" / "copy-first"
    run_baseline("copy-first", dataset, baseline_dir, progress=False)
    scored["copy-first"] = evaluate(root, baseline_dir, progress=False)
    rows.append(_row("copy-first baseline", scored["copy-first"], None))

    if checkpoint is None:
        config = demo_config(root, quick, seed)
        print(f"training the tiny preset for {config.train.steps} + "
              f"{config.train.recurrent_steps} steps on {device} ...")
        checkpoint = _train(config, workdir / "train", device)
        source = f"trained here ({workdir / 'train'})"
    else:
        source = f"loaded from {checkpoint}"
    model, config = load_model(checkpoint, device)
    segmenter = VideoSegmenter.from_config(model, config.inference, device)
    gcseg_dir = workdir / "results" / "gcseg"
    timing = segment_dataset(segmenter, dataset, gcseg_dir, progress=not quick)
    scored["gcseg"] = evaluate(root, gcseg_dir, progress=False)
    rows.append(_row(f"GCSeg {config.name} ({config.model.variant})", scored["gcseg"],
                     timing["seconds_per_frame"]))

    report = workdir / "report"
    partial = workdir / ".report.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, result in scored.items():
        result.write_csvs(partial / name)
    table = _table(rows)
    attributes = _attribute_table(scored) if scored["gcseg"].attributes else ""
    header = (f"Synthetic benchmark {root} (seed {seed}), val split: {len(dataset)} videos.\n"
              f"GCSeg model: {source}; device {device}.")
    text = "\n\n".join(part for part in (header, table, attributes) if part)
    (partial / "summary.txt").write_text(text + "\n")
    (partial / "summary.json").write_text(json.dumps({
        "rows": rows, "seed": seed, "quick": quick, "checkpoint": str(checkpoint),
        "benchmark": {k: list(v) if isinstance(v, tuple) else v
                      for k, v in settings["benchmark"].items()},
        "timing": {k: v for k, v in timing.items() if k != "sequences"},
        "wall_seconds": time.perf_counter() - started, **provenance(device),
    }, indent=2))
    _pictures(dataset, gcseg_dir, partial)
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

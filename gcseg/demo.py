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
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gcseg.checkpoint import SHIPPED_CHECKPOINT, CheckpointError, load_model
from gcseg.config import get_preset
from gcseg.data import DavisDataset, read_annotation
from gcseg.data.synthetic import SyntheticSpec, make_synthetic
from gcseg.evaluation import EvaluationResult
from gcseg.files import staged_folder, write_json, write_text
from gcseg.inference import VideoSegmenter
from gcseg.runtime import pick_device, provenance
from gcseg.scoring import SplitScore, score_baseline, score_split
from gcseg.viz.frames import label_strip, overlay, save_gif, side_by_side
from gcseg.viz.training import plot_fresh_run

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
    """Generate the benchmark unless ``root`` already holds one made with the same settings
    (``settings``: the other fields of :class:`~gcseg.data.synthetic.SyntheticSpec`)."""
    spec = SyntheticSpec(seed=seed, **settings)
    meta = root / "synthetic.json"
    if meta.is_file():
        recorded = json.loads(meta.read_text()).get("parameters", {})
        if all(recorded.get(k) == v for k, v in spec.parameters().items()):
            print(f"reusing the synthetic benchmark in {root}")
            return root
        print(f"{root} was made with other settings; generating it again")
    return make_synthetic(root, spec, overwrite=True)


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


@dataclass
class _Scored:
    """The methods a demo run scored on its one validation ``dataset``, in order: a report row
    and the evaluator's result of each, and the results folder of each model (drawn in the
    overlays).  Results are written into ``<workdir>/results/<key>``."""

    workdir: Path
    dataset: DavisDataset
    device: torch.device
    progress: bool
    rows: list[dict] = field(default_factory=list)
    results: dict[str, EvaluationResult] = field(default_factory=dict)
    model_folders: dict[str, Path] = field(default_factory=dict)

    def add(self, method: str, key: str, score: SplitScore, **extra) -> None:
        """Record ``score`` of ``method`` (row name) under ``key`` (its report folder)."""
        self.rows.append({"method": method, **score.result.means(),
                          "seconds_per_frame": score.seconds_per_frame, **extra})
        self.results[key] = score.result
        if score.timing is not None:
            self.model_folders[method] = score.result.results_dir

    def baseline(self, method: str, key: str) -> None:
        """Score the baseline ``key`` (``copy-first``) as row ``method``."""
        self.add(method, key, score_baseline(key, self.dataset, self.workdir / "results" / key))

    def checkpoint(self, method: str, key: str, path: Path, **extra) -> None:
        """Segment with the model of checkpoint ``path`` and score it as row ``method``."""
        model, config = load_model(path, self.device)
        segmenter = VideoSegmenter.from_config(model, config, self.device)
        score = score_split(segmenter, self.dataset, self.workdir / "results" / key,
                            progress=self.progress)
        self.add(method, key, score, model=str(path), **extra)


def _score_fresh_run(scored: _Scored, seed: int, minutes: float) -> tuple[Path, dict]:
    """Train the fresh model for ``minutes`` (or reuse it), score its snapshots (the learning
    curve) and the model; returns its run folder and the summary of its training."""
    from gcseg.short_run import learning_curve

    run_dir = scored.workdir / f"train-{minutes:g}min-seed{seed}"
    summary = _train_fresh(scored.dataset.root, run_dir, minutes, seed, scored.device)
    print("scoring the snapshots of the fresh run (its learning curve) ...")
    curve = learning_curve(run_dir, scored.dataset, device=str(scored.device))
    scored.checkpoint(f"GCSeg fresh, {minutes:g} min here", "fresh", run_dir / "checkpoint.pt",
                      trained_minutes=minutes, steps=summary["step"],
                      stopped_by=summary.get("stopped_by", "steps"), learning_curve=curve)
    return run_dir, summary


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


def run_demo(workdir: str | os.PathLike = "runs/demo", seed: int = 0, quick: bool = False,
             checkpoint: str | os.PathLike | None = None, device: str | None = None,
             train_minutes: float | None = None) -> Path:
    """Run the demo end to end; returns the report folder (``<workdir>/report``).

    ``checkpoint`` (default: the shipped model) is segmented and scored beside copy-first;
    ``train_minutes`` also trains a fresh ``full`` model from the foundation for that many
    minutes and scores it beside them.  The validation split is opened once, and every method
    is scored on that one dataset (:mod:`gcseg.scoring`)."""
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

    scored = _Scored(workdir, dataset, device, progress=not quick)
    scored.baseline("copy-first baseline", "copy-first")
    print(f"segmenting with {checkpoint} ...")
    scored.checkpoint(f"GCSeg shipped ({checkpoint.stem})", "shipped", checkpoint)
    fresh = None
    if train_minutes is not None:
        fresh = _score_fresh_run(scored, seed, train_minutes)

    sources = [f"shipped model: {checkpoint}"]
    if fresh is not None:
        sources.append(f"fresh model: trained here from the foundation for {train_minutes:g} "
                       f"minutes ({scored.rows[-1]['steps']} steps) in {fresh[0]}")
    header = (f"Synthetic benchmark {root} (seed {seed}), val split: {len(dataset)} videos; "
              f"device {device}.\n" + "\n".join(sources))
    attributes = _attribute_table(scored.results) if scored.results["shipped"].attributes else ""
    text = "\n\n".join(part for part in (header, _table(scored.rows), attributes) if part)
    record = {"rows": scored.rows, "seed": seed, "quick": quick, "checkpoint": str(checkpoint),
              "train_minutes": train_minutes,
              "benchmark": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in settings["benchmark"].items()},
              "wall_seconds": time.perf_counter() - started, **provenance(device)}
    report = workdir / "report"
    with staged_folder(report) as partial:
        for name, result in scored.results.items():
            result.write_csvs(partial / name)
        write_text(partial / "summary.txt", text + "\n")
        write_json(partial / "summary.json", record)
        if fresh is not None:
            run_dir, summary = fresh
            floors = {"copy-first": scored.rows[0]["J&F"], "shipped model": scored.rows[1]["J&F"]}
            figure = plot_fresh_run(scored.rows[-1]["learning_curve"], run_dir, floors,
                                    summary.get("calibration_seconds", 0.0))
            figure.savefig(partial / "learning_curve.png", dpi=100)
        _pictures(dataset, scored.model_folders, partial)
    print("\n" + text)
    print(f"\nreport written to {report}")
    return report

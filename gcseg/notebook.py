"""What every notebook needs, in one place: data, a trained model, sizes for quick mode.

- :func:`synthetic_benchmark` -- the synthetic benchmark in ``<repo>/data/synthetic`` (made on
  first use; in quick mode a small one in ``<repo>/data/synthetic-quick``).
- :func:`load_or_train` -- the shipped ``checkpoints/tiny_synthetic.pt`` when present, else a
  short training run (the UvA tutorials' load-or-train: a student is never stuck).
- :func:`settings` -- the sizes of the current mode (``GCSEG_QUICK=1`` shrinks everything).

Notebooks call these instead of testing ``GCSEG_QUICK`` themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from gcseg.checkpoint import SHIPPED_CHECKPOINT, load_model
from gcseg.config import GCSegConfig
from gcseg.runtime import pick_device, quick_mode

__all__ = [
    "REPO_ROOT",
    "SHIPPED_CHECKPOINT",
    "NotebookSettings",
    "settings",
    "synthetic_benchmark",
    "load_or_train",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository holding the package (notebooks, checkpoints/ and data/ live there)."""



@dataclass(frozen=True)
class NotebookSettings:
    """Sizes of one mode; notebooks read these instead of literals."""

    quick: bool
    benchmark: dict
    """Arguments of :func:`gcseg.data.synthetic.make_synthetic`."""
    train_steps: int
    """Steps of a short training run in a notebook."""
    recurrent_steps: int
    max_videos: int
    """Videos to segment / score in a notebook (0: all)."""


def _settings(mode: str) -> NotebookSettings:
    from gcseg.demo import DEMO_SETTINGS  # one source for the benchmark and training sizes

    demo = DEMO_SETTINGS[mode]
    return NotebookSettings(
        quick=mode == "quick",
        benchmark=dict(demo["benchmark"]),
        train_steps=demo["train"]["steps"],
        recurrent_steps=demo["train"]["recurrent_steps"],
        max_videos=1 if mode == "quick" else 0,
    )


def settings() -> NotebookSettings:
    """The settings of the current mode (quick when ``GCSEG_QUICK=1``)."""
    return _settings("quick" if quick_mode() else "full")


def synthetic_benchmark(root: str | os.PathLike | None = None, seed: int = 0) -> Path:
    """The synthetic benchmark's root, generated on first use (same seed, same files) and
    again when the one there was made with other settings."""
    current = settings()
    if root is None:
        root = REPO_ROOT / "data" / ("synthetic-quick" if current.quick else "synthetic")
    from gcseg.demo import prepare_benchmark

    return prepare_benchmark(Path(root), seed, current.benchmark)


def load_or_train(
    checkpoint: str | os.PathLike | None = None,
    run_dir: str | os.PathLike | None = None,
    device: str | None = None,
    minutes: float = 10.0,
) -> tuple[torch.nn.Module, GCSegConfig, str]:
    """``(model, config, source)``: a trained ``tiny`` GCSeg, loaded or trained now.

    Uses ``checkpoint`` (default: the shipped one) when it exists -- except in quick mode,
    whose small benchmark has another frame size and which trains a tiny random model for a
    few steps.  When the checkpoint is missing, warns and trains a fresh ``full`` model from
    the foundation with the short-run recipe for ``minutes`` into ``run_dir`` (default
    ``<repo>/runs/notebook``): it scores well below the shipped model, whose last training
    step took six GPU minutes.  ``source`` says which model it is.
    """
    import warnings

    from gcseg.train import train

    device = pick_device(device)
    current = settings()
    path = Path(checkpoint) if checkpoint is not None else SHIPPED_CHECKPOINT
    if path.is_file() and not current.quick:
        model, config = load_model(path, device)
        return model, config, f"loaded {path}"
    run_dir = Path(run_dir or REPO_ROOT / "runs" / ("notebook-quick" if current.quick
                                                    else "notebook"))
    trained = run_dir / "checkpoint.pt"
    if current.quick:
        from gcseg.demo import demo_config

        if not trained.is_file():
            train(demo_config(synthetic_benchmark(), True, seed=0), run_dir, device=str(device))
        model, config = load_model(trained, device)
        return model, config, f"quick mode: a tiny random model trained a few steps in {run_dir}"
    warnings.warn(
        f"{path} is missing: training a fresh full model from the foundation for {minutes:g} "
        f"minutes instead (into {run_dir}). It is NOT the shipped model: it trained "
        f"{minutes:g} minutes here instead of the shipped model's two CPU hours and six GPU "
        "minutes, so it segments worse and the figures of this notebook will differ from "
        "the text.", stacklevel=2)
    from gcseg.short_run import recipe_config, train_or_reuse

    recipe = "gpu" if device.type == "cuda" else "cpu"
    train_or_reuse(recipe_config(synthetic_benchmark(), recipe), run_dir, minutes, device)
    model, config = load_model(trained, device)
    return model, config, (f"trained here from the foundation for {minutes:g} minutes in "
                           f"{run_dir} (the shipped model {path} is missing)")

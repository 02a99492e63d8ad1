"""What every notebook needs, in one place: data, a trained model, sizes for quick mode.

- :func:`synthetic_benchmark` -- the synthetic benchmark in ``<repo>/data/synthetic`` (made on
  first use; in quick mode a small one in ``<repo>/data/synthetic-quick``).
- :func:`load_or_train` -- the shipped ``checkpoints/tiny_synthetic.pt`` when present, else a
  short training run (the UvA tutorials' load-or-train: a student is never stuck).
- :func:`settings` -- the sizes of the current mode (``GCSEG_QUICK=1`` shrinks everything).
- :func:`shipped_model` and :func:`findings_benchmark` -- the shipped model and two short
  full-size videos, the same in every mode: the findings a notebook states as numbers (pinned
  by ``NBVAL_CHECK_OUTPUT``) are computed on them, so quick mode prints the same numbers.
- :func:`check_answer` and :func:`check_implementation` -- the exercises' checks: they print
  ``correct`` or ``not yet`` and return whether the answer is right (solutions assert it).

Notebooks call these instead of testing ``GCSEG_QUICK`` themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
    "shipped_model",
    "findings_benchmark",
    "FINDINGS_SETTINGS",
    "check_answer",
    "check_implementation",
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


FINDINGS_SETTINGS = {"n_train": 0, "n_val": 2, "frames": (10, 12), "size": (240, 432)}
"""The findings benchmark: two short validation videos at the shipped model's frame size."""


def shipped_model(device: str | None = "cpu") -> tuple[torch.nn.Module, GCSegConfig]:
    """``(model, config)`` of the shipped ``checkpoints/tiny_synthetic.pt``, in every mode.

    The notebooks state what *this* model shows (its weights, its similarity maps, its
    judgment scores); quick mode loads it too, so those numbers are checked by the tests.

    Raises:
        FileNotFoundError: the checkpoint is missing (restore it with ``git checkout
            checkpoints/``).
    """
    if not SHIPPED_CHECKPOINT.is_file():
        raise FileNotFoundError(
            f"{SHIPPED_CHECKPOINT}: the shipped model is missing; restore it with "
            "`git checkout checkpoints/` (the findings of the notebooks are about it)")
    return load_model(SHIPPED_CHECKPOINT, pick_device(device))


def findings_benchmark(root: str | os.PathLike | None = None, seed: int = 0) -> Path:
    """The findings benchmark's root (``<repo>/data/synthetic-findings``): two short
    validation videos at full size (:data:`FINDINGS_SETTINGS`), made on first use; the same
    files in quick and default mode."""
    from gcseg.demo import prepare_benchmark

    root = Path(root) if root is not None else REPO_ROOT / "data" / "synthetic-findings"
    return prepare_benchmark(root, seed, FINDINGS_SETTINGS)


def _same(answer, expected, tolerance: float) -> bool:
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().lower() == expected.strip().lower()
    if isinstance(expected, (bool, np.bool_)) or isinstance(answer, (bool, np.bool_)):
        return isinstance(answer, (bool, np.bool_)) and bool(answer) == bool(expected)
    if isinstance(expected, dict):
        return (isinstance(answer, dict) and answer.keys() == expected.keys()
                and all(_same(answer[k], expected[k], tolerance) for k in expected))
    try:
        got = np.asarray(answer.detach().cpu() if torch.is_tensor(answer) else answer,
                         dtype=float)
        want = np.asarray(expected.detach().cpu() if torch.is_tensor(expected) else expected,
                          dtype=float)
    except (TypeError, ValueError):
        return answer == expected
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=0, atol=tolerance,
                                                        equal_nan=True))


def check_answer(name: str, answer, expected, tolerance: float = 1e-3) -> bool:
    """Print whether ``answer`` equals ``expected`` and return it.

    Numbers, arrays and tensors are compared within ``tolerance`` (absolute), booleans and
    strings (case-insensitive) exactly, dicts key by key, anything else with ``==``; ``None``
    means "not answered yet".  A solution cell asserts the result, so a check that accepts a
    wrong answer would show up in the tests.
    """
    if answer is None:
        print(f"{name}: not yet (replace None with your answer)")
        return False
    right = _same(answer, expected, tolerance)
    print(f"{name}: {'correct' if right else 'not yet, try again'}")
    return right


def check_implementation(name: str, function, args: tuple, expected,
                         tolerance: float = 1e-4) -> bool:
    """Call the student's ``function(*args)`` and :func:`check_answer` its result against
    ``expected`` (what the library computes); an unfinished function (``NotImplementedError``)
    or one that raises is "not yet", with the error named."""
    try:
        answer = function(*args)
    except NotImplementedError:
        print(f"{name}: not yet (implement it, then run this cell again)")
        return False
    except Exception as error:  # noqa: BLE001 -- the student's code; show what went wrong
        print(f"{name}: not yet, it raised {type(error).__name__}: {error}")
        return False
    return check_answer(name, answer, expected, tolerance)

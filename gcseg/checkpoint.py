"""Checkpoints: written atomically, read safely.

A checkpoint is a dict with ``model`` (state dict), ``optimizer``, ``step``, ``stage``,
``config`` (the plain-dict :class:`~gcseg.config.GCSegConfig`) and ``metrics``.

- :func:`save_checkpoint` writes to a temporary file in the same folder and renames it over the
  target (:func:`gcseg.files.atomic_write`), so an interrupted save never replaces a good
  checkpoint with half a file; the temporary file of a save killed outright is removed by the
  next save.
- :func:`export_model` never writes over its own input, nor over an existing file without
  ``overwrite``.
- :func:`load_checkpoint` uses ``torch.load(weights_only=True)``: only tensors and plain
  containers are unpickled, so an untrusted file cannot run code.  A truncated or foreign file
  gives a :class:`CheckpointError` naming it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from gcseg.files import atomic_write, check_output_file

__all__ = ["SHIPPED_CHECKPOINT", "CheckpointError", "save_checkpoint", "load_checkpoint",
           "load_model", "model_from_payload", "export_model", "check_export_paths"]

REQUIRED_KEYS = ("model", "config")

SHIPPED_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "tiny_synthetic.pt"
"""The shipped ``tiny`` model (in the repository beside the package), trained on the synthetic
benchmark by the commands of its card ``checkpoints/tiny_synthetic.json``."""


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable or not a gcseg checkpoint."""


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically (:func:`gcseg.files.atomic_write`: a temporary
    file in the same folder, then a rename; temporaries of killed saves are removed first)."""
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for bad files
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(payload, dict) or any(key not in payload for key in REQUIRED_KEYS):
        raise CheckpointError(f"{path}: not a gcseg checkpoint (needs keys {REQUIRED_KEYS})")
    return payload


def check_export_paths(checkpoint: str | os.PathLike, out: str | os.PathLike,
                       overwrite: bool, card: bool = False) -> None:
    """Refuse an export that would write over its own input (not even ``overwrite`` allows
    it: a resumable checkpoint would become weights only) or over an existing file without
    ``overwrite``; with ``card``, the same for the JSON card written beside ``out``
    (``out`` with ``.json``).  Raises FileExistsError or IsADirectoryError naming the path."""
    out = Path(out)
    check_output_file(out, overwrite, inputs=[checkpoint])
    if card:
        if out.suffix.lower() == ".json":
            raise FileExistsError(f"{out}: the card is written beside the weights as "
                                  f"{out.with_suffix('.json').name}: name the weights .pt")
        check_output_file(out.with_suffix(".json"), overwrite, inputs=[checkpoint])


def export_model(checkpoint: str | os.PathLike, out: str | os.PathLike,
                 half: bool = True, overwrite: bool = False) -> Path:
    """Write the weights of a training checkpoint without the optimiser state, for sharing.

    Floating-point weights are stored as float16 when ``half`` (half the size; they are cast
    back to float32 when loaded); the config, step and metrics are kept.  ``out`` is never the
    checkpoint itself (a resumable checkpoint would become weights only), and an existing
    ``out`` is replaced only with ``overwrite`` (FileExistsError otherwise).
    """
    check_export_paths(checkpoint, out, overwrite)
    payload = load_checkpoint(checkpoint)
    weights = {
        key: value.half() if half and value.is_floating_point() else value
        for key, value in payload["model"].items()
    }
    keep = {key: payload[key] for key in ("step", "stage", "config", "metrics", "provenance")
            if key in payload}
    return save_checkpoint(out, {"model": weights, **keep})


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """The :class:`~gcseg.model.GCSeg` stored in a checkpoint, in eval mode, and its config."""
    return model_from_payload(load_checkpoint(path), device, source=str(path))


def model_from_payload(payload: dict, device: str | torch.device = "cpu",
                       source: str = "<checkpoint>"):
    """:func:`load_model` for a checkpoint already read with :func:`load_checkpoint`."""
    from gcseg.config import GCSegConfig
    from gcseg.model import GCSeg
    from gcseg.model.feature_extractor import state_dict_mismatch

    config = GCSegConfig.from_saved(payload["config"], source=source)
    config.model.weights = None  # the checkpoint holds the weights
    model = GCSeg(config.model)
    mismatch = state_dict_mismatch(model, payload["model"])
    if mismatch:
        raise CheckpointError(f"{source}: weights do not fit its config ({mismatch})")
    model.load_state_dict(payload["model"])  # float16 exports are cast to float32 here
    return model.to(device).eval(), config

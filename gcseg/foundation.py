"""The foundation: the project's offline stand-in for the paper's ImageNet weights (IV-A).

The paper starts every model -- every variant of its ablations -- from an ImageNet-pretrained
ResNet.  Offline, nothing plays that role, so the project ships its own: the ``tiny`` preset's
feature extractor (ResNet-18 up to ``res4``, with the mask convolution) trained once from random
weights on the synthetic benchmark, ``checkpoints/foundation_tiny.pt``.  ``model.weights:
foundation`` loads it into any variant; the heads start fresh.

It must not favour a variant of Table V, so it is trained as the ``baseline`` variant
(extractor -> decoder, no Reference or Co-segmentation Module: neither head shaped it) and only
the extractor is kept.  Its card, ``checkpoints/foundation_tiny.json``, records how it was
trained (data, steps, seed, device, commit, wall time, the heads it was trained under) and how
well the baseline model it came from segments the validation split.

``python -m gcseg export --foundation --checkpoint RUN/checkpoint.pt --out FILE --davis DIR``
writes both (the commands are in ``configs/foundation_tiny.yaml``).
"""

from __future__ import annotations

import os
from pathlib import Path

from gcseg.checkpoint import (
    CheckpointError,
    check_export_paths,
    load_checkpoint,
    model_from_payload,
    save_checkpoint,
)
from gcseg.config import GCSegConfig
from gcseg.data import DavisDataset
from gcseg.files import write_json
from gcseg.model.feature_extractor import FOUNDATION_PATH

__all__ = ["FOUNDATION_PATH", "export_foundation"]

PREFIX = "extractor."


def export_foundation(checkpoint: str | os.PathLike, out: str | os.PathLike,
                      davis_root: str | os.PathLike | None = None, split: str = "val",
                      command: str | None = None, device: str | None = None,
                      overwrite: bool = False) -> Path:
    """Keep the feature extractor of a training checkpoint as a foundation (float16).

    Writes ``out`` (``{"extractor": state dict, "config", "step"}``) and ``out`` with ``.json``:
    the card.  With ``davis_root``, the card also holds the validation scores of the whole
    model the extractor came from (its own decoder), beside copy-first's.  An existing ``out``
    or card is replaced only with ``overwrite``, and never when it is the checkpoint itself
    (FileExistsError, before anything is written).
    """
    from gcseg.model_card import score_on_split, training_record

    checkpoint, out = Path(checkpoint), Path(out)
    check_export_paths(checkpoint, out, overwrite, card=True)
    payload = load_checkpoint(checkpoint)
    config = GCSegConfig.from_dict(payload["config"], source=str(checkpoint))
    state = {key[len(PREFIX):]: value.half() if value.is_floating_point() else value
             for key, value in payload["model"].items() if key.startswith(PREFIX)}
    if not state:
        raise CheckpointError(f"{checkpoint}: no feature extractor weights in it")
    save_checkpoint(out, {"extractor": state, "config": payload["config"],
                          "step": payload.get("step")})
    train, data = config.train, config.data
    card = {
        "foundation": out.name,
        "size_bytes": out.stat().st_size,
        "command": command,
        "backbone": f"{config.model.backbone} up to {config.model.top_level} "
                    "(4-channel input: image and previous mask)",
        "trained_as": {
            "variant": config.model.variant,
            "heads": "the decoder of the baseline variant on the top-level features; no "
                     "Reference Module, no Co-segmentation Module (neither shaped the weights)"
                     if config.model.variant == "baseline" else
                     f"the heads of the {config.model.variant!r} variant (they shaped it)",
            "kept": "the feature extractor only; every model built from it gets fresh heads",
        },
        "data": {"root": data.root, "split": data.split, "frame_size": list(data.frame_size),
                 "crop_scale": list(data.crop_scale)},
        "seed": train.seed,
        "steps": payload.get("step"),
        "stages": {"video_pairs": train.steps, "recurrent_clips": train.recurrent_steps,
                   "batch_size": train.batch_size, "lr": train.lr},
        "config": payload["config"],
        "training": training_record(checkpoint.parent),
    }
    if davis_root is not None:
        model, config = model_from_payload(payload, device or "cpu", source=str(checkpoint))
        dataset = DavisDataset(davis_root, data.year, split, data.resolution)
        card["validation_of_the_trained_model"] = score_on_split(model, config, dataset, device)
    write_json(out.with_suffix(".json"), card)
    return out

"""The two presets, each written as the settings it changes from the dataclass defaults.

- ``paper``: ResNet-101, output stride 16, 480x854 frames, 256-channel heads, ImageNet weights:
  the defaults of the tree plus the weights and the paper's stage-1 stills (Pascal VOC +
  MSRA10K).  The paper gives no learning rate or batch size;
  the defaults follow RGMP, which the paper follows for its training scheme, and are marked as
  our choice in the field docs.
- ``tiny``: ResNet-18 up to ``res4``, 64-channel heads, 240x432 frames (the synthetic
  benchmark), random initialisation, so it trains on a CPU in minutes without downloading
  anything.

:func:`gcseg.config.get_preset` builds them (checked like a YAML file).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]

PAPER: dict[str, Any] = {
    "model": {"weights": "imagenet"},
    # Stage 1 on the paper's stills (Section IV-A); placeholders relative to the folder a run
    # starts from, as in configs/paper_davis.yaml.  Offline runs name ``davis-stills``.
    "data": {"still_sources": ("pascal-voc:data/VOCdevkit/VOC2012",
                               "msra10k:data/MSRA10K_Imgs_GT/Imgs")},
}

TINY: dict[str, Any] = {
    "model": {
        "backbone": "resnet18",
        "weights": None,
        # ResNet-18 up to res4 (stride 16): 2.8 M parameters instead of 11.2 M, so a CPU
        # trains it in minutes and the shipped checkpoint stays small (our choice).
        "top_level": "res4",
        "coseg_levels": ("res2", "res3", "res4"),
        "coseg_dim": 64,
        "ref_dim": 64,
        "decoder_dim": 64,
        # Half the paper's frame size, so half the atrous rates.
        "aspp_rates": (1, 3, 6, 9),
    },
    "data": {"frame_size": (240, 432)},
    "train": {
        "lr": 1e-4,  # from scratch, a larger step than the paper's fine-tuning (our choice)
        "steps": 2000,
        "pretrain_steps": 0,
        "simulated_pretraining": False,
        "recurrent_steps": 200,
        "max_interval": 10,
        "freeze_backbone_after_pretrain": False,  # random init: the backbone must learn
        "grad_clip": 5.0,  # training from scratch: keep the first steps tame (our choice)
        "log_every": 20,
        "checkpoint_every": 200,
    },
}

PRESETS: dict[str, dict[str, Any]] = {"paper": PAPER, "tiny": TINY}
"""Preset name -> its settings over the defaults of :class:`~gcseg.config.GCSegConfig`."""

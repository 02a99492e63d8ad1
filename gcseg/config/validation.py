"""Checks of a whole configuration: choices, ranges, and settings that must agree.

:func:`validate_config` raises :class:`ConfigError` naming ``source`` and the key at the first
wrong value.  YAML values are already checked for their type (and a literal's choices) when
they are read (:func:`gcseg.config.merging.coerce`); these checks also hold for configs built
or changed in code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gcseg.config.choices import (
    BACKBONES,
    COSEG_ACTIVATIONS,
    DAVIS_YEARS,
    JUDGMENT_FEATURES,
    LEVELS,
    LOSS_REDUCTIONS,
    NORMS,
    OUTPUT_STRIDES,
    REFERENCE_ENCODINGS,
    REFERENCE_FUSIONS,
    ROI_MODES,
    SCHEDULES,
    SIMILARITIES,
    STILL_SOURCE_KINDS,
    TOP_LEVELS,
    VARIANTS,
)
from gcseg.config.merging import ConfigError

if TYPE_CHECKING:
    from gcseg.config.tree import (
        DataConfig,
        GCSegConfig,
        InferenceConfig,
        ModelConfig,
        TrainConfig,
    )

__all__ = ["MIN_SIDE", "parse_frame_size", "validate_config"]

MIN_SIDE = 32
"""The smallest frame side: the backbone's top level is at 1/16 or 1/32 of the frame."""


def parse_frame_size(text: str) -> tuple[int, int]:
    """``HxW`` (``240x432``) -> ``(H, W)``; :class:`ValueError` saying what is wrong for any
    other text or a side under :data:`MIN_SIDE` (the rule of ``data.frame_size``)."""
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must look like 240x432 (HxW), got {text!r}") from None
    if height < MIN_SIDE or width < MIN_SIDE:
        raise ValueError(f"size {text!r} is too small (at least {MIN_SIDE}x{MIN_SIDE})")
    return height, width


class _Checker:
    """``check(ok, key, message)``: raise a :class:`ConfigError` "source: key: message"
    unless ``ok``; ``choice(value, choices, key)`` for a choice setting."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __call__(self, ok: bool, key: str, message: str) -> None:
        if not ok:
            raise ConfigError(f"{self.source}: {key}: {message}")

    def choice(self, value: Any, choices: tuple[Any, ...], key: str) -> None:
        self(value in choices, key, f"{value!r} is not one of {', '.join(map(repr, choices))}")

    def at_least(self, section: Any, keys: tuple[str, ...], prefix: str, low: int) -> None:
        for key in keys:
            self(getattr(section, key) >= low, f"{prefix}.{key}", f"must be >= {low}")


def validate_config(config: GCSegConfig, source: str = "<config>") -> None:
    """Check every section of ``config``; raise :class:`ConfigError` naming the key and
    ``source``."""
    check = _Checker(source)
    _check_model(config.model, check)
    _check_data(config.data, check)
    _check_train(config.train, check)
    _check_inference(config.inference, check)


def _check_model(m: ModelConfig, check: _Checker) -> None:
    check.choice(m.variant, VARIANTS, "model.variant")
    check.choice(m.backbone, BACKBONES, "model.backbone")
    check.choice(m.output_stride, OUTPUT_STRIDES, "model.output_stride")
    check.choice(m.top_level, TOP_LEVELS, "model.top_level")
    _check_coseg_levels(m, check)
    check.choice(m.coseg_activation, COSEG_ACTIVATIONS, "model.coseg_activation")
    check.choice(m.roi_mode, ROI_MODES, "model.roi_mode")
    check.choice(m.ref_similarity, SIMILARITIES, "model.ref_similarity")
    check.choice(m.head_norm, NORMS, "model.head_norm")
    check.at_least(m, ("coseg_dim", "ref_dim", "decoder_dim", "roi_output_size"), "model", 1)
    check(m.gcn_kernel >= 1 and m.gcn_kernel % 2 == 1, "model.gcn_kernel", "odd and >= 1")
    check(len(m.aspp_rates) > 0 and all(rate >= 1 for rate in m.aspp_rates),
          "model.aspp_rates", "non-empty, every rate >= 1")


def _check_coseg_levels(m: ModelConfig, check: _Checker) -> None:
    """A non-empty set of levels, none deeper than the top level."""
    levels = m.coseg_levels
    check(len(levels) > 0 and all(level in LEVELS for level in levels), "model.coseg_levels",
          f"{levels} must be a non-empty subset of {LEVELS}")
    check(len(set(levels)) == len(levels), "model.coseg_levels", "duplicates")
    if m.top_level in LEVELS:
        deepest = LEVELS.index(m.top_level)
        check(all(LEVELS.index(level) <= deepest for level in levels),
              "model.coseg_levels", f"{levels}: no level deeper than {m.top_level}")


def _check_data(d: DataConfig, check: _Checker) -> None:
    check.choice(d.year, DAVIS_YEARS, "data.year")
    check(len(d.frame_size) == 2 and min(d.frame_size) >= MIN_SIDE, "data.frame_size",
          f"(H, W), both >= {MIN_SIDE}")
    check(len(d.crop_scale) == 2 and 0 < d.crop_scale[0] <= d.crop_scale[1] <= 1,
          "data.crop_scale", "(min, max) with 0 < min <= max <= 1")
    for spec in d.still_sources:
        check(spec.partition(":")[0] in STILL_SOURCE_KINDS, "data.still_sources",
              f"{spec!r}: pascal-voc:DIR, msra10k:DIR or davis-stills")


def _check_train(t: TrainConfig, check: _Checker) -> None:
    check(t.lr > 0, "train.lr", "must be > 0")
    check(t.weight_decay >= 0, "train.weight_decay", "must be >= 0")
    check.at_least(t, ("batch_size", "recurrent_clip_len", "max_interval", "log_every",
                       "checkpoint_every"), "train", 1)
    check.at_least(t, ("steps", "pretrain_steps", "recurrent_steps", "num_workers",
                       "eval_every", "eval_videos"), "train", 0)
    check(t.grad_clip >= 0, "train.grad_clip", "must be >= 0")
    check(0.0 <= t.zero_prev_mask_prob <= 1.0, "train.zero_prev_mask_prob", "in [0, 1]")
    check.choice(t.loss_reduction, LOSS_REDUCTIONS, "train.loss_reduction")
    check.choice(t.schedule, SCHEDULES, "train.schedule")


def _check_inference(i: InferenceConfig, check: _Checker) -> None:
    check(i.num_refs >= 0, "inference.num_refs", "must be >= 0")
    check(-1.0 <= i.judgment_threshold <= 1.0, "inference.judgment_threshold",
          "a cosine similarity threshold in [-1, 1]")
    check.choice(i.reference_encoding, REFERENCE_ENCODINGS, "inference.reference_encoding")
    check.choice(i.judgment_features, JUDGMENT_FEATURES, "inference.judgment_features")
    check.choice(i.reference_fusion, REFERENCE_FUSIONS, "inference.reference_fusion")

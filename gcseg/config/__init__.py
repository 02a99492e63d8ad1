"""Configuration of gcseg: one tree of dataclasses, two presets, YAML load/save.

- :mod:`~gcseg.config.choices` -- the allowed values of every choice setting, as typed literals
  and their tuples (``Variant`` / ``VARIANTS``, ...), and the defaults tau and n
  (``JUDGMENT_THRESHOLD``, ``NUM_REFERENCES``)
- :mod:`~gcseg.config.tree` -- the dataclass tree (:class:`GCSegConfig` and its sections),
  :func:`get_preset`, :func:`load_config`
- :mod:`~gcseg.config.presets` -- the ``paper`` and ``tiny`` presets, as settings over the
  defaults
- :mod:`~gcseg.config.merging` -- settings from YAML onto the tree, each checked for its type
- :mod:`~gcseg.config.validation` -- checks of a whole config (ranges, settings that must agree)
- :mod:`~gcseg.config.compare` -- :func:`config_differences`

YAML files hold any subset of the tree; missing keys keep the defaults of the preset named by
an optional top-level ``preset:`` key (``paper`` when absent)::

    preset: tiny
    model:
      variant: coseg
    train:
      lr: 3.0e-4

Unknown keys, wrong types and out-of-range values raise :class:`ConfigError` naming the key and
the file; so does an empty file or one whose top level is not a mapping (an empty file does not
mean ``paper``).
"""

from gcseg.config.choices import (
    BACKBONES,
    COSEG_ACTIVATIONS,
    DAVIS_YEARS,
    JUDGMENT_FEATURES,
    JUDGMENT_THRESHOLD,
    LEVELS,
    LOSS_REDUCTIONS,
    NORMS,
    NUM_REFERENCES,
    OUTPUT_STRIDES,
    REFERENCE_ENCODINGS,
    REFERENCE_FUSIONS,
    ROI_MODES,
    SCHEDULES,
    SIMILARITIES,
    STILL_SOURCE_KINDS,
    TOP_LEVELS,
    VARIANTS,
    Backbone,
    CosegActivation,
    DavisYear,
    JudgmentFeatures,
    Level,
    LossReduction,
    Norm,
    OutputStride,
    ReferenceEncoding,
    ReferenceFusion,
    RoiMode,
    Schedule,
    Similarity,
    TopLevel,
    Variant,
)
from gcseg.config.compare import PATH_SETTINGS, config_differences
from gcseg.config.merging import ConfigError, merge_settings
from gcseg.config.presets import PRESETS
from gcseg.config.tree import (
    DataConfig,
    GCSegConfig,
    InferenceConfig,
    ModelConfig,
    TrainConfig,
    get_preset,
    load_config,
)

__all__ = [
    "BACKBONES",
    "COSEG_ACTIVATIONS",
    "DAVIS_YEARS",
    "JUDGMENT_THRESHOLD",
    "LEVELS",
    "LOSS_REDUCTIONS",
    "NORMS",
    "NUM_REFERENCES",
    "OUTPUT_STRIDES",
    "PATH_SETTINGS",
    "PRESETS",
    "REFERENCE_ENCODINGS",
    "REFERENCE_FUSIONS",
    "JUDGMENT_FEATURES",
    "JudgmentFeatures",
    "ROI_MODES",
    "SCHEDULES",
    "SIMILARITIES",
    "STILL_SOURCE_KINDS",
    "TOP_LEVELS",
    "VARIANTS",
    "Backbone",
    "ConfigError",
    "CosegActivation",
    "DataConfig",
    "DavisYear",
    "GCSegConfig",
    "InferenceConfig",
    "Level",
    "LossReduction",
    "ModelConfig",
    "Norm",
    "OutputStride",
    "ReferenceEncoding",
    "ReferenceFusion",
    "RoiMode",
    "Schedule",
    "Similarity",
    "TopLevel",
    "TrainConfig",
    "Variant",
    "config_differences",
    "get_preset",
    "load_config",
    "merge_settings",
]

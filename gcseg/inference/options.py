"""What the engine is told: :class:`InferenceOptions`, the algorithm's settings (paper Section
III-A-1 and III-B), holding :class:`SpeedOptions`, how fast it runs them (the same results
within float tolerance)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from gcseg.config import (
    JUDGMENT_FEATURES,
    JUDGMENT_THRESHOLD,
    NUM_REFERENCES,
    REFERENCE_ENCODINGS,
    REFERENCE_FUSIONS,
    InferenceConfig,
)

__all__ = ["AMP_DTYPES", "InferenceOptions", "SpeedOptions"]

AMP_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}
"""Autocast precisions of the engine on CUDA."""


@dataclass(frozen=True)
class SpeedOptions:
    """The engine's speed switches (``tests/test_fast_paths.py`` checks each against the plain
    computation; ``python -m gcseg bench`` measures them).

    Attributes:
        amp: autocast on CUDA in ``amp_dtype`` (ignored on the CPU, which stays float32).
        amp_dtype: ``"float16"`` or ``"bfloat16"``.
        channels_last: the backbone's weights and inputs channels-last (NHWC): faster
            convolutions and max-pooling (oneDNN on CPUs, cuDNN on GPUs). Its features come back
            in the default layout (NCHW, one copy per frame): the heads' small maps, group norms
            and 2-channel upsampling measured slower channels-last on a CPU.
        compile: run the backbone pass and the heads through ``torch.compile`` on any device:
            ``True`` with its defaults, or its keyword arguments, e.g. ``{"mode":
            "reduce-overhead"}`` (CUDA graphs on a GPU) or ``{"backend": "aot_eager"}``. The
            first frames, and every new batch shape (the references grow until n are sampled; a
            second backbone pass for some objects), pay the compilation. The CPU's default
            backend needs a C++ compiler.
    """

    amp: bool = True
    amp_dtype: str = "float16"
    channels_last: bool = False
    compile: bool | Mapping[str, Any] = False

    def __post_init__(self) -> None:
        if self.amp_dtype not in AMP_DTYPES:
            raise ValueError(f"amp_dtype must be one of {list(AMP_DTYPES)}, "
                             f"got {self.amp_dtype!r}")

    @property
    def autocast_dtype(self) -> torch.dtype:
        """``amp_dtype`` as a torch dtype."""
        return AMP_DTYPES[self.amp_dtype]


SPEED_FIELDS = frozenset(f.name for f in dataclasses.fields(SpeedOptions))


@dataclass(frozen=True)
class InferenceOptions:
    """How :class:`~gcseg.inference.VideoSegmenter` segments a video.

    Attributes:
        num_refs: n, the number of temporal fragments a reference is drawn from (plus frame 0).
        adaptive_search: use the Judgment Module to drop an unreliable ``M_{t-1}`` (Section
            III-B; Table VI).
        threshold: τ of the Judgment Module.
        seed: seed of the reference sampling.
        reference_encoding: ``"cached"`` (a segmented frame's reference summary comes from the
            features that segmented it, E(I_t, M_{t-1})) or ``"own-mask"`` (from features
            encoded again with its result, E(I_t, M_t): one more backbone pass per frame).
        judgment_features: ``"prev-mask"`` (the Judgment Module pools E(I_t, M_{t-1}), the
            features that segment the frame, against E(I_0, M_0)) or ``"no-mask"`` (E(I_t, 0)
            against E(I_0, 0): appearance alone; one more backbone pass per frame, for one
            image, which is also the rejected objects' features).
        reference_fusion: ``"predictions"`` (each reference through the decoder, M_t the mean
            of the predictions: the paper) or ``"features"`` (the valid-weighted mean of the
            decoder inputs concat(G, R) through the decoder once per object: faster, not the
            paper's algorithm, so not a speed switch).
        keep_probabilities: also return the per-object probabilities (for the notebooks).
        speed: the speed switches.
    """

    num_refs: int = NUM_REFERENCES
    adaptive_search: bool = True
    threshold: float = JUDGMENT_THRESHOLD
    seed: int = 0
    reference_encoding: str = "cached"
    judgment_features: str = "prev-mask"
    reference_fusion: str = "predictions"
    keep_probabilities: bool = False
    speed: SpeedOptions = field(default_factory=SpeedOptions)

    def __post_init__(self) -> None:
        if self.reference_encoding not in REFERENCE_ENCODINGS:
            raise ValueError(f"reference_encoding must be one of {list(REFERENCE_ENCODINGS)}, "
                             f"got {self.reference_encoding!r}")
        if self.judgment_features not in JUDGMENT_FEATURES:
            raise ValueError(f"judgment_features must be one of {list(JUDGMENT_FEATURES)}, "
                             f"got {self.judgment_features!r}")
        if self.reference_fusion not in REFERENCE_FUSIONS:
            raise ValueError(f"reference_fusion must be one of {list(REFERENCE_FUSIONS)}, "
                             f"got {self.reference_fusion!r}")
        if self.num_refs < 0:
            raise ValueError(f"num_refs must be >= 0, got {self.num_refs}")

    @classmethod
    def from_config(cls, inference: InferenceConfig, **overrides: Any) -> InferenceOptions:
        """The settings of ``config.inference``; ``overrides`` (any field of this class or of
        :class:`SpeedOptions`, by name) win."""
        settings = {"num_refs": inference.num_refs, "adaptive_search": inference.adaptive_search,
                    "threshold": inference.judgment_threshold, "seed": inference.seed,
                    "reference_encoding": inference.reference_encoding,
                    "judgment_features": inference.judgment_features,
                    "reference_fusion": inference.reference_fusion}
        return cls().replace(**{**settings, **overrides})

    def replace(self, **changes: Any) -> InferenceOptions:
        """A copy with ``changes``: fields of this class or of :class:`SpeedOptions`, by name
        (``replace(channels_last=True)``)."""
        speed = {key: changes.pop(key) for key in list(changes) if key in SPEED_FIELDS}
        if speed:
            changes["speed"] = dataclasses.replace(changes.get("speed", self.speed), **speed)
        return dataclasses.replace(self, **changes)

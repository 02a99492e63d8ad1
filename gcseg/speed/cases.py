"""What the speed benchmark measures: the cases, how each is run, and the grids of cases.

A :class:`BenchCase` is one configuration (variant x backbone x frame size x objects K x
sampled references n); :class:`BenchSettings` says how every case is run (device, precision,
timed frames, ...). :func:`grid` makes every combination of some values, :func:`default_cases`
the grid of ``python -m gcseg bench`` without options.

This module imports no torch, so the command line can use its names while parsing arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gcseg.config import NUM_REFERENCES, VARIANTS, get_preset
from gcseg.config.validation import parse_frame_size

__all__ = [
    "DEFAULT_BACKBONES",
    "DEFAULT_OBJECTS",
    "DEFAULT_REFS",
    "NAMED_SIZES",
    "BenchCase",
    "BenchSettings",
    "default_cases",
    "grid",
    "parse_size",
]

DEFAULT_BACKBONES = ("resnet18", "resnet50", "resnet101")
"""The backbones of the default grid: the paper's ResNet-101 and two smaller ones."""
DEFAULT_OBJECTS = (1, 3)
"""The object counts K of the default grid."""
DEFAULT_REFS = (0, NUM_REFERENCES, 2 * NUM_REFERENCES)
"""The sampled references n of the default grid: none, the paper's 3, and twice as many."""
NAMED_SIZES = {"tiny": "tiny", "paper": "paper", "480p": "paper"}
"""Size names -> the preset whose ``data.frame_size`` they mean (tiny 240x432, paper 480x854)."""


@dataclass(frozen=True)
class BenchCase:
    """One configuration: the variant, the backbone, the frame size (H, W), the objects K and
    the sampled references n (``None`` for ``baseline``, which reads none)."""

    variant: str
    backbone: str
    size: tuple[int, int]
    objects: int
    refs: int | None

    @property
    def label(self) -> str:
        refs = "-" if self.refs is None else self.refs
        return (f"{self.variant} {self.backbone} {self.size[0]}x{self.size[1]} "
                f"K={self.objects} n={refs}")


@dataclass
class BenchSettings:
    """How every case is run.

    Attributes:
        device: ``cpu``, ``cuda`` ...
        dtype: ``float32``, or ``float16``/``bfloat16`` (CUDA autocast).
        preset: the heads and the top level of the model (``paper``: 256 channels, res5;
            ``tiny``: 64 channels, res4); the backbone is the case's. Random weights.
        frames: timed frames per block; repeats: blocks (the median of their means is kept).
        warmup: frames segmented before the clock starts, after the n references exist.
        channels_last, compile: the engine's options (see :class:`VideoSegmenter`).
        memory_frames: N of :func:`gcseg.speed.measure.memory_check` (0: no check).
        seed: of the synthetic video, the weights and the reference sampling.
        reference_fusion: the engine's ``reference_fusion`` (``predictions``, the paper's; or
            ``features``: the decoder once per object).
        rgmp: also time RGMP's network (:mod:`gcseg.speed.rgmp`) on the same input, once per
            backbone, size and K.
    """

    device: str = "cpu"
    dtype: str = "float32"
    preset: str = "paper"
    frames: int = 8
    repeats: int = 3
    warmup: int = 2
    channels_last: bool = True
    compile: bool | dict[str, Any] = False
    memory_frames: int = 100
    seed: int = 0
    reference_fusion: str = "predictions"
    rgmp: bool = True


def parse_size(text: str) -> tuple[int, int]:
    """``tiny`` (240x432), ``paper``/``480p`` (480x854) or ``HxW`` -> (H, W)."""
    if text in NAMED_SIZES:
        return tuple(get_preset(NAMED_SIZES[text]).data.frame_size)
    try:
        return parse_frame_size(text)
    except ValueError as error:
        raise ValueError(f"{error} (or one of {', '.join(NAMED_SIZES)})") from None


def grid(variants: Iterable[str], backbones: Iterable[str], sizes: Iterable[tuple[int, int]],
         objects: Iterable[int], refs: Iterable[int]) -> list[BenchCase]:
    """Every combination (``baseline`` once per backbone, size and K: it reads no reference)."""
    cases = []
    for size in sizes:
        for backbone in backbones:
            for variant in variants:
                for k in objects:
                    for n in ([None] if variant == "baseline" else refs):
                        cases.append(BenchCase(variant, backbone, tuple(size), k, n))
    return list(dict.fromkeys(cases))


def default_cases(variants: Sequence[str] = VARIANTS,
                  backbones: Sequence[str] = DEFAULT_BACKBONES,
                  small: tuple[int, int] | None = None, large: tuple[int, int] | None = None
                  ) -> list[BenchCase]:
    """The default grid: everything at the ``small`` size (the tiny preset's 240x432); at the
    ``large`` one (480x854) every variant x backbone for K = 1, n = 3, and the objects x
    references sweep for ``full`` only (ResNet-101 at 480x854 takes seconds per frame on a CPU).
    """
    small = small or parse_size("tiny")
    large = large or parse_size("paper")
    cases = grid(variants, backbones, [small], DEFAULT_OBJECTS, DEFAULT_REFS)
    cases += grid(variants, backbones, [large], [1], [NUM_REFERENCES])
    cases += grid([v for v in variants if v == "full"], backbones, [large], DEFAULT_OBJECTS,
                  DEFAULT_REFS)
    return list(dict.fromkeys(cases))

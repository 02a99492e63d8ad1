"""What flows between the boxes of Figure 1: a frame's features, a reference's summary, the
intermediates of a prediction and the outputs of the training forward (eq. 3).

- :class:`FrameFeatures`: the Feature Extractor's levels for a batch of frames, read-only; new
  values come back as new objects (:meth:`~FrameFeatures.replace_rows`,
  :meth:`~FrameFeatures.expand`, :meth:`~FrameFeatures.map`).
- :class:`ReferenceSummary`: what a reference frame contributes at inference, O(C) numbers a
  row; it selects, stacks, replaces and counts its own rows.
- :class:`Internals`: the intermediates the notebooks draw (Section III-A-3 to III-A-5).
- :class:`TrainOutput`: M_t, M_{t-n}, M'_t, M'_{t-n} of eq. 3, those the variant has.

Rows are the batch dimension: one row per (frame, object) or (reference, object) pair.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch
from torch import Tensor

from gcseg.model.decoder import DecoderOutput
from gcseg.model.judgment import PooledObject
from gcseg.model.reference import ReferenceInternals

__all__ = [
    "FrameFeatures",
    "Internals",
    "ReferenceSummary",
    "TrainOutput",
    "map_tensors",
]


def map_tensors(obj: Any, fn: Callable[[Tensor], Tensor]) -> Any:
    """Apply ``fn`` to every tensor inside dataclasses / dicts (others kept)."""
    if isinstance(obj, Tensor):
        return fn(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: map_tensors(getattr(obj, f.name), fn) for f in dataclasses.fields(obj)}
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, dict):
        return {key: map_tensors(value, fn) for key, value in obj.items()}
    return obj


def _map_tensor_pairs(obj: Any, other: Any, fn: Callable[[Tensor, Tensor], Tensor]) -> Any:
    """``fn(a, b)`` for every pair of tensors at the same place in two same-structured
    containers; where ``obj`` holds no tensor (``None``) it is kept."""
    if isinstance(obj, Tensor):
        return fn(obj, other)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{
            f.name: _map_tensor_pairs(getattr(obj, f.name), getattr(other, f.name), fn)
            for f in dataclasses.fields(obj)
        })
    if isinstance(obj, dict):
        return {key: _map_tensor_pairs(value, other[key], fn) for key, value in obj.items()}
    return obj


def _cat_tensors(items: list[Any]) -> Any:
    """Concatenate along the batch every tensor of same-structured containers."""
    first = items[0]
    if isinstance(first, Tensor):
        return torch.cat(items, dim=0)
    if first is None:
        return None
    if dataclasses.is_dataclass(first):
        return dataclasses.replace(first, **{
            f.name: _cat_tensors([getattr(item, f.name) for item in items])
            for f in dataclasses.fields(first)
        })
    if isinstance(first, dict):
        return {key: _cat_tensors([item[key] for item in items]) for key in first}
    return first


def _tensors_in(obj: Any) -> Iterator[Tensor]:
    """Every tensor inside dataclasses / dicts, in field order."""
    if isinstance(obj, Tensor):
        yield obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _tensors_in(getattr(obj, f.name))
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _tensors_in(value)


def _row_setter(rows: Tensor) -> Callable[[Tensor, Tensor], Tensor]:
    """``(old, new) ->`` a copy of ``old`` with its rows ``rows`` (a bool mask or indices) set
    to ``new`` (cast to ``old``'s dtype); ``old`` is left as it was."""
    def put(old: Tensor, new: Tensor) -> Tensor:
        return old.index_put((rows,), new.to(old.dtype))

    return put


class FrameFeatures(Mapping):
    """The Feature Extractor's output for a batch of frames: a read-only ``{level: tensor}``
    mapping (``res2``..``res5``, each (B, C_l, H_l, W_l)) plus the frame size (H, W).

    Nothing writes into it: the methods return new features (the tensors are shared where
    nothing changes)."""

    def __init__(self, levels: Mapping[str, Tensor], image_size: tuple[int, int]) -> None:
        self._levels = dict(levels)
        self.image_size = (int(image_size[0]), int(image_size[1]))

    @property
    def levels(self) -> Mapping[str, Tensor]:
        """``{level: (B, C_l, H_l, W_l)}``, read-only."""
        return MappingProxyType(self._levels)

    def __getitem__(self, level: str) -> Tensor:
        return self._levels[level]

    def __iter__(self) -> Iterator[str]:
        return iter(self._levels)

    def __len__(self) -> int:
        return len(self._levels)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self._levels.items())
        return f"FrameFeatures(image_size={self.image_size}, {shapes})"

    @property
    def batch_size(self) -> int:
        return next(iter(self._levels.values())).shape[0]

    def map(self, fn: Callable[[Tensor], Tensor]) -> FrameFeatures:
        """Apply ``fn`` to every level tensor."""
        return FrameFeatures({k: fn(v) for k, v in self._levels.items()}, self.image_size)

    def split(self, size: int) -> tuple[FrameFeatures, ...]:
        """Split along the batch in chunks of ``size``."""
        chunks = {k: v.split(size) for k, v in self._levels.items()}
        count = len(next(iter(chunks.values())))
        return tuple(FrameFeatures({k: c[i] for k, c in chunks.items()}, self.image_size)
                     for i in range(count))

    def expand(self, batch: int) -> FrameFeatures:
        """Broadcast batch-1 features to ``batch`` rows (views, no copy)."""
        return self.map(lambda t: t.expand(batch, *t.shape[1:]))

    def replace_rows(self, rows: Tensor, other: FrameFeatures) -> FrameFeatures:
        """A copy whose rows ``rows`` (a bool (B,) mask or a tensor of indices) are those of
        ``other`` (one row of ``other`` for each row replaced), e.g. the objects encoded
        again."""
        put = _row_setter(rows)
        return FrameFeatures({k: put(v, other[k]) for k, v in self._levels.items()},
                             self.image_size)


@dataclass
class ReferenceSummary:
    """What a reference frame contributes at inference: O(C) numbers, no feature maps.

    Attributes:
        valid: (B,) bool; False where the mask is empty (skip that reference).
        r: (B, C) the Mask Encoder's ``r_{t-n}`` (``None`` without Reference Module).
        f: ``{level: (B, C_l)}`` the co-segmentation vectors ``f_{t-n}`` (empty without it).
        boxes: (B, 10, 4) the Mask Encoder's ROI boxes in image pixels (whole box first).
        roi_features: (B, 10, C) pooled ROI features, or ``None`` (dropped by ``compact``).
        object_vector: (B, C) the top-level features pooled over the mask's box, unmasked:
            the Judgment Module's vector when this is frame 0.
    """

    valid: Tensor
    r: Tensor | None = None
    f: dict[str, Tensor] = field(default_factory=dict)
    boxes: Tensor | None = None
    roi_features: Tensor | None = None
    object_vector: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.valid.shape[0]

    def compact(self) -> ReferenceSummary:
        """A detached copy without the per-ROI features, for a per-frame cache."""
        return dataclasses.replace(self.detach(), roi_features=None)

    def detach(self) -> ReferenceSummary:
        return map_tensors(self, lambda t: t.detach())

    def to(self, device: torch.device | str) -> ReferenceSummary:
        return map_tensors(self, lambda t: t.to(device))

    def select(self, index: Any) -> ReferenceSummary:
        """Rows ``index`` (an int keeps the batch dimension)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return map_tensors(self, lambda t: t[index])

    def expand(self, batch: int) -> ReferenceSummary:
        """Broadcast a batch-1 summary to ``batch`` rows (views, no copy)."""
        return map_tensors(self, lambda t: t.expand(batch, *t.shape[1:]))

    @staticmethod
    def cat(summaries: list[ReferenceSummary]) -> ReferenceSummary:
        """Stack several summaries along the batch (e.g. all references of a frame)."""
        return _cat_tensors(list(summaries))

    def replace_rows(self, rows: Tensor, other: ReferenceSummary) -> ReferenceSummary:
        """A copy whose rows ``rows`` (a bool (B,) mask or a tensor of indices) are those of
        ``other`` (one row of ``other`` for each row replaced): e.g. objects given at a later
        frame, summarised with their given mask.  Fields this summary lacks stay ``None``."""
        return _map_tensor_pairs(self, other, _row_setter(rows))

    def tensors(self) -> Iterator[Tensor]:
        """Every tensor the summary holds."""
        return _tensors_in(self)

    def numel(self) -> int:
        """Numbers held (O(C) per row: the cache's memory check)."""
        return sum(tensor.numel() for tensor in self.tensors())

    def nbytes(self) -> int:
        """Bytes held by the tensors."""
        return sum(tensor.numel() * tensor.element_size() for tensor in self.tensors())

    def pooled_object(self) -> PooledObject:
        """The Judgment Module's view of this reference (for frame 0)."""
        return PooledObject(vector=self.object_vector, box=self.boxes[:, 0], valid=self.valid)


@dataclass
class Internals:
    """Intermediates of one prediction, batch-aligned with it (the notebooks' figures).

    Attributes:
        logits: (B, 2, H, W) the main decoder's logits (``prob`` is their softmax).
        decoder_input: (B, C_in, h, w) what the main decoder read.
        coseg_vectors: ``{level: (B, C_l)}`` the OTHER frame's attention vectors that attended
            this frame (f2 for M_t); empty without Co-segmentation Module.
        coseg_levels: ``{level: (B, C_l, H_l, W_l)}`` ``F_l ⊙ f_other`` per level (empty when
            not asked for: the engine and the training forward skip them).
        G: (B, d, h, w) the co-segmentation output, or ``None``.
        reference: D1, attention (eq. 1), D1' (eq. 2), R1, R2, R, or ``None``.
        roi_boxes: (B, 10, 4) the reference's ROI boxes (image pixels), or ``None``.
        roi_features: (B, 10, C) the reference's pooled ROI features, or ``None``.
        aux: the auxiliary decoder's output M' (when computed), or ``None``.
    """

    logits: Tensor
    decoder_input: Tensor
    coseg_vectors: dict[str, Tensor] = field(default_factory=dict)
    coseg_levels: dict[str, Tensor] = field(default_factory=dict)
    G: Tensor | None = None
    reference: ReferenceInternals | None = None
    roi_boxes: Tensor | None = None
    roi_features: Tensor | None = None
    aux: DecoderOutput | None = None

    @property
    def D1(self) -> Tensor | None:
        return None if self.reference is None else self.reference.D1

    @property
    def D1_attended(self) -> Tensor | None:
        """D1' of eq. 2."""
        return None if self.reference is None else self.reference.D1_attended

    @property
    def R1(self) -> Tensor | None:
        return None if self.reference is None else self.reference.R1

    @property
    def R2(self) -> Tensor | None:
        return None if self.reference is None else self.reference.R2

    @property
    def R(self) -> Tensor | None:
        return None if self.reference is None else self.reference.R


@dataclass
class TrainOutput:
    """The outputs of the training forward (eq. 3), each ``None`` when the variant has none.

    Attributes:
        m_t: M_t, the target frame's mask (main decoder).
        m_ref: M_{t-n}, the reference frame's mask (main decoder).
        aux_t: M'_t, co-segmentation-only decoder on G1.
        aux_ref: M'_{t-n}, co-segmentation-only decoder on G2.
        internals_t, internals_ref: intermediates of the two predictions.
        reference: the reference frame's summary (``r_{t-n}``, ``f_{t-n}``, boxes).
        target_vectors: ``f_t``, the target's co-segmentation vectors (attend F_{t-n}).
    """

    m_t: DecoderOutput
    m_ref: DecoderOutput | None = None
    aux_t: DecoderOutput | None = None
    aux_ref: DecoderOutput | None = None
    internals_t: Internals | None = None
    internals_ref: Internals | None = None
    reference: ReferenceSummary | None = None
    target_vectors: dict[str, Tensor] = field(default_factory=dict)

    def outputs(self) -> dict[str, DecoderOutput]:
        """The outputs present: ``{"m_t", "m_ref", "aux_t", "aux_ref"} -> DecoderOutput``."""
        names = ("m_t", "m_ref", "aux_t", "aux_ref")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

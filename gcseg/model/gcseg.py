"""The GCSeg network (paper Section III-A, Figure 1, eq. 3; SPEC §1-6).

One class, four ablation variants (Table V), chosen by ``ModelConfig.variant``:

============  ==============================  ==============================================
variant       decoder input                   training outputs (terms of the loss)
============  ==============================  ==============================================
``baseline``  top-level features of F_t       M_t
``ref``       R (Reference Module)            M_t, M_{t-n}
``coseg``     G (Co-segmentation Module)      M_t, M_{t-n}, M'_t, M'_{t-n} (with aux decoder)
``full``      concat(G, R)                    M_t, M_{t-n}, M'_t, M'_{t-n}   (eq. 3)
============  ==============================  ==============================================

``M'`` comes from the auxiliary co-segmentation-only decoder (reads G); ``ModelConfig.aux_decoder``
turns it off. In ``coseg`` it reads the same G as the main decoder: a second decoder of the same
input, kept so that the variant differs from ``full`` only by the Reference Module.

Two ways through the network share every function:

- Training, :meth:`GCSeg.forward` ``(I_t, M_{t-1}, I_{t-n}, M_{t-n}) -> TrainOutput``: both
  frames go through the extractor in one batch; the reference frame is summarised
  (``r_{t-n}``, ``f_{t-n}``); then the heads run once on the stacked batch ``[F_t; F_{t-n}]``
  with ``[f_{t-n}; f_t]`` as the co-segmentation vectors and ``r_{t-n}`` twice.
- Inference: :meth:`GCSeg.encode_frame` ``(I_t, M_{t-1}) -> FrameFeatures`` once per frame,
  :meth:`GCSeg.summarize_reference` ``(features, mask) -> ReferenceSummary`` once per frame
  that may serve as a reference (O(C) to keep: ``r``, ``f``), and :meth:`GCSeg.predict`
  ``(features, refs) -> (prob of M_t, Internals)`` per (frame, reference) pair. The backbone
  never runs again on a past frame. Feature batch and reference batch must match, or one of
  them must be 1 (broadcast): many references or many objects go through the heads at once.

Everything the notebooks show comes back in :class:`Internals` (co-segmentation vectors, G,
the ROI boxes and their features, D1, D1', R1, R2, R) and :class:`JudgmentResult`.

Loss (eq. 3): :func:`gcseg_loss`, the sum of the pixel-wise binary cross-entropy of each output
present, each term the mean over pixels by default (``reduction="sum"``: the paper's "sum of
pixel-wise BCE", summed over pixels and averaged over the batch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gcseg.config import GCSegConfig, ModelConfig, load_config
from gcseg.model.coseg import CoSegmentation
from gcseg.model.decoder import Decoder, DecoderOutput
from gcseg.model.feature_extractor import FeatureExtractor
from gcseg.model.judgment import JudgmentModule, JudgmentResult, PooledObject
from gcseg.model.mask_encoder import MaskEncoder, grid_boxes, mask_boxes
from gcseg.model.reference import ReferenceInternals, ReferenceModule

__all__ = [
    "FrameFeatures",
    "GCSeg",
    "Internals",
    "ReferenceSummary",
    "TrainOutput",
    "bce_from_logits",
    "gcseg_loss",
    "gcseg_loss_terms",
]



# ----------------------------------------------------------------------------- containers


def _map_tensors(obj: Any, fn: Any) -> Any:
    """Apply ``fn`` to every tensor inside dataclasses / dicts / tuples (others kept)."""
    if isinstance(obj, Tensor):
        return fn(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _map_tensors(getattr(obj, f.name), fn) for f in dataclasses.fields(obj)}
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, dict):
        return {key: _map_tensors(value, fn) for key, value in obj.items()}
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


class FrameFeatures(Mapping):
    """The Feature Extractor's output for a batch of frames: a read-only ``{level: tensor}``
    mapping (``res2``..``res5``, each (B, C_l, H_l, W_l)) plus the frame size (H, W)."""

    def __init__(self, levels: Mapping[str, Tensor], image_size: tuple[int, int]) -> None:
        self.levels = dict(levels)
        self.image_size = (int(image_size[0]), int(image_size[1]))

    def __getitem__(self, level: str) -> Tensor:
        return self.levels[level]

    def __iter__(self) -> Iterator[str]:
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self.levels.items())
        return f"FrameFeatures(image_size={self.image_size}, {shapes})"

    @property
    def batch_size(self) -> int:
        return next(iter(self.levels.values())).shape[0]

    def map(self, fn: Any) -> FrameFeatures:
        """Apply ``fn`` to every level tensor."""
        return FrameFeatures({k: fn(v) for k, v in self.levels.items()}, self.image_size)

    def split(self, size: int) -> tuple[FrameFeatures, ...]:
        """Split along the batch in chunks of ``size``."""
        chunks = {k: v.split(size) for k, v in self.levels.items()}
        count = len(next(iter(chunks.values())))
        return tuple(FrameFeatures({k: c[i] for k, c in chunks.items()}, self.image_size)
                     for i in range(count))


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
        return _map_tensors(self, lambda t: t.detach())

    def to(self, device: torch.device | str) -> ReferenceSummary:
        return _map_tensors(self, lambda t: t.to(device))

    def select(self, index: Any) -> ReferenceSummary:
        """Rows ``index`` (an int keeps the batch dimension)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return _map_tensors(self, lambda t: t[index])

    def expand(self, batch: int) -> ReferenceSummary:
        """Broadcast a batch-1 summary to ``batch`` rows (views, no copy)."""
        return _map_tensors(self, lambda t: t.expand(batch, *t.shape[1:]))

    @staticmethod
    def cat(summaries: list[ReferenceSummary]) -> ReferenceSummary:
        """Stack several summaries along the batch (e.g. all references of a frame)."""
        return _cat_tensors(list(summaries))

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
        coseg_levels: ``{level: (B, C_l, H_l, W_l)}`` ``F_l ⊙ f_other`` per level.
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


# ----------------------------------------------------------------------------- the network


class GCSeg(nn.Module):
    """The GCSeg network; see the module docstring for the variants and the two paths.

    Args:
        config: a :class:`ModelConfig` (or a whole :class:`GCSegConfig`, or a preset name).
    """

    def __init__(self, config: ModelConfig | GCSegConfig | str | None = None) -> None:
        super().__init__()
        if config is None:
            config = ModelConfig()
        if isinstance(config, str):
            config = load_config(config)
        if isinstance(config, GCSegConfig):
            config = config.model
        self.config = config
        self.variant = config.variant
        self.extractor = FeatureExtractor(
            config.backbone, config.output_stride, config.weights,
            frozen=config.freeze_backbone, normalize_input=config.normalize_input,
            top_level=config.top_level,
        )
        self.top_level = config.top_level
        """The level read by the Mask Encoder, Reference Module, Judgment and decoders."""
        channels = self.extractor.channels
        top = channels[self.top_level]
        self.coseg = (
            CoSegmentation(channels, config.coseg_levels, config.coseg_dim,
                           config.coseg_activation, config.head_norm, grid_level=self.top_level)
            if self.uses_coseg else None
        )
        self.mask_encoder = (
            MaskEncoder(config.roi_output_size, config.roi_mode) if self.uses_reference else None
        )
        self.reference = (
            ReferenceModule(top, config.ref_dim, config.ref_similarity, config.head_norm,
                            config.ref_scaled)
            if self.uses_reference else None
        )
        decoder_in = (config.coseg_dim if self.uses_coseg else 0) + (
            config.ref_dim if self.uses_reference else 0
        ) or top
        decoder_args = dict(dim=config.decoder_dim, gcn_kernel=config.gcn_kernel,
                            aspp_rates=config.aspp_rates, image_pool=config.aspp_image_pool,
                            norm=config.head_norm)
        self.decoder = Decoder(decoder_in, **decoder_args)
        self.aux_decoder = (
            Decoder(config.coseg_dim, **decoder_args)
            if self.uses_coseg and config.aux_decoder else None
        )
        self.judgment = JudgmentModule(roi_output_size=config.roi_output_size,
                                       mode=config.roi_mode)

    # --- what the variant has ----------------------------------------------------------------

    @property
    def uses_reference(self) -> bool:
        """Reference Module + Mask Encoder present (``ref``, ``full``)."""
        return self.variant in ("ref", "full")

    @property
    def uses_coseg(self) -> bool:
        """Co-segmentation Module present (``coseg``, ``full``)."""
        return self.variant in ("coseg", "full")

    @property
    def uses_two_frames(self) -> bool:
        """The prediction depends on a reference frame (every variant but ``baseline``)."""
        return self.variant != "baseline"

    @classmethod
    def from_config(cls, config: GCSegConfig | ModelConfig | str) -> GCSeg:
        """Build from a config or a preset name / YAML path."""
        return cls(config)

    # --- inference path ------------------------------------------------------------------------

    def encode_frame(self, image: Tensor, prev_mask: Tensor | None = None) -> FrameFeatures:
        """``F = E(I, M)``: image (B, 3, H, W) in [0, 1], mask (B, 1, H, W) or ``None``.

        One image for B masks (the objects of a frame): image (1, 3, H, W), its RGB
        convolution shared by the B rows.
        """
        levels = self.extractor(image, prev_mask)
        return FrameFeatures(levels, tuple(image.shape[-2:]))

    def summarize_reference(self, features: FrameFeatures, mask: Tensor) -> ReferenceSummary:
        """Summarise a reference frame from ``F_{t-n} = E(I_{t-n}, M_{t-n})`` and ``M_{t-n}``.

        Returns ``r_{t-n}`` (Mask Encoder), ``f_{t-n}`` (co-segmentation vectors), the ROI boxes
        and the pooled object vector of the Judgment Module.
        """
        top = features[self.top_level]  # (B, C, h, w)
        box, valid = mask_boxes(mask)
        summary = ReferenceSummary(valid=valid, boxes=grid_boxes(box))
        if self.mask_encoder is not None:
            encoding = self.mask_encoder.encode(top, mask, box, valid)
            summary.r, summary.roi_features = encoding.r, encoding.roi_features
        if self.coseg is not None:
            summary.f = self.coseg.vectors(features)
        summary.object_vector = self.judgment.pool(top, mask).vector
        return summary

    def predict(self, features: FrameFeatures, refs: ReferenceSummary | None = None,
                with_aux: bool = False) -> tuple[Tensor, Internals]:
        """``M_t`` from the current frame's features and cached reference summaries.

        Args:
            features: ``encode_frame(I_t, M_{t-1})``, batch B_f.
            refs: reference summaries, batch B_r (``None`` only for ``baseline``); B_f == B_r,
                or one of them is 1 and is broadcast. Invalid references are computed anyway
                (with ``r = 0``): skip them with ``refs.valid``.
            with_aux: also run the auxiliary decoder (``internals.aux``).

        Returns:
            prob (B, 1, H, W) foreground probability of M_t, and the :class:`Internals`.
        """
        if self.uses_two_frames and refs is None:
            raise ValueError(f"variant {self.variant!r} needs reference summaries")
        if refs is not None:
            features, refs = _broadcast(features, refs)
        main, internals = self._heads(features, refs, with_aux)
        return main.prob, internals

    def judge(self, features: FrameFeatures, prev_mask: Tensor, first: ReferenceSummary,
              threshold: float = 0.7) -> JudgmentResult:
        """Judgment Module: is ``M_{t-1}`` reliable? ``features = encode_frame(I_t, M_{t-1})``,
        ``first`` = the summary of frame 0 (with M_0)."""
        current = self.judgment.pool(features[self.top_level], prev_mask)
        return self.judgment.compare(first.pooled_object(), current, threshold)

    # --- training path ---------------------------------------------------------------------

    def forward(self, target_img: Tensor, target_prev_mask: Tensor | None,
                ref_img: Tensor | None = None, ref_mask: Tensor | None = None) -> TrainOutput:
        """Training forward on pairs: the four outputs of eq. 3 (those the variant has).

        Args:
            target_img: I_t (B, 3, H, W); target_prev_mask: M_{t-1} (B, 1, H, W) or ``None``.
            ref_img: I_{t-n} (B, 3, H, W); ref_mask: M_{t-n} (B, 1, H, W) (unused by baseline).
        """
        batch = target_img.shape[0]
        if not self.uses_two_frames:
            features = self.encode_frame(target_img, target_prev_mask)
            main, internals = self._heads(features, None, with_aux=False)
            return TrainOutput(m_t=main, internals_t=internals)
        if ref_img is None or ref_mask is None:
            raise ValueError(f"variant {self.variant!r} needs ref_img and ref_mask")
        if target_prev_mask is None:
            target_prev_mask = torch.zeros_like(ref_mask)
        both = self.encode_frame(torch.cat([target_img, ref_img]),
                                 torch.cat([target_prev_mask, ref_mask]))  # 2B frames
        feat_t, feat_ref = both.split(batch)
        reference = self.summarize_reference(feat_ref, ref_mask)
        target_vectors = self.coseg.vectors(feat_t) if self.coseg is not None else {}
        # Row block 1: F_t with (r_{t-n}, f_{t-n}) -> M_t; row block 2: F_{t-n} with
        # (r_{t-n}, f_t) -> M_{t-n}. One pass through the heads, the same code as predict.
        as_other = dataclasses.replace(reference, f=target_vectors)
        stacked = ReferenceSummary.cat([reference, as_other])
        main, internals = self._heads(both, stacked, with_aux=self.aux_decoder is not None)
        split = lambda obj, i: _map_tensors(obj, lambda t: t[i * batch:(i + 1) * batch])  # noqa: E731
        internals_t, internals_ref = split(internals, 0), split(internals, 1)
        return TrainOutput(
            m_t=split(main, 0), m_ref=split(main, 1),
            aux_t=internals_t.aux, aux_ref=internals_ref.aux,
            internals_t=internals_t, internals_ref=internals_ref,
            reference=reference, target_vectors=target_vectors,
        )

    # --- shared heads ------------------------------------------------------------------------

    def _heads(self, features: FrameFeatures, refs: ReferenceSummary | None,
               with_aux: bool) -> tuple[DecoderOutput, Internals]:
        """Co-segmentation / Reference Module -> decoder(s), for matched batches."""
        top = features[self.top_level]  # (B, C, h, w)
        parts, internals = [], {}
        G = None
        if self.coseg is not None:
            G, levels = self.coseg(features, refs.f)  # (B, d, h, w)
            parts.append(G)
            internals.update(coseg_vectors=dict(refs.f), coseg_levels=levels, G=G)
        if self.reference is not None:
            R, ref_internals = self.reference(top, refs.r)  # (B, d, h, w)
            parts.append(R)
            internals.update(reference=ref_internals, roi_boxes=refs.boxes,
                             roi_features=refs.roi_features)
        x = torch.cat(parts, dim=1) if parts else top  # decoder input
        main = self.decoder(x, features.image_size)
        aux = None
        if with_aux and self.aux_decoder is not None:
            aux = self.aux_decoder(G, features.image_size)
        return main, Internals(logits=main.logits, decoder_input=x, aux=aux, **internals)


def _broadcast(features: FrameFeatures, refs: ReferenceSummary
               ) -> tuple[FrameFeatures, ReferenceSummary]:
    bf, br = features.batch_size, refs.batch_size
    if bf == br:
        return features, refs
    if bf == 1:
        return features.map(lambda t: t.expand(br, *t.shape[1:])), refs
    if br == 1:
        return features, refs.expand(bf)
    raise ValueError(f"features batch {bf} and references batch {br} differ (and neither is 1)")


# ----------------------------------------------------------------------------- loss (eq. 3)


def bce_from_logits(logits: Tensor, target: Tensor, reduction: str = "mean",
                    ignore_value: float | None = 255.0) -> Tensor:
    """Pixel-wise binary cross-entropy of the foreground softmax of 2-class ``logits``.

    ``-(y log p1 + (1 - y) log p0)`` with ``p = softmax(logits)``, computed with
    ``log_softmax`` (stable). Equal to ``F.binary_cross_entropy(prob, y)``.

    Args:
        logits: (B, 2, H, W); target: (B, 1, H, W) or (B, H, W), values in [0, 1]; pixels equal
            to ``ignore_value`` (DAVIS 2016's void 255) are left out.
        reduction: ``mean`` over the kept pixels of the batch, or ``sum`` over pixels averaged
            over the batch.
    """
    if target.dim() == 4:
        target = target[:, 0]
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"target {tuple(target.shape)} does not fit logits "
                         f"{tuple(logits.shape)}")
    target = target.to(logits.dtype)
    keep = (torch.ones_like(target, dtype=torch.bool) if ignore_value is None
            else target != ignore_value)
    y = torch.where(keep, target, torch.zeros_like(target))
    log_p = F.log_softmax(logits, dim=1)  # (B, 2, H, W)
    loss = -(y * log_p[:, 1] + (1 - y) * log_p[:, 0]) * keep  # (B, H, W)
    if reduction == "mean":
        return loss.sum() / keep.sum().clamp(min=1)
    if reduction == "sum":
        return loss.sum() / loss.shape[0]
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def gcseg_loss_terms(out: TrainOutput, gt_t: Tensor, gt_ref: Tensor | None = None,
                     reduction: str = "mean", ignore_value: float | None = 255.0
                     ) -> dict[str, Tensor]:
    """Each BCE term of eq. 3 that the variant has: ``m_t``/``aux_t`` against ``gt_t`` (GT_t),
    ``m_ref``/``aux_ref`` against ``gt_ref`` (GT_{t-n})."""
    terms = {}
    for name, output in out.outputs().items():
        gt = gt_t if name.endswith("_t") else gt_ref
        if gt is None:
            raise ValueError(f"output {name} needs gt_ref (the reference frame's ground truth)")
        terms[name] = bce_from_logits(output.logits, gt, reduction, ignore_value)
    return terms


def gcseg_loss(out: TrainOutput, gt_t: Tensor, gt_ref: Tensor | None = None,
               reduction: str = "mean", ignore_value: float | None = 255.0) -> Tensor:
    """Eq. 3: ``L(M_t) + L(M_{t-n}) + L(M'_t) + L(M'_{t-n})``, the terms the variant has.

    ``baseline``: L(M_t); ``ref``: + L(M_{t-n}); ``coseg``/``full``: all four (two without
    the auxiliary decoder). Each term is the mean over pixels (``reduction="mean"``, default)
    or the per-frame sum over pixels averaged over the batch (``"sum"``).
    """
    terms = gcseg_loss_terms(out, gt_t, gt_ref, reduction, ignore_value)
    return torch.stack(list(terms.values())).sum()

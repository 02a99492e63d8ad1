"""The GCSeg network (paper Section III-A, Figure 1).

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
  never runs again on a past frame. The reference batch is the feature batch, a multiple of
  it (m references for the same frame rows, reference-major), or 1 (broadcast): many
  references or many objects go through the heads at once, and what depends on the frame
  only (the Reference Module's ``F'`` and the ``F`` half of its bottom convolution) is
  computed once per frame row.

Everything the notebooks show comes back in :class:`~gcseg.model.containers.Internals`
(co-segmentation vectors, G, the ROI boxes and their features, D1, D1', R1, R2, R) and
:class:`~gcseg.model.judgment.JudgmentResult`; the containers are in
:mod:`gcseg.model.containers`, the loss of eq. 3 in :mod:`gcseg.model.loss`.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from gcseg.config import JUDGMENT_THRESHOLD, GCSegConfig, ModelConfig, load_config
from gcseg.model.containers import (
    FrameFeatures,
    Internals,
    ReferenceSummary,
    TrainOutput,
    map_tensors,
)
from gcseg.model.coseg import CoSegmentation
from gcseg.model.decoder import Decoder, DecoderOutput
from gcseg.model.feature_extractor import FeatureExtractor
from gcseg.model.judgment import JudgmentModule, JudgmentResult, PooledObject
from gcseg.model.mask_encoder import MaskEncoder
from gcseg.model.reference import ReferenceModule
from gcseg.model.roi import grid_boxes, mask_boxes

__all__ = ["GCSeg"]


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
        box, valid = mask_boxes(mask)  # (B, 4), (B,)
        r = roi_features = None
        if self.mask_encoder is not None:
            encoding = self.mask_encoder.encode(top, mask, box, valid)
            r, roi_features = encoding.r, encoding.roi_features  # (B, C), (B, 10, C)
        vectors = self.coseg.vectors(features) if self.coseg is not None else {}
        return ReferenceSummary(valid=valid, r=r, f=vectors, boxes=grid_boxes(box),
                                roi_features=roi_features,
                                object_vector=self.judgment.pool(top, mask).vector)

    def predict(self, features: FrameFeatures, refs: ReferenceSummary | None = None,
                with_aux: bool = False, levels: bool = True) -> tuple[Tensor, Internals]:
        """``M_t`` from the current frame's features and cached reference summaries.

        Args:
            features: ``encode_frame(I_t, M_{t-1})``, batch B_f.
            refs: reference summaries, batch B_r (``None`` only for ``baseline``): B_r is
                B_f, a multiple m·B_f (row j is read against frame row j mod B_f: m
                references of the same B_f objects, reference-major), or 1 (broadcast to the
                B_f rows). Invalid references are computed anyway (with ``r = 0``): skip them
                with ``refs.valid``.
            with_aux: also run the auxiliary decoder (``internals.aux``).
            levels: keep the co-segmentation's per-level attended maps
                (``internals.coseg_levels``, for the figures); the engine skips them.

        Returns:
            prob (max(B_f, B_r), 1, H, W) foreground probability of M_t, and the
            :class:`Internals`.
        """
        if self.uses_two_frames and refs is None:
            raise ValueError(f"variant {self.variant!r} needs reference summaries")
        if refs is not None:
            features, refs = _broadcast(features, refs)
        main, internals = self._heads(features, refs, with_aux, levels)
        return main.prob, internals

    def predict_mean(self, features: FrameFeatures, refs: ReferenceSummary, weights: Tensor,
                     levels: bool = True) -> tuple[Tensor, Internals]:
        """``M_t`` from the weighted mean of the decoder inputs over the references: the heads
        before the decoder run per (reference, frame row), the decoder once per frame row.

        Not the paper's algorithm (it averages the predictions, :meth:`predict`), but the
        decoder's cost no longer grows with the references (``reference_fusion="features"``
        of :class:`~gcseg.inference.InferenceOptions`).

        Args:
            features: batch B_f (the objects of a frame).
            refs: batch m·B_f, reference-major (row j against frame row j mod B_f).
            weights: (m, B_f) the weight of each reference for each frame row (each column
                summing to 1; zero for an invalid reference).
            levels: as in :meth:`predict`.

        Returns:
            prob (B_f, 1, H, W), and the :class:`Internals` of the m·B_f (reference, frame
            row) pairs, except ``logits`` and ``decoder_input``: those of the mean (B_f rows).
        """
        if not self.uses_two_frames:
            raise ValueError(f"variant {self.variant!r} reads no references to average")
        rows = features.batch_size
        if refs.batch_size % rows or weights.shape != (refs.batch_size // rows, rows):
            raise ValueError(f"weights {tuple(weights.shape)} must be (m, B_f) for references "
                             f"batch {refs.batch_size} = m x features batch {rows}")
        x, internals = self._decoder_input(features, refs, levels)  # (m * B_f, C_in, h, w)
        per_reference = x.view(weights.shape[0], rows, *x.shape[1:])
        mean = (per_reference * weights.to(x.dtype)[:, :, None, None, None]).sum(dim=0)
        main = self.decoder(mean, features.image_size)
        return main.prob, Internals(logits=main.logits, decoder_input=mean, **internals)

    def judge(self, features: FrameFeatures, prev_mask: Tensor,
              first: ReferenceSummary | PooledObject,
              threshold: float = JUDGMENT_THRESHOLD) -> JudgmentResult:
        """Judgment Module: is ``M_{t-1}`` reliable? ``features = encode_frame(I_t, M_{t-1})``
        (or ``encode_frame(I_t, 0)``), ``first`` = the summary of frame 0 (with M_0), or frame
        0's object pooled from features of the same kind (:meth:`judgment_view`)."""
        if isinstance(first, ReferenceSummary):
            first = first.pooled_object()
        return self.judgment.compare(first, self.judgment_view(features, prev_mask), threshold)

    def judgment_view(self, features: FrameFeatures, mask: Tensor) -> PooledObject:
        """What the Judgment Module sees of ``features``: the top level pooled over the box of
        ``mask`` (B, 1, H, W)."""
        return self.judgment.pool(features[self.top_level], mask)

    # --- training path ---------------------------------------------------------------------

    def forward(self, target_img: Tensor, target_prev_mask: Tensor | None,
                ref_img: Tensor | None = None, ref_mask: Tensor | None = None) -> TrainOutput:
        """Training forward on pairs: the four outputs of eq. 3 (those the variant has). The
        internals' per-level co-segmentation maps are left empty (the loss reads none;
        :meth:`predict` gives them).

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
        main, internals = self._heads(both, stacked, with_aux=self.aux_decoder is not None,
                                      levels=False)  # the loss reads no per-level map
        internals_t, internals_ref = _block(internals, 0, batch), _block(internals, 1, batch)
        return TrainOutput(
            m_t=_block(main, 0, batch), m_ref=_block(main, 1, batch),
            aux_t=internals_t.aux, aux_ref=internals_ref.aux,
            internals_t=internals_t, internals_ref=internals_ref,
            reference=reference, target_vectors=target_vectors,
        )

    # --- shared heads ------------------------------------------------------------------------

    def _decoder_input(self, features: FrameFeatures, refs: ReferenceSummary | None,
                       levels: bool = True) -> tuple[Tensor, dict]:
        """Co-segmentation / Reference Module: the decoder input concat(G, R) (or the top
        level for ``baseline``) and the internals; refs of the features' batch or a multiple
        of it."""
        top = features[self.top_level]  # (B_f, C, h, w)
        parts, internals = [], {}
        if self.coseg is not None:
            G, attended = self.coseg(features, refs.f, levels)  # (B, d, h, w)
            parts.append(G)
            internals.update(coseg_vectors=dict(refs.f), coseg_levels=attended, G=G)
        if self.reference is not None:
            R, ref_internals = self.reference(top, refs.r)  # (B, d, h, w)
            parts.append(R)
            internals.update(reference=ref_internals, roi_boxes=refs.boxes,
                             roi_features=refs.roi_features)
        return (torch.cat(parts, dim=1) if parts else top), internals

    def _heads(self, features: FrameFeatures, refs: ReferenceSummary | None,
               with_aux: bool, levels: bool = True) -> tuple[DecoderOutput, Internals]:
        """Co-segmentation / Reference Module -> decoder(s)."""
        x, internals = self._decoder_input(features, refs, levels)
        main = self.decoder(x, features.image_size)
        aux = None
        if with_aux and self.aux_decoder is not None:
            aux = self.aux_decoder(internals["G"], features.image_size)
        return main, Internals(logits=main.logits, decoder_input=x, aux=aux, **internals)


def _broadcast(features: FrameFeatures, refs: ReferenceSummary
               ) -> tuple[FrameFeatures, ReferenceSummary]:
    """One reference for many frame rows is expanded to them; a reference batch that is a
    multiple of the feature batch stays as it is (the heads read frame row j mod B_f)."""
    bf, br = features.batch_size, refs.batch_size
    if br % bf == 0:
        return features, refs
    if br == 1:
        return features, refs.expand(bf)
    raise ValueError(f"references batch {br} must be features batch {bf}, a multiple of it, "
                     "or 1")


def _block(obj: object, index: int, size: int) -> object:
    """Rows ``index * size`` to ``(index + 1) * size`` of every tensor in ``obj``: one of the
    row blocks of the stacked training batch."""
    return map_tensors(obj, lambda t: t[index * size:(index + 1) * size])

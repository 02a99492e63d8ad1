"""The GCSeg network, one module per box of the paper's Figure 1.

- :mod:`~gcseg.model.feature_extractor` -- 4-channel ResNet (Section III-A-2)
- :mod:`~gcseg.model.coseg` -- Co-segmentation Module (III-A-3, Figure 2)
- :mod:`~gcseg.model.mask_encoder` -- Mask Encoder, 10 ROIs (III-A-4a, Figure 3)
- :mod:`~gcseg.model.reference` -- Reference Module, eq. 1-2 (III-A-4b, Figure 4)
- :mod:`~gcseg.model.decoder` -- global convolution, residual block, ASPP (III-A-5, Figure 5)
- :mod:`~gcseg.model.judgment` -- Judgment Module of the Adaptive Search (III-B, Figure 6)
- :mod:`~gcseg.model.roi` -- ROI geometry shared by the Mask Encoder and the Judgment Module
- :mod:`~gcseg.model.blocks` -- the heads' convolution block
- :mod:`~gcseg.model.containers` -- frame features, reference summaries, internals, outputs
- :mod:`~gcseg.model.gcseg` -- the network and its four variants (Figure 1, Table V)
- :mod:`~gcseg.model.loss` -- the loss of eq. 3
- :mod:`~gcseg.model.describe` -- parameter counts and FLOPs
"""

from gcseg.model.containers import FrameFeatures, Internals, ReferenceSummary, TrainOutput
from gcseg.model.coseg import CoSegmentation, broadcast_attend
from gcseg.model.decoder import ASPP, Decoder, DecoderOutput, GlobalConvBlock, ResidualBlock
from gcseg.model.feature_extractor import FeatureExtractor, WeightsUnavailableError
from gcseg.model.gcseg import GCSeg
from gcseg.model.judgment import JudgmentModule, JudgmentResult, PooledObject
from gcseg.model.loss import bce_from_logits, gcseg_loss, gcseg_loss_terms
from gcseg.model.mask_encoder import MaskEncoder, MaskEncoding
from gcseg.model.reference import (
    ReferenceInternals,
    ReferenceModule,
    attend_similarity,
    spatial_softmax,
)
from gcseg.model.roi import grid_boxes, mask_boxes, pool_boxes, pool_rois, scale_boxes

__all__ = [
    "ASPP",
    "CoSegmentation",
    "Decoder",
    "DecoderOutput",
    "FeatureExtractor",
    "FrameFeatures",
    "GCSeg",
    "GlobalConvBlock",
    "Internals",
    "JudgmentModule",
    "JudgmentResult",
    "MaskEncoder",
    "MaskEncoding",
    "PooledObject",
    "ReferenceInternals",
    "ReferenceModule",
    "ReferenceSummary",
    "ResidualBlock",
    "TrainOutput",
    "WeightsUnavailableError",
    "attend_similarity",
    "bce_from_logits",
    "broadcast_attend",
    "gcseg_loss",
    "gcseg_loss_terms",
    "grid_boxes",
    "mask_boxes",
    "pool_boxes",
    "pool_rois",
    "scale_boxes",
    "spatial_softmax",
]

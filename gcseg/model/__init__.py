"""The GCSeg network, one module per box of the paper's Figure 1.

- :mod:`~gcseg.model.feature_extractor` -- 4-channel ResNet (III-A-2)
- :mod:`~gcseg.model.coseg` -- Co-segmentation Module (III-A-3)
- :mod:`~gcseg.model.mask_encoder` -- Mask Encoder, 10 ROIs (III-A-4a)
- :mod:`~gcseg.model.reference` -- Reference Module, eq. 1-2 (III-A-4b)
- :mod:`~gcseg.model.decoder` -- global convolution, residual block, ASPP (III-A-5)
- :mod:`~gcseg.model.judgment` -- Judgment Module of the Adaptive Search (III-B)
- :mod:`~gcseg.model.gcseg` -- the network, its variants, the loss (eq. 3)
- :mod:`~gcseg.model.describe` -- parameter counts and FLOPs
"""

from gcseg.model.coseg import CoSegmentation, broadcast_attend
from gcseg.model.decoder import ASPP, Decoder, DecoderOutput, GlobalConvBlock, ResidualBlock
from gcseg.model.feature_extractor import FeatureExtractor, WeightsUnavailableError
from gcseg.model.gcseg import (
    FrameFeatures,
    GCSeg,
    Internals,
    ReferenceSummary,
    TrainOutput,
    bce_from_logits,
    gcseg_loss,
    gcseg_loss_terms,
)
from gcseg.model.judgment import JudgmentModule, JudgmentResult
from gcseg.model.mask_encoder import MaskEncoder, MaskEncoding, grid_boxes, mask_boxes
from gcseg.model.reference import (
    ReferenceInternals,
    ReferenceModule,
    attend_similarity,
    spatial_softmax,
)

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
    "spatial_softmax",
]

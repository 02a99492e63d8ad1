"""RGMP's network as a timing peer: GCSeg's seconds per frame beside RGMP's on the same input.

The paper compares GCSeg with RGMP (Oh et al., "Fast Video Object Segmentation by
Reference-Guided Mask Propagation", CVPR 2018): 0.28 s against 0.13 s per frame (Table II), on
hardware it does not name. :class:`RGMPPeer` is RGMP's architecture written from that paper's
description (Section 3.1, Figures 2-3), with random weights -- speed does not depend on them --
so that ``python -m gcseg bench`` times both networks on the same frames, in the same process,
with the same backbone, layout and threads:

- **Siamese encoder**: a ResNet whose first convolution takes the image and a mask (the same
  :class:`~gcseg.model.FeatureExtractor` as GCSeg's, at output stride 32 as in RGMP). The
  reference stream reads ``(I_0, M_0)`` once per video; the target stream ``(I_t, M_{t-1})``
  every frame.
- **Decoder**: the two streams' ``res5`` concatenated, a global convolution block (Peng et al.)
  to ``dim`` channels and a residual block, then three refinement modules that upsample by two
  with the target stream's ``res4``, ``res3`` and ``res2`` as skip connections (each: the skip
  through a 3x3 convolution and a residual block, plus the upsampled coarser map, through a
  residual block), a 3x3 convolution to two classes, a softmax and a 4x upsampling.
- Frames are padded to a multiple of 32, as RGMP's test code pads 480x854 to 480x864; K objects
  go through as a batch of K rows (RGMP segments each object with its own mask); single scale
  (RGMP's released test also averages three scales, about 1.8x the time).

:func:`rgmp_seconds_per_frame` times it the way the benchmark times GCSeg's engine: from the
frame's pixels to its merged labels, the reference stream computed before the clock starts.
"""

from __future__ import annotations

import contextlib
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gcseg.inference.objects import merge_objects
from gcseg.inference.options import AMP_DTYPES
from gcseg.inference.runner import frame_on_device
from gcseg.model.decoder import GlobalConvBlock, ResidualBlock
from gcseg.model.feature_extractor import FeatureExtractor
from gcseg.speed.timing import synchronize

__all__ = ["RGMP_STRIDE", "RGMPPeer", "Refinement", "rgmp_seconds_per_frame"]

RGMP_STRIDE = 32
"""RGMP's encoder stride: frames are padded to a multiple of it."""
_SKIPS = ("res4", "res3", "res2")


class Refinement(nn.Module):
    """RGMP's refinement module: ``res(res(conv3x3(skip)) + upsample(coarse))``."""

    def __init__(self, skip_channels: int, dim: int) -> None:
        super().__init__()
        self.skip = nn.Conv2d(skip_channels, dim, 3, padding=1)
        self.skip_residual = ResidualBlock(dim)
        self.merged_residual = ResidualBlock(dim)

    def forward(self, coarse: Tensor, skip: Tensor) -> Tensor:
        skip = self.skip_residual(self.skip(skip))  # (B, dim, h, w)
        coarse = F.interpolate(coarse, size=skip.shape[-2:], mode="bilinear",
                               align_corners=False)
        return self.merged_residual(skip + coarse)


class RGMPPeer(nn.Module):
    """RGMP's architecture (see the module docstring), random weights, eval mode.

    Args:
        backbone: the encoder's ResNet (RGMP: ``resnet50``).
        dim: the decoder's width (256).
        gcn_kernel: k of the global convolution block (7).
    """

    def __init__(self, backbone: str = "resnet50", dim: int = 256, gcn_kernel: int = 7) -> None:
        super().__init__()
        self.encoder = FeatureExtractor(backbone, output_stride=RGMP_STRIDE, weights=None)
        channels = self.encoder.channels
        self.global_conv = GlobalConvBlock(2 * channels["res5"], dim, gcn_kernel)
        self.residual = ResidualBlock(dim)
        self.refine = nn.ModuleList(Refinement(channels[level], dim) for level in _SKIPS)
        self.classifier = nn.Conv2d(dim, 2, 3, padding=1)
        self.eval()

    @staticmethod
    def pad(x: Tensor) -> Tensor:
        """``x`` (B, C, H, W) zero-padded on the right and bottom to a multiple of 32."""
        height, width = x.shape[-2:]
        return F.pad(x, (0, -width % RGMP_STRIDE, 0, -height % RGMP_STRIDE))

    def encode_reference(self, image: Tensor, masks: Tensor) -> Tensor:
        """The reference stream: ``res5`` of ``(I_0, M_0)``, image (1, 3, H, W), masks
        (K, 1, H, W) -> (K, C5, H'/32, W'/32); computed once per video."""
        return self.encoder(self.pad(image), self.pad(masks))["res5"].contiguous()

    def forward(self, image: Tensor, prev_masks: Tensor, reference: Tensor) -> Tensor:
        """``(I_t, M_{t-1})`` against the cached reference stream: the foreground probability
        (K, 1, H, W) of each object."""
        height, width = image.shape[-2:]
        levels = {level: x.contiguous()  # the decoder in NCHW, as GCSeg's heads
                  for level, x in self.encoder(self.pad(image), self.pad(prev_masks)).items()}
        x = self.residual(self.global_conv(torch.cat([levels["res5"], reference], dim=1)))
        for module, level in zip(self.refine, _SKIPS, strict=True):
            x = module(x, levels[level])  # 1/16, 1/8, 1/4
        logits = F.interpolate(self.classifier(x), scale_factor=4, mode="bilinear",
                               align_corners=False)
        return torch.softmax(logits, dim=1)[:, 1:2, :height, :width]


@torch.inference_mode()
def rgmp_seconds_per_frame(peer: RGMPPeer, frames: list[np.ndarray], first_mask: np.ndarray,
                           device: torch.device | str = "cpu", warmup: int = 1,
                           channels_last: bool = True, dtype: str = "float32"
                           ) -> tuple[float, list[float]]:
    """Median seconds per frame of ``peer`` over ``frames[1 + warmup:]``, and every
    frame's seconds: pixels to tensor, both streams' decoder, the merge of the objects (the
    engine's :func:`~gcseg.inference.merge_objects`) and the next frame's masks.
    ``first_mask`` (H, W) ids 1..K; the reference stream (frame 0) is encoded before the clock
    starts. ``dtype`` ``float16``/``bfloat16``: CUDA autocast, as the benchmark runs GCSeg."""
    device = torch.device(device)
    autocast = (torch.autocast(device.type, dtype=AMP_DTYPES[dtype])
                if dtype != "float32" else contextlib.nullcontext())
    if len(frames) < 2 + warmup:
        raise ValueError(f"{len(frames)} frames: at least {2 + warmup} for warmup={warmup}")
    layout = torch.channels_last if channels_last else torch.contiguous_format
    peer = peer.to(device).eval()
    peer.encoder.to(memory_format=layout)
    ids = torch.arange(1, int(first_mask.max()) + 1, device=device, dtype=torch.uint8)

    def object_masks(labels: Tensor) -> Tensor:  # (H, W) ids -> (K, 1, H, W)
        return (labels[None, None] == ids.view(-1, 1, 1, 1)).float().contiguous(
            memory_format=layout)

    masks = object_masks(torch.from_numpy(first_mask).to(device))
    with autocast:
        reference = peer.encode_reference(frame_on_device(frames[0], device, layout), masks)
    seconds = []
    for frame in frames[1:]:
        start = time.perf_counter()
        with autocast:
            prob = peer(frame_on_device(frame, device, layout), masks,
                        reference)  # (K, 1, H, W)
        masks = object_masks(merge_objects(prob, ids))
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds[warmup:]), seconds

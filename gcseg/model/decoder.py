"""Decoder (paper Section III-A-5, Figure 5).

Three parts in sequence, then a two-class head:

1. Global convolution block (Peng et al., "Large Kernel Matters"): a k x 1 then 1 x k branch
   and a 1 x k then k x 1 branch, summed: a k x k receptive field at the cost of 2 x 2k weights
   per channel pair. No non-linearity inside, as in the original.
2. Residual block without batch normalisation: ``x + conv3x3(relu(conv3x3(x)))``.
3. ASPP (DeepLab v3): parallel atrous convs (rate 1 is a 1x1 conv) plus image-level pooling,
   concatenated and projected by a 1x1 conv block.

Then a 1x1 conv to 2 classes (background, foreground), bilinear upsampling to the frame size,
and a softmax over the 2 channels. ``prob`` is the foreground channel: the mask ``M``.

The main decoder reads ``concat(G, R)`` (variant ``full``), ``R`` (``ref``), ``G`` (``coseg``)
or the top-level features (``baseline``). The auxiliary co-segmentation-only decoder of eq. 3
(``M'_t``, ``M'_{t-n}``) is a second :class:`Decoder` of the same design reading ``G``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gcseg.config import Norm
from gcseg.model.blocks import ConvBlock

__all__ = ["ASPP", "Decoder", "DecoderOutput", "GlobalConvBlock", "ResidualBlock"]


@dataclass
class DecoderOutput:
    """``logits`` (B, 2, H, W) at frame size; ``prob`` (B, 1, H, W) the foreground softmax."""

    logits: Tensor
    prob: Tensor


class GlobalConvBlock(nn.Module):
    """``(k x 1 -> 1 x k) + (1 x k -> k x 1)``: (B, C_in, h, w) -> (B, C_out, h, w)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 7) -> None:
        super().__init__()
        k, p = kernel_size, kernel_size // 2
        self.left = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, (k, 1), padding=(p, 0)),
            nn.Conv2d(out_channels, out_channels, (1, k), padding=(0, p)),
        )
        self.right = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, (1, k), padding=(0, p)),
            nn.Conv2d(out_channels, out_channels, (k, 1), padding=(p, 0)),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.left(x) + self.right(x)


class ResidualBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` with 3x3 convs and no normalisation (paper: "without BN")."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.relu(self.conv1(x)))


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: (B, C_in, h, w) -> (B, C_out, h, w).

    One branch per rate (rate 1: 1x1 conv block; others: 3x3 atrous conv block) and, with
    ``image_pool``, global average pooling -> 1x1 conv -> ReLU -> upsampling (no normalisation
    in that branch: a 1x1 map would make BatchNorm fail with batch size 1).
    """

    def __init__(self, in_channels: int, out_channels: int, rates: Sequence[int] = (1, 6, 12, 18),
                 image_pool: bool = True, norm: Norm = "group") -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            ConvBlock(in_channels, out_channels, 1 if rate == 1 else 3,
                      dilation=1 if rate == 1 else rate, norm=norm)
            for rate in rates
        )
        self.pool = (
            nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1),
                          nn.ReLU(inplace=True))
            if image_pool else None
        )
        count = len(self.branches) + (1 if image_pool else 0)
        self.project = ConvBlock(count * out_channels, out_channels, 1, norm=norm)

    def forward(self, x: Tensor) -> Tensor:
        outs = [branch(x) for branch in self.branches]  # each (B, C_out, h, w)
        if self.pool is not None:
            outs.append(self.pool(x).expand(-1, -1, *x.shape[-2:]))  # (B, C_out, h, w)
        return self.project(torch.cat(outs, dim=1))


class Decoder(nn.Module):
    """``x (B, C_in, h, w) -> DecoderOutput`` at ``output_size``.

    Args:
        in_channels: channels of the decoder input.
        dim: decoder width.
        gcn_kernel: k of the global convolution block.
        aspp_rates, image_pool: ASPP branches.
        norm: normalisation of the ASPP conv blocks.
    """

    def __init__(self, in_channels: int, dim: int = 256, gcn_kernel: int = 7,
                 aspp_rates: Sequence[int] = (1, 6, 12, 18), image_pool: bool = True,
                 norm: Norm = "group") -> None:
        super().__init__()
        self.gcn = GlobalConvBlock(in_channels, dim, gcn_kernel)
        self.residual = ResidualBlock(dim)
        self.aspp = ASPP(dim, dim, aspp_rates, image_pool, norm)
        self.classifier = nn.Conv2d(dim, 2, kernel_size=1)

    def forward(self, x: Tensor, output_size: tuple[int, int]) -> DecoderOutput:
        x = self.gcn(x)  # (B, d, h, w)
        x = self.residual(x)  # (B, d, h, w)
        x = self.aspp(x)  # (B, d, h, w)
        logits = self.classifier(x)  # (B, 2, h, w)
        logits = F.interpolate(logits, size=tuple(output_size), mode="bilinear",
                               align_corners=False)  # (B, 2, H, W)
        prob = torch.softmax(logits, dim=1)[:, 1:2]  # (B, 1, H, W): channel softmax, foreground
        return DecoderOutput(logits=logits, prob=prob)

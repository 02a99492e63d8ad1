"""Small building blocks shared by the heads: the "convolution block" of the paper's figures.

The paper draws "conv block"s without saying what is inside. Ours is ``conv -> norm -> ReLU``,
with the normalisation chosen by ``ModelConfig.head_norm``: ``group`` (default; GroupNorm does
not depend on the batch size, so training and inference compute the same function even with
the tiny batches of video training), ``batch`` or ``none``.
"""

from __future__ import annotations

from torch import nn

from gcseg.config import NORMS, Norm

__all__ = ["ConvBlock", "make_norm", "num_groups"]


def num_groups(channels: int) -> int:
    """Groups for GroupNorm: the largest of 32, 16, ... leaving at least 2 channels a group."""
    for groups in (32, 16, 8, 4, 2):
        if channels % groups == 0 and channels // groups >= 2:
            return groups
    return 1


def make_norm(kind: Norm, channels: int) -> nn.Module:
    """``group`` -> GroupNorm, ``batch`` -> BatchNorm2d, ``none`` -> Identity."""
    if kind == "group":
        return nn.GroupNorm(num_groups(channels), channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r} (one of {NORMS})")


class ConvBlock(nn.Sequential):
    """``Conv2d(k, dilation) -> norm -> ReLU``; 'same' padding, bias only without a norm."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 3, dilation: int = 1,
        norm: Norm = "group",
    ) -> None:
        padding = dilation * (kernel_size // 2)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding,
                      dilation=dilation, bias=norm == "none"),
            make_norm(norm, out_channels),
            nn.ReLU(inplace=True),
        )

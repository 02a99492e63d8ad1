"""Co-segmentation Module (paper Section III-A-3, Figure 2).

It looks for what the target frame and the reference frame have in common. For every feature
level l of a configurable set (default ``res3``, ``res4``, ``res5``):

    f1_l = FC_l(avgpool(F1_l))        # (B, C_l)   one FC per level, shared by both frames
    f2_l = FC_l(avgpool(F2_l))
    G1_l = F1_l ⊙ f2_l                # (B, C_l, H_l, W_l), f2_l broadcast over positions
    G2_l = F2_l ⊙ f1_l

``f2`` acts as an attention over the channels of F1 coming from the other frame: channels that
are strong in the reference frame are kept in the target frame. The paper then "concatenates
different levels": the levels are resized (bilinear) to the grid of the top level and
concatenated, and a 1x1 conv block projects them to ``d`` channels. The projection is our
choice (the paper gives no width); it keeps the decoder's input size independent of the levels.

At inference a reference frame contributes only its vectors ``f_{t-n}`` (one ``C_l``-vector
per level): see :meth:`CoSegmentation.vectors` and :meth:`CoSegmentation.forward`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gcseg.config import COSEG_ACTIVATIONS, CosegActivation, Level, Norm
from gcseg.model.blocks import ConvBlock

__all__ = ["CoSegmentation", "attend_and_project", "broadcast_attend"]


def _check_rows(features: Tensor, vector: Tensor) -> tuple[int, int]:
    """``(B_f, B)`` of ``features`` (B_f, C, H, W) and ``vector`` (B, C), B a multiple of
    B_f; :class:`ValueError` otherwise."""
    rows, batch = features.shape[0], vector.shape[0]
    if vector.dim() != 2 or vector.shape[1] != features.shape[1] or batch % rows:
        raise ValueError(f"vector {tuple(vector.shape)} must be (B, C) of features "
                         f"{tuple(features.shape)}, B a multiple of the features' batch")
    return rows, batch


def broadcast_attend(features: Tensor, vector: Tensor) -> Tensor:
    """``features ⊙ vector``: (B_f, C, H, W) times (B, C) at every position -> (B, C, H, W).

    B is B_f, or a multiple m·B_f: row j of ``vector`` attends frame row j mod B_f (one frame,
    or the K objects of a frame, against m references), without copying ``features``."""
    rows, batch = _check_rows(features, vector)
    if rows == batch:
        return features * vector[:, :, None, None]
    blocks = vector.reshape(batch // rows, rows, vector.shape[1], 1, 1)
    return (features[None] * blocks).flatten(0, 1)


def attend_and_project(conv: nn.Conv2d, features: Tensor, vector: Tensor) -> Tensor:
    """``conv1x1(features ⊙ vector)`` as ``(W diag(vector)) features``: the vector scales the
    1x1 convolution's weights (d x C numbers per row) instead of the map (C x H x W), so the
    attended map is never built and the frame rows are read as they are by every reference.
    Equal up to float rounding.

    ``features`` (B_f, C, H, W), ``vector`` (B, C) with B a multiple of B_f (row j attends
    frame row j mod B_f, as :func:`broadcast_attend`) -> (B, d, H, W)."""
    rows, batch = _check_rows(features, vector)
    weight = conv.weight[:, :, 0, 0]  # (d, C)
    scaled = weight[None] * vector.to(weight.dtype)[:, None, :]  # (B, d, C)
    blocks = scaled.view(batch // rows, rows, *weight.shape)  # (m, B_f, d, C), reference-major
    out = blocks.to(features.dtype) @ features.flatten(2)  # (m, B_f, d, H·W)
    out = out.view(batch, weight.shape[0], *features.shape[-2:])  # (B, d, H, W)
    if conv.bias is not None:
        out = out + conv.bias[:, None, None].to(out.dtype)
    return out


class CoSegmentation(nn.Module):
    """Per-level attention vectors and the attended, concatenated, projected map G.

    Args:
        channels: ``{level: C_l}`` of the feature extractor.
        levels: the levels used, e.g. ``("res3", "res4", "res5")``.
        out_dim: channels ``d`` of G.
        activation: ``"none"`` (the paper's plain FC) or ``"sigmoid"`` after the FC.
        norm: normalisation of the projection block.
        grid_level: the level whose grid G is resized to (the decoder's input level).
    """

    def __init__(
        self,
        channels: Mapping[str, int],
        levels: Sequence[Level] = ("res3", "res4", "res5"),
        out_dim: int = 256,
        activation: CosegActivation = "none",
        norm: Norm = "group",
        grid_level: Level = "res5",
    ) -> None:
        super().__init__()
        if activation not in COSEG_ACTIVATIONS:
            raise ValueError(f"activation must be one of {COSEG_ACTIVATIONS}, got {activation!r}")
        self.levels = tuple(levels)
        self.grid_level = grid_level
        self.activation = activation
        self.fc = nn.ModuleDict({level: nn.Linear(channels[level], channels[level])
                                 for level in self.levels})
        total = sum(channels[level] for level in self.levels)
        self.project = ConvBlock(total, out_dim, 1, norm=norm)  # 1x1 projection (our choice)
        self.out_dim = out_dim

    def vectors(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``f_l = FC_l(avgpool(F_l))`` for every level: ``{level: (B, C_l)}``."""
        out = {}
        for level in self.levels:
            pooled = features[level].mean(dim=(2, 3))  # (B, C_l): global average pooling
            vector = self.fc[level](pooled)  # (B, C_l)
            out[level] = torch.sigmoid(vector) if self.activation == "sigmoid" else vector
        return out

    def forward(
        self, features: Mapping[str, Tensor], other_vectors: Mapping[str, Tensor],
        levels: bool = True,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Attend ``features`` with the other frame's vectors.

        The levels are resized to the grid before they are attended: the bilinear resize is
        linear and works channel by channel, so ``resize(F_l) ⊙ f_l`` equals
        ``resize(F_l ⊙ f_l)`` (up to float rounding), and a frame read against m references
        resizes its finer levels once instead of m times. The attention and the projection's
        1x1 convolution are one product (:func:`attend_and_project`).

        Args:
            features: ``{level: (B_f, C_l, H_l, W_l)}`` of this frame (F1 for G1).
            other_vectors: ``{level: (B, C_l)}`` of the other frame (f2 for G1); B is B_f
                or a multiple of it (see :func:`broadcast_attend`).

            levels: also return the per-level attended maps at their own size (the notebooks'
                figures); ``False`` skips them (the inference engine).

        Returns:
            ``G`` (B, d, H, W) on the grid of ``grid_level`` and the per-level attended maps
            ``{level: (B, C_l, H_l, W_l)}`` before resizing (empty with ``levels=False``).
        """
        size = features[self.grid_level].shape[-2:]
        attended, parts = {}, []
        for level in self.levels:
            x = features[level]  # (B_f, C_l, H_l, W_l)
            small = x  # on the grid; a finer level resized once per frame row, not per reference
            if x.shape[-2:] != size:
                small = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            parts.append(small)
            if levels:
                attended[level] = broadcast_attend(x, other_vectors[level])
        vector = torch.cat([other_vectors[level] for level in self.levels], dim=1)  # (B, ΣC_l)
        projected = attend_and_project(self.project[0], torch.cat(parts, dim=1), vector)
        G = self.project[2](self.project[1](projected))  # norm, ReLU: (B, d, H, W)
        return G, attended

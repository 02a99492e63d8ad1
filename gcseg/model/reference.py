"""Reference Module (paper Section III-A-4b, Figure 4, eq. 1-2).

It searches the features ``F`` of a frame for what looks like the reference object ``r``
(from the Mask Encoder), with two streams:

Upper stream (attention)::

    F' = conv1x1(F)                       # (B, C', H, W)
    R' = conv1x1(r)                       # (B, C')  (a 1x1 conv on a 1x1 map)
    D1 = R'^T F'                          # (B, 1, H, W)   similarity map (matrix product)
    A  = softmax over (i, j) of D1        # eq. 1: A_ijc = exp(D1_ijc) / sum_ij exp(D1_ijc)
    D1' = A ⊙ D1                          # eq. 2: the attended similarity map
    R1 = F' + D1'                         # D1' broadcast over the C' channels

Bottom stream: ``r`` tiled over the grid, concatenated with ``F``, a conv block gives ``R2``.
Its convolution splits exactly into an ``F`` half and an ``r`` half (:func:`bottom_convolution`):
the ``r`` half of a constant map needs no convolution, only the sums of the kernel taps that
fall inside the frame at each position, so the tiled map is never built; the ``F`` half, like
``F'``, depends on the frame only, so a frame read against m references computes both once.
Fusion: ``R = conv block(concat(R1, R2))``; its convolution splits the same way
(:func:`fuse_convolution`): ``R1 = F' + D1'``, and the ``F'`` term is once per frame row. The
same module (same weights) serves ``F1`` and ``F2``.

Reading the paper: eq. 1-2 carry a channel index c, but ``D1 = R'^T F'`` written as a matrix
product has one channel. The default (``similarity="matmul"``) follows the matrix product: D1
has one channel, the softmax runs over the H·W positions, and ``D1'`` is added to every channel
of ``F'``. The paper writes no scale on D1; a sum over C' products of unnormalised features
grows with C' (about 7600 in a trained ``tiny`` model), the softmax of eq. 1 becomes one-hot
and eq. 2 passes no gradient. So by default (``scaled=True``, our choice) D1 is divided by
sqrt(C'), as in scaled dot-product attention; ``scaled=False`` is the paper's literal form.
The alternative (``similarity="per_channel"``) keeps a channel index:
``D1_c = R'_c F'_c``, a spatial softmax per channel, and ``R1 = F' + D1'`` channel by channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gcseg.config import SIMILARITIES, Norm, Similarity
from gcseg.model.blocks import ConvBlock

__all__ = ["ReferenceInternals", "ReferenceModule", "attend_similarity", "bottom_convolution",
           "bottom_frame_half", "bottom_reference_half", "constant_map_convolution",
           "fuse_convolution", "per_reference", "spatial_softmax"]


def spatial_softmax(x: Tensor) -> Tensor:
    """Eq. 1: softmax over the positions (i, j) of every (batch, channel) map of (B, C, H, W)."""
    batch, channels, height, width = x.shape
    return torch.softmax(x.reshape(batch, channels, height * width), dim=-1).reshape(x.shape)


def attend_similarity(d1: Tensor) -> tuple[Tensor, Tensor]:
    """Eq. 1-2: returns ``(A, D1')`` with ``A = spatial_softmax(D1)`` and ``D1' = A ⊙ D1``."""
    attention = spatial_softmax(d1)
    return attention, attention * d1


def _taps_inside(size: int, kernel: int, padding: int, dilation: int,
                 device: torch.device) -> Tensor:
    """(kernel, size): 1 where tap ``k`` of output position ``i`` reads inside ``[0, size)``."""
    positions = torch.arange(size, device=device)[None] + \
        dilation * torch.arange(kernel, device=device)[:, None] - padding
    return ((positions >= 0) & (positions < size)).float()


def constant_map_convolution(r: Tensor, weight: Tensor, size: tuple[int, int],
                             padding: int, dilation: int = 1) -> Tensor:
    """``conv2d(tile(r), weight)`` (stride 1, zero padding) without the tiled map: ``r``
    (B, C), ``weight`` (C', C, k, k) -> (B, C', H, W).  Each position sums ``W_tap · r`` over
    the taps that fall inside the frame: in the interior all k² of them, fewer at the border."""
    height, width = size
    kernel = weight.shape[-1]
    per_tap = torch.einsum("oipq,bi->bopq", weight, r.to(weight.dtype))  # (B, C', k, k)
    rows = _taps_inside(height, kernel, padding, dilation, r.device).to(per_tap.dtype)
    cols = _taps_inside(width, kernel, padding, dilation, r.device).to(per_tap.dtype)
    return torch.einsum("bopq,py,qx->boyx", per_tap, rows, cols)


def bottom_convolution(conv: nn.Conv2d, features: Tensor, r: Tensor) -> Tensor:
    """``conv(concat(F, tile(r)))`` computed as ``conv_F(F) + conv_r(tile(r))``: equal up to
    float rounding, without building the (B, C, H, W) tiled map, and the ``r`` half costs
    O(C' C k²) per row instead of O(C' C k² H W). ``features`` (B_f, C, H, W) and ``r``
    (B, C) with B a multiple of B_f (:func:`per_reference`): the ``F`` half runs once per
    frame row."""
    out = per_reference(bottom_frame_half(conv, features), r.shape[0])
    return out + bottom_reference_half(conv, r, tuple(features.shape[-2:])).to(out.dtype)


def bottom_frame_half(conv: nn.Conv2d, features: Tensor) -> Tensor:
    """The ``F`` half of :func:`bottom_convolution` (with the bias): it depends on the frame
    only, so a frame read against many references needs it once."""
    weight_f = conv.weight[:, :features.shape[1]]
    return F.conv2d(features, weight_f, conv.bias, conv.stride, conv.padding, conv.dilation)


def bottom_reference_half(conv: nn.Conv2d, r: Tensor, size: tuple[int, int]) -> Tensor:
    """The ``tile(r)`` half of :func:`bottom_convolution` on a ``size`` (H, W) grid."""
    weight_r = conv.weight[:, conv.weight.shape[1] - r.shape[1]:]
    return constant_map_convolution(r, weight_r, size, conv.padding[0], conv.dilation[0])


def fuse_convolution(conv: nn.Conv2d, f_prime: Tensor, d1_attended: Tensor, r2: Tensor) -> Tensor:
    """``conv(concat(R1, R2))`` of the fusion block, with ``R1 = F' + D1'``, computed as
    ``conv_R1(F') + conv_R1(D1') + conv_R2(R2)``: equal up to float rounding, and the ``F'``
    term, which depends on the frame only, runs once per frame row. With the ``matmul``
    similarity D1' has one channel added to every channel of F', so its term is a convolution
    of one channel by ``conv_R1``'s weights summed over their input channels.

    ``f_prime`` (B_f, C', H, W); ``d1_attended`` (B, 1 or C', H, W) and ``r2`` (B, C', H, W)
    with B a multiple of B_f (:func:`per_reference`)."""
    dim = f_prime.shape[1]
    weight_r1, weight_r2 = conv.weight[:, :dim], conv.weight[:, dim:]
    weight_d1 = weight_r1.sum(dim=1, keepdim=True) if d1_attended.shape[1] == 1 else weight_r1
    per_row = F.conv2d(torch.cat([d1_attended, r2], dim=1), torch.cat([weight_d1, weight_r2], 1),
                       None, conv.stride, conv.padding, conv.dilation)  # (B, C', H, W)
    frame = F.conv2d(f_prime, weight_r1, conv.bias, conv.stride, conv.padding, conv.dilation)
    return per_row + per_reference(frame, per_row.shape[0]).to(per_row.dtype)


def per_reference(frame_part: Tensor, batch: int) -> Tensor:
    """Rows of ``frame_part`` (B_f, ...) for a reference batch of ``batch`` = m·B_f rows, in
    reference-major order (row j reads frame row j mod B_f): a view when B_f is 1 or equals
    ``batch``, a copy otherwise."""
    rows = frame_part.shape[0]
    if rows == batch:
        return frame_part
    if rows == 1:
        return frame_part.expand(batch, *frame_part.shape[1:])
    if batch % rows:
        raise ValueError(f"a reference batch of {batch} rows cannot read {rows} frame rows "
                         "(it must be a multiple)")
    return frame_part.repeat(batch // rows, *[1] * (frame_part.dim() - 1))


@dataclass
class ReferenceInternals:
    """The similarity maps (notebooks' "similarity maps" figure).

    Attributes:
        D1: (B, 1, H, W) similarity ``R'^T F'`` ((B, C', H, W) for ``per_channel``).
        attention: softmax of D1 over positions (eq. 1), same shape.
        D1_attended: ``D1'`` = attention ⊙ D1 (eq. 2), same shape.
        R1: (B, C', H, W) upper stream ``F' + D1'``.
        R2: (B, C', H, W) bottom stream.
        R: (B, C', H, W) the fused output.
    """

    D1: Tensor
    attention: Tensor
    D1_attended: Tensor
    R1: Tensor
    R2: Tensor
    R: Tensor


class ReferenceModule(nn.Module):
    """``(F (B,C,H,W), r (B,C)) -> (R (B,C',H,W), ReferenceInternals)``.

    Args:
        in_channels: C, channels of F and r.
        dim: C', channels of F', R', R1, R2 and R.
        similarity: ``"matmul"`` (default, one-channel D1) or ``"per_channel"``.
        norm: normalisation of the conv blocks.
        scaled: divide the ``matmul`` similarity by sqrt(C') (see the module docstring).
    """

    def __init__(self, in_channels: int, dim: int = 256, similarity: Similarity = "matmul",
                 norm: Norm = "group", scaled: bool = True) -> None:
        super().__init__()
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        self.similarity = similarity
        self.scaled = scaled
        self.map_features = nn.Conv2d(in_channels, dim, kernel_size=1)  # F -> F'
        self.map_reference = nn.Conv2d(in_channels, dim, kernel_size=1)  # r -> R'
        self.bottom = ConvBlock(2 * in_channels, dim, 3, norm=norm)  # [F, tile(r)] -> R2
        self.fuse = ConvBlock(2 * dim, dim, 3, norm=norm)  # [R1, R2] -> R
        self.out_dim = dim

    def similarity_map(self, f_prime: Tensor, r_prime: Tensor) -> Tensor:
        """D1 from F' (B, C', H, W) and R' (B, C'): (B, 1, H, W) or (B, C', H, W)."""
        if self.similarity == "matmul":
            d1 = torch.einsum("bc,bchw->bhw", r_prime, f_prime)[:, None]  # (B, 1, H, W)
            return d1 / math.sqrt(self.out_dim) if self.scaled else d1
        return r_prime[:, :, None, None] * f_prime  # (B, C', H, W)

    def forward(self, features: Tensor, r: Tensor) -> tuple[Tensor, ReferenceInternals]:
        """``features`` (B_f, C, H, W), ``r`` (B, C) with B a multiple of B_f: row j of ``r``
        is read against frame row j mod B_f (one frame, or the K objects of a frame, against
        m references). What depends on the frame only -- ``F'`` and the ``F`` half of the
        bottom convolution -- is computed once per frame row, not once per reference."""
        batch = r.shape[0]
        if r.dim() != 2 or r.shape[1] != features.shape[1] or batch % features.shape[0]:
            raise ValueError(f"r {tuple(r.shape)} must be (B, C) of F {tuple(features.shape)}"
                             " with B a multiple of F's batch")
        f_prime_frame = self.map_features(features)  # (B_f, C', H, W): once per frame row
        f_prime = per_reference(f_prime_frame, batch)  # (B, C', H, W)
        r_prime = self.map_reference(r[:, :, None, None])[:, :, 0, 0]  # (B, C')
        d1 = self.similarity_map(f_prime, r_prime)
        attention, d1_attended = attend_similarity(d1)  # eq. 1, eq. 2
        r1 = f_prime + d1_attended  # (B, C', H, W)
        convolved = bottom_convolution(self.bottom[0], features, r)  # [F, tile(r)] conv
        r2 = self.bottom[2](self.bottom[1](convolved))  # norm, ReLU: (B, C', H, W)
        fused = fuse_convolution(self.fuse[0], f_prime_frame, d1_attended, r2)  # [R1, R2] conv
        out = self.fuse[2](self.fuse[1](fused))  # norm, ReLU: (B, C', H, W)
        return out, ReferenceInternals(D1=d1, attention=attention, D1_attended=d1_attended,
                                       R1=r1, R2=r2, R=out)

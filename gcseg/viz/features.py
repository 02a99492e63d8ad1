"""Pictures of the Feature Extractor (paper III-A-2): its input, its levels, its first layer.

Used by notebook 01:

- :func:`extractor_shapes`, :func:`shape_table` -- the ``(C, H, W)`` of each level for a frame
  size (runs on the ``meta`` device too: shapes without memory or compute);
- :func:`channel_maps`, :func:`feature_grid_figure` -- a few channels of each level, drawn
  over the frame's extent so the coarser grids line up with the picture;
- :func:`stride_figure` -- what one feature cell of each level covers (the frame averaged over
  ``stride x stride`` blocks);
- :func:`dilation_figure` -- where a 3x3 kernel reads its input at dilation 1, 2, 4 (how the
  last stage keeps its resolution at output stride 16);
- :func:`conv1_filters_figure` -- the first layer's RGB filters next to the mask filters;
- :func:`feature_difference`, :func:`mask_effect_figure` -- how much the mask changes each level.

Functions return arrays, dicts, strings or matplotlib Figures and never call ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from gcseg.model.feature_extractor import FeatureExtractor

__all__ = [
    "channel_maps",
    "conv1_filters_figure",
    "dilation_figure",
    "extractor_shapes",
    "feature_difference",
    "feature_grid_figure",
    "mask_effect_figure",
    "shape_table",
    "stride_figure",
]


def extractor_shapes(extractor: FeatureExtractor, size: tuple[int, int],
                     batch: int = 1) -> dict[str, tuple[int, ...]]:
    """``{level: (B, C, H_l, W_l)}`` of ``extractor`` for ``size = (H, W)`` frames.

    Runs one forward pass on zeros on the extractor's device, without gradients. An extractor
    built under ``with torch.device("meta"):`` gives the shapes of any backbone at any size
    instantly (meta tensors have shapes but no data).
    """
    device = next(extractor.parameters()).device
    image = torch.zeros(batch, 3, *size, device=device)
    mask = torch.zeros(batch, 1, *size, device=device)
    with torch.no_grad():
        levels = extractor(image, mask)
    return {level: tuple(int(n) for n in value.shape) for level, value in levels.items()}


def shape_table(shapes: Mapping[str, Sequence[int]], strides: Mapping[str, int]) -> str:
    """A text table: level, channels, ``H x W`` of the grid, stride.

    ``shapes`` is :func:`extractor_shapes`' result, ``strides`` the extractor's ``strides``
    attribute (frame pixels per grid cell; the grid is ``ceil(H / stride) x ceil(W / stride)``
    because the ResNet pads its strided convolutions).
    """
    lines = [f"{'level':<6}{'channels':>9}{'grid H x W':>13}{'stride':>8}"]
    for level, shape in shapes.items():
        channels, height, width = shape[-3:]
        lines.append(f"{level:<6}{channels:>9}{f'{height} x {width}':>13}{strides[level]:>8}")
    return "\n".join(lines)


def _as_chw(features: Tensor | np.ndarray) -> np.ndarray:
    array = features.detach().float().cpu().numpy() if isinstance(features, Tensor) else \
        np.asarray(features, dtype=np.float32)
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError(f"expected one feature map, got a batch of {array.shape[0]}")
        array = array[0]
    if array.ndim != 3:
        raise ValueError(f"features must be (C, H, W) or (1, C, H, W), got {array.shape}")
    return array


def channel_maps(features: Tensor | np.ndarray, n: int = 6,
                 order: str = "variance") -> tuple[np.ndarray, np.ndarray]:
    """``(maps (n, H, W) in [0, 1], channel indices (n,))``: ``n`` channels of one level.

    ``order="variance"`` picks the channels whose values vary most over the positions (the
    ones with something to show), ``"index"`` the first ``n``. Each map is min-max scaled on
    its own (a constant channel becomes all zeros).
    """
    array = _as_chw(features)  # (C, H, W)
    n = min(n, array.shape[0])
    if order == "variance":
        indices = np.argsort(-array.reshape(array.shape[0], -1).var(axis=1), kind="stable")[:n]
    elif order == "index":
        indices = np.arange(n)
    else:
        raise ValueError(f"order must be 'variance' or 'index', got {order!r}")
    maps = array[indices]  # (n, H, W)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    maps = np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)
    return maps.astype(np.float32), indices


def feature_grid_figure(image: np.ndarray, features: Mapping[str, Tensor], n: int = 5,
                        order: str = "variance", title: str | None = None) -> Figure:
    """One row per level: the frame, then ``n`` channels drawn over the frame's extent.

    Each channel is shown with nearest-neighbour upsampling, so the size of its cells is the
    level's stride; the row label gives the level's shape ``C x H x W``.
    """
    levels = list(features)
    height, width = np.asarray(image).shape[:2]
    fig, axes = plt.subplots(len(levels), n + 1, figsize=(2.2 * (n + 1), 1.45 * len(levels)),
                             squeeze=False)
    for row, level in zip(axes, levels, strict=True):
        chw = _as_chw(features[level])
        maps, indices = channel_maps(chw, n, order)
        row[0].imshow(image)
        row[0].set_ylabel(f"{level}\n{chw.shape[0]}x{chw.shape[1]}x{chw.shape[2]}", fontsize=8)
        for ax, picture, index in zip(row[1:], maps, indices, strict=False):
            ax.imshow(picture, cmap="viridis", extent=(0, width, height, 0),
                      interpolation="nearest")
            ax.set_title(f"channel {int(index)}", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in row[1 + len(maps):]:
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def stride_figure(image: np.ndarray, strides: Mapping[str, int]) -> Figure:
    """The frame as each level "sees" it: averaged over ``stride x stride`` blocks.

    One panel per level; a feature vector of that level sits on one block (its receptive field
    is larger, but its position is one block).
    """
    image = np.asarray(image)
    height, width = image.shape[:2]
    items = list(strides.items())
    fig, axes = plt.subplots(1, len(items) + 1, figsize=(3.3 * (len(items) + 1), 2.4))
    axes[0].imshow(image)
    axes[0].set_title(f"frame {height} x {width}", fontsize=9)
    for ax, (level, stride) in zip(axes[1:], items, strict=True):
        tensor = torch.tensor(image).permute(2, 0, 1)[None].float()
        pooled = torch.nn.functional.avg_pool2d(tensor, stride, ceil_mode=True)
        picture = pooled[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()
        ax.imshow(picture, extent=(0, picture.shape[1] * stride, picture.shape[0] * stride, 0),
                  interpolation="nearest")
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.set_title(f"{level}: stride {stride}, grid {picture.shape[0]} x {picture.shape[1]}",
                     fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def dilation_figure(dilations: Sequence[int] = (1, 2, 4), kernel: int = 3) -> Figure:
    """Where a ``kernel x kernel`` convolution reads its input at each dilation.

    The taps (dark squares) of a dilated kernel are ``dilation`` pixels apart: the same nine
    weights cover a ``(dilation * (kernel - 1) + 1)``-wide window, so a stage can keep its
    resolution (stride 1) and still see as far as the strided version.
    """
    span = max(dilations) * (kernel - 1) + 1
    size = span + 2
    fig, axes = plt.subplots(1, len(dilations), figsize=(2.8 * len(dilations), 3))
    axes = np.atleast_1d(axes)
    for ax, dilation in zip(axes, dilations, strict=True):
        grid = np.zeros((size, size))
        centre = size // 2
        offsets = (np.arange(kernel) - kernel // 2) * dilation
        for dy in offsets:
            for dx in offsets:
                grid[centre + dy, centre + dx] = 1
        ax.imshow(grid, cmap="Greys", vmin=0, vmax=1.2, interpolation="nearest")
        ax.set_xticks(np.arange(-0.5, size), minor=True)
        ax.set_yticks(np.arange(-0.5, size), minor=True)
        ax.grid(which="minor", color="lightgrey", lw=0.5)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_title(f"dilation {dilation}: window {dilation * (kernel - 1) + 1} px", fontsize=9)
    fig.tight_layout()
    return fig


def conv1_filters_figure(extractor: FeatureExtractor, n: int = 16) -> Figure:
    """The first ``n`` filters of the first layer: the RGB conv (top) and the mask conv (bottom).

    RGB filters are min-max scaled together, as colour patches; mask filters are drawn on a
    symmetric grey scale shared by all of them (all mid-grey when the mask conv is zero). The
    title gives the largest absolute mask weight.
    """
    rgb = extractor.conv1.weight.detach().float().cpu()[:n]  # (n, 3, 7, 7)
    mask = extractor.conv1_mask.weight.detach().float().cpu()[:n, 0]  # (n, 7, 7)
    low, high = float(rgb.min()), float(rgb.max())
    rgb = ((rgb - low) / (high - low if high > low else 1.0)).permute(0, 2, 3, 1).numpy()
    limit = float(mask.abs().max())
    fig, axes = plt.subplots(2, n, figsize=(0.75 * n, 1.9), squeeze=False)
    for k in range(n):
        axes[0][k].imshow(rgb[k], interpolation="nearest")
        axes[1][k].imshow(mask[k].numpy(), cmap="RdBu_r", vmin=-(limit or 1), vmax=limit or 1,
                          interpolation="nearest")
        for ax in (axes[0][k], axes[1][k]):
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0][0].set_ylabel("RGB", fontsize=8)
    axes[1][0].set_ylabel("mask", fontsize=8)
    fig.suptitle(f"first-layer 7x7 filters; largest |mask weight| = {limit:.3g}", fontsize=9)
    fig.tight_layout()
    return fig


def feature_difference(a: Mapping[str, Tensor], b: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """``{level: (H_l, W_l)}`` mean absolute difference over channels of two feature dicts
    (batch element 0)."""
    if set(a) != set(b):
        raise ValueError(f"the feature dicts have different levels: {list(a)} vs {list(b)}")
    return {level: (a[level][0] - b[level][0]).abs().mean(0).detach().float().cpu().numpy()
            for level in a}


def mask_effect_figure(image: np.ndarray, mask: np.ndarray,
                       differences: Mapping[str, np.ndarray], title: str | None = None) -> Figure:
    """The frame with its mask, then per level the map of :func:`feature_difference`.

    All levels share one colour scale (0 = identical features); each panel's title gives the
    level's largest difference.
    """
    image = np.asarray(image)
    height, width = image.shape[:2]
    items = list(differences.items())
    top = max((float(d.max()) for _, d in items), default=0.0) or 1.0
    fig, axes = plt.subplots(1, len(items) + 1, figsize=(3.3 * (len(items) + 1), 2.3),
                             layout="constrained")
    axes[0].imshow(image)
    if np.any(mask):
        axes[0].contour(np.asarray(mask) > 0, levels=[0.5], colors="yellow", linewidths=1.5)
    axes[0].set_title("frame and mask M", fontsize=9)
    for ax, (level, diff) in zip(axes[1:], items, strict=True):
        shown = ax.imshow(diff, cmap="magma", vmin=0, vmax=top, extent=(0, width, height, 0),
                          interpolation="nearest")
        ax.set_title(f"{level}: max |ΔF| = {float(diff.max()):.3g}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=list(axes[1:]), fraction=0.02, pad=0.01)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig

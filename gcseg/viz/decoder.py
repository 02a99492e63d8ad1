"""Pictures of the Decoder and the loss (paper III-A-5, eq. 3; notebook 05).

- :func:`receptive_field` -- which input positions one output position depends on, measured:
  the gradient of one output pixel with respect to the input map.
- :func:`support_extent` -- the height and width of that dependence (its bounding box).
- :func:`plot_receptive_fields` -- several of those maps side by side.
- :func:`plot_training_outputs` -- the four outputs of a training pair (``M_t``, ``M_{t-n}``,
  ``M'_t``, ``M'_{t-n}``) next to their frames and ground truths.
- :func:`terms_table` -- which loss terms of eq. 3 each variant has, as a text table.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot: nothing is shown or kept
open behind the caller's back; a notebook displays one by ending a cell with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from torch import Tensor

from gcseg.viz.frames import as_uint8_image, overlay

__all__ = [
    "OUTPUT_NAMES",
    "plot_receptive_fields",
    "plot_training_outputs",
    "receptive_field",
    "support_extent",
    "terms_table",
]

OUTPUT_NAMES: dict[str, str] = {
    "m_t": "M_t",
    "m_ref": "M_{t-n}",
    "aux_t": "M'_t",
    "aux_ref": "M'_{t-n}",
}
"""The training outputs of :class:`gcseg.model.TrainOutput` and their names in the paper."""

_MATH_NAMES = {"m_t": "$M_t$", "m_ref": "$M_{t-n}$", "aux_t": "$M'_t$", "aux_ref": "$M'_{t-n}$"}


def receptive_field(
    fn: Callable[[Tensor], Tensor],
    in_channels: int,
    size: tuple[int, int] = (41, 41),
    point: tuple[int, int] | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """``(H, W)`` float: how strongly each input position moves one output position.

    A random input ``x`` (1, ``in_channels``, H, W) goes through ``fn``; the output's channels
    at ``point`` (default: the centre) are summed and back-propagated.  The map is
    ``sum_c |d out / d x_c|``, divided by its maximum (so it lies in [0, 1]).  Positions where
    it is exactly zero cannot influence that output: the map's non-zero region is the
    (theoretical) receptive field, its magnitude the *effective* one.

    Args:
        fn: maps (1, C, H, W) to (1, C', H, W) (same grid), e.g. a module in eval mode.
        in_channels: C.
        size: (H, W) of the input map.
        point: (row, column) of the output position; the centre when ``None``.
        seed: seed of the random input (drawn on the CPU, so the same on every device).
        device: where to run; default the device of ``fn``'s parameters when it is a module,
            else the CPU.
    """
    height, width = size
    row, col = point if point is not None else (height // 2, width // 2)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, in_channels, height, width, generator=generator)
    if device is None and isinstance(fn, torch.nn.Module):
        parameter = next(iter(fn.parameters()), None)
        device = parameter.device if parameter is not None else None
    if device is not None:
        x = x.to(device)
    x.requires_grad_(True)
    with torch.enable_grad():
        out = fn(x)  # (1, C', H, W)
        if out.shape[-2:] != x.shape[-2:]:
            raise ValueError(f"fn must keep the grid: {tuple(x.shape[-2:])} -> "
                             f"{tuple(out.shape[-2:])}")
        (grad,) = torch.autograd.grad(out[0, :, row, col].sum(), x)
    field = grad[0].abs().sum(dim=0).detach().cpu().double().numpy()  # (H, W)
    peak = field.max()
    return field / peak if peak > 0 else field


def support_extent(field: np.ndarray, threshold: float = 0.0) -> tuple[int, int]:
    """``(height, width)`` of the bounding box of the positions where ``field > threshold``
    (``(0, 0)`` when there are none)."""
    rows = np.flatnonzero((field > threshold).any(axis=1))
    cols = np.flatnonzero((field > threshold).any(axis=0))
    if rows.size == 0:
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def plot_receptive_fields(fields: Mapping[str, np.ndarray], log: bool = True,
                          floor: float | None = None) -> Figure:
    """The maps of :func:`receptive_field` side by side, each titled with its extent.

    With ``log`` the colour scale is logarithmic from ``floor`` (default: the smallest
    non-zero value of the maps, at least 1e-8) to 1, so the weak, far dependence stays
    visible; exact zeros are drawn white.
    """
    count = len(fields)
    if floor is None:
        positive = [np.asarray(f)[np.asarray(f) > 0] for f in fields.values()]
        smallest = min((p.min() for p in positive if p.size), default=1e-4)
        floor = max(float(smallest), 1e-8)
    figure = Figure(figsize=(3.0 * count + 1.0, 3.4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, count))
    image = None
    for ax, (name, field) in zip(axes, fields.items(), strict=True):
        shown = np.ma.masked_less_equal(np.asarray(field, dtype=float), 0.0)
        norm = LogNorm(vmin=floor, vmax=1.0, clip=True) if log else None
        image = ax.imshow(shown, cmap="magma", norm=norm,
                          vmin=None if log else 0.0, vmax=None if log else 1.0)
        ax.set_facecolor("white")
        height, width = support_extent(np.asarray(field))
        ax.set_title(f"{name}\nnon-zero: {height}×{width}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.plot([field.shape[1] // 2], [field.shape[0] // 2], marker="+", color="cyan", ms=8)
    if image is not None:
        figure.colorbar(image, ax=list(axes), shrink=0.8,
                        label="|∂ output / ∂ input| (max = 1)")
    return figure


def _as_map(mask: np.ndarray | Tensor) -> np.ndarray:
    """(1, H, W) or (H, W) tensor/array -> (H, W) float."""
    if isinstance(mask, Tensor):
        mask = mask.detach().cpu().float().numpy()
    mask = np.asarray(mask, dtype=float)
    return mask[0] if mask.ndim == 3 else mask


def plot_training_outputs(
    target_image: np.ndarray | Tensor,
    target_gt: np.ndarray | Tensor,
    ref_image: np.ndarray | Tensor,
    ref_gt: np.ndarray | Tensor,
    outputs: Mapping[str, np.ndarray | Tensor],
    losses: Mapping[str, float] | None = None,
) -> Figure:
    """The four outputs of eq. 3 for one pair, in two rows.

    Row 1 (target frame t): the frame with ``GT_t``, then ``M_t`` and ``M'_t``; row 2
    (reference frame t-n): the frame with ``GT_{t-n}``, then ``M_{t-n}`` and ``M'_{t-n}``.

    Args:
        target_image, ref_image: (3, H, W) in [0, 1] or (H, W, 3) uint8.
        target_gt, ref_gt: (1, H, W) or (H, W) binary ground truth.
        outputs: ``{"m_t", "m_ref", "aux_t", "aux_ref"} -> (1, H, W)`` foreground
            probabilities; a missing output leaves its panel empty ("not in this variant").
        losses: optional BCE value per output, shown in the titles.
    """
    height, width = _as_map(target_gt).shape
    figure = Figure(figsize=(10, 2 * 2.9 * height / width + 0.8), layout="constrained")
    axes = figure.subplots(2, 3)
    rows = [
        ("t", target_image, target_gt, ("m_t", "aux_t")),
        ("t-n", ref_image, ref_gt, ("m_ref", "aux_ref")),
    ]
    image = None
    for row, (index, frame, gt, names) in zip(axes, rows, strict=True):
        labels = (_as_map(gt) > 0.5).astype(np.uint8)
        row[0].imshow(overlay(as_uint8_image(frame), labels))
        row[0].set_title(f"$I_{{{index}}}$ with $GT_{{{index}}}$", fontsize=10)
        for ax, name in zip(row[1:], names, strict=True):
            label = _MATH_NAMES[name]
            if name in outputs and outputs[name] is not None:
                image = ax.imshow(_as_map(outputs[name]), cmap="viridis", vmin=0.0, vmax=1.0)
                title = label
                if losses is not None and name in losses:
                    title += f"   BCE {float(losses[name]):.3f}"
            else:
                ax.text(0.5, 0.5, "not in this variant", ha="center", va="center",
                        transform=ax.transAxes, color="grey")
                title = label
            ax.set_title(title, fontsize=10)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    if image is not None:
        figure.colorbar(image, ax=axes[:, 1:].ravel().tolist(), shrink=0.8,
                        label="foreground probability")
    return figure


def terms_table(present: Mapping[str, Iterable[str]],
                inputs: Mapping[str, str] | None = None,
                names: Sequence[str] = tuple(OUTPUT_NAMES)) -> str:
    """A text table: one row per variant, one column per output of eq. 3 (``x`` = present).

    Args:
        present: ``{variant: names of the outputs it has}`` (names as in
            :meth:`gcseg.model.TrainOutput.outputs`).
        inputs: optional ``{variant: what its main decoder reads}``, a second column.
    """
    first = max([len("variant"), *(len(v) for v in present)]) + 2
    second = max([len("decoder reads"), *(len(v) for v in (inputs or {}).values())]) + 2
    header = f"{'variant':<{first}}"
    if inputs is not None:
        header += f"{'decoder reads':<{second}}"
    header += "".join(f"{OUTPUT_NAMES[n]:>10}" for n in names) + f"{'terms':>7}"
    lines = [header]
    for variant, outputs in present.items():
        outputs = set(outputs)
        unknown = outputs - set(names)
        if unknown:
            raise ValueError(f"{variant}: unknown outputs {sorted(unknown)}")
        line = f"{variant:<{first}}"
        if inputs is not None:
            line += f"{inputs.get(variant, ''):<{second}}"
        line += "".join(f"{'x' if n in outputs else '-':>10}" for n in names)
        lines.append(line + f"{len(outputs):>7}")
    return "\n".join(lines)

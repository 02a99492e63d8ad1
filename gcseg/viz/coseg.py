"""Pictures of the Co-segmentation Module (paper III-A-3; notebook 02).

Also the helpers that notebooks 02-04 share: a video in memory (:class:`Clip`), one pass of a
trained model over a (target, reference) pair of frames that keeps every intermediate
(:func:`run_pair` -> :class:`PairView`), heat maps over a frame (:func:`channel_norm`,
:func:`heat_overlay`, :func:`object_contrast`) and the choice of telling frames from the
synthetic benchmark's records (:func:`find_lookalike_case`).

Every figure is a :class:`matplotlib.figure.Figure` made without pyplot (nothing to close,
nothing shown twice inline), so the functions run headless and inside widgets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from torch import Tensor

from gcseg.data.davis import DavisDataset
from gcseg.model import FrameFeatures, GCSeg, Internals, ReferenceSummary
from gcseg.viz.frames import contour

__all__ = [
    "Clip",
    "PairView",
    "channel_mean",
    "channel_norm",
    "contrast_label",
    "coseg_figure",
    "encode",
    "find_lookalike_case",
    "heat_overlay",
    "image_tensor",
    "interval_reference",
    "interval_scores",
    "iou",
    "load_clip",
    "mask_tensor",
    "object_contrast",
    "outline",
    "plot_attention_vectors",
    "plot_broadcast_example",
    "plot_coseg_pair",
    "plot_interval_sweep",
    "resize_map",
    "run_pair",
    "show_panel",
    "steadiest_object",
    "to_numpy",
]

# ----------------------------------------------------------------------------- videos


@dataclass
class Clip:
    """One video in memory.

    Attributes:
        name: the sequence name.
        frames: (T, H, W, 3) uint8 RGB.
        labels: (T, H, W) uint8 object ids (0 background).
        object_ids: the objects annotated in frame 0.
        attributes: the video's challenge codes (``OCC``, ``SD``, ...), [] when unknown.
    """

    name: str
    frames: np.ndarray
    labels: np.ndarray
    object_ids: list[int]
    attributes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)

    def mask(self, index: int, object_id: int) -> np.ndarray:
        """(H, W) bool: object ``object_id`` in frame ``index`` (ground truth)."""
        return self.labels[index] == object_id


def load_clip(root: str | os.PathLike, name: str, year: str = "2017") -> Clip:
    """Read the sequence ``name`` of the DAVIS-layout dataset at ``root`` into a :class:`Clip`."""
    dataset = DavisDataset(root, year=year, sequences=[name])
    sequence = dataset[name]
    frames = np.stack([sequence.frame(i) for i in range(len(sequence))])
    labels = np.stack([sequence.annotation(i) for i in range(len(sequence))])
    return Clip(name, frames, labels, list(sequence.object_ids),
                list(dataset.attributes.get(name, [])))


def interval_reference(target: int, interval: int) -> int:
    """The reference frame ``t - n`` for target ``t`` and interval ``n`` (clamped at frame 0)."""
    if target < 0 or interval < 0:
        raise ValueError(f"target {target} and interval {interval} must be >= 0")
    return max(target - interval, 0)


def find_lookalike_case(root: str | os.PathLike, split: str = "val") -> dict:
    """A telling failure case of the co-segmentation from the benchmark's ``synthetic.json``.

    Preference: (1) a frame where a target is absent while its look-alike distractor shows
    (``"absent+lookalike"``); (2) the frame where a look-alike shows most (``"lookalike"``);
    (3) a frame where a target is absent (``"absent"``); (4) the frame where a target is
    smallest (``"smallest"``).

    Returns:
        ``{"video", "object_id", "frame", "kind", "distractor_area"}``.
    """
    meta = json.loads((Path(root) / "synthetic.json").read_text())
    names = [n for n, s in meta["sequences"].items() if s["split"] == split]
    best: dict[str, tuple] = {}

    def offer(kind: str, score: float, video: str, object_id: int, frame: int,
              area: int) -> None:
        if kind not in best or score > best[kind][0]:
            best[kind] = (score, video, object_id, frame, area)

    for name in sorted(names):
        info = meta["sequences"][name]
        for target in info["objects"]:
            visible = np.asarray(target["visible_area"])
            label = int(target["label"])
            lookalikes = [d for d in info.get("distractors", [])
                          if d.get("similar_to") == label]
            for frame in range(1, len(visible)):
                area = max((int(d["visible_area"][frame]) for d in lookalikes), default=0)
                if visible[frame] == 0 and area > 0:
                    offer("absent+lookalike", area, name, label, frame, area)
                if area > 0:
                    offer("lookalike", area, name, label, frame, area)
                if visible[frame] == 0:
                    offer("absent", 0.0, name, label, frame, area)
                offer("smallest", -float(visible[frame]), name, label, frame, area)
    for kind in ("absent+lookalike", "lookalike", "absent", "smallest"):
        if kind in best:
            _, video, object_id, frame, area = best[kind]
            return {"video": video, "object_id": object_id, "frame": frame, "kind": kind,
                    "distractor_area": area}
    raise ValueError(f"{root}: no {split!r} video found")


# ----------------------------------------------------------------------------- the model


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def image_tensor(frame: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float in [0, 1] (what ``GCSeg.encode_frame`` reads)."""
    image = torch.from_numpy(np.ascontiguousarray(frame)).to(device)
    return image.permute(2, 0, 1)[None].float() / 255.0


def mask_tensor(mask: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    """(H, W) bool / {0, 1} -> (1, 1, H, W) float."""
    return torch.from_numpy(np.asarray(mask, dtype=np.float32))[None, None].to(device)


@torch.no_grad()
def encode(model: GCSeg, frame: np.ndarray, mask: np.ndarray | None) -> FrameFeatures:
    """``F = E(I, M)`` of one frame and a binary mask (``None``: no mask, zeros)."""
    device = _device(model)
    prev = None if mask is None else mask_tensor(mask, device)
    return model.encode_frame(image_tensor(frame, device), prev)


@dataclass
class PairView:
    """Everything one (target, reference) pair shows, batch dimension 1 kept on tensors.

    Attributes:
        target, reference: frame indices t and t - n; object_id: the object followed.
        target_frame, reference_frame: (H, W, 3) uint8.
        target_mask: (H, W) bool ground truth of frame t (for scoring the pictures only).
        reference_mask: (H, W) bool M_{t-n} (ground truth), encoded with the reference frame.
        prev_mask: (H, W) bool the M_{t-1} fed with the target frame (zeros for ``"none"``).
        features_t, features_ref: F_t = E(I_t, M_{t-1}) and F_{t-n} = E(I_{t-n}, M_{t-n}).
        summary: the reference's summary (r_{t-n}, f_{t-n}, ROI boxes).
        target_vectors: f_t, the target's co-segmentation vectors (empty without the module).
        prob: (H, W) foreground probability of M_t (main decoder).
        aux_prob: (H, W) M'_t of the co-segmentation-only decoder, or ``None``.
        internals: the :class:`Internals` of predicting M_t (G1, D1, D1', R1, R2, ...).
        G2: (1, d, h, w) the reference attended by f_t, or ``None``.
        G2_levels: per level ``F2_l ⊙ f1_l``.
        prev_mode: how M_{t-1} was chosen (``"previous"`` or ``"none"``).
    """

    target: int
    reference: int
    object_id: int
    target_frame: np.ndarray
    reference_frame: np.ndarray
    target_mask: np.ndarray
    reference_mask: np.ndarray
    prev_mask: np.ndarray
    features_t: FrameFeatures
    features_ref: FrameFeatures
    summary: ReferenceSummary
    target_vectors: dict[str, Tensor]
    prob: np.ndarray
    aux_prob: np.ndarray | None
    internals: Internals
    G2: Tensor | None = None
    G2_levels: dict[str, Tensor] = field(default_factory=dict)
    prev_mode: str = "previous"

    @property
    def interval(self) -> int:
        """n = t - (t - n)."""
        return self.target - self.reference


@torch.no_grad()
def run_pair(model: GCSeg, clip: Clip, target: int, reference: int, object_id: int | None = None,
             prev_mask: str = "previous") -> PairView:
    """Run ``model`` on frame ``target`` with frame ``reference`` as its reference.

    Args:
        model: a GCSeg with two-frame heads (``ref``, ``coseg`` or ``full``), in eval mode.
        clip: the video; object_id: the object (default: the first one).
        prev_mask: the M_{t-1} given with I_t: ``"previous"`` the ground truth of frame
            t - 1 (a perfect previous prediction), ``"none"`` zeros (what the Adaptive Search
            feeds when M_{t-1} is unreliable).

    The reference is encoded with its ground-truth mask, ``E(I_{t-n}, M_{t-n})``, as in the
    paper (the inference engine reuses features computed with M_{t-n-1} instead).
    """
    if not model.uses_two_frames:
        raise ValueError("the baseline variant has no reference frame to show")
    if object_id is None:
        object_id = clip.object_ids[0]
    count = len(clip)
    if not (0 <= target < count and 0 <= reference < count):
        raise IndexError(f"frames {reference} -> {target} outside 0..{count - 1}")
    if prev_mask == "previous":
        previous = clip.mask(max(target - 1, 0), object_id)
    elif prev_mask == "none":
        previous = np.zeros(clip.labels.shape[1:], dtype=bool)
    else:
        raise ValueError(f"prev_mask must be 'previous' or 'none', got {prev_mask!r}")
    model.eval()
    device = _device(model)
    ref_mask = clip.mask(reference, object_id)
    features_ref = encode(model, clip.frames[reference], ref_mask)
    features_t = encode(model, clip.frames[target], previous)
    summary = model.summarize_reference(features_ref, mask_tensor(ref_mask, device))
    target_vectors = model.coseg.vectors(features_t) if model.coseg is not None else {}
    prob, internals = model.predict(features_t, summary, with_aux=model.aux_decoder is not None)
    G2, G2_levels = (model.coseg(features_ref, target_vectors) if model.coseg is not None
                     else (None, {}))
    aux = internals.aux.prob[0, 0].float().cpu().numpy() if internals.aux is not None else None
    return PairView(
        target=target, reference=reference, object_id=object_id,
        target_frame=clip.frames[target], reference_frame=clip.frames[reference],
        target_mask=clip.mask(target, object_id), reference_mask=ref_mask, prev_mask=previous,
        features_t=features_t, features_ref=features_ref, summary=summary,
        target_vectors=target_vectors, prob=prob[0, 0].float().cpu().numpy(), aux_prob=aux,
        internals=internals, G2=G2, G2_levels=G2_levels, prev_mode=prev_mask,
    )


def steadiest_object(clip: Clip) -> int:
    """The object of ``clip`` visible in the most frames (ties: the larger mean area)."""
    def key(object_id: int) -> tuple[int, float]:
        areas = (clip.labels == object_id).reshape(len(clip), -1).sum(axis=1)
        return int((areas > 0).sum()), float(areas.mean())

    return max(clip.object_ids, key=key)


def iou(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1 when both are empty, as DAVIS's J)."""
    prediction, truth = np.asarray(prediction, bool), np.asarray(truth, bool)
    union = np.logical_or(prediction, truth).sum()
    return 1.0 if union == 0 else float(np.logical_and(prediction, truth).sum() / union)


@torch.no_grad()
def interval_scores(model: GCSeg, clip: Clip, intervals: Sequence[int],
                    object_id: int | None = None, targets: Sequence[int] | None = None,
                    prev_mask: str = "previous") -> list[dict[str, float]]:
    """How the pictures of the Co-segmentation Module change with the interval n.

    For each n, over the target frames t (default: every frame where the object is visible)
    with a reference t - n >= 0 whose mask is not empty, the means of:
    ``contrast_F`` (:func:`object_contrast` of |F1| on the top level), ``contrast_G`` (of the
    projected |G|), ``iou_coseg`` (IoU of M'_t > 0.5, the co-segmentation-only decoder, with
    the truth) and ``iou`` (of M_t > 0.5). ``pairs`` counts the pairs averaged. Each frame goes
    through the backbone at most twice (as target, as reference), whatever the intervals.
    """
    if model.coseg is None:
        raise ValueError("this model has no Co-segmentation Module")
    if object_id is None:
        object_id = clip.object_ids[0]
    model.eval()
    device = _device(model)
    visible = [t for t in range(1, len(clip)) if clip.mask(t, object_id).any()]
    targets = visible if targets is None else [t for t in targets if t in visible]
    target_features: dict[int, FrameFeatures] = {}
    summaries: dict[int, ReferenceSummary] = {}
    rows = []
    for interval in intervals:
        sums = {"contrast_F": 0.0, "contrast_G": 0.0, "iou_coseg": 0.0, "iou": 0.0}
        pairs = 0
        for t in targets:
            r = t - interval
            if interval < 1 or r < 0 or not clip.mask(r, object_id).any():
                continue
            if t not in target_features:
                previous = (clip.mask(t - 1, object_id) if prev_mask == "previous"
                            else np.zeros(clip.labels.shape[1:], bool))
                target_features[t] = encode(model, clip.frames[t], previous)
            if r not in summaries:
                ref_mask = clip.mask(r, object_id)
                features = encode(model, clip.frames[r], ref_mask)
                summaries[r] = model.summarize_reference(features, mask_tensor(ref_mask, device))
            features = target_features[t]
            prob, internals = model.predict(features, summaries[r],
                                            with_aux=model.aux_decoder is not None)
            truth = clip.mask(t, object_id)
            aux = internals.aux.prob if internals.aux is not None else prob
            sums["contrast_F"] += object_contrast(channel_norm(features[model.top_level]), truth)
            sums["contrast_G"] += object_contrast(channel_norm(internals.G), truth)
            sums["iou_coseg"] += iou(to_numpy(aux)[0, 0] > 0.5, truth)
            sums["iou"] += iou(to_numpy(prob)[0, 0] > 0.5, truth)
            pairs += 1
        row = {"interval": float(interval), "pairs": float(pairs)}
        row.update({k: (v / pairs if pairs else float("nan")) for k, v in sums.items()})
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- heat maps


def to_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    """A float32 NumPy copy of a tensor (detached, on the CPU) or an array."""
    if isinstance(x, Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def _chw(x: Tensor | np.ndarray) -> np.ndarray:
    array = to_numpy(x)
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError(f"expected one map, got a batch of {array.shape[0]}")
        array = array[0]
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"expected (C, H, W), (1, C, H, W) or (H, W), got {array.shape}")
    return array


def channel_norm(x: Tensor | np.ndarray) -> np.ndarray:
    """(h, w): the L2 norm over channels of a (C, h, w) or (1, C, h, w) map."""
    return np.sqrt((_chw(x) ** 2).sum(axis=0))


def channel_mean(x: Tensor | np.ndarray) -> np.ndarray:
    """(h, w): the mean over channels of a (C, h, w) or (1, C, h, w) map."""
    return _chw(x).mean(axis=0)


def resize_map(heat: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an (h, w) map to ``size`` = (H, W) (float32)."""
    heat = np.asarray(heat, dtype=np.float32)
    return cv2.resize(heat, (int(size[1]), int(size[0])), interpolation=cv2.INTER_LINEAR)


def _normalize(heat: np.ndarray) -> np.ndarray:
    low, high = float(np.min(heat)), float(np.max(heat))
    if high - low < 1e-12:
        return np.zeros_like(heat, dtype=np.float32)
    return ((heat - low) / (high - low)).astype(np.float32)


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.55,
                 cmap: str = "inferno", limits: tuple[float, float] | None = None) -> np.ndarray:
    """(H, W, 3) uint8: ``heat`` (any size) coloured over ``image``.

    The colours span ``limits = (low, high)`` (values outside are clipped), or the map's own
    minimum and maximum when ``limits`` is ``None``. Use ``(0, 1)`` for probabilities.
    """
    heat = resize_map(heat, image.shape[:2])
    if limits is None:
        heat = _normalize(heat)
    else:
        low, high = limits
        heat = np.clip((heat - low) / max(high - low, 1e-12), 0.0, 1.0)
    colours = colormaps[cmap](heat)[..., :3] * 255.0
    out = (1 - alpha) * image.astype(np.float32) + alpha * colours
    return out.round().clip(0, 255).astype(np.uint8)


def object_contrast(heat: np.ndarray, mask: np.ndarray) -> float:
    """How much ``heat`` picks the object: mean over ``mask`` / mean over the frame.

    ``heat`` is resized to the mask's size and shifted to be >= 0 (its minimum becomes 0).
    1 means no preference, above 1 the object is brighter than average; ``nan`` when the
    mask is empty or the map is flat.
    """
    mask = np.asarray(mask, dtype=bool)
    heat = resize_map(heat, mask.shape)
    heat = heat - heat.min()
    mean = float(heat.mean())
    if not mask.any() or mean <= 1e-12:
        return float("nan")
    return float(heat[mask].mean() / mean)


def contrast_label(heat: np.ndarray, mask: np.ndarray) -> str:
    """``"contrast 1.23"`` (:func:`object_contrast`), or ``"object absent"`` for an empty mask."""
    if not np.asarray(mask, dtype=bool).any():
        return "object absent"
    return f"contrast {object_contrast(heat, mask):.2f}"


def outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (0, 255, 0),
            thickness: int = 1) -> np.ndarray:
    """(H, W, 3) uint8: ``image`` with the outline of ``mask`` drawn in ``colour``."""
    out = np.array(image, dtype=np.uint8, copy=True)
    out[contour(np.asarray(mask, dtype=bool), thickness)] = colour
    return out


def show_panel(axis, image: np.ndarray, title: str, **kwargs) -> None:
    """``imshow`` ``image`` on ``axis`` with a small ``title`` and no ticks."""
    axis.imshow(image, **kwargs)
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])


# ----------------------------------------------------------------------------- figures


def plot_broadcast_example(features: Tensor | np.ndarray, vector: Tensor | np.ndarray,
                           attended: Tensor | np.ndarray) -> Figure:
    """A small hand example of ``G = F ⊙ f``: one row per channel, numbers printed.

    Args:
        features: (C, h, w) or (1, C, h, w); vector: (C,) or (1, C); attended: like features.
    """
    f_map, g_map = _chw(features), _chw(attended)
    vec = to_numpy(vector).reshape(-1)
    channels = f_map.shape[0]
    if vec.shape[0] != channels or g_map.shape != f_map.shape:
        raise ValueError("features, vector and attended do not match")
    figure = Figure(figsize=(7.0, 1.9 * channels), layout="constrained")
    axes = figure.subplots(channels, 3, squeeze=False)
    bound = max(np.abs(f_map).max(), np.abs(g_map).max(), 1e-6)
    for c in range(channels):
        panels = [(f_map[c], f"F, channel {c}"), (np.full((1, 1), vec[c]), f"f[{c}]"),
                  (g_map[c], f"G = F ⊙ f, channel {c}")]
        for axis, (values, title) in zip(axes[c], panels, strict=True):
            show_panel(axis, values, title, cmap="coolwarm", vmin=-bound, vmax=bound)
            for (i, j), value in np.ndenumerate(values):
                axis.text(j, i, f"{value:g}", ha="center", va="center", fontsize=9)
    return figure


def plot_attention_vectors(f_target: Mapping[str, Tensor], f_reference: Mapping[str, Tensor],
                           top: int = 0) -> Figure:
    """The co-segmentation vectors of both frames, one panel per level.

    ``f_target`` (f1, from F_t) and ``f_reference`` (f2, from F_{t-n}) are ``{level: (1, C_l)}``
    or ``{level: (C_l,)}``. Channels are sorted by f2 (the vector that attends the target).
    ``top > 0`` keeps only the ``top`` largest |f2| channels. The panel title gives the
    cosine similarity of f1 and f2.
    """
    levels = list(f_reference)
    figure = Figure(figsize=(4.2 * len(levels), 3.0), layout="constrained")
    axes = figure.subplots(1, len(levels), squeeze=False)[0]
    for axis, level in zip(axes, levels, strict=True):
        f2 = to_numpy(f_reference[level]).reshape(-1)
        f1 = to_numpy(f_target[level]).reshape(-1)
        order = np.argsort(-f2)
        if top > 0:
            keep = np.argsort(-np.abs(f2))[:top]
            order = keep[np.argsort(-f2[keep])]
        x = np.arange(len(order))
        axis.bar(x, f2[order], width=1.0, color="tab:orange", alpha=0.8,
                 label="f2 (reference)")
        axis.plot(x, f1[order], ".", markersize=3, color="tab:blue", label="f1 (target)")
        axis.axhline(0, color="black", linewidth=0.6)
        cosine = float(f1 @ f2 / max(np.linalg.norm(f1) * np.linalg.norm(f2), 1e-12))
        axis.set_title(f"{level}: {f2.size} channels, cos(f1, f2) = {cosine:.2f}", fontsize=9)
        axis.set_xlabel("channel (sorted by f2)")
    axes[0].set_ylabel("attention value")
    axes[0].legend(fontsize=8)
    return figure


def _level_maps(levels: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    return {level: channel_norm(value) for level, value in levels.items()}


def plot_coseg_pair(view: PairView) -> Figure:
    """The Co-segmentation Module on one pair, level by level.

    Row 1: the reference frame with M_{t-n}, the target frame with its ground truth (green),
    M'_t of the co-segmentation-only decoder and M_t. Row 2: |F1_l|, the channel norm of the
    target's features, per level. Row 3: |G1_l| = |F1_l ⊙ f2_l| per level and the projected
    G. Row 4: the channel mean of G1_l, which is ``F1_l(x) · f2_l / C_l``: how much each
    position looks like the reference's attention vector. Each title gives
    :func:`object_contrast` against the target's ground truth.
    """
    if view.internals.G is None:
        raise ValueError("this model has no Co-segmentation Module")
    levels = list(view.internals.coseg_levels)
    ncols = max(4, len(levels) + 1)
    figure = Figure(figsize=(3.1 * ncols, 8.6), layout="constrained")
    axes = figure.subplots(4, ncols, squeeze=False)
    for axis in axes.ravel():
        axis.set_axis_off()
    image = view.target_frame
    show_panel(axes[0, 0], outline(view.reference_frame, view.reference_mask),
          f"reference t-n = {view.reference} with M_(t-n)")
    show_panel(axes[0, 1], outline(image, view.target_mask), f"target t = {view.target} (truth)")
    if view.aux_prob is not None:
        show_panel(axes[0, 2],
                   heat_overlay(image, view.aux_prob, cmap="viridis", limits=(0, 1)),
              "M'_t (co-seg-only decoder)")
    show_panel(axes[0, 3], heat_overlay(image, view.prob, cmap="viridis", limits=(0, 1)),
               "M_t (main decoder)")
    rows = [
        {f"|F1| {level}": channel_norm(view.features_t[level]) for level in levels},
        {f"|G1| {level}": channel_norm(value)
         for level, value in view.internals.coseg_levels.items()},
        {f"mean G1 {level}": channel_mean(value)
         for level, value in view.internals.coseg_levels.items()},
    ]
    rows[1]["|G| projected"] = channel_norm(view.internals.G)
    for row, maps in enumerate(rows, start=1):
        for col, (name, heat) in enumerate(maps.items()):
            label = contrast_label(heat, view.target_mask)
            show_panel(axes[row, col], heat_overlay(image, heat), f"{name} ({label})")
    figure.suptitle(f"interval n = {view.interval}, M_(t-1): {view.prev_mode}; "
                    "G1 = F1 ⊙ f2 over the target frame", fontsize=10)
    return figure


def coseg_figure(model: GCSeg, clip: Clip, target: int, interval: int,
                 object_id: int | None = None, prev_mask: str = "previous") -> Figure:
    """The explorer's picture: reference, target with |G| over it, and M'_t, for one interval.

    Panels: the reference frame t - n with its mask; the target with the channel norm of the
    projected G (contrast against the truth in the title); the target with M'_t, the
    co-segmentation-only prediction; f2 against f1 on the top level.
    """
    view = run_pair(model, clip, target, interval_reference(target, interval), object_id,
                    prev_mask)
    if view.internals.G is None:
        raise ValueError("this model has no Co-segmentation Module")
    figure = Figure(figsize=(13.0, 3.0), layout="constrained")
    axes = figure.subplots(1, 4)
    heat = channel_norm(view.internals.G)
    label = contrast_label(heat, view.target_mask)
    show_panel(axes[0], outline(view.reference_frame, view.reference_mask),
          f"reference {view.reference} (n = {view.interval})")
    show_panel(axes[1], outline(heat_overlay(view.target_frame, heat), view.target_mask),
          f"|G| on target {view.target} ({label})")
    aux = view.aux_prob if view.aux_prob is not None else view.prob
    show_panel(axes[2], outline(heat_overlay(view.target_frame, aux, cmap="viridis",
                                             limits=(0, 1)), view.target_mask),
               f"M'_t (co-seg only), IoU {iou(aux > 0.5, view.target_mask):.2f}")
    level = list(view.target_vectors)[-1]
    f2 = to_numpy(view.summary.f[level]).reshape(-1)
    f1 = to_numpy(view.target_vectors[level]).reshape(-1)
    axes[3].scatter(f2, f1, s=4)
    axes[3].set_xlabel(f"f2 (reference), {level}", fontsize=8)
    axes[3].set_ylabel("f1 (target)", fontsize=8)
    cosine = float(f1 @ f2 / max(np.linalg.norm(f1) * np.linalg.norm(f2), 1e-12))
    axes[3].set_title(f"attention vectors, cos = {cosine:.2f}", fontsize=9)
    figure.suptitle(f"{clip.name}, object {view.object_id}", fontsize=10)
    return figure


def plot_interval_sweep(model: GCSeg, clip: Clip, target: int, intervals: Sequence[int],
                        object_id: int | None = None, prev_mask: str = "previous") -> Figure:
    """One row per interval n: reference t - n, |G| over the target, M'_t.

    Each row's titles give :func:`object_contrast` of |G| against the target's truth and the
    IoU of M'_t > 0.5 (the co-segmentation-only prediction, colours from 0 to 1).
    """
    rows = len(intervals)
    figure = Figure(figsize=(9.5, 2.6 * rows), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    for row, interval in enumerate(intervals):
        view = run_pair(model, clip, target, interval_reference(target, interval), object_id,
                        prev_mask)
        heat = channel_norm(view.internals.G)
        label = contrast_label(heat, view.target_mask)
        show_panel(axes[row, 0], outline(view.reference_frame, view.reference_mask),
              f"n = {view.interval}: reference {view.reference}")
        show_panel(axes[row, 1], outline(heat_overlay(view.target_frame, heat), view.target_mask),
              f"|G| on target {target}, {label}")
        aux = view.aux_prob if view.aux_prob is not None else view.prob
        show_panel(axes[row, 2], outline(heat_overlay(view.target_frame, aux, cmap="viridis",
                                                      limits=(0, 1)), view.target_mask),
                   f"M'_t (co-seg only), IoU {iou(aux > 0.5, view.target_mask):.2f}")
    return figure

"""A trained model probed on the frames of one video: the helpers notebooks 02-04 share.

- :class:`Clip` and :func:`load_clip` -- one video in memory (frames, labels, objects).
- :func:`steadiest_object`, :func:`interval_reference`, :func:`find_lookalike_case` -- which
  object, which reference frame, and which telling frame of the synthetic benchmark to show.
- :func:`encode` and :func:`run_pair` -> :class:`PairView` -- one pass of the model over a
  (target, reference) pair of frames that keeps every intermediate the figures draw.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gcseg.data.davis import DavisDataset
from gcseg.data.transforms import to_tensor_image, to_tensor_mask
from gcseg.model import FrameFeatures, GCSeg, Internals, ReferenceSummary

__all__ = [
    "Clip",
    "PairView",
    "encode",
    "find_lookalike_case",
    "interval_reference",
    "load_clip",
    "mask_batch",
    "previous_mask",
    "run_pair",
    "steadiest_object",
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


def steadiest_object(clip: Clip) -> int:
    """The object of ``clip`` visible in the most frames (ties: the larger mean area)."""
    def key(object_id: int) -> tuple[int, float]:
        areas = (clip.labels == object_id).reshape(len(clip), -1).sum(axis=1)
        return int((areas > 0).sum()), float(areas.mean())

    return max(clip.object_ids, key=key)


def interval_reference(target: int, interval: int) -> int:
    """The reference frame ``t - n`` for target ``t`` and interval ``n`` (clamped at frame 0)."""
    if target < 0 or interval < 0:
        raise ValueError(f"target {target} and interval {interval} must be >= 0")
    return max(target - interval, 0)


LOOKALIKE_PREFERENCE = ("absent+lookalike", "lookalike", "absent", "smallest")
"""The kinds of frame :func:`find_lookalike_case` looks for, the most telling first."""


def _frame_kinds(visible: int, lookalike_area: int) -> list[tuple[str, float]]:
    """``(kind, score)`` of one frame of a target: every kind it is, the higher the better."""
    kinds = []
    if visible == 0 and lookalike_area > 0:
        kinds.append(("absent+lookalike", lookalike_area))
    if lookalike_area > 0:
        kinds.append(("lookalike", lookalike_area))
    if visible == 0:
        kinds.append(("absent", 0.0))
    kinds.append(("smallest", -float(visible)))
    return kinds


def _frame_cases(name: str, info: dict) -> Iterator[tuple[float, dict]]:
    """``(score, case)`` for every kind of every frame t >= 1 of every target of one video."""
    for target in info["objects"]:
        visible = np.asarray(target["visible_area"])
        label = int(target["label"])
        lookalikes = [d for d in info.get("distractors", []) if d.get("similar_to") == label]
        for frame in range(1, len(visible)):
            area = max((int(d["visible_area"][frame]) for d in lookalikes), default=0)
            for kind, score in _frame_kinds(visible[frame], area):
                yield score, {"video": name, "object_id": label, "frame": frame, "kind": kind,
                              "distractor_area": area}


def find_lookalike_case(root: str | os.PathLike, split: str = "val") -> dict:
    """A telling failure case of the co-segmentation from the benchmark's ``synthetic.json``.

    Preference: (1) a frame where a target is absent while its look-alike distractor shows
    (``"absent+lookalike"``); (2) the frame where a look-alike shows most (``"lookalike"``);
    (3) a frame where a target is absent (``"absent"``); (4) the frame where a target is
    smallest (``"smallest"``). Ties go to the first in video name, object and frame order.

    Returns:
        ``{"video", "object_id", "frame", "kind", "distractor_area"}``.
    """
    meta = json.loads((Path(root) / "synthetic.json").read_text())
    names = [n for n, s in meta["sequences"].items() if s["split"] == split]
    best: dict[str, tuple[float, dict]] = {}
    for name in sorted(names):
        for score, case in _frame_cases(name, meta["sequences"][name]):
            if case["kind"] not in best or score > best[case["kind"]][0]:
                best[case["kind"]] = (score, case)
    for kind in LOOKALIKE_PREFERENCE:
        if kind in best:
            return best[kind][1]
    raise ValueError(f"{root}: no {split!r} video found")


# ----------------------------------------------------------------------------- the model


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def mask_batch(mask: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    """(H, W) binary mask -> (1, 1, H, W) float, a batch of one as the model reads it."""
    return to_tensor_mask(mask)[None].to(device)


@torch.no_grad()
def encode(model: GCSeg, frame: np.ndarray, mask: np.ndarray | None) -> FrameFeatures:
    """``F = E(I, M)`` of one (H, W, 3) uint8 frame and a binary mask (``None``: zeros)."""
    device = _device(model)
    prev = None if mask is None else mask_batch(mask, device)
    return model.encode_frame(to_tensor_image(frame)[None].to(device), prev)


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


def previous_mask(clip: Clip, target: int, object_id: int, prev_mask: str) -> np.ndarray:
    """The M_{t-1} given with frame ``target``: ``"previous"`` the ground truth of frame
    t - 1 (a perfect previous prediction), ``"none"`` zeros (what the Adaptive Search feeds
    when M_{t-1} is unreliable)."""
    if prev_mask == "previous":
        return clip.mask(max(target - 1, 0), object_id)
    if prev_mask == "none":
        return np.zeros(clip.labels.shape[1:], dtype=bool)
    raise ValueError(f"prev_mask must be 'previous' or 'none', got {prev_mask!r}")


@torch.no_grad()
def run_pair(model: GCSeg, clip: Clip, target: int, reference: int, object_id: int | None = None,
             prev_mask: str = "previous") -> PairView:
    """Run ``model`` on frame ``target`` with frame ``reference`` as its reference.

    Args:
        model: a GCSeg with two-frame heads (``ref``, ``coseg`` or ``full``), in eval mode.
        clip: the video; object_id: the object (default: the first one).
        prev_mask: the M_{t-1} given with I_t (:func:`previous_mask`): ``"previous"`` or
            ``"none"``.

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
    previous = previous_mask(clip, target, object_id, prev_mask)
    model.eval()
    ref_mask = clip.mask(reference, object_id)
    features_ref = encode(model, clip.frames[reference], ref_mask)
    features_t = encode(model, clip.frames[target], previous)
    summary = model.summarize_reference(features_ref, mask_batch(ref_mask, _device(model)))
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

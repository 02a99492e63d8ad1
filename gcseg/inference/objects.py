"""The objects of a video: which are in play at each frame, and how their K binary predictions
become one label map.

The engine merges by argmax over ``[0.5, p_1, ..., p_K]`` (:func:`merge_objects`).
:func:`soft_aggregation` is the other way (RGMP's and STM's, notebook 08's exercise): the
background gets the probability that no object is there, ``p_0 = prod_k (1 - p_k)``, and the
odds of the background and of every object are renormalised,
``q = softmax([logit p_0, logit p_1, ..., logit p_K])`` (probabilities clamped to
``[eps, 1 - eps]``). With one object it is the argmax merge; with several, the background
loses more often than against the constant 0.5.

Objects are those annotated in the first frame, plus those a later annotation introduces
(DAVIS-2017's protocol): before the frame where it is given an object is left out (probability
0); there its given mask is pasted into the labels.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

__all__ = ["ObjectSchedule", "merge_objects", "soft_aggregation", "soft_aggregation_labels",
           "video_objects"]


def video_objects(first_mask: np.ndarray, name: str = "video",
                  later_masks: Mapping[int, np.ndarray] | None = None) -> dict[int, int]:
    """``{object id: first frame}``: the ids of ``first_mask`` start at frame 0, those that
    ``later_masks`` (``{frame: annotation}``) introduce start there (0 and the void label
    255 left out), in ascending id order."""
    starts = {int(i): 0 for i in np.unique(first_mask) if i not in (0, 255)}
    for t in sorted(later_masks or {}):
        if t < 1:
            raise ValueError(f"{name}: later masks start after frame 0, got frame {t}")
        for i in np.unique(later_masks[t]):
            if i not in (0, 255):
                starts.setdefault(int(i), t)
    if not starts:
        raise ValueError(f"{name}: the first-frame mask has no object")
    return dict(sorted(starts.items()))


def merge_objects(prob: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``(K, 1, H, W)`` probabilities -> ``(H, W)`` labels, the id of the object of highest
    probability, 0 (background) where none exceeds 0.5.

    The same as ``ids[argmax([0.5, p_1, ..., p_K])]`` with ``0`` prepended to ``ids`` (the first
    maximum wins a tie), as K element-wise passes: an argmax over the first of ``(K + 1, H, W)``
    is a strided reduction, several times slower on a CPU.
    """
    best = torch.full_like(prob[0, 0], 0.5)  # (H, W)
    labels = torch.zeros(prob.shape[-2:], dtype=ids.dtype, device=prob.device)  # (H, W)
    for j in range(prob.shape[0]):
        better = prob[j, 0] > best  # strictly: an earlier maximum keeps a tie
        labels = torch.where(better, ids[j], labels)
        best = torch.maximum(best, prob[j, 0])
    return labels


class ObjectSchedule:
    """The K objects of one video and the frame where each is first given.

    A ``(K,)`` row mask per frame that introduces objects is built once, so a frame without a
    late object pays nothing (and on CUDA never synchronises).

    Args:
        first_mask: ``(H, W)`` ids of frame 0.
        later_masks: ``{frame: annotation}`` for objects absent from frame 0, or ``None``.
        device: where the engine runs.
        name: the video's name, for error messages.
    """

    def __init__(self, first_mask: np.ndarray, later_masks: Mapping[int, np.ndarray] | None,
                 device: torch.device, name: str = "video") -> None:
        starts = video_objects(first_mask, name, later_masks)
        self.object_ids = list(starts)
        self.ids = torch.tensor(self.object_ids, device=device, dtype=torch.uint8)  # (K,)
        self.later_masks = later_masks or {}
        self.device = device
        self._introduced = {
            s: torch.tensor([starts[i] == s for i in self.object_ids], device=device)
            for s in sorted(set(starts.values()) - {0})}
        self._present = torch.tensor([starts[i] == 0 for i in self.object_ids], device=device)
        self._last_start = max(self._introduced, default=0)

    def __len__(self) -> int:
        return len(self.object_ids)

    def hide_absent(self, prob: torch.Tensor, t: int) -> torch.Tensor:
        """``prob`` ``(K, 1, H, W)`` of frame ``t`` with the objects not there yet (or given
        only at ``t``) at 0."""
        if t > self._last_start:
            return prob
        return prob * self._present.view(len(self), 1, 1, 1).to(prob.dtype)

    def paste_given(self, labels: torch.Tensor, t: int) -> torch.Tensor | None:
        """Paste, in place, the given masks of the objects introduced at frame ``t`` into its
        ``(H, W)`` ``labels`` (their annotation wins) and count them present from now on.
        Returns their rows (bool (K,)), or ``None`` when ``t`` introduces none."""
        starting = self._introduced.get(t)
        if starting is None:
            return None
        given = torch.from_numpy(np.array(self.later_masks[t], dtype=np.uint8)).to(self.device)
        for object_id in self.ids[starting]:
            labels[given == object_id] = object_id
        self._present |= starting
        return starting


def soft_aggregation(prob: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """``(K, 1, H, W)`` object probabilities -> ``(K + 1, H, W)`` aggregated probabilities,
    background first (they sum to 1 at every pixel)."""
    objects = prob[:, 0].float()  # (K, H, W)
    background = torch.prod(1 - objects, dim=0, keepdim=True)  # (1, H, W)
    stacked = torch.cat([background, objects]).clamp(eps, 1 - eps)  # (K + 1, H, W)
    return torch.softmax(torch.logit(stacked), dim=0)


def soft_aggregation_labels(prob: torch.Tensor, ids: torch.Tensor,
                            eps: float = 1e-7) -> torch.Tensor:
    """``(H, W)`` labels: ``ids`` ``(K,)`` of the winner of :func:`soft_aggregation`, 0 where
    the background wins (the first maximum wins a tie). The same arguments as
    :func:`merge_objects`, so either can merge the objects of a frame."""
    winner = soft_aggregation(prob, eps).argmax(dim=0)  # (H, W): 0 background, k object k
    table = torch.cat([torch.zeros(1, dtype=ids.dtype, device=ids.device), ids])
    return table[winner]

"""The reference bank (paper Section III-A-1): the summaries of the frames segmented so far,
from which every new frame draws its references.

References: frame 0 with ``M_0`` plus one frame drawn (seeded) from each of n even fragments of
the frames segmented so far (:func:`reference_fragments`, the one split rule, which the figures
of :mod:`gcseg.viz.inference` draw too).  A reference contributes only its summary
(``r_{t-n}``, the co-segmentation vectors ``f_{t-n}``: O(C) numbers, never a feature map), so no
past frame goes through the backbone again.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from gcseg.model import ReferenceSummary

__all__ = ["ReferenceBank", "reference_fragments", "sample_reference_frames"]


def reference_fragments(t: int, n: int) -> list[np.ndarray]:
    """The ``n`` even fragments of frames ``0..t-1`` (``np.array_split``), each an array of
    frame indices.  With fewer than ``n`` frames there are as many fragments as frames;
    ``n = 0`` gives none."""
    if t < 1:
        raise ValueError("references are drawn from frames already segmented (t >= 1)")
    return np.array_split(np.arange(t), min(n, t)) if n > 0 else []


def sample_reference_frames(t: int, n: int, rng: np.random.Generator) -> list[int]:
    """Frame 0 plus one frame drawn from each of the :func:`reference_fragments` of ``t``."""
    return [0] + [int(rng.choice(fragment)) for fragment in reference_fragments(t, n)]


# ----------------------------------------------------------------------- the bank


class ReferenceBank:
    """The summaries of the segmented frames of one video, one per frame, and each object's
    first summary (the Judgment Module's reference).

    :meth:`start` opens a video with frame 0's summary; :meth:`add` appends each later frame's;
    :meth:`give_objects` makes the frame added last the "frame 0" of objects first given there
    (objects that appear later); :meth:`sample` draws the references of a frame and
    :meth:`stack` batches their summaries for the heads.

    Args:
        num_refs: n, the fragments a reference is drawn from (plus frame 0).
        seed: seed of the sampling, restarted with every video.
    """

    def __init__(self, num_refs: int, seed: int) -> None:
        self.num_refs = num_refs
        self.seed = seed
        self.summaries: list[ReferenceSummary] = []
        """Per segmented frame, the compact summaries of its K objects (O(K·C) each)."""
        self.first: ReferenceSummary | None = None
        """Each object's first summary: frame 0's, or that of the frame it was given in."""
        self._given_frames: list[int] = []
        self._rng = np.random.default_rng(seed)

    def start(self, first: ReferenceSummary) -> None:
        """Forget the last video; ``first`` is frame 0's summary."""
        self.summaries = [first]
        self.first = first
        self._given_frames = []
        self._rng = np.random.default_rng(self.seed)

    def add(self, summary: ReferenceSummary) -> None:
        """The summary of the next frame."""
        self.summaries.append(summary)

    def give_objects(self, rows: torch.Tensor, fresh: ReferenceSummary) -> None:
        """Objects ``rows`` (bool (K,)) were given their mask in the frame added last:
        ``fresh`` (their summary from that mask) replaces their rows there and in
        :attr:`first`, and that frame becomes a reference of every later frame."""
        self.summaries[-1] = self.summaries[-1].replace_rows(rows, fresh)
        self.first = self.first.replace_rows(rows, fresh)
        self._given_frames.append(len(self.summaries) - 1)

    def sample(self, t: int) -> list[int]:
        """The references of frame ``t``: :func:`sample_reference_frames`, then the frames
        where objects that appeared later were given."""
        return sample_reference_frames(t, self.num_refs, self._rng) + self._given_frames

    def stack(self, frames: list[int]) -> tuple[ReferenceSummary, np.ndarray]:
        """The summaries of the distinct ``frames`` (ascending: frame 0 first) stacked along
        the batch, ``(R*K)`` rows, and how often each frame was drawn ``(R,)``."""
        distinct, counts = np.unique(frames, return_counts=True)
        return ReferenceSummary.cat([self.summaries[i] for i in distinct]), counts

    def __len__(self) -> int:
        return len(self.summaries)

    def __getitem__(self, frame: int) -> ReferenceSummary:
        return self.summaries[frame]

    def __iter__(self) -> Iterator[ReferenceSummary]:
        return iter(self.summaries)

    def numel(self) -> int:
        """Numbers held by the bank (for the O(C)-per-frame memory check)."""
        return sum(summary.numel() for summary in self.summaries)

    def nbytes(self) -> int:
        """Bytes held by the bank's tensors."""
        return sum(summary.nbytes() for summary in self.summaries)

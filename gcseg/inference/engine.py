"""The per-frame loop: :class:`VideoSegmenter` (paper Section III-A-1, III-B, IV-A).

For each frame ``t`` after the first, for the K objects of the video at once:

1. ``F_t = E(I_t, M_{t-1})``: the backbone runs once, the K objects batched. The image is the
   same for the K objects, so the RGB half of the first convolution runs once and is shared
   (only the mask convolution sees K inputs; see :class:`~gcseg.model.FeatureExtractor`).
2. Adaptive Search (on by default, :mod:`gcseg.inference.search`): an unreliable ``M_{t-1}``
   is dropped and those objects' features computed again.  The Judgment Module pools
   ``F_t`` against frame 0's ``E(I_0, M_0)``, or with ``judgment_features="no-mask"``
   ``E(I_t, 0)`` against ``E(I_0, 0)`` (one more pass per frame, for one image).
3. References (:mod:`gcseg.inference.references`): frame 0 plus one frame drawn from each of n
   even fragments of the frames segmented so far, each contributing its cached summary.  All
   references x objects go through the heads in one batch (a frame drawn twice -- frame 0 can
   be drawn from the first fragment -- goes through once and counts twice; what depends on
   the frame only is computed once, not per reference); each reference gives a prediction
   and ``M_t`` is their mean over the valid references (an empty reference mask has no ``r``
   and is skipped). With ``reference_fusion="features"`` (not the paper's) the mean is taken
   of the decoder inputs instead, and the decoder runs once per object.
4. Objects merged by argmax over ``[0.5, p_1, ..., p_K]`` (background wins below 0.5;
   :mod:`gcseg.inference.objects`).
5. The frame's own summary, from ``F_t`` and the merged ``M_t``, joins the reference bank.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Mapping
from collections.abc import Sequence as SequenceABC
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from gcseg.config import GCSegConfig
from gcseg.inference.frame_size import FrameSizeWarning, frame_size_warning, trained_frame_size
from gcseg.inference.objects import ObjectSchedule, merge_objects, video_objects
from gcseg.inference.options import InferenceOptions
from gcseg.inference.records import FrameRecord, SegmentedFrame, VideoResult
from gcseg.inference.references import ReferenceBank
from gcseg.inference.runner import ModelRunner
from gcseg.inference.search import SearchOutcome, adaptive_search
from gcseg.model import FrameFeatures, GCSeg, PooledObject

__all__ = ["VideoSegmenter"]


class VideoSegmenter:
    """Propagates first-frame masks through a video with a :class:`~gcseg.model.GCSeg`.

    Args:
        model: the network (put in eval mode, on ``device``, its backbone in the memory format
            chosen by ``options.speed.channels_last`` and the rest NCHW, in place).
        options: the settings (:class:`InferenceOptions`; its defaults are the paper's n = 3,
            τ = 0.7 with Adaptive Search).
        device: where to run.
        trained_frame_size: (H, W) of frames at the scale the model was trained at
            (:func:`~gcseg.inference.trained_frame_size`); a video whose frames are much smaller
            gets a :class:`FrameSizeWarning` (``None``: no check).

    Attributes:
        bank: the :class:`ReferenceBank` of the video segmented last.
        runner: the :class:`ModelRunner` (the network with the speed switches applied).
    """

    def __init__(self, model: GCSeg, options: InferenceOptions | None = None,
                 device: torch.device | str = "cpu",
                 trained_frame_size: tuple[int, int] | None = None) -> None:
        self.options = options or InferenceOptions()
        self.device = torch.device(device)
        self.trained_frame_size = trained_frame_size
        self.runner = ModelRunner(model, self.options.speed, self.device)
        self.model = self.runner.model
        self.bank = ReferenceBank(self.options.num_refs, self.options.seed)
        self.first_view: PooledObject | None = None
        """With ``judgment_features="no-mask"``: frame 0's objects as the Judgment Module sees
        them in E(I_0, 0) (objects given later: in E(I_t, 0) of their frame)."""

    @classmethod
    def from_config(cls, model: GCSeg, config: GCSegConfig,
                    device: torch.device | str = "cpu", **overrides: Any) -> VideoSegmenter:
        """A segmenter with the settings of ``config.inference`` (``overrides``, any field of
        :class:`InferenceOptions` or :class:`SpeedOptions` by name, win) that warns about
        frames much smaller than those ``config`` trained on."""
        options = InferenceOptions.from_config(config.inference, **overrides)
        return cls(model, options, device, trained_frame_size(config))

    @torch.inference_mode()
    def encode(self, image: torch.Tensor, masks: torch.Tensor | None = None) -> FrameFeatures:
        """The backbone pass as the engine runs it (layout, autocast, compilation):
        ``image`` (1, 3, H, W) in [0, 1] shared by ``masks`` (K, 1, H, W). What
        ``python -m gcseg bench`` times as the backbone alone."""
        runner = self.runner
        image = runner.layout(image.to(self.device))
        masks = None if masks is None else runner.layout(masks.to(self.device))
        runner.step_begin()
        with runner.autocast():
            return runner.encode(image, masks)

    # ----------------------------------------------------------------------- the video

    def segment(
        self, frames: SequenceABC[np.ndarray], first_mask: np.ndarray, progress: bool = False,
        name: str = "video", later_masks: Mapping[int, np.ndarray] | None = None,
    ) -> VideoResult:
        """Segment ``frames`` (a sequence of ``(H, W, 3)`` uint8) from ``first_mask`` ids
        (and the objects ``later_masks`` introduce, see :meth:`stream`)."""
        object_ids = list(video_objects(first_mask, name, later_masks))
        count = len(frames)
        labels = np.zeros((count, *first_mask.shape), dtype=np.uint8)
        probabilities = (np.zeros((count, len(object_ids), *first_mask.shape), dtype=np.float32)
                         if self.options.keep_probabilities else None)
        records = []
        for t, frame in enumerate(self.stream(frames, first_mask, progress, name, later_masks)):
            labels[t] = frame.labels
            if probabilities is not None:
                probabilities[t] = frame.probabilities
            records.append(frame.record)
        return VideoResult(labels, object_ids, records, probabilities)

    @torch.inference_mode()
    def stream(
        self, frames: SequenceABC[np.ndarray], first_mask: np.ndarray, progress: bool = False,
        name: str = "video", later_masks: Mapping[int, np.ndarray] | None = None,
    ) -> Iterator[SegmentedFrame]:
        """Segment ``frames`` one by one, yielding each as a :class:`SegmentedFrame` (frame 0,
        ``first_mask`` without its void label, included). Only the reference summaries stay
        in memory between frames; ``frames`` may be read lazily.

        ``later_masks`` ``{frame: annotation}`` gives the objects absent from frame 0 their
        mask in the frame where they appear first (DAVIS-2017's protocol): before it they are
        left out (probability 0); there their given mask is pasted into the labels, its
        features are encoded once more with that mask, and its summary becomes the object's
        "frame 0" (the Judgment Module's reference, and a reference of every later frame)."""
        objects = ObjectSchedule(first_mask, later_masks, self.device, name)
        message = frame_size_warning(first_mask.shape[:2], self.trained_frame_size, name)
        if message:
            warnings.warn(message, FrameSizeWarning, stacklevel=2)
        segmented, masks = self._first_frame(frames, first_mask, objects)
        yield segmented
        for t in tqdm(range(1, len(frames)), desc=name, disable=not progress, leave=False):
            frame = frames[t]  # read (decoded) before the clock starts: time the network only
            segmented, masks = self._next_frame(t, frame, masks, objects)
            yield segmented

    # ----------------------------------------------------------------------- one frame

    def _first_frame(self, frames: SequenceABC[np.ndarray], first_mask: np.ndarray,
                     objects: ObjectSchedule) -> tuple[SegmentedFrame, torch.Tensor]:
        """Frame 0: its annotation, whose summary opens the reference bank."""
        runner = self.runner
        start = time.perf_counter()
        labels = np.where(first_mask == 255, 0, first_mask).astype(np.uint8)
        masks = runner.object_masks(torch.from_numpy(labels).to(self.device), objects.ids)
        runner.step_begin()
        image = runner.image(frames[0])
        with runner.autocast():
            features = runner.encode(image, masks)
            self.bank.start(runner.summarize(features, masks))
            passes = 1 + self._start_first_view(image, masks)
        runner.synchronize()
        probs = None
        if self.options.keep_probabilities:
            ids = np.array(objects.object_ids)[:, None, None]
            probs = (labels[None] == ids).astype(np.float32)
        record = FrameRecord(0, [], None, None, passes, time.perf_counter() - start)
        return SegmentedFrame(labels, record, probs), masks

    def _next_frame(self, t: int, frame: np.ndarray, prev_masks: torch.Tensor,
                    objects: ObjectSchedule) -> tuple[SegmentedFrame, torch.Tensor]:
        """Frame ``t`` from ``M_{t-1}`` (steps 1-5 of the module docstring)."""
        runner = self.runner
        start = time.perf_counter()
        runner.step_begin()
        image = runner.image(frame)  # (1, 3, H, W): the K objects share it
        with runner.autocast():
            search = self._search(image, prev_masks)
            references = self.bank.sample(t)
            prob = objects.hide_absent(self._predict(search.features, references), t)
        labels = merge_objects(prob, objects.ids)  # (H, W) uint8 ids
        given = objects.paste_given(labels, t)
        masks = runner.object_masks(labels, objects.ids)
        with runner.autocast():
            passes = search.backbone_passes + self._remember(image, search.features, masks,
                                                             given)
        labels_np = labels.cpu().numpy()
        probs = prob[:, 0].float().cpu().numpy() if self.options.keep_probabilities else None
        runner.synchronize()
        record = FrameRecord(t, references, search.scores, search.reliable, passes,
                             time.perf_counter() - start)
        return SegmentedFrame(labels_np, record, probs), masks

    def _judges_without_mask(self) -> bool:
        return self.options.adaptive_search and self.options.judgment_features == "no-mask"

    def _plain(self, image: torch.Tensor, like: torch.Tensor) -> FrameFeatures:
        """E(I, 0) for the one image (batch 1), ``like`` a (K, 1, H, W) mask batch."""
        return self.runner.encode(image, torch.zeros_like(like[:1]))

    def _start_first_view(self, image: torch.Tensor, masks: torch.Tensor) -> int:
        """Frame 0's objects in E(I_0, 0) for the ``"no-mask"`` judgment; the passes taken."""
        self.first_view = None
        if not self._judges_without_mask():
            return 0
        plain = self._plain(image, masks).expand(masks.shape[0])
        self.first_view = self.model.judgment_view(plain, masks)
        return 1

    def _search(self, image: torch.Tensor, prev_masks: torch.Tensor) -> SearchOutcome:
        """``F_t = E(I_t, M_{t-1})``, then the Adaptive Search when it is on."""
        features = self.runner.encode(image, prev_masks)
        if not self.options.adaptive_search:
            return SearchOutcome(features)
        if self._judges_without_mask():
            return adaptive_search(self.runner, image, features, prev_masks, self.first_view,
                                   self.options.threshold, self._plain(image, prev_masks))
        return adaptive_search(self.runner, image, features, prev_masks, self.bank.first,
                               self.options.threshold)

    def _predict(self, features: FrameFeatures, references: list[int]) -> torch.Tensor:
        """``(K, 1, H, W)``: the mean prediction over the valid references; all (reference,
        object) rows at once.

        A frame drawn twice goes through the heads once with twice the weight. The K feature
        rows are not repeated: the heads read reference row j against object j mod K and
        compute what depends on the frame only once (see :meth:`GCSeg.predict`)."""
        if not self.model.uses_two_frames:
            prob, _ = self.runner.heads(features, None)
            return prob
        k = features.batch_size
        refs, counts = self.bank.stack(references)  # (R*K) rows, reference-major
        r = len(counts)
        count = torch.as_tensor(counts, device=refs.valid.device, dtype=torch.float32)
        valid = refs.valid.view(r, k).float() * count.view(r, 1)  # frame 0 is always valid
        weights = valid / valid.sum(dim=0, keepdim=True).clamp(min=1)  # (R, K)
        if self.options.reference_fusion == "features":
            prob, _ = self.runner.mean_heads(features, refs, weights)  # (K, 1, H, W)
            return prob
        prob, _ = self.runner.heads(features, refs)  # (R*K, 1, H, W)
        prob = prob.view(r, k, *prob.shape[1:])
        return (prob * weights.to(prob.dtype).view(r, k, 1, 1, 1)).sum(dim=0)

    def _remember(self, image: torch.Tensor, features: FrameFeatures, masks: torch.Tensor,
                  given: torch.Tensor | None) -> int:
        """Step 5: put frame t's summary into the bank; returns the backbone passes it took.

        ``"own-mask"`` encodes the frame again with its result ``M_t``, as in training; the
        objects ``given`` (bool (K,)) their mask at this frame are encoded with it, as frame 0
        is."""
        runner = self.runner
        passes = 0
        if self.options.reference_encoding == "own-mask":  # E(I_t, M_t)
            features = runner.encode(image, masks)
            passes += 1
        self.bank.add(runner.summarize(features, masks))
        if given is not None:
            fresh = runner.summarize(runner.encode(image, masks[given]), masks[given])
            self.bank.give_objects(given, fresh)
            passes += 1
            if self.first_view is not None:  # their "frame 0" for the no-mask judgment
                plain = self._plain(image, masks).expand(int(given.sum()))
                view = self.model.judgment_view(plain, masks[given])
                self.first_view = self.first_view.replace_rows(given, view)
                passes += 1
        return passes

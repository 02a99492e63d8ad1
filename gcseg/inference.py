"""Segmenting whole videos with a trained GCSeg (paper III-A-1, III-B, IV-A; SPEC §7-8).

For each frame ``t`` after the first, for the K objects of the video at once:

1. ``F_t = E(I_t, M_{t-1})``: the backbone runs once, the K objects batched. The image is the
   same for the K objects, so the RGB half of the first convolution runs once and is shared
   (only the mask convolution sees K inputs; see :class:`~gcseg.model.FeatureExtractor`).
2. Adaptive Search (III-B, on by default): the Judgment Module compares ``F_t`` pooled over
   box(``M_{t-1}``) with ``F_0`` pooled over box(``M_0``); where the cosine similarity is below
   τ, ``M_{t-1}`` is replaced by zeros and those objects' features are computed again (the only
   second backbone pass).
3. References: frame 0 with ``M_0`` plus one frame drawn (seeded) from each of n even fragments
   of the frames segmented so far.  A reference contributes only its cached summary
   (``r_{t-n}``, the co-segmentation vectors ``f_{t-n}``: O(C) numbers, never a feature map), so
   no past frame goes through the backbone again.  All references x objects go through the
   heads in one batch (a frame drawn twice -- frame 0 can be drawn from the first fragment --
   goes through once and counts twice); each reference gives a prediction and ``M_t`` is their
   mean over the valid references (an empty reference mask has no ``r`` and is skipped).
4. Objects merged by argmax over ``[0.5, p_1, ..., p_K]`` (background wins below 0.5).
5. The frame's own summary, from ``F_t`` and the merged ``M_t``, joins the cache.

:meth:`VideoSegmenter.stream` yields the frames one by one (memory stays flat however long the
video: the engine keeps only the summaries); :meth:`VideoSegmenter.segment` collects them.

Fast paths (each equal to the plain path within float tolerance; ``tests/test_fast_paths.py``;
``python -m gcseg bench`` measures them): ``torch.inference_mode``, the cached summaries, the
batched references and objects and the shared RGB convolution are always on;
``channels_last=True`` runs the backbone channels-last (faster convolutions on CPUs with oneDNN
and on GPUs); ``amp`` runs autocast in ``amp_dtype`` (float16 or bfloat16) on
CUDA; ``compile`` runs the backbone pass and the heads through ``torch.compile``.

*Reading the paper*: a reference's features should be ``E(I_{t-n}, M_{t-n})``, as in training
(where the reference frame goes in with its ground truth).  By default
(``reference_encoding="cached"``) the engine reuses the features computed when frame ``t-n``
was segmented, ``E(I_{t-n}, M_{t-n-1})``, and masks them with ``M_{t-n}``; ``"own-mask"``
computes the exact ones, a second backbone pass per frame (measured in the README).

Objects are those annotated in the first frame.  ``python -m gcseg segment`` writes the official
results layout and ``timing.json``.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from gcseg.config import REFERENCE_ENCODINGS, GCSegConfig
from gcseg.data.davis import DavisDataset, Sequence, write_sequence_results
from gcseg.model import FrameFeatures, GCSeg, ReferenceSummary
from gcseg.runtime import dataset_inputs, results_folder, write_json

__all__ = [
    "FrameRecord",
    "FrameSizeWarning",
    "SegmentedFrame",
    "VideoResult",
    "VideoSegmenter",
    "frame_size_warning",
    "merge_objects",
    "sample_reference_frames",
    "segment_dataset",
    "trained_frame_size",
]

AMP_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}
"""Autocast precisions of the engine on CUDA."""


def sample_reference_frames(t: int, n: int, rng: np.random.Generator) -> list[int]:
    """Frame 0 plus one frame drawn from each of ``n`` even fragments of frames ``0..t-1``.

    With fewer than ``n`` frames segmented, there are as many fragments as frames.
    """
    if t < 1:
        raise ValueError("references are drawn from frames already segmented (t >= 1)")
    fragments = np.array_split(np.arange(t), min(n, t)) if n > 0 else []
    return [0] + [int(rng.choice(fragment)) for fragment in fragments]


SMALL_FRAME_RATIO = 0.75
"""Frames whose height or width is below this fraction of :func:`trained_frame_size` get a
:class:`FrameSizeWarning` (the shipped model, trained at 240x432: J&F 0.375 at 240x432, 0.199
at 128x224, 0.125 at 64x96 on two short synthetic videos)."""


class FrameSizeWarning(UserWarning):
    """Inference frames much smaller than the frames the model was trained at."""


def trained_frame_size(config: GCSegConfig) -> tuple[int, int]:
    """(H, W) of whole frames at the scale a model trained with ``config`` saw its objects.

    Training crops a fraction ``data.crop_scale`` of each side of a frame and resizes it to
    ``data.frame_size``, so the crops show objects as large as frames of ``frame_size /
    crop_scale`` would; the largest crop (the smallest objects) sets the bound.  Inference
    feeds frames at their own size, whatever ``frame_size`` says."""
    height, width = config.data.frame_size
    largest = max(config.data.crop_scale)
    return round(height / largest), round(width / largest)


def frame_size_warning(size: tuple[int, int], trained: tuple[int, int] | None,
                       name: str = "video") -> str | None:
    """The warning for frames of ``size`` (H, W) given a model trained at ``trained``, or
    ``None`` when they are large enough (:data:`SMALL_FRAME_RATIO`)."""
    if trained is None:
        return None
    if min(size[0] / trained[0], size[1] / trained[1]) >= SMALL_FRAME_RATIO:
        return None
    return (f"{name}: frames of {size[0]}x{size[1]} are much smaller than the "
            f"{trained[0]}x{trained[1]} frames this model was trained at (data.frame_size / "
            f"crop_scale): expect a much lower J&F; resize the frames or train at this size")


def merge_objects(prob: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Step 4: ``(K, 1, H, W)`` probabilities -> ``(H, W)`` labels, the id of the object of
    highest probability, 0 (background) where none exceeds 0.5.

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


def _with_rows(base: ReferenceSummary, rows: torch.Tensor, new: ReferenceSummary
               ) -> ReferenceSummary:
    """``base`` with its rows ``rows`` (bool (K,)) replaced by the rows of ``new``."""
    def put(old: torch.Tensor | None, value: torch.Tensor | None) -> torch.Tensor | None:
        if old is None:
            return None
        out = old.clone()
        out[rows] = value.to(out.dtype)
        return out

    return ReferenceSummary(
        valid=put(base.valid, new.valid), r=put(base.r, new.r),
        f={level: put(vector, new.f[level]) for level, vector in base.f.items()},
        boxes=put(base.boxes, new.boxes), roi_features=put(base.roi_features, new.roi_features),
        object_vector=put(base.object_vector, new.object_vector))


@dataclass
class FrameRecord:
    """What happened at one frame (the notebooks draw these)."""

    index: int
    references: list[int]
    judgment_scores: list[float] | None  # per object; None at frame 0 or without search
    reliable: list[bool] | None
    backbone_passes: int
    seconds: float


@dataclass
class SegmentedFrame:
    """One frame from :meth:`VideoSegmenter.stream`: ``labels`` ``(H, W)`` uint8 object ids,
    its :class:`FrameRecord`, and the per-object probabilities ``(K, H, W)`` float32 when the
    segmenter keeps them."""

    labels: np.ndarray
    record: FrameRecord
    probabilities: np.ndarray | None = None


@dataclass
class VideoResult:
    """Labels ``(T, H, W)`` uint8 with the object ids, per-object probabilities optional."""

    labels: np.ndarray
    object_ids: list[int]
    records: list[FrameRecord] = field(default_factory=list)
    probabilities: np.ndarray | None = None  # (T, K, H, W) float32 when kept

    @property
    def seconds_per_frame(self) -> float:
        """Mean time of the frames after the first (the propagated ones)."""
        times = [record.seconds for record in self.records[1:]]
        return float(np.mean(times)) if times else float("nan")


class VideoSegmenter:
    """Propagates first-frame masks through a video with a :class:`~gcseg.model.GCSeg`.

    Args:
        model: the network (put in eval mode, on ``device``, its backbone in the memory format
            chosen by ``channels_last`` and the rest NCHW, in place).
        num_refs: n, the number of temporal fragments a reference is drawn from (plus frame 0).
        adaptive_search: use the Judgment Module to drop an unreliable ``M_{t-1}`` (Table VI).
        threshold: τ of the Judgment Module.
        seed: seed of the reference sampling.
        device: where to run.
        amp: autocast on CUDA in ``amp_dtype`` (ignored on the CPU, which stays float32).
        amp_dtype: ``"float16"`` (default) or ``"bfloat16"`` (or the torch dtype).
        keep_probabilities: also return the per-object probabilities (for the notebooks).
        channels_last: the backbone's weights and inputs channels-last (NHWC): same results
            within float tolerance, faster convolutions and max-pooling (oneDNN on CPUs, cuDNN
            on GPUs). Its features come back in the default layout (NCHW, one copy per frame):
            the heads' small maps, group norms and 2-channel upsampling measured slower
            channels-last on a CPU. ``False``: NCHW everywhere.
        reference_encoding: ``"cached"`` (a segmented frame's reference summary comes from the
            features that segmented it, E(I_t, M_{t-1})) or ``"own-mask"`` (from features
            encoded again with its result, E(I_t, M_t): one more backbone pass per frame).
        trained_frame_size: (H, W) of frames at the scale the model was trained at
            (:func:`trained_frame_size`); a video whose frames are much smaller gets a
            :class:`FrameSizeWarning` (``None``: no check).
        compile: run the backbone pass (``encode_frame``) and the heads (``predict``) through
            ``torch.compile`` on any device: ``True`` with its defaults, or a dict of its
            keyword arguments, e.g. ``{"mode": "reduce-overhead"}`` (CUDA graphs on a GPU) or
            ``{"backend": "aot_eager"}``. The first frames, and every new batch shape (the
            references grow until n are sampled; a second backbone pass for some objects),
            pay the compilation. The CPU's default backend needs a C++ compiler.
    """

    def __init__(
        self,
        model: GCSeg,
        num_refs: int = 3,
        adaptive_search: bool = True,
        threshold: float = 0.7,
        seed: int = 0,
        device: torch.device | str = "cpu",
        amp: bool = True,
        keep_probabilities: bool = False,
        amp_dtype: torch.dtype | str = "float16",
        channels_last: bool = False,
        compile: bool | dict[str, Any] = False,
        reference_encoding: str = "cached",
        trained_frame_size: tuple[int, int] | None = None,
    ) -> None:
        if reference_encoding not in REFERENCE_ENCODINGS:
            raise ValueError(f"reference_encoding must be one of {list(REFERENCE_ENCODINGS)}, "
                             f"got {reference_encoding!r}")
        self.reference_encoding = reference_encoding
        self.trained_frame_size = trained_frame_size
        self.device = torch.device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=torch.contiguous_format).eval()
        self.model.extractor.to(memory_format=self.memory_format)
        self.num_refs = num_refs
        self.adaptive_search = adaptive_search
        self.threshold = threshold
        self.seed = seed
        self.amp = amp and self.device.type == "cuda"
        if isinstance(amp_dtype, str):
            if amp_dtype not in AMP_DTYPES:
                raise ValueError(f"amp_dtype must be one of {list(AMP_DTYPES)}, got {amp_dtype!r}")
            amp_dtype = AMP_DTYPES[amp_dtype]
        self.amp_dtype = amp_dtype
        self.channels_last = channels_last
        self.keep_probabilities = keep_probabilities
        self.compile = compile
        encode: Callable[..., FrameFeatures] = self.model.encode_frame
        heads: Callable[..., tuple[torch.Tensor, Any]] = self.model.predict
        if compile:
            options = {} if compile is True else dict(compile)
            encode, heads = torch.compile(encode, **options), torch.compile(heads, **options)
        self._encode_fn, self._heads_fn = encode, heads
        self.cache: list[ReferenceSummary] = []
        """Per segmented frame, the compact summaries of its K objects (O(K·C) each)."""

    @classmethod
    def from_config(cls, model: GCSeg, config: GCSegConfig,
                    device: torch.device | str = "cpu", **overrides) -> VideoSegmenter:
        """A segmenter with the settings of ``config.inference`` (``overrides`` win) that warns
        about frames much smaller than those ``config`` trained on."""
        inference = config.inference
        settings = {"num_refs": inference.num_refs, "adaptive_search": inference.adaptive_search,
                    "threshold": inference.judgment_threshold, "seed": inference.seed,
                    "reference_encoding": inference.reference_encoding,
                    "trained_frame_size": trained_frame_size(config)}
        return cls(model, device=device, **{**settings, **overrides})

    # ----------------------------------------------------------------------- helpers

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=self.memory_format)

    def _image(self, frame: np.ndarray) -> torch.Tensor:
        """``(H, W, 3)`` uint8 -> ``(1, 3, H, W)`` float in [0, 1], one for the K objects."""
        image = torch.from_numpy(np.array(frame, dtype=np.uint8)).to(self.device)
        return self._layout(image.permute(2, 0, 1)[None].float().div_(255.0))

    def _object_masks(self, labels: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """``(H, W)`` id labels → ``(K, 1, H, W)`` binary masks, one per object."""
        return self._layout((labels[None, None] == ids.view(-1, 1, 1, 1)).float())

    def _summarize(self, features: FrameFeatures, masks: torch.Tensor) -> ReferenceSummary:
        return self.model.summarize_reference(features, masks).compact()

    def _autocast(self) -> contextlib.AbstractContextManager:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.amp_dtype)

    def _synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _step_begin(self) -> None:
        """Tell compiled CUDA graphs that a new frame starts (the last frame's outputs of the
        graphs, which the engine no longer reads, may be overwritten)."""
        if self.compile and self.device.type == "cuda":
            mark = getattr(torch.compiler, "cudagraph_mark_step_begin", None)
            if mark is not None:
                mark()

    def _encode(self, image: torch.Tensor, masks: torch.Tensor | None) -> FrameFeatures:
        """The backbone pass; the features in the default layout for the heads."""
        features = self._encode_fn(image, masks)
        if self.channels_last:
            features = features.map(lambda x: x.contiguous())
        return features

    @torch.inference_mode()
    def encode(self, image: torch.Tensor, masks: torch.Tensor | None = None) -> FrameFeatures:
        """The backbone pass as the engine runs it (layout, autocast, compilation):
        ``image`` (1, 3, H, W) in [0, 1] shared by ``masks`` (K, 1, H, W). What
        ``python -m gcseg bench`` times as the backbone alone."""
        image = self._layout(image.to(self.device))
        masks = None if masks is None else self._layout(masks.to(self.device))
        self._step_begin()
        with self._autocast():
            return self._encode(image, masks)

    # ----------------------------------------------------------------------- the video

    def segment(
        self, frames: SequenceABC[np.ndarray], first_mask: np.ndarray, progress: bool = False,
        name: str = "video", later_masks: Mapping[int, np.ndarray] | None = None,
    ) -> VideoResult:
        """Segment ``frames`` (a sequence of ``(H, W, 3)`` uint8) from ``first_mask`` ids
        (and the objects ``later_masks`` introduce, see :meth:`stream`)."""
        object_ids = list(video_objects(first_mask, name, later_masks))
        count = len(frames)
        labels_out = np.zeros((count, *first_mask.shape), dtype=np.uint8)
        probs_out = (np.zeros((count, len(object_ids), *first_mask.shape), dtype=np.float32)
                     if self.keep_probabilities else None)
        records = []
        for t, frame in enumerate(self.stream(frames, first_mask, progress, name, later_masks)):
            labels_out[t] = frame.labels
            if probs_out is not None:
                probs_out[t] = frame.probabilities
            records.append(frame.record)
        return VideoResult(labels_out, object_ids, records, probs_out)

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
        starts = video_objects(first_mask, name, later_masks)
        object_ids = list(starts)
        k = len(object_ids)
        ids = torch.tensor(object_ids, device=self.device, dtype=torch.uint8)  # (K,)
        # Objects absent from frame 0: a (K,) row mask per frame that introduces some, built
        # once, so a frame without a late object pays nothing (and on CUDA never synchronises).
        introduced = {s: torch.tensor([starts[i] == s for i in object_ids], device=self.device)
                      for s in sorted(set(starts.values()) - {0})}
        active = torch.tensor([starts[i] == 0 for i in object_ids], device=self.device)
        last_start = max(introduced, default=0)
        rng = np.random.default_rng(self.seed)
        self.cache = []

        message = frame_size_warning(first_mask.shape[:2], self.trained_frame_size, name)
        if message:
            warnings.warn(message, FrameSizeWarning, stacklevel=2)
        start = time.perf_counter()
        first_labels = np.where(first_mask == 255, 0, first_mask).astype(np.uint8)
        masks = self._object_masks(torch.from_numpy(first_labels).to(self.device), ids)  # M_0
        self._step_begin()
        with self._autocast():
            features = self._encode(self._image(frames[0]), masks)
            first = self._summarize(features, masks)
        self.cache.append(first)
        self._synchronize()
        probs = (first_labels[None] == np.array(object_ids)[:, None, None]).astype(np.float32)
        yield SegmentedFrame(first_labels, FrameRecord(0, [], None, None, 1,
                                                       time.perf_counter() - start),
                             probs if self.keep_probabilities else None)

        for t in tqdm(range(1, len(frames)), desc=name, disable=not progress, leave=False):
            frame = frames[t]  # read (decoded) before the clock starts: time the network only
            start = time.perf_counter()
            self._step_begin()
            image = self._image(frame)  # (1, 3, H, W): the K objects share it
            prev = masks
            with self._autocast():
                features = self._encode(image, prev)
                passes = 1
                scores = reliable = None
                if self.adaptive_search:
                    judgment = self.model.judge(features, prev, first, self.threshold)
                    scores = judgment.score.float().tolist()
                    reliable = judgment.reliable.tolist()
                    # An already-empty M_{t-1} is unreliable but needs no second pass.
                    bad = ~judgment.reliable & (prev.flatten(1) > 0.5).any(dim=1)
                    if bad.any():  # forget M_{t-1} for those objects: features without it
                        prev = prev.clone()
                        prev[bad] = 0
                        again = self._encode(image, prev[bad])
                        features = features.map(lambda x: x.clone())
                        for level in features:
                            features.levels[level][bad] = again[level]
                        passes = 2
                refs_frames = sample_reference_frames(t, self.num_refs, rng)
                refs_frames += [s for s in introduced if s < t]  # their "frame 0"
                prob = self._predict(features, refs_frames, k)  # (K, 1, H, W)
                if t <= last_start:  # some objects are not there yet (or given only now)
                    prob = prob * active.view(k, 1, 1, 1).to(prob.dtype)
            labels = merge_objects(prob, ids)  # (H, W) uint8 ids
            starting = introduced.get(t)
            if starting is not None:  # objects given here: their annotation wins
                given = torch.from_numpy(np.array(later_masks[t], dtype=np.uint8)).to(
                    self.device)
                for object_id in ids[starting]:
                    labels[given == object_id] = object_id
                active |= starting
            masks = self._object_masks(labels, ids)
            with self._autocast():
                if self.reference_encoding == "own-mask":  # E(I_t, M_t), as in training
                    features = self._encode(image, masks)
                    passes += 1
                summary = self._summarize(features, masks)
                if starting is not None:  # encode them with their given mask, as frame 0
                    given_features = self._encode(image, masks[starting])
                    fresh = self._summarize(given_features, masks[starting])
                    summary = _with_rows(summary, starting, fresh)
                    first = _with_rows(first, starting, fresh)
                    passes += 1
                self.cache.append(summary)
            labels_np = labels.cpu().numpy()
            probs = prob[:, 0].float().cpu().numpy() if self.keep_probabilities else None
            self._synchronize()
            record = FrameRecord(t, refs_frames, scores, reliable, passes,
                                 time.perf_counter() - start)
            yield SegmentedFrame(labels_np, record, probs)

    def _predict(self, features: FrameFeatures, ref_frames: list[int], k: int) -> torch.Tensor:
        """Mean prediction over the valid references; all (reference, object) rows at once.

        A frame drawn twice goes through the heads once with twice the weight. With one object
        the features are broadcast to the references (views), with K they are repeated."""
        if not self.model.uses_two_frames:
            prob, _ = self._heads_fn(features, None)
            return prob
        frames, counts = np.unique(ref_frames, return_counts=True)  # sorted: frame 0 first
        refs = ReferenceSummary.cat([self.cache[i] for i in frames])  # (R*K) rows
        r = len(frames)
        if k > 1 and r > 1:
            features = features.map(lambda x: torch.cat([x] * r))  # (R*K, C, h, w)
        prob, _ = self._heads_fn(features, refs)  # (R*K, 1, H, W)
        prob = prob.view(r, k, *prob.shape[1:])
        count = torch.as_tensor(counts, device=prob.device, dtype=prob.dtype).view(r, 1)
        valid = refs.valid.view(r, k).to(prob.dtype) * count  # frame 0 is always valid
        weights = valid / valid.sum(dim=0, keepdim=True).clamp(min=1)
        return (prob * weights.view(r, k, 1, 1, 1)).sum(dim=0)

    def _cache_tensors(self) -> Iterator[torch.Tensor]:
        for summary in self.cache:
            for value in vars(summary).values():
                if isinstance(value, torch.Tensor):
                    yield value
                elif isinstance(value, dict):
                    yield from value.values()

    def cache_numel(self) -> int:
        """Numbers held by the reference cache (for the O(C)-per-frame memory check)."""
        return sum(tensor.numel() for tensor in self._cache_tensors())

    def cache_nbytes(self) -> int:
        """Bytes held by the reference cache's tensors."""
        return sum(tensor.numel() * tensor.element_size() for tensor in self._cache_tensors())


def segment_dataset(
    segmenter: VideoSegmenter,
    dataset: DavisDataset,
    out_dir: str | os.PathLike,
    progress: bool = True,
    overwrite: bool = True,
) -> dict:
    """Segment every sequence of ``dataset`` into ``out_dir`` (official layout) + timing.json.

    ``out_dir`` is written whole into a staging folder and swapped in at the end
    (:func:`gcseg.runtime.results_folder`): a killed run leaves the old results as they were,
    never old and new sequences mixed.  An existing non-empty ``out_dir`` is replaced only with
    ``overwrite`` (the command line's ``--overwrite``; the library's default, so a notebook can
    run again) and only when it holds results; never the dataset's own folders.

    In ``timing.json`` (and the returned dict) a time per frame or a rate is ``null``/``None``
    where no frame after the first was timed (videos of one frame)."""
    out_dir = Path(out_dir)
    timing = {"sequences": {}}
    frames_total, seconds_total = 0, 0.0
    with results_folder(out_dir, overwrite, inputs=dataset_inputs(dataset)) as staging:
        sequences = tqdm(list(dataset), desc="sequences", disable=not progress)
        usual = 2 if segmenter.reference_encoding == "own-mask" else 1  # passes per frame
        for sequence in sequences:
            result = segment_sequence(segmenter, sequence, progress=progress)
            write_sequence_results(staging, sequence.name, result.labels, sequence.frame_names)
            seconds = sum(record.seconds for record in result.records[1:])
            timed = len(result.records) - 1
            frames_total += timed
            seconds_total += seconds
            timing["sequences"][sequence.name] = {
                "frames": len(sequence),
                "objects": len(result.object_ids),
                "seconds_per_frame": seconds / timed if timed else None,
                # frames whose M_{t-1} the Judgment Module dropped (or that gave a late object
                # its mask): one pass more than the encoding's own
                "second_backbone_passes": sum(r.backbone_passes > usual
                                              for r in result.records[1:]),
            }
        height, width = dataset[0].size
        timing.update(
            seconds_per_frame=seconds_total / frames_total if frames_total else None,
            frames_per_second=frames_total / seconds_total if seconds_total > 0 else None,
            frames=frames_total,
            device=str(segmenter.device),
            amp=segmenter.amp,
            resolution=f"{width}x{height}",
            num_refs=segmenter.num_refs,
            adaptive_search=segmenter.adaptive_search,
        )
        write_json(staging / "timing.json", timing)
    return timing


class _LazyFrames(SequenceABC):
    """The frames of a :class:`Sequence`, read when indexed (never the whole video at once)."""

    def __init__(self, sequence: Sequence) -> None:
        self.sequence = sequence

    def __len__(self) -> int:
        return len(self.sequence)

    def __getitem__(self, index):
        return self.sequence.frame(index)


def segment_sequence(segmenter: VideoSegmenter, sequence: Sequence,
                     progress: bool = False) -> VideoResult:
    """Segment one DAVIS-layout sequence from its first-frame annotation (and, for objects
    absent from frame 0, the annotation of the frame where each appears first)."""
    return segmenter.segment(_LazyFrames(sequence), sequence.first_mask, progress=progress,
                             name=sequence.name, later_masks=sequence.later_annotations())

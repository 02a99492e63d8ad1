"""The network's passes as the engine runs them, with the :class:`SpeedOptions` applied.

``torch.inference_mode``, the batched objects and the shared RGB convolution are always on;
``channels_last`` runs the backbone channels-last, ``amp`` runs autocast on CUDA, ``compile``
runs the backbone pass and the heads through ``torch.compile``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gcseg.inference.options import SpeedOptions
from gcseg.model import FrameFeatures, GCSeg, ReferenceSummary

__all__ = ["ModelRunner", "frame_on_device"]


def frame_on_device(frame: np.ndarray, device: torch.device,
                    memory_format: torch.memory_format = torch.contiguous_format
                    ) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(1, 3, H, W)`` float in [0, 1] on ``device``: as
    :func:`gcseg.data.transforms.to_tensor_image`, but the uint8 frame goes to the device first
    (a quarter of the bytes over the bus) and is converted there."""
    image = torch.from_numpy(np.array(frame, dtype=np.uint8)).to(device)
    return image.permute(2, 0, 1)[None].float().div_(255.0).contiguous(
        memory_format=memory_format)


class ModelRunner:
    """A :class:`~gcseg.model.GCSeg` prepared for inference with the switches of ``speed``.

    The model is put in eval mode, on ``device``, its backbone in the memory format chosen by
    ``channels_last`` and the rest NCHW, in place.
    """

    def __init__(self, model: GCSeg, speed: SpeedOptions, device: torch.device) -> None:
        self.speed = speed
        self.device = device
        self.memory_format = (torch.channels_last if speed.channels_last
                              else torch.contiguous_format)
        self.model = model.to(device, memory_format=torch.contiguous_format).eval()
        self.model.extractor.to(memory_format=self.memory_format)
        self.amp = speed.amp and device.type == "cuda"
        encode: Callable[..., FrameFeatures] = self.model.encode_frame
        # without the co-segmentation's per-level maps, which only the figures read
        heads: Callable[..., tuple[torch.Tensor, Any]] = functools.partial(
            self.model.predict, levels=False)
        mean_heads: Callable[..., tuple[torch.Tensor, Any]] = functools.partial(
            self.model.predict_mean, levels=False)
        if speed.compile:
            options = {} if speed.compile is True else dict(speed.compile)
            encode, heads, mean_heads = (torch.compile(fn, **options)
                                         for fn in (encode, heads, mean_heads))
        self._encode_fn, self._heads_fn, self._mean_heads_fn = encode, heads, mean_heads

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the backbone's memory format."""
        return x.contiguous(memory_format=self.memory_format)

    def image(self, frame: np.ndarray) -> torch.Tensor:
        """The frame ``(1, 3, H, W)`` on the device in the backbone's layout, one for the K
        objects (:func:`frame_on_device`)."""
        return frame_on_device(frame, self.device, self.memory_format)

    def object_masks(self, labels: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """``(H, W)`` id labels -> ``(K, 1, H, W)`` binary masks, one per object."""
        return self.layout((labels[None, None] == ids.view(-1, 1, 1, 1)).float())

    def autocast(self) -> contextlib.AbstractContextManager:
        """Autocast in the chosen precision on CUDA with ``amp``; nothing otherwise."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.speed.autocast_dtype)

    def synchronize(self) -> None:
        """Wait for the device (a frame's time is then its whole work)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def step_begin(self) -> None:
        """Tell compiled CUDA graphs that a new frame starts (the last frame's outputs of the
        graphs, which the engine no longer reads, may be overwritten)."""
        if self.speed.compile and self.device.type == "cuda":
            mark = getattr(torch.compiler, "cudagraph_mark_step_begin", None)
            if mark is not None:
                mark()

    def encode(self, image: torch.Tensor, masks: torch.Tensor | None) -> FrameFeatures:
        """The backbone pass ``E(I_t, M)``; the features in the default layout for the heads."""
        features = self._encode_fn(image, masks)
        if self.speed.channels_last:
            features = features.map(lambda x: x.contiguous())
        return features

    def heads(self, features: FrameFeatures, refs: ReferenceSummary | None
              ) -> tuple[torch.Tensor, Any]:
        """The heads: probabilities ``(B, 1, H, W)`` and the internals."""
        return self._heads_fn(features, refs)

    def mean_heads(self, features: FrameFeatures, refs: ReferenceSummary,
                   weights: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """The heads with the references averaged before the decoder
        (:meth:`~gcseg.model.GCSeg.predict_mean`): probabilities ``(B_f, 1, H, W)``."""
        return self._mean_heads_fn(features, refs, weights)

    def summarize(self, features: FrameFeatures, masks: torch.Tensor) -> ReferenceSummary:
        """A frame's compact summary (what the reference bank keeps)."""
        return self.model.summarize_reference(features, masks).compact()

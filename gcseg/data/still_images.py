"""Still images with object masks: the sources of the simulated training videos (paper IV-A).

The paper pre-trains on videos simulated from Pascal VOC and MSRA10K.  Each source here is a
plain sequence of ``(image (H, W, 3) uint8, mask (H, W) bool)`` pairs, one object per item:

- :class:`PascalVOCObjects` -- ``VOC2012/JPEGImages/*.jpg`` with ``SegmentationObject/*.png``
  (palette PNGs, one id per instance, 255 = the void band around objects), listed by
  ``ImageSets/Segmentation/<split>.txt``.  Every instance large enough is one item.
- :class:`MSRA10K` -- a folder of ``<name>.jpg`` images beside ``<name>.png`` binary saliency
  masks (the ``MSRA10K_Imgs_GT/Imgs`` folder of the download).
- :class:`DavisStills` -- the frames of a DAVIS-layout dataset used as still images, one object
  per item: offline, the synthetic benchmark's training split stands in for the two above.

Nothing is downloaded: each class reads a folder the user has, and names the missing file when
the folder is not what it should be.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gcseg.data.davis import VOID_ID, DavisDataset, DavisFormatError, read_annotation, read_frame

__all__ = ["StillImageSource", "PascalVOCObjects", "MSRA10K", "DavisStills", "ConcatStills"]


class StillImageSource:
    """Base class: ``len(source)`` items, ``source[i] -> (image, mask)``."""

    name = "stills"

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class PascalVOCObjects(StillImageSource):
    """Object instances of Pascal VOC 2012 (``SegmentationObject``), one item per instance.

    ``root`` is the ``VOC2012`` folder (the one holding ``JPEGImages``).  Instances smaller than
    ``min_area`` of the image are skipped, as tiny objects make poor first-frame masks.  The
    instance list is built by reading every annotation once when the source is opened.
    """

    name = "pascal-voc"

    def __init__(self, root: str | os.PathLike, split: str = "train", min_area: float = 0.01):
        self.root = Path(root)
        split_file = self.root / "ImageSets" / "Segmentation" / f"{split}.txt"
        if not split_file.is_file():
            raise DavisFormatError(f"{split_file}: Pascal VOC split file not found")
        names = [line.strip() for line in split_file.read_text().splitlines() if line.strip()]
        self.items: list[tuple[str, int]] = []
        for name in names:
            ids = self._annotation(name)
            area = ids.size
            for object_id in np.unique(ids):
                if object_id in (0, VOID_ID):
                    continue
                if (ids == object_id).sum() >= min_area * area:
                    self.items.append((name, int(object_id)))

    def _annotation(self, name: str) -> np.ndarray:
        return read_annotation(self.root / "SegmentationObject" / f"{name}.png")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        name, object_id = self.items[index]
        image = read_frame(self.root / "JPEGImages" / f"{name}.jpg")
        mask = self._annotation(name) == object_id
        _check_same_size(image, mask, self.root / "SegmentationObject" / f"{name}.png")
        return image, mask


class MSRA10K(StillImageSource):
    """MSRA10K salient objects: ``<root>/<name>.jpg`` with ``<root>/<name>.png`` (0/255)."""

    name = "msra10k"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DavisFormatError(f"{self.root}: MSRA10K folder not found")
        self.names = sorted(p.stem for p in self.root.glob("*.jpg"))
        if not self.names:
            raise DavisFormatError(f"{self.root}: no .jpg images (expected MSRA10K_Imgs_GT/Imgs)")
        for name in self.names:
            if not (self.root / f"{name}.png").is_file():
                raise DavisFormatError(f"{self.root / (name + '.png')}: mask of {name}.jpg missing")

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        name = self.names[index]
        image = read_frame(self.root / f"{name}.jpg")
        path = self.root / f"{name}.png"
        mask = read_annotation(path, require_palette=False) > 127
        _check_same_size(image, mask, path)
        return image, mask


class DavisStills(StillImageSource):
    """Every ``stride``-th annotated frame of a DAVIS-layout split, one item per visible object."""

    name = "davis-stills"

    def __init__(self, dataset: DavisDataset, stride: int = 4, min_pixels: int = 64):
        self.dataset = dataset
        self.items: list[tuple[str, int, int]] = []
        for sequence in dataset:
            for index in sequence.annotated_indices[::stride]:
                ids = sequence.annotation(index)
                for object_id in sequence.object_ids:
                    if (ids == object_id).sum() >= min_pixels:
                        self.items.append((sequence.name, index, object_id))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        name, frame, object_id = self.items[index]
        sequence = self.dataset[name]
        return sequence.frame(frame), sequence.annotation(frame) == object_id


class ConcatStills(StillImageSource):
    """Several sources one after another (e.g. Pascal VOC + MSRA10K, as in the paper)."""

    name = "concat"

    def __init__(self, sources: list[StillImageSource]):
        self.sources = [source for source in sources if len(source)]
        if not self.sources:
            raise ValueError("no still images: every source is empty")
        self.offsets = np.cumsum([0] + [len(source) for source in self.sources])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        which = int(np.searchsorted(self.offsets, index, side="right") - 1)
        return self.sources[which][index - int(self.offsets[which])]


def _check_same_size(image: np.ndarray, mask: np.ndarray, path: Path) -> None:
    if image.shape[:2] != mask.shape:
        raise DavisFormatError(
            f"{path}: mask size {mask.shape[1]}x{mask.shape[0]} differs from its image "
            f"{image.shape[1]}x{image.shape[0]}"
        )

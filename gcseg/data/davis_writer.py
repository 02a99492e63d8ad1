"""Writing a dataset in the DAVIS layout: the one writer of frames, annotations and index files.

The synthetic benchmark (:mod:`gcseg.data.synthetic_dataset`), the converters of real datasets
(:mod:`gcseg.data.davis2016`, :mod:`gcseg.data.youtube_objects`) and the test fixtures all
write through a :class:`DavisWriter`, which asks :class:`~gcseg.data.davis_layout.DavisLayout`
where each file goes.  Every file is written whole or not at all
(:func:`gcseg.files.atomic_write`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from gcseg.data.davis import write_annotation, write_frame
from gcseg.data.davis_layout import DEFAULT_RESOLUTION, DavisLayout, frame_name
from gcseg.files import atomic_write, write_text

__all__ = ["DavisWriter"]


class DavisWriter:
    """Writes the files of one DAVIS-layout dataset below ``root``.

    ``DavisWriter(root).video("bear", frames, masks)`` then ``.split("2017", "val", ["bear"])``
    gives a dataset :class:`~gcseg.data.davis.DavisDataset` opens.
    """

    def __init__(self, root: str | os.PathLike, resolution: str = DEFAULT_RESOLUTION) -> None:
        self.layout = DavisLayout(Path(root), resolution)

    @property
    def root(self) -> Path:
        return self.layout.root

    def frame(self, sequence: str, name: str, image_rgb: np.ndarray, quality: int = 90) -> Path:
        """Write an ``(H, W, 3)`` uint8 RGB frame as ``<name>.jpg`` of ``sequence``."""
        path = self.layout.frame_path(sequence, name)
        write_frame(path, image_rgb, quality=quality)
        return path

    def copy_frame(self, sequence: str, name: str, source: Path, link: bool = False) -> Path:
        """Place the JPEG file ``source`` as frame ``name`` byte for byte: copied, or
        hard-linked with ``link`` (falling back to a copy across file systems)."""
        path = self.layout.frame_path(sequence, name)
        if link:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, path)
                return path
            except OSError:
                pass  # another file system, or links not allowed: copy instead
        atomic_write(path, lambda tmp: shutil.copyfile(source, tmp))
        return path

    def annotation(self, sequence: str, name: str, mask: np.ndarray) -> Path:
        """Write ``(H, W)`` object ids as the palette PNG ``<name>.png`` of ``sequence``."""
        path = self.layout.annotation_path(sequence, name)
        write_annotation(path, mask)
        return path

    def video(
        self, sequence: str, frames: np.ndarray, masks: np.ndarray, quality: int = 90
    ) -> None:
        """Write a densely annotated video: ``frames (T, H, W, 3)`` and ``masks (T, H, W)`` as
        ``00000.jpg`` / ``00000.png``, ``00001...``."""
        for index, (frame, mask) in enumerate(zip(frames, masks, strict=True)):
            self.frame(sequence, frame_name(index), frame, quality=quality)
            self.annotation(sequence, frame_name(index), mask)

    def split(self, year: str, split: str, names: list[str]) -> Path:
        """Write ``ImageSets/<year>/<split>.txt``: one sequence name per line."""
        return write_text(self.layout.split_file(year, split),
                          "".join(f"{name}\n" for name in names))

    def attributes(self, codes: dict[str, str], sequences: dict[str, list[str]]) -> Path:
        """Write ``attributes.json``: what each challenge code means, and each sequence's codes."""
        return self.json(self.layout.attributes_file.name,
                         {"codes": codes, "sequences": sequences})

    def json(self, file_name: str, data: dict) -> Path:
        """Write ``<root>/<file_name>`` as JSON (one-space indent, keys in the order given)."""
        return write_text(self.root / file_name, json.dumps(data, indent=1) + "\n")

"""What the converters of downloaded datasets share: reading a binary mask, the report.

The paper evaluates on DAVIS-2016, DAVIS-2017 and YouTube-Objects (Section IV-A).  gcseg reads
one layout, the DAVIS one (:mod:`gcseg.data.davis_layout`); the two sources that come in
another form are converted by :mod:`gcseg.data.davis2016` and :mod:`gcseg.data.youtube_objects`
(a downloaded DAVIS folder is checked by :mod:`gcseg.data.davis_check`).  Their command line is
``python -m gcseg data ...`` (:mod:`gcseg.cli.data`).

Every converter writes into a staging folder beside the output folder and renames it into place
at the end (:func:`gcseg.files.staged_folder`): a failed or interrupted run leaves no half
dataset and never touches an existing output; an existing non-empty output is replaced only
with ``overwrite=True``, and the output may neither be, hold nor lie inside the source.  Every
error names the file and what is wrong with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gcseg.data.file_checks import open_image

__all__ = ["ConversionReport", "binary_mask", "decoded_size", "size_text"]


def binary_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a foreground mask stored as an image, as ``(H, W)`` bool.

    Palette ("P") images: every non-zero index is the object.  Anything else (grayscale,
    1-bit, RGB; JPEG masks with compression noise included) is converted to grayscale and
    thresholded at 128, so 0/255 masks map 255 to the object.
    """
    image = open_image(Path(path))  # names the file when missing or unreadable
    if image.mode == "P":
        return np.asarray(image) != 0
    return np.asarray(image.convert("L")) >= 128


def decoded_size(path: Path) -> tuple[int, int]:
    """``(H, W)`` of an image, decoded once so a truncated file is caught; errors name it."""
    width, height = open_image(path).size
    return height, width


def size_text(size: tuple[int, ...]) -> str:
    """``(H, W)`` as ``"WxH"``, the way image sizes are usually written."""
    return f"{size[1]}x{size[0]}"


@dataclass
class ConversionReport:
    """What a converter wrote: ``splits`` maps a split name to its sequences."""

    dataset: str
    out: Path
    splits: dict[str, list[str]]
    frames: int
    annotations: int
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few printable lines: what was written where, then the warnings."""
        parts = ", ".join(f"{split} {len(names)} sequences" for split, names in self.splits.items())
        lines = [f"{self.dataset} written to {self.out}: {parts}; {self.frames} frames, "
                 f"{self.annotations} annotations"]
        lines += [f"warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)

"""The DAVIS 2016/2017 folder layout: where each file of a dataset lies.

::

    <root>/JPEGImages/<res>/<seq>/00000.jpg      frames
    <root>/Annotations/<res>/<seq>/00000.png     palette PNGs: pixel value = object id
    <root>/ImageSets/2016/{train,val}.txt        one sequence name per line
    <root>/ImageSets/2017/{train,val}.txt
    <root>/attributes.json                       optional: per-sequence challenge codes

This is the one place the layout is spelled: the reader (:class:`gcseg.data.davis.DavisDataset`)
and the writer (:class:`gcseg.data.davis_writer.DavisWriter`, used by the synthetic benchmark,
the converters and the test fixtures) both ask a :class:`DavisLayout` for their paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_RESOLUTION", "DavisLayout", "frame_name"]

DEFAULT_RESOLUTION = "480p"
"""The resolution folder gcseg reads and writes unless told otherwise (DAVIS's 854x480)."""


def frame_name(index: int) -> str:
    """The DAVIS name of frame ``index``: ``0`` -> ``"00000"``."""
    return f"{index:05d}"


@dataclass(frozen=True)
class DavisLayout:
    """The paths of one DAVIS-layout dataset at one resolution."""

    root: Path
    resolution: str = DEFAULT_RESOLUTION

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))  # a str or PathLike root is welcome

    @property
    def image_dir(self) -> Path:
        """``<root>/JPEGImages/<res>``: one folder of frames per sequence."""
        return self.root / "JPEGImages" / self.resolution

    @property
    def annotation_dir(self) -> Path:
        """``<root>/Annotations/<res>``: one folder of annotations per sequence."""
        return self.root / "Annotations" / self.resolution

    def frame_path(self, sequence: str, name: str) -> Path:
        """``<root>/JPEGImages/<res>/<sequence>/<name>.jpg``."""
        return self.image_dir / sequence / f"{name}.jpg"

    def annotation_path(self, sequence: str, name: str) -> Path:
        """``<root>/Annotations/<res>/<sequence>/<name>.png``."""
        return self.annotation_dir / sequence / f"{name}.png"

    def split_file(self, year: str, split: str) -> Path:
        """``<root>/ImageSets/<year>/<split>.txt``."""
        return self.root / "ImageSets" / str(year) / f"{split}.txt"

    @property
    def attributes_file(self) -> Path:
        """``<root>/attributes.json``: ``{"codes": {...}, "sequences": {seq: [codes]}}``."""
        return self.root / "attributes.json"

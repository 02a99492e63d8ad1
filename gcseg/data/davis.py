"""Reading a DAVIS 2016/2017 dataset, and the DAVIS files themselves (frames, annotations).

The folder layout is spelled in :mod:`gcseg.data.davis_layout` (read here, written by
:mod:`gcseg.data.davis_writer`); which frames of a sequence carry an annotation, and the rules
they must follow, is :mod:`gcseg.data.annotation_rules`; the checks of a single input file
(a regular file, a decodable image) and :class:`DavisFormatError` are
:mod:`gcseg.data.file_checks`.

In DAVIS 2016 every annotated pixel belongs to one foreground object and 255 marks void
pixels; DAVIS 2017 annotates several objects with ids 1..K.  Reading a dataset as ``year="2016"``
merges all object ids into id 1 (255 stays void), so the same folder can be scored both ways.

Results are written the way the official DAVIS toolkit reads them: ``<results>/<seq>/<frame>.png``,
palette PNGs with the DAVIS palette.

Everything is lazy: a :class:`Sequence` holds paths and reads a frame or an annotation only when
asked, so a torch ``Dataset`` can wrap it without loading whole videos.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from gcseg.data.annotation_rules import AnnotationRules
from gcseg.data.davis_layout import DEFAULT_RESOLUTION, DavisLayout
from gcseg.data.file_checks import (
    DavisFormatError,
    check_regular_file,
    image_size,
    open_image,
    read_text,
)
from gcseg.files import atomic_write

__all__ = [
    "PALETTE",
    "VOID_ID",
    "DavisDataset",
    "Sequence",
    "read_frame",
    "write_frame",
    "read_annotation",
    "write_annotation",
    "write_sequence_results",
]

VOID_ID = 255
"""Annotation value of void (unlabelled) pixels in DAVIS 2016."""


def _davis_palette() -> np.ndarray:
    """The DAVIS (= PASCAL VOC) colour map: id ``i`` gets colour bits interleaved from ``i``."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        value, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        palette[index] = (r, g, b)
    return palette


PALETTE: np.ndarray = _davis_palette()
"""(256, 3) uint8: colour of each object id (0 black, 1 dark red, 2 dark green, ...)."""


# --------------------------------------------------------------------------- single files


def read_frame(path: str | os.PathLike) -> np.ndarray:
    """Read a video frame as an ``(H, W, 3)`` uint8 RGB array."""
    return np.asarray(open_image(Path(path)).convert("RGB"))


def _atomic_save(image: Image.Image, path: Path, **save_kwargs) -> None:
    """Save through a temporary file in the same folder, then rename: never a half file."""
    atomic_write(path, lambda tmp: image.save(tmp, **save_kwargs))


def write_frame(path: str | os.PathLike, image_rgb: np.ndarray, quality: int = 90) -> None:
    """Write an ``(H, W, 3)`` uint8 RGB frame as a JPEG (parent folders are created)."""
    image_rgb = np.asarray(image_rgb)
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ValueError(
            f"{path}: a frame must be (H, W, 3) uint8, got {image_rgb.shape} {image_rgb.dtype}"
        )
    _atomic_save(Image.fromarray(image_rgb), Path(path), format="JPEG", quality=quality)


def read_annotation(path: str | os.PathLike, *, require_palette: bool = True) -> np.ndarray:
    """Read an annotation or result PNG as ``(H, W)`` uint8 object ids.

    DAVIS annotations are palette ("P" mode) PNGs whose pixel values are the object ids.  With
    ``require_palette=False`` single-channel grayscale PNGs of ids are accepted too (some methods
    write their results that way; the official toolkit reads both).
    """
    path = Path(path)
    image = open_image(path)
    if image.mode == "P":
        return np.asarray(image, dtype=np.uint8)
    if not require_palette and image.mode == "L":
        return np.asarray(image, dtype=np.uint8)
    expected = "a palette ('P' mode) PNG" + ("" if require_palette else " or a grayscale PNG")
    raise DavisFormatError(
        f"{path}: annotation is a {image.mode!r}-mode image; expected {expected} whose pixel "
        "values are object ids"
    )


def write_annotation(path: str | os.PathLike, mask: np.ndarray) -> None:
    """Write ``(H, W)`` object ids as a palette PNG with the DAVIS palette (atomically)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"{path}: a mask must be (H, W), got shape {mask.shape}")
    if mask.size and (mask.min() < 0 or mask.max() > 255):
        raise ValueError(f"{path}: object ids must lie in 0..255")
    image = Image.fromarray(mask.astype(np.uint8), mode="P")
    image.putpalette(PALETTE.tobytes())
    _atomic_save(image, Path(path), format="PNG")


def write_sequence_results(
    results_dir: str | os.PathLike, sequence: str, masks, frame_names: list[str]
) -> Path:
    """Write one sequence's predicted id masks as ``<results_dir>/<sequence>/<frame>.png``.

    ``masks`` is an iterable of ``(H, W)`` id arrays (or a ``(T, H, W)`` array) aligned with
    ``frame_names``.  Returns the sequence folder.
    """
    folder = Path(results_dir) / sequence
    if not frame_names:
        raise ValueError(f"{folder}: no masks to write")
    for mask, name in zip(masks, frame_names, strict=True):
        write_annotation(folder / f"{name}.png", mask)
    return folder


# --------------------------------------------------------------------------- sequences


@dataclass
class Sequence:
    """One video of a DAVIS-layout dataset: paths, read lazily.

    ``annotation_paths`` lists the annotation files in frame order; each is named after its frame
    (``00010.png`` annotates ``00010.jpg``).  They cover every frame (DAVIS train and val), only
    the first (DAVIS test-dev), or a subset that includes the first (sparse ground truth, e.g.
    YouTube-Objects); :attr:`annotated_indices` says which frames, :attr:`fully_annotated`
    whether all of them, and :attr:`annotation_rule` by which rule :class:`DavisDataset`
    accepted them (see :mod:`gcseg.data.annotation_rules`).  :meth:`annotation` is indexed by
    *frame*, not by file.
    """

    name: str
    frame_paths: list[Path]
    annotation_paths: list[Path]
    year: str = "2017"
    annotation_rule: str = "every frame"
    """How the annotated frames were accepted: ``"every frame"``, ``"first frame only"``,
    ``"every 10th frame"`` (a regular pattern), ``"declared in <manifest path>"``."""
    _size: tuple[int, int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.frame_paths)

    @property
    def frame_names(self) -> list[str]:
        """Frame names without extension (``"00000"``, ...), used to name result files."""
        return [path.stem for path in self.frame_paths]

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of the frames."""
        if self._size is None:
            self._size = image_size(self.frame_paths[0])
        return self._size

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as ``(H, W, 3)`` uint8 RGB; checked against the sequence size."""
        image = read_frame(self.frame_paths[index])
        self._check_size(image.shape[:2], self.frame_paths[index])
        return image

    @cached_property
    def _annotation_by_frame(self) -> dict[int, Path]:
        """Frame index -> annotation file, matched by name (stem)."""
        index_of = {name: index for index, name in enumerate(self.frame_names)}
        by_frame = {}
        for path in self.annotation_paths:
            if path.stem not in index_of:
                raise DavisFormatError(
                    f"{path}: annotation of no frame (no {path.stem}{self.frame_paths[0].suffix} "
                    f"in {self.frame_paths[0].parent})"
                )
            by_frame[index_of[path.stem]] = path
        return by_frame

    @property
    def annotated_indices(self) -> list[int]:
        """Indices of the frames that have a ground-truth annotation, ascending (0 first)."""
        return sorted(self._annotation_by_frame)

    @property
    def fully_annotated(self) -> bool:
        """Whether every frame has an annotation (dense ground truth, as DAVIS train/val)."""
        return len(self._annotation_by_frame) == len(self)

    def annotation(self, index: int) -> np.ndarray:
        """Annotation of frame ``index`` as ``(H, W)`` uint8 ids (2016: objects merged into id 1).

        ``index`` counts frames (negative values from the end, as for a list).  Raises
        ``IndexError`` naming the frame when that frame has no annotation (test ``index in
        sequence.annotated_indices`` first) or when it is out of range.
        """
        if not -len(self) <= index < len(self):
            raise IndexError(f"{self.name}: frame {index} out of range ({len(self)} frames)")
        index %= len(self)
        path = self._annotation_by_frame.get(index)
        if path is None:
            raise IndexError(
                f"{self.name}: frame {index} ({self.frame_paths[index].name}) has no annotation; "
                f"annotated frames: {self.annotated_indices}"
            )
        mask = read_annotation(path)
        self._check_size(mask.shape, path)
        if self.year == "2016":
            mask = np.where((mask > 0) & (mask != VOID_ID), 1, mask).astype(np.uint8)
        return mask

    @property
    def first_mask(self) -> np.ndarray:
        """The first-frame annotation that semi-supervised VOS starts from."""
        return self.annotation(0)

    def later_annotations(self) -> dict[int, np.ndarray]:
        """``{frame index: annotation}`` of the frames after 0 where an object appears first.

        The semi-supervised protocol of DAVIS-2017 gives each object's mask in the first frame
        that shows it; objects absent from frame 0 start there. Reads every annotation once;
        ``{}`` when frame 0 shows every object (always for year 2016, whose objects are one)."""
        seen = set(self.object_ids)
        later = {}
        for index in self.annotated_indices[1:]:
            labels = self.annotation(index)
            ids = {int(i) for i in np.unique(labels)} - {0, VOID_ID}
            if ids - seen:
                later[index] = labels
                seen |= ids
        return later

    @cached_property
    def object_ids(self) -> list[int]:
        """Ids of the objects annotated in the first frame (void excluded)."""
        ids = np.unique(self.first_mask)
        return [int(i) for i in ids if i != 0 and i != VOID_ID]

    def _check_size(self, shape: tuple[int, ...], path: Path) -> None:
        if tuple(shape) != self.size:
            raise DavisFormatError(
                f"{path}: size {shape[1]}x{shape[0]} (WxH) differs from the sequence's frames "
                f"{self.size[1]}x{self.size[0]}"
            )

    def validate(self) -> None:
        """Read every file once and raise :class:`DavisFormatError` on the first problem."""
        for index in range(len(self)):
            self.frame(index)
        for index in self.annotated_indices:
            self.annotation(index)
        if not self.object_ids:
            raise DavisFormatError(
                f"{self.annotation_paths[0]}: the first-frame mask is empty; semi-supervised "
                "VOS needs at least one annotated object in frame 0"
            )


# --------------------------------------------------------------------------- datasets


class DavisDataset:
    """A DAVIS-layout dataset split: ``DavisDataset(root, year="2017", split="val")``.

    Opening checks the layout: folders, split file (UTF-8, one plain folder name per line), and
    for each listed sequence that it has frames, that every frame and annotation is a regular,
    non-empty file, that every annotation is named after one of its frames, that the first frame
    is annotated and that the annotated frames follow one of the rules of
    :mod:`gcseg.data.annotation_rules` (every frame, the first only, every N-th frame, or
    declared in a manifest): a missing annotation is named.  Pixel data are read lazily through
    :class:`Sequence`; call :meth:`validate` to read every file once.
    """

    YEARS = ("2016", "2017")

    def __init__(
        self,
        root: str | os.PathLike,
        year: str = "2017",
        split: str = "val",
        resolution: str = DEFAULT_RESOLUTION,
        sequences: list[str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.year = str(year)
        self.split = split
        self.resolution = resolution
        if self.year not in self.YEARS:
            raise ValueError(f"year must be one of {self.YEARS}, got {year!r}")
        if not self.root.is_dir():
            raise DavisFormatError(f"{self.root}: dataset folder not found")
        self.layout = DavisLayout(self.root, resolution)
        self.image_dir = self.layout.image_dir
        self.annotation_dir = self.layout.annotation_dir
        for folder in (self.image_dir, self.annotation_dir):
            if not folder.is_dir():
                raise DavisFormatError(f"{folder}: folder not found (not a DAVIS layout?)")
        self.split_file = self.layout.split_file(self.year, split)
        if sequences is None:
            names = self._read_split()
        else:
            names = [self._check_name(name, "asked for") for name in sequences]
        self._rules = AnnotationRules.read(self.root)
        self._sequences = {name: self._open_sequence(name) for name in names}

    def _check_name(self, name: str, where: str) -> str:
        """A sequence name must be one plain folder name (no path: results are written there)."""
        if name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
            raise DavisFormatError(
                f"{where}: sequence name {name!r} is not a plain folder name"
            )
        return name

    def _read_split(self) -> list[str]:
        if not self.split_file.exists():
            raise DavisFormatError(f"{self.split_file}: split file not found")
        text = read_text(self.split_file, "a split file lists one sequence name per line")
        names = [line.strip() for line in text.splitlines()]
        names = [self._check_name(name, str(self.split_file)) for name in names if name]
        if not names:
            raise DavisFormatError(f"{self.split_file}: split file lists no sequences")
        return names

    def _listing(self, folder: Path, suffix: str) -> list[Path]:
        """The ``*<suffix>`` files of ``folder``, sorted; anything not a regular file is named."""
        paths = sorted(folder.glob(f"*{suffix}"))
        for path in paths:
            check_regular_file(path)
        return paths

    def _open_sequence(self, name: str) -> Sequence:
        frame_dir, annotation_dir = self.image_dir / name, self.annotation_dir / name
        for folder in (frame_dir, annotation_dir):
            if not folder.is_dir():
                raise DavisFormatError(
                    f"{folder}: folder of sequence {name!r} not found "
                    f"(listed in {self.split_file})"
                )
        frames = self._listing(frame_dir, ".jpg")
        annotations = self._listing(annotation_dir, ".png")
        if not frames:
            raise DavisFormatError(f"{frame_dir}: no .jpg frames")
        if not annotations:
            raise DavisFormatError(f"{annotation_dir}: no .png annotations")
        frame_names = {frame.stem for frame in frames}
        for annotation in annotations:
            if annotation.stem not in frame_names:
                raise DavisFormatError(
                    f"{annotation}: annotation name does not match any frame in {frame_dir} "
                    f"(expected {annotation.stem}.jpg; {len(annotations)} annotations for "
                    f"{len(frames)} frames)"
                )
        if annotations[0].stem != frames[0].stem:
            raise DavisFormatError(
                f"{annotations[0]}: first annotation does not match the first frame "
                f"{frames[0].name} (semi-supervised VOS needs the first frame's mask)"
            )
        rule = self._rules.rule(name, frames, annotations)
        return Sequence(name, frames, annotations, year=self.year, annotation_rule=rule)

    @property
    def sequences(self) -> list[str]:
        """Sequence names in split-file order."""
        return list(self._sequences)

    def __len__(self) -> int:
        return len(self._sequences)

    def __getitem__(self, key: str | int) -> Sequence:
        if isinstance(key, int):
            key = self.sequences[key]
        try:
            return self._sequences[key]
        except KeyError:
            raise KeyError(f"{key!r} is not in {self.split_file}") from None

    def __iter__(self):
        return iter(self._sequences.values())

    @cached_property
    def _attribute_table(self) -> dict:
        """``<root>/attributes.json`` parsed ({} when absent); a named error when malformed."""
        path = self.layout.attributes_file
        if not path.exists():
            return {}
        expected = "expected {'codes': {...}, 'sequences': {seq: [codes]}}"
        text = read_text(path, expected)
        try:
            table = json.loads(text)
            per_sequence = {str(k): [str(c) for c in v] for k, v in table["sequences"].items()}
            codes = {str(k): str(v) for k, v in dict(table.get("codes", {})).items()}
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as error:
            raise DavisFormatError(f"{path}: {expected} ({error})") from error
        return {"sequences": per_sequence, "codes": codes}

    @property
    def attributes(self) -> dict[str, list[str]]:
        """Challenge codes per sequence from ``<root>/attributes.json`` ({} when absent)."""
        if not self._attribute_table:
            return {}
        per_sequence = self._attribute_table["sequences"]
        return {name: list(per_sequence.get(name, [])) for name in self.sequences}

    @property
    def attribute_codes(self) -> dict[str, str]:
        """Code → description from ``attributes.json`` ({} when absent)."""
        return dict(self._attribute_table.get("codes", {}))

    def annotation_rules(self) -> dict[str, list[str]]:
        """``{rule: [sequence, ...]}``: by which rule each sequence's annotations were accepted
        (:attr:`Sequence.annotation_rule`), rules in order of first appearance."""
        rules: dict[str, list[str]] = {}
        for sequence in self:
            rules.setdefault(sequence.annotation_rule, []).append(sequence.name)
        return rules

    def validate(self) -> None:
        """Read every frame and annotation once; raise on the first problem found."""
        for sequence in self:
            sequence.validate()

    def __repr__(self) -> str:
        return (
            f"DavisDataset(root={str(self.root)!r}, year={self.year!r}, split={self.split!r}, "
            f"resolution={self.resolution!r}, sequences={len(self)})"
        )

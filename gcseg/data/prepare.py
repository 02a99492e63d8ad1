"""Preparing the real datasets of the paper's experiments (Section IV-A) for gcseg.

The paper evaluates on DAVIS-2016, DAVIS-2017 and YouTube-Objects.  gcseg reads one layout, the
DAVIS one (:mod:`gcseg.data.davis`, SPEC §10); this module checks a downloaded DAVIS folder and
converts the two sources that come in another form.  The scripts in ``data_prep/`` are thin
command lines over the functions here:

- :func:`check_davis` (``data_prep/check_davis.py``): read a DAVIS 2016/2017 folder with the
  package's own reader (layout, split files, one annotation per frame, palette PNGs, frame size
  = annotation size: :meth:`DavisDataset.validate`), summarise every split (sequences, frames,
  objects, frame sizes) and compare with the official counts (:data:`KNOWN_COUNTS`).  Differences
  are warnings; a format error stops with the file named.
- :func:`convert_davis2016` (``data_prep/convert_davis2016.py``): the original DAVIS-2016
  release stores grayscale 0/255 masks (255 = the object) and split files
  ``ImageSets/480p/{train,val}.txt`` of frame/annotation path pairs.  The reader wants palette
  PNGs, where 255 means *void*; the converter writes object id 1 instead, and
  ``ImageSets/2016/{train,val}.txt``.
- :func:`convert_youtube_objects` (``data_prep/convert_youtube_objects.py``): the YouTube-Objects
  segmentation ground truth of Jain & Grauman (ECCV 2014; 10 classes, 126 shots, a mask about
  every 10th frame) into the DAVIS layout, frames renumbered, annotations for the annotated frames
  only (see that function for the layouts read and for what the evaluator needs).

Every converter writes into a temporary sibling of the output folder and renames it into place
at the end: a failed or interrupted run leaves no half dataset and never touches an existing
output; an existing non-empty output is replaced only with ``overwrite=True``.  Every error names
the file and what is wrong with it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from gcseg.data.davis import (
    DavisDataset,
    DavisFormatError,
    _open_image,
    write_annotation,
    write_frame,
)
from gcseg.runtime import staged_folder

__all__ = [
    "KNOWN_COUNTS",
    "KNOWN_TOTAL_FRAMES",
    "YOUTUBE_OBJECTS_CLASSES",
    "YOUTUBE_OBJECTS_SHOTS",
    "ConversionReport",
    "DavisCheck",
    "SplitSummary",
    "binary_mask",
    "check_davis",
    "convert_davis2016",
    "convert_youtube_objects",
    "read_davis2016_split",
    "PARSERS",
    "check_davis_main",
    "convert_davis2016_main",
    "convert_youtube_objects_main",
]

KNOWN_COUNTS: dict[tuple[str, str], dict[str, int]] = {
    ("2016", "train"): {"sequences": 30},
    ("2016", "val"): {"sequences": 20},
    ("2017", "train"): {"sequences": 60},
    ("2017", "val"): {"sequences": 30, "frames": 1999, "objects": 61},
}
"""Official counts per ``(year, split)`` that :func:`check_davis` compares with.

Sequences: the paper (IV-A) and the DAVIS papers.  DAVIS-2017 val: 1999 frames and 61 objects
(the per-object list of the DAVIS website).  Only counts we are sure of are listed; frame counts
are the same at every resolution."""

KNOWN_TOTAL_FRAMES = {"2016": 3455}
"""Frames of train + val together: DAVIS-2016 has 50 sequences and 3455 annotated frames."""

YOUTUBE_OBJECTS_CLASSES = (
    "aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train",
)
"""The 10 classes of YouTube-Objects (one folder each in the segmentation ground truth)."""

YOUTUBE_OBJECTS_SHOTS = 126
"""Shots with segmentation ground truth in Jain & Grauman's release."""


# --------------------------------------------------------------------------- shared helpers


def binary_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a foreground mask stored as an image, as ``(H, W)`` bool.

    Palette ("P") images: every non-zero index is the object.  Anything else (grayscale,
    1-bit, RGB; JPEG masks with compression noise included) is converted to grayscale and
    thresholded at 128, so 0/255 masks map 255 to the object.
    """
    path = Path(path)
    image = _open_image(path)  # names the file when missing or unreadable
    if image.mode == "P":
        return np.asarray(image) != 0
    return np.asarray(image.convert("L")) >= 128


def _image_size(path: Path) -> tuple[int, int]:
    """``(H, W)`` of an image, decoded once so a truncated file is caught; errors name it."""
    width, height = _open_image(path).size
    return height, width


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[1]}x{size[0]}"


def _place_frame(source: Path, target: Path, link: bool) -> None:
    """Copy (or hard-link, falling back to a copy) a JPEG frame."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(source, target)
            return
        except OSError:
            pass  # another file system, or links not allowed: copy instead
    shutil.copyfile(source, target)


def _check_apart(src: Path, out: Path) -> None:
    """The output may neither be the source, nor lie inside it, nor contain it."""
    s, o = src.resolve(), out.resolve()
    if s == o or s in o.parents or o in s.parents:
        raise ValueError(f"{out}: the output folder must lie outside the source {src} "
                         "and must not contain it")


def _check_output(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out}: folder exists and is not empty (pass --overwrite / "
                              "overwrite=True to replace it)")


def _write_lines(path: Path, names: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\n" for name in names))


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")


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


# --------------------------------------------------------------------------- checking DAVIS


@dataclass
class SplitSummary:
    """Counts of one split: ``sizes`` maps a frame size ``"WxH"`` to its number of sequences."""

    year: str
    split: str
    sequences: int
    frames: int
    objects: int
    sizes: dict[str, int]
    names: list[str] = field(repr=False, default_factory=list)


@dataclass
class DavisCheck:
    """The result of :func:`check_davis`: one summary per split checked, and the warnings."""

    root: Path
    resolution: str
    read_files: bool
    splits: list[SplitSummary]
    warnings: list[str]

    def table(self) -> str:
        """A printable per-split table, then the warnings (or that there are none)."""
        header = ("year", "split", "sequences", "frames", "objects", "frame sizes (WxH: sequences)")
        rows = [header] + [
            (s.year, s.split, str(s.sequences), str(s.frames), str(s.objects),
             ", ".join(f"{size}: {n}" for size, n in sorted(s.sizes.items())))
            for s in self.splits
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)),
                            row[-1]]).rstrip() for row in rows]
        how = "every frame and annotation read" if self.read_files else "layout only"
        lines.insert(0, f"{self.root} ({self.resolution}, {how})")
        lines += [f"warning: {warning}" for warning in self.warnings]
        if not self.warnings:
            lines.append("counts agree with the official release")
        return "\n".join(lines)


def _original_2016_hint(root: Path, resolution: str) -> str:
    return (f" (this looks like the original DAVIS-2016 release; convert it first: "
            f"python data_prep/convert_davis2016.py --src {root} --out DIR "
            f"--resolution {resolution})")


def _check_every_frame_annotated(dataset: DavisDataset) -> None:
    """DAVIS annotates every frame of train and val: name the first missing annotation.

    The reader also opens sparse ground truth (converted YouTube-Objects) and first-frame-only
    sequences (test-dev); in a DAVIS train/val download a partly annotated sequence means
    missing files.  First-frame-only sequences pass, as the reader has always allowed them.
    """
    for sequence in dataset:
        annotated = sequence.annotated_indices
        if 1 < len(annotated) < len(sequence):
            missing = min(set(range(len(sequence))) - set(annotated))
            folder = sequence.annotation_paths[0].parent
            raise DavisFormatError(
                f"{folder / (sequence.frame_names[missing] + '.png')}: annotation of frame "
                f"{sequence.frame_paths[missing]} not found ({len(annotated)} annotations for "
                f"{len(sequence)} frames; DAVIS annotates every frame of train and val; "
                "sparse ground truth such as converted YouTube-Objects is checked with "
                "python -m gcseg validate)")


def _check_first_annotation_mode(dataset: DavisDataset) -> None:
    """Name the original DAVIS-2016 grayscale masks before the reader's generic message."""
    path = dataset[0].annotation_paths[0]
    mode = _open_image(path).mode  # names the file when unreadable
    if mode in ("L", "1"):
        raise DavisFormatError(
            f"{path}: annotation is a {mode!r}-mode (grayscale) image; the DAVIS layout wants "
            f"palette PNGs of object ids" + _original_2016_hint(dataset.root, dataset.resolution)
        )


def check_davis(
    root: str | os.PathLike,
    years: Sequence[str] | None = None,
    splits: Sequence[str] | None = None,
    resolution: str = "480p",
    read_files: bool = True,
    progress: bool = True,
) -> DavisCheck:
    """Check a DAVIS 2016/2017 folder and compare its splits with the official counts.

    Args:
        root: the dataset root (``JPEGImages/``, ``Annotations/``, ``ImageSets/``).
        years, splits: what to check.  ``None`` checks every ``ImageSets/<year>/<split>.txt``
            present for years 2016, 2017 and splits train, val; named ones must exist.
        resolution: the resolution folder (``480p``).
        read_files: read every frame and annotation once (:meth:`DavisDataset.validate`:
            readable, palette PNGs, sizes equal); ``False`` checks the layout only.
        progress: tqdm bars over the sequences.

    Returns:
        A :class:`DavisCheck`; ``.table()`` prints it.  Warnings (not errors): counts that
        differ from :data:`KNOWN_COUNTS`, a sequence in both train and val, a DAVIS-2016 split
        that is not contained in the DAVIS-2017 split of the same name.

    Raises:
        DavisFormatError: naming the file or folder, on the first format problem.
    """
    root = Path(root)
    if not root.is_dir():
        raise DavisFormatError(f"{root}: dataset folder not found")
    explicit_years, explicit_splits = years is not None, splits is not None
    years = [str(year) for year in (years or DavisDataset.YEARS)]
    splits = list(splits or ("train", "val"))
    wanted: list[tuple[str, str]] = []
    warnings: list[str] = []
    for year in years:
        files = {split: root / "ImageSets" / year / f"{split}.txt" for split in splits}
        present = [split for split, path in files.items() if path.is_file()]
        if explicit_years or (explicit_splits and present):
            present = splits  # named: DavisDataset reports a missing split file
        elif present and len(present) < len(splits):
            warnings += [f"{path}: split file not found, split not checked"
                         for split, path in files.items() if split not in present]
        wanted += [(year, split) for split in present]
    if not wanted:
        message = f"{root / 'ImageSets'}: no split file ImageSets/{{2016,2017}}/{{train,val}}.txt"
        if (root / "ImageSets" / resolution / "train.txt").is_file():
            message += _original_2016_hint(root, resolution)
        raise DavisFormatError(message)

    summaries = []
    for year, split in wanted:
        dataset = DavisDataset(root, year=year, split=split, resolution=resolution)
        _check_first_annotation_mode(dataset)
        _check_every_frame_annotated(dataset)
        frames, objects, sizes = 0, 0, {}
        for sequence in tqdm(list(dataset), desc=f"DAVIS-{year} {split}", unit="sequence",
                             disable=not progress):
            if read_files:
                sequence.validate()
            frames += len(sequence)
            objects += len(sequence.object_ids)
            size = _size_text(sequence.size)
            sizes[size] = sizes.get(size, 0) + 1
        summaries.append(SplitSummary(year, split, len(dataset), frames, objects, sizes,
                                      dataset.sequences))
    warnings += _compare_with_official(summaries)
    return DavisCheck(root, resolution, read_files, summaries, warnings)


def _compare_with_official(summaries: list[SplitSummary]) -> list[str]:
    warnings = []
    by_key = {(s.year, s.split): s for s in summaries}
    for (year, split), summary in by_key.items():
        for what, expected in KNOWN_COUNTS.get((year, split), {}).items():
            found = getattr(summary, what)
            if found != expected:
                warnings.append(f"DAVIS-{year} {split}: {found} {what}, the official release "
                                f"has {expected}")
    for year, total in KNOWN_TOTAL_FRAMES.items():
        if (year, "train") in by_key and (year, "val") in by_key:
            found = by_key[year, "train"].frames + by_key[year, "val"].frames
            if found != total:
                warnings.append(f"DAVIS-{year} train + val: {found} frames, the official "
                                f"release has {total}")
    for year in DavisDataset.YEARS:
        if (year, "train") in by_key and (year, "val") in by_key:
            both = set(by_key[year, "train"].names) & set(by_key[year, "val"].names)
            if both:
                warnings.append(f"DAVIS-{year}: {len(both)} sequences in both train and val "
                                f"({', '.join(sorted(both)[:5])})")
    for split in ("train", "val"):
        if ("2016", split) in by_key and ("2017", split) in by_key:
            outside = set(by_key["2016", split].names) - set(by_key["2017", split].names)
            if outside:
                warnings.append(f"DAVIS-2016 {split}: {len(outside)} sequences are not in "
                                f"DAVIS-2017 {split} ({', '.join(sorted(outside)[:5])}); in the "
                                "official release every 2016 sequence is in the 2017 split of "
                                "the same name")
    return warnings


# --------------------------------------------------------------------------- DAVIS-2016


def read_davis2016_split(path: str | os.PathLike) -> list[str]:
    """Sequence names of a DAVIS-2016 split file, in order of first appearance.

    Two forms are read: the original release's lines of path pairs
    (``/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png``: the name is the
    frame's folder) and plain lists of sequence names (``bear``), one per line.
    """
    path = Path(path)
    names: dict[str, None] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        first = tokens[0]
        name = PurePosixPath(first).parent.name if "/" in first else first
        if not name:
            raise DavisFormatError(f"{path}, line {number}: no sequence name in {line!r}")
        names[name] = None
    if not names:
        raise DavisFormatError(f"{path}: split file lists no sequences")
    return list(names)


def _find_split_file(src: Path, resolution: str, split: str) -> Path:
    candidates = [src / "ImageSets" / resolution / f"{split}.txt",
                  src / "ImageSets" / "2016" / f"{split}.txt",
                  src / "ImageSets" / f"{split}.txt"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DavisFormatError(f"{candidates[0]}: split file not found (nor "
                           f"{', '.join(str(c) for c in candidates[1:])})")


def _convert_2016_sequence(
    src: Path, out: Path, resolution: str, name: str, link: bool, listed_in: Path
) -> tuple[int, int]:
    """Convert one sequence; returns ``(frames, annotations)`` written."""
    frame_dir = src / "JPEGImages" / resolution / name
    mask_dir = src / "Annotations" / resolution / name
    for folder in (frame_dir, mask_dir):
        if not folder.is_dir():
            raise DavisFormatError(f"{folder}: folder of sequence {name!r} not found "
                                   f"(listed in {listed_in})")
    frames = {path.stem: path for path in sorted(frame_dir.glob("*.jpg"))}
    masks = {path.stem: path for path in sorted(mask_dir.glob("*.png"))}
    if not frames:
        raise DavisFormatError(f"{frame_dir}: no .jpg frames")
    for stem in frames:
        if stem not in masks:
            raise DavisFormatError(f"{mask_dir / (stem + '.png')}: annotation of frame "
                                   f"{frames[stem]} not found (DAVIS-2016 annotates every frame)")
    for stem, path in masks.items():
        if stem not in frames:
            raise DavisFormatError(f"{path}: annotation without a frame {stem}.jpg in {frame_dir}")
    for index, (stem, frame_path) in enumerate(frames.items()):
        mask = binary_mask(masks[stem])  # (H, W) bool
        frame_size = _image_size(frame_path)
        if mask.shape != frame_size:
            raise DavisFormatError(f"{masks[stem]}: size {_size_text(mask.shape)} (WxH) differs "
                                   f"from its frame {frame_path} ({_size_text(frame_size)})")
        if index == 0 and not mask.any():
            raise DavisFormatError(f"{masks[stem]}: the first-frame mask is empty; "
                                   "semi-supervised VOS needs the object in frame 0")
        write_annotation(out / "Annotations" / resolution / name / f"{stem}.png",
                         mask.astype(np.uint8))  # object id 1
        _place_frame(frame_path, out / "JPEGImages" / resolution / name / f"{stem}.jpg", link)
    return len(frames), len(masks)


def convert_davis2016(
    src: str | os.PathLike,
    out: str | os.PathLike,
    resolution: str = "480p",
    splits: Sequence[str] = ("train", "val"),
    overwrite: bool = False,
    link: bool = False,
    progress: bool = True,
) -> ConversionReport:
    """Convert the original DAVIS-2016 release into the layout :class:`DavisDataset` reads.

    Reads ``<src>/JPEGImages/<res>/<seq>/*.jpg``, ``<src>/Annotations/<res>/<seq>/*.png``
    (grayscale masks, 255 = the object; any image mode is accepted, see :func:`binary_mask`)
    and, per split, the first of ``ImageSets/<res>/<split>.txt`` (the release's path pairs),
    ``ImageSets/2016/<split>.txt`` or ``ImageSets/<split>.txt`` (path pairs or plain names,
    :func:`read_davis2016_split`).

    Writes ``<out>/JPEGImages/<res>/<seq>/`` (the JPEGs copied byte for byte, or hard-linked
    with ``link=True``), ``<out>/Annotations/<res>/<seq>/`` (palette PNGs with the DAVIS
    palette, object id 1, background 0) and ``<out>/ImageSets/2016/<split>.txt`` (sequence
    names), plus ``prepared.json`` (source and counts).  Only the sequences of the splits are
    converted.  Frame and annotation names are kept.

    Raises:
        FileExistsError: ``out`` is not empty and ``overwrite`` is false (checked first).
        DavisFormatError: naming the file: a missing folder, frame or annotation, an unreadable
            image, a mask whose size differs from its frame, an empty first-frame mask.
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise DavisFormatError(f"{src}: DAVIS-2016 folder not found")
    for folder in (src / "JPEGImages" / resolution, src / "Annotations" / resolution):
        if not folder.is_dir():
            raise DavisFormatError(f"{folder}: folder not found (not a DAVIS-2016 release?)")
    _check_apart(src, out)
    _check_output(out, overwrite)
    split_files = {split: _find_split_file(src, resolution, split) for split in splits}
    split_names = {split: read_davis2016_split(path) for split, path in split_files.items()}
    sequences = list(dict.fromkeys(name for names in split_names.values() for name in names))

    frames = annotations = 0
    with staged_folder(out) as staging:
        for name in tqdm(sequences, desc="DAVIS-2016", unit="sequence", disable=not progress):
            listed_in = next(split_files[s] for s, names in split_names.items() if name in names)
            n_frames, n_masks = _convert_2016_sequence(src, staging, resolution, name, link,
                                                       listed_in)
            frames, annotations = frames + n_frames, annotations + n_masks
        for split, names in split_names.items():
            _write_lines(staging / "ImageSets" / "2016" / f"{split}.txt", names)
            DavisDataset(staging, year="2016", split=split, resolution=resolution)  # layout
        _write_json(staging / "prepared.json", {
            "dataset": "DAVIS-2016",
            "converter": "gcseg.data.prepare.convert_davis2016",
            "source": str(src.resolve()),
            "split_files": {split: str(path) for split, path in split_files.items()},
            "resolution": resolution,
            "splits": split_names,
            "frames": frames,
        })
    warnings = [f"DAVIS-2016 {split}: {len(names)} sequences, the official release has "
                f"{KNOWN_COUNTS['2016', split]['sequences']}"
                for split, names in split_names.items()
                if ("2016", split) in KNOWN_COUNTS
                and len(names) != KNOWN_COUNTS["2016", split]["sequences"]]
    return ConversionReport("DAVIS-2016", out, split_names, frames, annotations, warnings)


# --------------------------------------------------------------------------- YouTube-Objects

_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
_LABEL_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def _frame_number(path: Path) -> int:
    """The last run of digits in the file name: ``frame0012.jpg`` and ``00012.jpg`` give 12."""
    digits = re.findall(r"\d+", path.stem)
    if not digits:
        raise DavisFormatError(f"{path}: no frame number in the file name")
    return int(digits[-1])


def _numbered(files: list[Path]) -> dict[int, Path]:
    numbered: dict[int, Path] = {}
    for path in sorted(files):
        number = _frame_number(path)
        if number in numbered:
            raise DavisFormatError(f"{path}: frame number {number} is also the number of "
                                   f"{numbered[number]}")
        numbered[number] = path
    return dict(sorted(numbered.items()))


@dataclass
class _Shot:
    """One annotated YouTube-Objects shot as found in the source folder."""

    name: str
    category: str
    folder: Path
    frames: dict[int, Path]  # frame number -> frame file
    labels: dict[int, Path]  # frame number -> mask file (annotated frames only)


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes]


def _shot_name(src: Path, folder: Path) -> tuple[str, str]:
    parts = folder.relative_to(src).parts or (folder.name,)
    kept = [part for part in parts if part not in ("data", "shots")] or list(parts)
    return "-".join(kept), parts[0]


def _find_shots(src: Path) -> list[_Shot]:
    """The annotated shots under ``src`` (see :func:`convert_youtube_objects`), sorted."""
    shots: list[_Shot] = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        folder = Path(dirpath)
        if (folder / "images").is_dir() and (folder / "labels").is_dir():
            frames = _numbered(_files(folder / "images", _FRAME_SUFFIXES))
            labels = _numbered(_files(folder / "labels", _LABEL_SUFFIXES))
            dirnames[:] = []  # nothing below a shot
        elif folder != src and any(n.lower().endswith(".png") for n in filenames) and any(
            n.lower().endswith((".jpg", ".jpeg")) for n in filenames
        ):
            frames = _numbered(_files(folder, (".jpg", ".jpeg")))
            labels = _numbered(_files(folder, (".png",)))
        else:
            continue
        name, category = _shot_name(src, folder)
        if not labels:
            raise DavisFormatError(f"{folder}: shot folder without masks")
        shots.append(_Shot(name, category, folder, frames, labels))
    names: dict[str, Path] = {}
    for shot in shots:
        if shot.name in names:
            raise DavisFormatError(f"{shot.folder}: gives the sequence name {shot.name!r}, "
                                   f"as {names[shot.name]} does")
        names[shot.name] = shot.folder
    return shots


def _write_youtube_frame(
    source: Path, target: Path, size: tuple[int, int], resize: bool, link: bool, mask_path: Path
) -> None:
    """Copy a frame, or decode/resize/re-encode it when it is not a JPEG of ``size``."""
    frame_size = _image_size(source)
    if frame_size != size and not resize:
        raise DavisFormatError(
            f"{source}: frame size {_size_text(frame_size)} (WxH) differs from the shot's "
            f"masks ({_size_text(size)}, e.g. {mask_path}); pass --resize-frames / "
            "resize_frames=True to resize the frames to the masks")
    if frame_size == size and source.suffix.lower() in (".jpg", ".jpeg"):
        _place_frame(source, target, link)
        return
    image = _open_image(source).convert("RGB")
    if frame_size != size:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    write_frame(target, np.asarray(image))


def _convert_shot(
    shot: _Shot, out: Path, resolution: str, min_annotations: int, resize: bool, link: bool
) -> tuple[dict | None, list[str]]:
    """Write one shot; returns its manifest entry (``None`` when skipped) and warnings."""
    warnings: list[str] = []
    masks = {number: binary_mask(path) for number, path in shot.labels.items()}
    first = next((number for number, mask in masks.items() if mask.any()), None)
    if first is None:
        return None, [f"{shot.folder}: skipped, every mask is empty"]
    if first != next(iter(masks)):
        dropped = [number for number in masks if number < first]
        warnings.append(f"{shot.folder}: starts at frame {first}, the first non-empty mask "
                        f"({len(dropped)} earlier annotated frames with empty masks dropped)")
        masks = {number: mask for number, mask in masks.items() if number >= first}
    if len(masks) < min_annotations:
        return None, warnings + [f"{shot.folder}: skipped, {len(masks)} annotated frame(s) "
                                 f"(at least {min_annotations} needed to score a shot)"]
    size = next(iter(masks.values())).shape  # (H, W) of the masks
    for number, mask in masks.items():
        if mask.shape != size:
            raise DavisFormatError(f"{shot.labels[number]}: mask size {_size_text(mask.shape)} "
                                   f"differs from {_size_text(size)} of {shot.labels[first]}")
        if number not in shot.frames:
            raise DavisFormatError(f"{shot.labels[number]}: no frame numbered {number} in "
                                   f"{shot.folder}")
    last = max(masks)
    numbers = [number for number in shot.frames if first <= number <= last]
    frame_dir = out / "JPEGImages" / resolution / shot.name
    mask_dir = out / "Annotations" / resolution / shot.name
    annotated = []
    for index, number in enumerate(numbers):
        name = f"{index:05d}"
        _write_youtube_frame(shot.frames[number], frame_dir / f"{name}.jpg", size, resize, link,
                             shot.labels[first])
        if number in masks:
            write_annotation(mask_dir / f"{name}.png", masks[number].astype(np.uint8))
            annotated.append(name)
    entry = {
        "class": shot.category,
        "source": str(shot.folder),
        "frames": len(numbers),
        "annotated": annotated,
        "source_frames": [shot.frames[number].name for number in numbers],
    }
    return entry, warnings


def convert_youtube_objects(
    src: str | os.PathLike,
    out: str | os.PathLike,
    resolution: str = "480p",
    min_annotations: int = 2,
    resize_frames: bool = False,
    overwrite: bool = False,
    link: bool = False,
    progress: bool = True,
) -> ConversionReport:
    """Convert the YouTube-Objects segmentation ground truth into the DAVIS layout.

    Source layouts (found anywhere below ``src``, the folder holding the class folders):

    - the release of Jain & Grauman (``youtube_masks``):
      ``<class>/data/<video>/shots/<shot>/images/`` (frames, ``.jpg``) beside
      ``.../labels/`` (masks of the annotated frames, ``.jpg`` or ``.png``);
    - re-packaged copies with one folder per shot holding its ``.jpg`` frames and the ``.png``
      masks of the annotated frames side by side (``<class>/<shot>/``).

    A mask belongs to the frame with the same frame number, the last run of digits in the file
    name (``frame0011.jpg`` ~ ``00011.jpg``).  Masks are binarised by :func:`binary_mask` (the
    release's JPEG masks carry compression noise: threshold 128).

    Each shot becomes sequence ``<class>-<video>-<shot>`` (the folder path without ``data`` and
    ``shots``).  It runs from the first annotated frame whose mask is not empty to the last
    annotated frame; its frames are renumbered ``00000.jpg, 00001.jpg, ...`` (frame files
    copied, or hard-linked with ``link=True``), and ``Annotations/<res>/<seq>/<name>.png``
    (palette PNG, object id 1) is written for the annotated frames only.  Shots with fewer than
    ``min_annotations`` annotated frames are skipped with a warning (in the release two shots
    have a single mask).  Frames whose size differs from the masks are an error, unless
    ``resize_frames`` resizes them (bilinear) to the masks' size.

    Also written: ``ImageSets/2016/val.txt`` and ``ImageSets/2017/val.txt`` (every sequence:
    YouTube-Objects has no training split and the paper only evaluates on it),
    ``attributes.json`` (the class of each sequence as its attribute code, so the evaluator's
    per-attribute table is a per-class table) and ``youtube_objects.json`` (per sequence: class,
    source folder, frame count, the names of the annotated frames, the source frame files).

    Reading it back: :class:`DavisDataset` opens the output as it is (sparse annotations:
    :attr:`Sequence.annotated_indices`), and :func:`gcseg.evaluation.evaluate` scores every
    annotated frame but the first (see ``docs/reproduce_davis.md``).

    Raises:
        FileExistsError: ``out`` is not empty and ``overwrite`` is false (checked first).
        DavisFormatError: naming the file: no shot found, a mask without its frame, a frame
            without a number, two files with one number, a size mismatch, an unreadable image.
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise DavisFormatError(f"{src}: YouTube-Objects folder not found")
    if min_annotations < 1:
        raise ValueError(f"min_annotations must be >= 1, got {min_annotations}")
    _check_apart(src, out)
    _check_output(out, overwrite)
    shots = _find_shots(src)
    if not shots:
        raise DavisFormatError(f"{src}: no YouTube-Objects shot found (expected folders "
                               "<class>/data/<video>/shots/<shot>/ with images/ and labels/, "
                               "or shot folders with .jpg frames and .png masks)")
    warnings: list[str] = []
    skipped: list[str] = []
    manifest: dict[str, dict] = {}
    frames = annotations = 0
    with staged_folder(out) as staging:
        for shot in tqdm(shots, desc="YouTube-Objects", unit="shot", disable=not progress):
            entry, shot_warnings = _convert_shot(shot, staging, resolution, min_annotations,
                                                 resize_frames, link)
            warnings += shot_warnings
            if entry is None:
                skipped.append(shot_warnings[-1])
            else:
                manifest[shot.name] = entry
                frames += entry["frames"]
                annotations += len(entry["annotated"])
        if not manifest:
            raise DavisFormatError(f"{src}: every shot was skipped: {'; '.join(warnings)}")
        names = list(manifest)
        for year in DavisDataset.YEARS:
            _write_lines(staging / "ImageSets" / year / "val.txt", names)
        classes = sorted({entry["class"] for entry in manifest.values()})
        _write_json(staging / "attributes.json", {
            "codes": {name: f"YouTube-Objects class {name}" for name in classes},
            "sequences": {name: [entry["class"]] for name, entry in manifest.items()},
        })
        _write_json(staging / "youtube_objects.json", {
            "dataset": "YouTube-Objects",
            "converter": "gcseg.data.prepare.convert_youtube_objects",
            "source": str(src.resolve()),
            "resolution": resolution,
            "skipped": skipped,
            "sequences": manifest,
        })
    found = {shot.category for shot in shots}
    if len(shots) != YOUTUBE_OBJECTS_SHOTS:
        warnings.append(f"{len(shots)} shots found, the release has {YOUTUBE_OBJECTS_SHOTS}")
    if found != set(YOUTUBE_OBJECTS_CLASSES):
        warnings.append(f"classes {sorted(found)} differ from the 10 of YouTube-Objects "
                        f"{list(YOUTUBE_OBJECTS_CLASSES)}")
    return ConversionReport("YouTube-Objects", out, {"val": names}, frames, annotations, warnings)


# --------------------------------------------------------------------------- command lines


def check_davis_parser() -> argparse.ArgumentParser:
    """The arguments of ``data_prep/check_davis.py``."""
    parser = argparse.ArgumentParser(
        prog="python data_prep/check_davis.py",
        description="Check a DAVIS 2016/2017 folder (layout, split files, one palette-PNG "
                    "annotation per frame, frame size = annotation size), print a summary per "
                    "split and compare it with the official counts.",
    )
    parser.add_argument("--davis", required=True, type=Path, help="DAVIS root folder")
    parser.add_argument("--year", action="append", choices=list(DavisDataset.YEARS),
                        help="check this year (repeatable; default: every year with split files)")
    parser.add_argument("--set", dest="split", action="append",
                        help="check this split (repeatable; default: train and val)")
    parser.add_argument("--resolution", default="480p", help="resolution folder (default 480p)")
    parser.add_argument("--layout-only", action="store_true",
                        help="check folders and counts without reading every image")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when there are warnings")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def convert_davis2016_parser() -> argparse.ArgumentParser:
    """The arguments of ``data_prep/convert_davis2016.py``."""
    parser = argparse.ArgumentParser(
        prog="python data_prep/convert_davis2016.py",
        description="Convert the original DAVIS-2016 release (grayscale 0/255 masks, "
                    "ImageSets/480p/*.txt) into the DAVIS layout gcseg reads (palette PNGs with "
                    "object id 1, ImageSets/2016/{train,val}.txt).",
    )
    parser.add_argument("--src", required=True, type=Path, help="the release's DAVIS folder")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--resolution", default="480p", help="resolution folder (default 480p)")
    parser.add_argument("--splits", default="train,val",
                        help="comma-separated splits to convert (default train,val)")
    parser.add_argument("--link", action="store_true",
                        help="hard-link the JPEG frames instead of copying them")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def convert_youtube_objects_parser() -> argparse.ArgumentParser:
    """The arguments of ``data_prep/convert_youtube_objects.py``."""
    parser = argparse.ArgumentParser(
        prog="python data_prep/convert_youtube_objects.py",
        description="Convert the YouTube-Objects segmentation ground truth (Jain & Grauman: "
                    "<class>/data/<video>/shots/<shot>/{images,labels}/) into the DAVIS layout: "
                    "frames renumbered, palette-PNG annotations for the annotated frames only.",
    )
    parser.add_argument("--src", required=True, type=Path,
                        help="folder holding the class folders (e.g. youtube_masks)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--resolution", default="480p",
                        help="name of the resolution folder written (default 480p)")
    parser.add_argument("--min-annotations", type=int, default=2,
                        help="skip shots with fewer annotated frames (default 2)")
    parser.add_argument("--resize-frames", action="store_true",
                        help="resize frames whose size differs from the masks' (bilinear)")
    parser.add_argument("--link", action="store_true",
                        help="hard-link JPEG frames instead of copying them")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


PARSERS = {
    "check_davis": check_davis_parser,
    "convert_davis2016": convert_davis2016_parser,
    "convert_youtube_objects": convert_youtube_objects_parser,
}
"""Script name (``data_prep/<name>.py``) -> its argument parser."""


def _run(job) -> int:
    """Run ``job()``; errors about the user's input print one line and give status 2."""
    try:
        return job()
    except (ValueError, FileExistsError, FileNotFoundError) as error:  # DavisFormatError too
        print(f"error: {error}", file=sys.stderr)
        return 2


def check_davis_main(argv: list[str] | None = None) -> int:
    """``data_prep/check_davis.py``: 0 when the folder is good (1 with ``--strict`` warnings)."""
    args = check_davis_parser().parse_args(argv)

    def job() -> int:
        result = check_davis(args.davis, years=args.year, splits=args.split,
                             resolution=args.resolution, read_files=not args.layout_only,
                             progress=not args.no_progress)
        print(result.table())
        return 1 if args.strict and result.warnings else 0

    return _run(job)


def convert_davis2016_main(argv: list[str] | None = None) -> int:
    """``data_prep/convert_davis2016.py``."""
    args = convert_davis2016_parser().parse_args(argv)
    splits = [split.strip() for split in args.splits.split(",") if split.strip()]

    def job() -> int:
        report = convert_davis2016(args.src, args.out, resolution=args.resolution, splits=splits,
                                   overwrite=args.overwrite, link=args.link,
                                   progress=not args.no_progress)
        print(report.summary())
        return 0

    return _run(job)


def convert_youtube_objects_main(argv: list[str] | None = None) -> int:
    """``data_prep/convert_youtube_objects.py``."""
    args = convert_youtube_objects_parser().parse_args(argv)

    def job() -> int:
        report = convert_youtube_objects(
            args.src, args.out, resolution=args.resolution, min_annotations=args.min_annotations,
            resize_frames=args.resize_frames, overwrite=args.overwrite, link=args.link,
            progress=not args.no_progress)
        print(report.summary())
        return 0

    return _run(job)

"""Converting the original DAVIS-2016 release into the DAVIS layout gcseg reads.

The release stores grayscale 0/255 masks (255 = the object) and split files
``ImageSets/480p/{train,val}.txt`` of frame/annotation path pairs.  The reader wants palette
PNGs, where 255 means *void*; :func:`convert_davis2016` (``python -m gcseg data
convert-davis2016``) writes object id 1 instead, and ``ImageSets/2016/{train,val}.txt``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np
from tqdm.auto import tqdm

from gcseg.data.conversion import ConversionReport, binary_mask, decoded_size, size_text
from gcseg.data.davis import DavisDataset
from gcseg.data.davis_check import KNOWN_COUNTS
from gcseg.data.davis_layout import DEFAULT_RESOLUTION, DavisLayout
from gcseg.data.davis_writer import DavisWriter
from gcseg.data.file_checks import DavisFormatError, read_text
from gcseg.files import check_output_folder, staged_folder

__all__ = ["convert_davis2016", "read_davis2016_split"]


def read_davis2016_split(path: str | os.PathLike) -> list[str]:
    """Sequence names of a DAVIS-2016 split file, in order of first appearance.

    Two forms are read: the original release's lines of path pairs
    (``/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png``: the name is the
    frame's folder) and plain lists of sequence names (``bear``), one per line.
    """
    path = Path(path)
    names: dict[str, None] = {}
    text = read_text(path, "a split file lists frame/annotation path pairs or sequence names")
    for number, line in enumerate(text.splitlines(), start=1):
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


def _sequence_files(
    source: DavisLayout, name: str, listed_in: Path
) -> tuple[dict[str, Path], dict[str, Path]]:
    """``({stem: frame}, {stem: mask})`` of one sequence of the release, paired one to one."""
    frame_dir, mask_dir = source.image_dir / name, source.annotation_dir / name
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
    return frames, masks


def _convert_sequence(
    source: DavisLayout, writer: DavisWriter, name: str, link: bool, listed_in: Path
) -> tuple[int, int]:
    """Convert one sequence; returns ``(frames, annotations)`` written."""
    frames, masks = _sequence_files(source, name, listed_in)
    for index, (stem, frame_path) in enumerate(frames.items()):
        mask = binary_mask(masks[stem])  # (H, W) bool
        frame_size = decoded_size(frame_path)
        if mask.shape != frame_size:
            raise DavisFormatError(f"{masks[stem]}: size {size_text(mask.shape)} (WxH) differs "
                                   f"from its frame {frame_path} ({size_text(frame_size)})")
        if index == 0 and not mask.any():
            raise DavisFormatError(f"{masks[stem]}: the first-frame mask is empty; "
                                   "semi-supervised VOS needs the object in frame 0")
        writer.annotation(name, stem, mask.astype(np.uint8))  # object id 1
        writer.copy_frame(name, stem, frame_path, link)
    return len(frames), len(masks)


def _count_warnings(split_names: dict[str, list[str]]) -> list[str]:
    return [f"DAVIS-2016 {split}: {len(names)} sequences, the official release has "
            f"{KNOWN_COUNTS['2016', split]['sequences']}"
            for split, names in split_names.items()
            if ("2016", split) in KNOWN_COUNTS
            and len(names) != KNOWN_COUNTS["2016", split]["sequences"]]


def convert_davis2016(
    src: str | os.PathLike,
    out: str | os.PathLike,
    resolution: str = DEFAULT_RESOLUTION,
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
        FileExistsError: ``out`` is not empty and ``overwrite`` is false, or ``out`` is, holds
            or lies inside ``src`` (checked first).
        DavisFormatError: naming the file: a missing folder, frame or annotation, an unreadable
            image, a mask whose size differs from its frame, an empty first-frame mask.
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise DavisFormatError(f"{src}: DAVIS-2016 folder not found")
    source = DavisLayout(src, resolution)
    for folder in (source.image_dir, source.annotation_dir):
        if not folder.is_dir():
            raise DavisFormatError(f"{folder}: folder not found (not a DAVIS-2016 release?)")
    check_output_folder(out, overwrite, inputs=[src])
    split_files = {split: _find_split_file(src, resolution, split) for split in splits}
    split_names = {split: read_davis2016_split(path) for split, path in split_files.items()}
    sequences = list(dict.fromkeys(name for names in split_names.values() for name in names))

    frames = annotations = 0
    with staged_folder(out, overwrite, inputs=[src]) as staging:
        writer = DavisWriter(staging, resolution)
        for name in tqdm(sequences, desc="DAVIS-2016", unit="sequence", disable=not progress):
            listed_in = next(split_files[s] for s, names in split_names.items() if name in names)
            n_frames, n_masks = _convert_sequence(source, writer, name, link, listed_in)
            frames, annotations = frames + n_frames, annotations + n_masks
        for split, names in split_names.items():
            writer.split("2016", split, names)
            DavisDataset(staging, year="2016", split=split, resolution=resolution)  # layout
        writer.json("prepared.json", {
            "dataset": "DAVIS-2016",
            "converter": "gcseg.data.davis2016.convert_davis2016",
            "source": str(src.resolve()),
            "split_files": {split: str(path) for split, path in split_files.items()},
            "resolution": resolution,
            "splits": split_names,
            "frames": frames,
        })
    return ConversionReport("DAVIS-2016", out, split_names, frames, annotations,
                            _count_warnings(split_names))

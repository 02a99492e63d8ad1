"""Converting the YouTube-Objects segmentation ground truth into the DAVIS layout.

The ground truth of Jain & Grauman (ECCV 2014; 10 classes, 126 shots, a mask about every 10th
frame) becomes one sequence per shot, frames renumbered, annotations for the annotated frames
only: :func:`convert_youtube_objects` (``python -m gcseg data convert-youtube-objects``; see it
for the layouts read and for what the evaluator needs).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from gcseg.data.conversion import ConversionReport, binary_mask, decoded_size, size_text
from gcseg.data.davis import DavisDataset
from gcseg.data.davis_layout import DEFAULT_RESOLUTION, frame_name
from gcseg.data.davis_writer import DavisWriter
from gcseg.data.file_checks import DavisFormatError, open_image
from gcseg.files import check_output_folder, staged_folder

__all__ = [
    "YOUTUBE_OBJECTS_CLASSES",
    "YOUTUBE_OBJECTS_SHOTS",
    "ShotConversion",
    "convert_youtube_objects",
]

YOUTUBE_OBJECTS_CLASSES = (
    "aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train",
)
"""The 10 classes of YouTube-Objects (one folder each in the segmentation ground truth)."""

YOUTUBE_OBJECTS_SHOTS = 126
"""Shots with segmentation ground truth in Jain & Grauman's release."""

_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
_LABEL_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class ShotConversion:
    """How each shot becomes a sequence (see :func:`convert_youtube_objects`)."""

    resolution: str = DEFAULT_RESOLUTION
    """Name of the resolution folder written."""
    min_annotations: int = 2
    """Shots with fewer annotated frames are skipped: a shot is scored on the annotated frames
    after its first."""
    resize_frames: bool = False
    """Resize frames whose size differs from the masks' (bilinear) instead of refusing them."""
    link: bool = False
    """Hard-link JPEG frames instead of copying them."""

    def __post_init__(self) -> None:
        if self.min_annotations < 1:
            raise ValueError(f"min_annotations must be >= 1, got {self.min_annotations}")


# --------------------------------------------------------------------------- finding the shots


@dataclass
class _Shot:
    """One annotated YouTube-Objects shot as found in the source folder."""

    name: str
    category: str
    folder: Path
    frames: dict[int, Path]  # frame number -> frame file
    labels: dict[int, Path]  # frame number -> mask file (annotated frames only)


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


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes]


def _shot_name(src: Path, folder: Path) -> tuple[str, str]:
    parts = folder.relative_to(src).parts or (folder.name,)
    kept = [part for part in parts if part not in ("data", "shots")] or list(parts)
    return "-".join(kept), parts[0]


def _shot_files(
    src: Path, folder: Path, filenames: list[str]
) -> tuple[dict[int, Path], dict[int, Path]] | None:
    """``(frames, labels)`` of ``folder`` when it is a shot of one of the two layouts."""
    if (folder / "images").is_dir() and (folder / "labels").is_dir():
        return (_numbered(_files(folder / "images", _FRAME_SUFFIXES)),
                _numbered(_files(folder / "labels", _LABEL_SUFFIXES)))
    if folder != src and any(n.lower().endswith(".png") for n in filenames) and any(
        n.lower().endswith((".jpg", ".jpeg")) for n in filenames
    ):
        return (_numbered(_files(folder, (".jpg", ".jpeg"))),
                _numbered(_files(folder, (".png",))))
    return None


def _find_shots(src: Path) -> list[_Shot]:
    """The annotated shots under ``src`` (see :func:`convert_youtube_objects`), sorted."""
    shots: list[_Shot] = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        folder = Path(dirpath)
        found = _shot_files(src, folder, filenames)
        if found is None:
            continue
        if (folder / "images").is_dir() and (folder / "labels").is_dir():
            dirnames[:] = []  # nothing below a shot
        frames, labels = found
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


# --------------------------------------------------------------------------- writing a shot


def _write_frame(
    writer: DavisWriter, shot: _Shot, number: int, index: int, size: tuple[int, int],
    mask_path: Path, options: ShotConversion,
) -> None:
    """Copy frame ``number`` as frame ``index``, or decode/resize/re-encode it when it is not
    a JPEG of the masks' ``size`` (that of ``mask_path``)."""
    source, name = shot.frames[number], frame_name(index)
    frame_size = decoded_size(source)
    if frame_size != size and not options.resize_frames:
        raise DavisFormatError(
            f"{source}: frame size {size_text(frame_size)} (WxH) differs from the shot's "
            f"masks ({size_text(size)}, e.g. {mask_path}); pass "
            "--resize-frames / resize_frames=True to resize the frames to the masks")
    if frame_size == size and source.suffix.lower() in (".jpg", ".jpeg"):
        writer.copy_frame(shot.name, name, source, options.link)
        return
    image = open_image(source).convert("RGB")
    if frame_size != size:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    writer.frame(shot.name, name, np.asarray(image))


def _usable_masks(
    shot: _Shot, min_annotations: int
) -> tuple[dict[int, np.ndarray] | None, list[str]]:
    """The masks from the first non-empty one on (``None`` when the shot is skipped), and
    warnings."""
    masks = {number: binary_mask(path) for number, path in shot.labels.items()}
    first = next((number for number, mask in masks.items() if mask.any()), None)
    if first is None:
        return None, [f"{shot.folder}: skipped, every mask is empty"]
    warnings = []
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
            raise DavisFormatError(f"{shot.labels[number]}: mask size {size_text(mask.shape)} "
                                   f"differs from {size_text(size)} of {shot.labels[first]}")
        if number not in shot.frames:
            raise DavisFormatError(f"{shot.labels[number]}: no frame numbered {number} in "
                                   f"{shot.folder}")
    return masks, warnings


def _convert_shot(
    shot: _Shot, writer: DavisWriter, options: ShotConversion
) -> tuple[dict | None, list[str]]:
    """Write one shot; returns its manifest entry (``None`` when skipped) and warnings."""
    masks, warnings = _usable_masks(shot, options.min_annotations)
    if masks is None:
        return None, warnings
    first, last = min(masks), max(masks)
    size = masks[first].shape
    numbers = [number for number in shot.frames if first <= number <= last]
    annotated = []
    for index, number in enumerate(numbers):
        _write_frame(writer, shot, number, index, size, shot.labels[first], options)
        if number in masks:
            writer.annotation(shot.name, frame_name(index), masks[number].astype(np.uint8))
            annotated.append(frame_name(index))
    entry = {
        "class": shot.category,
        "source": str(shot.folder),
        "frames": len(numbers),
        "annotated": annotated,
        "source_frames": [shot.frames[number].name for number in numbers],
    }
    return entry, warnings


# --------------------------------------------------------------------------- the dataset


def _write_index_files(writer: DavisWriter, src: Path, manifest: dict, skipped: list[str],
                       resolution: str) -> None:
    """Split lists (every sequence in val, both years), attributes and the manifest."""
    names = list(manifest)
    for year in DavisDataset.YEARS:
        writer.split(year, "val", names)
    classes = sorted({entry["class"] for entry in manifest.values()})
    writer.attributes({name: f"YouTube-Objects class {name}" for name in classes},
                      {name: [entry["class"]] for name, entry in manifest.items()})
    writer.json("youtube_objects.json", {
        "dataset": "YouTube-Objects",
        "converter": "gcseg.data.youtube_objects.convert_youtube_objects",
        "source": str(src.resolve()),
        "resolution": resolution,
        "skipped": skipped,
        "sequences": manifest,
    })


def _release_warnings(shots: list[_Shot]) -> list[str]:
    """Where the shots found differ from the release's 126 shots of 10 classes."""
    warnings = []
    found = {shot.category for shot in shots}
    if len(shots) != YOUTUBE_OBJECTS_SHOTS:
        warnings.append(f"{len(shots)} shots found, the release has {YOUTUBE_OBJECTS_SHOTS}")
    if found != set(YOUTUBE_OBJECTS_CLASSES):
        warnings.append(f"classes {sorted(found)} differ from the 10 of YouTube-Objects "
                        f"{list(YOUTUBE_OBJECTS_CLASSES)}")
    return warnings


def convert_youtube_objects(
    src: str | os.PathLike,
    out: str | os.PathLike,
    options: ShotConversion | None = None,
    *,
    overwrite: bool = False,
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
    copied, or hard-linked with ``options.link``), and ``Annotations/<res>/<seq>/<name>.png``
    (palette PNG, object id 1) is written for the annotated frames only.  Shots with fewer than
    ``options.min_annotations`` annotated frames are skipped with a warning (in the release two
    shots have a single mask).  Frames whose size differs from the masks are an error, unless
    ``options.resize_frames`` resizes them (bilinear) to the masks' size.

    Also written: ``ImageSets/2016/val.txt`` and ``ImageSets/2017/val.txt`` (every sequence:
    YouTube-Objects has no training split and the paper only evaluates on it),
    ``attributes.json`` (the class of each sequence as its attribute code, so the evaluator's
    per-attribute table is a per-class table) and ``youtube_objects.json`` (per sequence: class,
    source folder, frame count, the names of the annotated frames, the source frame files).

    Reading it back: :class:`DavisDataset` opens the output as it is (sparse annotations:
    :attr:`Sequence.annotated_indices`), and :func:`gcseg.evaluation.evaluate` scores every
    annotated frame but the first (see ``docs/reproduce_davis.md``).

    Raises:
        FileExistsError: ``out`` is not empty and ``overwrite`` is false, or ``out`` is, holds
            or lies inside ``src`` (checked first).
        DavisFormatError: naming the file: no shot found, a mask without its frame, a frame
            without a number, two files with one number, a size mismatch, an unreadable image.
    """
    src, out = Path(src), Path(out)
    options = ShotConversion() if options is None else options
    if not src.is_dir():
        raise DavisFormatError(f"{src}: YouTube-Objects folder not found")
    check_output_folder(out, overwrite, inputs=[src])
    shots = _find_shots(src)
    if not shots:
        raise DavisFormatError(f"{src}: no YouTube-Objects shot found (expected folders "
                               "<class>/data/<video>/shots/<shot>/ with images/ and labels/, "
                               "or shot folders with .jpg frames and .png masks)")
    warnings: list[str] = []
    skipped: list[str] = []
    manifest: dict[str, dict] = {}
    with staged_folder(out, overwrite, inputs=[src]) as staging:
        writer = DavisWriter(staging, options.resolution)
        for shot in tqdm(shots, desc="YouTube-Objects", unit="shot", disable=not progress):
            entry, shot_warnings = _convert_shot(shot, writer, options)
            warnings += shot_warnings
            if entry is None:
                skipped.append(shot_warnings[-1])
            else:
                manifest[shot.name] = entry
        if not manifest:
            raise DavisFormatError(f"{src}: every shot was skipped: {'; '.join(warnings)}")
        _write_index_files(writer, src, manifest, skipped, options.resolution)
    frames = sum(entry["frames"] for entry in manifest.values())
    annotations = sum(len(entry["annotated"]) for entry in manifest.values())
    return ConversionReport("YouTube-Objects", out, {"val": list(manifest)}, frames,
                            annotations, warnings + _release_warnings(shots))

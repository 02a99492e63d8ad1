"""Checking a downloaded DAVIS 2016/2017 folder against the official release.

:func:`check_davis` (``python -m gcseg data check``) reads the folder with the package's own
reader (layout, split files, one annotation per frame, palette PNGs, frame size = annotation
size: :meth:`~gcseg.data.davis.DavisDataset.validate`), summarises every split (sequences,
frames, objects, frame sizes) and compares it with the official counts (:data:`KNOWN_COUNTS`).
Differences are warnings; a format error stops with the file named.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from gcseg.data.conversion import size_text
from gcseg.data.davis import DavisDataset
from gcseg.data.davis_layout import DEFAULT_RESOLUTION, DavisLayout
from gcseg.data.file_checks import DavisFormatError, open_image

__all__ = ["KNOWN_COUNTS", "KNOWN_TOTAL_FRAMES", "DavisCheck", "SplitSummary", "check_davis"]

KNOWN_COUNTS: dict[tuple[str, str], dict[str, int]] = {
    ("2016", "train"): {"sequences": 30},
    ("2016", "val"): {"sequences": 20},
    ("2017", "train"): {"sequences": 60},
    ("2017", "val"): {"sequences": 30, "frames": 1999, "objects": 61},
}
"""Official counts per ``(year, split)`` that :func:`check_davis` compares with.

Sequences: the paper (Section IV-A) and the DAVIS papers.  DAVIS-2017 val: 1999 frames and 61
objects (the per-object list of the DAVIS website).  Only counts we are sure of are listed;
frame counts are the same at every resolution."""

KNOWN_TOTAL_FRAMES = {"2016": 3455}
"""Frames of train + val together: DAVIS-2016 has 50 sequences and 3455 annotated frames."""

SPLITS = ("train", "val")
"""The splits checked unless others are named."""


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
            f"python -m gcseg data convert-davis2016 --src {root} --out DIR "
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
    mode = open_image(path).mode  # names the file when unreadable
    if mode in ("L", "1"):
        raise DavisFormatError(
            f"{path}: annotation is a {mode!r}-mode (grayscale) image; the DAVIS layout wants "
            f"palette PNGs of object ids" + _original_2016_hint(dataset.root, dataset.resolution)
        )


def _splits_to_check(
    layout: DavisLayout, years: Sequence[str] | None, splits: Sequence[str] | None
) -> tuple[list[tuple[str, str]], list[str]]:
    """``(year, split)`` pairs to check, and warnings about default splits left out.

    Unnamed years and splits are those with a split file; named ones must exist (the reader
    reports a missing split file)."""
    explicit_years, explicit_splits = years is not None, splits is not None
    years = [str(year) for year in (years or DavisDataset.YEARS)]
    splits = list(splits or SPLITS)
    wanted: list[tuple[str, str]] = []
    warnings: list[str] = []
    for year in years:
        files = {split: layout.split_file(year, split) for split in splits}
        present = [split for split, path in files.items() if path.is_file()]
        if explicit_years or (explicit_splits and present):
            present = splits  # named: DavisDataset reports a missing split file
        elif present and len(present) < len(splits):
            warnings += [f"{path}: split file not found, split not checked"
                         for split, path in files.items() if split not in present]
        wanted += [(year, split) for split in present]
    if not wanted:
        message = (f"{layout.root / 'ImageSets'}: no split file "
                   "ImageSets/{2016,2017}/{train,val}.txt")
        if (layout.root / "ImageSets" / layout.resolution / "train.txt").is_file():  # 2016's
            message += _original_2016_hint(layout.root, layout.resolution)
        raise DavisFormatError(message)
    return wanted, warnings


def _summarise(dataset: DavisDataset, read_files: bool, progress: bool) -> SplitSummary:
    """Check one split and count its sequences, frames, objects and frame sizes."""
    _check_first_annotation_mode(dataset)
    _check_every_frame_annotated(dataset)
    frames, objects, sizes = 0, 0, {}
    for sequence in tqdm(list(dataset), desc=f"DAVIS-{dataset.year} {dataset.split}",
                         unit="sequence", disable=not progress):
        if read_files:
            sequence.validate()
        frames += len(sequence)
        objects += len(sequence.object_ids)
        size = size_text(sequence.size)
        sizes[size] = sizes.get(size, 0) + 1
    return SplitSummary(dataset.year, dataset.split, len(dataset), frames, objects, sizes,
                        dataset.sequences)


def check_davis(
    root: str | os.PathLike,
    years: Sequence[str] | None = None,
    splits: Sequence[str] | None = None,
    resolution: str = DEFAULT_RESOLUTION,
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
    wanted, warnings = _splits_to_check(DavisLayout(root, resolution), years, splits)
    summaries = [
        _summarise(DavisDataset(root, year=year, split=split, resolution=resolution),
                   read_files, progress)
        for year, split in wanted
    ]
    warnings += _compare_with_official(summaries)
    return DavisCheck(root, resolution, read_files, summaries, warnings)


# --------------------------------------------------------------------------- the warnings


def _count_warnings(by_key: dict[tuple[str, str], SplitSummary]) -> list[str]:
    """Split counts that differ from :data:`KNOWN_COUNTS`."""
    warnings = []
    for (year, split), summary in by_key.items():
        for what, expected in KNOWN_COUNTS.get((year, split), {}).items():
            found = getattr(summary, what)
            if found != expected:
                warnings.append(f"DAVIS-{year} {split}: {found} {what}, the official release "
                                f"has {expected}")
    return warnings


def _total_frame_warnings(by_key: dict[tuple[str, str], SplitSummary]) -> list[str]:
    """Frames of train + val that differ from :data:`KNOWN_TOTAL_FRAMES`."""
    warnings = []
    for year, total in KNOWN_TOTAL_FRAMES.items():
        if (year, "train") in by_key and (year, "val") in by_key:
            found = by_key[year, "train"].frames + by_key[year, "val"].frames
            if found != total:
                warnings.append(f"DAVIS-{year} train + val: {found} frames, the official "
                                f"release has {total}")
    return warnings


def _overlap_warnings(by_key: dict[tuple[str, str], SplitSummary]) -> list[str]:
    """Sequences listed in both train and val of one year."""
    warnings = []
    for year in DavisDataset.YEARS:
        if (year, "train") in by_key and (year, "val") in by_key:
            both = set(by_key[year, "train"].names) & set(by_key[year, "val"].names)
            if both:
                warnings.append(f"DAVIS-{year}: {len(both)} sequences in both train and val "
                                f"({', '.join(sorted(both)[:5])})")
    return warnings


def _containment_warnings(by_key: dict[tuple[str, str], SplitSummary]) -> list[str]:
    """DAVIS-2016 sequences missing from the DAVIS-2017 split of the same name."""
    warnings = []
    for split in SPLITS:
        if ("2016", split) in by_key and ("2017", split) in by_key:
            outside = set(by_key["2016", split].names) - set(by_key["2017", split].names)
            if outside:
                warnings.append(f"DAVIS-2016 {split}: {len(outside)} sequences are not in "
                                f"DAVIS-2017 {split} ({', '.join(sorted(outside)[:5])}); in the "
                                "official release every 2016 sequence is in the 2017 split of "
                                "the same name")
    return warnings


def _compare_with_official(summaries: list[SplitSummary]) -> list[str]:
    by_key = {(s.year, s.split): s for s in summaries}
    return (_count_warnings(by_key) + _total_frame_warnings(by_key) + _overlap_warnings(by_key)
            + _containment_warnings(by_key))

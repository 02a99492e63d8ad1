"""Writing the synthetic benchmark: every video of both splits, in the DAVIS layout.

:func:`make_synthetic` renders each video (:func:`~gcseg.data.synthetic.render.render_video`)
from its own ``numpy.random.SeedSequence(seed, spawn_key=(split, index))``, so the splits never
share a random stream and adding videos does not change the earlier ones, and writes it through
the one DAVIS-layout writer (:class:`~gcseg.data.davis_writer.DavisWriter`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gcseg.data.davis_writer import DavisWriter
from gcseg.data.synthetic.attributes import ATTRIBUTE_CODES, THRESHOLDS
from gcseg.data.synthetic.render import RenderedVideo, check_size, render_video
from gcseg.data.synthetic.shapes import Photo, load_photos
from gcseg.files import staged_folder

__all__ = [
    "FORMAT_VERSION",
    "GENERATOR",
    "SPLITS",
    "SyntheticSpec",
    "check_synthetic_folder",
    "make_synthetic",
    "sequence_name",
]

FORMAT_VERSION = 1
"""Version of the files :func:`make_synthetic` writes (bumped when their content changes)."""

SPLITS: dict[str, int] = {"train": 0, "val": 1}
"""Split name -> the key in each video's seed sequence (disjoint streams per split)."""

YEARS = ("2016", "2017")
"""Both years get the same split lists (2016 reads the objects merged into one)."""

GENERATOR = "gcseg.data.synthetic.make_synthetic"
"""The ``generator`` field of ``synthetic.json``: the marker of a folder :func:`make_synthetic`
wrote, the only kind its ``overwrite`` replaces."""

WRITTEN = ("JPEGImages", "Annotations", "ImageSets", "attributes.json", "synthetic.json")
"""What :func:`make_synthetic` writes at the root of a benchmark."""


def sequence_name(split: str, index: int) -> str:
    """``"syn-train-000"``, ``"syn-val-003"``, ..."""
    return f"syn-{split}-{index:03d}"


def _frame_range(frames) -> tuple[int, int]:
    if isinstance(frames, (int, np.integer)):
        low = high = int(frames)
    else:
        try:
            low, high = (int(v) for v in frames)
        except (TypeError, ValueError):
            raise ValueError(f"frames must be an int or (min, max), got {frames!r}") from None
    if not 2 <= low <= high:
        raise ValueError(f"frames must satisfy 2 <= min <= max, got {frames!r}")
    return low, high


@dataclass(frozen=True)
class SyntheticSpec:
    """What a synthetic benchmark holds; recorded as ``parameters`` in its ``synthetic.json``.

    ``seed``: the benchmark's seed; video ``i`` of a split draws from
    ``SeedSequence(seed, spawn_key=(split_key, i))`` (train 0, val 1).  ``n_train``, ``n_val``:
    videos per split (``syn-train-000``, ..., ``syn-val-000``, ...).  ``frames``: frames per
    video, an int or an inclusive ``(min, max)`` range drawn per video.  ``size``: ``(H, W)`` of
    the frames (the folders are still named ``480p``, as in DAVIS).  ``quality``: JPEG quality
    of the frames.  Checked when made: a ``ValueError`` names the bad value.
    """

    seed: int = 0
    n_train: int = 20
    n_val: int = 10
    frames: int | tuple[int, int] = (24, 40)
    size: tuple[int, int] = (240, 432)
    quality: int = 90

    def __post_init__(self) -> None:
        check_size(self.size)
        _frame_range(self.frames)
        if int(self.seed) < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed}")
        counts = self.counts
        if min(counts.values()) < 0 or sum(counts.values()) == 0:
            raise ValueError(f"need n_train, n_val >= 0 and at least one video, got {counts}")

    @property
    def counts(self) -> dict[str, int]:
        """Videos per split."""
        return {"train": int(self.n_train), "val": int(self.n_val)}

    @property
    def frame_range(self) -> tuple[int, int]:
        """Inclusive ``(min, max)`` frames per video."""
        return _frame_range(self.frames)

    def parameters(self) -> dict:
        """The JSON-ready record of ``synthetic.json``."""
        fixed_length = isinstance(self.frames, (int, np.integer))
        return {
            "seed": int(self.seed), "n_train": int(self.n_train), "n_val": int(self.n_val),
            "frames": int(self.frames) if fixed_length else list(self.frame_range),
            "size": list(check_size(self.size)), "quality": int(self.quality),
        }

    def video_rng(self, split: str, index: int) -> np.random.Generator:
        """The generator video ``index`` of ``split`` draws everything from."""
        return np.random.default_rng(
            np.random.SeedSequence(int(self.seed), spawn_key=(SPLITS[split], index)))


def check_synthetic_folder(folder: str | os.PathLike) -> None:
    """Raise FileExistsError unless ``folder`` is a benchmark :func:`make_synthetic` wrote: its
    ``synthetic.json`` names :data:`GENERATOR` and nothing else was added at its root."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "synthetic.json").read_text(encoding="utf-8"))
        generator = meta["generator"]
    except (OSError, ValueError, TypeError, KeyError):
        generator = None
    if generator != GENERATOR:
        raise FileExistsError(
            f"{folder}: not a synthetic benchmark written by gcseg (no synthetic.json from "
            "make-synthetic): --overwrite replaces only one; choose another --out or remove "
            "the folder yourself")
    extra = sorted(entry.name for entry in folder.iterdir() if entry.name not in WRITTEN)
    if extra:
        raise FileExistsError(
            f"{folder}: holds {', '.join(extra[:3])}{' ...' if len(extra) > 3 else ''}, which "
            "make-synthetic did not write: --overwrite would delete it; move it away or "
            "choose another --out")


def _video_summary(split: str, video: RenderedVideo) -> dict:
    """A video's entry in ``synthetic.json``."""
    return {
        "split": split,
        "n_frames": len(video),
        "background": video.background,
        "attributes": video.attributes,
        "objects": [obj.summary() for obj in video.objects],
        "distractors": [obj.summary() for obj in video.distractors],
    }


def _render_and_write(root: str, spec: SyntheticSpec, split: str, index: int,
                      photos: tuple[Photo, ...] | None = None) -> tuple[str, dict]:
    """Render video ``index`` of ``split`` from its own seed sequence and write it under
    ``root``; returns ``(sequence, summary)``. Nothing is shared between videos, so they may
    be written by several processes in any order and give the same files (a process without
    ``photos`` loads them itself: :func:`load_photos` is cached and ordered)."""
    photos = load_photos() if photos is None else photos
    low, high = spec.frame_range
    rng = spec.video_rng(split, index)
    n_frames = int(rng.integers(low, high + 1))
    video = render_video(rng, n_frames, check_size(spec.size), photos=photos)
    name = sequence_name(split, index)
    DavisWriter(root).video(name, video.frames, video.masks, quality=int(spec.quality))
    return name, _video_summary(split, video)


def _write_videos(
    writer: DavisWriter, spec: SyntheticSpec, photos: tuple[Photo, ...], progress: bool,
    jobs: int = 1,
) -> dict[str, dict]:
    """Render and write every video (``jobs`` processes); returns ``{sequence: summary}`` in
    the order of the splits and indices, whatever the order they were written in."""
    from tqdm.auto import tqdm

    tasks = [(split, index) for split, count in spec.counts.items() for index in range(count)]
    root = str(writer.root)
    with tqdm(total=len(tasks), desc="synthetic videos", unit="video",
              disable=not progress) as bar:
        done = []
        if jobs <= 1:
            for split, index in tasks:
                done.append(_render_and_write(root, spec, split, index, photos))
                bar.update(1)
            return dict(done)
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_render_and_write, root, spec, split, index)
                       for split, index in tasks]
            for future in futures:  # in task order, so the summaries keep it
                done.append(future.result())
                bar.update(1)
        return dict(done)


def _write_index_files(
    writer: DavisWriter, spec: SyntheticSpec, photos: tuple[Photo, ...], summaries: dict
) -> None:
    """The split lists of both years, ``attributes.json`` and ``synthetic.json``."""
    import skimage

    names = {split: [name for name, summary in summaries.items() if summary["split"] == split]
             for split in SPLITS}
    for year in YEARS:
        for split in SPLITS:
            writer.split(year, split, names[split])
    writer.attributes(ATTRIBUTE_CODES, {name: summary["attributes"]
                                        for name, summary in summaries.items()})
    writer.json("synthetic.json", {
        "format_version": FORMAT_VERSION,
        "generator": GENERATOR,
        "parameters": spec.parameters(),
        "scikit_image": skimage.__version__,
        "photos": [photo.name for photo in photos],
        "thresholds": THRESHOLDS,
        "splits": names,
        "sequences": summaries,
    })


def make_synthetic(
    out_dir: str | os.PathLike,
    spec: SyntheticSpec | None = None,
    *,
    progress: bool = True,
    overwrite: bool = False,
    jobs: int = 1,
) -> Path:
    """Write the synthetic benchmark ``spec`` (default :class:`SyntheticSpec()`) in the DAVIS
    layout; returns ``out_dir``.

    ``progress`` shows a tqdm bar over the videos.  ``jobs`` processes render and write the
    videos side by side (each from its own seed sequence: the files are the same for any
    number of jobs).  ``overwrite`` replaces an existing
    non-empty ``out_dir`` (otherwise refused), only when it is a benchmark this function wrote
    (:func:`check_synthetic_folder`).

    The files are written into a staging folder beside ``out_dir`` (``.<name>.partial-...``)
    that is renamed into place at the end (:func:`gcseg.files.staged_folder`), so an
    interrupted run never leaves a half-written dataset at ``out_dir``; the staging folder of
    a run killed outright is removed at the next start.

    Raises:
        FileExistsError: ``out_dir`` is a file, or a non-empty folder and ``overwrite`` is
            false, or not a benchmark written here (checked before anything is written).
    """
    spec = SyntheticSpec() if spec is None else spec
    out = Path(out_dir)
    with staged_folder(out, overwrite, replaceable=check_synthetic_folder) as partial:
        writer = DavisWriter(partial)
        photos = load_photos()
        summaries = _write_videos(writer, spec, photos, progress, jobs)
        _write_index_files(writer, spec, photos, summaries)
    return out

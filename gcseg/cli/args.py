"""Argument types and argument groups shared by the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gcseg.config.validation import parse_frame_size

MAX_SIDE = 4096
"""Largest side of a synthetic frame: DAVIS's full resolution is 1080p, and a video is drawn in
memory as a whole, so more than 4K is a typo that would fill the memory."""


def parse_size(text: str) -> tuple[int, int]:
    """``HxW`` of a synthetic frame, each side in [32, :data:`MAX_SIDE`]."""
    try:
        height, width = parse_frame_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if height > MAX_SIDE or width > MAX_SIDE:
        raise argparse.ArgumentTypeError(
            f"size {text!r} is too large (at most {MAX_SIDE} a side)")
    return height, width


MAX_FRAMES = 1000
"""Most frames of a synthetic video.  DAVIS's longest video has 104 frames; each video is drawn
in memory as a whole (at 240x432 about 0.3 MB of RGB per frame, more with its layer maps), so
far more than this is a typo that would fill the memory, not a benchmark."""


def parse_frames(text: str) -> int | tuple[int, int]:
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
            if not 2 <= low <= high <= MAX_FRAMES:
                raise ValueError
            return low, high
        count = int(text)
        if not 2 <= count <= MAX_FRAMES:
            raise ValueError
        return count
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"frames must be a count from 2 to {MAX_FRAMES} or a range like 24-40, got {text!r}"
        ) from None


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--davis", required=True, type=Path, help="DAVIS-layout dataset root")
    parser.add_argument("--set", dest="split", default="val", help="split (default: val)")
    parser.add_argument("--year", default="2017", choices=["2016", "2017"])
    parser.add_argument("--resolution", default="480p", help="resolution folder (default 480p)")


def checkpoint_report_parser(description: str) -> argparse.ArgumentParser:
    """The arguments shared by the scripts that score a checkpoint on a dataset into a JSON
    report (``benchmarks/bench_*.py``): ``--davis``, ``--checkpoint`` (default: the shipped
    model), ``--device``, ``--out`` and ``--overwrite``; add the script's own to it."""
    from gcseg.checkpoint import SHIPPED_CHECKPOINT

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--davis", type=Path, required=True, help="dataset root")
    parser.add_argument("--checkpoint", type=Path, default=SHIPPED_CHECKPOINT)
    parser.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    parser.add_argument("--out", type=Path, required=True, help="JSON report")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    return parser


def report_is_kept(out: Path, overwrite: bool) -> bool:
    """``True`` (after saying so on stderr) when ``out`` exists and may not be replaced."""
    if out.exists() and not overwrite:
        print(f"error: {out} exists (pass --overwrite to replace it)", file=sys.stderr)
        return True
    return False


def count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def positive_minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected minutes > 0, got {text!r}")
    return value


def minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 24 * 60:
        raise argparse.ArgumentTypeError(f"expected minutes in (0, 1440], got {text!r}")
    return value


def parse_setting(text: str) -> tuple[list[str], object]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key or "." not in key:
        raise argparse.ArgumentTypeError(
            f"expected SECTION.KEY=VALUE (e.g. train.lr=3e-4), got {text!r}")
    return key.split("."), yaml.safe_load(value)


def nested_settings(pairs: list[tuple[list[str], object]] | None) -> dict:
    """``--override`` values (:func:`parse_setting`) as the nested dict a YAML config holds:
    ``[(["train", "lr"], 3e-4)]`` -> ``{"train": {"lr": 3e-4}}``."""
    settings: dict = {}
    for path, value in pairs or []:
        node = settings
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return settings


def cosine(text: str) -> float:
    """A cosine-similarity threshold in [-1, 1] (the Judgment Module's tau)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [-1, 1], got {text!r}")
    return value

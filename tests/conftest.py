"""Shared test helpers: tiny DAVIS-layout datasets written into tmp folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gcseg.data.davis_writer import DavisWriter


def write_davis(
    root: Path,
    videos: dict[str, tuple[np.ndarray, np.ndarray]],
    split: str = "val",
    years: tuple[str, ...] = ("2016", "2017"),
    attributes: dict[str, list[str]] | None = None,
) -> Path:
    """Write ``{name: (frames (T,H,W,3) uint8, masks (T,H,W) uint8)}`` in the DAVIS layout."""
    writer = DavisWriter(root)
    for name, (frames, masks) in videos.items():
        writer.video(name, frames, masks)
    for year in years:
        writer.split(year, split, list(videos))
    if attributes is not None:
        writer.attributes({}, attributes)
    return root


def square_video(
    frames: int = 4, size: tuple[int, int] = (32, 48), objects: int = 1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small video of ``objects`` squares moving right by one pixel per frame."""
    rng = np.random.default_rng(seed)
    height, width = size
    images = rng.integers(0, 255, (frames, height, width, 3), dtype=np.uint8)
    masks = np.zeros((frames, height, width), dtype=np.uint8)
    for t in range(frames):
        for k in range(objects):
            top, left = 4 + 10 * k, 4 + t
            masks[t, top : top + 8, left : left + 8] = k + 1
    return images, masks


def disappearing_video(
    frames: int, absent: tuple[int, ...], size: tuple[int, int] = (16, 20), seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random frames; object 1 (4x4) moves right and is absent in the ``absent`` frames,
    object 2 (4x6) stays still in every frame."""
    rng = np.random.default_rng(seed)
    height, width = size
    images = rng.integers(0, 255, (frames, height, width, 3), dtype=np.uint8)
    gt = np.zeros((frames, height, width), np.uint8)
    gt[:, 10:14, 10:16] = 2
    for t in range(frames):
        if t not in absent:
            gt[t, 2:6, t:t + 4] = 1
    return images, gt


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """One intra-op thread for the whole suite: the tensors of the tests are small, and on a
    2-core machine OpenMP threads competing with other processes make them many times slower."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def moving_squares_davis(root: Path) -> Path:
    """A train split of three 8-frame 64x96 videos of moving squares (one or two objects) and
    a val split of one: enough for a training run of a few steps."""
    write_davis(root, {f"t{i}": square_video(8, (64, 96), objects=1 + i % 2, seed=i)
                       for i in range(3)}, split="train")
    write_davis(root, {"v0": square_video(6, (64, 96), seed=9)}, split="val")
    return root


@pytest.fixture
def tiny_davis(tmp_path: Path) -> Path:
    """Two sequences (one with one object, one with two), 4 frames each, 32x48."""
    return write_davis(
        tmp_path / "davis",
        {"one": square_video(objects=1), "two": square_video(objects=2, seed=1)},
    )


def small_config(variant: str = "full", frame_size: tuple[int, int] = (64, 96)):
    """The ``tiny`` preset shrunk further so a test trains or segments in seconds."""
    from gcseg.config import get_preset

    config = get_preset("tiny")
    config.model.variant = variant
    config.model.coseg_dim = config.model.ref_dim = config.model.decoder_dim = 16
    config.model.aspp_rates = (1, 2)
    config.data.frame_size = frame_size
    return config

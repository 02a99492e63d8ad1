"""The synthetic VOS benchmark: DAVIS layout, determinism, measured attributes, helpers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gcseg.data import synthetic
from gcseg.data.davis import DavisDataset, read_annotation
from gcseg.data.synthetic import (
    ATTRIBUTE_CODES,
    ObjectInfo,
    RenderedVideo,
    SyntheticSpec,
    camera_motion,
    make_synthetic,
    measure_attributes,
    render_video,
    sequence_name,
)
from gcseg.data.synthetic import dataset as synthetic_dataset
from gcseg.data.synthetic.shapes import (
    FAMILIES,
    fill_alpha,
    fold,
    load_photos,
    make_shape,
    shape_area,
    shape_iou,
    smoothstep_window,
)

SMALL = SyntheticSpec(n_train=3, n_val=3, frames=(8, 12), size=(64, 112))
TINY = SyntheticSpec(n_train=1, n_val=1, frames=3, size=(64, 112))


def _digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, keyed by relative path."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small_benchmark(tmp_path_factory) -> Path:
    return make_synthetic(tmp_path_factory.mktemp("syn") / "bench", SMALL, progress=False)


def _rerender(split: str, index: int, seed: int = 0) -> RenderedVideo:
    """The video ``make_synthetic(spec)`` wrote as ``sequence_name(split, index)``, ``spec``
    being ``SMALL`` with ``seed``."""
    key = synthetic.SPLITS[split]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, index)))
    n_frames = int(rng.integers(SMALL.frames[0], SMALL.frames[1] + 1))
    return render_video(rng, n_frames, SMALL.size)


# --------------------------------------------------------------------------- layout


def test_layout_is_davis(small_benchmark: Path) -> None:
    root = small_benchmark
    for year in ("2016", "2017"):
        for split in ("train", "val"):
            listed = (root / "ImageSets" / year / f"{split}.txt").read_text().split()
            assert listed == [sequence_name(split, i) for i in range(3)]
    assert sequence_name("val", 3) == "syn-val-003"
    assert (root / "JPEGImages" / "480p" / "syn-train-000" / "00000.jpg").is_file()
    assert not list(root.parent.glob(".bench.*")), "temporary folders left behind"

    for split in ("train", "val"):
        dataset = DavisDataset(root, year="2017", split=split)
        assert len(dataset) == 3
        for sequence in dataset:
            assert 8 <= len(sequence) <= 12
            assert len(sequence.annotation_paths) == len(sequence.frame_paths)
            assert sequence.size == (64, 112)
            count = len(sequence.object_ids)
            assert sequence.object_ids == list(range(1, count + 1))  # ids 1..K in frame 0
            for path in sequence.annotation_paths:
                with Image.open(path) as image:
                    assert image.mode == "P"
                ids = set(np.unique(read_annotation(path)).tolist())
                assert ids <= set(range(count + 1))
            assert sequence.frame(0).shape == (64, 112, 3)
        merged = DavisDataset(root, year="2016", split=split)
        assert set(np.unique(merged[0].annotation(0)).tolist()) == {0, 1}


def test_index_files(small_benchmark: Path) -> None:
    table = json.loads((small_benchmark / "attributes.json").read_text())
    assert table["codes"] == ATTRIBUTE_CODES
    assert set(table["codes"]) >= {"OCC", "OV", "DR", "SV", "DEF", "FM", "SD", "MO", "CM"}
    names = [sequence_name(s, i) for s in ("train", "val") for i in range(3)]
    assert list(table["sequences"]) == names
    assert all(set(codes) <= set(ATTRIBUTE_CODES) for codes in table["sequences"].values())
    assert DavisDataset(small_benchmark, split="val").attributes == {
        name: table["sequences"][name] for name in names[3:]
    }
    meta = json.loads((small_benchmark / "synthetic.json").read_text())
    assert meta["format_version"] == synthetic.FORMAT_VERSION
    assert meta["parameters"] == {
        "seed": 0, "n_train": 3, "n_val": 3, "frames": [8, 12], "size": [64, 112], "quality": 90,
    }
    assert meta["sequences"]["syn-val-001"]["attributes"] == table["sequences"]["syn-val-001"]


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_other_seed_differs(small_benchmark: Path, tmp_path: Path) -> None:
    again = make_synthetic(tmp_path / "again", SMALL, progress=False)
    assert _digest(again) == _digest(small_benchmark)
    other = make_synthetic(tmp_path / "other", replace(SMALL, seed=1), progress=False)
    first, second = _digest(small_benchmark), _digest(other)
    assert first != second
    frame = "JPEGImages/480p/syn-val-000/00000.jpg"
    assert first[frame] != second[frame]


def test_videos_rendered_by_several_processes_are_the_same_bytes(small_benchmark: Path,
                                                                 tmp_path: Path) -> None:
    """``jobs=3``: every file, ``synthetic.json`` and the split lists included, as one process
    writes them (each video draws from its own seed sequence)."""
    parallel = make_synthetic(tmp_path / "parallel", SMALL, progress=False, jobs=3)
    assert _digest(parallel) == _digest(small_benchmark)


def test_splits_use_disjoint_seeds(small_benchmark: Path) -> None:
    train = read_annotation(small_benchmark / "Annotations/480p/syn-train-000/00000.png")
    val = read_annotation(small_benchmark / "Annotations/480p/syn-val-000/00000.png")
    assert not np.array_equal(train, val)


def test_render_video_reproduces_written_masks(small_benchmark: Path) -> None:
    video = _rerender("val", 2)
    sequence = DavisDataset(small_benchmark, split="val")[sequence_name("val", 2)]
    assert len(sequence) == len(video)
    for t in range(len(video)):
        np.testing.assert_array_equal(sequence.annotation(t), video.masks[t])


# --------------------------------------------------------------------------- content


def test_render_video_shapes_and_metadata() -> None:
    video = render_video(7, 9, (64, 112))
    assert video.frames.shape == (9, 64, 112, 3) and video.frames.dtype == np.uint8
    assert video.masks.shape == (9, 64, 112) and video.masks.dtype == np.uint8
    count = video.num_objects
    assert 1 <= count <= 3
    assert [obj.label for obj in video.objects] == list(range(1, count + 1))
    assert set(np.unique(video.masks).tolist()) <= set(range(count + 1))
    assert all(obj.label == 0 for obj in video.distractors)
    for obj in video.objects + video.distractors:
        for values in (obj.shape_area, obj.in_frame_area, obj.visible_area, obj.outline_iou):
            assert values.shape == (9,)
        assert np.all(obj.visible_area <= obj.in_frame_area)
        assert np.all(obj.in_frame_area <= obj.shape_area)
        assert obj.outline_iou[0] == 1.0
    for obj in video.objects:  # metadata agrees with the masks
        counts = (video.masks == obj.label).reshape(9, -1).sum(axis=1)
        np.testing.assert_array_equal(counts, obj.visible_area)
    assert video.background in {photo.name for photo in load_photos()}
    assert video.camera.shape == (9, 2, 3)
    twin = render_video(np.random.default_rng(7), 9, (64, 112))
    np.testing.assert_array_equal(twin.frames, video.frames)
    np.testing.assert_array_equal(twin.masks, video.masks)


def test_first_frame_objects_are_usable() -> None:
    for seed in range(6):
        video = render_video(seed, 4, (64, 112))
        first = video.masks[0]
        for obj in video.objects:
            assert np.count_nonzero(first == obj.label) >= 0.01 * first.size


def test_attributes_consistent_with_masks(small_benchmark: Path) -> None:
    table = json.loads((small_benchmark / "attributes.json").read_text())["sequences"]
    assert any("DR" in codes for codes in table.values())
    assert any("OCC" in codes for codes in table.values())
    for split in ("train", "val"):
        for sequence in DavisDataset(small_benchmark, split=split):
            masks = np.stack([sequence.annotation(t) for t in range(len(sequence))])
            present = np.stack([(masks == k).any(axis=(1, 2)) for k in sequence.object_ids])
            # DR <=> some object present in frame 0, absent later, present again after that
            comes_back = [
                (~row).any() and row[np.argmax(~row):].any() for row in present
            ]
            assert ("DR" in table[sequence.name]) == any(comes_back), sequence.name
            assert ("MO" in table[sequence.name]) == (len(sequence.object_ids) >= 2)
    # OCC: re-render one tagged video; a target loses >= 25% of its in-frame area to others
    name = next(n for n, codes in table.items() if "OCC" in codes)
    split, index = name.split("-")[1], int(name.split("-")[2])
    video = _rerender(split, index)
    assert any(
        np.any(obj.visible_area < 0.75 * obj.in_frame_area) for obj in video.objects
    )


def _info(label: int, visible, in_frame, area, role: str = "target") -> ObjectInfo:
    frames = len(visible)
    return ObjectInfo(
        label=label, role=role, family="ellipse", texture="coffee", depth=0, events=[],
        centers=np.zeros((frames, 2)), scales=np.ones(frames),
        shape_area=np.array(area), in_frame_area=np.array(in_frame),
        visible_area=np.array(visible), outline_iou=np.ones(frames),
    )


def test_measure_attributes_worked_example() -> None:
    # 3 frames of 64 x 112 (diagonal 129.0 px: fast motion means > 2.58 px per frame).
    masks = np.zeros((3, 64, 112), np.uint8)
    masks[0, 10:20, 10:20] = 1  # object 1: 100 px, then gone, then back 3 px further right
    masks[2, 10:20, 13:23] = 1
    masks[:, 40:50, 60:70] = 2  # object 2: 100 px, still
    one = _info(1, [100, 0, 100], [100, 100, 100], [100, 100, 100])  # hidden in frame 1
    two = _info(2, [100, 150, 210], [100, 150, 210], [100, 150, 210])  # grows 2.1 x
    assert measure_attributes([one, two], [], masks, camera_motion=0.0) == [
        "OCC", "DR", "SV", "MO",
    ]  # frame 1 hides object 1: no centroid step is measured across it, so no FM
    # out of view (in-frame 90 of 100 px), a 3.3 px per frame mover, a camera move of 4 px
    masks = np.zeros((3, 64, 112), np.uint8)
    for t in range(3):
        masks[t, 10:20, 10 + 3 * t : 20 + 3 * t] = 1  # centroid moves 3 px per frame
    three = _info(1, [100, 90, 100], [100, 90, 100], [100, 100, 100])
    lookalike = _info(0, [50, 50, 0], [50, 50, 0], [100, 100, 100], role="distractor")
    assert measure_attributes([three], [lookalike], masks, camera_motion=4.0) == [
        "OV", "FM", "SD", "CM",
    ]
    assert measure_attributes([three], [], masks, camera_motion=3.0) == ["OV", "FM"]  # < 3.87


def test_camera_motion_worked_example() -> None:
    still = np.tile(np.array([[2.0, 0, 5], [0, 2.0, 7]]), (4, 1, 1))
    assert camera_motion(still, (64, 112)) == 0.0
    panned = still.copy()
    panned[-1, 0, 2] += 20.0  # photo moves 20 photo px = 10 frame px at 2 photo px per pixel
    assert camera_motion(panned, (64, 112)) == pytest.approx(10.0)


# --------------------------------------------------------------------------- helpers


def test_rasterisation_worked_examples() -> None:
    square = np.array([[10, 10], [20, 10], [20, 20], [10, 20]], float)
    # pixel centres in the closed square [10, 20]^2: 11 x 11
    assert np.count_nonzero(fill_alpha(square, (30, 30)) >= 128) == 121
    assert shape_area(square) == 121
    # a window at an integer offset draws the same pixels: (8..15)^2 holds centres 10..15
    assert np.count_nonzero(fill_alpha(square, (8, 8), (8, 8)) >= 128) == 36
    # half out of the frame: 6 of 11 columns (x = 0..5) are inside
    half_out = square + np.array([-15.0, 0.0])
    assert np.count_nonzero(fill_alpha(half_out, (30, 30)) >= 128) == 66
    assert shape_area(half_out) == 121


def test_shapes_have_unit_disk_area_and_iou() -> None:
    rng = np.random.default_rng(0)
    for family in FAMILIES:
        shape = make_shape(rng, family, deform=True)
        for t in (0, 5):
            x, y = shape.outline(t).T
            area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
            assert area == pytest.approx(np.pi)
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert shape_iou(circle, circle) == 1.0
    assert shape_iou(circle, 0.5 * circle) == pytest.approx(0.25, abs=0.03)  # (1/2)^2


def test_fold_and_window_worked_examples() -> None:
    values = np.array([-1.0, 0.0, 5.0, 11.0, 12.0, 25.0])
    np.testing.assert_allclose(fold(values, 0.0, 10.0), [1, 0, 5, 9, 8, 5])
    np.testing.assert_allclose(
        smoothstep_window(10, start=2, ramp=2, plateau=3), [0, 0, 0, 0.5, 1, 1, 1, 0.5, 0, 0]
    )


# --------------------------------------------------------------------------- the writer


def test_refuses_to_overwrite_and_replaces_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="bench"):
        make_synthetic(out, TINY, progress=False)
    with pytest.raises(FileExistsError, match="not a synthetic benchmark written by gcseg"):
        make_synthetic(out, TINY, progress=False, overwrite=True)  # only one make-synthetic wrote
    assert (out / "keep.txt").read_text() == "precious"
    (out / "keep.txt").unlink()
    make_synthetic(out, TINY, progress=False)  # an empty folder is filled
    make_synthetic(out, replace(TINY, frames=2), progress=False, overwrite=True)
    assert json.loads((out / "synthetic.json").read_text())["parameters"]["frames"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]


def test_interrupted_run_leaves_previous_dataset(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "bench"
    make_synthetic(out, TINY, progress=False)
    before = _digest(out)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return render_video(*args, **kwargs)

    monkeypatch.setattr(synthetic_dataset, "render_video", failing)
    with pytest.raises(KeyboardInterrupt):
        make_synthetic(out, replace(TINY, seed=5), progress=False, overwrite=True)
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="frames"):
        SyntheticSpec(frames=(5, 3))
    with pytest.raises(ValueError, match="too small"):
        render_video(0, 4, (16, 16))
    with pytest.raises(TypeError):
        render_video("seed", 4, (64, 64))

"""Training data: still-image sources, Way-1/Way-2 simulation, video pairs and clips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gcseg.data.davis import DavisDataset, DavisFormatError, write_annotation, write_frame
from gcseg.data.pairs import (
    NO_AUGMENTATION,
    SimulatedPairs,
    VideoClips,
    VideoPairs,
    sample_interval,
)
from gcseg.data.simulate import elastic_field, way1, way2
from gcseg.data.still_images import MSRA10K, ConcatStills, DavisStills, PascalVOCObjects
from gcseg.data.transforms import bounding_box, perturb_mask, random_crop_box
from tests.conftest import square_video, write_davis


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _textured(size=(64, 96), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (*size, 3), dtype=np.uint8)


def _disk(size=(64, 96), center=(30, 40), radius=12) -> np.ndarray:
    yy, xx = np.mgrid[: size[0], : size[1]]
    return (yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= radius**2


# --------------------------------------------------------------------------- transforms


def test_bounding_box_and_crop_box():
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    assert bounding_box(mask) == (3, 2, 9, 5)
    assert bounding_box(np.zeros((4, 4))) is None
    rng = np.random.default_rng(0)
    for _ in range(20):
        x0, y0, x1, y1 = random_crop_box((240, 432), rng, scale=(0.5, 1.0), aspect=432 / 240)
        assert 0 <= x0 < x1 <= 432 and 0 <= y0 < y1 <= 240
        assert abs((x1 - x0) / (y1 - y0) - 1.8) < 0.05


def test_perturbed_mask_stays_near_the_object():
    mask = _disk((96, 128), (48, 64), 20)
    rng = np.random.default_rng(0)
    ious = [_iou(perturb_mask(mask, rng).astype(bool), mask) for _ in range(20)]
    assert min(ious) > 0.4  # a rough location cue ...
    assert np.mean(ious) < 0.98  # ... not a copy of the ground truth
    assert not perturb_mask(np.zeros((8, 8)), rng).any()


def test_elastic_field_is_bounded_and_smooth():
    map_x, map_y = elastic_field((40, 60), np.random.default_rng(1), amplitude=3.0)
    grid_y, grid_x = np.mgrid[0:40, 0:60]
    dx, dy = map_x - grid_x, map_y - grid_y
    assert np.isclose(np.abs(dx).max(), 3.0) and np.isclose(np.abs(dy).max(), 3.0)
    assert np.abs(np.diff(dx, axis=1)).max() < 0.5  # neighbours move together


# --------------------------------------------------------------------------- simulation


def test_way1_moves_the_object_on_its_inpainted_background():
    image, mask = _textured(), _disk()
    pair = way1(image, mask, np.random.default_rng(3))
    assert pair.way == 1 and pair.target_mask.any()
    np.testing.assert_array_equal(pair.ref_image, image)
    np.testing.assert_array_equal(pair.ref_mask, mask)
    assert 0.3 < _iou(pair.target_mask, mask) < 1.0  # moved a little
    far = ~_disk(radius=20) & ~pair.target_mask  # away from the hole and the new object
    np.testing.assert_array_equal(pair.target_image[far], image[far])
    hole = mask & ~pair.target_mask
    assert (pair.target_image[hole] != image[hole]).any()  # the old object is gone


def test_way2_pastes_the_object_on_another_image():
    image, mask = _textured(seed=1), _disk()
    other, other_mask = _textured(seed=2), _disk(center=(40, 70), radius=8)
    for occlusion_prob in (0.0, 1.0):  # the same seed: the same move, then occluded or not
        rng = np.random.default_rng(5)
        pair = way2(image, mask, other, other_mask, rng, occlusion_prob=occlusion_prob)
        assert pair.way == 2 and pair.target_mask.any()
        if occlusion_prob == 0.0:
            outside = ~pair.target_mask
            np.testing.assert_array_equal(pair.target_image[outside], other[outside])
            unoccluded = pair.target_mask
        else:  # the other image's object covers part of ours, never all of it
            assert not (pair.target_mask & ~unoccluded).any()
            assert 0 < pair.target_mask.sum() < unoccluded.sum()


def test_simulated_pairs_dataset_is_seeded():
    dataset = DavisStills(_small_dataset(), stride=2)
    pairs = SimulatedPairs(dataset, (48, 80), samples_per_epoch=6, seed=1)
    first, again = pairs[2], pairs[2]
    for key in first:
        torch.testing.assert_close(first[key], again[key])
    assert first["target_image"].shape == (3, 48, 80)
    assert first["target_mask"].shape == (1, 48, 80)
    pairs.set_epoch(1)
    assert not torch.equal(pairs[2]["target_image"], first["target_image"])


# --------------------------------------------------------------------------- still images


def test_pascal_voc_instances(tmp_path):
    root = tmp_path / "VOC2012"
    ids = np.zeros((40, 50), np.uint8)
    ids[5:20, 5:20] = 1
    ids[25:35, 30:45] = 2
    ids[0, 0] = 3  # one pixel: below the minimum area
    ids[4, 5:20] = 255  # the void band around objects
    write_annotation(root / "SegmentationObject" / "2007_000001.png", ids)
    write_frame(root / "JPEGImages" / "2007_000001.jpg", _textured((40, 50)))
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation" / "train.txt").write_text("2007_000001\n")
    source = PascalVOCObjects(root, "train")
    assert len(source) == 2
    image, mask = source[1]
    assert image.shape == (40, 50, 3)
    np.testing.assert_array_equal(mask, ids == 2)
    with pytest.raises(DavisFormatError, match="val.txt: Pascal VOC split file not found"):
        PascalVOCObjects(root, "val")


def test_msra10k_pairs_and_concat(tmp_path):
    root = tmp_path / "Imgs"
    root.mkdir()
    write_frame(root / "1.jpg", _textured((30, 40)))
    Image.fromarray((_disk((30, 40), (15, 20), 8) * 255).astype(np.uint8)).save(root / "1.png")
    source = MSRA10K(root)
    image, mask = source[0]
    np.testing.assert_array_equal(mask, _disk((30, 40), (15, 20), 8))
    stills = DavisStills(_small_dataset(), stride=4)
    both = ConcatStills([source, stills])
    assert len(both) == 1 + len(stills)
    np.testing.assert_array_equal(both[0][1], mask)
    np.testing.assert_array_equal(both[1][1], stills[0][1])
    write_frame(root / "2.jpg", _textured((30, 40)))
    with pytest.raises(DavisFormatError, match="2.png: mask of 2.jpg missing"):
        MSRA10K(root)


# --------------------------------------------------------------------------- video samples


def _small_dataset() -> DavisDataset:
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp()) / "davis"
    write_davis(
        root,
        {
            "a": square_video(frames=12, size=(64, 96), objects=2),
            "b": square_video(frames=6, size=(64, 96), seed=3),
        },
        split="train",
    )
    return DavisDataset(root, split="train")


def test_sample_interval_covers_the_three_kinds():
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(200):
        ref, target, kind = sample_interval(30, rng)
        kinds.add(kind)
        assert 0 <= ref < target < 30
        if kind == "short":
            assert target - ref <= 2
    assert kinds == {"short", "middle", "long"}
    assert sample_interval(2, rng)[:2] == (0, 1)


def test_video_pairs_follow_the_ground_truth():
    dataset = _small_dataset()
    pairs = VideoPairs(dataset, (64, 96), samples_per_epoch=8, augment=NO_AUGMENTATION, seed=0)
    gts = {
        name: [dataset[name].annotation(i) for i in range(len(dataset[name]))]
        for name in dataset.sequences
    }
    for index in range(8):
        sample = pairs[index]
        target = sample["target_mask"][0].numpy().astype(bool)
        ref = sample["ref_mask"][0].numpy().astype(bool)
        # Both masks are one object of one of the videos, in some frame.
        assert any(
            any(np.array_equal(gt == k, target) for gt in frames for k in (1, 2))
            for frames in gts.values()
        )
        assert ref.any()
    never = VideoPairs(dataset, (64, 96), samples_per_epoch=8, prev_zero_prob=0.0, seed=0)
    always = VideoPairs(dataset, (64, 96), samples_per_epoch=8, prev_zero_prob=1.0, seed=0)
    assert all(never[i]["target_prev_mask"].sum() > 0 for i in range(8))
    assert all(always[i]["target_prev_mask"].sum() == 0 for i in range(8))


def test_video_clips():
    clips = VideoClips(_small_dataset(), (32, 48), clip_length=3, samples_per_epoch=4, seed=2)
    sample = clips[1]
    assert sample["images"].shape == (3, 3, 32, 48)
    assert sample["masks"].shape == (3, 1, 32, 48)
    assert sample["masks"][0].sum() > 0
    assert set(sample["masks"].unique().tolist()) <= {0.0, 1.0}


def test_void_pixels_are_marked_and_left_out_of_the_loss(tmp_path):
    """Label 255 (void) is background for the network's inputs, but no term of eq. 3 counts
    it: pairs and clips carry a void mask, and the trainer's loss leaves those pixels out."""
    from gcseg.train import Trainer, stage_loss
    from tests.conftest import small_config

    frames, masks = square_video(frames=6, size=(64, 96))
    masks = masks.copy()
    masks[:, :, :8] = 255  # a void band on the left of every frame
    root = write_davis(tmp_path / "davis", {"v": (frames, masks)}, split="train")
    dataset = DavisDataset(root, "2017", "train")
    pair = VideoPairs(dataset, (64, 96), samples_per_epoch=2, augment=NO_AUGMENTATION, seed=0)[0]
    band = torch.zeros(1, 64, 96, dtype=torch.bool)
    band[:, :, :8] = True
    assert torch.equal(pair["target_void"], band) and torch.equal(pair["ref_void"], band)
    assert set(pair["target_mask"].unique().tolist()) <= {0.0, 1.0}  # inputs stay 0/1
    clip = VideoClips(dataset, (64, 96), clip_length=3, samples_per_epoch=2,
                      augment=NO_AUGMENTATION)[0]
    assert clip["voids"].shape == (3, 1, 64, 96) and torch.equal(clip["voids"][0], band)

    config = small_config("full")
    config.data.root = str(root)
    trainer = Trainer(config, tmp_path / "run", device="cpu", progress=False)
    batch = {key: value[None] for key, value in pair.items()}
    clips = {key: value[None] for key, value in clip.items()}
    with torch.no_grad():
        assert float(stage_loss(trainer.model, "video", batch, config.train)) > 0
        assert float(stage_loss(trainer.model, "recurrent", clips, config.train)) > 0
        batch["target_void"] = torch.ones_like(batch["target_void"])
        batch["ref_void"] = torch.ones_like(batch["ref_void"])
        clips["voids"] = torch.ones_like(clips["voids"])
        # nothing counts
        assert float(stage_loss(trainer.model, "video", batch, config.train)) == 0.0
        assert float(stage_loss(trainer.model, "recurrent", clips, config.train)) == 0.0

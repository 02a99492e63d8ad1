"""The DAVIS layout reader and writer, on fixtures written by the tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gcseg.data.davis import (
    PALETTE,
    DavisDataset,
    DavisFormatError,
    read_annotation,
    read_frame,
    write_annotation,
    write_frame,
    write_sequence_results,
)
from tests.conftest import square_video, write_davis


def test_palette_is_the_davis_colour_map():
    assert PALETTE.shape == (256, 3) and PALETTE.dtype == np.uint8
    assert PALETTE[0].tolist() == [0, 0, 0]
    assert PALETTE[1].tolist() == [128, 0, 0]
    assert PALETTE[2].tolist() == [0, 128, 0]
    assert PALETTE[3].tolist() == [128, 128, 0]
    assert PALETTE[4].tolist() == [0, 0, 128]
    assert PALETTE[255].tolist() == [224, 224, 192]


def test_annotation_round_trip_is_a_palette_png(tmp_path):
    mask = np.zeros((5, 7), dtype=np.uint8)
    mask[1:3, 2:5] = 2
    mask[4, 6] = 255
    path = tmp_path / "a" / "00000.png"
    write_annotation(path, mask)
    with Image.open(path) as image:
        assert image.mode == "P"
        assert list(image.getpalette()[:9]) == [0, 0, 0, 128, 0, 0, 0, 128, 0]
    np.testing.assert_array_equal(read_annotation(path), mask)
    assert not list(tmp_path.glob("a/*.tmp"))


def test_non_palette_annotation_is_rejected_by_name(tmp_path):
    path = tmp_path / "rgb.png"
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(path)
    with pytest.raises(DavisFormatError, match="rgb.png.*'RGB'-mode.*palette"):
        read_annotation(path)
    gray = tmp_path / "gray.png"
    Image.fromarray(np.full((4, 4), 3, dtype=np.uint8)).save(gray)
    with pytest.raises(DavisFormatError, match="gray.png"):
        read_annotation(gray)
    assert read_annotation(gray, require_palette=False).tolist() == [[3] * 4] * 4


def test_unreadable_and_missing_images_are_named(tmp_path):
    broken = tmp_path / "00000.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(DavisFormatError, match="00000.jpg: cannot read image"):
        read_frame(broken)
    with pytest.raises(DavisFormatError, match="missing.png: file not found"):
        read_annotation(tmp_path / "missing.png")


def test_frame_round_trip(tmp_path):
    image = np.zeros((16, 24, 3), dtype=np.uint8)
    image[:, :12] = (200, 40, 10)
    write_frame(tmp_path / "f.jpg", image, quality=95)
    back = read_frame(tmp_path / "f.jpg")
    assert back.shape == (16, 24, 3) and back.dtype == np.uint8
    assert np.abs(back.astype(int) - image).mean() < 4
    with pytest.raises(ValueError, match="uint8"):
        write_frame(tmp_path / "g.jpg", image.astype(np.float32))


def test_dataset_reads_sequences_lazily(tiny_davis):
    dataset = DavisDataset(tiny_davis, year="2017", split="val")
    assert dataset.sequences == ["one", "two"] and len(dataset) == 2
    two = dataset["two"]
    assert dataset[1] is two
    assert len(two) == 4 and two.size == (32, 48)
    assert two.frame_names == ["00000", "00001", "00002", "00003"]
    assert two.object_ids == [1, 2]
    assert two.frame(2).shape == (32, 48, 3)
    _, masks = square_video(objects=2, seed=1)
    np.testing.assert_array_equal(two.annotation(3), masks[3])
    np.testing.assert_array_equal(two.first_mask, masks[0])
    dataset.validate()
    with pytest.raises(KeyError, match="nope"):
        dataset["nope"]


def test_2016_merges_objects_and_keeps_void(tmp_path):
    frames, masks = square_video(objects=2)
    masks[:, 0, 0] = 255
    root = write_davis(tmp_path / "d", {"s": (frames, masks)})
    sequence = DavisDataset(root, year="2016")["s"]
    mask = sequence.annotation(1)
    assert set(np.unique(mask).tolist()) == {0, 1, 255}
    assert (mask == 1).sum() == ((masks[1] == 1) | (masks[1] == 2)).sum()
    assert sequence.object_ids == [1]


def test_attributes_json(tmp_path):
    root = write_davis(
        tmp_path / "d", {"s": square_video()}, attributes={"s": ["OCC", "DR"], "other": ["SV"]}
    )
    dataset = DavisDataset(root)
    assert dataset.attributes == {"s": ["OCC", "DR"]}
    (root / "attributes.json").write_text("{broken")
    with pytest.raises(DavisFormatError, match="attributes.json"):
        _ = DavisDataset(root).attributes


def test_results_writer_uses_the_official_layout(tmp_path, tiny_davis):
    sequence = DavisDataset(tiny_davis)["one"]
    masks = [sequence.annotation(i) for i in range(len(sequence))]
    folder = write_sequence_results(tmp_path / "results", "one", masks, sequence.frame_names)
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:05d}.png" for i in range(4)]
    np.testing.assert_array_equal(read_annotation(folder / "00002.png"), masks[2])
    with pytest.raises(ValueError):
        write_sequence_results(tmp_path / "r", "one", masks[:2], sequence.frame_names)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda root: (root / "ImageSets" / "2017" / "val.txt").unlink(), "val.txt: split file"),
        (lambda root: _rmtree(root / "JPEGImages"), "JPEGImages/480p: folder not found"),
        (lambda root: _rmtree(root / "Annotations" / "480p" / "two"), "two.*not found"),
        (
            lambda root: (root / "Annotations" / "480p" / "one" / "00002.png").rename(
                root / "Annotations" / "480p" / "one" / "00009.png"
            ),
            r"one/00009.png: annotation name does not match any frame .*4 frames",
        ),
        (
            lambda root: (root / "Annotations" / "480p" / "one" / "00000.png").unlink(),
            r"one/00001.png: first annotation does not match the first frame 00000.jpg",
        ),
    ],
)
def test_layout_errors_name_the_file(tiny_davis, damage, message):
    damage(tiny_davis)
    with pytest.raises(DavisFormatError, match=message):
        DavisDataset(tiny_davis)


def test_dense_sequences_annotate_every_frame(tiny_davis):
    sequence = DavisDataset(tiny_davis)["two"]
    assert sequence.annotated_indices == [0, 1, 2, 3] and sequence.fully_annotated
    _, masks = square_video(objects=2, seed=1)
    np.testing.assert_array_equal(sequence.annotation(-1), masks[3])
    with pytest.raises(IndexError, match="two: frame 4 out of range"):
        sequence.annotation(4)


def _drop_annotations(root, sequence: str, frames) -> None:
    for t in frames:
        (root / "Annotations" / "480p" / sequence / f"{t:05d}.png").unlink()


def test_sparse_annotations_are_read_by_frame(tmp_path):
    """YouTube-Objects-like ground truth: frames 0, 3 and 6 of 7 annotated."""
    frames, masks = square_video(frames=7, objects=2)
    masks[3, 0, 0] = 255
    root = write_davis(tmp_path / "d", {"s": (frames, masks)})
    _drop_annotations(root, "s", (1, 2, 4, 5))
    sequence = DavisDataset(root)["s"]
    assert len(sequence) == 7 and len(sequence.annotation_paths) == 3
    assert sequence.annotated_indices == [0, 3, 6] and not sequence.fully_annotated
    assert sequence.frame_names == [f"{t:05d}" for t in range(7)]
    np.testing.assert_array_equal(sequence.first_mask, masks[0])
    np.testing.assert_array_equal(sequence.annotation(3), masks[3])
    np.testing.assert_array_equal(sequence.annotation(-1), masks[6])
    assert sequence.object_ids == [1, 2]
    with pytest.raises(IndexError, match=r"s: frame 4 \(00004.jpg\) has no annotation; "
                       r"annotated frames: \[0, 3, 6\]"):
        sequence.annotation(4)
    sequence.validate()  # reads the 7 frames and the 3 annotations

    merged = DavisDataset(root, year="2016")["s"].annotation(3)  # 2016: objects merged, void kept
    assert set(np.unique(merged).tolist()) == {0, 1, 255}


def test_first_frame_only_sequences_still_open(tmp_path):
    root = write_davis(tmp_path / "d", {"s": square_video()})
    _drop_annotations(root, "s", (1, 2, 3))
    sequence = DavisDataset(root)["s"]
    assert sequence.annotated_indices == [0] and not sequence.fully_annotated
    assert sequence.object_ids == [1]
    with pytest.raises(IndexError, match="frame 1 .* has no annotation"):
        sequence.annotation(1)
    with pytest.raises(IndexError, match="has no annotation"):
        sequence.annotation(-1)  # the last frame, not the last annotation


def test_sparse_annotation_errors_name_the_file(tmp_path):
    frames, masks = square_video(frames=7)
    root = write_davis(tmp_path / "d", {"s": (frames, masks)})
    _drop_annotations(root, "s", (1, 2, 4, 5))
    wrong = root / "Annotations" / "480p" / "s" / "00003.png"
    write_annotation(wrong, np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(DavisFormatError, match=r"s/00003.png: size 10x10 .* 48x32"):
        DavisDataset(root).validate()
    _drop_annotations(root, "s", (0,))
    with pytest.raises(DavisFormatError, match=r"s/00003.png: first annotation does not match"):
        DavisDataset(root)


def test_training_sources_use_annotated_frames_only(tmp_path):
    """Stills come from annotated frames; pairs and clips need every frame annotated."""
    from gcseg.data.pairs import VideoPairs
    from gcseg.data.still_images import DavisStills

    root = write_davis(
        tmp_path / "d", {"dense": square_video(), "sparse": square_video(frames=7, seed=1)}
    )
    _drop_annotations(root, "sparse", (1, 2, 4, 5))
    dataset = DavisDataset(root)
    stills = DavisStills(dataset, stride=1)
    assert [(name, t) for name, t, _ in stills.items] == [
        ("dense", 0), ("dense", 1), ("dense", 2), ("dense", 3),
        ("sparse", 0), ("sparse", 3), ("sparse", 6),
    ]
    assert [s.name for s in VideoPairs(dataset, out_size=(16, 16)).sequences] == ["dense"]
    with pytest.raises(ValueError, match="no fully annotated videos"):
        VideoPairs(DavisDataset(root, sequences=["sparse"]), out_size=(16, 16))


def test_content_errors_name_the_file(tiny_davis):
    annotation = tiny_davis / "Annotations" / "480p" / "one" / "00001.png"
    write_annotation(annotation, np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(DavisFormatError, match=r"00001.png: size 10x10 .* 48x32"):
        DavisDataset(tiny_davis).validate()

    frame = tiny_davis / "JPEGImages" / "480p" / "two" / "00003.jpg"
    frame.write_bytes(b"\x00garbage")
    with pytest.raises(DavisFormatError, match="00003.jpg: cannot read image"):
        DavisDataset(tiny_davis)["two"].validate()


def test_empty_first_frame_mask_is_an_error(tmp_path):
    frames, masks = square_video()
    masks[0] = 0
    root = write_davis(tmp_path / "d", {"s": (frames, masks)})
    with pytest.raises(DavisFormatError, match="00000.png: the first-frame mask is empty"):
        DavisDataset(root).validate()


def _rmtree(path):
    import shutil

    shutil.rmtree(path)


def test_annotation_rules_and_holes(tmp_path):
    """Sparse ground truth only by a rule (first frame only, every N-th frame) or declared."""
    root = write_davis(tmp_path / "d", {"dense": square_video(7), "grid": square_video(7),
                                        "first": square_video(7), "declared": square_video(7)})
    _drop_annotations(root, "grid", (1, 3, 5))  # 0, 2, 4, 6
    _drop_annotations(root, "first", range(1, 7))
    _drop_annotations(root, "declared", (2, 3, 4, 6))  # 0, 1, 5: no rule
    folder = root / "Annotations" / "480p"
    with pytest.raises(DavisFormatError, match=rf"{folder}/declared/00002.png: annotation of "
                       r"frame 00002.jpg not found; the annotations of 'declared' \(3 for 7"):
        DavisDataset(root)
    manifest = root / "sparse_annotations.json"
    manifest.write_text('{"sequences": {"declared": {"annotated": ["00000", "00001", "00005"]}}}')
    dataset = DavisDataset(root)
    assert {s.name: s.annotation_rule for s in dataset} == {
        "dense": "every frame", "grid": "every 2nd frame", "first": "first frame only",
        "declared": "declared in sparse_annotations.json"}
    assert dataset.annotation_rules()["every 2nd frame"] == ["grid"]
    assert dataset["declared"].annotated_indices == [0, 1, 5]

    _drop_annotations(root, "dense", (4,))  # one hole in a dense sequence
    with pytest.raises(DavisFormatError, match=r"dense/00004.png: annotation of frame "
                       r"00004.jpg not found"):
        DavisDataset(root)
    write_annotation(folder / "dense" / "00004.png", square_video(7)[1][4])
    write_annotation(folder / "grid" / "00005.png", square_video(7)[1][5])  # off the grid
    with pytest.raises(DavisFormatError, match=r"grid/00005.png: annotation off the pattern of "
                       r"the others \(every 2nd frame\)"):
        DavisDataset(root)
    (folder / "grid" / "00005.png").unlink()
    write_annotation(folder / "declared" / "00003.png", square_video(7)[1][3])
    with pytest.raises(DavisFormatError, match=r"declared/00003.png: annotation not declared in "
                       r".*sparse_annotations.json"):
        DavisDataset(root)
    manifest.write_text('{"sequences": ["declared"]}')
    with pytest.raises(DavisFormatError, match=r"sparse_annotations.json: expected JSON"):
        DavisDataset(root)


def test_special_and_empty_files_are_named(tiny_davis):
    import os

    frame = tiny_davis / "JPEGImages" / "480p" / "one" / "00001.jpg"
    frame.unlink()
    frame.mkdir()
    with pytest.raises(DavisFormatError, match=r"one/00001.jpg: is a folder, not a regular file"):
        DavisDataset(tiny_davis)
    frame.rmdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(frame)
        with pytest.raises(DavisFormatError, match=r"00001.jpg: is a FIFO \(named pipe\)"):
            DavisDataset(tiny_davis)
        with pytest.raises(DavisFormatError, match=r"00001.jpg: is a FIFO"):
            read_frame(frame)  # refused before it is opened (opening would block)
        frame.unlink()
    frame.write_bytes(b"")
    with pytest.raises(DavisFormatError, match=r"00001.jpg: empty file \(0 bytes\)"):
        DavisDataset(tiny_davis)


def test_split_file_must_be_utf8_plain_names(tiny_davis):
    split = tiny_davis / "ImageSets" / "2017" / "val.txt"
    split.write_bytes(b"one\n\xe9t\xe9\n")
    with pytest.raises(DavisFormatError, match=r"val.txt: not UTF-8 text \(byte 0xe9 at offset "
                       r"4\)"):
        DavisDataset(tiny_davis)
    split.write_text("one\n..\n")
    with pytest.raises(DavisFormatError, match=r"val.txt: sequence name '..' is not a plain"):
        DavisDataset(tiny_davis)
    with pytest.raises(DavisFormatError, match=r"asked for: sequence name 'a/b'"):
        DavisDataset(tiny_davis, sequences=["a/b"])
    (tiny_davis / "attributes.json").write_bytes(b'{"sequences": {"one": ["\xff"]}}')
    with pytest.raises(DavisFormatError, match=r"attributes.json: not UTF-8"):
        _ = DavisDataset(tiny_davis, sequences=["one"]).attributes

"""data_prep/: checking DAVIS folders, converting DAVIS-2016 and YouTube-Objects; the recipe.

Fixtures are tiny datasets written in each source's own layout: the original DAVIS-2016
release (grayscale 0/255 masks, ``ImageSets/480p`` path pairs) and the YouTube-Objects
segmentation ground truth (``<class>/data/<video>/shots/<shot>/{images,labels}``, JPEG masks).
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from gcseg.cli import build_parser
from gcseg.cli import main as cli_main
from gcseg.config import GCSegConfig, load_config
from gcseg.data.conversion import binary_mask
from gcseg.data.davis import (
    DavisDataset,
    DavisFormatError,
    read_annotation,
    write_annotation,
    write_sequence_results,
)
from gcseg.data.davis2016 import convert_davis2016, read_davis2016_split
from gcseg.data.davis_check import check_davis
from gcseg.data.youtube_objects import ShotConversion, convert_youtube_objects
from gcseg.evaluation import evaluate
from tests.conftest import square_video, write_davis

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "docs" / "reproduce_davis.md"
SCRIPTS = {
    "check_davis": "check",
    "convert_davis2016": "convert-davis2016",
    "convert_youtube_objects": "convert-youtube-objects",
}
"""``data_prep/<script>.py`` -> the ``python -m gcseg data`` command it forwards to."""


# --------------------------------------------------------------------------- source fixtures


def _save(path: Path, array: np.ndarray, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def write_davis2016_release(
    root: Path, splits: dict[str, list[str]] | None = None, frames: int = 3,
    size: tuple[int, int] = (24, 32), plain_names: bool = False,
) -> Path:
    """The original DAVIS-2016 layout: JPEGs, grayscale 0/255 masks, path-pair split files."""
    splits = splits or {"train": ["bear"], "val": ["blackswan", "cows"]}
    for seed, name in enumerate(n for names in splits.values() for n in names):
        images, masks = square_video(frames=frames, size=size, seed=seed)
        for t in range(frames):
            _save(root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg", images[t], quality=95)
            _save(root / "Annotations" / "480p" / name / f"{t:05d}.png",
                  (masks[t] > 0).astype(np.uint8) * 255)  # mode "L": 255 = the object
    for split, names in splits.items():
        if plain_names:
            lines = [f"{name}\n" for name in names]
        else:
            lines = [f"/JPEGImages/480p/{name}/{t:05d}.jpg /Annotations/480p/{name}/{t:05d}.png\n"
                     for name in names for t in range(frames)]
        path = root / "ImageSets" / "480p" / f"{split}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines))
    return root


def write_youtube_shot(
    root: Path, category: str, video: str, labelled: tuple[int, ...] = (1, 4, 7),
    frame_scale: int = 1, seed: int = 0,
) -> Path:
    """Shot 001 of Jain & Grauman's release: 7 frames images/frameNNNN.jpg (24x32 pixels times
    ``frame_scale``), masks labels/NNNNN.jpg (0/255) of the ``labelled`` frame numbers."""
    folder = root / category / "data" / video / "shots" / "001"
    frames = 7
    images, masks = square_video(frames=frames, size=(24, 32), seed=seed)
    for t in range(frames):
        number = t + 1
        image = images[t]
        if frame_scale != 1:
            image = np.kron(image, np.ones((frame_scale, frame_scale, 1), dtype=np.uint8))
        _save(folder / "images" / f"frame{number:04d}.jpg", image, quality=95)
        if number in labelled:
            _save(folder / "labels" / f"{number:05d}.jpg", (masks[t] > 0).astype(np.uint8) * 255,
                  quality=90)
    return folder


@pytest.fixture
def davis2016(tmp_path: Path) -> Path:
    return write_davis2016_release(tmp_path / "DAVIS2016-original")


@pytest.fixture
def youtube(tmp_path: Path) -> Path:
    root = tmp_path / "youtube_masks"
    write_youtube_shot(root, "aeroplane", "0001")
    write_youtube_shot(root, "cat", "0012", labelled=(1, 3, 5, 7), seed=1)
    write_youtube_shot(root, "cow", "0019", labelled=(4,), seed=2)  # one mask: skipped
    return root


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]


# --------------------------------------------------------------------------- masks


def test_binary_mask_reads_grayscale_jpeg_and_palette(tmp_path):
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 255
    gray = _save(tmp_path / "m.png", mask)
    noisy = _save(tmp_path / "m.jpg", mask, quality=70)
    palette = Image.fromarray((mask > 0).astype(np.uint8), mode="P")
    palette.save(tmp_path / "p.png")
    for path in (gray, noisy, tmp_path / "p.png"):
        np.testing.assert_array_equal(binary_mask(path), mask > 0)
    with pytest.raises(DavisFormatError, match=re.escape(str(tmp_path / "none.png"))):
        binary_mask(tmp_path / "none.png")


def test_read_davis2016_split_both_forms(tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png\n"
                     "/JPEGImages/480p/bear/00001.jpg /Annotations/480p/bear/00001.png\n\n"
                     "/JPEGImages/480p/cows/00000.jpg /Annotations/480p/cows/00000.png\n")
    names = tmp_path / "names.txt"
    names.write_text("bear\ncows\n")
    assert read_davis2016_split(pairs) == read_davis2016_split(names) == ["bear", "cows"]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(DavisFormatError, match="empty.txt: split file lists no sequences"):
        read_davis2016_split(empty)


# --------------------------------------------------------------------------- DAVIS-2016


def test_convert_davis2016_writes_the_davis_layout(davis2016, tmp_path):
    out = tmp_path / "DAVIS2016"
    report = convert_davis2016(davis2016, out, progress=False)
    assert report.splits == {"train": ["bear"], "val": ["blackswan", "cows"]}
    assert (report.frames, report.annotations) == (9, 9)
    assert (out / "ImageSets" / "2016" / "val.txt").read_text() == "blackswan\ncows\n"
    for split, names in report.splits.items():
        dataset = DavisDataset(out, year="2016", split=split)
        dataset.validate()  # palette PNGs, sizes equal, first mask not empty
        assert dataset.sequences == names
    source = davis2016 / "Annotations" / "480p" / "cows" / "00002.png"
    written = out / "Annotations" / "480p" / "cows" / "00002.png"
    assert Image.open(written).mode == "P"
    ids = read_annotation(written)
    assert set(np.unique(ids)) == {0, 1}  # object id 1, never 255 (void)
    np.testing.assert_array_equal(ids == 1, np.asarray(Image.open(source)) == 255)
    frame = "JPEGImages/480p/bear/00001.jpg"
    assert (out / frame).read_bytes() == (davis2016 / frame).read_bytes()
    assert json.loads((out / "prepared.json").read_text())["frames"] == 9
    assert "val 2 sequences" in report.summary()
    assert any("the official release has 20" in w for w in report.warnings)

    checked = check_davis(out, progress=False)
    assert [(s.year, s.split, s.sequences, s.frames, s.objects) for s in checked.splits] == [
        ("2016", "train", 1, 3, 1), ("2016", "val", 2, 6, 2)]
    assert checked.splits[0].sizes == {"32x24": 1}


def test_convert_davis2016_plain_names_and_links(tmp_path):
    src = write_davis2016_release(tmp_path / "src", plain_names=True)
    out = tmp_path / "out"
    convert_davis2016(src, out, link=True, splits=("val",), progress=False)
    assert DavisDataset(out, year="2016", split="val").sequences == ["blackswan", "cows"]
    assert not (out / "JPEGImages" / "480p" / "bear").exists()  # not in a converted split
    frame = "JPEGImages/480p/cows/00000.jpg"
    assert (out / frame).stat().st_ino == (src / frame).stat().st_ino


@pytest.mark.parametrize("damage, message", [
    ("missing_annotation", r"cows/00001\.png: annotation of frame .* not found"),
    ("wrong_size", r"cows/00001\.png: size 16x24 \(WxH\) differs from its frame"),
    ("corrupt", r"cows/00001\.png: cannot read image"),
    ("empty_first", r"cows/00000\.png: the first-frame mask is empty"),
    ("missing_sequence", r"480p/cows: folder of sequence 'cows' not found \(listed in .*val\.txt"),
    ("missing_split", r"ImageSets/480p/val\.txt: split file not found"),
])
def test_convert_davis2016_errors_name_the_file(davis2016, tmp_path, damage, message):
    masks = davis2016 / "Annotations" / "480p" / "cows"
    if damage == "missing_annotation":
        (masks / "00001.png").unlink()
    elif damage == "wrong_size":
        _save(masks / "00001.png", np.zeros((24, 16), np.uint8))
    elif damage == "corrupt":
        (masks / "00001.png").write_bytes(b"not a png")
    elif damage == "empty_first":
        _save(masks / "00000.png", np.zeros((24, 32), np.uint8))
    elif damage == "missing_sequence":
        for folder in (masks, davis2016 / "JPEGImages" / "480p" / "cows"):
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()
    elif damage == "missing_split":
        (davis2016 / "ImageSets" / "480p" / "val.txt").unlink()
    with pytest.raises(DavisFormatError, match=message):
        convert_davis2016(davis2016, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists() and not _leftovers(tmp_path)


def test_an_existing_output_is_kept_unless_a_run_succeeds_with_overwrite(davis2016, tmp_path):
    out = tmp_path / "DAVIS2016"
    convert_davis2016(davis2016, out, progress=False)
    good = _tree(out)
    with pytest.raises(FileExistsError, match="DAVIS2016: folder exists and is not empty"):
        convert_davis2016(davis2016, out, progress=False)

    (davis2016 / "Annotations" / "480p" / "cows" / "00002.png").write_bytes(b"broken")
    with pytest.raises(DavisFormatError, match=r"cows/00002\.png: cannot read image"):
        convert_davis2016(davis2016, out, overwrite=True, progress=False)
    assert _tree(out) == good and not _leftovers(tmp_path)

    mask = np.zeros((24, 32), np.uint8)
    mask[2:20, 2:30] = 255
    _save(davis2016 / "Annotations" / "480p" / "cows" / "00002.png", mask)
    convert_davis2016(davis2016, out, overwrite=True, progress=False)
    assert (read_annotation(out / "Annotations" / "480p" / "cows" / "00002.png") == 1).sum() == \
        18 * 28
    assert not _leftovers(tmp_path)
    with pytest.raises(FileExistsError, match="is, holds or lies in the command's input"):
        convert_davis2016(davis2016, davis2016 / "converted", progress=False)


# --------------------------------------------------------------------------- check_davis


def test_check_davis_summary_and_warnings(tmp_path):
    root = write_davis(tmp_path / "davis", {"a": square_video(objects=2), "b": square_video()})
    write_davis(root, {"a": square_video(objects=2), "c": square_video(seed=2)}, split="train",
                years=("2017",))
    result = check_davis(root, progress=False)
    table = {(s.year, s.split): (s.sequences, s.frames, s.objects) for s in result.splits}
    assert table == {("2016", "val"): (2, 8, 2), ("2017", "train"): (2, 8, 3),
                     ("2017", "val"): (2, 8, 3)}
    warnings = "\n".join(result.warnings)
    assert "ImageSets/2016/train.txt: split file not found" in warnings
    assert "DAVIS-2017 val: 2 sequences, the official release has 30" in warnings
    assert "DAVIS-2017 val: 3 objects, the official release has 61" in warnings
    assert "DAVIS-2017: 1 sequences in both train and val (a)" in warnings
    assert "2016  val    2" in result.table()

    only = check_davis(root, years=["2017"], splits=["val"], read_files=False, progress=False)
    assert [(s.year, s.split) for s in only.splits] == [("2017", "val")]
    with pytest.raises(DavisFormatError, match=r"ImageSets/2016/train\.txt: split file not"):
        check_davis(root, years=["2016"], progress=False)
    assert cli_main(["data", "check", "--davis", str(root), "--no-progress"]) == 0
    assert cli_main(["data", "check", "--davis", str(root), "--no-progress", "--strict"]) == 1


def test_check_davis_names_the_bad_file(tmp_path, davis2016, capsys):
    with pytest.raises(DavisFormatError, match="original DAVIS-2016 release; convert it first"):
        check_davis(davis2016, progress=False)

    root = write_davis(tmp_path / "davis", {"a": square_video(), "b": square_video(seed=1)})
    bad = root / "Annotations" / "480p" / "b" / "00002.png"
    _save(bad, np.zeros((32, 48), np.uint8))  # grayscale, not a palette PNG
    with pytest.raises(DavisFormatError, match=re.escape(f"{bad}: annotation is a 'L'-mode")):
        check_davis(root, progress=False)
    check_davis(root, read_files=False, progress=False)  # the layout itself is fine
    first = root / "Annotations" / "480p" / "a" / "00000.png"
    _save(first, np.zeros((32, 48), np.uint8))
    assert cli_main(["data", "check", "--davis", str(root), "--no-progress"]) == 2
    assert f"{first}: annotation is a 'L'-mode (grayscale) image" in capsys.readouterr().err


# --------------------------------------------------------------------------- YouTube-Objects


def test_convert_youtube_objects(youtube, tmp_path):
    out = tmp_path / "YTO"
    report = convert_youtube_objects(youtube, out, progress=False)
    names = ["aeroplane-0001-001", "cat-0012-001"]
    assert report.splits == {"val": names}
    assert (report.frames, report.annotations) == (14, 7)
    assert any("0019/shots/001: skipped, 1 annotated frame(s)" in w for w in report.warnings)
    assert any("shots found, the release has 126" in w for w in report.warnings)
    for year in ("2016", "2017"):
        assert (out / "ImageSets" / year / "val.txt").read_text().split() == names

    manifest = json.loads((out / "youtube_objects.json").read_text())
    entry = manifest["sequences"]["aeroplane-0001-001"]
    assert entry["class"] == "aeroplane" and entry["frames"] == 7
    assert entry["annotated"] == ["00000", "00003", "00006"]
    assert entry["source_frames"][3] == "frame0004.jpg"
    assert len(manifest["skipped"]) == 1
    attributes = json.loads((out / "attributes.json").read_text())
    assert attributes["sequences"]["cat-0012-001"] == ["cat"]

    frames = sorted(p.name for p in (out / "JPEGImages" / "480p" / names[0]).iterdir())
    assert frames == [f"{t:05d}.jpg" for t in range(7)]
    source = youtube / "aeroplane" / "data" / "0001" / "shots" / "001"
    assert (out / "JPEGImages/480p" / names[0] / "00003.jpg").read_bytes() == \
        (source / "images" / "frame0004.jpg").read_bytes()
    masks = sorted(p.name for p in (out / "Annotations" / "480p" / names[0]).iterdir())
    assert masks == ["00000.png", "00003.png", "00006.png"]
    ids = read_annotation(out / "Annotations" / "480p" / names[0] / "00003.png")
    np.testing.assert_array_equal(ids == 1, binary_mask(source / "labels" / "00004.jpg"))
    assert set(np.unique(ids)) == {0, 1}


def _perfect_results(dataset: DavisDataset, results: Path) -> None:
    """A results folder as ``segment`` writes it (every frame), equal to the ground truth on the
    annotated frames and empty elsewhere (those frames are not scored)."""
    for sequence in dataset:
        masks = [sequence.annotation(t) if t in sequence.annotated_indices
                 else np.zeros(sequence.size, np.uint8) for t in range(len(sequence))]
        write_sequence_results(results, sequence.name, masks, sequence.frame_names)


def test_converted_youtube_objects_opens_and_scores(youtube, tmp_path, capsys):
    out, results = tmp_path / "YTO", tmp_path / "results"
    convert_youtube_objects(youtube, out, progress=False)
    manifest = json.loads((out / "youtube_objects.json").read_text())["sequences"]
    dataset = DavisDataset(out, year="2016", split="val")
    dataset.validate()
    for sequence in dataset:
        entry = manifest[sequence.name]
        assert sequence.frame_names == [f"{t:05d}" for t in range(entry["frames"])]
        assert [sequence.frame_names[t] for t in sequence.annotated_indices] == entry["annotated"]
        assert sequence.object_ids == [1]
    _perfect_results(dataset, results)

    result = evaluate(dataset, results, progress=False)
    frames = {o.name: o.frame_names for o in result.objects}
    assert frames == {"aeroplane-0001-001_1": ["00003", "00006"],  # annotated: 0, 3, 6
                      "cat-0012-001_1": ["00002", "00004", "00006"]}  # annotated: 0, 2, 4, 6
    assert result.global_stats["J-Mean"] == result.global_stats["F-Mean"] == 1.0
    assert [(r.attribute, r.objects, r.j_mean) for r in result.attributes] == [
        ("aeroplane", 1, 1.0), ("cat", 1, 1.0), ("all", 2, 1.0)]  # the per-class table

    # An error in one scored frame shows in J; an unannotated frame's result is never read.
    cat = results / "cat-0012-001"
    write_annotation(cat / "00004.png", np.zeros((24, 32), np.uint8))
    (cat / "00003.png").unlink()
    scores = {o.name: o.j_per_frame.tolist()
              for o in evaluate(dataset, results, progress=False).objects}
    assert scores["cat-0012-001_1"] == [1.0, 0.0, 1.0]

    # The command line: validate, then evaluate (CSV files beside the results).
    for year in ("2016", "2017"):
        assert cli_main(["validate", "--davis", str(out), "--year", year]) == 0
    assert "14 frames, every file readable" in capsys.readouterr().out
    assert cli_main(["evaluate", "--davis", str(out), "--year", "2016", "--results",
                     str(results)]) == 0
    printed = capsys.readouterr().out
    assert "cat-0012-001_1" in printed and "Per attribute results" in printed
    (row,) = csv.DictReader((results / "global_results-val.csv").read_text().splitlines())
    assert float(row["J-Mean"]) == pytest.approx((1.0 + 2 / 3) / 2, abs=5e-4)

    # check_davis is for DAVIS folders, where a partly annotated sequence is missing files.
    with pytest.raises(DavisFormatError, match=r"aeroplane-0001-001/00001\.png: annotation of "
                       r"frame .* not found \(3 annotations for 7 frames.*gcseg validate"):
        check_davis(out, progress=False)


def test_convert_youtube_objects_range_and_side_by_side_layout(tmp_path):
    root = tmp_path / "repacked"
    images, masks = square_video(frames=6, size=(24, 32))
    shot = root / "horse" / "0003"
    for t in range(6):
        _save(shot / f"{t + 10:05d}.jpg", images[t], quality=95)
    empty = np.zeros((24, 32), np.uint8)
    _save(shot / "00010.png", empty)  # annotated but empty: the sequence starts later
    _save(shot / "00012.png", masks[2] * 255)
    _save(shot / "00014.png", masks[4] * 255)
    report = convert_youtube_objects(root, tmp_path / "out", progress=False)
    assert report.splits == {"val": ["horse-0003"]}
    assert report.frames == 3  # frames 12, 13, 14
    assert any("starts at frame 12" in w for w in report.warnings)


def test_convert_youtube_objects_resizes_frames_only_when_asked(tmp_path):
    root = tmp_path / "youtube_masks"
    write_youtube_shot(root, "dog", "0001", frame_scale=2)  # frames twice the masks' size
    with pytest.raises(DavisFormatError,
                       match=r"frame0001\.jpg: frame size 64x48 \(WxH\) differs from the shot's "
                             r"masks \(32x24.*--resize-frames"):
        convert_youtube_objects(root, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists() and not _leftovers(tmp_path)
    convert_youtube_objects(root, tmp_path / "out", ShotConversion(resize_frames=True),
                            progress=False)
    frame = Image.open(tmp_path / "out" / "JPEGImages" / "480p" / "dog-0001-001" / "00000.jpg")
    assert frame.size == (32, 24)


def test_convert_youtube_objects_errors_name_the_file(tmp_path):
    root = tmp_path / "youtube_masks"
    shot = write_youtube_shot(root, "boat", "0002")
    (shot / "images" / "frame0004.jpg").unlink()
    with pytest.raises(DavisFormatError, match=r"labels/00004\.jpg: no frame numbered 4 in"):
        convert_youtube_objects(root, tmp_path / "out", progress=False)
    (shot / "labels" / "mask.jpg").write_bytes(b"")
    with pytest.raises(DavisFormatError, match=r"labels/mask\.jpg: no frame number"):
        convert_youtube_objects(root, tmp_path / "out", progress=False)
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "README.txt").write_text("no shots here")
    with pytest.raises(DavisFormatError, match="nothing: no YouTube-Objects shot found"):
        convert_youtube_objects(nothing, tmp_path / "out", progress=False)


# --------------------------------------------------------------------------- the scripts


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "data_prep" / f"{name}.py"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_scripts_help_and_end_to_end(davis2016, tmp_path):
    for name, command in SCRIPTS.items():
        done = _script(name, "--help")
        assert done.returncode == 0, done.stderr
        assert f"python -m gcseg data {command}" in done.stdout, done.stdout
    out = tmp_path / "DAVIS2016"
    done = _script("convert_davis2016", "--src", str(davis2016), "--out", str(out),
                   "--no-progress")
    assert done.returncode == 0, done.stderr
    assert f"DAVIS-2016 written to {out}" in done.stdout
    done = _script("check_davis", "--davis", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "2016  val    2" in done.stdout

    bad = davis2016 / "Annotations" / "480p" / "bear" / "00001.png"
    bad.write_bytes(b"broken")
    done = _script("convert_davis2016", "--src", str(davis2016), "--out", str(out),
                   "--overwrite", "--no-progress")
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {bad}: cannot read image")
    assert DavisDataset(out, year="2016", split="train").sequences == ["bear"]  # kept


def test_convert_main_refuses_an_existing_output(davis2016, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert cli_main(["data", "convert-davis2016", "--src", str(davis2016), "--out", str(out),
                     "--no-progress"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


# --------------------------------------------------------------------------- the recipe


def _recipe_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", RECIPE.read_text(), flags=re.S)


def _recipe_commands() -> list[str]:
    """Every command line of the recipe's bash blocks (continuations joined, comments dropped)."""
    commands = []
    for block in _recipe_blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line.strip())
    return commands


def test_paper_config_loads():
    config = GCSegConfig.from_yaml(ROOT / "configs" / "paper_davis.yaml")
    assert config.name == "paper" and config.model.backbone == "resnet101"
    assert config.model.weights == "imagenet" and config.data.frame_size == (480, 854)
    assert (config.data.root, config.data.year, config.data.split) == ("data/DAVIS", "2017",
                                                                      "train")
    assert [spec.partition(":")[0] for spec in config.data.still_sources] == ["pascal-voc",
                                                                            "msra10k"]
    assert config.train.simulated_pretraining and config.train.pretrain_steps > 0


def test_every_recipe_command_parses():
    saved_configs = {}
    for block in _recipe_blocks("yaml"):
        target = re.match(r"# save as (\S+)\n", block)
        assert target, f"a YAML block of the recipe does not say where to save it:\n{block}"
        saved_configs[target.group(1)] = GCSegConfig.from_dict(yaml.safe_load(block),
                                                               source=target.group(1))
    gcseg_parser = build_parser()
    seen = set()
    for command in _recipe_commands():
        words = shlex.split(command)
        if words[:3] == ["python", "-m", "gcseg"]:
            args = words[3:]
        elif words[0] == "torchrun":
            assert "-m" in words and words[words.index("-m") + 1] == "gcseg", command
            args = words[words.index("-m") + 2:]
        elif words[0] == "python" and words[1].startswith("data_prep/"):
            name = Path(words[1]).stem
            assert (ROOT / words[1]).is_file(), command
            gcseg_parser.parse_args(["data", SCRIPTS[name], *words[2:]])
            seen.add(f"data {SCRIPTS[name]}")
            continue
        else:
            continue
        try:
            parsed = gcseg_parser.parse_args(args)
        except SystemExit as error:  # argparse exits on an unknown or missing argument
            raise AssertionError(f"does not parse: {command}") from error
        seen.add(parsed.command if parsed.command != "data" else f"data {parsed.data_command}")
        if parsed.command == "train":
            if parsed.config in saved_configs:
                continue
            assert (ROOT / parsed.config).is_file(), command
            load_config(ROOT / parsed.config)
    data_commands = {f"data {name}" for name in SCRIPTS.values()}
    assert {"train", "segment", "evaluate", "export", *data_commands} <= seen

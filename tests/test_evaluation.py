"""End-to-end tests of gcseg.evaluation on a tiny DAVIS-layout fixture with hand-computed scores.

The fixture (20x20 frames, so the F tolerance is 1 px; 5 frames each, frames 1..3 scored):

- ``alpha``: object 1 = square rows/cols 2..9 in every frame; object 2 = square rows/cols
  12..17 in frames 0, 1, 4 and absent in frames 2, 3. Prediction: frame 1 perfect; frame 2
  object 1 shifted 2 px right (J = 8*6 / (8*10) = 0.6; F = 18/32, see below), object 2 absent
  (J = F = 1); frame 3 perfect plus a stray id 5 blob (ignored: the ground truth has no id 5).
- ``beta``: object 1 = square rows/cols 4..13. Prediction: frames 1, 3 perfect, frame 2 empty
  (J = 0; F = 0 since P = 1, R = 0).
- Frames 0 and 4 of every prediction are empty (deliberately wrong).

A second fixture, ``sparse``, has YouTube-Objects-like ground truth (a few annotated frames); see
the section at the end.

F of a 8x8 square shifted 2 px with a 1-px tolerance: both boundaries are 9x9 outlines (32 px);
matched predicted pixels = 8 on the top row (7 shared + 1 next to the corner), 8 on the bottom
row, 2 on the left column (next to the top/bottom rows) = 18; by symmetry recall = 18/32 too.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gcseg.data.davis import DavisDataset, DavisFormatError, write_annotation, write_frame
from gcseg.evaluation import GLOBAL_COLUMNS, EvaluationResult, evaluate

SIZE = 20
N_FRAMES = 5
F_SHIFT = 18 / 32


def _score(root, results, year: str = "2017", **options) -> EvaluationResult:
    """:func:`evaluate` on the val split of the DAVIS-layout dataset at ``root``."""
    return evaluate(DavisDataset(root, year=year, split="val"), results, **options)


def square(lo: int, hi: int, cols: tuple[int, int] | None = None) -> np.ndarray:
    """(SIZE, SIZE) bool square with rows lo..hi and cols lo..hi (or ``cols``), inclusive."""
    c0, c1 = cols if cols is not None else (lo, hi)
    mask = np.zeros((SIZE, SIZE), bool)
    mask[lo : hi + 1, c0 : c1 + 1] = True
    return mask


def ids(*objects: tuple[int, np.ndarray]) -> np.ndarray:
    """(SIZE, SIZE) uint8 id map from (id, mask) pairs."""
    out = np.zeros((SIZE, SIZE), np.uint8)
    for object_id, mask in objects:
        out[mask] = object_id
    return out


def name(index: int) -> str:
    return f"{index:05d}"


def ground_truth() -> dict[str, list[np.ndarray]]:
    obj1, obj2 = square(2, 9), square(12, 17)
    alpha = [ids((1, obj1), (2, obj2)) if t in (0, 1, 4) else ids((1, obj1)) for t in range(5)]
    beta = [ids((1, square(4, 13)))] * N_FRAMES
    return {"alpha": alpha, "beta": beta}


def predictions() -> dict[str, list[np.ndarray]]:
    gt = ground_truth()
    empty = np.zeros((SIZE, SIZE), np.uint8)
    alpha = [empty, gt["alpha"][1], ids((1, square(2, 9, cols=(4, 11)))), gt["alpha"][3], empty]
    alpha[3] = alpha[3].copy()
    alpha[3][15:17, 2:4] = 5  # an id the ground truth lacks
    beta = [empty, gt["beta"][1], empty, gt["beta"][3], empty]
    return {"alpha": alpha, "beta": beta}


@pytest.fixture
def davis(tmp_path: Path) -> tuple[Path, Path]:
    """Write the fixture dataset and results; return (davis_root, results_dir)."""
    root, results = tmp_path / "davis", tmp_path / "results"
    for seq, masks in ground_truth().items():
        for t, mask in enumerate(masks):
            write_frame(
                root / "JPEGImages/480p" / seq / f"{name(t)}.jpg",
                np.zeros((SIZE, SIZE, 3), np.uint8),
            )
            write_annotation(root / "Annotations/480p" / seq / f"{name(t)}.png", mask)
    for year in ("2016", "2017"):
        (root / "ImageSets" / year).mkdir(parents=True)
        (root / "ImageSets" / year / "val.txt").write_text("alpha\nbeta\n")
    for seq, masks in predictions().items():
        for t, mask in enumerate(masks):
            write_annotation(results / seq / f"{name(t)}.png", mask)
    return root, results


# Hand-computed per-object statistics on frames 1..3 (mean, recall, decay). With 3 frames the
# decay bins are x[0:2] and x[2:3]: decay = mean(x0, x1) - x2.
ALPHA_1_J = (2.6 / 3, 1.0, (1 + 0.6) / 2 - 1)
ALPHA_1_F = ((2 + F_SHIFT) / 3, 1.0, (1 + F_SHIFT) / 2 - 1)
ALPHA_2 = (1.0, 1.0, 0.0)
BETA_1 = (2 / 3, 2 / 3, 0.5 - 1)


def expected_global() -> dict[str, float]:
    objs_j = [ALPHA_1_J, ALPHA_2, BETA_1]
    objs_f = [ALPHA_1_F, ALPHA_2, BETA_1]
    g = {
        "J-Mean": np.mean([o[0] for o in objs_j]),
        "J-Recall": np.mean([o[1] for o in objs_j]),
        "J-Decay": np.mean([o[2] for o in objs_j]),
        "F-Mean": np.mean([o[0] for o in objs_f]),
        "F-Recall": np.mean([o[1] for o in objs_f]),
        "F-Decay": np.mean([o[2] for o in objs_f]),
    }
    g["J&F-Mean"] = (g["J-Mean"] + g["F-Mean"]) / 2
    return g


def test_per_object_scores_by_hand(davis):
    result = _score(*davis, progress=False)
    assert isinstance(result, EvaluationResult)
    by_name = {o.name: o for o in result.objects}
    assert list(by_name) == ["alpha_1", "alpha_2", "beta_1"]  # id 5 of the results is ignored

    a1 = by_name["alpha_1"]
    assert a1.frame_names == ["00001", "00002", "00003"]
    np.testing.assert_allclose(a1.j_per_frame, [1.0, 0.6, 1.0])
    np.testing.assert_allclose(a1.f_per_frame, [1.0, F_SHIFT, 1.0])
    assert (a1.j_mean, a1.j_recall, a1.j_decay) == pytest.approx(ALPHA_1_J)
    assert (a1.f_mean, a1.f_recall, a1.f_decay) == pytest.approx(ALPHA_1_F)

    a2 = by_name["alpha_2"]  # absent from GT and prediction in frames 2, 3 -> 1
    np.testing.assert_allclose(a2.j_per_frame, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(a2.f_per_frame, [1.0, 1.0, 1.0])

    b1 = by_name["beta_1"]
    np.testing.assert_allclose(b1.j_per_frame, [1.0, 0.0, 1.0])
    np.testing.assert_allclose(b1.f_per_frame, [1.0, 0.0, 1.0])
    assert (b1.j_mean, b1.j_recall, b1.j_decay) == pytest.approx(BETA_1)

    expected = expected_global()
    assert list(result.global_stats) == list(GLOBAL_COLUMNS)
    for column in GLOBAL_COLUMNS:
        assert result.global_stats[column] == pytest.approx(expected[column]), column
    assert result.global_stats["J-Mean"] == pytest.approx((2.6 / 3 + 1 + 2 / 3) / 3)


def test_first_and_last_frames_are_not_scored(davis):
    root, results = davis
    baseline = _score(root, results, progress=False).global_stats
    # make frames 0 and 4 even more wrong (objects swapped, stray ids), or remove them
    for seq in ("alpha", "beta"):
        write_annotation(results / seq / "00000.png", np.full((SIZE, SIZE), 2, np.uint8))
        (results / seq / "00004.png").unlink()
    assert _score(root, results, progress=False).global_stats == baseline


def test_score_all_frames_includes_them(davis):
    root, results = davis
    result = _score(root, results, score_all_frames=True, progress=False)
    by_name = {o.name: o for o in result.objects}
    assert by_name["alpha_1"].frame_names == [name(t) for t in range(5)]
    # frames 0 and 4 predict nothing while every object is present there: J = 0
    np.testing.assert_allclose(by_name["alpha_1"].j_per_frame, [0, 1, 0.6, 1, 0])
    np.testing.assert_allclose(by_name["alpha_2"].j_per_frame, [0, 1, 1, 1, 0])
    np.testing.assert_allclose(by_name["beta_1"].j_per_frame, [0, 1, 0, 1, 0])
    assert result.global_stats["J-Mean"] == pytest.approx((2.6 / 5 + 3 / 5 + 2 / 5) / 3)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_files(davis, tmp_path):
    root, results = davis
    result = _score(root, results, progress=False)
    out = tmp_path / "out"
    paths = result.write_csvs(out)
    assert [p.name for p in paths] == ["global_results-val.csv", "per-sequence_results-val.csv"]
    assert not list(out.glob(".*"))  # no temporary files left behind

    header = (out / "global_results-val.csv").read_text().splitlines()[0]
    assert header == "J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,F-Decay"
    (row,) = read_csv(out / "global_results-val.csv")
    expected = expected_global()
    for column in GLOBAL_COLUMNS:
        assert float(row[column]) == pytest.approx(expected[column], abs=5e-4)
        assert len(row[column].split(".")[1]) == 3  # official %.3f

    rows = read_csv(out / "per-sequence_results-val.csv")
    assert list(rows[0]) == ["Sequence", "J-Mean", "F-Mean"]
    assert [r["Sequence"] for r in rows] == ["alpha_1", "alpha_2", "beta_1"]
    assert float(rows[0]["J-Mean"]) == pytest.approx(ALPHA_1_J[0], abs=5e-4)
    assert float(rows[0]["F-Mean"]) == pytest.approx(ALPHA_1_F[0], abs=5e-4)
    assert float(rows[2]["F-Mean"]) == pytest.approx(2 / 3, abs=5e-4)

    # default folder: the results folder
    assert result.write_csvs()[0] == results / "global_results-val.csv"

    table = result.table()
    assert "J&F-Mean" in table and "alpha_2" in table
    assert f"{expected['J&F-Mean']:.3f}" in table


def test_attribute_table(davis, tmp_path):
    root, results = davis
    attributes = {
        "codes": {"OCC": "Occlusion", "FM": "Fast motion", "SV": "Scale variation"},
        "sequences": {"alpha": ["OCC", "FM"], "beta": ["FM"]},
    }
    (root / "attributes.json").write_text(json.dumps(attributes))
    result = _score(root, results, progress=False)
    rows = {r.attribute: r for r in result.attributes}
    assert list(rows) == ["OCC", "FM", "all"]  # codes order; SV carried by no sequence
    assert rows["OCC"].objects == 2
    assert rows["OCC"].j_mean == pytest.approx((ALPHA_1_J[0] + 1) / 2)
    assert rows["OCC"].f_mean == pytest.approx((ALPHA_1_F[0] + 1) / 2)
    assert rows["OCC"].jf_mean == pytest.approx((rows["OCC"].j_mean + rows["OCC"].f_mean) / 2)
    assert rows["FM"].objects == rows["all"].objects == 3
    assert rows["all"].jf_mean == pytest.approx(expected_global()["J&F-Mean"])

    paths = result.write_csvs(tmp_path / "out")
    assert paths[-1].name == "per-attribute_results-val.csv"
    csv_rows = read_csv(paths[-1])
    assert list(csv_rows[0]) == ["Attribute", "Objects", "J&F-Mean", "J-Mean", "F-Mean"]
    assert [(r["Attribute"], r["Objects"]) for r in csv_rows] == [
        ("OCC", "2"),
        ("FM", "3"),
        ("all", "3"),
    ]
    assert "OCC" in result.table()


def test_year_2016_merges_objects(davis):
    root, results = davis
    result = _score(root, results, year="2016", sequences=["alpha"], progress=False)
    (obj,) = result.objects
    assert obj.name == "alpha_1"
    # frame 3 prediction = object 1 (64 px) + the stray id 5 blob (4 px), now foreground too
    np.testing.assert_allclose(obj.j_per_frame, [1.0, 0.6, 64 / 68])


def test_grayscale_results_are_read(davis):
    root, results = davis
    for t, mask in enumerate(predictions()["beta"]):
        Image.fromarray(mask, mode="L").save(results / "beta" / f"{name(t)}.png")
    result = _score(root, results, sequences="beta", progress=False)
    np.testing.assert_allclose(result.objects[0].j_per_frame, [1.0, 0.0, 1.0])


def test_missing_result_frame_is_named(davis):
    root, results = davis
    missing = results / "beta" / "00002.png"
    missing.unlink()
    with pytest.raises(FileNotFoundError, match="missing result frame") as info:
        _score(root, results, progress=False)
    assert str(missing) in str(info.value)


def test_missing_result_folder_is_named(davis, tmp_path):
    root, _ = davis
    with pytest.raises(FileNotFoundError, match="alpha") as info:
        _score(root, tmp_path / "nowhere", progress=False)
    assert str(tmp_path / "nowhere" / "alpha") in str(info.value)


def test_wrong_size_result_is_named(davis):
    root, results = davis
    bad = results / "alpha" / "00002.png"
    write_annotation(bad, np.zeros((10, 20), np.uint8))
    with pytest.raises(ValueError) as info:
        _score(root, results, progress=False)
    message = str(info.value)
    assert str(bad) in message and "20x10" in message and "20x20" in message


def test_unknown_sequence(davis):
    with pytest.raises(ValueError, match="gamma"):
        _score(*davis, sequences=["gamma"], progress=False)


# --------------------------------------------------------------------------- sparse ground truth
#
# ``gamma`` (YouTube-Objects-like): 10 frames, annotated at 0, 3, 6 and 9, object 1 = square
# rows/cols 2..9. Scored: 3, 6, 9 (the first annotated frame is given; the last is scored).
# Prediction: frame 3 perfect, frame 6 shifted 2 px right (J = 0.6, F = 18/32), frame 9 empty
# (J = F = 0). Only those three result files exist. With 3 frames the decay bins are x[0:2] and
# x[2:3]: J decay = (1 + 0.6) / 2 - 0 = 0.8.

SPARSE_FRAMES = 10
ANNOTATED = (0, 3, 6, 9)
GAMMA_J = (1.6 / 3, 2 / 3, 0.8)
GAMMA_F = ((1 + F_SHIFT) / 3, 2 / 3, (1 + F_SHIFT) / 2)


@pytest.fixture
def sparse(tmp_path: Path) -> tuple[Path, Path]:
    """A sparse-ground-truth dataset and its results; return (davis_root, results_dir)."""
    root, results = tmp_path / "sparse", tmp_path / "sparse-results"
    obj = ids((1, square(2, 9)))
    for t in range(SPARSE_FRAMES):
        write_frame(root / "JPEGImages/480p/gamma" / f"{name(t)}.jpg",
                    np.zeros((SIZE, SIZE, 3), np.uint8))
        if t in ANNOTATED:
            write_annotation(root / "Annotations/480p/gamma" / f"{name(t)}.png", obj)
    for year in ("2016", "2017"):
        (root / "ImageSets" / year).mkdir(parents=True)
        (root / "ImageSets" / year / "val.txt").write_text("gamma\n")
    shifted = ids((1, square(2, 9, cols=(4, 11))))
    for t, mask in {3: obj, 6: shifted, 9: np.zeros((SIZE, SIZE), np.uint8)}.items():
        write_annotation(results / "gamma" / f"{name(t)}.png", mask)
    return root, results


def test_sparse_ground_truth_scores_annotated_frames_but_the_first(sparse):
    result = _score(*sparse, progress=False)
    (obj,) = result.objects
    assert obj.name == "gamma_1"
    assert obj.frame_names == ["00003", "00006", "00009"]  # the last annotated frame included
    np.testing.assert_allclose(obj.j_per_frame, [1.0, 0.6, 0.0])
    np.testing.assert_allclose(obj.f_per_frame, [1.0, F_SHIFT, 0.0])
    assert (obj.j_mean, obj.j_recall, obj.j_decay) == pytest.approx(GAMMA_J)
    assert (obj.f_mean, obj.f_recall, obj.f_decay) == pytest.approx(GAMMA_F)
    assert result.global_stats["J-Mean"] == pytest.approx(1.6 / 3)
    assert _score(*sparse, year="2016", progress=False).global_stats == result.global_stats


def test_sparse_ground_truth_needs_the_scored_result_frames(sparse):
    root, results = sparse
    with pytest.raises(FileNotFoundError, match="missing result frame") as info:
        _score(root, results, score_all_frames=True, progress=False)  # adds frame 0
    assert str(results / "gamma" / "00000.png") in str(info.value)
    write_annotation(results / "gamma" / "00000.png", ids((1, square(2, 9))))
    (obj,) = _score(root, results, score_all_frames=True, progress=False).objects
    assert obj.frame_names == [name(t) for t in ANNOTATED]
    np.testing.assert_allclose(obj.j_per_frame, [1.0, 1.0, 0.6, 0.0])

    last = results / "gamma" / "00009.png"
    last.unlink()
    with pytest.raises(FileNotFoundError, match="missing result frame") as info:
        _score(root, results, progress=False)
    assert str(last) in str(info.value)


def test_first_frame_only_ground_truth_is_an_error(davis):
    root, results = davis
    for t in range(1, N_FRAMES):
        (root / "Annotations/480p/beta" / f"{name(t)}.png").unlink()
    with pytest.raises(DavisFormatError, match=r"480p/beta: only the first of 5 frames"):
        _score(root, results, progress=False)
    assert len(_score(root, results, sequences="alpha", progress=False).objects) == 2


# --------------------------------------------------------------------------- objects scored
#
# ``delta`` (6 frames, scored 1..4): object 1 = square rows/cols 2..9 in every frame, predicted
# perfectly; object 2 = square rows/cols 12..17 from frame 3 on only (absent from frame 0). The
# prediction has object 2 in frame 3 only, where the semi-supervised protocol gives its mask as
# input, and loses it in frame 4.
#
# Official rule (default): the objects are the ids of frame 0, {1}: J-Mean = 1.
# objects="all": object 2 is scored too, J = [1, 1, 1, 0] on frames 1..4 (absent and not
# predicted twice, then its given mask, then lost): 0.75 "for free" from the frames where it
# did not exist or was given, so the global J-Mean is (1 + 0.75) / 2 = 0.875.


@pytest.fixture
def late_object(tmp_path: Path) -> tuple[Path, Path]:
    root, results = tmp_path / "late", tmp_path / "late-results"
    obj1, obj2 = square(2, 9), square(12, 17)
    for t in range(6):
        write_frame(root / "JPEGImages/480p/delta" / f"{name(t)}.jpg",
                    np.zeros((SIZE, SIZE, 3), np.uint8))
        gt = ids((1, obj1), (2, obj2)) if t >= 3 else ids((1, obj1))
        write_annotation(root / "Annotations/480p/delta" / f"{name(t)}.png", gt)
        pred = ids((1, obj1), (2, obj2)) if t == 3 else ids((1, obj1))
        write_annotation(results / "delta" / f"{name(t)}.png", pred)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("delta\n")
    return root, results


def test_objects_are_the_ids_of_frame_0_by_default(late_object):
    result = _score(*late_object, progress=False)
    assert result.objects_rule == "first-frame"
    (obj,) = result.objects
    assert obj.name == "delta_1" and obj.frame_names == ["00001", "00002", "00003", "00004"]
    np.testing.assert_allclose(obj.j_per_frame, [1, 1, 1, 1])
    assert result.global_stats["J-Mean"] == 1.0
    assert result.global_stats == _score(*late_object, objects="first-frame",
                                           progress=False).global_stats


def test_objects_all_scores_ids_that_enter_later(late_object):
    result = _score(*late_object, objects="all", progress=False)
    assert [o.name for o in result.objects] == ["delta_1", "delta_2"]
    late = result.objects[1]
    np.testing.assert_allclose(late.j_per_frame, [1, 1, 1, 0])
    np.testing.assert_allclose(late.f_per_frame, [1, 1, 1, 0])
    assert late.j_mean == pytest.approx(0.75)
    assert result.global_stats["J-Mean"] == pytest.approx(0.875)
    assert "not the official rule" in result.table()
    with pytest.raises(ValueError, match="objects must be one of"):
        _score(*late_object, objects="later", progress=False)


def test_objects_rule_changes_nothing_when_frame_0_shows_every_object(davis):
    assert _score(*davis, progress=False).global_stats == \
        _score(*davis, objects="all", progress=False).global_stats


def test_empty_first_frame_is_an_error(late_object):
    root, results = late_object
    first = root / "Annotations/480p/delta/00000.png"
    write_annotation(first, np.zeros((SIZE, SIZE), np.uint8))
    for objects in ("first-frame", "all"):
        with pytest.raises(DavisFormatError, match="00000.png: the first-frame annotation holds "
                                                   "no object"):
            _score(root, results, objects=objects, progress=False)


def test_short_sequences_are_excluded_with_a_note(davis, tmp_path):
    root, results = davis
    for t in range(2):
        write_frame(root / "JPEGImages/480p/pair" / f"{name(t)}.jpg",
                    np.zeros((SIZE, SIZE, 3), np.uint8))
        write_annotation(root / "Annotations/480p/pair" / f"{name(t)}.png", ids((1, square(2, 9))))
    (root / "ImageSets/2017/val.txt").write_text("alpha\npair\nbeta\n")
    result = _score(root, results, progress=False)  # no results folder for pair: not read
    assert list(result.excluded) == ["pair"] and result.frames == {"pair": 2}
    assert result.global_stats == _score(root, results, sequences=["alpha", "beta"],
                                           progress=False).global_stats
    assert "sequence 'pair' not scored: 2 frame(s)" in result.table()
    out = tmp_path / "csv"
    paths = result.write_csvs(out)
    assert paths[-1].name == "excluded_sequences-val.csv"
    assert read_csv(paths[-1])[0]["Sequence"] == "pair"
    _score(root, results, sequences=["alpha"], progress=False).write_csvs(out)
    assert not paths[-1].exists()  # a stale list would describe other results
    with pytest.raises(DavisFormatError, match="no sequence of .* has a frame to score"):
        _score(root, results, sequences=["pair"], progress=False)
    with pytest.raises(FileNotFoundError, match="pair"):  # scoring every frame: now needed
        _score(root, results, sequences=["pair"], score_all_frames=True, progress=False)

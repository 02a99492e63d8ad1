"""The helpers notebooks 02-04 share (gcseg.viz.probe: clips, run_pair; gcseg.viz.heatmaps)
and the co-segmentation figures (gcseg.viz.coseg)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gcseg.config import ModelConfig  # noqa: E402
from gcseg.metrics import region_similarity  # noqa: E402
from gcseg.model import GCSeg, broadcast_attend  # noqa: E402
from gcseg.viz.coseg import (  # noqa: E402
    coseg_figure,
    interval_scores,
    plot_attention_vectors,
    plot_broadcast_example,
    plot_coseg_pair,
    plot_interval_sweep,
)
from gcseg.viz.frames import outline  # noqa: E402
from gcseg.viz.heatmaps import (  # noqa: E402
    channel_mean,
    channel_norm,
    contrast_label,
    heat_overlay,
    object_contrast,
    resize_map,
)
from gcseg.viz.probe import (  # noqa: E402
    Clip,
    find_lookalike_case,
    interval_reference,
    load_clip,
    run_pair,
    steadiest_object,
)
from tests.conftest import square_video, write_davis  # noqa: E402


def small_model(variant: str = "full", seed: int = 0, **changes) -> GCSeg:
    """A random ``tiny``-like GCSeg (ResNet-18 up to res4, 16-channel heads), in eval mode.

    The mask convolution, zero at initialisation, gets random weights so that the mask
    given with a frame changes the features, as in a trained model.
    """
    torch.manual_seed(seed)
    config = ModelConfig(variant=variant, backbone="resnet18", weights=None, top_level="res4",
                         coseg_levels=("res2", "res3", "res4"), coseg_dim=16, ref_dim=16,
                         decoder_dim=16, gcn_kernel=3, aspp_rates=(1, 2), **changes)
    model = GCSeg(config).eval()
    with torch.no_grad():
        model.extractor.conv1_mask.weight.normal_(0.0, 0.5)
    return model


def small_clip(name: str = "clip", frames: int = 6, objects: int = 2, seed: int = 0,
               absent: tuple[int, int] | None = (2, 3)) -> Clip:
    """A 64x96 clip of moving squares; ``absent = (object, frame)`` empties one mask."""
    images, labels = square_video(frames, (64, 96), objects, seed)
    if absent is not None and absent[0] <= objects:
        labels[absent[1]][labels[absent[1]] == absent[0]] = 0
    return Clip(name, images, labels, list(range(1, objects + 1)), ["MO"])


@pytest.fixture(scope="module")
def model() -> GCSeg:
    return small_model()


@pytest.fixture(scope="module")
def clip() -> Clip:
    return small_clip()


def _axes(figure) -> list:
    return [axis for axis in figure.axes if axis.get_visible()]


# ----------------------------------------------------------------------------- helpers


def test_channel_norm_and_mean_by_hand():
    x = torch.zeros(1, 2, 2, 3)
    x[0, 0, 0, 0], x[0, 1, 0, 0] = 3.0, 4.0
    x[0, 1, 1, 2] = -2.0
    norm, mean = channel_norm(x), channel_mean(x)
    assert norm.shape == mean.shape == (2, 3)
    assert norm[0, 0] == pytest.approx(5.0) and norm[1, 2] == pytest.approx(2.0)
    assert mean[0, 0] == pytest.approx(3.5) and mean[1, 2] == pytest.approx(-1.0)
    assert channel_norm(np.ones((4, 5))).shape == (4, 5)  # (h, w) is one channel
    with pytest.raises(ValueError):
        channel_norm(torch.zeros(2, 3, 4, 5))  # a batch of two


def test_resize_heat_overlay_and_outline():
    assert resize_map(np.zeros((3, 5)), (30, 50)).shape == (30, 50)
    image = np.full((20, 30, 3), 100, np.uint8)
    heat = np.arange(6.0).reshape(2, 3)
    out = heat_overlay(image, heat, alpha=0.5)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not np.array_equal(out[0, 0], out[-1, -1])  # low and high heat differ
    assert np.array_equal(heat_overlay(image, heat, alpha=0.0), image)
    # fixed limits: a probability map of 0.2 everywhere is not stretched to full colour
    flat = heat_overlay(image, np.full((2, 3), 0.2), alpha=1.0, cmap="gray", limits=(0, 1))
    assert np.all(np.abs(flat.astype(int) - 51) <= 1)  # 0.2 * 255
    clipped = heat_overlay(image, np.full((2, 3), 7.0), alpha=1.0, cmap="gray", limits=(0, 1))
    assert np.all(clipped == 255)
    mask = np.zeros((20, 30), bool)
    mask[5:10, 5:10] = True
    drawn = outline(image, mask, (0, 255, 0))
    assert tuple(drawn[5, 5]) == (0, 255, 0) and tuple(drawn[7, 7]) == (100, 100, 100)


def test_object_contrast_by_hand():
    mask = np.zeros((10, 10), bool)
    mask[:5] = True  # half the frame
    heat = mask.astype(np.float32)  # 1 on the object, 0 elsewhere: mean 0.5
    assert object_contrast(heat, mask) == pytest.approx(2.0)
    assert object_contrast(1.0 - heat, mask) == pytest.approx(0.0)
    assert np.isnan(object_contrast(heat, np.zeros((10, 10), bool)))  # no object
    assert np.isnan(object_contrast(np.ones((10, 10)), mask))  # a flat map
    assert object_contrast(heat + 7.0, mask) == pytest.approx(2.0)  # shifted to min 0
    assert contrast_label(heat, mask) == "contrast 2.00"
    assert contrast_label(heat, np.zeros((10, 10), bool)) == "object absent"


def test_interval_reference_iou_and_steadiest_object(clip):
    assert interval_reference(10, 3) == 7
    assert interval_reference(2, 5) == 0
    with pytest.raises(ValueError):
        interval_reference(-1, 1)
    a = np.zeros((4, 4), bool)
    b = a.copy()
    assert region_similarity(a, b) == 1.0  # the figures' IoU: two empty masks agree
    a[0, :2], b[0, 1:3] = True, True
    assert region_similarity(a, b) == pytest.approx(1 / 3)
    assert steadiest_object(clip) == 1  # object 2 is absent in frame 3


def test_load_clip_reads_frames_labels_and_attributes(tmp_path):
    root = write_davis(tmp_path / "d", {"a": square_video(5, (32, 48), 2)},
                       attributes={"a": ["OCC"]})
    clip = load_clip(root, "a")
    assert clip.frames.shape == (5, 32, 48, 3) and clip.labels.shape == (5, 32, 48)
    assert clip.object_ids == [1, 2] and clip.attributes == ["OCC"] and len(clip) == 5
    assert clip.mask(0, 2).sum() == 64


def _write_meta(root, sequences):
    root.mkdir(parents=True, exist_ok=True)
    meta = {"parameters": {"size": [10, 10]}, "sequences": sequences}
    (root / "synthetic.json").write_text(json.dumps(meta))
    return root


def _object(label, visible, role="target", similar_to=0, events=()):
    return {"label": label, "role": role, "similar_to": similar_to, "events": list(events),
            "visible_area": list(visible)}


def test_find_lookalike_case_prefers_absent_target_with_lookalike(tmp_path):
    sequences = {
        "v0": {"split": "val", "objects": [_object(1, [9, 8, 0, 7])],
               "distractors": [_object(0, [0, 3, 5, 0], "distractor", similar_to=1)]},
        "v1": {"split": "val", "objects": [_object(1, [9, 0, 9])], "distractors": []},
        "t0": {"split": "train", "objects": [_object(1, [9, 0, 9])],
               "distractors": [_object(0, [50, 50, 50], "distractor", similar_to=1)]},
    }
    root = _write_meta(tmp_path / "a", sequences)
    case = find_lookalike_case(root)
    assert case == {"video": "v0", "object_id": 1, "frame": 2, "kind": "absent+lookalike",
                    "distractor_area": 5}
    assert find_lookalike_case(root, "train")["kind"] == "absent+lookalike"
    only_absent = _write_meta(tmp_path / "b", {"v1": sequences["v1"]})
    assert find_lookalike_case(only_absent)["kind"] == "absent"
    plain = _write_meta(tmp_path / "c", {"v": {"split": "val", "objects": [
        _object(1, [9, 4, 6])], "distractors": []}})
    assert find_lookalike_case(plain) | {"distractor_area": 0} == {
        "video": "v", "object_id": 1, "frame": 1, "kind": "smallest", "distractor_area": 0}
    with pytest.raises(ValueError):
        find_lookalike_case(plain, "train")


# ----------------------------------------------------------------------------- run_pair


def test_run_pair_keeps_the_module_intermediates(model, clip):
    view = run_pair(model, clip, target=4, reference=1, object_id=1)
    height, width = clip.labels.shape[1:]
    assert view.interval == 3 and view.prob.shape == (height, width)
    assert view.aux_prob is not None and view.aux_prob.shape == (height, width)
    assert 0.0 <= view.prob.min() and view.prob.max() <= 1.0
    np.testing.assert_array_equal(view.prev_mask, clip.mask(3, 1))
    np.testing.assert_array_equal(view.reference_mask, clip.mask(1, 1))
    internals = view.internals
    for level in ("res2", "res3", "res4"):  # G1_l = F1_l ⊙ f2_l, G2_l = F2_l ⊙ f1_l
        torch.testing.assert_close(
            internals.coseg_levels[level],
            broadcast_attend(view.features_t[level], view.summary.f[level]))
        torch.testing.assert_close(view.G2_levels[level],
                                   broadcast_attend(view.features_ref[level],
                                                    view.target_vectors[level]))
    assert internals.G.shape == (1, 16, *view.features_t["res4"].shape[-2:])
    assert view.G2.shape == internals.G.shape
    assert internals.D1.shape == (1, 1, *internals.G.shape[-2:])
    # the same prediction as the model's own path
    with torch.no_grad():
        prob, _ = model.predict(view.features_t, view.summary)
    np.testing.assert_allclose(view.prob, prob[0, 0].numpy(), atol=1e-6)


def test_run_pair_without_previous_mask_and_bad_arguments(model, clip):
    view = run_pair(model, clip, 2, 0, 2, prev_mask="none")
    assert not view.prev_mask.any() and view.prev_mode == "none" and view.object_id == 2
    assert run_pair(model, clip, 2, 0).object_id == 1  # default: the first object
    with pytest.raises(ValueError):
        run_pair(model, clip, 2, 0, prev_mask="last")
    with pytest.raises(IndexError):
        run_pair(model, clip, 6, 0)
    with pytest.raises(ValueError):
        run_pair(small_model("baseline"), clip, 2, 0)


def test_interval_scores_counts_pairs(model, clip):
    rows = interval_scores(model, clip, [1, 2, 5], object_id=2)
    # object 2 is visible in frames 0, 1, 2, 4, 5 (absent in 3): targets 1, 2, 4, 5
    assert [row["interval"] for row in rows] == [1.0, 2.0, 5.0]
    # n=1: 1<-0, 2<-1, 5<-4; n=2: 2<-0, 4<-2 (5<-3 has no reference mask); n=5: 5<-0
    assert [row["pairs"] for row in rows] == [3.0, 2.0, 1.0]
    for row in rows:
        assert 0.0 <= row["iou"] <= 1.0 and 0.0 <= row["iou_coseg"] <= 1.0
        assert row["contrast_G"] >= 0.0 and row["contrast_F"] >= 0.0
    empty = interval_scores(model, clip, [9], object_id=1)[0]
    assert empty["pairs"] == 0.0 and np.isnan(empty["iou"])
    assert interval_scores(model, clip, [1], 1, targets=[2, 3])[0]["pairs"] == 2.0
    with pytest.raises(ValueError):
        interval_scores(small_model("ref"), clip, [1])


# ----------------------------------------------------------------------------- figures


def test_plot_broadcast_example_prints_every_number():
    features = torch.arange(8.0).reshape(2, 2, 2)
    vector = torch.tensor([2.0, -1.0])
    attended = broadcast_attend(features[None], vector[None])
    figure = plot_broadcast_example(features, vector, attended)
    assert len(_axes(figure)) == 6
    texts = [t.get_text() for axis in figure.axes for t in axis.texts]
    assert {"6", "-7", "-1", "2"} <= set(texts)  # 3 * 2, 7 * -1, f[1], f[0]
    assert len(texts) == 2 * (4 + 1 + 4)
    with pytest.raises(ValueError):
        plot_broadcast_example(features, torch.ones(3), attended)
    plt.close(figure)


def test_plot_attention_vectors_one_panel_per_level(model, clip):
    view = run_pair(model, clip, 3, 0)
    figure = plot_attention_vectors(view.target_vectors, view.summary.f)
    assert len(figure.axes) == 3
    for axis, level in zip(figure.axes, ("res2", "res3", "res4"), strict=True):
        channels = view.summary.f[level].shape[1]
        assert len(axis.patches) == channels and level in axis.get_title()
        heights = sorted((p.get_height() for p in axis.patches), reverse=True)
        np.testing.assert_allclose(heights, [p.get_height() for p in axis.patches])
    top = plot_attention_vectors(view.target_vectors, view.summary.f, top=5)
    assert all(len(axis.patches) == 5 for axis in top.axes)
    plt.close(figure)
    plt.close(top)


def test_plot_coseg_pair_and_coseg_figure(model, clip):
    view = run_pair(model, clip, 4, 1)
    figure = plot_coseg_pair(view)
    titles = [axis.get_title() for axis in figure.axes]
    assert len(figure.axes) == 16  # 4 rows x 4 columns
    assert sum("|G1|" in t for t in titles) == 3 and any("projected" in t for t in titles)
    assert sum("mean G1" in t for t in titles) == 3
    plt.close(figure)
    figure = coseg_figure(model, clip, 4, 10, object_id=1)  # interval clamped: reference 0
    assert "reference 0 (n = 4)" in figure.axes[0].get_title()
    assert figure.axes[1].images[0].get_array().shape == (64, 96, 3)
    assert "contrast" in figure.axes[1].get_title()
    plt.close(figure)
    figure = coseg_figure(model, clip, 3, 3, object_id=2)  # object 2 is absent in frame 3
    assert figure.axes[1].get_title() == "|G| on target 3 (object absent)"
    plt.close(figure)
    with pytest.raises(ValueError):
        plot_coseg_pair(run_pair(small_model("ref"), clip, 4, 1))


def test_plot_interval_sweep_one_row_per_interval(model, clip):
    figure = plot_interval_sweep(model, clip, 5, [1, 3, 5], object_id=1)
    assert len(figure.axes) == 9
    assert [figure.axes[3 * row].get_title() for row in range(3)] == [
        "n = 1: reference 4", "n = 3: reference 2", "n = 5: reference 0"]
    assert all(figure.axes[3 * row + 2].get_title().startswith("M'_t (co-seg only), IoU ")
               for row in range(3))
    plt.close(figure)

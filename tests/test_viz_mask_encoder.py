"""gcseg.viz.mask_encoder: the ROI grid, the masked features, the (10, 1) weights."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from gcseg.model import GCSeg, grid_boxes, mask_boxes  # noqa: E402
from gcseg.viz.mask_encoder import (  # noqa: E402
    ROI_NAMES,
    draw_roi_grid,
    encode_mask,
    find_occlusion_case,
    fuse_weights,
    mask_on_grid,
    plot_fuse_weights,
    plot_masked_features,
    plot_occlusion,
    plot_roi_features,
    plot_roi_grid,
    plot_rois_against_r,
    roi_similarity,
)
from tests.test_viz_coseg import small_clip, small_model  # noqa: E402


@pytest.fixture(scope="module")
def model() -> GCSeg:
    return small_model()


@pytest.fixture(scope="module")
def clip():
    return small_clip()


def test_roi_names():
    assert len(ROI_NAMES) == 10 and ROI_NAMES[0] == "box" and ROI_NAMES[9] == "cell 9"


def test_draw_roi_grid_draws_box_and_cells():
    image = np.zeros((40, 60, 3), np.uint8)
    boxes = grid_boxes(torch.tensor([[6.0, 3.0, 36.0, 33.0]]))[0]  # 30x30: cells of 10
    out = draw_roi_grid(image, boxes, numbers=False)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert tuple(out[3, 20]) == (255, 64, 64)  # top edge of the whole box, red
    assert tuple(out[20, 35]) == (255, 64, 64)  # right edge: x1 - 1 = 35
    assert tuple(out[20, 16]) == (255, 230, 0)  # a cell edge inside, yellow
    assert not out[20, 40].any() and not out[20, 20].any()  # outside, inside a cell
    assert np.array_equal(draw_roi_grid(image, torch.zeros(10, 4)), image)  # empty mask
    assert draw_roi_grid(image, boxes).sum() > out.sum()  # the numbers add pixels


def test_encode_mask_matches_the_library_boxes(model, clip):
    mask = clip.mask(2, 1)
    features, encoding = encode_mask(model, clip.frames[2], mask)
    channels = features["res4"].shape[1]
    assert encoding.r.shape == (1, channels) and encoding.roi_features.shape == (1, 10, channels)
    assert bool(encoding.valid[0])
    box, _ = mask_boxes(torch.from_numpy(mask.astype(np.float32))[None])
    torch.testing.assert_close(encoding.boxes, grid_boxes(box))
    # r is the learned weighted sum of the 10 ROI vectors plus the bias
    weights, bias = fuse_weights(model)
    expected = (torch.from_numpy(weights)[:, None] * encoding.roi_features[0]).sum(0) + bias
    torch.testing.assert_close(encoding.r[0], expected)


def test_empty_mask_is_an_invalid_reference(model, clip):
    mask = clip.mask(3, 2)  # object 2 is absent in frame 3
    assert not mask.any()
    _, encoding = encode_mask(model, clip.frames[3], mask)
    assert not bool(encoding.valid[0])
    assert torch.count_nonzero(encoding.r) == 0 and torch.count_nonzero(encoding.boxes) == 0
    figure = plot_roi_grid(clip.frames[3], mask, encoding)
    assert not [p for p in figure.axes[1].patches if isinstance(p, Rectangle)]
    plt.close(figure)


def test_encode_mask_needs_a_mask_encoder(clip):
    with pytest.raises(ValueError):
        encode_mask(small_model("coseg"), clip.frames[0], clip.mask(0, 1))


def test_mask_on_grid_is_the_area_fraction():
    mask = np.zeros((8, 8), bool)
    mask[0:4, 0:2] = True  # half of the top-left 4x4 cell
    grid = mask_on_grid(mask, (2, 2))
    np.testing.assert_allclose(grid, [[0.5, 0.0], [0.0, 0.0]])


def test_roi_similarity():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = torch.tensor([[2.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])
    similarity = roi_similarity(a, b)
    np.testing.assert_allclose(similarity[:2], [1.0, -1.0], atol=1e-6)
    assert np.isnan(similarity[2])
    assert roi_similarity(a[None], a[None]).shape == (3,)


def test_fuse_weights_start_as_the_mean(model):
    weights, bias = fuse_weights(model)
    np.testing.assert_allclose(weights, np.full(10, 0.1))
    assert bias == 0.0
    with pytest.raises(ValueError):
        fuse_weights(small_model("coseg"))


def test_plot_fuse_weights_bars_are_the_weights():
    weights = np.linspace(-0.2, 0.25, 10)
    figure = plot_fuse_weights(weights, bias=0.01)
    bars = figure.axes[0].patches
    np.testing.assert_allclose([bar.get_height() for bar in bars], weights, rtol=1e-6)
    assert "bias +0.010" in figure.axes[0].get_title()
    cells = figure.axes[1].images[0].get_array()
    np.testing.assert_allclose(cells, weights[1:].reshape(3, 3), rtol=1e-6)
    plt.close(figure)
    with pytest.raises(ValueError):
        plot_fuse_weights(np.ones(9))


def test_feature_figures(model, clip):
    mask = clip.mask(1, 1)
    features, encoding = encode_mask(model, clip.frames[1], mask)
    figure = plot_masked_features(clip.frames[1], mask, features["res4"], encoding)
    assert len(figure.axes) == 4
    grid = features["res4"].shape[-2:]
    assert figure.axes[2].images[0].get_array().shape == tuple(grid)
    masked = figure.axes[3].images[0].get_array()
    assert masked.shape == tuple(grid) and masked.min() >= 0
    plt.close(figure)
    figure = plot_roi_grid(clip.frames[1], mask, encoding)
    assert len([p for p in figure.axes[1].patches if isinstance(p, Rectangle)]) == 10
    plt.close(figure)
    figure = plot_roi_features(encoding)
    table = figure.axes[0].images[0].get_array()
    assert table.shape == (11, features["res4"].shape[1])
    np.testing.assert_allclose(table[10], encoding.r[0].numpy(), rtol=1e-5)
    right = next(a for a in figure.axes if a.get_title() == "cosine similarity between ROIs")
    similarity = right.images[0].get_array()
    assert similarity.shape == (10, 10)
    np.testing.assert_allclose(np.diag(similarity), 1.0, atol=1e-5)
    plt.close(figure)


def test_plot_occlusion_similarity_to_the_first_frame(model, clip):
    figure = plot_occlusion(model, clip, 1, [0, 2, 4])
    assert len(figure.axes) == 6
    first = figure.axes[3].images[0].get_array()  # frame 0 against itself
    np.testing.assert_allclose(first, np.ones((3, 3)), atol=1e-5)
    assert "box 1.00" in figure.axes[3].get_title()
    assert figure.axes[0].get_title() == "frame 0: 64 px visible"
    plt.close(figure)


def test_find_occlusion_case(tmp_path):
    root = tmp_path / "bench"
    root.mkdir()
    sequences = {
        "a": {"split": "val", "objects": [
            {"label": 1, "events": [], "visible_area": [10, 10, 2, 10]},
            {"label": 2, "events": ["occluded"], "visible_area": [8, 12, 6, 1]},
        ]},
        "b": {"split": "train", "objects": [
            {"label": 1, "events": ["occluded"], "visible_area": [10, 5]}]},
    }
    meta = {"parameters": {"size": [10, 10]}, "sequences": sequences}
    (root / "synthetic.json").write_text(json.dumps(meta))
    # object 2 (occluded): frame 2 is 6/12 = 0.5 of its largest; frame 3 (1/12) is too small
    assert find_occlusion_case(root, min_area=0.0) == {
        "video": "a", "object_id": 2, "frame": 2, "fraction": 0.5, "start": 1}
    # large objects first: with min_area 0.1 (10 px) object 2 (largest 12) still qualifies
    assert find_occlusion_case(root, min_area=0.1)["object_id"] == 2
    assert find_occlusion_case(root, min_area=0.2)["object_id"] == 2  # none large: any size
    assert find_occlusion_case(root, "train")["fraction"] == 0.5
    with pytest.raises(ValueError):
        find_occlusion_case(root, "test")


def test_plot_rois_against_r_bars_are_the_cosines_with_r(model, clip):
    figure = plot_rois_against_r(model, clip, 1, 4, reference=0)
    assert len(figure.axes) == 4
    _, reference = encode_mask(model, clip.frames[0], clip.mask(0, 1))
    _, frame = encode_mask(model, clip.frames[4], clip.mask(4, 1))
    r = reference.r[0]
    expected = [float(torch.nn.functional.cosine_similarity(v, r, dim=0))
                for v in [*frame.roi_features[0], frame.r[0]]]
    heights = [bar.get_height() for bar in figure.axes[3].patches]
    np.testing.assert_allclose(heights, expected, atol=1e-5)
    assert len([p for p in figure.axes[2].patches if isinstance(p, Rectangle)]) == 10
    assert figure.axes[1].get_title() == f"frame 4: {int(clip.mask(4, 1).sum())} px visible"
    assert figure.axes[0].get_title() == "reference frame 0: r from its 10 ROIs"
    plt.close(figure)
    # the reference against itself: its own r_t is r (cosine 1); a given encoding is used
    figure = plot_rois_against_r(model, clip, 1, 0, 0, reference_encoding=reference)
    assert figure.axes[3].patches[10].get_height() == pytest.approx(1.0, abs=1e-5)
    plt.close(figure)


def test_plot_rois_against_r_marks_an_empty_frame(model, clip):
    figure = plot_rois_against_r(model, clip, 2, 3, reference=0)  # object 2 absent in frame 3
    assert not [p for p in figure.axes[2].patches if isinstance(p, Rectangle)]
    assert all(bar.get_height() == 0 for bar in figure.axes[3].patches)
    assert sum(t.get_text() == "empty" for t in figure.axes[3].texts) == 11
    plt.close(figure)

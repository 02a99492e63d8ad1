"""gcseg.viz.features: shapes, channel maps and pictures of the Feature Extractor."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gcseg.model.feature_extractor import FeatureExtractor
from gcseg.viz.features import (
    channel_maps,
    conv1_filters_figure,
    dilation_figure,
    extractor_shapes,
    feature_difference,
    feature_grid_figure,
    mask_effect_figure,
    shape_table,
    stride_figure,
)


@pytest.fixture(scope="module")
def extractor():
    torch.manual_seed(0)
    return FeatureExtractor("resnet18", 16, top_level="res4").eval()


def test_extractor_shapes_and_table(extractor):
    shapes = extractor_shapes(extractor, (64, 96), batch=2)
    assert shapes == {"res2": (2, 64, 16, 24), "res3": (2, 128, 8, 12), "res4": (2, 256, 4, 6)}
    table = shape_table(shapes, extractor.strides).splitlines()
    assert table[0].split() == ["level", "channels", "grid", "H", "x", "W", "stride"]
    assert table[3].split() == ["res4", "256", "4", "x", "6", "16"]


def test_extractor_shapes_on_the_meta_device():
    with torch.device("meta"):
        big = FeatureExtractor("resnet101", 16)
    shapes = extractor_shapes(big, (480, 854))
    assert shapes["res5"] == (1, 2048, 30, 54) and shapes["res2"] == (1, 256, 120, 214)
    assert shape_table(shapes, big.strides).splitlines()[-1].split() == [
        "res5", "2048", "30", "x", "54", "16"]


def test_channel_maps_pick_and_scale():
    features = torch.zeros(1, 4, 3, 5)
    features[0, 2] = torch.arange(15.0).view(3, 5)  # the most varied channel
    features[0, 1, 0, 0] = 1.0
    maps, indices = channel_maps(features, n=2)
    assert maps.shape == (2, 3, 5) and maps.dtype == np.float32
    assert indices.tolist() == [2, 1]
    assert maps[0].min() == 0 and maps[0].max() == 1
    maps, indices = channel_maps(features, n=9, order="index")
    assert indices.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(maps[0], 0)  # a constant channel is all zeros
    with pytest.raises(ValueError):
        channel_maps(features, order="random")
    with pytest.raises(ValueError):
        channel_maps(torch.zeros(2, 4, 3, 5))


def test_feature_grid_and_stride_figures(extractor):
    image = np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8)
    with torch.no_grad():
        levels = extractor(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255)
    fig = feature_grid_figure(image, levels, n=3, title="t")
    assert len(fig.axes) == 3 * 4
    assert fig.axes[4].get_ylabel() == "res3\n128x8x12"
    assert fig.axes[5].get_images()[0].get_array().shape == (8, 12)
    plt.close(fig)
    fig = stride_figure(image, extractor.strides)
    shown = fig.axes[3].get_images()[0].get_array()
    assert shown.shape == (4, 6, 3)  # 64 x 96 frame at stride 16
    np.testing.assert_allclose(shown[0, 0], image[:16, :16].reshape(-1, 3).mean(0), atol=0.51)
    plt.close(fig)


def test_dilation_figure_taps():
    fig = dilation_figure((1, 3))
    for ax, dilation in zip(fig.axes, (1, 3), strict=True):
        grid = ax.get_images()[0].get_array()
        rows, cols = np.nonzero(grid)
        assert len(rows) == 9
        assert np.unique(np.diff(np.unique(cols))).tolist() == [dilation]
    plt.close(fig)


def test_conv1_filters_figure(extractor):
    fig = conv1_filters_figure(extractor, n=4)
    assert "= 0" in fig._suptitle.get_text()  # the mask conv starts at zero
    assert len(fig.axes) == 8
    plt.close(fig)


def test_feature_difference_and_mask_effect(extractor):
    image = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 1, 64, 96)
    mask[..., 20:40, 30:60] = 1
    with torch.no_grad():
        a, b = extractor(image, None), extractor(image, mask)
    same = feature_difference(a, b)
    assert {k: v.shape for k, v in same.items()} == {"res2": (16, 24), "res3": (8, 12),
                                                     "res4": (4, 6)}
    assert all(float(v.max()) == 0.0 for v in same.values())  # zero mask conv
    picture = (image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    fig = mask_effect_figure(picture, mask[0, 0].numpy(), same)
    assert "max |ΔF| = 0" in fig.axes[1].get_title()
    plt.close(fig)
    with pytest.raises(ValueError):
        feature_difference(a, {"res2": a["res2"]})

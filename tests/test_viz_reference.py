"""gcseg.viz.reference: the maps of the Reference Module and eq. 1-2."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gcseg.model import GCSeg, attend_similarity  # noqa: E402
from gcseg.viz.heatmaps import channel_norm  # noqa: E402
from gcseg.viz.probe import run_pair  # noqa: E402
from gcseg.viz.reference import (  # noqa: E402
    plot_eq12_example,
    plot_reference_maps,
    reference_figure,
    reference_maps,
    softmax_stats,
)
from tests.test_viz_coseg import small_clip, small_model  # noqa: E402

KEYS = ["D1", "softmax(D1)", "D1'", "|F'|", "|R1|", "|R2|", "|R|"]


@pytest.fixture(scope="module")
def model() -> GCSeg:
    return small_model()


@pytest.fixture(scope="module")
def clip():
    return small_clip()


def test_reference_maps_follow_eq_1_and_2(model, clip):
    view = run_pair(model, clip, 4, 0, 1)
    maps = reference_maps(view)
    grid = tuple(view.features_t["res4"].shape[-2:])
    assert list(maps) == KEYS and all(m.shape == grid for m in maps.values())
    np.testing.assert_allclose(maps["softmax(D1)"].sum(), 1.0, rtol=1e-5)  # eq. 1
    np.testing.assert_allclose(maps["D1'"], maps["softmax(D1)"] * maps["D1"],
                               rtol=1e-5, atol=1e-7)  # eq. 2
    with torch.no_grad():  # F' recovered from R1 - D1' is the 1x1 conv of F
        f_prime = model.reference.map_features(view.features_t["res4"])
    np.testing.assert_allclose(maps["|F'|"], channel_norm(f_prime), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(maps["|R|"], channel_norm(view.internals.R), rtol=1e-6)


def test_reference_maps_per_channel_variant_and_missing_module(clip):
    model = small_model("full", ref_similarity="per_channel")
    view = run_pair(model, clip, 3, 0, 1)
    assert view.internals.D1.shape[1] == 16  # one similarity map per channel of F'
    maps = reference_maps(view)
    np.testing.assert_allclose(maps["D1"], view.internals.D1[0].mean(0).numpy(), rtol=1e-5,
                               atol=1e-7)
    with pytest.raises(ValueError):
        reference_maps(run_pair(small_model("coseg"), clip, 3, 0, 1))


def test_softmax_stats():
    uniform = softmax_stats(np.zeros((4, 5)))
    assert uniform == pytest.approx({"positions": 20.0, "max": 0.05, "effective": 20.0,
                                     "spread": 0.0})
    peaked = softmax_stats(torch.tensor([[[[0.0, 0.0], [0.0, 100.0]]]]))
    assert peaked["max"] == pytest.approx(1.0) and peaked["effective"] == pytest.approx(1.0)
    two = softmax_stats(np.array([[0.0, np.log(3.0)]]))  # weights 1/4, 3/4
    assert two["max"] == pytest.approx(0.75)
    assert two["effective"] == pytest.approx(1 / (1 / 16 + 9 / 16))


def test_plot_eq12_example_numbers_match_the_library():
    d1 = torch.tensor([[0.0, 1.0, 2.0], [1.0, 3.0, 0.0]])
    figure = plot_eq12_example(d1)
    attention, attended = attend_similarity(d1[None, None])
    shown = [np.array([float(t.get_text()) for t in axis.texts]) for axis in figure.axes]
    np.testing.assert_allclose(shown[0], d1.reshape(-1).numpy())
    np.testing.assert_allclose(shown[1], attention.reshape(-1).numpy(), atol=5e-4)
    np.testing.assert_allclose(shown[2], attended.reshape(-1).numpy(), atol=5e-4)
    plt.close(figure)


def test_plot_reference_maps_and_reference_figure(model, clip):
    view = run_pair(model, clip, 5, 1, 1, prev_mask="none")
    figure = plot_reference_maps(view)
    titles = [axis.get_title() for axis in figure.axes]
    assert len(figure.axes) == 10
    for key in KEYS:
        assert any(title.startswith(f"{key}: contrast") for title in titles), key
    assert "M_(t-1): none" in figure._suptitle.get_text()
    plt.close(figure)
    figure = reference_figure(model, clip, 1, 0, 5)
    assert len(figure.axes) == 5
    assert figure.axes[0].get_title() == "reference 0"
    assert figure.axes[4].get_title().startswith("M_t, IoU ")
    assert figure.axes[1].images[0].get_array().shape == (64, 96, 3)
    plt.close(figure)


def test_reference_figure_with_an_empty_reference(model, clip):
    figure = reference_figure(model, clip, 2, 3, 5)  # object 2 is absent in frame 3
    assert "empty mask, r = 0" in figure.axes[0].get_title()
    plt.close(figure)

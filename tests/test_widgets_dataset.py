"""gcseg.widgets.dataset: every control of the browser redraws without an error."""

from __future__ import annotations

import base64

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gcseg.data.davis import DavisDataset
from gcseg.widgets.dataset import dataset_browser, figure_output, render_view
from tests.conftest import square_video, write_davis


@pytest.fixture()
def dataset_root(tmp_path):
    videos = {"one": square_video(frames=4, objects=1, seed=0),
              "three": square_video(frames=6, objects=3, size=(40, 48), seed=1)}
    return write_davis(tmp_path / "davis", videos, attributes={"one": ["OCC"], "three": ["MO"]})


def _image(box) -> bytes:
    outputs = box.output.outputs
    assert len(outputs) == 1
    assert outputs[0]["output_type"] != "error", outputs[0].get("traceback")
    assert outputs[0]["output_type"] == "display_data"
    return base64.b64decode(outputs[0]["data"]["image/png"])


def test_every_control_redraws(dataset_root):
    box = dataset_browser(dataset_root)
    controls = box.controls
    seen = {_image(box)}
    assert controls["objects"].value == (1,)
    assert controls["frame"].max == 3

    controls["video"].value = "three"
    assert controls["frame"].max == 5
    assert controls["objects"].value == (1, 2, 3)
    seen.add(_image(box))
    for frame in (5, 0, 3):
        controls["frame"].value = frame
        seen.add(_image(box))
    for objects in ((2,), (1, 3), ()):
        controls["objects"].value = objects
        seen.add(_image(box))
    for show in (False, True):
        controls["show_gt"].value = show
        seen.add(_image(box))
    controls["year"].value = "2016"
    assert [value for _, value in controls["objects"].options] == [1]
    seen.add(_image(box))
    controls["frame"].value = 4
    seen.add(_image(box))
    controls["video"].value = "one"  # shorter video: the slider range follows
    assert controls["frame"].max == 3 and controls["frame"].value <= 3
    seen.add(_image(box))
    controls["year"].value = "2017"
    seen.add(_image(box))
    assert len(seen) >= 8  # the pictures really changed


def test_render_view_on_sparse_ground_truth(tmp_path):
    frames, masks = square_video(frames=6, objects=2, seed=2)
    root = write_davis(tmp_path / "sparse", {"yto": (frames, masks)})
    for t in (1, 2, 4, 5):  # annotated frames 0 and 3 only, as YouTube-Objects
        (root / "Annotations" / "480p" / "yto" / f"{t:05d}.png").unlink()
    datasets = {year: DavisDataset(root, year, "val") for year in ("2017", "2016")}
    cache: dict = {}
    fig = render_view(datasets, "yto", 2, None, True, "2017", cache)  # an unannotated frame
    ids, areas = cache[("2017", "yto")].object_ids, cache[("2017", "yto")].areas
    assert ids == [1, 2] and areas.shape == (2, 6)
    assert np.isnan(areas[:, [1, 2, 4, 5]]).all() and (areas[:, [0, 3]] == 64).all()
    plt.close(fig)
    fig = render_view(datasets, "yto", 3, None, True, "2017", cache)  # an annotated one
    plt.close(fig)


def test_render_view_is_what_the_callback_draws(dataset_root):
    datasets = {year: DavisDataset(dataset_root, year, "val") for year in ("2017", "2016")}
    cache: dict = {}
    fig = render_view(datasets, "three", 2, (1, 2), True, "2017", cache)
    assert ("2017", "three") in cache
    ids, areas = cache[("2017", "three")].object_ids, cache[("2017", "three")].areas
    assert ids == [1, 2, 3] and areas.shape == (3, 6)
    assert "three" in fig.axes[0].get_title() and "MO" in fig.axes[0].get_title()
    plt.close(fig)
    fig = render_view(datasets, "three", 99, None, False, "2016")  # frame clipped
    assert "frame 5/5" in fig.axes[0].get_title()
    np.testing.assert_array_equal(fig.axes[1].get_lines()[0].get_ydata() > 0, True)
    plt.close(fig)


def test_errors_are_shown_not_swallowed(dataset_root, monkeypatch):
    box = dataset_browser(dataset_root)
    import gcseg.widgets.dataset as module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "render_view", broken)
    box.controls["frame"].value = 2
    (output,) = box.output.outputs
    assert output["output_type"] == "error" and output["evalue"] == "boom"


def test_figure_output_closes_the_figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    number = fig.number
    output = figure_output(fig)
    assert base64.b64decode(output["data"]["image/png"]).startswith(b"\x89PNG")
    assert number not in plt.get_fignums()

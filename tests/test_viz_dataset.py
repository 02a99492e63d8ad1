"""gcseg.viz.dataset: pictures of a DAVIS-layout dataset, checked on tiny written datasets."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gcseg.data.davis import PALETTE, DavisDataset
from gcseg.data.synthetic import render_video
from gcseg.viz.dataset import (
    VOID_COLOUR,
    AreaCurves,
    annotation_figure,
    annotation_picture,
    area_curves_figure,
    attribute_figure,
    attribute_matrix,
    browse_figure,
    frame_view,
    layout_tree,
    object_areas,
    palette_figure,
    select_objects,
)
from tests.conftest import square_video, write_davis


@pytest.fixture()
def dataset_root(tmp_path):
    videos = {f"v{i}": square_video(frames=5, objects=2, seed=i) for i in range(3)}
    return write_davis(tmp_path / "davis", videos, attributes={"v0": ["OCC"], "v1": []})


def test_layout_tree_shortens_folders_and_files(dataset_root):
    tree = layout_tree(dataset_root, max_sequences=2, max_files=2)
    lines = tree.splitlines()
    assert lines[0] == "davis/"
    assert any(line.endswith("JPEGImages/") for line in lines)
    assert any("00000.jpg" in line for line in lines)
    assert "... 1 more folders" in tree  # 3 videos, 2 shown
    assert "... 3 more files" in tree  # 5 frames, 2 shown
    assert "attributes.json" in tree
    assert "v2/" not in tree
    with pytest.raises(FileNotFoundError):
        layout_tree(dataset_root / "missing")


def test_annotation_picture_uses_the_palette_and_void_colour():
    ids = np.array([[0, 1], [2, 255]], np.uint8)
    picture = annotation_picture(ids)
    assert picture.shape == (2, 2, 3) and picture.dtype == np.uint8
    np.testing.assert_array_equal(picture[0, 1], PALETTE[1])
    np.testing.assert_array_equal(picture[1, 0], PALETTE[2])
    np.testing.assert_array_equal(picture[1, 1], VOID_COLOUR)
    with pytest.raises(ValueError):
        annotation_picture(np.zeros((2, 2, 2)))


def test_select_objects_and_frame_view():
    ids = np.array([[0, 1, 2], [2, 255, 1]], np.uint8)
    np.testing.assert_array_equal(select_objects(ids, [2]), [[0, 0, 2], [2, 255, 0]])
    np.testing.assert_array_equal(select_objects(ids, None), ids)
    np.testing.assert_array_equal(select_objects(ids, []), [[0, 0, 0], [0, 255, 0]])
    frame = np.full((2, 3, 3), 100, np.uint8)
    view = frame_view(frame, ids, objects=[1], show_gt=True, alpha=1.0)
    np.testing.assert_array_equal(view[0, 1], PALETTE[1])
    np.testing.assert_array_equal(view[0, 2], frame[0, 2])  # object 2 hidden
    np.testing.assert_array_equal(frame_view(frame, ids, show_gt=False), frame)
    np.testing.assert_array_equal(frame_view(frame, None), frame)


def test_object_areas_counts_pixels():
    _, masks = square_video(frames=4, objects=2)
    areas = object_areas(masks, [1, 2, 7])
    assert areas.shape == (3, 4)
    np.testing.assert_array_equal(areas[:2], 64)
    np.testing.assert_array_equal(areas[2], 0)
    assert object_areas(masks, []).shape == (0, 4)


def test_annotation_and_palette_figures(dataset_root):
    sequence = DavisDataset(dataset_root, "2017", "val")["v0"]
    fig = annotation_figure(sequence.frame(0), sequence.annotation(0), title="v0")
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["0 background: 1408 px", "1 object: 64 px", "2 object: 64 px"]
    plt.close(fig)
    fig = palette_figure(range(3))
    assert [ax.get_title() for ax in fig.axes] == ["0\nbg", "1\nobject", "2\nobject",
                                                   "255\nvoid"]
    plt.close(fig)


def test_browse_figure(dataset_root):
    sequence = DavisDataset(dataset_root, "2017", "val")["v1"]
    annotations = [sequence.annotation(i) for i in range(len(sequence))]
    areas = object_areas(annotations, [1, 2])
    curves = AreaCurves([1, 2], areas)
    fig = browse_figure(sequence.frame(2), annotations[2], 2, curves, objects=[2])
    frame_ax, area_ax = fig.axes
    lines = area_ax.get_lines()
    assert len(lines) == 3  # two objects and the frame marker
    assert lines[0].get_linewidth() < lines[1].get_linewidth()  # object 1 not selected
    np.testing.assert_allclose(lines[1].get_ydata(), 100 * 64 / (32 * 48))
    assert lines[2].get_xdata()[0] == 2
    shown = frame_ax.get_images()[0].get_array()
    np.testing.assert_array_equal(shown, frame_view(sequence.frame(2), annotations[2], [2]))
    plt.close(fig)
    fig = browse_figure(sequence.frame(0), None, 0)
    assert len(fig.axes) == 1
    plt.close(fig)


def test_attribute_matrix_and_figure():
    table = {"a": ["OCC", "DR"], "b": [], "c": ["DR"]}
    matrix = attribute_matrix(table, ["OCC", "DR", "SV"])
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 0, 0], [0, 1, 0]])
    assert attribute_matrix({}, ["OCC"]).shape == (0, 1)
    fig = attribute_figure(table, ["OCC", "DR", "SV"], title="t")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["OCC\n1", "DR\n2", "SV\n0"]
    plt.close(fig)


def test_area_curves_figure_on_a_rendered_video():
    video = render_video(3, 6, (64, 96))
    fig = area_curves_figure(video.objects, title="x")
    assert len(fig.axes) == video.num_objects
    visible = fig.axes[0].get_lines()[0].get_ydata()
    np.testing.assert_array_equal(visible, video.objects[0].visible_area)
    plt.close(fig)
    with pytest.raises(ValueError):
        area_curves_figure([])

"""gcseg.widgets.coseg: every control of the co-segmentation explorer redraws, without errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from gcseg.widgets.coseg import coseg_explorer, figure_png  # noqa: E402
from tests.test_viz_coseg import small_clip, small_model  # noqa: E402

PNG = b"\x89PNG"


def picture(explorer) -> bytes:
    """The explorer's current PNG (the Image widget holds a memoryview)."""
    return bytes(explorer.image.value)


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture(scope="module")
def clips():
    return [small_clip("six", 6, 2), small_clip("eight", 8, 1, seed=1, absent=None)]


def drive(explorer, name, values):
    """Set a control to each value; check one new, error-free picture per change."""
    control = explorer.controls[name]
    for value in values:
        before, renders = picture(explorer), explorer.renders
        control.value = value
        assert explorer.errors == [], explorer.errors
        assert explorer.renders == renders + 1, (name, value)
        assert picture(explorer).startswith(PNG)
        yield before, picture(explorer)


def test_figure_png():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    figure.subplots().plot([0, 1])
    assert figure_png(figure).startswith(PNG)


def test_explorer_starts_on_the_first_video(model, clips):
    explorer = coseg_explorer(model, clips)
    controls = explorer.controls
    assert set(controls) == {"video", "object", "target", "interval", "prev_mask"}
    assert controls["video"].value == "six" and explorer.renders == 1
    assert picture(explorer).startswith(PNG) and explorer.errors == []
    assert (controls["target"].min, controls["target"].max, controls["target"].value) == (1, 5, 5)
    assert (controls["interval"].min, controls["interval"].max) == (1, 5)
    assert [value for _, value in controls["object"].options] == [1, 2]
    assert "six" in explorer.status.value


def test_every_control_redraws(model, clips):
    explorer = coseg_explorer(model, clips)
    for before, after in drive(explorer, "interval", [1, 3, 5]):
        assert before != after  # another reference frame, another picture
    for before, after in drive(explorer, "target", [2, 4, 1]):
        assert before != after
    list(drive(explorer, "interval", [4]))  # larger than the target: reference 0
    for before, after in drive(explorer, "prev_mask", ["none", "previous"]):
        assert before != after
    for before, after in drive(explorer, "object", [2, 1]):
        assert before != after
    assert "interval = 4" in explorer.status.value


def test_changing_the_video_updates_the_ranges_and_draws_once(model, clips):
    explorer = coseg_explorer(model, clips)
    list(drive(explorer, "video", ["eight"]))
    controls = explorer.controls
    assert controls["target"].max == 7 and controls["interval"].max == 7
    assert [value for _, value in controls["object"].options] == [1]
    assert controls["target"].value == 7
    list(drive(explorer, "target", [3, 6]))
    list(drive(explorer, "video", ["six"]))
    assert controls["target"].max == 5 and controls["target"].value == 5
    assert [value for _, value in controls["object"].options] == [1, 2]


def test_errors_are_shown_and_kept(clips):
    explorer = coseg_explorer(small_model("ref"), clips)  # no Co-segmentation Module
    assert explorer.errors and "ValueError" in explorer.errors[0]
    assert "ValueError" in explorer.status.value

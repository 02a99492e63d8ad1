"""gcseg.widgets.reference: every control of the Reference Module explorer redraws cleanly."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from gcseg.widgets.reference import reference_explorer  # noqa: E402
from tests.test_viz_coseg import small_clip, small_model  # noqa: E402
from tests.test_widgets_coseg import PNG, drive, picture  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture(scope="module")
def clips():
    return {"six": small_clip("six", 6, 2), "seven": small_clip("seven", 7, 1, seed=2,
                                                                absent=None)}


def test_explorer_controls_and_first_picture(model, clips):
    explorer = reference_explorer(model, clips)
    controls = explorer.controls
    assert set(controls) == {"video", "object", "reference", "target", "prev_mask"}
    assert explorer.renders == 1 and explorer.errors == []
    assert picture(explorer).startswith(PNG)
    assert (controls["reference"].min, controls["reference"].max,
            controls["reference"].value) == (0, 5, 0)
    assert (controls["target"].min, controls["target"].max, controls["target"].value) == (0, 5, 5)


def test_every_control_redraws(model, clips):
    explorer = reference_explorer(model, clips)
    for before, after in drive(explorer, "reference", [2, 5, 1]):
        assert before != after
    for before, after in drive(explorer, "target", [0, 3, 4]):
        assert before != after
    for before, after in drive(explorer, "object", [2]):
        assert before != after
    list(drive(explorer, "reference", [3]))  # object 2 is absent there: r = 0, no error
    list(drive(explorer, "target", [2]))  # (at target 4, M_(t-1) of object 2 is empty)
    for before, after in drive(explorer, "prev_mask", ["none", "previous"]):
        assert before != after
    list(drive(explorer, "video", ["seven"]))
    assert explorer.controls["target"].max == 6 and explorer.controls["target"].value == 6
    assert explorer.controls["reference"].value == 0
    for before, after in drive(explorer, "target", [2, 6]):
        assert before != after
    list(drive(explorer, "video", ["six"]))
    assert "reference = 0, target = 5" in explorer.status.value


def test_errors_are_kept(clips):
    explorer = reference_explorer(small_model("coseg"), clips)  # no Reference Module
    assert explorer.errors and explorer.errors[0].startswith("ValueError")

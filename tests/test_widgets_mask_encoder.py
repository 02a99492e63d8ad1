"""gcseg.widgets.mask_encoder: the ROI explorer builds, and every control re-renders."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gcseg.widgets.mask_encoder import roi_explorer  # noqa: E402
from tests.test_viz_coseg import small_clip, small_model  # noqa: E402


@pytest.fixture
def errors(caplog):
    """ipywidgets logs (does not raise) an exception inside a callback without a kernel."""
    caplog.set_level(logging.WARNING)
    yield lambda: [r for r in caplog.records if "Exception in interact callback" in r.message]


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture(scope="module")
def clip():
    return small_clip("six", 6, 2)  # object 2 is absent in frame 3


def _control(explorer, description):
    return next(c for c in explorer.children if getattr(c, "description", None) == description)


def test_explorer_builds_and_draws(model, clip, errors):
    explorer = roi_explorer(model, clip, object_id=1, frame=2)
    assert isinstance(explorer, widgets.interactive)
    frame, reference = _control(explorer, "frame"), _control(explorer, "reference")
    assert (frame.min, frame.max, frame.value) == (0, 5, 2) and reference.value == 0
    assert list(_control(explorer, "object").options) == [1, 2]
    assert isinstance(explorer.result, Figure)
    assert explorer.result.axes[1].get_title().startswith("frame 2:")
    assert set(explorer.cache) == {(1, 0)}
    assert errors() == []


def test_every_control_re_renders(model, clip, errors):
    explorer = roi_explorer(model, clip)
    frame, obj = _control(explorer, "frame"), _control(explorer, "object")
    reference = _control(explorer, "reference")
    for value in (1, 4, 5, 0):
        before = explorer.result
        frame.value = value
        assert explorer.result is not before
        assert explorer.result.axes[1].get_title().startswith(f"frame {value}:")
    obj.value = 2
    frame.value = 3  # object 2 is absent: an empty mask, no ROIs, no error
    assert explorer.result.axes[1].get_title() == "frame 3: 0 px visible"
    reference.value = 2
    assert explorer.result.axes[0].get_title() == "reference frame 2: r from its 10 ROIs"
    reference.value = 0  # cached: encoded once
    assert len(explorer.cache) == 3
    assert errors() == []


def test_a_failing_callback_is_seen(clip, errors):
    roi_explorer(small_model("coseg"), clip)  # no Mask Encoder
    assert len(errors()) == 1

"""gcseg.widgets.judgment: every control driven, the output updated, no callback error."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gcseg.inference import FrameRecord, InferenceOptions, VideoResult, VideoSegmenter
from gcseg.model import GCSeg
from gcseg.widgets.judgment import DEFAULT_THRESHOLDS, judgment_explorer
from tests.conftest import disappearing_video, small_config

T, H, W = 6, 16, 20


def _video() -> tuple[np.ndarray, np.ndarray]:
    """Object 1 absent in frame 3; object 2 always present."""
    return disappearing_video(T, absent=(3,), size=(H, W))


class FakeSegmenter:
    """``tau -> VideoResult`` whose object-1 scores fall to 0.6 at frames 3-4."""

    def __init__(self, gt: np.ndarray) -> None:
        self.gt = gt
        self.calls: list[float] = []

    def __call__(self, tau: float) -> VideoResult:
        self.calls.append(tau)
        scores = [np.nan, 0.95, 0.9, 0.6, 0.6, 0.8]
        records = [FrameRecord(0, [], None, None, 1, 0.0)]
        for t in range(1, T):
            reliable = [bool(scores[t] >= tau), True]
            records.append(FrameRecord(t, [0], [scores[t], 0.99], reliable, 1, 0.0))
        labels = self.gt.copy()
        if tau > 0.7:  # pretend a strict τ loses the object at the end
            labels[5][labels[5] == 1] = 0
        return VideoResult(labels, [1, 2], records)


@pytest.fixture
def errors(caplog):
    """ipywidgets logs (does not raise) an exception inside a callback without a kernel."""
    caplog.set_level(logging.WARNING)
    yield lambda: [r for r in caplog.records if "Exception in interact callback" in r.message]


def _controls(explorer: widgets.interactive):
    slider = next(c for c in explorer.children if isinstance(c, widgets.SelectionSlider))
    menu = next(c for c in explorer.children if isinstance(c, widgets.Dropdown))
    return slider, menu


def test_explorer_drives_every_control(errors):
    frames, gt = _video()
    segment = FakeSegmenter(gt)
    explorer = judgment_explorer(segment, frames, gt)
    assert isinstance(explorer, widgets.interactive)
    slider, menu = _controls(explorer)
    assert slider.value == 0.7 and list(menu.options) == [1, 2]
    assert tuple(slider.options) == DEFAULT_THRESHOLDS
    assert isinstance(explorer.result, Figure)  # drawn once at creation
    for tau, expected in [(0.5, 0), (0.65, 2), (0.9, 3), (0.0, 0), (1.0, 5)]:
        slider.value = tau
        top = explorer.result.axes[0]
        assert top.get_title() == f"τ = {tau:g}: {expected} of {T - 1} frames rejected"
    menu.value = 2
    assert explorer.result.axes[0].get_title().endswith("0 of 5 frames rejected")
    j = explorer.result.axes[1].get_lines()[0].get_ydata()
    np.testing.assert_array_equal(j, np.ones(T))  # object 2 is never lost
    menu.value = 1
    slider.value = 0.9
    j = explorer.result.axes[1].get_lines()[0].get_ydata()
    assert j[5] == 0.0  # the strict run lost object 1
    assert errors() == []


def test_explorer_segments_each_threshold_once(errors):
    frames, gt = _video()
    segment = FakeSegmenter(gt)
    precomputed = {0.7: segment(0.7)}
    segment.calls.clear()
    explorer = judgment_explorer(segment, frames, gt, precomputed=precomputed,
                                 thresholds=(0.3, 0.9), object_ids=[1])
    slider, menu = _controls(explorer)
    assert list(slider.options) == [0.3, 0.7, 0.9]  # initial added
    assert segment.calls == []  # 0.7 came precomputed
    for tau in (0.3, 0.9, 0.3, 0.7, 0.9):
        slider.value = tau
    assert segment.calls == [0.3, 0.9]
    assert set(explorer.cache) == {0.3, 0.7, 0.9}
    assert errors() == []


def test_explorer_needs_an_object():
    frames, gt = _video()
    with pytest.raises(ValueError, match="no object"):
        judgment_explorer(FakeSegmenter(gt), frames, np.zeros_like(gt))


def test_explorer_reports_a_failing_callback(errors):
    """The test's own guard works: an exception inside the callback is seen."""
    frames, gt = _video()

    def broken(tau):
        raise RuntimeError("boom")

    judgment_explorer(broken, frames, gt)
    assert len(errors()) == 1


def test_explorer_with_a_real_segmenter(errors):
    torch.manual_seed(0)
    frames, gt = _video()
    frames = np.stack([np.kron(f, np.ones((4, 4, 1), np.uint8)) for f in frames])  # 64 x 80
    gt = np.stack([np.kron(g, np.ones((4, 4), np.uint8)) for g in gt])
    model = GCSeg(small_config("full", frame_size=(64, 80)).model)

    def segment(tau: float) -> VideoResult:
        options = InferenceOptions(threshold=tau, num_refs=1)
        return VideoSegmenter(model, options).segment(frames, gt[0])

    explorer = judgment_explorer(segment, frames, gt, thresholds=(0.5, 1.0))
    slider, menu = _controls(explorer)
    for tau in (1.0, 0.5):
        for object_id in (2, 1):
            menu.value = object_id
            slider.value = tau
            title = explorer.result.axes[0].get_title()
            assert title.startswith(f"τ = {tau:g}: ")
    # at τ = 1 (nothing is that similar unless identical) almost every frame is rejected
    strict = explorer.cache[1.0]
    assert sum(r.backbone_passes == 2 for r in strict.records) >= 1
    assert errors() == []

"""The frame explorer (gcseg.widgets.inference): every control, driven programmatically."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gcseg.inference import FrameRecord  # noqa: E402
from gcseg.widgets.inference import frame_explorer  # noqa: E402

PNG = b"\x89PNG"


def _video(count: int = 4):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (count, 24, 32, 3), dtype=np.uint8)
    labels = np.zeros((count, 24, 32), np.uint8)
    for t in range(count):
        labels[t, 4:12, 4 + 2 * t: 12 + 2 * t] = 1
    probs = labels[:, None].astype(np.float32) * 0.9
    records = [FrameRecord(0, [], None, None, 1, 0.0)] + [
        FrameRecord(t, [0] + list(range(t)), [0.8], [True], 1, 0.0) for t in range(1, count)]
    return frames, labels, probs, records


def test_every_control_redraws_the_picture():
    frames, labels, probs, records = _video()
    explorer = frame_explorer(frames, labels, ground_truth=labels, probabilities=probs,
                              records=records)
    image, controls = explorer.image, explorer.controls
    assert bytes(image.value).startswith(PNG)
    seen = {bytes(image.value)}
    for t in (1, 3, 2, 0):
        controls["frame"].value = t
        assert bytes(image.value).startswith(PNG)
        seen.add(bytes(image.value))
    assert len(seen) == 4  # each frame draws a different picture (frame 0 twice: same)
    for t in (2, 3):
        controls["play"].value = t  # the play button moves the slider (linked)
        assert controls["frame"].value == t
    pictures = set()
    for view in (*controls["view"].options, controls["view"].options[0]):
        controls["view"].value = view
        assert bytes(image.value).startswith(PNG)
        pictures.add(bytes(image.value))
    assert len(pictures) == 3  # one picture per view, the same when a view comes back
    assert list(controls["view"].options) == [
        "prediction", "prediction + ground truth", "prediction + probabilities"]


def test_views_follow_what_was_given():
    frames, labels, _, _ = _video(3)
    explorer = frame_explorer(frames, labels)
    assert list(explorer.controls["view"].options) == ["prediction"]
    explorer.controls["frame"].value = 2
    assert bytes(explorer.image.value).startswith(PNG)
    assert explorer.controls["frame"].max == 2 and explorer.controls["play"].max == 2
    with pytest.raises(ValueError):
        frame_explorer(frames, labels[:2])

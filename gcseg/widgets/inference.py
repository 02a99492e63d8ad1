"""Explorers of a segmented video (notebook 08): thin ``ipywidgets`` wrappers over
:mod:`gcseg.viz.inference`.

:func:`frame_explorer` shows one frame at a time (a slider, and a play button that animates the
video); each change redraws :func:`gcseg.viz.inference.frame_view` into an ``Image`` widget.
The callback reads only the controls' values and the arrays given when the explorer was made.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from gcseg.viz.inference import frame_view

__all__ = ["frame_explorer", "render_png"]

VIEWS = ("prediction", "prediction + ground truth", "prediction + probabilities")


def render_png(figure) -> bytes:
    """PNG bytes of a matplotlib figure, which is closed afterwards."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=80)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def frame_explorer(frames: Sequence[np.ndarray], labels: Sequence[np.ndarray],
                   ground_truth: Sequence[np.ndarray] | None = None,
                   probabilities: np.ndarray | None = None, records: Sequence | None = None,
                   interval_ms: int = 400) -> widgets.VBox:
    """A frame slider (with a play button) over a segmented video.

    Args:
        frames: ``(H, W, 3)`` uint8 frames; labels: ``(H, W)`` predicted ids per frame.
        ground_truth: ``(H, W)`` ids per frame, or ``None``.
        probabilities: ``(T, K, H, W)`` per-object probabilities (``VideoResult.probabilities``).
        records: ``VideoResult.records`` (references and judgment scores in the title).
        interval_ms: time between frames when playing.

    Returns:
        A ``VBox``; its ``children`` are ``(controls, image)`` and the controls are reachable
        as ``explorer.controls`` (``{"frame", "play", "view"}``), the picture as
        ``explorer.image`` (an ``ipywidgets.Image`` holding PNG bytes).
    """
    count = len(frames)
    if len(labels) != count:
        raise ValueError(f"{count} frames but {len(labels)} label maps")
    views = [VIEWS[0]]
    if ground_truth is not None:
        views.append(VIEWS[1])
    if probabilities is not None:
        views.append(VIEWS[2])
    slider = widgets.IntSlider(value=0, min=0, max=count - 1, description="frame",
                               continuous_update=False)
    play = widgets.Play(value=0, min=0, max=count - 1, interval=interval_ms,
                        description="play")
    widgets.link((play, "value"), (slider, "value"))
    view = widgets.Dropdown(options=views, value=views[-2] if len(views) > 1 else views[0],
                            description="show")
    image = widgets.Image(format="png")

    def draw(t: int, shown: str) -> bytes:
        figure = frame_view(
            frames[t], labels[t],
            ground_truth=ground_truth[t] if shown == VIEWS[1] else None,
            probabilities=probabilities[t] if shown == VIEWS[2] else None,
            record=records[t] if records is not None else None, index=t,
        )
        return render_png(figure)

    def update(_change=None) -> None:
        image.value = draw(slider.value, view.value)

    slider.observe(update, names="value")
    view.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([play, slider, view]), image])
    box.controls = {"frame": slider, "play": play, "view": view}
    box.image = image
    return box

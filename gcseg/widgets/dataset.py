"""The dataset browser: look through the videos of a DAVIS-layout dataset frame by frame.

``dataset_browser(root)`` returns an ``ipywidgets`` box with

- a video drop-down (the split's sequences, with their challenge codes),
- a frame slider (its range follows the video),
- an object selector (the video's object ids; pick several with Ctrl/Shift),
- a "show ground truth" check box and a year toggle (``2017``: objects apart, ``2016``: merged),

over an output area showing :func:`gcseg.viz.dataset.browse_figure`.  The callback reads only
the controls' values and the dataset it was given (no mutable globals); an exception inside it
is shown in the output area as an ``error`` output instead of vanishing.
"""

from __future__ import annotations

import base64
import io
import os
import traceback

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gcseg.data.davis import DavisDataset
from gcseg.viz.dataset import AreaCurves, browse_figure, object_areas

__all__ = ["dataset_browser", "figure_output", "render_view"]


def figure_output(fig: Figure, dpi: int = 80) -> dict:
    """A Jupyter ``display_data`` output holding ``fig`` as a PNG (the figure is closed)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                 "text/plain": "<Figure>"},
        "metadata": {},
    }


def _error_output(error: BaseException) -> dict:
    return {
        "output_type": "error",
        "ename": type(error).__name__,
        "evalue": str(error),
        "traceback": traceback.format_exception(type(error), error, error.__traceback__),
    }


def render_view(datasets: dict[str, DavisDataset], video: str, frame: int,
                objects: tuple[int, ...] | None, show_gt: bool, year: str = "2017",
                cache: dict | None = None) -> Figure:
    """The browser's picture for one setting of its controls (what the callback draws).

    ``datasets`` maps a year to the dataset read that way; ``cache`` (optional) keeps each
    video's :class:`~gcseg.viz.dataset.AreaCurves` so the annotations are read once per video
    and year.
    """
    sequence = datasets[year][video]
    frame = int(np.clip(frame, 0, len(sequence) - 1))
    key = (year, video)
    if cache is not None and key in cache:
        curves = cache[key]
    else:
        annotated = sequence.annotated_indices  # every frame, or a subset (sparse truth)
        annotations = [sequence.annotation(i) for i in annotated]
        present = sorted({int(i) for mask in annotations for i in np.unique(mask)}
                         - {0, 255})
        areas = np.full((len(present), len(sequence)), np.nan)  # NaN: frame not annotated
        areas[:, annotated] = object_areas(annotations, present)
        curves = AreaCurves(present, areas)
        if cache is not None:
            cache[key] = curves
    annotation = sequence.annotation(frame) if frame in sequence.annotated_indices else None
    codes = datasets[year].attributes.get(video, [])
    title = f"{video}  frame {frame}/{len(sequence) - 1}  [{year}]  {' '.join(codes)}"
    return browse_figure(sequence.frame(frame), annotation, frame, curves, objects=objects,
                         show_gt=show_gt, title=title)


def dataset_browser(root: str | os.PathLike | DavisDataset, split: str = "val",
                    video: str | None = None, dpi: int = 80) -> widgets.VBox:
    """A frame/object browser over the ``split`` of the DAVIS-layout dataset at ``root``.

    Returns a ``VBox``; its ``controls`` attribute maps ``video``, ``frame``, ``objects``,
    ``show_gt`` and ``year`` to the control widgets, and ``output`` is the output area (tests
    and students can set ``controls[...].value`` to drive it).
    """
    if isinstance(root, DavisDataset):
        root, resolution = root.root, root.resolution
    else:
        resolution = "480p"
    datasets = {year: DavisDataset(root, year=year, split=split, resolution=resolution)
                for year in ("2017", "2016")}
    names = datasets["2017"].sequences
    first = video if video is not None else names[0]
    cache: dict = {}

    video_box = widgets.Dropdown(options=names, value=first, description="video")
    frame_slider = widgets.IntSlider(value=0, min=0, max=len(datasets["2017"][first]) - 1,
                                     description="frame", continuous_update=False)
    object_box = widgets.SelectMultiple(description="objects", rows=3)
    show_gt = widgets.Checkbox(value=True, description="show ground truth")
    year_toggle = widgets.ToggleButtons(options=["2017", "2016"], value="2017",
                                        description="year", style={"button_width": "60px"})
    output = widgets.Output()
    state = {"syncing": False}  # blocks redraws while the controls are being reset

    def object_options() -> list[tuple[str, int]]:
        ids = datasets[year_toggle.value][video_box.value].object_ids
        return [(f"object {k}", k) for k in ids]

    def redraw(*_) -> None:
        if state["syncing"]:
            return
        try:
            fig = render_view(datasets, video_box.value, frame_slider.value,
                              tuple(object_box.value), show_gt.value, year_toggle.value, cache)
            output.outputs = (figure_output(fig, dpi),)
        except Exception as error:  # shown in the output area, not swallowed
            output.outputs = (_error_output(error),)

    def reset_objects(*_) -> None:
        state["syncing"] = True
        try:
            frame_slider.max = len(datasets[year_toggle.value][video_box.value]) - 1
            options = object_options()
            object_box.options = options
            object_box.value = tuple(k for _, k in options)
        finally:
            state["syncing"] = False
        redraw()

    video_box.observe(reset_objects, names="value")
    year_toggle.observe(reset_objects, names="value")
    for control in (frame_slider, object_box, show_gt):
        control.observe(redraw, names="value")

    box = widgets.VBox([
        widgets.HBox([video_box, year_toggle]),
        widgets.HBox([frame_slider, show_gt]),
        object_box,
        output,
    ])
    box.controls = {"video": video_box, "frame": frame_slider, "objects": object_box,
                    "show_gt": show_gt, "year": year_toggle}
    box.output = output
    reset_objects()
    return box

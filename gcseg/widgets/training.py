"""Explorer of a training run's log (notebook 06): curves, x axis, step range, smoothing, step.

:func:`training_log_explorer` returns an ``ipywidgets.VBox`` whose controls redraw
:func:`gcseg.viz.training.plot_training_log` into an ``Image`` widget and write the chosen
curves' values at the chosen step under it. The runs' curves are read once, when the explorer
is made (:func:`gcseg.viz.training.training_curves`); callbacks read only the controls and
those curves (no mutable globals). Exceptions land in ``explorer.errors`` and under the picture.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from gcseg.viz.training import Curve, plot_training_log, training_curves, value_at
from gcseg.widgets.coseg import show_figure

__all__ = ["training_log_explorer"]

SMOOTHING = tuple(round(0.1 * k, 1) for k in range(10))
"""Values of the smoothing slider: 0, 0.1, ..., 0.9 (the weight of the moving average)."""


def _runs(runs: str | os.PathLike | Mapping[str, str | os.PathLike]) -> dict[str, dict]:
    if not isinstance(runs, Mapping):
        runs = {Path(runs).name: runs}
    curves = {name: training_curves(path) for name, path in runs.items()}
    empty = [name for name, found in curves.items() if not found]
    if empty or not curves:
        raise ValueError(f"no log.csv, eval.csv or learning_curve.json in {empty or 'no run'}")
    return curves


def _values_line(curves: Mapping[str, Curve], names: list[str], step: int,
                 smoothing: float) -> str:
    parts = []
    for name in names:
        picked = value_at(curves[name], step, smoothing)
        parts.append(f"{html.escape(name)} —" if picked is None
                     else f"{html.escape(name)} {picked[1]:.4g} (logged at step {picked[0]})")
    return f"<small>at step {step}: " + "; ".join(parts) + "</small>"


def training_log_explorer(runs: str | os.PathLike | Mapping[str, str | os.PathLike],
                          dpi: int = 72) -> widgets.VBox:
    """Explore the logs of one run folder, or of several (``{name: folder}``).

    Controls: ``run``; ``curves`` (any of loss, lr, J&F, J, F that the run logged); ``x``
    (step, or training minutes where the log has them); ``steps``, the range shown;
    ``smoothing``, the moving average's weight; ``step``, the step whose values are written
    under the picture (the last logged row at or before it).

    The VBox carries ``controls`` (name -> widget), ``image`` (the PNG), ``status`` (the
    values line, or the error), ``errors`` and ``renders`` (pictures drawn).
    """
    curves = _runs(runs)
    run = widgets.Dropdown(options=list(curves), description="run")
    names = widgets.SelectMultiple(description="curves", rows=5)
    x = widgets.ToggleButtons(options=["step"], description="x")
    steps = widgets.IntRangeSlider(description="steps", continuous_update=False)
    smoothing = widgets.SelectionSlider(options=SMOOTHING, value=0.0, description="smoothing",
                                        continuous_update=False)
    step = widgets.IntSlider(description="step", continuous_update=False)
    image, status = widgets.Image(format="png"), widgets.HTML()
    controls = {"run": run, "curves": names, "x": x, "steps": steps, "smoothing": smoothing,
                "step": step}
    box = widgets.VBox([widgets.HBox([run, names, x]), widgets.HBox([steps, smoothing, step]),
                        image, status])
    box.controls, box.image, box.status, box.errors, box.renders = controls, image, status, [], 0
    state = {"holding": False}  # no redraw while one change updates several controls

    def redraw(_change: object = None) -> None:
        if state["holding"]:
            return
        found, chosen = curves[run.value], list(names.value)
        show_figure(box, image, status,
                    lambda: plot_training_log(found, chosen, x.value, steps.value,
                                              smoothing.value, step.value),
                    lambda: _values_line(found, chosen, step.value, smoothing.value), dpi)

    def follow_run(_change: object = None) -> None:
        found = curves[run.value]
        every = np.concatenate([curve.steps for curve in found.values()])
        first, last = int(every.min()), int(every.max())
        timed = all(np.isfinite(curve.seconds).all() for curve in found.values())
        state["holding"] = True
        try:
            names.options = list(found)
            names.value = [next(iter(found))]
            x.options = ["step", "minutes"] if timed else ["step"]
            x.value = "step"
            for slider in (steps, step):
                slider.min, slider.max = min(slider.min, first), max(slider.max, last)
                slider.min, slider.max = first, last
            steps.value, step.value = (first, last), last
        finally:
            state["holding"] = False
        redraw()

    run.observe(follow_run, names="value")
    for widget in (names, x, steps, smoothing, step):
        widget.observe(redraw, names="value")
    follow_run()
    return box

"""Explorer of the Judgment Module's threshold τ (paper Section III-B; notebook 07).

:func:`judgment_explorer` wraps :func:`gcseg.viz.judgment.plot_threshold_effect` in
``ipywidgets.interactive``: a slider over τ and a menu of objects.  Moving τ changes which
previous masks are dropped, and so every later mask: the video is segmented again for each τ
(by the ``segment`` function the caller passes), once per value -- the results are kept in a
cache that belongs to the explorer (no globals), so going back to a τ already seen is instant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from gcseg.config import JUDGMENT_THRESHOLD
from gcseg.viz.judgment import plot_threshold_effect

__all__ = ["DEFAULT_THRESHOLDS", "judgment_explorer"]

DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(0.05 * k, 2) for k in range(21))
"""τ values of the slider: 0, 0.05, ..., 1."""


def _key(threshold: float) -> float:
    return round(float(threshold), 4)


def judgment_explorer(
    segment: Callable[[float], object],
    frames: Sequence[np.ndarray],
    gt: np.ndarray,
    object_ids: Sequence[int] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    initial: float = JUDGMENT_THRESHOLD,
    precomputed: Mapping[float, object] | None = None,
) -> widgets.interactive:
    """A τ slider and an object menu over :func:`~gcseg.viz.judgment.plot_threshold_effect`.

    Args:
        segment: ``tau -> VideoResult``, e.g.
            ``lambda tau: VideoSegmenter(model, InferenceOptions(threshold=tau))
            .segment(frames, gt[0])``;
            called at most once per τ.
        frames: the video's frames, (H, W, 3) uint8; ``gt``: its ground truth (T, H, W).
        object_ids: the objects offered (default: those of ``gt[0]``).
        thresholds: the slider's values (``initial`` is added when missing).
        initial: τ shown first (the paper's 0.7).
        precomputed: ``{tau: VideoResult}`` already computed (seed the cache).

    Returns:
        The ``ipywidgets.interactive`` widget; its ``result`` is the last figure drawn and
        its ``cache`` attribute the ``{tau: VideoResult}`` computed so far.
    """
    gt = np.asarray(gt)
    if object_ids is None:
        object_ids = [int(i) for i in np.unique(gt[0]) if i not in (0, 255)]
    object_ids = [int(i) for i in object_ids]
    if not object_ids:
        raise ValueError("no object to follow: the first ground-truth mask is empty")
    values = sorted({_key(v) for v in thresholds} | {_key(initial)})
    cache: dict[float, object] = {_key(k): v for k, v in (precomputed or {}).items()}

    def result_for(threshold: float):
        key = _key(threshold)
        if key not in cache:
            cache[key] = segment(key)
        return cache[key]

    def show(threshold: float, object_id: int) -> Figure:
        return plot_threshold_effect(result_for(threshold), frames, gt, object_id, threshold)

    slider = widgets.SelectionSlider(options=values, value=_key(initial), description="τ",
                                     continuous_update=False,
                                     layout=widgets.Layout(width="60%"))
    menu = widgets.Dropdown(options=object_ids, value=object_ids[0], description="object")
    explorer = widgets.interactive(show, threshold=slider, object_id=menu)
    explorer.cache = cache
    return explorer

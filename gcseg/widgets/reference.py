"""Explorer of the Reference Module (notebook 04): video, object, reference and target frame.

:func:`reference_explorer` returns an ``ipywidgets.VBox`` whose controls redraw
:func:`gcseg.viz.reference.reference_figure` (the reference with its ROIs, D1, D1' of eq. 2,
|R| and M_t). The machinery is :func:`gcseg.widgets.coseg.build_explorer`: callbacks read
only the controls and the model and videos handed in, and exceptions land in
``explorer.errors`` and under the picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from gcseg.model import GCSeg
from gcseg.viz.probe import Clip
from gcseg.viz.reference import reference_figure
from gcseg.widgets.coseg import build_explorer

__all__ = ["reference_explorer"]


def reference_explorer(model: GCSeg, clips: Sequence[Clip] | Mapping[str, Clip],
                       dpi: int = 72) -> widgets.VBox:
    """Explore the similarity maps D1 and D1' for any (reference, target) pair of a video.

    Controls: video, object, ``reference`` frame, ``target`` frame, and whether M_(t-1) is
    given with the target. A reference after the target is allowed (the module does not care
    about the order); a reference where the object is absent has no ROI box, so ``r = 0``.
    """

    def draw(clip: Clip, object_id: int, prev_mask: str, reference: int,
             target: int) -> Figure:
        return reference_figure(model, clip, object_id, reference, target, prev_mask)

    sliders = {
        "reference": lambda clip: (0, len(clip) - 1, 0),
        "target": lambda clip: (0, len(clip) - 1, len(clip) - 1),
    }
    return build_explorer(clips, sliders, draw, dpi)

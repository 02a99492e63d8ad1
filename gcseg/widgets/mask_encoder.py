"""Explorer of the Mask Encoder's ROIs (notebook 03): a frame slider over an occlusion video.

:func:`roi_explorer` wraps :func:`gcseg.viz.mask_encoder.plot_rois_against_r` in
``ipywidgets.interactive``: a slider over the frames of one video, a menu of its objects and a
slider for the reference frame.  Each picture shows the frame's 10 ROIs on the image and on the
feature grid, and the cosine of each ROI vector with the reference's fused vector ``r``.  The
reference encodings are kept in a cache that belongs to the explorer (no globals): moving the
frame slider encodes one frame.
"""

from __future__ import annotations

import ipywidgets as widgets
from matplotlib.figure import Figure

from gcseg.model import GCSeg, MaskEncoding
from gcseg.viz.mask_encoder import encode_mask, plot_rois_against_r
from gcseg.viz.probe import Clip, steadiest_object

__all__ = ["roi_explorer"]


def roi_explorer(model: GCSeg, clip: Clip, object_id: int | None = None, frame: int = 0,
                 reference: int = 0) -> widgets.interactive:
    """A frame slider, an object menu and a reference slider over the ROI picture.

    Args:
        model: a GCSeg with a Mask Encoder; clip: the video (an occlusion video shows most).
        object_id: the object shown first (default: the steadiest one).
        frame, reference: the frame and the reference frame shown first.

    Returns:
        The ``ipywidgets.interactive`` widget; its ``result`` is the last figure drawn and its
        ``cache`` attribute the ``{(object, reference): MaskEncoding}`` encoded so far.
    """
    if object_id is None:
        object_id = steadiest_object(clip)
    last = len(clip) - 1
    cache: dict[tuple[int, int], MaskEncoding] = {}

    def reference_encoding(object_id: int, reference: int) -> MaskEncoding:
        key = (int(object_id), int(reference))
        if key not in cache:
            cache[key] = encode_mask(model, clip.frames[reference],
                                     clip.mask(reference, object_id))[1]
        return cache[key]

    def show(frame: int, object_id: int, reference: int) -> Figure:
        return plot_rois_against_r(model, clip, object_id, frame, reference,
                                   reference_encoding(object_id, reference))

    layout = widgets.Layout(width="60%")
    explorer = widgets.interactive(
        show,
        frame=widgets.IntSlider(min=0, max=last, value=min(max(frame, 0), last),
                                description="frame", continuous_update=False, layout=layout),
        object_id=widgets.Dropdown(options=[int(i) for i in clip.object_ids],
                                   value=int(object_id), description="object"),
        reference=widgets.IntSlider(min=0, max=last, value=min(max(reference, 0), last),
                                    description="reference", continuous_update=False))
    explorer.cache = cache
    return explorer

"""Explorer of the Co-segmentation Module (notebook 02): video, object, target frame, interval.

:func:`coseg_explorer` returns an ``ipywidgets.VBox`` whose controls redraw
:func:`gcseg.viz.coseg.coseg_figure` into an ``Image`` widget. Callbacks read only the
controls' values and the model and videos handed to the explorer (no mutable globals).

:func:`build_explorer` is the machinery shared with :mod:`gcseg.widgets.reference`: a video
dropdown and an object dropdown that follow the chosen video, frame sliders whose ranges
follow the video's length, one redraw per change, and any exception shown under the picture
and kept in ``explorer.errors`` (ipywidgets would otherwise swallow it).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from gcseg.model import GCSeg
from gcseg.viz.coseg import coseg_figure
from gcseg.viz.probe import Clip, steadiest_object

__all__ = ["build_explorer", "coseg_explorer", "figure_png", "show_figure"]


def figure_png(figure: Figure, dpi: int = 72) -> bytes:
    """The PNG bytes of a figure."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def show_figure(box: widgets.Widget, image: widgets.Image, status: widgets.HTML,
                draw: Callable[[], Figure], caption: Callable[[], str], dpi: int = 72) -> None:
    """Draw into an explorer: ``image`` gets ``draw()``'s figure and ``status`` ``caption()``,
    counted in ``box.renders``; an exception is shown in red under the picture and kept in
    ``box.errors`` (for the tests)."""
    try:
        image.value = figure_png(draw(), dpi)
        box.renders += 1
        status.value = caption()
    except Exception as error:  # shown to the student, kept for the tests
        message = f"{type(error).__name__}: {error}"
        box.errors.append(message)
        status.value = f"<span style='color:#b00'>{html.escape(message)}</span>"


def _as_dict(clips: Sequence[Clip] | Mapping[str, Clip]) -> dict[str, Clip]:
    if isinstance(clips, Mapping):
        return dict(clips)
    return {clip.name: clip for clip in clips}


def build_explorer(
    clips: Sequence[Clip] | Mapping[str, Clip],
    sliders: Mapping[str, Callable[[Clip], tuple[int, int, int]]],
    draw: Callable[..., Figure],
    dpi: int = 72,
) -> widgets.VBox:
    """A VBox of controls over ``draw(clip=..., object_id=..., prev_mask=..., **sliders)``.

    Args:
        clips: the videos offered (a list, or a name -> clip mapping).
        sliders: ``{name: fn(clip) -> (min, max, initial)}``: integer sliders whose range
            follows the chosen video.
        draw: returns the figure for the controls' values.

    The VBox carries ``controls`` (name -> widget: ``video``, ``object``, the sliders,
    ``prev_mask``), ``image`` (the PNG), ``status`` (an HTML line), ``errors`` (the messages
    of exceptions raised while drawing) and ``renders`` (how many pictures were drawn).
    """
    clips = _as_dict(clips)
    if not clips:
        raise ValueError("the explorer needs at least one video")
    first = next(iter(clips.values()))
    video = widgets.Dropdown(options=list(clips), value=first.name, description="video")
    obj = widgets.Dropdown(description="object")
    made = {}
    for name in sliders:
        made[name] = widgets.IntSlider(description=name, continuous_update=False, min=0,
                                       max=1, value=0)
    prev = widgets.ToggleButtons(options=[("M_(t-1) given", "previous"),
                                          ("M_(t-1) = 0", "none")], value="previous",
                                 description="previous mask")
    image = widgets.Image(format="png")
    status = widgets.HTML()
    controls = {"video": video, "object": obj, **made, "prev_mask": prev}
    box = widgets.VBox([widgets.HBox([video, obj, prev]),
                        widgets.HBox(list(made.values())), image, status])
    box.controls, box.image, box.status = controls, image, status
    box.errors, box.renders = [], 0
    state = {"holding": False}  # no redraw while one change updates several controls

    def redraw(_change: object = None) -> None:
        if state["holding"]:
            return
        clip = clips[video.value]
        values = {name: slider.value for name, slider in made.items()}
        show_figure(box, image, status,
                    lambda: draw(clip=clip, object_id=obj.value, prev_mask=prev.value, **values),
                    lambda: (f"<small>{html.escape(clip.name)}: "
                             + ", ".join(f"{k} = {v}" for k, v in values.items()) + "</small>"),
                    dpi)

    def follow_video(_change: object = None) -> None:
        clip = clips[video.value]
        state["holding"] = True
        try:
            obj.options = [(str(i), i) for i in clip.object_ids]
            obj.value = steadiest_object(clip)
            for name, slider in made.items():
                low, high, initial = sliders[name](clip)
                slider.min, slider.max = 0, max(high, low, 1)
                slider.min = low
                slider.value = min(max(initial, low), slider.max)
        finally:
            state["holding"] = False
        redraw()

    video.observe(follow_video, names="value")
    for widget in [obj, *made.values(), prev]:
        widget.observe(redraw, names="value")
    follow_video()
    return box


def coseg_explorer(model: GCSeg, clips: Sequence[Clip] | Mapping[str, Clip],
                   dpi: int = 72) -> widgets.VBox:
    """Explore G over a target frame as the interval n to its reference grows.

    Controls: video, object, ``target`` frame t, ``interval`` n (the reference is
    ``max(t - n, 0)``), and whether M_(t-1) is given with the target. Draws
    :func:`gcseg.viz.coseg.coseg_figure`.
    """

    def draw(clip: Clip, object_id: int, prev_mask: str, target: int,
             interval: int) -> Figure:
        return coseg_figure(model, clip, target, interval, object_id, prev_mask)

    sliders = {
        "target": lambda clip: (1, len(clip) - 1, len(clip) - 1),
        "interval": lambda clip: (1, len(clip) - 1, max(1, (len(clip) - 1) // 2)),
    }
    return build_explorer(clips, sliders, draw, dpi)

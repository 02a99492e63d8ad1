"""Figure 1 as a data-flow map: the boxes of the GCSeg network, the tensor on every arrow with
its shape, and each box linked to the notebook that builds it.

- :func:`flow_shapes` -- the shape of every tensor on an arrow, measured by running the
  inference path (``encode_frame``, ``summarize_reference``, ``predict``, ``judge``) of a model
  built as :func:`gcseg.model.describe.describe` builds it: on the ``meta`` device by default
  (shapes only, no arithmetic), from the preset's config, weights never loaded.
- :data:`BOXES` and :func:`flow_arrows` -- the boxes (title, notebook) and the arrows
  (from, to, tensors).
- :func:`dataflow_svg` -- the map as an SVG string whose boxes are ``<a href>`` links (show
  it with ``IPython.display.HTML`` so that the links can be clicked), and
  :func:`dataflow_table`, the same content as an HTML table with links.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import torch

from gcseg.config import GCSegConfig, load_config
from gcseg.model.describe import build_unweighted, zero_frame

__all__ = ["BOXES", "Box", "dataflow_svg", "dataflow_table", "flow_arrows", "flow_shapes"]


@dataclass(frozen=True)
class Box:
    """A box of Figure 1: its title, a second line, the notebook that builds it, and its place
    on the map (column, row)."""

    title: str
    detail: str
    notebook: str
    column: float
    row: float


BOXES: dict[str, Box] = {
    "frame_t": Box("frame t", "I_t and M_{t-1}", "00_vos_davis_and_metrics.ipynb", 0, 0),
    "references": Box("references", "I_{t-n}, M_{t-n}; frame 0", "00_vos_davis_and_metrics.ipynb",
                      0, 2),
    "extractor_t": Box("Feature Extractor E", "F_t = E(I_t, M_{t-1})",
                       "01_feature_extractor.ipynb", 1, 0),
    "judgment": Box("Judgment Module", "adaptive search: cos(v_0, v_t)",
                    "07_adaptive_search.ipynb", 1, 1),
    "extractor_ref": Box("Feature Extractor E", "shared weights: F_{t-n}",
                         "01_feature_extractor.ipynb", 1, 2),
    "coseg": Box("Co-segmentation Module", "G = F_t ⊙ f_{t-n}", "02_coseg_module.ipynb", 2, 0),
    "mask_encoder": Box("Mask Encoder", "F_{t-n} ⊙ M_{t-n}, 10 ROIs -> r",
                        "03_mask_encoder.ipynb", 2, 2),
    "reference": Box("Reference Module", "eq. 1-2: R from F_t and r", "04_reference_module.ipynb",
                     3, 1),
    "decoder": Box("Decoder", "GCN, residual, ASPP, softmax", "05_decoder_and_loss.ipynb", 4, 0.5),
    "loop": Box("Inference loop", "mean over refs, merge objects",
                "08_inference_and_evaluation.ipynb", 4, 1.75),
}
"""The boxes of Figure 1 (plus the two inputs and the per-frame loop), keyed by a short name."""


def _shape(tensor: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(n) for n in tensor.shape)


def flow_shapes(preset_or_config: str | GCSegConfig = "tiny", device: str = "meta",
                batch: int = 1) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor on an arrow of Figure 1, for one frame and one reference.

    Keys: ``I``, ``M`` (image and mask), ``F.<level>`` (every extractor level), ``f.<level>``
    (co-segmentation vectors), ``r``, ``G``, ``R``, ``decoder_input``, ``M_t``, ``v``
    (the Judgment Module's pooled vector) and ``s`` (its score).

    Args:
        preset_or_config: a preset name, a YAML path or a :class:`GCSegConfig`; its
            ``data.frame_size`` is the frame size.
        device: ``"meta"`` (default: shapes only) or a real device (runs zero frames).
        batch: rows (objects) per frame.
    """
    config = load_config(preset_or_config)
    model = build_unweighted(config, "full", device)
    image, mask = zero_frame(config.data.frame_size, device, batch)
    with torch.no_grad():
        features = model.encode_frame(image, mask)
        summary = model.summarize_reference(features, mask)
        prob, internals = model.predict(features, summary)
        judged = model.judge(features, mask, summary)
    shapes = {"I": _shape(image), "M": _shape(mask)}
    shapes.update({f"F.{level}": _shape(value) for level, value in features.items()})
    shapes.update({f"f.{level}": _shape(value) for level, value in summary.f.items()})
    shapes.update(r=_shape(summary.r), G=_shape(internals.G), R=_shape(internals.reference.R),
                  decoder_input=_shape(internals.decoder_input), M_t=_shape(prob),
                  v=_shape(summary.object_vector), s=_shape(judged.score))
    return shapes


def _fmt(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


def flow_arrows(shapes: dict[str, tuple[int, ...]]) -> list[tuple[str, str, list[str]]]:
    """The arrows of Figure 1 as ``(from box, to box, label lines)``; every shape in a label
    comes from ``shapes`` (:func:`flow_shapes`).  The top level (read by the Mask Encoder,
    the Reference Module and the Judgment Module) is the extractor's last one."""
    levels = sorted(key[2:] for key in shapes if key.startswith("f."))
    top_level = sorted(key[2:] for key in shapes if key.startswith("F."))[-1]
    top = f"F.{top_level}"
    image, mask = _fmt(shapes["I"]), _fmt(shapes["M"])
    return [
        ("frame_t", "extractor_t", [f"I_t {image}", f"M_{{t-1}} {mask}"]),
        ("references", "extractor_ref", [f"I_{{t-n}} {image}", f"M_{{t-n}} {mask}"]),
        ("extractor_t", "coseg", [f"F_t {level} {_fmt(shapes['F.' + level])}"
                                  for level in levels]),
        ("extractor_ref", "coseg", [f"f_{{t-n}} {level} {_fmt(shapes['f.' + level])}"
                                    for level in levels]),
        ("extractor_t", "judgment", [f"v_t {_fmt(shapes['v'])} (pooled {top_level})"]),
        ("extractor_ref", "judgment", [f"v_0 {_fmt(shapes['v'])} (frame 0)"]),
        ("judgment", "frame_t", [f"score s {_fmt(shapes['s'])}; if s < τ:",
                                  "M_{t-1} := 0, encode again"]),
        ("extractor_ref", "mask_encoder", [f"F_{{t-n}} {top_level}", _fmt(shapes[top])]),
        ("extractor_t", "reference", [f"F_t {top_level} {_fmt(shapes[top])}"]),
        ("mask_encoder", "reference", [f"r_{{t-n}} {_fmt(shapes['r'])}"]),
        ("coseg", "decoder", [f"G {_fmt(shapes['G'])}"]),
        ("reference", "decoder", [f"R {_fmt(shapes['R'])}",
                                  f"[G; R] {_fmt(shapes['decoder_input'])}"]),
        ("decoder", "loop", [f"M_t {_fmt(shapes['M_t'])}"]),
    ]


BOX_W, BOX_H, COL_STEP, ROW_STEP, MARGIN = 176, 56, 310, 150, 30
"""Geometry of the map in SVG pixels."""


def _centre(box: Box) -> tuple[float, float]:
    return (MARGIN + box.column * COL_STEP + BOX_W / 2,
            MARGIN + 40 + box.row * ROW_STEP + BOX_H / 2)


def _edge(box: Box, towards: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from ``box``'s centre to ``towards`` leaves the box."""
    cx, cy = _centre(box)
    dx, dy = towards[0] - cx, towards[1] - cy
    scale = min(BOX_W / 2 / abs(dx) if dx else float("inf"),
                BOX_H / 2 / abs(dy) if dy else float("inf"))
    return cx + dx * scale, cy + dy * scale


def _box_svg(key: str, box: Box, href_prefix: str) -> str:
    x, y = _centre(box)
    x0, y0 = x - BOX_W / 2, y - BOX_H / 2
    fill = "#eef3fb" if box.notebook[:2] not in ("00", "08") else "#f4f4f4"
    return (f'<a href="{html.escape(href_prefix + box.notebook)}" target="_blank">'
            f'<title>{html.escape(box.title)}: built in {html.escape(box.notebook)}</title>'
            f'<rect id="box-{key}" x="{x0:.0f}" y="{y0:.0f}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="8" fill="{fill}" stroke="#3060a0" stroke-width="1.5"/>'
            f'<text x="{x:.0f}" y="{y0 + 22:.0f}" text-anchor="middle" font-size="13" '
            f'font-weight="bold" fill="#1a3d70">{html.escape(box.title)}</text>'
            f'<text x="{x:.0f}" y="{y0 + 40:.0f}" text-anchor="middle" font-size="10" '
            f'fill="#333">{html.escape(box.detail)}</text>'
            f'<text x="{x:.0f}" y="{y0 + 52:.0f}" text-anchor="middle" font-size="9" '
            f'fill="#3060a0" text-decoration="underline">{html.escape(box.notebook)}</text></a>')


def _arrow_svg(source: Box, target: Box, lines: list[str]) -> str:
    start = _edge(source, _centre(target))
    end = _edge(target, _centre(source))
    path = f"M {start[0]:.0f} {start[1]:.0f} L {end[0]:.0f} {end[1]:.0f}"
    label_x, label_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    feedback = target.column < source.column  # the Judgment Module's answer goes back
    dash = ' stroke-dasharray="5,3"' if feedback else ""
    anchor = "middle"
    if abs(start[1] - end[1]) < 1:  # horizontal: the label sits above the line
        label_y -= 6 + 12 * (len(lines) - 1)
    elif abs(start[0] - end[0]) < 1:  # vertical: to the right of the line
        label_x, anchor = label_x + 6, "start"
        label_y -= 6 * (len(lines) - 1) - 4
    elif feedback:  # to the left of the line
        label_x, anchor = label_x - 8, "end"
        label_y -= 6 * (len(lines) - 1) - 4
    else:
        label_y -= 6 * (len(lines) - 1) - 4
    text = "".join(
        f'<tspan x="{label_x:.0f}" dy="{0 if i == 0 else 12}">{html.escape(line)}</tspan>'
        for i, line in enumerate(lines))
    return (f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.3"{dash} '
            f'marker-end="url(#arrow)"/>'
            f'<text x="{label_x:.0f}" y="{label_y:.0f}" text-anchor="{anchor}" font-size="10" '
            f'font-family="monospace" fill="#8a2a0a" stroke="white" stroke-width="3" '
            f'paint-order="stroke">{text}</text>')


def dataflow_svg(shapes: dict[str, tuple[int, ...]] | None = None, href_prefix: str = "",
                 title: str | None = None) -> str:
    """Figure 1 as an SVG string: boxes linked (``<a href>``) to their notebooks, arrows
    labelled with the tensors and their shapes (``shapes`` from :func:`flow_shapes`; the
    ``tiny`` preset's when ``None``).

    Args:
        shapes: from :func:`flow_shapes`.
        href_prefix: put before each notebook name (e.g. ``"../notebooks/"``).
        title: a line above the map.
    """
    shapes = flow_shapes() if shapes is None else shapes
    columns = 1 + max(box.column for box in BOXES.values())
    rows = 1 + max(box.row for box in BOXES.values())
    width = 2 * MARGIN + (columns - 1) * COL_STEP + BOX_W
    height = 2 * MARGIN + 40 + (rows - 1) * ROW_STEP + BOX_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" '
        f'style="max-width: 100%; height: auto">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="{MARGIN}" y="{MARGIN - 8}" font-size="13">'
                     f'{html.escape(title)}</text>')
    for source, target, lines in flow_arrows(shapes):
        parts.append(_arrow_svg(BOXES[source], BOXES[target], lines))
    parts += [_box_svg(key, box, href_prefix) for key, box in BOXES.items()]
    parts.append("</svg>")
    return "\n".join(parts)


def dataflow_table(shapes: dict[str, tuple[int, ...]] | None = None,
                   href_prefix: str = "") -> str:
    """The map as an HTML table: one row per box, its notebook as a link, what comes in and
    what goes out (with shapes)."""
    shapes = flow_shapes() if shapes is None else shapes
    arrows = flow_arrows(shapes)
    rows = []
    for key, box in BOXES.items():
        incoming = "<br>".join(html.escape(f"{BOXES[s].title}: {'; '.join(lines)}")
                               for s, t, lines in arrows if t == key)
        outgoing = "<br>".join(html.escape(f"to {BOXES[t].title}: {'; '.join(lines)}")
                               for s, t, lines in arrows if s == key)
        link = f'<a href="{html.escape(href_prefix + box.notebook)}">{box.notebook}</a>'
        rows.append(f"<tr><td><b>{html.escape(box.title)}</b><br>{html.escape(box.detail)}</td>"
                    f"<td>{link}</td><td>{incoming}</td><td>{outgoing}</td></tr>")
    header = "<tr><th>box</th><th>notebook</th><th>in</th><th>out</th></tr>"
    return f'<table style="font-size:11px">{header}{"".join(rows)}</table>'

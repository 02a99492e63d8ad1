"""The Figure-1 data-flow map: its boxes, its shapes (those of the model) and its links."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gcseg.config import load_config
from gcseg.model.describe import describe
from gcseg.viz.dataflow import BOXES, dataflow_svg, dataflow_table, flow_arrows, flow_shapes

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def shapes():
    return flow_shapes("tiny")


def test_shapes_are_those_of_a_real_forward_pass(shapes):
    # meta (shapes only) and a real CPU run of zero frames give the same shapes
    assert flow_shapes("tiny", device="cpu") == shapes
    config = load_config("tiny")
    height, width = config.data.frame_size
    m = config.model
    assert f"frames {height}x{width}" in describe("tiny").splitlines()[0]
    assert shapes["I"] == (1, 3, height, width) and shapes["M_t"] == (1, 1, height, width)
    grid = (height // m.output_stride, width // m.output_stride)
    assert shapes["G"] == (1, m.coseg_dim, *grid) and shapes["R"] == (1, m.ref_dim, *grid)
    assert shapes["decoder_input"] == (1, m.coseg_dim + m.ref_dim, *grid)
    assert shapes["r"] == shapes["v"] == (1, shapes[f"F.{m.top_level}"][1])
    assert shapes["s"] == (1,)
    assert sorted(k[2:] for k in shapes if k.startswith("f.")) == sorted(m.coseg_levels)


def test_batch_is_the_rows(shapes):
    two = flow_shapes("tiny", batch=2)
    assert all(two[key][0] == 2 for key in two)
    assert {key: value[1:] for key, value in two.items()} == {
        key: value[1:] for key, value in shapes.items()}


def test_every_box_is_drawn_and_linked_to_an_existing_notebook(shapes):
    svg = dataflow_svg(shapes, title="tiny")
    root = ET.fromstring(svg)  # well-formed XML
    links = root.findall(f"{SVG}a")
    assert len(links) == len(BOXES)
    for link, (key, box) in zip(links, BOXES.items(), strict=True):
        href = link.get("href")
        assert href == box.notebook and (NOTEBOOKS / href).is_file(), href
        assert link.find(f"{SVG}rect").get("id") == f"box-{key}"
        assert box.title in "".join(link.itertext())
    for number in ("01", "02", "03", "04", "05", "07", "08"):
        assert any(box.notebook.startswith(number) for box in BOXES.values()), number


def test_every_arrow_label_shows_the_shapes(shapes):
    svg = dataflow_svg(shapes)
    arrows = flow_arrows(shapes)
    assert svg.count('marker-end="url(#arrow)"') == len(arrows)
    for source, target, lines in arrows:
        assert source in BOXES and target in BOXES
        for line in lines:
            assert html.escape(line) in svg
    text = " ".join(" ".join(lines) for _, _, lines in arrows)
    for key in ("I", "M", "r", "G", "R", "decoder_input", "M_t", "v"):
        assert "×".join(map(str, shapes[key])) in text, key
    # another preset, other shapes: nothing is typed in
    paper = flow_shapes("paper")
    assert paper["G"] != shapes["G"]
    assert "×".join(map(str, paper["F.res5"])) in dataflow_svg(paper)


def test_table_links_and_lists_every_box(shapes):
    table = dataflow_table(shapes, href_prefix="../notebooks/")
    for box in BOXES.values():
        assert f'href="../notebooks/{box.notebook}"' in table
        assert box.title in table

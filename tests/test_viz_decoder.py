"""gcseg.viz.decoder: receptive fields, the four-output figure, the loss-terms table."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from gcseg.model.decoder import ASPP, GlobalConvBlock, ResidualBlock
from gcseg.viz.decoder import (
    OUTPUT_NAMES,
    plot_receptive_fields,
    plot_training_outputs,
    receptive_field,
    support_extent,
    terms_table,
)


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


def test_receptive_field_of_a_conv_is_its_kernel():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    field = receptive_field(conv, 2, size=(15, 17))
    assert field.shape == (15, 17)
    assert field.max() == pytest.approx(1.0)
    assert support_extent(field) == (3, 3)
    assert (field[7 - 1:7 + 2, 8 - 1:8 + 2] > 0).all()  # centred on (7, 8)
    assert (field > 0).sum() == 9


def test_receptive_field_at_another_point_moves():
    conv = nn.Conv2d(1, 1, 5, padding=2)
    field = receptive_field(conv, 1, size=(20, 20), point=(3, 15))
    rows, cols = np.nonzero(field)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (1, 5, 13, 17)


@pytest.mark.parametrize("k", [3, 7, 11])
def test_global_convolution_covers_k_by_k(k):
    field = receptive_field(GlobalConvBlock(4, 4, k).eval(), 4, size=(31, 31))
    assert support_extent(field) == (k, k)
    assert (field > 0).sum() == k * k  # the whole square, not a cross


def test_residual_block_and_stacking():
    assert support_extent(receptive_field(ResidualBlock(4).eval(), 4, (21, 21))) == (5, 5)
    stack = nn.Sequential(GlobalConvBlock(4, 4, 7), ResidualBlock(4)).eval()
    assert support_extent(receptive_field(stack, 4, (31, 31))) == (11, 11)


def test_aspp_without_normalisation_is_a_sparse_pattern():
    aspp = ASPP(4, 4, rates=(1, 3, 6), image_pool=False, norm="none").eval()
    field = receptive_field(aspp, 4, (31, 31))
    assert support_extent(field) == (13, 13)  # 2 * 6 + 1
    assert (field > 0).sum() == 1 + 8 * 2  # centre + 8 taps per atrous rate
    pooled = ASPP(4, 4, rates=(1, 3, 6), image_pool=True, norm="none").eval()
    assert support_extent(receptive_field(pooled, 4, (31, 31))) == (31, 31)


def test_receptive_field_rejects_a_resizing_function():
    with pytest.raises(ValueError, match="keep the grid"):
        receptive_field(nn.Conv2d(1, 1, 3, stride=2), 1, (9, 9))


def test_support_extent_threshold_and_empty():
    field = np.zeros((5, 6))
    assert support_extent(field) == (0, 0)
    field[1, 2] = 1.0
    field[3, 4] = 0.01
    assert support_extent(field) == (3, 3)
    assert support_extent(field, threshold=0.1) == (1, 1)


def test_plot_receptive_fields():
    fields = {"a": receptive_field(nn.Conv2d(1, 1, 3, padding=1), 1, (9, 9)),
              "b": receptive_field(GlobalConvBlock(1, 1, 5), 1, (9, 9))}
    figure = plot_receptive_fields(fields)
    assert isinstance(figure, Figure)
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == ["a\nnon-zero: 3×3", "b\nnon-zero: 5×5"]
    linear = plot_receptive_fields(fields, log=False)
    assert len(linear.axes) == 3  # two maps and the colour bar
    figure.savefig(__import__("io").BytesIO(), format="png")


def test_plot_training_outputs_panels_and_titles():
    h, w = 12, 16
    image = torch.rand(3, h, w)
    gt = (torch.rand(1, h, w) > 0.5).float()
    outputs = {"m_t": torch.rand(1, h, w), "m_ref": torch.rand(1, h, w),
               "aux_t": torch.rand(1, h, w), "aux_ref": None}
    figure = plot_training_outputs(image, gt, image, gt, outputs, losses={"m_t": 0.6931})
    axes = figure.axes
    assert len(axes) == 7  # 2 x 3 panels + colour bar
    titles = [ax.get_title() for ax in axes[:6]]
    assert titles[1] == "$M_t$   BCE 0.693"
    assert titles[2] == "$M'_t$"
    assert titles[5] == "$M'_{t-n}$"
    assert any(t.get_text() == "not in this variant" for t in axes[5].texts)
    shown = axes[1].images[0].get_array()
    np.testing.assert_allclose(np.asarray(shown), outputs["m_t"][0].numpy())
    # numpy (H, W, 3) uint8 frames and (H, W) masks work too
    frame = (np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8)
    plot_training_outputs(frame, gt[0].numpy(), frame, gt[0].numpy(), {"m_t": gt[0].numpy()})


def test_terms_table():
    table = terms_table({"baseline": ["m_t"], "full": list(OUTPUT_NAMES)},
                        inputs={"baseline": "F_t", "full": "concat(G, R)"})
    lines = table.splitlines()
    assert len(lines) == 3
    assert lines[0].split() == ["variant", "decoder", "reads", "M_t", "M_{t-n}", "M'_t",
                                "M'_{t-n}", "terms"]
    assert lines[1].split() == ["baseline", "F_t", "x", "-", "-", "-", "1"]
    assert lines[2].split() == ["full", "concat(G,", "R)", "x", "x", "x", "x", "4"]
    assert terms_table({"ref": ["m_t", "m_ref"]}).splitlines()[1].split() == [
        "ref", "x", "x", "-", "-", "2"]
    with pytest.raises(ValueError, match="unknown"):
        terms_table({"x": ["nope"]})


def test_receptive_field_of_a_function_with_a_device():
    conv = nn.Conv2d(2, 2, 3, padding=1)
    field = receptive_field(lambda z: conv(z) * 2.0, 2, size=(9, 9), device="cpu")
    np.testing.assert_allclose(field, receptive_field(conv, 2, size=(9, 9)))
    assert receptive_field(conv, 2, size=(9, 9), seed=1).shape == (9, 9)

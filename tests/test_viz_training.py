"""gcseg.viz.training: pair / clip pictures and the interval histogram."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gcseg.data.pairs import sample_interval
from gcseg.data.simulate import SimulatedPair
from gcseg.viz.training import (
    PAIR_KEYS,
    interval_counts,
    pair_panels,
    plot_clip,
    plot_interval_draws,
    plot_masks,
    plot_pairs,
    sample_arrays,
)

H, W = 24, 32


def _sample(zero_prev: bool = False, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    mask = torch.zeros(1, H, W)
    mask[:, 5:15, 8:20] = 1.0
    prev = torch.zeros(1, H, W) if zero_prev else torch.roll(mask, 2, dims=2)
    return {"ref_image": torch.rand(3, H, W, generator=generator), "ref_mask": mask,
            "target_image": torch.rand(3, H, W, generator=generator),
            "target_prev_mask": prev, "target_mask": mask}


def _close(figure: Figure) -> None:
    figure.savefig(io.BytesIO(), format="png")  # renders without error
    figure.clear()


def test_sample_arrays_from_tensors():
    sample = _sample()
    arrays = sample_arrays(sample)
    assert set(arrays) == set(PAIR_KEYS)
    assert arrays["ref_image"].shape == (H, W, 3) and arrays["ref_image"].dtype == np.uint8
    expected = (sample["ref_image"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(arrays["ref_image"], expected)
    assert arrays["ref_mask"].shape == (H, W)
    assert arrays["ref_mask"].sum() == 10 * 12
    assert set(np.unique(arrays["ref_mask"])) == {0, 1}


def test_sample_arrays_from_a_simulated_pair():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    mask = np.zeros((H, W), bool)
    mask[4:10, 4:10] = True
    pair = SimulatedPair(image, mask, image, np.roll(mask, 3, axis=1), way=1)
    arrays = sample_arrays(pair)
    np.testing.assert_array_equal(arrays["target_prev_mask"], arrays["target_mask"])
    np.testing.assert_array_equal(arrays["ref_image"], image)
    with pytest.raises(KeyError, match="missing"):
        sample_arrays({"ref_image": image})


def test_pair_panels_tint_the_masks():
    sample = _sample()
    panels = pair_panels(sample)
    assert len(panels) == 3
    assert all(p.shape == (H, W, 3) and p.dtype == np.uint8 for p in panels)
    arrays = sample_arrays(sample)
    inside = arrays["ref_mask"].astype(bool)
    assert (panels[0][~inside] == arrays["ref_image"][~inside]).all()  # background untouched
    assert (panels[0][inside] != arrays["ref_image"][inside]).any()  # object tinted
    assert not np.array_equal(panels[1], panels[2])  # previous mask differs from GT


def test_plot_pairs_rows_titles_and_notes():
    figure = plot_pairs([_sample(), _sample(zero_prev=True, seed=1)], titles=["Way-1", "Way-2"])
    axes = np.array(figure.axes).reshape(2, 3)
    assert axes[0, 0].get_ylabel() == "Way-1" and axes[1, 0].get_ylabel() == "Way-2"
    assert axes[1, 1].get_xlabel() == "zeroed"
    assert axes[0, 1].get_xlabel().startswith("IoU with GT_t ")
    iou = float(axes[0, 1].get_xlabel().split()[-1])
    assert 0.5 < iou < 1.0  # the mask rolled by 2 of 12 columns: 10/14
    assert axes[0, 0].get_title().startswith("reference")
    _close(figure)
    two = plot_pairs([_sample()], show_prev=False)
    assert len(two.axes) == 2
    with pytest.raises(ValueError, match="titles"):
        plot_pairs([_sample()], titles=["a", "b"])


def test_plot_clip_and_masks():
    images = torch.rand(4, 3, H, W)
    masks = torch.zeros(4, 1, H, W)
    masks[:, :, 3:9, 3:9] = 1
    figure = plot_clip({"images": images, "masks": masks}, title="clip")
    assert [ax.get_title() for ax in figure.axes] == ["reference (GT)", "clip frame 1",
                                                     "clip frame 2", "clip frame 3"]
    _close(figure)
    image = np.zeros((H, W, 3), np.uint8)
    figure = plot_masks(image, [masks[0], masks[1].numpy()[0]], titles=["a", "b"])
    assert [ax.get_title() for ax in figure.axes] == ["a", "b"]
    _close(figure)


def test_interval_counts_and_histogram():
    rng = np.random.default_rng(0)
    draws = [sample_interval(30, rng, max_interval=10) for _ in range(300)]
    counts = interval_counts(draws)
    assert list(counts) == ["short", "middle", "long"]
    assert sum(counts.values()) == 300
    assert all(60 < c < 140 for c in counts.values())  # a third each, roughly
    figure = plot_interval_draws(draws, 30)
    left, right = figure.axes
    total = sum(patch.get_height() for patch in left.patches)
    assert total == 300
    assert "30-frame" in left.get_title()
    _close(figure)

"""gcseg.viz.training: pair / clip pictures, the interval histogram and a run's logged curves."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gcseg.data.pairs import sample_interval
from gcseg.data.simulate import SimulatedPair
from gcseg.train.logs import EVAL_COLUMNS, LOG_COLUMNS, append_row
from gcseg.viz.training import (
    PAIR_KEYS,
    interval_counts,
    pair_panels,
    plot_clip,
    plot_interval_draws,
    plot_masks,
    plot_pairs,
    plot_training_log,
    sample_arrays,
    smooth,
    training_curves,
    value_at,
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


# --------------------------------------------------------------------------- a run's log


def write_run(run_dir: Path, seconds: bool = True, snapshots: bool = False) -> Path:
    """A run folder as the Trainer writes it: log.csv every 10 steps (video, then recurrent),
    eval.csv every 20 steps; ``snapshots``: a learning_curve.json too; ``seconds=False``: the
    older log without its seconds column."""
    run_dir.mkdir(parents=True, exist_ok=True)
    header = LOG_COLUMNS if seconds else LOG_COLUMNS[:-1]
    for k, step in enumerate(range(10, 110, 10)):
        row = [step, "video" if step <= 60 else "recurrent", f"{1.0 / (k + 1):.6f}",
               f"{1e-3 * (1 - step / 100):.3e}", f"{2.0 * step:.1f}"]
        append_row(run_dir / "log.csv", header, row[:len(header)])
    for step in (20, 60, 100):
        append_row(run_dir / "eval.csv", EVAL_COLUMNS, [step, step / 200, step / 150, step / 300])
    if snapshots:
        rows = [{"seconds": 3.0 * step, "minutes": step / 20, "step": step, "J&F": step / 100,
                 "J": step / 90, "F": step / 110} for step in (50, 100)]
        (run_dir / "learning_curve.json").write_text(json.dumps(rows))
    return run_dir


def test_training_curves_read_what_the_run_wrote(tmp_path):
    curves = training_curves(write_run(tmp_path / "run"))
    assert list(curves) == ["loss", "lr", "J&F", "J", "F"]
    loss = curves["loss"]
    np.testing.assert_array_equal(loss.steps, np.arange(10, 110, 10))
    np.testing.assert_allclose(loss.values, [1.0 / k for k in range(1, 11)], atol=1e-6)
    np.testing.assert_allclose(loss.seconds, 2.0 * loss.steps)
    assert loss.stages[0] == "video" and loss.stages[-1] == "recurrent"
    np.testing.assert_allclose(curves["lr"].values[-1], 0.0)
    score = curves["J&F"]
    np.testing.assert_array_equal(score.steps, [20, 60, 100])
    np.testing.assert_allclose(score.values, [0.1, 0.3, 0.5])
    np.testing.assert_allclose(score.seconds, [40.0, 120.0, 200.0])  # from the log's seconds


def test_training_curves_prefer_snapshots_and_tolerate_old_logs(tmp_path):
    curves = training_curves(write_run(tmp_path / "run", snapshots=True))
    np.testing.assert_array_equal(curves["J&F"].steps, [50, 100])
    np.testing.assert_allclose(curves["J&F"].seconds, [150.0, 300.0])
    old = training_curves(write_run(tmp_path / "old", seconds=False))
    assert np.isnan(old["loss"].seconds).all() and np.isnan(old["J"].seconds).all()
    assert training_curves(tmp_path / "nothing") == {}


def test_smooth_is_a_debiased_moving_average():
    values = np.array([4.0, 2.0, 6.0, 0.0])
    np.testing.assert_array_equal(smooth(values, 0.0), values)
    np.testing.assert_allclose(smooth(np.full(5, 3.0), 0.9), 3.0)  # no pull towards 0
    expected, average = [], 0.0
    for k, value in enumerate(values):
        average = 0.5 * average + 0.5 * value
        expected.append(average / (1 - 0.5 ** (k + 1)))
    np.testing.assert_allclose(smooth(values, 0.5), expected)
    assert smooth(values, 0.5)[1] == pytest.approx((0.5 * 4 * 0.5 + 0.5 * 2) / 0.75)
    with pytest.raises(ValueError, match="weight"):
        smooth(values, 1.0)


def test_value_at_takes_the_last_logged_row(tmp_path):
    loss = training_curves(write_run(tmp_path / "run"))["loss"]
    assert value_at(loss, 5) is None
    assert value_at(loss, 10) == (10, pytest.approx(1.0))
    assert value_at(loss, 39) == (30, pytest.approx(1 / 3, abs=1e-6))
    assert value_at(loss, 10_000)[0] == 100
    assert value_at(loss, 20, 0.5)[1] == pytest.approx(smooth(loss.values, 0.5)[1])


def test_plot_training_log_panels_range_and_marked_step(tmp_path):
    curves = training_curves(write_run(tmp_path / "run"))
    figure = plot_training_log(curves)
    assert [ax.get_title() for ax in figure.axes] == ["training loss", "learning rate",
                                                     "validation"]
    assert [text.get_text() for text in figure.axes[0].texts] == ["recurrent"]  # from step 70
    assert figure.axes[0].get_lines()[-1].get_xdata()[0] == 70
    _close(figure)
    figure = plot_training_log(curves, ["loss", "J&F"], steps=(30, 80), smoothing=0.5, at=45)
    loss_ax, score_ax = figure.axes
    raw, smoothed = loss_ax.get_lines()[:2]
    np.testing.assert_array_equal(smoothed.get_xdata(), [30, 40, 50, 60, 70, 80])
    np.testing.assert_allclose(smoothed.get_ydata(), smooth(curves["loss"].values, 0.5)[2:8])
    np.testing.assert_allclose(raw.get_ydata(), curves["loss"].values[2:8])
    assert loss_ax.get_legend().get_texts()[0].get_text().endswith("(step 40)")
    assert score_ax.get_legend().get_texts()[0].get_text() == "J&F = 0.1 (step 20)"
    _close(figure)
    figure = plot_training_log(curves, ["lr"], x="minutes")
    np.testing.assert_allclose(figure.axes[0].get_lines()[0].get_xdata(),
                               curves["lr"].seconds / 60)
    assert figure.axes[0].get_xlabel() == "training minutes"
    _close(figure)
    with pytest.raises(ValueError, match="no curve"):
        plot_training_log(curves, ["accuracy"])
    with pytest.raises(ValueError, match="x must be"):
        plot_training_log(curves, ["loss"], x="epoch")

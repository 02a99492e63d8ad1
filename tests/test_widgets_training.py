"""gcseg.widgets.training: every control of the training-log explorer redraws, without errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from gcseg.widgets.training import training_log_explorer  # noqa: E402
from tests.test_viz_training import write_run  # noqa: E402
from tests.test_widgets_coseg import PNG, drive, picture  # noqa: E402


@pytest.fixture()
def runs(tmp_path):
    return {"timed": write_run(tmp_path / "timed", snapshots=True),
            "old": write_run(tmp_path / "old", seconds=False)}


def test_explorer_controls_and_first_picture(runs):
    explorer = training_log_explorer(runs)
    controls = explorer.controls
    assert set(controls) == {"run", "curves", "x", "steps", "smoothing", "step"}
    assert explorer.renders == 1 and explorer.errors == []
    assert picture(explorer).startswith(PNG)
    assert controls["curves"].options == ("loss", "lr", "J&F", "J", "F")
    assert controls["curves"].value == ("loss",)
    assert controls["x"].options == ("step", "minutes")
    assert controls["steps"].value == (10, 100) and controls["step"].value == 100
    assert "loss 0.1 (logged at step 100)" in explorer.status.value


def test_every_control_redraws(runs):
    explorer = training_log_explorer(runs)
    for before, after in drive(explorer, "curves", [("loss", "J&F"), ("lr",), ("J", "F")]):
        assert before != after
    for before, after in drive(explorer, "steps", [(20, 60), (10, 100)]):
        assert before != after
    list(drive(explorer, "curves", [("loss",)]))
    for before, after in drive(explorer, "smoothing", [0.5, 0.9]):
        assert before != after
    for before, after in drive(explorer, "step", [35, 70]):
        assert before != after
    assert "logged at step 70" in explorer.status.value
    for before, after in drive(explorer, "x", ["minutes", "step"]):
        assert before != after
    list(drive(explorer, "curves", [("F",)]))
    list(drive(explorer, "step", [12]))  # before the first score: no value, no error
    assert "F —" in explorer.status.value


def test_a_run_without_seconds_offers_steps_only(runs):
    explorer = training_log_explorer(runs)
    explorer.controls["run"].value = "old"
    assert explorer.errors == [] and explorer.controls["x"].options == ("step",)
    assert explorer.controls["curves"].options == ("loss", "lr", "J&F", "J", "F")
    single = training_log_explorer(runs["old"])
    assert single.controls["run"].options == ("old",) and single.renders == 1


def test_no_curve_chosen_is_an_error_not_a_crash(runs, tmp_path):
    explorer = training_log_explorer(runs)
    explorer.controls["curves"].value = ()
    assert explorer.errors and explorer.errors[0].startswith("ValueError")
    with pytest.raises(ValueError, match="no log.csv"):
        training_log_explorer(tmp_path / "empty")

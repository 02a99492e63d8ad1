"""The main job end to end (quick mode), the shipped-model export, the CLI's errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from gcseg.checkpoint import export_model, load_checkpoint, load_model
from gcseg.cli import main
from gcseg.data import DavisDataset
from gcseg.train import weights_digest

pytestmark = pytest.mark.slow  # runs the demo

MINUTES = "0.1"
"""The fresh run's budget in the tests: 6 seconds."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--workdir", str(workdir), "--device", "cpu",
                 "--train-minutes", MINUTES]) == 0
    return workdir


@pytest.fixture(scope="module")
def fresh(demo):
    """The checkpoint of the demo's fresh run."""
    return demo / f"train-{MINUTES}min-seed0" / "checkpoint.pt"


def test_demo_writes_a_report_with_a_row_per_method(demo):
    report = demo / "report"
    summary = json.loads((report / "summary.json").read_text())
    methods = [row["method"] for row in summary["rows"]]
    assert methods == ["copy-first baseline", "GCSeg shipped (tiny_synthetic)",
                       f"GCSeg fresh, {MINUTES} min here"]
    assert all(0.0 <= row["J&F"] <= 1.0 for row in summary["rows"])
    assert summary["device"] == "cpu" and summary["quick"] is True
    assert summary["train_minutes"] == float(MINUTES)
    fresh_row = summary["rows"][2]
    assert fresh_row["steps"] >= 1 and fresh_row["trained_minutes"] == float(MINUTES)
    curve = fresh_row["learning_curve"]
    # one row per snapshot the run kept (how many fit in 6 s depends on the machine's load:
    # a busy CPU may keep only the last), the last one the end of the run
    kept = sorted((demo / f"train-{MINUTES}min-seed0" / "snapshots").glob("s*.pt"))
    assert len(curve) == len(kept) >= 1 and curve[-1]["step"] == fresh_row["steps"]
    assert curve[-1]["J&F"] == pytest.approx(fresh_row["J&F"], abs=1e-4)  # the same model
    assert summary["rows"][1]["model"].endswith("checkpoints/tiny_synthetic.pt")
    text = (report / "summary.txt").read_text()
    assert "copy-first baseline" in text and "J&F by attribute" in text
    assert "trained here from the foundation" in text
    for method in ("copy-first", "shipped", "fresh"):
        assert (report / method / "global_results-val.csv").is_file()
        assert (report / method / "per-attribute_results-val.csv").is_file()
    overlays = sorted((report / "overlays").iterdir())
    assert [p.name for p in overlays] == ["syn-val-000.png", "syn-val-001.png"]
    strip = Image.open(overlays[0])
    assert strip.height > 3 * 96  # ground truth + two models
    gif = Image.open(report / "syn-val-000.gif")
    assert gif.n_frames >= 6
    assert Image.open(report / "learning_curve.png").width > 0
    assert not (demo / ".report.partial").exists()


def test_demo_without_options_scores_the_shipped_model(tmp_path, capsys, monkeypatch):
    opened = []  # the splits of every DavisDataset opened: the demo opens its val split once
    open_dataset = DavisDataset.__init__

    def counting(self, root, year="2017", split="val", *args, **kwargs):
        opened.append(split)
        open_dataset(self, root, year, split, *args, **kwargs)

    monkeypatch.setattr(DavisDataset, "__init__", counting)
    assert main(["demo", "--quick", "--workdir", str(tmp_path), "--device", "cpu"]) == 0
    assert opened.count("val") == 1
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert [row["method"] for row in summary["rows"]] == ["copy-first baseline",
                                                          "GCSeg shipped (tiny_synthetic)"]
    assert "shipped model: " in capsys.readouterr().out
    assert not list(tmp_path.glob("train-*"))


def test_demo_reuses_the_benchmark_and_the_finished_training(demo, fresh, capsys):
    before = load_checkpoint(fresh)["step"]
    stamp = fresh.stat().st_mtime_ns
    assert main(["demo", "--quick", "--workdir", str(demo), "--device", "cpu",
                 "--train-minutes", MINUTES]) == 0
    out = capsys.readouterr().out
    assert "reusing the synthetic benchmark" in out and "reusing the finished" in out
    assert load_checkpoint(fresh)["step"] == before  # not trained again
    assert fresh.stat().st_mtime_ns == stamp


def test_export_halves_the_size_and_loads_back(fresh, tmp_path):
    source = fresh
    steps = load_checkpoint(source)["step"]
    out = export_model(source, tmp_path / "model.pt")
    assert out.stat().st_size < 0.5 * source.stat().st_size  # no optimiser, float16
    payload = load_checkpoint(out)
    assert "optimizer" not in payload and payload["step"] == steps
    exported, _ = load_model(out)
    trained, _ = load_model(source)
    for (name, a), b in zip(exported.state_dict().items(), trained.state_dict().values(),
                            strict=True):
        if a.is_floating_point():
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4, err_msg=name)
    assert weights_digest(exported) != weights_digest(trained)  # rounded to float16


def test_export_command_writes_a_model_card(demo, fresh, tmp_path):
    out = tmp_path / "shared.pt"
    assert main(["export", "--checkpoint", str(fresh), "--out",
                 str(out), "--davis", str(demo / "synthetic"), "--device", "cpu"]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["command"].startswith("python -m gcseg export --checkpoint")
    assert card["size_bytes"] == out.stat().st_size
    assert card["trained_steps"] == load_checkpoint(fresh)["step"]
    assert card["validation"]["videos"] == 2
    for method in ("gcseg", "copy_first_baseline"):
        assert 0.0 <= card["validation"][method]["J&F-Mean"] <= 1.0
    summary = json.loads((demo / "report" / "summary.json").read_text())
    baseline = summary["rows"][0]["J&F"]
    assert card["validation"]["copy_first_baseline"]["J&F-Mean"] == pytest.approx(baseline,
                                                                                   abs=1e-4)
    assert card["training"]["wall_seconds"] > 0


def test_segment_and_evaluate_commands(demo, fresh, tmp_path, capsys):
    results = tmp_path / "results"
    root = demo / "synthetic"
    assert main(["segment", "--davis", str(root), "--checkpoint",
                 str(fresh), "--out", str(results),
                 "--no-adaptive-search", "--refs", "1", "--device", "cpu"]) == 0
    timing = json.loads((results / "timing.json").read_text())
    assert timing["adaptive_search"] is False and timing["num_refs"] == 1
    assert main(["evaluate", "--davis", str(root), "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "J&F-Mean" in out and (results / "per-sequence_results-val.csv").is_file()


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", "--davis", str(tmp_path / "nope"), "--results", str(tmp_path)]) == 2
    assert "nope: dataset folder not found" in capsys.readouterr().err
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    code = main(["segment", "--davis", str(tmp_path), "--checkpoint", str(tmp_path / "bad.pt"),
                 "--out", str(tmp_path / "r")])
    assert code == 2 and "bad.pt: not a readable checkpoint" in capsys.readouterr().err

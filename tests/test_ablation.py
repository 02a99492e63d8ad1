"""The ablation protocol (gcseg.ablation, python -m gcseg ablate) end to end, small benchmark."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from gcseg.ablation import (
    TABLE_VI_ROWS,
    VARIANT_NAMES,
    Run,
    Scoring,
    claim_verdicts,
    claims_table,
    paired_difference,
    read_records,
    run_ablation,
    run_config,
    summary_markdown,
    table_plan,
)
from gcseg.cli import main
from gcseg.config import VARIANTS
from gcseg.data.synthetic import SyntheticSpec, make_synthetic
from tests.conftest import small_config

pytestmark = pytest.mark.slow  # trains the ablation runs


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ablation") / "synthetic"
    spec = SyntheticSpec(seed=3, n_train=2, n_val=3, frames=5, size=(64, 96))
    return make_synthetic(root, spec, progress=False)


def _config(root: Path):
    config = small_config("full", (64, 96))
    config.data.root = str(root)
    config.train.batch_size = 1
    config.train.steps = 2
    config.train.recurrent_steps = 1
    config.train.recurrent_clip_len = 3
    config.train.simulated_pretraining = True
    config.train.pretrain_steps = 1
    config.train.log_every = 1
    return config


@pytest.fixture(scope="module")
def ablation(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("ablation") / "results"
    records = run_ablation(_config(bench), ["V", "VI", "VII"], [0, 1], out)
    return out, records


def test_plans_switch_one_thing_per_table():
    config = _config(Path("unused"))
    v = table_plan("V", [0], config)
    assert [c.row for c in v] == list(VARIANTS)
    assert {c.run.pretrain for c in v} == {False}  # Table V: no pre-training, as the paper
    assert {c.scoring for c in v} == {Scoring("2016", True)}
    vi = table_plan("VI", [0], config)
    assert {c.run for c in vi} == {Run("full", True, 0)}  # one model, scored five ways
    assert [c.row for c in vi] == ["off", "on", "on, E(I,0)", "on, tau calibrated",
                                   "on, E(I,0), tau calibrated"]
    assert [c.scoring.adaptive_search for c in vi] == [False, True, True, True, True]
    assert [c.scoring.key for c in vi] == [  # the paper's two rows keep their cached scorings
        "val-2017-search-off", "val-2017-search-on", "val-2017-search-on-no-mask",
        "val-2017-search-on-tau-calibrated", "val-2017-search-on-no-mask-tau-calibrated"]
    vii = table_plan("VII", [0, 1], config)
    assert [(c.row, c.run.pretrain, c.run.seed) for c in vii] == [
        ("without", False, 0), ("with", True, 0), ("without", False, 1), ("with", True, 1)]
    with pytest.raises(ValueError, match="unknown table"):
        table_plan("IX", [0], config)


def test_run_config_sets_only_the_switches():
    config = _config(Path("unused"))
    changed = run_config(config, Run("ref", False, 7))
    assert (changed.model.variant, changed.train.simulated_pretraining) == ("ref", False)
    assert changed.train.seed == changed.inference.seed == 7
    assert config.model.variant == "full" and config.train.seed == 0  # the base is untouched
    assert changed.train.steps == config.train.steps
    assert changed.data == config.data


def test_tables_hold_every_row_with_mean_std_and_provenance(ablation):
    out, records = ablation
    for table, rows in (("V", list(VARIANTS)), ("VI", list(TABLE_VI_ROWS)),
                        ("VII", ["without", "with"])):
        record = json.loads((out / f"{table}.json").read_text())
        assert record == json.loads(json.dumps(records[table]))  # what was returned is on disk
        assert [row["name"] for row in record["rows"]] == rows
        for row in record["rows"]:
            assert row["seeds"] == 2 and [s["seed"] for s in row["per_seed"]] == [0, 1]
            values = [s["J&F"] for s in row["per_seed"]]
            assert row["J&F"] == pytest.approx(sum(values) / 2)
            assert row["J&F_std"] == pytest.approx(abs(values[0] - values[1]) / math.sqrt(2))
            assert 0 <= row["J"] <= 100 and 0 <= row["F"] <= 100
        provenance = record["provenance"]
        assert provenance["seeds"] == [0, 1] and provenance["config"]["train"]["steps"] == 2
        assert {"commit", "device", "torch", "wall_seconds", "command"} <= set(provenance)
        assert all(run["train_seconds"] > 0 for run in provenance["runs"].values())
        assert set(record["floors"]) == {"empty", "copy-first"}
        # an empty prediction scores only on the frames where the object is absent
        assert 0 <= record["floors"]["empty"]["J"] < record["floors"]["copy-first"]["J"]
        assert "all" in next(iter(record["attributes"].values()))
        assert (out / f"{table}.csv").read_text().count("\n") >= len(rows) + 1


def test_summary_sets_out_every_table_from_its_record(ablation):
    out, records = ablation
    summary = (out / "summary.md").read_text()
    assert summary == summary_markdown(read_records(out))
    for record in records.values():
        floor = record["floors"]["copy-first"]["J&F"]
        for row in record["rows"]:  # each row's mean and its margin over copy-first
            name = VARIANT_NAMES.get(row["name"], row["name"])
            assert f"| {name} | {row['J&F']:.1f} ± " in summary
            assert f" | {row['J&F'] - floor:+.1f} | " in summary
        for claim in claim_verdicts(record):
            assert (f"| {claim['better']} > {claim['worse']} | {claim['paper']:+.1f} | "
                    f"{claim['mean']:+.1f}") in summary
    assert records["V"]["provenance"]["commit"] in summary
    rows = records["VI"]["rows"]  # Table VI's further rows, each paired with "off"
    further = [row["name"] for row in rows if row["name"] not in ("off", "on")]
    assert further and "further row against off" in summary
    for name in further:
        mean, _, _ = paired_difference(rows, name, "off")
        assert f"| {name} | {mean:+.1f} ± " in summary


def test_shared_runs_are_trained_once(ablation):
    out, records = ablation
    # Table V's full model is Table VII's "without": the same run, the same numbers
    v_full = next(r for r in records["V"]["rows"] if r["name"] == "full")
    vii_without = next(r for r in records["VII"]["rows"] if r["name"] == "without")
    assert v_full["per_seed"] == vii_without["per_seed"]
    runs = sorted(p.name for p in (out / "runs").iterdir() if "seed" in p.name)
    assert runs == sorted([f"{v}-scratch-seed{s}" for v in VARIANTS for s in (0, 1)] + [
        "full-pretrained-seed0", "full-pretrained-seed1"])


def test_table_vi_scores_the_dr_and_occ_subset(ablation, bench):
    _, records = ablation
    attributes = json.loads((bench / "attributes.json").read_text())["sequences"]
    subset = records["VI"]["subsets"]["DR and OCC"]
    expected = [name for name in sorted(attributes)
                if name.startswith("syn-val") and {"DR", "OCC"} <= set(attributes[name])]
    assert subset["sequences"] == expected
    assert len(subset["rows"]) == (len(TABLE_VI_ROWS) if expected else 0)


def test_records_name_the_initial_weights(tmp_path):
    from gcseg.ablation.runs import initial_weights
    from gcseg.model.feature_extractor import FOUNDATION_PATH

    assert initial_weights(None) == {"weights": None}
    foundation = initial_weights("foundation")
    assert foundation["file"] == str(FOUNDATION_PATH)
    assert foundation["sha256"] == hashlib.sha256(FOUNDATION_PATH.read_bytes()).hexdigest()
    (tmp_path / "w.pt").write_bytes(b"abc")
    assert initial_weights(str(tmp_path / "w.pt"))["sha256"] == hashlib.sha256(b"abc").hexdigest()


def test_table_vii_names_the_stills_of_stage_1(ablation):
    _, records = ablation
    assert records["VII"]["stage_1_stills"] == ["davis-stills"]


def test_table_vi_records_what_the_judgment_module_said(ablation):
    """With the search on, the rejection rate over the scored previous masks (mean and std over
    the seeds) and the median score; with it off, nothing was judged."""
    out, records = ablation
    judgment = records["VI"]["judgment"]
    assert judgment["off"] == {"rejection_rate": None, "rejection_rate_std": None,
                               "median_judgment_score": None, "threshold": None, "seeds": 0}
    on = judgment["on"]
    assert on["seeds"] == 2 and 0.0 <= on["rejection_rate"] <= 1.0
    assert -1.0 <= on["median_judgment_score"] <= 1.0
    assert on["threshold"] == pytest.approx(0.7)  # the config's tau
    for features in ("prev-mask", "no-mask"):  # tau calibrated on the training split, per run
        name = "on, tau calibrated" if features == "prev-mask" else "on, E(I,0), tau calibrated"
        calibrated = [json.loads((out / "runs" / key / f"calibration-{features}.json")
                                 .read_text()) for key in records["VI"]["provenance"]["runs"]]
        assert {c["judgment_features"] for c in calibrated} == {features}
        assert judgment[name]["threshold"] == pytest.approx(
            sum(c["threshold"] for c in calibrated) / 2)
    runs = records["VI"]["provenance"]["runs"]
    scored = [json.loads(path.read_text())["judgment"]
              for key in runs for path in out.rglob(f"{key}/val-2017-search-on.json")]
    rates = [s["rejected"] / s["judgments"] for s in scored]
    assert len(rates) == 2 and on["rejection_rate"] == pytest.approx(sum(rates) / 2)


def test_a_second_run_reuses_the_trained_models(ablation, bench):
    out, records = ablation
    checkpoint = out / "runs" / "ref-scratch-seed0" / "checkpoint.pt"
    before = checkpoint.stat().st_mtime_ns
    again = run_ablation(_config(bench), ["V"], [0, 1], out)
    assert checkpoint.stat().st_mtime_ns == before
    assert again["V"]["rows"] == records["V"]["rows"]
    # summary.md names what produced each table: the re-run of V apart from VI and VII
    provenance = (out / "summary.md").read_text().split("## Provenance")[1]
    assert "\nTable V:\n" in provenance and "\nTables VI, VII:\n" in provenance
    assert provenance.count("- command: ") == 2


def _seed_scores(record: dict, seed: int) -> dict[str, float]:
    return {row["name"]: next(s["J&F"] for s in row["per_seed"] if s["seed"] == seed)
            for row in record["rows"]}


def test_ablate_command(ablation, bench, tmp_path, capsys):
    config = tmp_path / "ablation.yaml"
    _config(bench).to_yaml(config)
    out = tmp_path / "results"
    assert main(["ablate", "--table", "VII", "--config", str(config), "--seeds", "0",
                 "--out", str(out), "--jobs", "2", "--override", "train.log_every=2"]) == 0
    # two runs in two processes, with the config's setting overridden
    printed = capsys.readouterr().out
    assert "Table VII" in printed and "floors on the same videos" in printed
    record = json.loads((out / "VII.json").read_text())
    # trained and scored in two processes (scorings queued as runs finish), the same numbers
    # as in one
    assert _seed_scores(record, 0) == _seed_scores(ablation[1]["VII"], 0)
    assert all(run["wall_seconds"] >= run["train_seconds"] > 0
               for run in record["provenance"]["runs"].values())
    assert record["provenance"]["command"].startswith("python -m gcseg ablate --table VII")
    assert record["provenance"]["initial_weights"] == {"weights": None}  # tiny: random
    assert record["provenance"]["config"]["train"]["log_every"] == 2
    assert main(["ablate", "--table", "V", "--config", str(config), "--out", str(out),
                 "--override", "train.stpes=3"]) == 2
    assert "train.stpes" in capsys.readouterr().err
    assert main(["ablate", "--table", "V", "--config", str(config), "--data",
                 str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "make-synthetic" in capsys.readouterr().err


def _rows(values: dict[str, list[float]]) -> list[dict]:
    return [{"name": name, "per_seed": [{"seed": s, "J&F": v} for s, v in enumerate(vs)]}
            for name, vs in values.items()]


def test_paired_difference_pairs_the_seeds():
    rows = _rows({"on": [50.0, 52.0, 57.0], "off": [49.0, 50.0, 54.0]})
    mean, std, diffs = paired_difference(rows, "on", "off")
    assert diffs == [1.0, 2.0, 3.0] and mean == 2.0 and std == pytest.approx(1.0)


def test_claims_table_verdicts():
    def record(on, off):
        return {"table": "VI", "rows": _rows({"off": off, "on": on})}

    assert "holds" in claims_table(record([52.0, 53.0, 54.0], [50.0, 51.0, 52.0]))
    assert "goes the other way" in claims_table(record([50.0, 51.0, 52.0], [52.0, 53.0, 54.0]))
    table = claims_table(record([50.0, 55.0, 50.0], [51.0, 50.0, 52.0]))  # +1 ± 3.6
    assert "not resolved" in table and "+0.4" in table  # the paper's 67.0 - 66.6


def test_read_records(ablation, tmp_path):
    out, records = ablation
    assert set(read_records(out)) == {"V", "VI", "VII"}
    assert read_records(tmp_path) == {}
    (tmp_path / "V.json").write_text('{"rows": []}')
    with pytest.raises(ValueError, match="V.json: not an ablation record"):
        read_records(tmp_path)

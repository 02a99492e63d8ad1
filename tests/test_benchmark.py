"""The speed benchmark (gcseg.speed, python -m gcseg bench, benchmarks/bench_inference.py)
and the timing helpers of notebook 10, at tiny sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gcseg.cli import main
from gcseg.model import GCSeg
from gcseg.speed.cases import BenchCase, BenchSettings, default_cases, grid, parse_size
from gcseg.speed.measure import TimingVideo, measure_case
from gcseg.speed.memory import MemoryProbe
from gcseg.speed.report import format_results, ratio_summary
from gcseg.speed.rgmp import RGMPPeer, rgmp_seconds_per_frame
from gcseg.speed.timing import median_seconds, time_frame_steps, time_reference_strategies
from tests.conftest import small_config

ROOT = Path(__file__).resolve().parent.parent
QUICK = ["--quick", "--sizes", "64x96", "--variants", "full", "baseline", "--objects", "1",
         "2", "--refs", "1", "--memory-frames", "2", "--threads", "1"]


def _inputs(size=(64, 96)):
    image = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 1, *size)
    mask[..., 10:30, 20:50] = 1
    return image, mask


def test_median_seconds_warms_up_then_takes_the_median():
    calls = []
    durations = iter([0.0, 0.03, 0.0, 0.01])

    def work():
        calls.append(1)
        pause = next(durations)
        if pause:
            import time

            time.sleep(pause)

    seconds = median_seconds(work, repeats=3, warmup=1)
    assert len(calls) == 4
    assert 0.0 <= seconds < 0.03  # the median of ~0.03, ~0.0, ~0.01 is ~0.01
    with pytest.raises(ValueError):
        median_seconds(work, repeats=0)


@pytest.mark.parametrize("variant", ["full", "baseline"])
def test_time_frame_steps_returns_each_step(variant):
    torch.manual_seed(0)
    model = GCSeg(small_config(variant).model).eval()
    image, mask = _inputs()
    times = time_frame_steps(model, image, mask, num_refs=2, repeats=2, warmup=1)
    assert list(times) == ["encode_frame", "judge", "predict (1 reference)",
                           "predict (1+2 references)", "summarize_reference"]
    assert all(value >= 0 for value in times.values())
    assert times["encode_frame"] > 0
    if variant == "baseline":
        assert times["summarize_reference"] == 0.0
    assert torch.is_grad_enabled()  # inference mode ended with the timing


def test_objects_are_timed_as_one_batch():
    torch.manual_seed(0)
    model = GCSeg(small_config("full").model).eval()
    image, mask = _inputs()
    for frame in (image, image.expand(3, -1, -1, -1)):  # shared by the objects, or repeated
        times = time_frame_steps(model, frame, mask.repeat(3, 1, 1, 1), num_refs=1, repeats=1,
                                 warmup=0)
        assert len(times) == 5 and min(times.values()) > 0
    for frame in (image, image.expand(2, -1, -1, -1)):
        strategies = time_reference_strategies(model, frame, mask.repeat(2, 1, 1, 1),
                                               num_refs=1, repeats=1, warmup=0)
        assert min(strategies.values()) > 0


def test_re_encoding_the_references_costs_more_than_the_cache():
    torch.manual_seed(0)
    model = GCSeg(small_config("full").model).eval()
    image, mask = _inputs()
    times = time_reference_strategies(model, image, mask, num_refs=3, repeats=3, warmup=1)
    assert set(times) == {"cached summaries", "backbone on every reference"}
    assert times["backbone on every reference"] > times["cached summaries"] > 0


# --------------------------------------------------------------------------- the benchmark


def test_timing_video_is_lazy_and_has_k_objects():
    video = TimingVideo((40, 90), length=1000, objects=3, seed=1)
    assert len(video) == 1000 and video[999].shape == (40, 90, 3) and video[5].dtype == np.uint8
    assert video.pool.nbytes == 4 * 40 * 90 * 3  # a pool of frames, not 1000 of them
    assert sorted(np.unique(video.first_mask)) == [0, 1, 2, 3]
    with pytest.raises(IndexError):
        video[1000]
    np.testing.assert_array_equal(TimingVideo((40, 90), 5, 3, seed=1)[2], video[2])
    masks = video.first_masks()
    assert masks.shape == (3, 1, 40, 90) and masks.dtype == torch.float32
    np.testing.assert_array_equal(masks[1, 0].numpy(), video.first_mask == 2)


def test_grids():
    cases = grid(["baseline", "full"], ["resnet18"], [(64, 96)], [1, 3], [0, 3])
    assert [c.refs for c in cases if c.variant == "baseline"] == [None, None]
    assert len(cases) == 2 + 4
    default = default_cases()
    small, large = parse_size("tiny"), parse_size("paper")
    assert small == (240, 432) and large == (480, 854) and parse_size("32x48") == (32, 48)
    at_small = [c for c in default if c.size == small]
    at_large = [c for c in default if c.size == large]
    assert len(at_small) == 3 * 2 * (1 + 3 * 3)  # backbones x K x (baseline + 3 variants x n)
    assert {(c.objects, c.refs) for c in at_large if c.variant != "full"} == {(1, 3), (1, None)}
    assert len([c for c in at_large if c.variant == "full"]) == 3 * 2 * 3
    assert len(set(default)) == len(default)
    with pytest.raises(ValueError):
        parse_size("big")


def test_memory_probe_sees_a_peak():
    probe = MemoryProbe("cpu")
    probe.start()
    block = np.ones(40 * 2**20 // 8)  # 40 MB, touched
    assert probe.current_mb() > 0
    assert probe.peak_mb() >= probe.start_mb
    if "VmHWM" in probe.measure:  # Linux: the peak is reset per case, so it sees the block
        assert probe.peak_growth_mb() > 30
    del block


def test_measure_case_row():
    settings = BenchSettings(frames=2, repeats=2, warmup=0, memory_frames=0)
    row = measure_case(BenchCase("full", "resnet18", (64, 96), 2, 1), settings)
    assert row["frames_timed"] == 4 and len(row["seconds_per_frame_blocks"]) == 2
    assert row["seconds_per_frame"] > 0
    assert row["frames_per_second"] == pytest.approx(1 / row["seconds_per_frame"])
    assert row["ratio"] == pytest.approx(row["seconds_per_frame"] / row["backbone_seconds_objects"])
    assert row["second_backbone_passes"] == 0  # tau = -1: never rejected
    assert 1 <= row["references_per_frame"] <= 2
    with pytest.raises(ValueError, match="needs CUDA"):
        measure_case(BenchCase("full", "resnet18", (64, 96), 1, 1),
                     BenchSettings(dtype="float16", frames=1, repeats=1))


@pytest.mark.slow
def test_measure_case_compiled():
    settings = BenchSettings(frames=1, repeats=1, warmup=0, compile={"backend": "eager"},
                             memory_frames=0)
    row = measure_case(BenchCase("full", "resnet18", (64, 96), 1, 1), settings)
    assert row["seconds_per_frame"] > 0 and row["backbone_seconds"] > 0


def _check_report(report: dict, cases: int) -> None:
    environment = report["environment"]
    for key in ("device", "threads", "torch", "dtype", "channels_last", "memory_measure"):
        assert key in environment, key
    assert environment["device"] == "cpu" and environment["dtype"] == "float32"
    assert environment["threads"] == 1 and environment["torch"] == torch.__version__
    assert len(report["results"]) == cases
    for row in report["results"]:
        for key in ("variant", "backbone", "size", "objects", "refs", "seconds_per_frame",
                    "frames_per_second", "backbone_seconds", "backbone_seconds_objects",
                    "ratio", "peak_memory_mb", "peak_growth_mb"):
            assert key in row, key
        assert row["seconds_per_frame"] > 0 and row["backbone_seconds"] > 0
        assert row["x_rgmp"] == row["seconds_per_frame"] / row["rgmp_seconds_per_frame"]
    peers = {(row["objects"], row["rgmp_seconds_per_frame"]) for row in report["results"]}
    assert len(peers) == len({row["objects"] for row in report["results"]})  # once per K
    assert [r["backbone"] for r in report["ratios"]] == []  # no full K=1 n=3 case here
    memory = report["memory_check"]
    assert memory["frames"] == [2, 4] and memory["cache_numel"][1] > memory["cache_numel"][0]
    assert memory["cache_bytes_per_frame"] > 0


def test_cli_writes_json_and_prints_the_table(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", *QUICK, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    _check_report(report, cases=2 + 2)  # baseline and full, K = 1 and 2
    assert report["command"].startswith("python -m gcseg bench --quick")
    assert "[1/4] full resnet18 64x96 K=1 n=1: " in printed and "[4/4] baseline" in printed
    assert "x backbone" in printed and "flat memory" in printed and "x RGMP" in printed


def test_cli_without_rgmp(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", *QUICK, "--variants", "baseline", "--objects", "1",
                 "--memory-frames", "0", "--no-rgmp", "--out", str(out)]) == 0
    assert "RGMP" not in capsys.readouterr().out
    row, = json.loads(out.read_text())["results"]
    assert "rgmp_seconds_per_frame" not in row
    out = tmp_path / "fused.json"
    assert main(["bench", *QUICK, "--variants", "full", "--objects", "2", "--memory-frames",
                 "0", "--no-rgmp", "--reference-fusion", "features", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["settings"]["reference_fusion"] == "features"
    assert report["results"][0]["seconds_per_frame"] > 0


@pytest.mark.slow
def test_script_runs_the_same_benchmark(tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_inference.py"), *QUICK, "--variants",
         "baseline", "--objects", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    _check_report(json.loads(out.read_text()), cases=1)
    assert "baseline  resnet18  64x96" in done.stdout


def test_cli_rejects_bad_values(capsys):
    for argv in (["--objects", "0"], ["--sizes", "3x3"], ["--refs", "-1"]):
        with pytest.raises(SystemExit):
            main(["bench", *argv])
    capsys.readouterr()


def test_format_results_and_ratios():
    row = {"variant": "full", "backbone": "resnet101", "size": [480, 854], "objects": 1,
           "refs": 3, "seconds_per_frame": 0.5, "frames_per_second": 2.0,
           "backbone_seconds": 0.25, "backbone_seconds_objects": 0.25, "ratio": 2.0,
           "references_per_frame": 4.0, "peak_growth_mb": 120.0}
    baseline = {**row, "variant": "baseline", "refs": None, "ratio": 1.1,
                "seconds_per_frame": 0.275, "frames_per_second": 1 / 0.275}
    text = format_results([row, baseline])
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["variant", "backbone", "size", "K", "n"]
    assert "full      resnet101  480x854  1  3     500.0  2.00        250.0        2.00" in text
    assert "baseline  resnet101  480x854  1  -" in text
    assert ratio_summary([row, baseline]) == [{"backbone": "resnet101", "size": [480, 854],
                                               "seconds_per_frame": 0.5,
                                               "backbone_seconds": 0.25, "ratio": 2.0,
                                               "rgmp_seconds_per_frame": None, "x_rgmp": None}]
    assert "full (K = 1, n = 3) / backbone alone:" in text and text.rstrip().endswith("2.00")
    assert "RGMP" not in text
    peer = {"rgmp_seconds_per_frame": 0.8, "x_rgmp": 0.625}
    text = format_results([{**row, **peer}, {**baseline, **peer, "x_rgmp": 0.34375}])
    assert text.splitlines()[0].split()[-4:] == ["RGMP", "ms", "x", "RGMP"]
    assert "full      resnet101  480x854  1  3     500.0" in text and "800.0    0.62" in text
    assert "full (K = 1, n = 3) / backbone alone and / RGMP:" in text
    assert text.rstrip().endswith("2.00    800.0    0.62")


def test_rgmp_peer_pads_to_32_and_predicts_each_object():
    torch.manual_seed(0)
    peer = RGMPPeer("resnet18", dim=16)
    torch.nn.init.normal_(peer.encoder.conv1_mask.weight)  # zero at the start: masks count
    image, masks = torch.rand(1, 3, 70, 100), torch.zeros(2, 1, 70, 100)
    masks[0, :, 10:30, 10:40] = 1
    masks[1, :, 40:60, 50:90] = 1
    assert RGMPPeer.pad(image).shape[-2:] == (96, 128)
    with torch.no_grad():
        reference = peer.encode_reference(image, masks)
        prob = peer(image, masks, reference)
    assert reference.shape == (2, 512, 3, 4)  # res5 at stride 32
    assert prob.shape == (2, 1, 70, 100) and prob.min() >= 0 and prob.max() <= 1
    assert not torch.allclose(prob[0], prob[1])  # each object its own mask and reference
    assert len(peer.refine) == 3 and peer.global_conv.left[0].in_channels == 2 * 512


def test_rgmp_seconds_per_frame_times_the_frames_after_the_warmup():
    video = TimingVideo((64, 96), 5, objects=2)
    peer = RGMPPeer("resnet18", dim=16)
    median, seconds = rgmp_seconds_per_frame(peer, list(video), video.first_mask, warmup=1)
    assert len(seconds) == 4 and all(s > 0 for s in seconds)
    assert median == float(np.median(seconds[1:]))
    with pytest.raises(ValueError, match="at least"):
        rgmp_seconds_per_frame(peer, list(video)[:2], video.first_mask, warmup=1)


def test_inference_choice_script_compares_the_fusions_on_a_split(tmp_path, capsys):
    """benchmarks/bench_inference_choice.py: every value of the choice scores the same split
    with the same checkpoint; an existing report is kept without --overwrite."""
    import importlib.util

    from gcseg.checkpoint import save_checkpoint
    from tests.conftest import moving_squares_davis

    spec = importlib.util.spec_from_file_location(
        "bench_inference_choice", ROOT / "benchmarks" / "bench_inference_choice.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    davis = moving_squares_davis(tmp_path / "davis")
    config = small_config()
    torch.manual_seed(0)
    checkpoint = save_checkpoint(tmp_path / "run" / "checkpoint.pt", {
        "model": GCSeg(config.model).state_dict(), "step": 1, "stage": "video_pairs",
        "config": config.to_dict(), "metrics": {}})
    out = tmp_path / "fusion.json"
    argv = ["--davis", str(davis), "--checkpoint", str(checkpoint), "--choice",
            "reference_fusion", "--rounds", "1", "--device", "cpu", "--out", str(out)]
    assert script.main(argv) == 0
    report = json.loads(out.read_text())
    assert report["choice"] == "reference_fusion" and report["videos"] == 1
    assert set(report["values"]) == {"predictions", "features"}
    for row in report["values"].values():
        assert 0 <= row["J&F-Mean"] <= 1 and row["seconds_per_frame"] > 0
    assert "round 1 predictions: J&F" in capsys.readouterr().out
    assert script.main(argv) == 2  # exists: kept
    assert json.loads(out.read_text()) == report


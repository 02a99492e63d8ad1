"""What a session lent a GPU should run there, as prepared plans of one device call each.

A lent GPU comes for minutes, on a fresh machine, a call at a time (at most 600 s a call). A
plan runs its steps in order, each under its own time limit and all within ``--budget``,
writes every log and the files worth keeping under ``--out``, and records the outcome of each
step in ``OUT/gpu_session.json`` with the commit it was told (``GCSEG_COMMIT``: a copy of the
working tree sent to the machine may carry no usable ``.git``)::

    export GCSEG_COMMIT=$(git rev-parse HEAD) PYTHONPATH=.
    python tools/gpu_session.py --plan foundation --out $OUT
    python tools/gpu_session.py --plan ablation --out $OUT
    python tools/gpu_session.py --plan speed --out $OUT

``foundation`` (issue "Short runs that learn", then the ablations): the synthetic benchmark and
a 1,000-video training split (``make-synthetic --jobs``), the foundation trained on the GPU
(``configs/foundation_tiny_gpu.yaml``), exported over ``checkpoints/foundation_tiny.pt`` in the
machine's copy and brought back with its card, then a 2-minute GPU short run of ``full`` from
it (the issue's >= 0.45 J&F target). Back here: commit the foundation if it is better, and run
the 10-minute CPU demo from it.

``ablation`` (issue "Ablation tables that can test the paper's claims"): the ablation
benchmark (40 training and 30 validation videos) and Tables V, VI and VII from the foundation
of the working tree (``configs/ablation_foundation_gpu.yaml``: 5 seeds, 8 runs side by side on
the GPU); the records and their runs' logs come back for ``results/ablations-gpu/``. Run it
after the foundation plan's foundation is committed, so the tables start from it.

``speed`` (issue "Faster than RGMP"): the CUDA-only tests, then ResNet-101 ``full`` at 480x854
(one object, n = 3) in float16, bfloat16 and float32, with CUDA graphs (``torch.compile`` mode
``reduce-overhead``), with ``--reference-fusion features``, and ResNet-50 beside RGMP.

``--dry-run`` prints a plan's commands. ``tests/test_gpu_session.py`` checks that every command
parses with ``python -m gcseg``'s own parser and that each plan fits one call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

CALL_SECONDS = 600
"""The most one call of the device tool may run."""
SPEED_CASE = ["--variants", "full", "--sizes", "480p", "--objects", "1", "--refs", "3",
              "--memory-frames", "0"]
"""The speed issue's case: ``full`` at 480x854, one object, n = 3 (no flat-memory check)."""


class Step(NamedTuple):
    """One command of a plan: ``seconds`` is its own limit; it is skipped when ``skip_if``
    exists already (data left by an earlier plan on a warm machine)."""

    name: str
    command: list[str]
    seconds: int
    skip_if: Path | None = None


def _gcseg(*args: str) -> list[str]:
    return [sys.executable, "-m", "gcseg", *args]


def _copy(*pairs: tuple[str, Path]) -> list[str]:
    """A command that copies each existing ``source`` to ``destination`` (folders without
    their weights and images: the logs and records only)."""
    code = ("import shutil, sys; from pathlib import Path\n"
            "for source, target in zip(sys.argv[1::2], sys.argv[2::2]):\n"
            "    s, t = Path(source), Path(target)\n"
            "    if s.is_dir(): shutil.copytree(s, t, dirs_exist_ok=True, ignore=shutil"
            ".ignore_patterns('*.pt', '*.png', '*.jpg'))\n"
            "    elif s.is_file():\n"
            "        t.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(s, t)\n"
            "    else: print('missing:', s)\n")
    return [sys.executable, "-c", code, *[str(x) for pair in pairs for x in pair]]


def foundation_plan(out: Path) -> list[Step]:
    """The foundation trained on the GPU and a 2-minute GPU short run from it."""
    jobs = str(os.cpu_count() or 1)
    run, short = Path("runs/foundation_tiny_gpu"), Path("runs/short_run_gpu")  # their
    # checkpoints and snapshots stay on the machine; only the small files come back
    return [
        Step("benchmark", _gcseg("make-synthetic", "--out", "data/synthetic", "--seed", "0",
                                 "--jobs", jobs), 20, Path("data/synthetic/synthetic.json")),
        Step("training-videos", _gcseg("make-synthetic", "--out", "data/synthetic-train1000",
                                       "--seed", "0", "--train", "1000", "--val", "0",
                                       "--jobs", jobs),
             60, Path("data/synthetic-train1000/synthetic.json")),
        Step("train-foundation", _gcseg("train", "--config", "configs/foundation_tiny_gpu.yaml",
                                        "--out", str(run), "--device", "cuda",
                                        "--max-minutes", "4", "--no-progress"), 270),
        Step("export-foundation", _gcseg("export", "--foundation", "--checkpoint",
                                         str(run / "checkpoint.pt"), "--out",
                                         "checkpoints/foundation_tiny.pt", "--davis",
                                         "data/synthetic", "--overwrite", "--device", "cuda"),
             50),
        Step("keep-foundation", _copy(
            (Path("checkpoints/foundation_tiny.pt"), out / "foundation_tiny.pt"),
            (Path("checkpoints/foundation_tiny.json"), out / "foundation_tiny.json"),
            (run / "log.csv", out / "foundation_run" / "log.csv"),
            (run / "summary.json", out / "foundation_run" / "summary.json")), 10),
        Step("short-run", _gcseg("short-run", "--davis", "data/synthetic", "--minutes", "2",
                                 "--out", str(short), "--recipe", "gpu", "--variant", "full",
                                 "--seed", "0", "--device", "cuda", "--no-progress"), 180),
        Step("keep-short-run", _copy(*[(short / name, out / "short_run_gpu" / name) for name in
                                       ("summary.json", "learning_curve.json", "log.csv")]), 10),
    ]


def ablation_plan(out: Path) -> list[Step]:
    """Tables V, VI and VII from the foundation on the GPU, 5 seeds, 8 runs at a time."""
    jobs = str(os.cpu_count() or 1)
    tables = Path("results/ablations-gpu")  # an interrupted ablate resumes from its runs
    kept = [(tables / f"{table}.{kind}", out / "ablations-gpu" / f"{table}.{kind}")
            for table in ("V", "VI", "VII") for kind in ("json", "csv")]
    return [
        Step("benchmark", _gcseg("make-synthetic", "--out", "data/ablation-foundation", "--seed",
                                 "0", "--train", "40", "--val", "30", "--jobs", jobs),
             30, Path("data/ablation-foundation/synthetic.json")),
        Step("ablate", _gcseg("ablate", "--table", "V", "VI", "VII", "--config",
                              "configs/ablation_foundation_gpu.yaml", "--seeds", "0", "1", "2",
                              "3", "4", "--out", str(tables), "--device", "cuda", "--jobs", "8",
                              "--threads", "2"), 510),
        Step("keep-tables", _copy(*kept, (tables / "runs", out / "ablations-gpu" / "runs")), 20),
    ]


def speed_plan(out: Path) -> list[Step]:
    """The CUDA-only tests and the speed issue's GPU figures."""

    def bench(name: str, *extra: str, seconds: int = 60) -> Step:
        return Step(name, _gcseg("bench", *SPEED_CASE, *extra, "--out", str(out / f"{name}.json")),
                    seconds)

    return [
        Step("cuda-tests", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/test_fast_paths.py", "-k", "cuda"], 120),
        bench("r101-float16", "--backbones", "resnet101", "--dtype", "float16", "--no-rgmp"),
        bench("r101-bfloat16", "--backbones", "resnet101", "--dtype", "bfloat16", "--no-rgmp"),
        bench("r101-float32", "--backbones", "resnet101", "--dtype", "float32", "--no-rgmp"),
        bench("r101-float16-cudagraphs", "--backbones", "resnet101", "--dtype", "float16",
              "--compile-mode", "reduce-overhead", "--no-rgmp", seconds=150),
        bench("r101-float16-features", "--backbones", "resnet101", "--dtype", "float16",
              "--reference-fusion", "features", "--no-rgmp"),
        bench("r50-float16-rgmp", "--backbones", "resnet50", "--dtype", "float16"),
    ]


PLANS = {"ablation": ablation_plan, "foundation": foundation_plan, "speed": speed_plan}


def run(steps: list[Step], out: Path, budget: float) -> list[dict]:
    """Run ``steps`` (stdout and stderr to ``out/NAME.log``) within ``budget`` seconds in all:
    a step gets its own limit or what is left, whichever is less, and none starts with under
    10 s left. Returns the outcomes, also written to ``out/gpu_session.json`` after each."""
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    deadline = time.perf_counter() + budget
    for step in steps:
        start = time.perf_counter()
        left = deadline - start
        seconds = min(step.seconds, left)
        code: int | str = "not run: out of time"
        if step.skip_if is not None and step.skip_if.exists():
            code = f"skipped: {step.skip_if} exists"
        elif left >= 10:
            with open(out / f"{step.name}.log", "w") as log:
                try:
                    code = subprocess.run(step.command, stdout=log, stderr=subprocess.STDOUT,
                                          timeout=seconds, check=False).returncode
                except subprocess.TimeoutExpired:
                    code = f"stopped after {seconds:.0f} s"
        outcomes.append({"step": step.name, "command": " ".join(step.command[1:]),
                         "exit": code, "seconds": round(time.perf_counter() - start, 1)})
        print(f"{step.name}: {code} in {outcomes[-1]['seconds']} s", flush=True)
        (out / "gpu_session.json").write_text(json.dumps(
            {"commit": os.environ.get("GCSEG_COMMIT"), "budget_seconds": budget,
             "steps": outcomes}, indent=2))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", required=True, choices=sorted(PLANS))
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "runs/gpu")),
                        help="folder of the logs and kept files (default: $OUT or runs/gpu)")
    parser.add_argument("--budget", type=float, default=CALL_SECONDS - 20,
                        help=f"seconds for all the steps (default {CALL_SECONDS - 20}: one call "
                             f"of the device tool may run {CALL_SECONDS})")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args(argv)
    steps = PLANS[args.plan](args.out)
    if args.dry_run:
        for step in steps:
            print(f"{step.name} ({step.seconds} s): {' '.join(step.command[1:])}")
        return 0
    outcomes = run(steps, args.out, args.budget)
    return 0 if all(o["exit"] == 0 or str(o["exit"]).startswith("skipped")
                    for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

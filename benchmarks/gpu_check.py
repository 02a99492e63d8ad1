"""The GPU measurements issue 17 asks for, as one prepared run for a lent GPU machine.

A session lent a GPU has minutes of it, on a fresh machine each call. This script runs
everything in one call, each step under its own time limit, and writes every report and log
under ``--out``, with the commit it was told (``GCSEG_COMMIT``: a copy of the working tree
sent to the machine may carry no usable ``.git``)::

    GCSEG_COMMIT=$(git rev-parse HEAD) PYTHONPATH=. python benchmarks/gpu_check.py --out $OUT

The steps, in order of priority (a step that runs out of time is stopped and the next starts):

1. the CUDA-only tests (``tests/test_fast_paths.py``: autocast, float32 and compiled paths
   close to the CPU on the shipped model);
2. ResNet-101 ``full`` at 480x854, one object, n = 3 (the issue's >= 150 fps target) in
   float16, bfloat16 and float32;
3. the same in float16 with CUDA graphs (``torch.compile`` mode ``reduce-overhead``);
4. the same in float16 with ``--reference-fusion features``;
5. ResNet-50 ``full`` in float16 with RGMP's network timed beside it.

``--dry-run`` prints the commands. ``tests/test_benchmark.py`` checks that every ``bench``
command parses with ``python -m gcseg``'s own parser.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CASE = ["--variants", "full", "--sizes", "480p", "--objects", "1", "--refs", "3",
        "--memory-frames", "0"]
"""The issue's case: ``full`` at 480x854, one object, n = 3 (no flat-memory check here)."""


def steps(out: Path) -> list[tuple[str, list[str], int]]:
    """``(name, command, seconds allowed)`` of every step, in the order they run."""
    python = sys.executable

    def bench(name: str, *extra: str, seconds: int = 60) -> tuple[str, list[str], int]:
        command = [python, "-m", "gcseg", "bench", *CASE, *extra,
                   "--out", str(out / f"{name}.json")]
        return name, command, seconds

    return [
        ("cuda-tests", [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
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


def run(out: Path, budget: float) -> list[dict]:
    """Run every step (stdout and stderr to ``out/NAME.log``) within ``budget`` seconds in
    all (a step gets its own limit or what is left, whichever is less; none is started with
    under 10 s left); their outcomes, also written to ``out/gpu_check.json``."""
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    deadline = time.perf_counter() + budget
    for name, command, limit in steps(out):
        start = time.perf_counter()
        left = deadline - start
        seconds = min(limit, left)
        code: int | str = "not run: out of time"
        if left >= 10:
            with open(out / f"{name}.log", "w") as log:
                try:
                    code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                          timeout=seconds, check=False).returncode
                except subprocess.TimeoutExpired:
                    code = f"stopped after {seconds:.0f} s"
        outcomes.append({"step": name, "command": " ".join(command[1:]), "exit": code,
                         "seconds": round(time.perf_counter() - start, 1)})
        print(f"{name}: {code} in {outcomes[-1]['seconds']} s", flush=True)
        (out / "gpu_check.json").write_text(json.dumps(
            {"commit": os.environ.get("GCSEG_COMMIT"), "budget_seconds": budget,
             "steps": outcomes}, indent=2))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "runs/gpu")),
                        help="folder of the reports and logs (default: $OUT or runs/gpu)")
    parser.add_argument("--budget", type=float, default=540.0,
                        help="seconds for all the steps (default 540: one call of the device "
                             "tool is limited to 600)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args(argv)
    if args.dry_run:
        for name, command, seconds in steps(args.out):
            print(f"{name} ({seconds} s): {' '.join(command[1:])}")
        return 0
    outcomes = run(args.out, args.budget)
    return 0 if all(o["exit"] == 0 for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

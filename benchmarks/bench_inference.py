"""Seconds per frame of GCSeg's inference engine, and of its backbone alone.

The same as ``python -m gcseg bench`` (the measuring lives in :mod:`gcseg.speed`); see
``benchmarks/README.md``. Examples::

    python benchmarks/bench_inference.py --quick
    python benchmarks/bench_inference.py --sizes tiny --backbones resnet18 --out results.json
"""

from __future__ import annotations

import sys

from gcseg.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", *sys.argv[1:]]))

"""Speed of the inference engine: the paper's Time(s) columns (Tables II-IV).

GCSeg's title promises *fast* video object segmentation: 0.28 s per frame on DAVIS-2016 and
0.92 s on DAVIS-2017 (RGMP: 0.13 s). The floor for any method of this family is one backbone
pass per frame, so every figure here comes with the cost of the backbone alone on the same input.

The modules, from the smallest tool to the whole benchmark:

- :mod:`gcseg.speed.timing` -- timing one call (:func:`~gcseg.speed.timing.median_seconds`) and
  the steps of one frame, the helpers of notebook 10
  (:func:`~gcseg.speed.timing.time_frame_steps`,
  :func:`~gcseg.speed.timing.time_reference_strategies`).
- :mod:`gcseg.speed.memory` -- :class:`~gcseg.speed.memory.MemoryProbe`: the memory of the
  process (CPU) or of the CUDA allocator, with a peak that can be reset.
- :mod:`gcseg.speed.cases` -- what is measured: :class:`~gcseg.speed.cases.BenchCase` (variant x
  backbone x frame size x objects K x references n), :class:`~gcseg.speed.cases.BenchSettings`
  and the grids. It imports no torch, so the command line can use it while parsing.
- :mod:`gcseg.speed.measure` -- measuring one case on a :class:`~gcseg.speed.measure.TimingVideo`
  (seconds per frame, backbone alone, peak memory) and the flat-memory check.
- :mod:`gcseg.speed.rgmp` -- :class:`~gcseg.speed.rgmp.RGMPPeer`: RGMP's network (the paper's
  speed rival) written from its paper's description, timed on the same input beside GCSeg.
- :mod:`gcseg.speed.report` -- :func:`~gcseg.speed.report.run_benchmark` (every case, then the
  memory check, as a JSON-ready report) and its text table.

``python -m gcseg bench`` (:mod:`gcseg.cli.bench`) and ``benchmarks/bench_inference.py`` run
:func:`~gcseg.speed.report.run_benchmark`; ``benchmarks/README.md`` explains every column.
Import from the submodules (``from gcseg.speed.timing import time_frame_steps``).
"""

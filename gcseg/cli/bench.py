"""The speed benchmark's command: bench.

The measuring lives in :mod:`gcseg.speed`; this module turns the arguments into the cases and
the settings, runs :func:`gcseg.speed.report.run_benchmark` and prints its table.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from gcseg.cli.args import count
from gcseg.config import BACKBONES, NUM_REFERENCES, REFERENCE_FUSIONS, VARIANTS
from gcseg.speed.cases import (
    DEFAULT_BACKBONES,
    DEFAULT_OBJECTS,
    DEFAULT_REFS,
    BenchCase,
    BenchSettings,
    default_cases,
    grid,
    parse_size,
)

QUICK_SETTINGS = BenchSettings(frames=2, repeats=1, warmup=0, memory_frames=3)
"""``--quick``: a smoke test (2 timed frames, no warm-up, a 6-frame memory check)."""


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _compile_option(args: argparse.Namespace) -> bool | dict[str, str]:
    if args.compile_mode:
        return {"mode": args.compile_mode}
    return bool(args.compile)


def bench_settings(args: argparse.Namespace, device: str) -> BenchSettings:
    """The settings the arguments ask for (``--quick`` changes the defaults only)."""
    base = QUICK_SETTINGS if args.quick else BenchSettings()
    given = {"frames": args.frames, "repeats": args.repeats, "warmup": args.warmup,
             "memory_frames": args.memory_frames}
    dtype = args.dtype or ("float16" if device.startswith("cuda") else "float32")
    return dataclasses.replace(
        base, device=device, dtype=dtype, preset=args.preset,
        channels_last=not args.no_channels_last, compile=_compile_option(args), seed=args.seed,
        rgmp=not args.no_rgmp, reference_fusion=args.reference_fusion,
        **{name: value for name, value in given.items() if value is not None})


def bench_cases(args: argparse.Namespace) -> list[BenchCase]:
    """The default grid, or every combination of the sizes, objects and references given."""
    variants = args.variants or list(VARIANTS)
    backbones = args.backbones or (["resnet18"] if args.quick else list(DEFAULT_BACKBONES))
    explicit = any(value is not None for value in (args.sizes, args.objects, args.refs))
    if not (explicit or args.quick):
        return default_cases(variants, backbones)
    sizes = args.sizes or [parse_size(name) for name in
                           (["tiny"] if args.quick else ["tiny", "paper"])]
    objects = args.objects or ([1] if args.quick else list(DEFAULT_OBJECTS))
    refs = args.refs if args.refs is not None else (
        [NUM_REFERENCES] if args.quick else list(DEFAULT_REFS))
    return grid(variants, backbones, sizes, objects, refs)


def _cmd_bench(args: argparse.Namespace) -> int:
    import torch

    from gcseg.runtime import pick_device
    from gcseg.speed.report import format_results, run_benchmark

    if args.out is not None and args.out.is_dir():
        raise FileExistsError(f"{args.out}: a folder; --out names the JSON report to write")
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = bench_settings(args, str(pick_device(args.device)))
    command = " ".join(["python -m gcseg", *getattr(args, "argv", ["bench"])])
    report = run_benchmark(bench_cases(args), settings, out=args.out, command=command)
    print()
    print(format_results(report["results"]))
    if args.out is not None:
        print(f"\nwrote {args.out}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``bench`` to the sub-parsers of ``python -m gcseg``."""
    bench = commands.add_parser(
        "bench", help="seconds per frame of the engine and of its backbone alone",
        description="Without --sizes/--objects/--refs: every case at the tiny size (240x432), "
                    "and at 480x854 every variant x backbone for 1 object, n = 3, plus the "
                    "objects x references sweep for full. With any of them: every "
                    "combination of the values given (defaults: tiny paper; 1 3; 0 3 6).")
    bench.add_argument("--variants", nargs="+", choices=VARIANTS)
    bench.add_argument("--backbones", nargs="+", choices=BACKBONES,
                       help=f"default: {' '.join(DEFAULT_BACKBONES)}")
    bench.add_argument("--sizes", nargs="+", type=_size,
                       help="tiny (240x432), paper or 480p (480x854), or HxW")
    bench.add_argument("--objects", nargs="+", type=count(1), help="K (default 1 3)")
    bench.add_argument("--refs", nargs="+", type=count(0), help="n (default 0 3 6)")
    bench.add_argument("--preset", default="paper", choices=["paper", "tiny"],
                       help="heads of the model (paper: 256 channels to res5; tiny: 64 to res4)")
    bench.add_argument("--frames", type=count(1), help="timed frames per repeat (default 8)")
    bench.add_argument("--repeats", type=count(1), help="blocks of timed frames (default 3)")
    bench.add_argument("--warmup", type=count(0),
                       help="untimed frames after the n references exist (default 2)")
    bench.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    bench.add_argument("--dtype", choices=["float32", "float16", "bfloat16"],
                       help="float16/bfloat16: CUDA autocast (default: float16 on CUDA, "
                            "float32 on the CPU)")
    bench.add_argument("--no-channels-last", action="store_true",
                       help="keep the NCHW layout (channels-last is the default here)")
    bench.add_argument("--compile", action="store_true", help="torch.compile the engine")
    bench.add_argument("--compile-mode", help="torch.compile mode, e.g. reduce-overhead "
                                              "(CUDA graphs); implies --compile")
    bench.add_argument("--threads", type=count(1),
                       help="torch CPU threads (default: GCSEG_THREADS or torch's)")
    bench.add_argument("--memory-frames", type=count(0),
                       help="N of the flat-memory check (2N frames; 0: skip; default 100)")
    bench.add_argument("--reference-fusion", choices=REFERENCE_FUSIONS, default="predictions",
                       help="average the references' predictions (the paper, default) or "
                            "their decoder inputs (the decoder once per object)")
    bench.add_argument("--no-rgmp", action="store_true",
                       help="skip RGMP's network (timed by default on each backbone, size and "
                            "K, beside GCSeg)")
    bench.add_argument("--seed", type=count(0), default=0)
    bench.add_argument("--out", type=Path, default=Path("runs/bench/results.json"),
                       help="JSON report (default runs/bench/results.json)")
    bench.add_argument("--quick", action="store_true",
                       help="resnet18, tiny size, K = 1, n = 3, 2 frames: a smoke test")
    bench.set_defaults(run=_cmd_bench)

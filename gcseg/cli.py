"""The command line: ``python -m gcseg <command> ...``.

Every job a notebook does has a command here, so the same work runs on a server::

    python -m gcseg make-synthetic --out data/synthetic
    python -m gcseg baseline --davis data/synthetic --out runs/copy-first
    python -m gcseg evaluate --davis data/synthetic --results runs/copy-first
    python -m gcseg demo
    python -m gcseg ablate --table V --config configs/ablation_synthetic.yaml --out results/abl
    python -m gcseg describe --preset tiny
    python -m gcseg bench --quick

Each command is a small function taking the parsed arguments; the work itself lives in the
library modules, imported when the command runs so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parse_size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must look like 240x432 (HxW), got {text!r}"
        ) from None
    if height < 32 or width < 32:
        raise argparse.ArgumentTypeError(f"size {text!r} is too small (at least 32x32)")
    return height, width


MAX_FRAMES = 1000
"""Most frames of a synthetic video.  DAVIS's longest video has 104 frames; each video is drawn
in memory as a whole (at 240x432 about 0.3 MB of RGB per frame, more with its layer maps), so
far more than this is a typo that would fill the memory, not a benchmark."""


def _parse_frames(text: str) -> int | tuple[int, int]:
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
            if not 2 <= low <= high <= MAX_FRAMES:
                raise ValueError
            return low, high
        count = int(text)
        if not 2 <= count <= MAX_FRAMES:
            raise ValueError
        return count
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"frames must be a count from 2 to {MAX_FRAMES} or a range like 24-40, got {text!r}"
        ) from None


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--davis", required=True, type=Path, help="DAVIS-layout dataset root")
    parser.add_argument("--set", dest="split", default="val", help="split (default: val)")
    parser.add_argument("--year", default="2017", choices=["2016", "2017"])
    parser.add_argument("--resolution", default="480p", help="resolution folder (default 480p)")


def _cmd_make_synthetic(args: argparse.Namespace) -> int:
    from gcseg.config import ConfigError
    from gcseg.data.synthetic import make_synthetic

    if args.train == 0 and args.val == 0:
        raise ConfigError("make-synthetic --train 0 --val 0: nothing to write (ask for at "
                          "least one training or validation video)")
    out = make_synthetic(
        args.out,
        seed=args.seed,
        n_train=args.train,
        n_val=args.val,
        frames=args.frames,
        size=args.size,
        overwrite=args.overwrite,
    )
    print(f"synthetic benchmark written to {out}")
    return 0


def _cmd_baseline(args: argparse.Namespace) -> int:
    from gcseg.baselines import run_baseline
    from gcseg.data.davis import DavisDataset

    dataset = DavisDataset(args.davis, year=args.year, split=args.split, resolution=args.resolution)
    out = run_baseline(args.method, dataset, args.out, overwrite=args.overwrite)
    print(f"{args.method} results for {len(dataset)} sequences written to {out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from gcseg.evaluation import check_csv_folder, evaluate

    out = args.out or args.results
    try:
        check_csv_folder(out)  # a file or a read-only folder is named before the work
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = evaluate(
        args.davis,
        args.results,
        split=args.split,
        year=args.year,
        resolution=args.resolution,
        score_all_frames=args.all_frames,
        objects=args.objects,
    )
    print(result.table())
    for note in result.notes():
        print(f"note: {note}", file=sys.stderr)
    try:
        paths = result.write_csvs(out)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from gcseg.data.davis import DavisDataset

    dataset = DavisDataset(args.davis, year=args.year, split=args.split, resolution=args.resolution)
    dataset.validate()
    frames = sum(len(sequence) for sequence in dataset)
    print(f"{dataset}: {frames} frames, every file readable and consistent")
    for rule, names in dataset.annotation_rules().items():
        shown = ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")
        print(f"annotated {rule}: {len(names)} sequence(s)"
              + ("" if rule == "every frame" else f" ({shown})"))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from gcseg.demo import run_demo
    from gcseg.runtime import pick_device
    from gcseg.train import check_run_folder

    pick_device(args.device)  # a misspelt or absent device, before any work
    check_run_folder(args.workdir, option="--workdir")
    run_demo(args.workdir, seed=args.seed, quick=args.quick, checkpoint=args.checkpoint,
             device=args.device, train_minutes=args.train_minutes)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import shlex

    from gcseg.config import load_config
    from gcseg.runtime import pick_device
    from gcseg.train import TrainingInterrupted, train

    config = load_config(args.config)
    if args.data is not None:
        config.data.root = str(args.data)
    if config.data.root is None:
        raise FileNotFoundError(f"{args.config}: data.root is not set (or pass --data DIR)")
    pick_device(args.device)  # a misspelt or absent device, before any work
    try:
        summary = train(config, args.out, resume=args.resume, device=args.device,
                        progress=not args.no_progress, stop_after=args.stop_after,
                        max_seconds=None if args.max_minutes is None else 60 * args.max_minutes)
    except TrainingInterrupted as stop:
        again = "python -m gcseg " + shlex.join([*args.argv] if args.resume
                                                else [*args.argv, "--resume"])
        print(f"{stop.signal_name}: stopped after step {stop.step} of {stop.total}, checkpoint "
              f"saved in {stop.checkpoint}; continue with: {again}", file=sys.stderr)
        return stop.exit_code
    if summary.get("metrics"):
        print(f"validation J&F {summary['metrics']['J&F']:.3f} at step {summary['step']}")
    print(f"checkpoint: {args.out / 'checkpoint.pt'}")
    return 0


def _parse_setting(text: str) -> tuple[list[str], object]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key or "." not in key:
        raise argparse.ArgumentTypeError(
            f"expected SECTION.KEY=VALUE (e.g. train.lr=3e-4), got {text!r}")
    return key.split("."), yaml.safe_load(value)


def _cmd_short_run(args: argparse.Namespace) -> int:
    from gcseg.runtime import pick_device
    from gcseg.short_run import learning_curve, recipe_config, short_run
    from gcseg.train import TrainingInterrupted, check_run_folder

    device = pick_device(args.device)
    overrides: dict = {}
    for path, value in args.override or []:
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    recipe = args.recipe or ("gpu" if device.type == "cuda" else "cpu")
    config = recipe_config(args.davis, recipe, variant=args.variant, seed=args.seed,
                           overrides=overrides)
    record = {"command": "python -m gcseg " + " ".join(args.argv), "recipe": recipe,
              "overrides": [f"{'.'.join(path)}={value}" for path, value in args.override or []]}
    check_run_folder(args.out, config, resumable=False)  # before the calibration, not after
    try:
        short_run(config, args.out, args.minutes, device, snapshots=args.snapshots,
                  progress=not args.no_progress, record=record)
    except TrainingInterrupted as stop:
        print(f"{stop.signal_name}: stopped after step {stop.step} of {stop.total}; "
              f"{args.out} holds an unfinished short run (its budget cannot be resumed: run "
              "it again with another --out)", file=sys.stderr)
        return stop.exit_code
    curve = learning_curve(args.out, args.davis, split=args.split, device=str(device))
    for row in curve:
        print(f"{row['minutes']:6.2f} min  step {row['step']:>5}  J&F {row['J&F']:.3f}")
    print(f"run: {args.out} (learning_curve.json, summary.json, checkpoint.pt)")
    return 0


def _cmd_recipe_table(args: argparse.Namespace) -> int:
    from gcseg.short_run import write_recipe_table

    record = write_recipe_table(args.runs, args.out, device=args.device,
                                command="python -m gcseg " + " ".join(args.argv))
    for row in record["rows"]:
        print(f"{row['name']:<28}{row['J&F']:>7.3f}  {row['change']}")
    print(f"copy-first {record['copy_first']:.3f}; wrote {args.out}/recipe.json and "
          f"{args.out}/learning_curves.png")
    return 0


def _cmd_ablate(args: argparse.Namespace) -> int:
    import shlex

    from gcseg.ablation import format_record, run_ablation
    from gcseg.config import load_config
    from gcseg.runtime import pick_device
    from gcseg.train import check_run_folder

    config = load_config(args.config)
    if args.data is not None:
        config.data.root = str(args.data)
    pick_device(args.device or "cpu")  # a misspelt or absent device, before any work
    check_run_folder(args.out)  # a folder (earlier runs in it are reused or resumed)
    command = "python -m gcseg " + shlex.join(args.argv)
    records = run_ablation(config, args.table, args.seeds, args.out, device=args.device or "cpu",
                           jobs=args.jobs, threads=args.threads, command=command)
    for table, record in records.items():
        print(format_record(record))
        print(f"wrote {args.out / (table + '.json')} and {args.out / (table + '.csv')}\n")
    return 0


def _cmd_segment(args: argparse.Namespace) -> int:
    from gcseg.checkpoint import load_model
    from gcseg.data.davis import DavisDataset
    from gcseg.inference import VideoSegmenter, segment_dataset
    from gcseg.runtime import check_output_folder, check_results_folder, pick_device

    device = pick_device(args.device)
    # refused before the work (segment_dataset checks again, with the dataset's folders)
    check_output_folder(args.out, args.overwrite, check_results_folder, inputs=[args.checkpoint])
    model, config = load_model(args.checkpoint, device)
    overrides = {"num_refs": args.refs, "seed": args.seed}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if args.no_adaptive_search:
        overrides["adaptive_search"] = False
    if args.reference_encoding:
        overrides["reference_encoding"] = args.reference_encoding
    segmenter = VideoSegmenter.from_config(model, config, device, **overrides)
    dataset = DavisDataset(args.davis, year=args.year, split=args.split, resolution=args.resolution)
    timing = segment_dataset(segmenter, dataset, args.out, overwrite=args.overwrite)
    speed = ("no frame after the first to time" if timing["seconds_per_frame"] is None else
             f"{timing['seconds_per_frame']:.3f} s/frame "
             f"({timing['frames_per_second'] or float('inf'):.1f} fps)")
    print(f"{timing['frames']} frames in {len(dataset)} sequences: {speed} "
          f"on {timing['device']} -> {args.out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from gcseg.checkpoint import check_export_paths, export_model
    from gcseg.model_card import write_model_card

    if args.foundation:
        from gcseg.foundation import export_foundation

        out = export_foundation(args.checkpoint, args.out, args.davis, args.split,
                                command=" ".join(["python -m gcseg", *args.argv]),
                                device=args.device, overwrite=args.overwrite)
        print(f"foundation {out} ({out.stat().st_size / 1e6:.1f} MB), card "
              f"{out.with_suffix('.json')}")
        return 0
    # never over its own input; the weights and the card only with --overwrite (checked first)
    check_export_paths(args.checkpoint, args.out, args.overwrite, card=args.davis is not None)
    out = export_model(args.checkpoint, args.out, half=not args.float32,
                       overwrite=args.overwrite)
    print(f"exported {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if args.davis is not None:
        card = write_model_card(out, args.checkpoint.parent, args.davis, args.split,
                                command=" ".join(["python -m gcseg", *args.argv]),
                                device=args.device)
        print(f"model card with validation scores: {card}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from gcseg.model.describe import describe

    print(describe(args.preset))
    return 0


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def _positive_minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected minutes > 0, got {text!r}")
    return value


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 24 * 60:
        raise argparse.ArgumentTypeError(f"expected minutes in (0, 1440], got {text!r}")
    return value


def _parse_bench_size(text: str) -> str:
    if text not in ("tiny", "paper", "480p"):
        _parse_size(text)
    return text


def _cmd_bench(args: argparse.Namespace) -> int:
    from gcseg.benchmark import run_cli

    if args.out is not None and args.out.is_dir():
        raise FileExistsError(f"{args.out}: a folder; --out names the JSON report to write")
    return run_cli(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m gcseg`` (one sub-parser per command)."""
    parser = argparse.ArgumentParser(
        prog="python -m gcseg",
        description="GCSeg: guided co-segmentation for semi-supervised video object segmentation",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    make = commands.add_parser(
        "make-synthetic", help="write the synthetic VOS benchmark in the DAVIS layout"
    )
    make.add_argument("--out", required=True, type=Path, help="output folder")
    make.add_argument("--seed", type=_count(0), default=0, help="benchmark seed (>= 0)")
    make.add_argument("--train", type=_count(0), default=20, help="training videos (default 20)")
    make.add_argument("--val", type=_count(0), default=10, help="validation videos (default 10)")
    make.add_argument("--frames", type=_parse_frames, default=(24, 40),
                      help=f"T or MIN-MAX, from 2 to {MAX_FRAMES} (default 24-40)")
    make.add_argument("--size", type=_parse_size, default=(240, 432), help="HxW (default 240x432)")
    make.add_argument("--overwrite", action="store_true",
                      help="replace an existing dataset written by make-synthetic")
    make.set_defaults(run=_cmd_make_synthetic)

    baseline = commands.add_parser("baseline", help="write the results of a trivial baseline")
    _add_dataset_arguments(baseline)
    baseline.add_argument("--method", default="copy-first", choices=["copy-first", "empty"])
    baseline.add_argument("--out", required=True, type=Path, help="results folder")
    baseline.add_argument("--overwrite", action="store_true",
                          help="replace an existing results folder (whole, at the end)")
    baseline.set_defaults(run=_cmd_baseline)

    evaluate = commands.add_parser("evaluate", help="score a results folder with J and F")
    _add_dataset_arguments(evaluate)
    evaluate.add_argument("--results", required=True, type=Path, help="results folder")
    evaluate.add_argument("--out", type=Path,
                          help="folder of the CSVs (default: results); CSVs of the same names "
                               "there are replaced (they are derived from the results)")
    evaluate.add_argument(
        "--all-frames", action="store_true", help="also score the first and last frames"
    )
    evaluate.add_argument("--objects", choices=["first-frame", "all"], default="first-frame",
                          help="object ids scored: those of frame 0, as the official DAVIS-2017 "
                               "toolkit (default), or all ids of the ground truth, including "
                               "objects that enter later")
    evaluate.set_defaults(run=_cmd_evaluate)

    validate = commands.add_parser("validate", help="read every file of a dataset split once")
    _add_dataset_arguments(validate)
    validate.set_defaults(run=_cmd_validate)

    demo = commands.add_parser("demo", help="the main job on the synthetic benchmark")
    demo.add_argument("--workdir", type=Path, default=Path("runs/demo"))
    demo.add_argument("--seed", type=_count(0), default=0)
    demo.add_argument("--quick", action="store_true", help="a smaller benchmark (for tests)")
    demo.add_argument("--checkpoint", type=Path,
                      help="the trained model to segment with (default: the shipped "
                           "checkpoints/tiny_synthetic.pt)")
    demo.add_argument("--train-minutes", type=_minutes,
                      help="also train a fresh full model from the foundation for this many "
                           "minutes of wall time, and score it beside the shipped one")
    demo.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    demo.set_defaults(run=_cmd_demo)

    train = commands.add_parser(
        "train", help="train GCSeg (torchrun for several processes)",
        description="Train GCSeg into a new run folder (one holding an earlier run's files is "
                    "refused; --resume continues it). Ctrl-C (SIGINT) or SIGTERM: the step in "
                    "progress finishes, the checkpoint is saved, and the command prints how to "
                    "resume and exits with 130 (SIGINT) or 143 (SIGTERM).")
    train.add_argument("--config", required=True, help="YAML file or preset name (tiny, paper)")
    train.add_argument("--out", required=True, type=Path, help="run folder")
    train.add_argument("--data", type=Path, help="dataset root (overrides data.root)")
    train.add_argument("--resume", action="store_true", help="continue out/checkpoint.pt")
    train.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when present)")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.add_argument("--stop-after", type=_count(1),
                       help="stop at this global step (checkpointed)")
    train.add_argument("--max-minutes", type=_positive_minutes,
                       help="stop after the step during which this wall time ran out "
                            "(checkpointed; --resume continues)")
    train.set_defaults(run=_cmd_train)

    short = commands.add_parser(
        "short-run", help="train a fresh model from the foundation for M minutes, then score "
                          "its snapshots (J&F against wall time)")
    short.add_argument("--davis", required=True, type=Path, help="dataset root (train + val)")
    short.add_argument("--minutes", required=True, type=_minutes, help="wall-time budget")
    short.add_argument("--out", required=True, type=Path, help="run folder (must be new)")
    short.add_argument("--recipe", choices=["cpu", "gpu"], help="default: by the device")
    short.add_argument("--variant", default="full", choices=["baseline", "ref", "coseg", "full"])
    short.add_argument("--seed", type=_count(0), default=0)
    short.add_argument("--override", action="append", type=_parse_setting, metavar="KEY=VALUE",
                       help="override a setting of the recipe, e.g. train.lr=3e-4 (repeatable)")
    short.add_argument("--snapshots", type=_count(1), default=5,
                       help="snapshots scored for the learning curve (default 5)")
    short.add_argument("--set", dest="split", default="val", help="split scored (default val)")
    short.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    short.add_argument("--no-progress", action="store_true")
    short.set_defaults(run=_cmd_short_run)

    table = commands.add_parser(
        "recipe-table", help="gather short runs into a table and a J&F-against-time figure")
    table.add_argument("runs", nargs="+", type=Path, help="short-run folders")
    table.add_argument("--out", required=True, type=Path, help="e.g. results/recipe")
    table.add_argument("--device", help="for the copy-first floor (default: CPU)")
    table.set_defaults(run=_cmd_recipe_table)

    ablate = commands.add_parser("ablate", help="the paper's ablation tables, several seeds")
    ablate.add_argument("--table", nargs="+", required=True, choices=["V", "VI", "VII"],
                        help="V components, VI Adaptive Search, VII simulated pre-training")
    ablate.add_argument("--config", required=True, help="YAML file or preset name")
    ablate.add_argument("--seeds", nargs="+", type=_count(0), default=[0, 1, 2],
                        help="training seeds, one run per row and seed (default: 0 1 2)")
    ablate.add_argument("--out", required=True, type=Path, help="results folder")
    ablate.add_argument("--data", type=Path, help="dataset root (overrides data.root)")
    ablate.add_argument("--device", help="cpu, cuda ... (default: cpu)")
    ablate.add_argument("--jobs", type=_count(1), default=1, help="runs trained in parallel")
    ablate.add_argument("--threads", type=_count(1), default=1, help="torch threads per run")
    ablate.set_defaults(run=_cmd_ablate)

    segment = commands.add_parser("segment", help="segment a split with a trained checkpoint")
    _add_dataset_arguments(segment)
    segment.add_argument("--checkpoint", required=True, type=Path)
    segment.add_argument("--out", required=True, type=Path, help="results folder")
    segment.add_argument("--overwrite", action="store_true",
                         help="replace an existing results folder (whole, at the end)")
    segment.add_argument("--refs", type=_count(0),
                         help="n >= 0, sampled references (default: config)")
    segment.add_argument("--no-adaptive-search", action="store_true",
                         help="keep M_{t-1} whatever the Judgment Module says")
    segment.add_argument("--seed", type=int, help="reference sampling seed (default: config)")
    segment.add_argument("--reference-encoding", choices=["cached", "own-mask"],
                         help="a segmented frame's features as a reference: cached "
                              "E(I_t, M_t-1) or own-mask E(I_t, M_t), one more backbone pass "
                              "per frame (default: config, cached)")
    segment.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    segment.set_defaults(run=_cmd_segment)

    export = commands.add_parser(
        "export", help="share a checkpoint: weights only (float16) + a JSON card with scores")
    export.add_argument("--checkpoint", required=True, type=Path, help="RUN/checkpoint.pt")
    export.add_argument("--out", required=True, type=Path, help="e.g. checkpoints/name.pt")
    export.add_argument("--float32", action="store_true", help="keep float32 weights")
    export.add_argument("--foundation", action="store_true",
                        help="keep only the feature extractor: a foundation for fresh heads "
                             "(model.weights: foundation), with its card")
    export.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out and its card (never the checkpoint "
                             "being exported)")
    export.add_argument("--davis", type=Path, help="score it on this dataset for the card")
    export.add_argument("--set", dest="split", default="val")
    export.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    export.set_defaults(run=_cmd_export)

    describe = commands.add_parser("describe", help="modules, parameters and FLOPs of a preset")
    describe.add_argument("--preset", default="tiny", help="config preset (tiny, paper)")
    describe.set_defaults(run=_cmd_describe)

    bench = commands.add_parser(
        "bench", help="seconds per frame of the engine and of its backbone alone",
        description="Without --sizes/--objects/--refs: every case at the tiny size (240x432), "
                    "and at 480x854 every variant x backbone for 1 object, n = 3, plus the "
                    "objects x references sweep for full. With any of them: every "
                    "combination of the values given (defaults: tiny paper; 1 3; 0 3 6).")
    bench.add_argument("--variants", nargs="+", choices=["baseline", "ref", "coseg", "full"])
    bench.add_argument("--backbones", nargs="+",
                       choices=["resnet18", "resnet34", "resnet50", "resnet101"],
                       help="default: resnet18 resnet50 resnet101")
    bench.add_argument("--sizes", nargs="+", type=_parse_bench_size,
                       help="tiny (240x432), paper or 480p (480x854), or HxW")
    bench.add_argument("--objects", nargs="+", type=_count(1), help="K (default 1 3)")
    bench.add_argument("--refs", nargs="+", type=_count(0), help="n (default 0 3 6)")
    bench.add_argument("--preset", default="paper", choices=["paper", "tiny"],
                       help="heads of the model (paper: 256 channels to res5; tiny: 64 to res4)")
    bench.add_argument("--frames", type=_count(1), help="timed frames per repeat (default 8)")
    bench.add_argument("--repeats", type=_count(1), help="blocks of timed frames (default 3)")
    bench.add_argument("--warmup", type=_count(0),
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
    bench.add_argument("--threads", type=_count(1),
                       help="torch CPU threads (default: GCSEG_THREADS or torch's)")
    bench.add_argument("--memory-frames", type=_count(0),
                       help="N of the flat-memory check (2N frames; 0: skip; default 100)")
    bench.add_argument("--seed", type=_count(0), default=0)
    bench.add_argument("--out", type=Path, default=Path("runs/bench/results.json"),
                       help="JSON report (default runs/bench/results.json)")
    bench.add_argument("--quick", action="store_true",
                       help="resnet18, tiny size, K = 1, n = 3, 2 frames: a smoke test")
    bench.set_defaults(run=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors about the user's input print one line and exit with 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)  # before importing torch: --help and typos are fast
    args.argv = argv

    from gcseg.checkpoint import CheckpointError
    from gcseg.config import ConfigError
    from gcseg.data.davis import DavisFormatError
    from gcseg.model import WeightsUnavailableError
    from gcseg.runtime import DeviceError, configure_threads

    try:
        configure_threads()  # GCSEG_THREADS=N caps torch's CPU threads for every command
        return args.run(args)
    except (DavisFormatError, CheckpointError, ConfigError, FileNotFoundError,
            FileExistsError, WeightsUnavailableError, DeviceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as error:  # Ctrl-C; `train` saves its checkpoint first
        print(f"interrupted ({error})" if str(error) else "interrupted", file=sys.stderr)
        return getattr(error, "exit_code", 130)
    except OSError as error:  # a file where a folder is expected, a read-only or full disk
        if not _is_path_error(error):
            raise
        print(f"error: {_path_error_message(error)}", file=sys.stderr)
        return 2


def _is_path_error(error: OSError) -> bool:
    """An OSError about a path the user gave, not a fault of the program."""
    import errno

    return isinstance(error, (PermissionError, NotADirectoryError, IsADirectoryError)) or \
        error.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG)


def _path_error_message(error: OSError) -> str:
    """``PATH: reason`` for an OSError raised by the system, its own text otherwise."""
    if error.filename is None or not error.strerror:
        return str(error)
    also = f" -> {error.filename2}" if error.filename2 is not None else ""
    return f"{error.filename}{also}: {error.strerror}"


if __name__ == "__main__":
    raise SystemExit(main())

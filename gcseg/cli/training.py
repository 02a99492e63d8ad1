"""Commands that train: demo, train, short-run, recipe-table, ablate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gcseg.cli.args import count, minutes, nested_settings, parse_setting, positive_minutes
from gcseg.config import VARIANTS


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
    from gcseg.train import RunLimits, TrainingInterrupted, train

    config = load_config(args.config)
    if args.data is not None:
        config.data.root = str(args.data)
    if config.data.root is None:
        raise FileNotFoundError(f"{args.config}: data.root is not set (or pass --data DIR)")
    pick_device(args.device)  # a misspelt or absent device, before any work
    try:
        max_seconds = None if args.max_minutes is None else 60 * args.max_minutes
        summary = train(config, args.out, resume=args.resume, device=args.device,
                        progress=not args.no_progress,
                        limits=RunLimits(stop_after=args.stop_after, max_seconds=max_seconds))
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


def _cmd_short_run(args: argparse.Namespace) -> int:
    from gcseg.data import DavisDataset
    from gcseg.runtime import pick_device
    from gcseg.short_run import learning_curve, recipe_config, short_run
    from gcseg.train import TrainingInterrupted, check_run_folder

    device = pick_device(args.device)
    overrides = nested_settings(args.override)
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
    data = config.data
    videos = DavisDataset(args.davis, data.year, args.split, data.resolution)
    curve = learning_curve(args.out, videos, device=str(device))
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

    from gcseg.ablation import Workers, format_record, run_ablation
    from gcseg.config import load_config, merge_settings
    from gcseg.runtime import pick_device
    from gcseg.train import check_run_folder

    config = load_config(args.config)
    if args.override:
        config = merge_settings(config, nested_settings(args.override), "--override")
        config.validate("--override")
    if args.data is not None:
        config.data.root = str(args.data)
    pick_device(args.device or "cpu")  # a misspelt or absent device, before any work
    check_run_folder(args.out)  # a folder (earlier runs in it are reused or resumed)
    command = "python -m gcseg " + shlex.join(args.argv)
    records = run_ablation(config, args.table, args.seeds, args.out, device=args.device or "cpu",
                           workers=Workers(args.jobs, args.threads), command=command)
    for table, record in records.items():
        print(format_record(record))
        print(f"wrote {args.out / (table + '.json')} and {args.out / (table + '.csv')}\n")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``demo``, ``train``, ``short-run``, ``recipe-table``, ``ablate``
    to the sub-parsers of ``python -m gcseg``."""
    demo = commands.add_parser("demo", help="the main job on the synthetic benchmark")
    demo.add_argument("--workdir", type=Path, default=Path("runs/demo"))
    demo.add_argument("--seed", type=count(0), default=0)
    demo.add_argument("--quick", action="store_true", help="a smaller benchmark (for tests)")
    demo.add_argument("--checkpoint", type=Path,
                      help="the trained model to segment with (default: the shipped "
                           "checkpoints/tiny_synthetic.pt)")
    demo.add_argument("--train-minutes", type=minutes,
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
    train.add_argument("--stop-after", type=count(1),
                       help="stop at this global step (checkpointed)")
    train.add_argument("--max-minutes", type=positive_minutes,
                       help="stop after the step during which this wall time ran out "
                            "(checkpointed; --resume continues)")
    train.set_defaults(run=_cmd_train)

    short = commands.add_parser(
        "short-run", help="train a fresh model from the foundation for M minutes, then score "
                          "its snapshots (J&F against wall time)")
    short.add_argument("--davis", required=True, type=Path, help="dataset root (train + val)")
    short.add_argument("--minutes", required=True, type=minutes, help="wall-time budget")
    short.add_argument("--out", required=True, type=Path, help="run folder (must be new)")
    short.add_argument("--recipe", choices=["cpu", "gpu"], help="default: by the device")
    short.add_argument("--variant", default="full", choices=VARIANTS)
    short.add_argument("--seed", type=count(0), default=0)
    short.add_argument("--override", action="append", type=parse_setting, metavar="KEY=VALUE",
                       help="override a setting of the recipe, e.g. train.lr=3e-4 (repeatable)")
    short.add_argument("--snapshots", type=count(1), default=5,
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
    ablate.add_argument("--seeds", nargs="+", type=count(0), default=[0, 1, 2],
                        help="training seeds, one run per row and seed (default: 0 1 2)")
    ablate.add_argument("--out", required=True, type=Path, help="results folder")
    ablate.add_argument("--data", type=Path, help="dataset root (overrides data.root)")
    ablate.add_argument("--override", action="append", type=parse_setting, metavar="KEY=VALUE",
                        help="override a setting of the config, e.g. "
                             "model.weights=runs/x/foundation.pt (repeatable)")
    ablate.add_argument("--device", help="cpu, cuda ... (default: cpu)")
    ablate.add_argument("--jobs", type=count(1), default=1, help="runs trained in parallel")
    ablate.add_argument("--threads", type=count(1), default=1, help="torch threads per run")
    ablate.set_defaults(run=_cmd_ablate)

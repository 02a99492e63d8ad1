"""Commands on results folders: baseline (write a trivial method's results), evaluate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gcseg.cli.args import add_dataset_arguments


def _cmd_baseline(args: argparse.Namespace) -> int:
    from gcseg.baselines import run_baseline
    from gcseg.data import DavisDataset

    dataset = DavisDataset(args.davis, year=args.year, split=args.split, resolution=args.resolution)
    out = run_baseline(args.method, dataset, args.out, overwrite=args.overwrite)
    print(f"{args.method} results for {len(dataset)} sequences written to {out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from gcseg.data import DavisDataset
    from gcseg.evaluation import check_csv_folder, evaluate

    out = args.out or args.results
    try:
        check_csv_folder(out)  # a file or a read-only folder is named before the work
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    dataset = DavisDataset(args.davis, year=args.year, split=args.split,
                           resolution=args.resolution)
    result = evaluate(dataset, args.results, score_all_frames=args.all_frames,
                      objects=args.objects)
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


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``baseline``, ``evaluate`` to the sub-parsers of ``python -m gcseg``."""
    baseline = commands.add_parser("baseline", help="write the results of a trivial baseline")
    add_dataset_arguments(baseline)
    baseline.add_argument("--method", default="copy-first", choices=["copy-first", "empty"])
    baseline.add_argument("--out", required=True, type=Path, help="results folder")
    baseline.add_argument("--overwrite", action="store_true",
                          help="replace an existing results folder (whole, at the end)")
    baseline.set_defaults(run=_cmd_baseline)

    evaluate = commands.add_parser("evaluate", help="score a results folder with J and F")
    add_dataset_arguments(evaluate)
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


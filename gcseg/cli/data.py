"""Commands on datasets: make-synthetic, validate, and ``data`` (check, convert-davis2016,
convert-youtube-objects) for the downloaded datasets of the paper's experiments."""

from __future__ import annotations

import argparse
from pathlib import Path

from gcseg.cli.args import MAX_FRAMES, add_dataset_arguments, count, parse_frames, parse_size


def _cmd_make_synthetic(args: argparse.Namespace) -> int:
    from gcseg.config import ConfigError
    from gcseg.data.synthetic import SyntheticSpec, make_synthetic

    if args.train == 0 and args.val == 0:
        raise ConfigError("make-synthetic --train 0 --val 0: nothing to write (ask for at "
                          "least one training or validation video)")
    spec = SyntheticSpec(seed=args.seed, n_train=args.train, n_val=args.val,
                         frames=args.frames, size=args.size)
    out = make_synthetic(args.out, spec, overwrite=args.overwrite, jobs=args.jobs)
    print(f"synthetic benchmark written to {out}")
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


def _cmd_data_check(args: argparse.Namespace) -> int:
    """0 when the folder is good (1 with ``--strict`` and warnings)."""
    from gcseg.data.davis_check import check_davis

    result = check_davis(args.davis, years=args.year, splits=args.split,
                         resolution=args.resolution, read_files=not args.layout_only,
                         progress=not args.no_progress)
    print(result.table())
    return 1 if args.strict and result.warnings else 0


def _cmd_data_convert_davis2016(args: argparse.Namespace) -> int:
    from gcseg.data.davis2016 import convert_davis2016

    splits = [split.strip() for split in args.splits.split(",") if split.strip()]
    report = convert_davis2016(args.src, args.out, resolution=args.resolution, splits=splits,
                               overwrite=args.overwrite, link=args.link,
                               progress=not args.no_progress)
    print(report.summary())
    return 0


def _cmd_data_convert_youtube_objects(args: argparse.Namespace) -> int:
    from gcseg.data.youtube_objects import ShotConversion, convert_youtube_objects

    options = ShotConversion(resolution=args.resolution, min_annotations=args.min_annotations,
                             resize_frames=args.resize_frames, link=args.link)
    report = convert_youtube_objects(args.src, args.out, options, overwrite=args.overwrite,
                                     progress=not args.no_progress)
    print(report.summary())
    return 0


def _add_check(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "check", help="check a downloaded DAVIS 2016/2017 folder against the official counts",
        description="Check a DAVIS 2016/2017 folder (layout, split files, one palette-PNG "
                    "annotation per frame, frame size = annotation size), print a summary per "
                    "split and compare it with the official counts.",
    )
    parser.add_argument("--davis", required=True, type=Path, help="DAVIS root folder")
    parser.add_argument("--year", action="append", choices=["2016", "2017"],
                        help="check this year (repeatable; default: every year with split files)")
    parser.add_argument("--set", dest="split", action="append",
                        help="check this split (repeatable; default: train and val)")
    parser.add_argument("--resolution", default="480p", help="resolution folder (default 480p)")
    parser.add_argument("--layout-only", action="store_true",
                        help="check folders and counts without reading every image")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when there are warnings")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(run=_cmd_data_check)


def _add_convert_davis2016(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "convert-davis2016", help="convert the original DAVIS-2016 release into the DAVIS layout",
        description="Convert the original DAVIS-2016 release (grayscale 0/255 masks, "
                    "ImageSets/480p/*.txt) into the DAVIS layout gcseg reads (palette PNGs with "
                    "object id 1, ImageSets/2016/{train,val}.txt).",
    )
    parser.add_argument("--src", required=True, type=Path, help="the release's DAVIS folder")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--resolution", default="480p", help="resolution folder (default 480p)")
    parser.add_argument("--splits", default="train,val",
                        help="comma-separated splits to convert (default train,val)")
    parser.add_argument("--link", action="store_true",
                        help="hard-link the JPEG frames instead of copying them")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(run=_cmd_data_convert_davis2016)


def _add_convert_youtube_objects(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "convert-youtube-objects",
        help="convert the YouTube-Objects segmentation ground truth into the DAVIS layout",
        description="Convert the YouTube-Objects segmentation ground truth (Jain & Grauman: "
                    "<class>/data/<video>/shots/<shot>/{images,labels}/) into the DAVIS layout: "
                    "frames renumbered, palette-PNG annotations for the annotated frames only.",
    )
    parser.add_argument("--src", required=True, type=Path,
                        help="folder holding the class folders (e.g. youtube_masks)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--resolution", default="480p",
                        help="name of the resolution folder written (default 480p)")
    parser.add_argument("--min-annotations", type=count(1), default=2,
                        help="skip shots with fewer annotated frames (default 2)")
    parser.add_argument("--resize-frames", action="store_true",
                        help="resize frames whose size differs from the masks' (bilinear)")
    parser.add_argument("--link", action="store_true",
                        help="hard-link JPEG frames instead of copying them")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(run=_cmd_data_convert_youtube_objects)


DATA_COMMANDS = {
    "check": _add_check,
    "convert-davis2016": _add_convert_davis2016,
    "convert-youtube-objects": _add_convert_youtube_objects,
}
"""The sub-commands of ``python -m gcseg data`` (the ``data_prep/`` scripts forward to them)."""


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``make-synthetic``, ``validate`` and ``data`` to the sub-parsers of
    ``python -m gcseg``."""
    make = commands.add_parser(
        "make-synthetic", help="write the synthetic VOS benchmark in the DAVIS layout"
    )
    make.add_argument("--out", required=True, type=Path, help="output folder")
    make.add_argument("--seed", type=count(0), default=0, help="benchmark seed (>= 0)")
    make.add_argument("--train", type=count(0), default=20, help="training videos (default 20)")
    make.add_argument("--val", type=count(0), default=10, help="validation videos (default 10)")
    make.add_argument("--frames", type=parse_frames, default=(24, 40),
                      help=f"T or MIN-MAX, from 2 to {MAX_FRAMES} (default 24-40)")
    make.add_argument("--size", type=parse_size, default=(240, 432), help="HxW (default 240x432)")
    make.add_argument("--jobs", type=count(1), default=1,
                      help="processes rendering videos side by side (default 1; the files "
                           "are the same for any number)")
    make.add_argument("--overwrite", action="store_true",
                      help="replace an existing dataset written by make-synthetic")
    make.set_defaults(run=_cmd_make_synthetic)

    validate = commands.add_parser("validate", help="read every file of a dataset split once")
    add_dataset_arguments(validate)
    validate.set_defaults(run=_cmd_validate)

    data = commands.add_parser(
        "data", help="check a downloaded DAVIS folder; convert DAVIS-2016 and YouTube-Objects",
        description="Prepare the real datasets of the paper's experiments (Section IV-A); see "
                    "docs/reproduce_davis.md.",
    )
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    for add in DATA_COMMANDS.values():
        add(data_commands)

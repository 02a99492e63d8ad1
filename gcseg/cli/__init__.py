"""The command line: ``python -m gcseg <command> ...``.

Every job a notebook does has a command here, so the same work runs on a server::

    python -m gcseg make-synthetic --out data/synthetic
    python -m gcseg baseline --davis data/synthetic --out runs/copy-first
    python -m gcseg evaluate --davis data/synthetic --results runs/copy-first
    python -m gcseg demo
    python -m gcseg ablate --table V --config configs/ablation_foundation.yaml --out results/abl
    python -m gcseg describe --preset tiny
    python -m gcseg bench --quick

Each command is a small function taking the parsed arguments, grouped by what it works on:
:mod:`gcseg.cli.data` (datasets), :mod:`gcseg.cli.results` (results folders),
:mod:`gcseg.cli.training`, :mod:`gcseg.cli.models` (trained models), :mod:`gcseg.cli.bench`
(speed); shared argument types are in :mod:`gcseg.cli.args`.  The work itself lives in the
library modules, imported when the command runs so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from gcseg.cli import bench, data, models, results, training

COMMAND_GROUPS = (data, results, training, models, bench)
"""The modules that add commands, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m gcseg`` (one sub-parser per command)."""
    parser = argparse.ArgumentParser(
        prog="python -m gcseg",
        description="GCSeg: guided co-segmentation for semi-supervised video object segmentation",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
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

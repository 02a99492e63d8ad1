"""The folder of a run: what it holds, and the check that a new run does not write over one."""

from __future__ import annotations

import os
from pathlib import Path

from gcseg.config import ConfigError, GCSegConfig, config_differences

__all__ = ["RUN_FILES", "check_run_folder"]

RUN_FILES = ("checkpoint.pt", "log.csv", "eval.csv", "summary.json", "snapshots", "val_results")
"""What a run writes into its folder besides ``config.yaml``: a new run refuses a folder holding
any of them (``config.yaml`` alone is allowed, a config kept beside its run)."""


def check_run_folder(out_dir: str | os.PathLike, config: GCSegConfig | None = None,
                     option: str = "--out", resumable: bool = True) -> Path:
    """Check that a run can write into ``out_dir``; returns it as a path.

    ``out_dir`` (and the nearest of its parents that exists) must be a folder.  With ``config``
    (a new run), the folder must hold none of an earlier run's files (:data:`RUN_FILES`; a
    ``config.yaml`` only when it is this config): a new run would append to its ``log.csv`` and
    replace its checkpoint.  :class:`FileExistsError` otherwise, naming what is there, the
    command-line ``option`` that chose the folder and, when the command can resume
    (``resumable``) and there is a checkpoint, ``--resume``."""
    out_dir = Path(out_dir)
    for folder in (out_dir, *out_dir.parents):
        if folder.exists() or folder.is_symlink():
            if folder == out_dir and not folder.is_dir():
                raise FileExistsError(f"{out_dir}: exists and is a file, not a folder; "
                                      f"choose another {option}")
            if not folder.is_dir():
                raise FileExistsError(f"{out_dir}: the folder cannot be made: {folder} is "
                                      f"a file; choose another {option}")
            break
    if config is None or not out_dir.is_dir():
        return out_dir
    earlier = [name for name in RUN_FILES if (out_dir / name).exists()]
    saved = out_dir / "config.yaml"
    if saved.is_file():
        try:
            same = not config_differences(GCSegConfig.from_yaml(saved), config)
        except (ConfigError, OSError):
            same = False
        if not same:
            earlier.append("config.yaml of another config")
    if earlier:
        resume = resumable and (out_dir / "checkpoint.pt").is_file()
        raise FileExistsError(
            f"{out_dir}: an earlier run exists there ({', '.join(earlier)}): "
            + (f"pass --resume to continue it, or choose another {option}" if resume else
               f"choose another {option} (or remove those files)"))
    return out_dir


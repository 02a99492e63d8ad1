"""Run-time switches read in one place: quick mode, the device, seeding, provenance.

- ``GCSEG_QUICK=1`` (set by the tests) makes notebooks and demos shrink sizes and iterations
  through :func:`quick_mode` / :func:`pick`, instead of ``if`` statements scattered in cells.
- :func:`pick_device` returns CUDA when present and the CPU otherwise.
"""

from __future__ import annotations

import json
import os
import platform
import random
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

__all__ = [
    "quick_mode",
    "pick",
    "pick_device",
    "configure_threads",
    "seed_everything",
    "git_commit",
    "provenance",
    "write_json",
]

T = TypeVar("T")


def quick_mode() -> bool:
    """True when ``GCSEG_QUICK`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get("GCSEG_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def pick(default: T, quick: T) -> T:
    """``quick`` in quick mode, ``default`` otherwise: ``steps = pick(2000, 20)``."""
    return quick if quick_mode() else default


def pick_device(preferred: str | None = None) -> torch.device:
    """``preferred`` when given, else CUDA when available, else the CPU."""
    if preferred:
        return torch.device(preferred)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads() -> int:
    """Apply ``GCSEG_THREADS`` (when set) to torch's CPU threads; return the count in use.

    On a machine busy with other work (a CI box running tests, a laptop with other jobs),
    several OpenMP threads working on small tensors mostly wait for each other: one thread can
    be many times faster.  ``make test`` sets ``GCSEG_THREADS=1``; unset, torch's default stays.
    """
    value = os.environ.get("GCSEG_THREADS", "").strip()
    if value:
        try:
            count = int(value)
        except ValueError:
            raise ValueError(f"GCSEG_THREADS must be a positive integer, got {value!r}") from None
        if count < 1:
            raise ValueError(f"GCSEG_THREADS must be a positive integer, got {value!r}")
        torch.set_num_threads(count)
    return torch.get_num_threads()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """The commit of the working tree holding ``path`` (``+dirty`` when modified), or None.

    The environment variable ``GCSEG_COMMIT``, when set, names it instead: a copy of the tree
    sent to another machine may have no repository, or an older one beside it."""
    if os.environ.get("GCSEG_COMMIT"):
        return os.environ["GCSEG_COMMIT"]
    cwd = Path(path or Path(__file__).parent)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance(device: torch.device | str | None = None) -> dict[str, object]:
    """Where a number came from: commit, device, torch version, threads, host platform."""
    device = torch.device(device) if device is not None else pick_device()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    return {
        "commit": git_commit(),
        "device": str(device),
        "device_name": name or platform.machine(),
        "torch": str(torch.__version__),
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }


def write_json(path: str | os.PathLike, data: object) -> Path:
    """Write ``data`` as indented JSON through a temporary file, then rename: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path


@contextmanager
def staged_folder(out: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary sibling of folder ``out``; when the block succeeds it replaces
    ``out`` (renamed into place). On any error the temporary folder is removed and ``out`` is
    left as it was: a half-written dataset never replaces a good one."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    partial.mkdir()
    try:
        yield partial
        if out.exists():
            retired = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
            out.rename(retired)
            partial.rename(out)
            shutil.rmtree(retired)
        else:
            partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise

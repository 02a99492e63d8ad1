"""Run-time switches read in one place: quick mode, the device, seeding, provenance.

- ``GCSEG_QUICK=1`` (set by the tests) makes notebooks and demos shrink sizes and iterations
  through :func:`quick_mode` / :func:`pick`, instead of ``if`` statements scattered in cells.
- :func:`pick_device` returns CUDA when present and the CPU otherwise, and checks a device
  asked for by name (:class:`DeviceError` listing the devices there are).

Files and folders are written by :mod:`gcseg.files`.
"""

from __future__ import annotations

import os
import platform
import random
import subprocess
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

__all__ = [
    "quick_mode",
    "pick",
    "DeviceError",
    "available_devices",
    "pick_device",
    "configure_threads",
    "seed_everything",
    "git_commit",
    "provenance",
]

T = TypeVar("T")


def quick_mode() -> bool:
    """True when ``GCSEG_QUICK`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get("GCSEG_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def pick(default: T, quick: T) -> T:
    """``quick`` in quick mode, ``default`` otherwise: ``steps = pick(2000, 20)``."""
    return quick if quick_mode() else default


class DeviceError(ValueError):
    """A device was asked for that is misspelt or absent here; the message lists those there are."""


def available_devices() -> list[str]:
    """The devices torch can use here: ``cpu``, then ``cuda:0`` ... and ``mps`` when present."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """``preferred`` when given, else CUDA when available, else the CPU.

    A misspelt name (``cdua``) or a device absent here (``cuda`` without a GPU, ``cuda:3`` on a
    machine with two) raises :class:`DeviceError` listing :func:`available_devices`, before any
    work starts, instead of a traceback from the first tensor moved there."""
    if not preferred:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    available = ", ".join(available_devices())
    try:
        device = torch.device(preferred)
    except (RuntimeError, ValueError, TypeError):
        raise DeviceError(f"device {str(preferred)!r} is not a device name "
                          f"(available here: {available})") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"device {str(preferred)!r}: CUDA is not available on this "
                              f"machine (available here: {available})")
        if device.index is not None and device.index >= count:
            raise DeviceError(f"device {str(preferred)!r}: this machine has {count} CUDA "
                              f"device(s) (available here: {available})")
        return device
    if device.type == "mps" and "mps" in available_devices():
        return device
    raise DeviceError(f"device {str(preferred)!r} is not available here "
                      f"(available here: {available})")


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

"""Run-time switches read in one place: quick mode, the device, seeding, provenance.

- ``GCSEG_QUICK=1`` (set by the tests) makes notebooks and demos shrink sizes and iterations
  through :func:`quick_mode` / :func:`pick`, instead of ``if`` statements scattered in cells.
- :func:`pick_device` returns CUDA when present and the CPU otherwise, and checks a device
  asked for by name (:class:`DeviceError` listing the devices there are).

Outputs are written so that what exists is never lost:

- :func:`write_json` writes through a temporary file and a rename, and never writes ``NaN`` or
  ``Infinity`` (not JSON): a non-finite number is written as ``null``, "undefined" (a rate over
  zero timed frames, the spread of a single value).
- :func:`staged_folder` writes a whole output folder (a dataset, a results folder) into a
  staging folder beside it and swaps it in at the end, so a killed run leaves the old folder
  intact and nothing mixed.  An existing non-empty folder is replaced only with ``overwrite``,
  only when it is of the kind the command writes (``replaceable``, e.g.
  :func:`check_results_folder`), and never when it is, holds or lies in the command's input.
  Staging folders of killed runs are removed at the next start (:func:`clean_stale_staging`).
- :func:`check_output_file` does the same checks for a single output file (``export``).
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
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
    "write_json",
    "process_alive",
    "make_folder",
    "check_output_file",
    "check_output_folder",
    "check_results_folder",
    "dataset_inputs",
    "clean_stale_staging",
    "staged_folder",
    "results_folder",
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


def _json_safe(value: object) -> object:
    """``value`` with every non-finite float (NaN, +-inf) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def write_json(path: str | os.PathLike, data: object) -> Path:
    """Write ``data`` as indented JSON through a temporary file, then rename: never half a file.

    The file is always valid JSON: a non-finite float (``nan``, ``inf``) is written as ``null``,
    meaning "undefined" (a rate over zero timed frames, the standard deviation of one seed),
    never as the bare ``NaN`` / ``Infinity`` that JSON readers other than Python's reject."""
    path = Path(path)
    make_folder(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(_json_safe(data), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- outputs


def process_alive(pid: int) -> bool:
    """True unless no process ``pid`` runs on this machine (this process counts as alive).

    Used to tell the temporary files and staging folders of a killed run (their names carry
    the writer's process id) from those of a run still writing.  Where it cannot be known
    (Windows, where ``os.kill(pid, 0)`` would end the process) the answer is True: keep it."""
    if pid <= 0:
        return False
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def make_folder(folder: str | os.PathLike) -> Path:
    """``mkdir -p folder``, with an error that names ``folder`` and what is in the way."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()),
                       None)
        where = f"{blocker} is a file, not a folder" if blocker else "a file is in the way"
        raise NotADirectoryError(f"{folder}: cannot create the folder: {where}") from None
    except PermissionError as error:
        raise PermissionError(f"{folder}: cannot create the folder: permission denied "
                              f"({error.filename})") from None
    return folder


def _same_path(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file or folder (links and hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _check_creatable(out: Path) -> None:
    """Raise NotADirectoryError / PermissionError naming ``out`` when the nearest existing
    folder above it is a file or cannot be written (a read-only folder or file system)."""
    above = next((p for p in out.absolute().parents if p.exists() or p.is_symlink()), None)
    if above is None:
        return
    if not above.is_dir():
        raise NotADirectoryError(f"{out}: cannot be created: {above} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        raise PermissionError(f"{out}: cannot be written: {above} is read-only "
                              "(or not writable by this user)")


def check_output_file(out: str | os.PathLike, overwrite: bool,
                      inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse to write file ``out`` when it is one of ``inputs`` (after resolving links; not
    even ``overwrite`` allows it), a folder, or an existing file without ``overwrite``.

    Raises FileExistsError or IsADirectoryError naming ``out`` and the fault."""
    out = Path(out)
    for source in map(Path, inputs):
        if _same_path(out, source):
            raise FileExistsError(f"{out}: is the command's own input ({source}): choose "
                                  "another --out (not even --overwrite replaces an input)")
    if out.is_dir():
        raise IsADirectoryError(f"{out}: is a folder; --out names a file here")
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise FileExistsError(f"{out}: exists: choose another --out or pass --overwrite "
                              "to replace it")
    _check_creatable(out)
    return out


def _overlaps(out: Path, source: Path) -> bool:
    """``out`` is ``source``, lies inside it or holds it (links resolved)."""
    out, source = out.resolve(), source.resolve()
    return out == source or out in source.parents or source in out.parents


def check_output_folder(out: str | os.PathLike, overwrite: bool,
                        replaceable: Callable[[Path], None] | None = None,
                        inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse to write folder ``out`` (as a whole) when

    - it is, lies inside or holds one of ``inputs`` (not even ``overwrite`` allows it);
    - it exists and is not a folder, or cannot be created there (a file above it, a
      read-only folder);
    - it is a non-empty folder and ``overwrite`` is false, or ``replaceable(out)`` raises
      (it is not a folder of the kind the command writes).

    Raises FileExistsError (or what ``replaceable`` raises) naming ``out`` and the fault."""
    out = Path(out)
    for source in map(Path, inputs):
        if _overlaps(out, source):
            raise FileExistsError(f"{out}: is, holds or lies in the command's input {source}: "
                                  "choose another --out (not even --overwrite allows it)")
    if (out.exists() or out.is_symlink()) and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a folder: choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out}: folder exists and is not empty: choose another "
                                  "--out or pass --overwrite to replace it (overwrite=True)")
        if replaceable is not None:
            replaceable(out)
    _check_creatable(out)  # the staging folder and the swap are written beside ``out``
    return out


RESULT_FILE_SUFFIXES = (".json", ".csv", ".png")
"""Files a results folder holds beside its sequence folders (timing, scores, figures)."""


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


def check_results_folder(folder: str | os.PathLike) -> None:
    """Raise FileExistsError unless ``folder`` looks like a results folder, the only kind
    ``segment`` and ``baseline`` replace: sequence folders holding PNG masks only, and
    ``.json``/``.csv``/``.png`` files (``timing.json``, the evaluator's CSVs, figures)."""
    folder = Path(folder)

    def refuse(entry: Path) -> None:
        raise FileExistsError(
            f"{folder}: not a results folder ({entry.relative_to(folder)} is neither a "
            f"sequence folder of PNG masks nor a {'/'.join(RESULT_FILE_SUFFIXES)} file): "
            "--overwrite replaces only results; choose another --out or remove it yourself")

    for entry in folder.iterdir():
        if _is_temporary(entry):
            continue
        if entry.is_symlink():
            refuse(entry)
        elif entry.is_dir():
            for item in entry.iterdir():
                if not (_is_temporary(item) or item.suffix.lower() == ".png"
                        and item.is_file() and not item.is_symlink()):
                    refuse(item)
        elif not (entry.is_file() and entry.suffix.lower() in RESULT_FILE_SUFFIXES):
            refuse(entry)


def dataset_inputs(dataset: object) -> list[Path]:
    """The input folders and files of a dataset (a :class:`~gcseg.data.davis.DavisDataset`:
    its frames, annotations and split file) that a results folder may not be, hold or lie in;
    ``[]`` for an object without them (a plain list of sequences)."""
    names = ("image_dir", "annotation_dir", "split_file")
    return [Path(path) for path in (getattr(dataset, name, None) for name in names)
            if path is not None]


STAGING_KINDS = ("partial", "old")
"""``.<name>.partial-<pid>-<hex>``: a folder being written for ``<name>``;
``.<name>.old-<pid>-<hex>``: the folder it replaced, removed once the new one is in place."""


def _staging_path(out: Path, kind: str) -> Path:
    return out.parent / f".{out.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def clean_stale_staging(out: str | os.PathLike) -> list[Path]:
    """Remove the staging folders of killed runs beside ``out``; returns them.

    Only folders named as :func:`staged_folder` names them for this ``out`` are touched, and
    only those whose process no longer runs (:func:`process_alive`; names without a process id,
    of earlier versions, count as stale).  A run killed between its two renames leaves ``out``
    missing and the previous folder as ``.old``: that folder is renamed back to ``out``."""
    out = Path(out)
    if not out.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(out.name)}\.({'|'.join(STAGING_KINDS)})"
                         rf"-(?:(\d+)-)?[0-9a-f]{{8}}")
    stale: list[tuple[str, Path]] = []
    for entry in out.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir():
            continue
        if match.group(2) is not None and process_alive(int(match.group(2))):
            continue
        stale.append((match.group(1), entry))
    if not out.exists() and not out.is_symlink():
        previous = sorted((path for kind, path in stale if kind == "old"),
                          key=lambda path: path.stat().st_mtime)
        if previous:
            previous[-1].rename(out)
            stale = [(kind, path) for kind, path in stale if path != previous[-1]]
    for _, path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return [path for _, path in stale]


@contextmanager
def staged_folder(out: str | os.PathLike, overwrite: bool = True,
                  replaceable: Callable[[Path], None] | None = None,
                  inputs: Iterable[str | os.PathLike] = ()) -> Iterator[Path]:
    """Yield a fresh staging folder beside folder ``out``; when the block succeeds it replaces
    ``out`` whole (renamed into place), so a reader sees the old folder or the new one, never a
    mix.  On any error the staging folder is removed and ``out`` is left as it was; a run killed
    outright (SIGKILL, SIGTERM) leaves its staging folder, removed at the next start.

    Before anything is written: stale staging folders of ``out`` are cleaned
    (:func:`clean_stale_staging`) and ``out`` is checked (:func:`check_output_folder`): never
    one of ``inputs``; a non-empty folder only with ``overwrite`` (the default, for callers
    that checked it themselves) and only when ``replaceable(out)`` does not raise.  A link
    ``out`` is followed: the folder it points to is replaced."""
    out = Path(out)
    if out.is_symlink() and out.is_dir():
        out = out.resolve()
    clean_stale_staging(out)
    check_output_folder(out, overwrite, replaceable, inputs)
    make_folder(out.parent)
    partial = _staging_path(out, "partial")
    partial.mkdir()
    try:
        yield partial
        if out.exists():
            retired = _staging_path(out, "old")
            out.rename(retired)
            try:
                partial.rename(out)
            except BaseException:
                retired.rename(out)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def results_folder(out: str | os.PathLike, overwrite: bool = True,
                   inputs: Iterable[str | os.PathLike] = ()) -> AbstractContextManager[Path]:
    """:func:`staged_folder` for a results folder (``segment``, ``baseline``): an existing one
    is replaced only when :func:`check_results_folder` recognises it."""
    return staged_folder(out, overwrite, replaceable=check_results_folder, inputs=inputs)

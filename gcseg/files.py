"""Files and folders written so that what exists is never lost: the one home of every writer.

- :func:`atomic_write` writes a file through a temporary file beside it and a rename, so an
  interrupted write never replaces a good file with half a file.  The temporary file is
  ``.<name>.<pid>.<random>.tmp``; one left by a writer killed outright (SIGTERM, SIGKILL) is
  removed by the next write of ``<name>`` there (:func:`remove_stale_temporaries`).  The file
  gets the mode a plain ``open`` would give (:func:`public_file_mode`, 0644 under the usual
  umask), not ``mkstemp``'s private 0600.  :func:`write_text` and :func:`write_json` use it;
  checkpoints, frames, masks and CSV files too.
- :func:`write_json` never writes ``NaN`` or ``Infinity`` (not JSON): a non-finite number is
  written as ``null``, "undefined" (a rate over zero timed frames, the spread of one value).
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
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

__all__ = [
    "public_file_mode",
    "atomic_write",
    "write_text",
    "write_json",
    "remove_stale_temporaries",
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

STALE_AFTER_SECONDS = 3600
"""Age after which a temporary file without a process id in its name counts as stale."""


def public_file_mode() -> int:
    """The mode ``open()`` would give a new file: ``0o666`` less the process umask (usually 0644).

    Atomic writers create their temporary file with :func:`tempfile.mkstemp`, which makes it
    private (0600); they set this mode before renaming it into place.
    """
    try:  # Linux: read it without touching it (os.umask is process-wide, not thread-safe)
        with open("/proc/self/status", encoding="utf-8", errors="replace") as handle:
            line = next(line for line in handle if line.startswith("Umask:"))
        umask = int(line.split()[1], 8)
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)  # elsewhere: the only way to read it is to set it
        os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write file ``path`` whole or not at all: ``write(tmp)`` fills a temporary file in the
    same folder, which is then renamed over ``path``.

    The folder is created; temporary files of earlier writes of ``path`` that were killed are
    removed first.  Errors name ``path``: PermissionError when the folder cannot be written,
    FileExistsError when something that cannot be replaced (a folder) is in the way."""
    path = Path(path)
    make_folder(path.parent)
    remove_stale_temporaries(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                        dir=path.parent)
    except OSError as error:
        raise PermissionError(f"{path}: cannot be written ({error.strerror or error})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, public_file_mode())
        try:
            os.replace(tmp, path)
        except OSError as error:  # e.g. a folder of that name is in the way
            raise FileExistsError(
                f"{path}: cannot be replaced by the new file ({error.strerror or error})"
            ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` with :func:`atomic_write`."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


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
    """Write ``data`` as indented JSON with :func:`atomic_write`: never half a file.

    The file is always valid JSON: a non-finite float (``nan``, ``inf``) is written as ``null``,
    meaning "undefined" (a rate over zero timed frames, the standard deviation of one seed),
    never as the bare ``NaN`` / ``Infinity`` that JSON readers other than Python's reject."""
    return write_text(path, json.dumps(_json_safe(data), indent=2, allow_nan=False) + "\n")


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed writes of ``path`` left beside it; returns them.

    Only ``.<name>.<pid>.<random>.tmp`` files whose process no longer runs, and
    ``.<name>.<random>.tmp`` (earlier versions) older than :data:`STALE_AFTER_SECONDS`."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?[A-Za-z0-9_]+\.tmp")
    removed = []
    for entry in path.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if not match or not entry.is_file() or entry.is_symlink():
            continue
        if match.group(1) is not None:
            stale = not process_alive(int(match.group(1)))
        else:
            try:
                stale = time.time() - entry.stat().st_mtime > STALE_AFTER_SECONDS
            except OSError:
                stale = False
        if stale:
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


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

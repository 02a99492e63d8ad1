"""Checking one input file before reading it: a regular file, a decodable image, UTF-8 text.

Every dataset reader and converter of :mod:`gcseg.data` opens its files through these
functions, so a problem always surfaces as a :class:`DavisFormatError` whose message starts with
the path of the file at fault (a FIFO, a folder, an empty or truncated file, a broken image,
metadata that is not UTF-8), never as an obscure library error or a reader that blocks.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from PIL import Image, UnidentifiedImageError

__all__ = [
    "DavisFormatError",
    "check_regular_file",
    "image_size",
    "open_image",
    "read_text",
]


class DavisFormatError(ValueError):
    """A file or folder does not follow the DAVIS layout; the message names it."""


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)

_IMAGE_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
                 ValueError)
"""What Pillow raises for a file that is not a (whole) image."""


def check_regular_file(path: str | os.PathLike, *, allow_empty: bool = False) -> Path:
    """Raise :class:`DavisFormatError` naming ``path`` unless it is a readable regular file.

    Checked with ``stat`` before anything opens it: a FIFO in place of an image would block the
    reader forever, a folder or a device would give an obscure error.  A zero-byte file is
    refused too unless ``allow_empty``.  Symbolic links are followed.  Returns ``Path(path)``.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DavisFormatError(f"{path}: file not found") from None
    except OSError as error:
        raise DavisFormatError(f"{path}: cannot read ({error.strerror or error})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "special file")
        raise DavisFormatError(f"{path}: is {kind}, not a regular file")
    if info.st_size == 0 and not allow_empty:
        raise DavisFormatError(f"{path}: empty file (0 bytes)")
    return path


def open_image(path: Path) -> Image.Image:
    """The image at ``path``, decoded whole (a truncated file is caught here)."""
    check_regular_file(path)
    try:
        image = Image.open(path)
        image.load()
    except _IMAGE_ERRORS as error:
        raise DavisFormatError(f"{path}: cannot read image ({error})") from error
    return image


def image_size(path: Path) -> tuple[int, int]:
    """``(H, W)`` of an image from its header (the pixels are not decoded)."""
    check_regular_file(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
    except _IMAGE_ERRORS as error:
        raise DavisFormatError(f"{path}: cannot read image ({error})") from error
    return height, width


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of a small metadata file; a named error (ending with ``what`` the file
    should hold) when it is not UTF-8."""
    check_regular_file(path, allow_empty=True)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        bad = error.object[error.start : error.start + 1].hex()
        raise DavisFormatError(
            f"{path}: not UTF-8 text (byte 0x{bad} at offset {error.start}); {what}"
        ) from None

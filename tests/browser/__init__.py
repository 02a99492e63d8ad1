"""Tests in a real browser (``make test-browser``): headless Chromium from Debian's package,
driven by playwright from PyPI. Skipped unless ``GCSEG_BROWSER_TEST=1``; then a missing
browser or driver fails them with what to install."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = os.environ.get("GCSEG_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("GCSEG_BROWSER_TEST") == "1"


def missing() -> str | None:
    """What the browser tests lack, or ``None``."""
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[browser]')"
    return None

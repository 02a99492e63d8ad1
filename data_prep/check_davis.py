"""Check a downloaded DAVIS 2016 or 2017 folder before training or evaluating on it.

    python data_prep/check_davis.py --davis data/DAVIS
    python data_prep/check_davis.py --davis data/DAVIS --year 2017 --set val --strict

Reads the folder with gcseg's own DAVIS reader (layout, split files, one palette-PNG annotation
per frame, frame size = annotation size), prints sequences, frames, objects and frame sizes per
split and warns where they differ from the official release.  A format error exits with status 2
and names the file.  The logic is :func:`gcseg.data.prepare.check_davis`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's gcseg

from gcseg.data.prepare import check_davis_main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(check_davis_main())

"""Check a downloaded DAVIS 2016 or 2017 folder before training or evaluating on it.

    python data_prep/check_davis.py --davis data/DAVIS
    python data_prep/check_davis.py --davis data/DAVIS --year 2017 --set val --strict

Reads the folder with gcseg's own DAVIS reader (layout, split files, one palette-PNG annotation
per frame, frame size = annotation size), prints sequences, frames, objects and frame sizes per
split and warns where they differ from the official release.  A format error exits with status 2
and names the file.  The same as ``python -m gcseg data check`` (needs gcseg installed:
``pip install -e .``); the logic is :func:`gcseg.data.davis_check.check_davis`.
"""

import sys

from gcseg.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["data", "check", *sys.argv[1:]]))

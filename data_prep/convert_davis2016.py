"""Convert the original DAVIS-2016 release into the DAVIS layout that gcseg reads.

    python data_prep/convert_davis2016.py --src downloads/DAVIS --out data/DAVIS2016

The release stores grayscale masks (0 background, 255 the object) and split files
``ImageSets/480p/{train,val}.txt`` of frame/annotation path pairs.  gcseg reads palette PNGs, in
which 255 means *void*; this writes palette PNGs with object id 1, copies (or ``--link``s) the
JPEG frames and writes ``ImageSets/2016/{train,val}.txt``.  The output is built in a temporary
folder and renamed into place; an existing output is replaced only with ``--overwrite``.
The logic is :func:`gcseg.data.prepare.convert_davis2016`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's gcseg

from gcseg.data.prepare import convert_davis2016_main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(convert_davis2016_main())

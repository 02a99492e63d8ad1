"""Convert the original DAVIS-2016 release into the DAVIS layout that gcseg reads.

    python data_prep/convert_davis2016.py --src downloads/DAVIS --out data/DAVIS2016

The release stores grayscale masks (0 background, 255 the object) and split files
``ImageSets/480p/{train,val}.txt`` of frame/annotation path pairs.  gcseg reads palette PNGs, in
which 255 means *void*; this writes palette PNGs with object id 1, copies (or ``--link``s) the
JPEG frames and writes ``ImageSets/2016/{train,val}.txt``.  The output is built in a temporary
folder and renamed into place; an existing output is replaced only with ``--overwrite``.
The same as ``python -m gcseg data convert-davis2016`` (needs gcseg installed:
``pip install -e .``); the logic is :func:`gcseg.data.davis2016.convert_davis2016`.
"""

import sys

from gcseg.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["data", "convert-davis2016", *sys.argv[1:]]))

"""Convert the YouTube-Objects segmentation ground truth into the DAVIS layout.

    python data_prep/convert_youtube_objects.py --src downloads/youtube_masks --out data/YTO

Reads Jain & Grauman's release (``<class>/data/<video>/shots/<shot>/images/`` frames beside
``labels/`` masks of about every 10th frame), or shot folders holding ``.jpg`` frames and
``.png`` masks side by side.  Each shot becomes one sequence, from its first to its last
annotated frame, frames renumbered ``00000.jpg, ...``, palette-PNG annotations (object id 1) for
the annotated frames only; ``youtube_objects.json`` lists them.  The output is built in a
temporary folder and renamed into place; an existing output is replaced only with
``--overwrite``.  The same as ``python -m gcseg data convert-youtube-objects`` (needs gcseg
installed: ``pip install -e .``); the logic is
:func:`gcseg.data.youtube_objects.convert_youtube_objects`.
"""

import sys

from gcseg.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["data", "convert-youtube-objects", *sys.argv[1:]]))

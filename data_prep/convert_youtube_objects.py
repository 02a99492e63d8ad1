"""Convert the YouTube-Objects segmentation ground truth into the DAVIS layout.

    python data_prep/convert_youtube_objects.py --src downloads/youtube_masks --out data/YTO

Reads Jain & Grauman's release (``<class>/data/<video>/shots/<shot>/images/`` frames beside
``labels/`` masks of about every 10th frame), or shot folders holding ``.jpg`` frames and
``.png`` masks side by side.  Each shot becomes one sequence, from its first to its last
annotated frame, frames renumbered ``00000.jpg, ...``, palette-PNG annotations (object id 1) for
the annotated frames only; ``youtube_objects.json`` lists them.  The output is built in a
temporary folder and renamed into place; an existing output is replaced only with
``--overwrite``.  The logic is :func:`gcseg.data.prepare.convert_youtube_objects`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's gcseg

from gcseg.data.prepare import convert_youtube_objects_main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(convert_youtube_objects_main())

"""Pictures for the notebooks and reports: plain functions returning arrays or figures.

One submodule per topic (``frames`` for overlays and GIFs, and one per notebook topic); import
from the submodule, e.g. ``from gcseg.viz.frames import overlay``.  The most used ones are
re-exported here.  Everything works headless (Agg backend) and is unit-tested.
"""

from gcseg.viz.frames import contour, label_strip, overlay, save_gif, side_by_side

__all__ = ["contour", "label_strip", "overlay", "save_gif", "side_by_side"]

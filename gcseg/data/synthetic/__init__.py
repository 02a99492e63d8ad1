"""The built-in synthetic VOS benchmark, written in exactly the DAVIS layout.

Real DAVIS is a multi-gigabyte download; a student who wants to see every stage of GCSeg run
end to end needs a small benchmark that is generated in seconds, has the same folder layout (so
the readers and the evaluator run on the same code path as on DAVIS), and shows the challenges
the paper's parts are meant for:

- the Reference Module and the Adaptive Search (Sections III-A-4 and III-B) matter when objects
  get occluded, leave the frame and come back (``OCC``, ``OV``, ``DR``);
- the Co-segmentation Module (Section III-A-3) must tell the target from look-alikes (``SD``);
- objects move fast, change scale and shape (``FM``, ``SV``, ``DEF``), with several objects per
  video (``MO``, DAVIS 2017) and a moving camera (``CM``).

Each video is a background cut from a real photograph (``skimage.data``) seen through a slowly
panning and zooming camera, with 1-3 annotated objects in front of it: random shapes (ellipses,
polygons, Fourier blobs) textured with crops of *other* photographs, drawn back to front so that
the masks hold what is visible.  Unannotated layers add look-alike distractors (same texture and
shape family as a target) and occluders.  The challenges are planned at random and then
**measured** from the rendered masks (see :data:`ATTRIBUTE_CODES` for the exact rules), so a
video is tagged ``DR`` only if an object's mask really becomes empty and non-empty again.

The steps, one module each:

- :mod:`~gcseg.data.synthetic.shapes` -- photographs, shapes, rasterisation;
- :mod:`~gcseg.data.synthetic.plan` -- a random scene plan: camera, layers and their motion;
- :mod:`~gcseg.data.synthetic.render` -- :func:`render_video`: frames and masks in memory;
- :mod:`~gcseg.data.synthetic.attributes` -- the challenges measured on the rendering;
- :mod:`~gcseg.data.synthetic.dataset` -- :func:`make_synthetic`: both splits on disk.

Output (``make_synthetic``)::

    <out>/JPEGImages/480p/syn-train-000/00000.jpg ...   frames (the folder is named 480p as in
    <out>/Annotations/480p/syn-train-000/00000.png ...  DAVIS, whatever ``size`` is)
    <out>/ImageSets/2017/{train,val}.txt                 the same lists for 2016 (objects merged)
    <out>/ImageSets/2016/{train,val}.txt
    <out>/attributes.json    {"codes": {CODE: description}, "sequences": {seq: [CODE, ...]}}
    <out>/synthetic.json     parameters, seed, format version, per-object summaries; its
                             ``generator`` field marks a folder ``--overwrite`` may replace

The same arguments give byte-identical files (with the same numpy, OpenCV, Pillow and
scikit-image): every video draws from its own ``numpy.random.SeedSequence(seed,
spawn_key=(split, index))``, so the splits never share a random stream and adding videos does
not change the earlier ones.
"""

from gcseg.data.synthetic.attributes import (
    ATTRIBUTE_CODES,
    THRESHOLDS,
    ObjectInfo,
    camera_motion,
    measure_attributes,
)
from gcseg.data.synthetic.dataset import (
    FORMAT_VERSION,
    SPLITS,
    SyntheticSpec,
    check_synthetic_folder,
    make_synthetic,
    sequence_name,
)
from gcseg.data.synthetic.render import RenderedVideo, render_video

__all__ = [
    "ATTRIBUTE_CODES",
    "FORMAT_VERSION",
    "SPLITS",
    "THRESHOLDS",
    "ObjectInfo",
    "RenderedVideo",
    "SyntheticSpec",
    "camera_motion",
    "check_synthetic_folder",
    "make_synthetic",
    "measure_attributes",
    "render_video",
    "sequence_name",
]

"""gcseg: an educational reproduction of GCSeg.

"Guided Co-Segmentation Network for Fast Video Object Segmentation" (Liu, Lin, Zhang, Liu).
Semi-supervised video object segmentation: given the object masks of the first frame, segment
the objects in every later frame.

Subpackages and modules:

- :mod:`gcseg.data` -- the DAVIS 2016/2017 layout (reader, result writer) and the built-in
  synthetic benchmark written in that layout.
- :mod:`gcseg.metrics` -- the DAVIS measures J (region) and F (contour) and their statistics.
- :mod:`gcseg.evaluation` -- the evaluator over a dataset and a results folder.
- :mod:`gcseg.baselines` -- reference points such as copying the first-frame mask.
- ``python -m gcseg`` -- the command line for every job (see :mod:`gcseg.cli`).
"""

__version__ = "0.1.0"

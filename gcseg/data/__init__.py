"""Datasets: the DAVIS layout (reading, writing, checking, converting) and the training data.

- :mod:`~gcseg.data.davis` reads a DAVIS-layout split (:class:`DavisDataset`, :class:`Sequence`)
  and the DAVIS files (frames, palette-PNG annotations, results);
  :mod:`~gcseg.data.davis_layout` spells the folder layout once,
  :mod:`~gcseg.data.davis_writer` writes it (:class:`DavisWriter`),
  :mod:`~gcseg.data.annotation_rules` decides which frames carry an annotation and
  :mod:`~gcseg.data.file_checks` checks each input file (:class:`DavisFormatError`).
- :mod:`~gcseg.data.davis_check`, :mod:`~gcseg.data.davis2016`,
  :mod:`~gcseg.data.youtube_objects` (sharing :mod:`~gcseg.data.conversion`) check a
  downloaded DAVIS folder and convert the other datasets of the paper's experiments
  (``python -m gcseg data ...``).
- :mod:`~gcseg.data.synthetic` is the built-in synthetic benchmark, in the DAVIS layout.
- :mod:`~gcseg.data.pairs`, :mod:`~gcseg.data.simulate`, :mod:`~gcseg.data.still_images` and
  :mod:`~gcseg.data.transforms` make the training samples.
"""

from gcseg.data.davis import (
    PALETTE,
    VOID_ID,
    DavisDataset,
    Sequence,
    read_annotation,
    read_frame,
    write_annotation,
    write_frame,
    write_sequence_results,
)
from gcseg.data.davis_layout import DavisLayout
from gcseg.data.davis_writer import DavisWriter
from gcseg.data.file_checks import DavisFormatError, check_regular_file

__all__ = [
    "PALETTE",
    "VOID_ID",
    "DavisDataset",
    "DavisFormatError",
    "DavisLayout",
    "DavisWriter",
    "Sequence",
    "check_regular_file",
    "read_annotation",
    "read_frame",
    "write_annotation",
    "write_frame",
    "write_sequence_results",
]

"""The DAVIS semi-supervised evaluator (paper Section IV): J and F of a results folder.

- :mod:`~gcseg.evaluation.protocol` -- what is scored: the frames, the objects, void;
  :func:`evaluate` over a split, :func:`evaluate_sequence` over one video;
- :mod:`~gcseg.evaluation.report` -- the result (:class:`EvaluationResult`), its printed table
  and its official CSV files.

:func:`gcseg.scoring.score_split` segments a split and scores it in one call.
"""

from gcseg.evaluation.protocol import OBJECT_RULES, evaluate, evaluate_sequence
from gcseg.evaluation.report import (
    GLOBAL_COLUMNS,
    AttributeRow,
    EvaluationResult,
    ObjectResult,
    check_csv_folder,
)

__all__ = [
    "GLOBAL_COLUMNS",
    "OBJECT_RULES",
    "AttributeRow",
    "EvaluationResult",
    "ObjectResult",
    "check_csv_folder",
    "evaluate",
    "evaluate_sequence",
]

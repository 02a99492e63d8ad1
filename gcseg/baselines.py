"""Trivial reference methods, scored with the same evaluator as GCSeg.

They answer "how hard is this benchmark?": any learned method must beat them.

- ``copy-first``: each object's first annotation (frame 0, or the frame where it appears first)
  copied to every later frame (the object never moves).
- ``empty``: no object anywhere after frame 0 (a floor for J and F).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from gcseg.data.davis import DavisDataset, Sequence, write_sequence_results
from gcseg.files import dataset_inputs, results_folder

__all__ = ["BASELINES", "run_baseline"]


def _copy_first(sequence: Sequence) -> list[np.ndarray]:
    labels = sequence.first_mask
    later = sequence.later_annotations()
    out = []
    for t in range(len(sequence)):
        if t in later:  # objects that appear here start from their given mask
            labels = labels.copy()
            ids = set(np.unique(later[t]).tolist()) - {0, 255} - set(np.unique(labels).tolist())
            new = np.isin(later[t], sorted(ids))
            labels[new] = later[t][new]
        out.append(labels)
    return out


def _empty(sequence: Sequence) -> list[np.ndarray]:
    first = sequence.first_mask
    return [first] + [np.zeros_like(first)] * (len(sequence) - 1)


BASELINES: dict[str, Callable[[Sequence], list[np.ndarray]]] = {
    "copy-first": _copy_first,
    "empty": _empty,
}


def run_baseline(
    method: str,
    dataset: DavisDataset,
    results_dir: str | os.PathLike,
    progress: bool = True,
    overwrite: bool = True,
) -> Path:
    """Write the masks of baseline ``method`` for every sequence of ``dataset``.

    The results folder has the official layout ``<results_dir>/<seq>/<frame>.png``.  It is
    written whole into a staging folder and swapped in at the end
    (:func:`gcseg.files.results_folder`): a killed run leaves the old results as they were,
    and the new ones are never mixed with them.  An existing non-empty ``results_dir`` is
    replaced only with ``overwrite`` (the command line's ``--overwrite``; the library's default,
    so a notebook can run again) and only when it holds results; never the dataset's folders.
    """
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; choose from {sorted(BASELINES)}")
    predict = BASELINES[method]
    results_dir = Path(results_dir)
    with results_folder(results_dir, overwrite, inputs=dataset_inputs(dataset)) as staging:
        for sequence in tqdm(dataset, desc=f"baseline {method}", disable=not progress):
            write_sequence_results(staging, sequence.name, predict(sequence),
                                   sequence.frame_names)
    return results_dir

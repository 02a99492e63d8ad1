"""Which frames of a DAVIS-layout sequence carry an annotation, and by which rule.

A sequence's annotations are named after its frames and follow one of four rules, checked when
:class:`~gcseg.data.davis.DavisDataset` opens the dataset and reported by
``python -m gcseg validate`` (:attr:`~gcseg.data.davis.Sequence.annotation_rule`):

- every frame (DAVIS train and val);
- the first frame only (DAVIS test-dev);
- every N-th frame from the first (N >= 2: ``00000``, ``0000N``, ``000(2N)``, ... to the end);
- the frames *declared* in ``<root>/sparse_annotations.json`` or ``<root>/youtube_objects.json``
  (``{"sequences": {"<seq>": {"annotated": ["00000", "00011", ...]}}}``; the YouTube-Objects
  converter of :mod:`gcseg.data.youtube_objects` writes the latter: a mask about every 10th
  frame).

Anything else is an error naming the missing (or unexpected) annotation file: one lost PNG never
turns a dense sequence into silently sparse ground truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gcseg.data.file_checks import DavisFormatError, read_text

__all__ = ["SPARSE_MANIFESTS", "AnnotationRules"]

SPARSE_MANIFESTS = ("sparse_annotations.json", "youtube_objects.json")
"""Files at a dataset root that may declare which frames of a sequence are annotated."""

_MANIFEST_FORM = '{"sequences": {"<seq>": {"annotated": ["00000", ...]}}}'


def _ordinal(n: int) -> str:
    """``2`` -> ``"2nd"``, ``3`` -> ``"3rd"``, ``10`` -> ``"10th"``, ``11`` -> ``"11th"``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _read_manifest(path: Path) -> dict[str, list[str]]:
    """``{sequence: declared frame names}`` of one manifest file; a named error when malformed."""
    text = read_text(path, f"expected JSON {_MANIFEST_FORM}")
    try:
        table = json.loads(text)["sequences"]
        return {
            str(name): [str(frame) for frame in entry["annotated"]]
            for name, entry in table.items()
        }
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise DavisFormatError(
            f"{path}: expected JSON {_MANIFEST_FORM} ({type(error).__name__}: {error})"
        ) from None


@dataclass(frozen=True)
class AnnotationRules:
    """The rules of a dataset root: the frames its manifests declare, and the checks."""

    root: Path
    declared: dict[str, tuple[Path, list[str]]]
    """``{sequence: (manifest, declared frame names)}``; the first manifest naming it wins."""

    @classmethod
    def read(cls, root: Path) -> AnnotationRules:
        """The manifests of :data:`SPARSE_MANIFESTS` present at ``root``."""
        declared: dict[str, tuple[Path, list[str]]] = {}
        for file_name in SPARSE_MANIFESTS:
            path = root / file_name
            if path.exists():
                for name, frames in _read_manifest(path).items():
                    declared.setdefault(name, (path, frames))
        return cls(root, declared)

    def rule(self, name: str, frames: list[Path], annotations: list[Path]) -> str:
        """Which rule the annotated frames follow (module docstring); else name the odd file.

        Declared frames (a manifest) must match the files exactly. Otherwise the annotations
        must cover every frame, the first only, or every N-th frame from the first to the end
        (N >= 2): a hole among annotated frames names the missing file, an annotation off the
        pattern names that file.  ``annotations`` are sorted and the first annotates frame 0.
        """
        if name in self.declared:
            return self._declared_rule(name, frames, annotations)
        index_of = {frame.stem: index for index, frame in enumerate(frames)}
        annotated = [index_of[path.stem] for path in annotations]  # ascending: names sort
        if len(annotated) == len(frames):
            return "every frame"
        if annotated == [0]:
            return "first frame only"
        step = annotated[1]  # the first gap sets the pattern (annotated[0] == 0)
        if step >= 2 and annotated == list(range(0, len(frames), step)):
            return f"every {_ordinal(step)} frame"
        raise self._off_rule_error(name, frames, annotated, annotations[0].parent)

    def _declared_rule(self, name: str, frames: list[Path], annotations: list[Path]) -> str:
        """The annotations must be exactly the frames the manifest declares."""
        manifest, declared = self.declared[name]
        frame_names = {frame.stem for frame in frames}
        have = {path.stem for path in annotations}
        folder = annotations[0].parent
        for stem in declared:
            if stem not in frame_names:
                raise DavisFormatError(
                    f"{manifest}: declares annotated frame {stem!r} of {name!r}, but "
                    f"{frames[0].parent} has no {stem}.jpg"
                )
            if stem not in have:
                raise DavisFormatError(
                    f"{folder / (stem + '.png')}: annotation not found (declared in "
                    f"{manifest}: {len(declared)} annotated frames of {name!r})"
                )
        extra = [path for path in annotations if path.stem not in set(declared)]
        if extra:
            raise DavisFormatError(
                f"{extra[0]}: annotation not declared in {manifest} (which lists "
                f"{len(declared)} annotated frames of {name!r})"
            )
        return f"declared in {manifest.name}"

    def _off_rule_error(
        self, name: str, frames: list[Path], annotated: list[int], folder: Path
    ) -> DavisFormatError:
        """The error naming the odd file of the closer explanation: a dense sequence with
        holes, or the every-N-th-frame pattern with a hole or an extra file."""
        step = annotated[1]
        expected = list(range(0, len(frames), step))
        have, grid = set(annotated), set(expected)
        dense_missing = [index for index in range(len(frames)) if index not in have]
        grid_missing = [index for index in expected if index not in have]
        grid_extra = [index for index in annotated if index not in grid]
        rules = (
            f"the annotations of {name!r} ({len(annotated)} for {len(frames)} frames) must "
            "cover every frame, the first only or every N-th frame, or be declared in "
            f"{self.root / SPARSE_MANIFESTS[0]}"
        )
        if step >= 2 and len(grid_missing) + len(grid_extra) < len(dense_missing):
            if not grid_missing:
                odd = grid_extra[0]
                return DavisFormatError(
                    f"{folder / (frames[odd].stem + '.png')}: annotation off the pattern of "
                    f"the others (every {_ordinal(step)} frame); {rules}"
                )
            index = grid_missing[0]
        else:
            index = dense_missing[0]
        return DavisFormatError(
            f"{folder / (frames[index].stem + '.png')}: annotation of frame "
            f"{frames[index].name} not found; {rules}"
        )

"""What the ablations compare: the paper's numbers, the runs, the scorings, the cells of a table.

An ablation changes one switch and keeps everything else (Section IV-C):

- **Table V** (components): ``model.variant`` in ``baseline``, ``ref``, ``coseg``, ``full``,
  each trained *without* simulated pre-training, scored with the objects of a video merged
  into one (the benchmark read as DAVIS-2016).
- **Table VI** (Adaptive Search): one ``full`` model per seed, trained as the config says,
  segments the validation videos with the Judgment Module off and on (an inference switch),
  and on with its other features and a calibrated τ (:data:`TABLE_VI_ROWS`); scored per object
  (read as DAVIS-2017), on all videos and on the videos carrying both
  disappearance/reappearance (``DR``) and occlusion (``OCC``).
- **Table VII** (simulated pre-training): ``full`` without and with stage 1 before the same
  video training, scored as Table V.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from gcseg.config import VARIANTS, GCSegConfig

__all__ = [
    "PAPER_CLAIMS",
    "PAPER_TABLES",
    "PAPER_TABLE_V",
    "PAPER_TABLE_VI",
    "PAPER_TABLE_VII",
    "SUBSET_ATTRIBUTES",
    "TABLES",
    "TABLE_VI_ROWS",
    "VARIANT_NAMES",
    "Cell",
    "Run",
    "Scoring",
    "run_config",
    "table_plan",
]

TABLES = ("V", "VI", "VII")
SUBSET_ATTRIBUTES = ("DR", "OCC")
"""Table VI's subset: videos carrying all of these attribute codes."""


def _frozen(table: dict[str, dict[str, float]]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({name: MappingProxyType(row) for name, row in table.items()})


VARIANT_NAMES: Mapping[str, str] = MappingProxyType(
    {"baseline": "baseline", "ref": "Ref", "coseg": "Co-seg", "full": "Ref + Co-seg"})
"""The library's variant names (``ModelConfig.variant``) and the paper's row names."""

PAPER_TABLE_V = _frozen({
    "baseline": {"J": 55.2, "F": 51.3, "J&F": 53.2},
    "ref": {"J": 62.5, "F": 61.2, "J&F": 61.9},
    "coseg": {"J": 61.1, "F": 59.7, "J&F": 60.4},
    "full": {"J": 70.5, "F": 71.7, "J&F": 71.1},
})
"""Table V: each component on DAVIS-2016 val, trained without simulated pre-training."""

PAPER_TABLE_VI = _frozen({
    "off": {"J": 65.1, "F": 68.0, "J&F": 66.6},
    "on": {"J": 65.5, "F": 68.4, "J&F": 67.0},
})
"""Table VI: Adaptive Search off / on, DAVIS-2017 val."""

PAPER_TABLE_VII = _frozen({
    "without": {"J": 70.5, "F": 71.7, "J&F": 71.1},
    "with": {"J": 82.6, "F": 81.7, "J&F": 82.2},
})
"""Simulated pre-training off / on, DAVIS-2016 val.  Table VII's own cells are lost in the
text of the paper we have; these are the two rows of Table II for the same model ("Ours †",
without pre-training on other data, and "Ours"), which the paper's text says Table VII shows."""


PAPER_TABLES = {name: {row: dict(values) for row, values in table.items()}
                for name, table in (("V", PAPER_TABLE_V), ("VI", PAPER_TABLE_VI),
                                    ("VII", PAPER_TABLE_VII))}
"""The paper's J, F, J&F (percent) of each table, as plain dicts (written into the records)."""


PAPER_CLAIMS = {
    "V": [("ref", "baseline"), ("coseg", "baseline"), ("full", "ref"), ("full", "coseg")],
    "VI": [("on", "off")],
    "VII": [("with", "without")],
}
"""What each table claims: ``(better, worse)`` pairs of rows, by J&F."""


@dataclass(frozen=True)
class Run:
    """One training: a variant, with or without simulated pre-training, one seed."""

    variant: str
    pretrain: bool
    seed: int

    @property
    def key(self) -> str:
        return f"{self.variant}-{'pretrained' if self.pretrain else 'scratch'}-seed{self.seed}"


@dataclass(frozen=True)
class Scoring:
    """One scoring of a run: the year the benchmark is read as, the Adaptive Search, and with
    it the Judgment Module's features (``prev-mask``: E(I_t, M_{t-1}), or ``no-mask``:
    E(I_t, 0)) and its τ (``None``: ``inference.judgment_threshold``; ``"calibrated"``: the τ
    :func:`~gcseg.inference.calibrate_threshold` picks for the run's model on the training
    split)."""

    year: str
    adaptive_search: bool
    judgment_features: str = "prev-mask"
    threshold: str | None = None

    @property
    def key(self) -> str:
        key = f"val-{self.year}-search-{'on' if self.adaptive_search else 'off'}"
        if self.judgment_features != "prev-mask":
            key += f"-{self.judgment_features}"
        return key + ("-tau-calibrated" if self.threshold == "calibrated" else "")


TABLE_VI_ROWS = {
    "off": Scoring("2017", False),
    "on": Scoring("2017", True),
    "on, E(I,0)": Scoring("2017", True, "no-mask"),
    "on, tau calibrated": Scoring("2017", True, threshold="calibrated"),
    "on, E(I,0), tau calibrated": Scoring("2017", True, "no-mask", "calibrated"),
}
"""Table VI's rows: the paper's two (the search off and on, E(I_t, M_{t-1}), τ from the
config) and, looked into, the Judgment Module pooling E(I_t, 0) instead and each with τ
calibrated on the training split."""


@dataclass(frozen=True)
class Cell:
    """Row ``row`` of ``table`` for one seed: which run and which scoring give it."""

    table: str
    row: str
    run: Run
    scoring: Scoring


def table_plan(table: str, seeds: Sequence[int], config: GCSegConfig) -> list[Cell]:
    """The cells of ``table`` (``V``, ``VI`` or ``VII``) for ``seeds``."""
    search = config.inference.adaptive_search
    cells = []
    for seed in seeds:
        if table == "V":
            cells += [Cell("V", v, Run(v, False, seed), Scoring("2016", search)) for v in VARIANTS]
        elif table == "VI":
            run = Run("full", config.train.simulated_pretraining, seed)
            cells += [Cell("VI", name, run, scoring) for name, scoring in TABLE_VI_ROWS.items()]
        elif table == "VII":
            cells += [Cell("VII", name, Run("full", pretrain, seed), Scoring("2016", search))
                      for name, pretrain in (("without", False), ("with", True))]
        else:
            raise ValueError(f"unknown table {table!r}; choose from {', '.join(TABLES)}")
    return cells


def run_config(config: GCSegConfig, run: Run) -> GCSegConfig:
    """``config`` with the switches of ``run`` (variant, pre-training, seed) set."""
    out = copy.deepcopy(config)
    out.model.variant = run.variant
    out.train.simulated_pretraining = run.pretrain
    out.train.seed = run.seed
    out.inference.seed = run.seed
    out.train.eval_every = 0  # the ablation scores every run itself, on all validation videos
    return out


"""The paper's ablations (Section IV-C, Tables V-VII), run with one protocol.

    python -m gcseg ablate --table V VI VII --config configs/ablation_foundation.yaml \\
        --seeds 0 1 2 --out results/ablations

An ablation changes one switch and keeps everything else: the data, the training budget, the
seeds and the evaluator.

- :mod:`~gcseg.ablation.plan` -- the tables, their switches and the paper's numbers: which run
  (variant, pre-training, seed) and which scoring (the year the benchmark is read as, the
  Adaptive Search) gives each cell;
- :mod:`~gcseg.ablation.runs` -- training and scoring the runs (each once, reused and resumed;
  ``--jobs`` trains several at a time) and the trivial floors, then :func:`run_ablation`
  writes the tables;
- :mod:`~gcseg.ablation.tables` -- the records (mean and standard deviation over seeds,
  per-seed numbers, per-attribute breakdown, the ``empty`` and ``copy-first`` floors on the
  same videos, the paper's numbers, provenance: command, config, seeds, commit, device, wall
  time per run) as ``<out>/<table>.json`` and ``<out>/<table>.csv``, and the paper's claims
  against them, and ``summary.md``: every table of a results folder in markdown.  Scores are in
  percent, as the paper's.
"""

from gcseg.ablation.plan import (
    PAPER_CLAIMS,
    PAPER_TABLE_V,
    PAPER_TABLE_VI,
    PAPER_TABLE_VII,
    PAPER_TABLES,
    TABLE_VI_ROWS,
    TABLES,
    VARIANT_NAMES,
    Run,
    Scoring,
    run_config,
    table_plan,
)
from gcseg.ablation.runs import Workers, run_ablation
from gcseg.ablation.tables import (
    claim_verdicts,
    claims_table,
    format_record,
    paired_difference,
    read_records,
    summary_markdown,
    verdict,
)

__all__ = [
    "verdict",
    "PAPER_CLAIMS",
    "PAPER_TABLES",
    "PAPER_TABLE_V",
    "PAPER_TABLE_VI",
    "PAPER_TABLE_VII",
    "TABLES",
    "TABLE_VI_ROWS",
    "VARIANT_NAMES",
    "Run",
    "Scoring",
    "Workers",
    "claim_verdicts",
    "claims_table",
    "format_record",
    "paired_difference",
    "read_records",
    "run_ablation",
    "run_config",
    "summary_markdown",
    "table_plan",
]

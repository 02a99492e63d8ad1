"""Table VI looked into: what the Judgment Module does with a trained model.

For each of its two feature choices -- ``prev-mask`` (F_t = E(I_t, M_{t-1}) against
E(I_0, M_0), the paper's Figure 6) and ``no-mask`` (E(I_t, 0) against E(I_0, 0)) -- τ is
calibrated on the training split (:func:`gcseg.inference.calibrate_threshold`: the τ that best
separates previous masks of J >= 0.5 from worse ones, never looking at the validation split);
then the validation split is segmented and scored with the search off, at the paper's τ = 0.7
and at the calibrated τ, recording J&F, the rejection rate and the median judgment score::

    python benchmarks/bench_judgment.py --davis data/synthetic \\
        --out benchmarks/results/judgment_cpu.json
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from gcseg.checkpoint import load_model
from gcseg.cli.args import checkpoint_report_parser, report_is_kept
from gcseg.config import JUDGMENT_FEATURES, JUDGMENT_THRESHOLD
from gcseg.data import DavisDataset
from gcseg.files import write_json
from gcseg.inference import VideoSegmenter, calibrate_threshold
from gcseg.runtime import configure_threads, pick_device, provenance
from gcseg.scoring import score_split


def _row(segmenter: VideoSegmenter, dataset: DavisDataset, name: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        score = score_split(segmenter, dataset, Path(folder) / "results")
    timing = score.timing
    row = {"setting": name, **score.result.means(),
           "seconds_per_frame": timing["seconds_per_frame"],
           "adaptive_search": segmenter.options.adaptive_search,
           "judgment_features": segmenter.options.judgment_features,
           "threshold": segmenter.options.threshold,
           "rejection_rate": timing["rejection_rate"], "rejected": timing["rejected"],
           "judgments": timing["judgments"],
           "median_judgment_score": timing["median_judgment_score"]}
    print(f"{name:<34} J&F {row['J&F']:.4f}  rejected {row['rejected']}/{row['judgments']}")
    return row


def main(argv: list[str] | None = None) -> int:
    args = checkpoint_report_parser(__doc__.splitlines()[0]).parse_args(argv)
    if report_is_kept(args.out, args.overwrite):
        return 2
    configure_threads()
    device = pick_device(args.device)
    model, config = load_model(args.checkpoint, device)
    year, resolution = config.data.year, config.data.resolution
    train = DavisDataset(args.davis, year, "train", resolution)
    val = DavisDataset(args.davis, year, "val", resolution)

    def segmenter(**overrides) -> VideoSegmenter:
        return VideoSegmenter.from_config(model, config, device, **overrides)

    rows = [_row(segmenter(adaptive_search=False), val, "search off")]
    calibrations = {}
    for features in JUDGMENT_FEATURES:
        calibration = calibrate_threshold(segmenter(judgment_features=features), train)
        calibrations[features] = calibration.to_dict()
        print(f"{features}: calibrated tau {calibration.threshold:.4f} (balanced accuracy "
              f"{calibration.balanced_accuracy:.3f}, {calibration.good} good / "
              f"{calibration.bad} bad previous masks on the training split)")
        for tau, label in ((JUDGMENT_THRESHOLD, "paper tau"),
                           (calibration.threshold, "calibrated tau")):
            rows.append(_row(segmenter(judgment_features=features, threshold=tau), val,
                             f"{features}, {label} {tau:.3f}"))
    write_json(args.out, {
        "command": "python benchmarks/bench_judgment.py "
                   + " ".join(argv if argv is not None else sys.argv[1:]),
        "checkpoint": str(args.checkpoint), "dataset": str(args.davis),
        "calibrated_on": "train", "scored_on": "val", "videos": len(val),
        "calibrations": calibrations, "rows": rows, **provenance(device)})
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

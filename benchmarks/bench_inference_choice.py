"""J&F and seconds per frame of the values of one inference choice, on one split.

``--choice reference_encoding`` (the default): ``cached`` keeps the features that segmented
frame t, E(I_t, M_{t-1}), masked with its result; ``own-mask`` encodes frame t again with its
result, E(I_t, M_t), as training does (one more backbone pass per frame).
``--choice reference_fusion``: ``predictions`` averages the references' predictions (the
paper); ``features`` averages their decoder inputs and runs the decoder once per object.

Every value segments the same split with the same model; the runs alternate (a, b, b, a, ...)
so that a machine's drift in speed touches all alike, and the seconds per frame are the mean
over the rounds (J&F does not change between rounds: inference is deterministic).  See
``benchmarks/README.md``::

    python benchmarks/bench_inference_choice.py --davis data/synthetic \
        --out benchmarks/results/reference_encoding_cpu.json
    python benchmarks/bench_inference_choice.py --choice reference_fusion \
        --davis data/synthetic --out benchmarks/results/reference_fusion_cpu.json
"""

from __future__ import annotations

import copy
import statistics
import sys

from gcseg.checkpoint import load_model
from gcseg.cli.args import checkpoint_report_parser, report_is_kept
from gcseg.config import REFERENCE_ENCODINGS, REFERENCE_FUSIONS
from gcseg.data import DavisDataset
from gcseg.files import write_json
from gcseg.model_card import score_on_split
from gcseg.runtime import configure_threads, pick_device, provenance

CHOICES = {"reference_encoding": REFERENCE_ENCODINGS, "reference_fusion": REFERENCE_FUSIONS}
"""The choices of ``config.inference`` compared here, and their values."""


def main(argv: list[str] | None = None) -> int:
    parser = checkpoint_report_parser(__doc__.splitlines()[0])
    parser.add_argument("--split", default="val")
    parser.add_argument("--choice", choices=list(CHOICES), default="reference_encoding")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each value")
    args = parser.parse_args(argv)
    if report_is_kept(args.out, args.overwrite):
        return 2
    configure_threads()
    device = pick_device(args.device)
    model, config = load_model(args.checkpoint, device)
    dataset = DavisDataset(args.davis, config.data.year, args.split, config.data.resolution)
    values = CHOICES[args.choice]
    runs: dict[str, list[dict]] = {name: [] for name in values}
    for round_index in range(args.rounds):
        order = values if round_index % 2 == 0 else values[::-1]
        for name in order:
            settings = copy.deepcopy(config)
            setattr(settings.inference, args.choice, name)
            scores = score_on_split(model, settings, dataset, str(device), copy_first=False)
            runs[name].append(scores)
            print(f"round {round_index + 1} {name:>11}: J&F {scores['gcseg']['J&F-Mean']:.4f}, "
                  f"{scores['seconds_per_frame']:.4f} s/frame")
    rows = {}
    for name, scores in runs.items():
        rows[name] = {
            **scores[0]["gcseg"],
            "seconds_per_frame": statistics.mean(s["seconds_per_frame"] for s in scores),
            "seconds_per_frame_runs": [s["seconds_per_frame"] for s in scores],
            "same_scores_every_round": all(s["gcseg"] == scores[0]["gcseg"] for s in scores),
        }
    report = {
        "command": "python benchmarks/bench_inference_choice.py "
                   + " ".join(argv if argv is not None else sys.argv[1:]),
        "checkpoint": str(args.checkpoint),
        "dataset": str(args.davis),
        "split": args.split,
        "videos": runs[values[0]][0]["videos"],
        "rounds": args.rounds,
        "choice": args.choice,
        "values": rows,
        **provenance(device),
    }
    write_json(args.out, report)
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

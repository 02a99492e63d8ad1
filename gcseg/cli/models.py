"""Commands on trained models: segment, export, describe."""

from __future__ import annotations

import argparse
from pathlib import Path

from gcseg.cli.args import add_dataset_arguments, cosine, count
from gcseg.config import JUDGMENT_FEATURES, REFERENCE_ENCODINGS, REFERENCE_FUSIONS


def _cmd_segment(args: argparse.Namespace) -> int:
    from gcseg.checkpoint import load_model
    from gcseg.data.davis import DavisDataset
    from gcseg.files import check_output_folder, check_results_folder
    from gcseg.inference import VideoSegmenter, segment_dataset
    from gcseg.runtime import pick_device

    device = pick_device(args.device)
    # refused before the work (segment_dataset checks again, with the dataset's folders)
    check_output_folder(args.out, args.overwrite, check_results_folder, inputs=[args.checkpoint])
    model, config = load_model(args.checkpoint, device)
    overrides = {"num_refs": args.refs, "seed": args.seed,
                 "reference_encoding": args.reference_encoding,
                 "judgment_features": args.judgment_features, "threshold": args.threshold,
                 "reference_fusion": args.reference_fusion,
                 "adaptive_search": False if args.no_adaptive_search else None}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    segmenter = VideoSegmenter.from_config(model, config, device, **overrides)
    dataset = DavisDataset(args.davis, year=args.year, split=args.split, resolution=args.resolution)
    timing = segment_dataset(segmenter, dataset, args.out, overwrite=args.overwrite)
    speed = ("no frame after the first to time" if timing["seconds_per_frame"] is None else
             f"{timing['seconds_per_frame']:.3f} s/frame "
             f"({timing['frames_per_second'] or float('inf'):.1f} fps)")
    print(f"{timing['frames']} frames in {len(dataset)} sequences: {speed} "
          f"on {timing['device']} -> {args.out}")
    if timing["judgments"]:
        print(f"Judgment Module ({timing['judgment_features']}): dropped {timing['rejected']} "
              f"of {timing['judgments']} previous masks ({timing['rejection_rate']:.1%}), "
              f"median score {timing['median_judgment_score']:.3f}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from gcseg.checkpoint import check_export_paths, export_model
    from gcseg.model_card import write_model_card

    if args.foundation:
        from gcseg.foundation import export_foundation

        out = export_foundation(args.checkpoint, args.out, args.davis, args.split,
                                command=" ".join(["python -m gcseg", *args.argv]),
                                device=args.device, overwrite=args.overwrite)
        print(f"foundation {out} ({out.stat().st_size / 1e6:.1f} MB), card "
              f"{out.with_suffix('.json')}")
        return 0
    # never over its own input; the weights and the card only with --overwrite (checked first)
    check_export_paths(args.checkpoint, args.out, args.overwrite, card=args.davis is not None)
    out = export_model(args.checkpoint, args.out, half=not args.float32,
                       overwrite=args.overwrite)
    print(f"exported {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if args.davis is not None:
        card = write_model_card(out, args.checkpoint.parent, args.davis, args.split,
                                command=" ".join(["python -m gcseg", *args.argv]),
                                device=args.device)
        print(f"model card with validation scores: {card}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from gcseg.model.describe import describe

    print(describe(args.preset))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``segment``, ``export``, ``describe``
    to the sub-parsers of ``python -m gcseg``."""
    segment = commands.add_parser("segment", help="segment a split with a trained checkpoint")
    add_dataset_arguments(segment)
    segment.add_argument("--checkpoint", required=True, type=Path)
    segment.add_argument("--out", required=True, type=Path, help="results folder")
    segment.add_argument("--overwrite", action="store_true",
                         help="replace an existing results folder (whole, at the end)")
    segment.add_argument("--refs", type=count(0),
                         help="n >= 0, sampled references (default: config)")
    segment.add_argument("--no-adaptive-search", action="store_true",
                         help="keep M_{t-1} whatever the Judgment Module says")
    segment.add_argument("--threshold", type=cosine,
                         help="tau of the Judgment Module, in [-1, 1] (default: config, 0.7)")
    segment.add_argument("--judgment-features", choices=JUDGMENT_FEATURES,
                         help="what the Judgment Module pools: prev-mask E(I_t, M_t-1) against "
                              "E(I_0, M_0), or no-mask E(I_t, 0) against E(I_0, 0), one more "
                              "backbone pass per frame (default: config, prev-mask)")
    segment.add_argument("--seed", type=count(0),
                         help="reference sampling seed >= 0 (default: config)")
    segment.add_argument("--reference-encoding", choices=REFERENCE_ENCODINGS,
                         help="a segmented frame's features as a reference: cached "
                              "E(I_t, M_t-1) or own-mask E(I_t, M_t), one more backbone pass "
                              "per frame (default: config, cached)")
    segment.add_argument("--reference-fusion", choices=REFERENCE_FUSIONS,
                         help="average the references' predictions (the paper) or their "
                              "decoder inputs, the decoder then once per object (faster) "
                              "(default: config, predictions)")
    segment.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    segment.set_defaults(run=_cmd_segment)

    export = commands.add_parser(
        "export", help="share a checkpoint: weights only (float16) + a JSON card with scores")
    export.add_argument("--checkpoint", required=True, type=Path, help="RUN/checkpoint.pt")
    export.add_argument("--out", required=True, type=Path, help="e.g. checkpoints/name.pt")
    export.add_argument("--float32", action="store_true", help="keep float32 weights")
    export.add_argument("--foundation", action="store_true",
                        help="keep only the feature extractor: a foundation for fresh heads "
                             "(model.weights: foundation), with its card")
    export.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out and its card (never the checkpoint "
                             "being exported)")
    export.add_argument("--davis", type=Path, help="score it on this dataset for the card")
    export.add_argument("--set", dest="split", default="val")
    export.add_argument("--device", help="cpu, cuda ... (default: CUDA when present)")
    export.set_defaults(run=_cmd_export)

    describe = commands.add_parser("describe", help="modules, parameters and FLOPs of a preset")
    describe.add_argument("--preset", default="tiny", help="config preset (tiny, paper)")
    describe.set_defaults(run=_cmd_describe)

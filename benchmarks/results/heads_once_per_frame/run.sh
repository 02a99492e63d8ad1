#!/bin/bash
# The frame-only head parts once per frame, and the decoder once per object, measured:
#   before    = 98c6ee7 (the F half of the bottom conv and F' once per reference), in /tmp/bench-before
#   after     = this commit, references averaged as predictions (the paper), with RGMP beside it
#   features  = this commit with --reference-fusion features (the decoder once per object)
# Alternating, two rounds, two threads, nothing else running. Run from the repository root of a
# clone at the commit (AFTER) with BEFORE a worktree at 98c6ee7.
set -euo pipefail
AFTER=${AFTER:-$(pwd)}
BEFORE=${BEFORE:-/tmp/bench-before}
OUT=${OUT:-$AFTER/benchmarks/results/heads_once_per_frame}
PY=${PY:-$AFTER/.venv/bin/python}
common="--objects 1 --refs 3 --memory-frames 0 --threads 2"
for round in 1 2; do
  for run in before after features; do
    dir=$AFTER; extra=""
    if [ $run = before ]; then dir=$BEFORE; fi
    if [ $run = features ]; then extra="--reference-fusion features --no-rgmp"; fi
    (cd $dir && PYTHONPATH=. $PY -m gcseg bench --preset tiny --sizes tiny paper --variants full \
      --backbones resnet18 resnet101 --frames 4 --repeats 3 --warmup 1 $common $extra \
      --out $OUT/tiny-$run-$round.json > $OUT/tiny-$run-$round.log 2>&1)
    (cd $dir && PYTHONPATH=. $PY -m gcseg bench --preset paper --sizes paper --variants full \
      --backbones resnet50 resnet101 --frames 2 --repeats 2 --warmup 1 $common $extra \
      --out $OUT/paper-$run-$round.json > $OUT/paper-$run-$round.log 2>&1)
  done
done
# flat memory over 1000 frames, both fusions
for fusion in predictions features; do
  PYTHONPATH=. $PY -m gcseg bench --preset tiny --sizes tiny --variants full --backbones resnet18 \
    --objects 1 --refs 3 --frames 2 --repeats 1 --warmup 0 --memory-frames 500 --threads 2 \
    --no-rgmp --reference-fusion $fusion --out $OUT/memory-$fusion.json > $OUT/memory-$fusion.log 2>&1
done
echo done > $OUT/DONE
# Later, at 16da6d8 (the co-segmentation's levels resized once per frame), the tiny heads again,
# "after" and "features" alternating, two rounds, into tiny-resize-{after,features}-{1,2}.json:
#   python -m gcseg bench --preset tiny --sizes tiny paper --variants full --backbones resnet18 \
#     resnet101 --frames 4 --repeats 3 --warmup 1 --objects 1 --refs 3 --memory-frames 0 \
#     --threads 2 --no-rgmp [--reference-fusion features]

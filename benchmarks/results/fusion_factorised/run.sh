#!/bin/bash
# The Reference Module's fusion convolution split (its F' term once per frame row) and the
# co-segmentation's attention folded into its projection, measured:
#   before = 47ccedf (the fusion convolution and the attended maps once per reference), a clone
#            in $BEFORE
#   after  = this commit
# each with the paper's fusion (predictions averaged; "after" also times RGMP on the same input)
# and with --reference-fusion features. Alternating, two rounds, two threads, nothing else
# running. Run from the repository root of a clone at this commit.
set -euo pipefail
AFTER=${AFTER:-$(pwd)}
BEFORE=${BEFORE:-/tmp/bench-before}
OUT=${OUT:-$AFTER/benchmarks/results/fusion_factorised}
PY=${PY:-$AFTER/.venv/bin/python}
common="--objects 1 --refs 3 --memory-frames 0 --threads 2"
for round in 1 2; do
  for run in before after before-features after-features; do
    dir=$AFTER; extra="--no-rgmp"
    case $run in before*) dir=$BEFORE;; esac
    case $run in *features) extra="--reference-fusion features --no-rgmp";; esac
    if [ $run = after ]; then extra=""; fi
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

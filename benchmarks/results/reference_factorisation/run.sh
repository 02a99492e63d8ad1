#!/bin/bash
# before (3a2501a, /tmp/bench-tree) and after (f79746f, /tmp/after-tree), alternating
source /work/main/.venv/bin/activate
for round in 1 2; do
  for tree in before after; do
    if [ $tree = before ]; then dir=/tmp/bench-tree; else dir=/tmp/after-tree; fi
    (cd $dir && GCSEG_COMMIT=$(git rev-parse --short HEAD) PYTHONPATH=. python -m gcseg bench --preset tiny --sizes tiny paper --variants full --backbones resnet18 --objects 1 --refs 3 --frames 4 --repeats 3 --warmup 1 --memory-frames 0 --threads 2 --out /tmp/speedcmp/tiny-$tree-$round.json > /tmp/speedcmp/tiny-$tree-$round.log 2>&1)
    (cd $dir && GCSEG_COMMIT=$(git rev-parse --short HEAD) PYTHONPATH=. python -m gcseg bench --preset paper --sizes paper --variants full --backbones resnet50 resnet101 --objects 1 --refs 3 --frames 2 --repeats 2 --warmup 1 --memory-frames 0 --threads 2 --out /tmp/speedcmp/paper-$tree-$round.json > /tmp/speedcmp/paper-$tree-$round.log 2>&1)
  done
done
echo done > /tmp/speedcmp/DONE

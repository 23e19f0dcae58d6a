#!/bin/sh
# Runs the 16 cells of Table 1 on Fashion-MNIST one after another (one process, one CPU),
# writes samples/results/<distortion>-<model>.json per cell and regenerates table1.md.
# A cell whose JSON exists is skipped; an interrupted cell resumes from its checkpoint.
#   usage: samples/results/run-table1.sh [stn-train binary] [work directory for runs]
#   e.g.   nohup samples/results/run-table1.sh .build/release/stn-train /tmp/stn-runs > table1.log 2>&1 &
# Budget per cell: 4000 steps of 64 images (~4.3 epochs), SGD momentum 0.9, lr 0.01 cosine,
# localisation lr ×0.1, seed 1, test distortions seed 2015; --time-budget 10 minutes as a guard.
set -u
BIN=${1:-.build/release/stn-train}
RUNS=${2:-runs/table1}
RESULTS=$(cd "$(dirname "$0")" && pwd)
COMMIT=${COMMIT:-0}   # COMMIT=1: git-commit each finished cell (samples/results only)
for distortion in R RTS P E; do
  for model in cnn affine projective tps; do
    json="$RESULTS/$distortion-$model.json"
    [ -f "$json" ] && continue
    "$BIN" classify --model "$model" --distortion "$distortion" --steps 4000 --batch-size 64 \
      --learning-rate 0.01 --momentum 0.9 --schedule cosine --localisation-scale 0.1 \
      --seed 1 --test-seed 2015 --time-budget 10 --threads 1 --log-every 500 \
      --output "$RUNS/$distortion-$model" --results "$json" --resume || continue
    "$BIN" table "$RESULTS"/*-*.json --output "$RESULTS/table1.md"
    if [ "$COMMIT" = 1 ]; then
      cd "$RESULTS/../.." || exit 1
      for attempt in 1 2 3 4 5; do
        git add "samples/results/$distortion-$model.json" samples/results/table1.md &&
          git commit -q -m "Table 1 (Fashion-MNIST): $model on $distortion" -- "samples/results/$distortion-$model.json" samples/results/table1.md && break
        sleep 5
      done
      cd - > /dev/null || exit 1
    fi
  done
done

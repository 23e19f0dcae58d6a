#!/bin/sh
# Table 1 again at 2.5 times the budget (10 000 steps of 64 images,
# ~10.7 epochs, one CPU each): at 4000 steps the ST-CNNs' localisation nets had barely left
# the identity on R and E. Same protocol otherwise (see ../run-table1.sh).
#   usage: samples/results/long/run-long.sh [stn-train binary] [work directory for runs]
set -u
BIN=${1:-.build/release/stn-train}
RUNS=${2:-runs/table1-long}
RESULTS=$(cd "$(dirname "$0")" && pwd)
COMMIT=${COMMIT:-0}
for distortion in R RTS P E; do
  for model in cnn affine projective tps; do
    json="$RESULTS/$distortion-$model.json"
    [ -f "$json" ] && continue
    "$BIN" classify --model "$model" --distortion "$distortion" --steps 10000 --batch-size 64 \
      --learning-rate 0.01 --momentum 0.9 --schedule cosine --localisation-scale 0.1 \
      --seed 1 --test-seed 2015 --time-budget 10 --threads 1 --log-every 1000 \
      --output "$RUNS/$distortion-$model" --results "$json" --resume || continue
    "$BIN" table "$RESULTS"/*-*.json --script samples/results/long/run-long.sh --output "$RESULTS/table.md"
    if [ "$COMMIT" = 1 ]; then
      cd "$RESULTS/../../.." || exit 1
      for attempt in 1 2 3 4 5; do
        git add "samples/results/long/$distortion-$model.json" samples/results/long/table.md &&
          git commit -q -m "Table 1, long budget: $model on $distortion" -- "samples/results/long/$distortion-$model.json" samples/results/long/table.md && break
        sleep 5
      done
      cd - > /dev/null || exit 1
    fi
  done
done

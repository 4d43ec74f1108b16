#!/bin/sh
# Data-parallel throughput on this machine: one rank with 2 threads against 2 ranks (--nproc 2)
# with 1 thread each, on the same run (task, model, global batch, epochs), and the share of
# rank 0's training steps spent in the all-reduce (loss and gradients; waiting for the slower rank
# included), from each run's summary.json.
#
#   tools/dist_bench.sh [BUILD_DIR [EPOCHS [BATCH [HIDDEN]]]]   (defaults: build 5 64 64)
#
# The runs are sine windows (seed 002's series, 2000 points, 50 steps), the scratch layer, Adam,
# float32. Each configuration runs twice, the median of its epochs is printed.
set -eu
build=${1:-build}
epochs=${2:-5}
batch=${3:-64}
hidden=${4:-64}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="--task sine --points 2000 --seq-len 50 --hidden $hidden --batch-size $batch --epochs $epochs --quiet --no-plots"

summary() {  # summary DIR LABEL: samples/s and the all-reduce share from its summary.json
  python3 - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
d = s.get("distributed")
share = f"{100 * d['allreduce_share']:.1f}% all-reduce" if d else "no all-reduce"
print(f"{sys.argv[2]:<22} {s['samples_per_s_median']:>10.0f} samples/s  "
      f"{s['seconds_per_epoch_median']:.3f} s/epoch  {share}")
PY
}

for round in 1 2; do
  "$build/lstm-lab" train $flags --threads 2 --out "$out/one-$round"
  summary "$out/one-$round" "1 rank x 2 threads"
  "$build/lstm-lab" train $flags --nproc 2 --threads 1 --out "$out/two-$round"
  summary "$out/two-$round" "2 ranks x 1 thread"
done

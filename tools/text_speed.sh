#!/bin/sh
# The d2l character language model job, timed side by side in one run: lstm-lab's built-in and
# fused scratch layers (`train --task text --preset d2l`) and the same job in Python PyTorch
# (tools/d2l_text_bench.py) under each Python given, at the same threads, for the LSTM and the GRU.
# Prints the median training tokens per second of each and its ratio to each Python's.
#
#   tools/text_speed.sh BUILD_DIR TEXT THREADS EPOCHS PYTHON...
#   e.g. tools/text_speed.sh build ../shared/data/timemachine.txt 1 4 /usr/bin/python3 ~/torch-venv/bin/python
#
# A Python without torch is skipped with one line. Nothing is written outside a temporary folder.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 BUILD_DIR TEXT THREADS EPOCHS [PYTHON...]" >&2; exit 2; }
build=$1
text=$2
threads=$3
epochs=$4
shift 4
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median_tokens() {  # median_tokens RUN_DIR: tokens/s from the run's summary.json
  python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["tokens_per_s_median"]))' "$1/summary.json"
}

"$build/lstm-lab" --version | grep -E '^(CPU|BLAS)'
echo "threads $threads, $epochs epochs each (median epoch), d2l preset: hidden 32, batch 1024, seq 32, SGD lr 4, clip 1"
printf '%-5s %-34s %14s %s\n' cell layer tokens/s "lstm-lab scratch / this"
for cell in lstm gru; do
  for model in builtin scratch; do
    "$build/lstm-lab" train --task text --preset d2l --text "$text" --cell "$cell" --model "$model" \
      --epochs "$epochs" --threads "$threads" --quiet --no-plots --out "$work/$cell-$model"
  done
  scratch=$(median_tokens "$work/$cell-scratch")
  builtin=$(median_tokens "$work/$cell-builtin")
  printf '%-5s %-34s %14s\n' "$cell" "lstm-lab scratch (fused)" "$scratch"
  printf '%-5s %-34s %14s %.2fx\n' "$cell" "lstm-lab built-in" "$builtin" "$(echo "$scratch / $builtin" | bc -l)"
  for py in "$@"; do
    if ! out=$("$py" "$here/d2l_text_bench.py" --text "$text" --cell "$cell" --epochs "$epochs" \
      --threads "$threads" 2>/dev/null); then
      echo "$cell $py: skipped, it did not run the script"
      continue
    fi
    case $out in
      *skipped*) echo "$cell $py: $(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["skipped"])')"; continue ;;
    esac
    version=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["torch"])')
    tokens=$(echo "$out" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["tokens_per_s_median"]))')
    printf '%-5s %-34s %14s %.2fx\n' "$cell" "PyTorch $version" "$tokens" "$(echo "$scratch / $tokens" | bc -l)"
  done
done

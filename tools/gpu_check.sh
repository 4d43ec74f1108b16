#!/usr/bin/env bash
# Every check that needs a GPU, in one run that fits one device call (about 8 minutes on the lent
# H100/H200 machine, 16 cores): configure and build against the machine's CUDA LibTorch, then the
# parity of the scratch layers with cuDNN (TF32 off), the benchmark, the *_CUDA tests, compare on
# the three tasks, and last the whole suite with what time is left. Each step's output is a log
# under $OUT (and JSON where the command writes one), so a run cut short still says how far it got.
#
# Here, once: ../shared/device/prepare-carry.sh libcsv-dev libcsv3 libgumbo-dev libgumbo1 \
#   libicu-dev libicu72 libgloo-dev
# The device call: carry [".device"], command
#   source .device/on-device.sh; tools/gpu_check.sh
# LSTMLAB_CHECK_DEVICE=cpu LSTMLAB_CHECK_BUILD=build tools/gpu_check.sh tries every command here
# on the CPU with an existing build (no configure, no suite).
set -uo pipefail
device=${LSTMLAB_CHECK_DEVICE:-cuda}
build=${LSTMLAB_CHECK_BUILD:-build-gpu}
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
start=$SECONDS

# One step: its output in $out/NAME.log, its status and time in summary.txt; never stops the run.
step() {
  local name=$1 limit=$2
  shift 2
  local began=$SECONDS
  timeout -k 10 "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  echo "$name rc=$rc $((SECONDS - began))s" | tee -a "$summary"
  return $rc
}

if [ "$device" = cuda ]; then
  torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn",
  torch.backends.cudnn.version(), torch.cuda.get_device_name(0))' | tee -a "$summary"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >> "$summary" 2>&1
  generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  step configure 120 cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_dir;${CMAKE_PREFIX_PATH:-}" -DLSTMLAB_CUDA=ON || exit 1
  step build 300 cmake --build "$build" -j "$(nproc)" || { tail -40 "$out/build.log"; exit 1; }
fi

bin=$build/lstm-lab
for cell in lstm gru; do
  step "parity_$cell" 60 "$bin" parity --device "$device" --cell "$cell" --json "$out/parity_$cell.json"
done
step tests_cuda 90 "$build"/tests/lstmlab_tests --gtest_filter='*_CUDA*:*Cuda*'
for cell in lstm gru; do
  step "bench_$cell" 120 "$bin" bench --device "$device" --cell "$cell" --repeats 10 \
    --json "$out/bench_$cell.json"
done
step compare_sine 60 "$bin" compare --task sine --device "$device" --epochs 10 --quiet --no-plots \
  --out "$out/compare_sine"
step compare_csv 60 "$bin" compare --task csv --device "$device" --csv tests/data/fixtures/pollution_head300.csv \
  --target pollution --ignore date --categorical wnd_dir --train-rows 200 --epochs 5 --quiet \
  --no-plots --out "$out/compare_csv"
step compare_text 90 "$bin" compare --task text --device "$device" --text README.md \
  --seq-len 16 --epochs 3 --quiet --no-plots --out "$out/compare_text"
step train_sine 60 "$bin" train --task sine --device "$device" --epochs 20 --no-plots --out "$out/train_sine"

left=$((470 - (SECONDS - start)))
if [ "$device" = cuda ] && [ "$left" -gt 30 ]; then
  step ctest "$left" ctest --test-dir "$build" -j "$(nproc)" --output-on-failure --timeout 120
fi
echo "whole run $((SECONDS - start)) s" | tee -a "$summary"

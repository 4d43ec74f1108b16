#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, -DLSTMLAB_FUZZ=ON with clang, folder build-fuzz) and runs each
# one after the other for a bounded time, from its seed corpus in fuzz/corpus/<target>/. Exit 1 on
# the first crash, sanitizer report, leak or hang, whose input is kept in build-fuzz/artifacts/.
#
#   tools/fuzz_smoke.sh                  a smoke run: every target for 15 s
#   tools/fuzz_smoke.sh 600              a campaign: every target for 10 minutes
#   tools/fuzz_smoke.sh 600 csv_table    one target
#
# What the inputs found is kept in build-fuzz/corpus/<target>/ and read again by the next run, so
# campaigns add up; the seeds in the repository are only read. docs/fuzzing.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(csv_table text_cleaning flags weights_json run_config checkpoint)
fi
compiler=${LSTMLAB_FUZZ_CXX:-clang++-14}
jobs=${LSTMLAB_FUZZ_JOBS:-$(nproc)}

start=$SECONDS
cmake/install-deps.sh fuzz
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$compiler" \
    -DLSTMLAB_FUZZ=ON -DLSTMLAB_BUILD_TESTS=OFF >/dev/null
fi
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"
echo "fuzz: built in $((SECONDS - start)) s"

mkdir -p build-fuzz/artifacts
# Leaks are bugs too, but for LibTorch's own (fuzz/lsan-suppressions.txt says which and why).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan-suppressions.txt:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  max_len=4096
  [ "$t" = checkpoint ] && max_len=40000
  log=build-fuzz/artifacts/$t.log
  # One process, one worker: the machine is shared. -timeout makes a hang a reported bug.
  if ! "build-fuzz/fuzz/fuzz_$t" "$corpus" "fuzz/corpus/$t" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=4096 -max_len="$max_len" -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$t-" >"$log" 2>&1; then
    echo "fuzz: $t FAILED; the input is in build-fuzz/artifacts/, the report in $log"
    tail -40 "$log"
    status=1
    break
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cover=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  echo "fuzz: $t: $runs executions in ${seconds} s, $cover, no crash"
done
echo "fuzz: whole run $((SECONDS - start)) s"
exit $status

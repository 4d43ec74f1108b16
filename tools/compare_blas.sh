#!/bin/sh
# Times the layers' matrix products under each BLAS that Debian 12 installs side by side
# (OpenBLAS with the core that fits the CPU and with the core it picks alone, BLIS, ATLAS), by
# pointing this one process's libblas.so.3 at each through LD_LIBRARY_PATH: the machine's own
# choice (update-alternatives) is left as it is, so other programs on it are not disturbed.
#
#   tools/compare_blas.sh [BUILD_DIR [REPEATS [THREADS [CELL]]]]   (defaults: build 5 2 lstm)
#
# A BLAS that is not installed is skipped; `apt-get install libblis4-openmp libatlas3-base` adds
# the others. BLIS takes its thread count from BLIS_NUM_THREADS, not from LibTorch's OpenMP
# setting, so it is run with BLIS_NUM_THREADS=THREADS.
set -eu
build=${1:-build}
repeats=${2:-5}
threads=${3:-2}
cell=${4:-lstm}
lib=/usr/lib/x86_64-linux-gnu
variants=step-products,all-steps-products,products-only,scratch-fused,builtin

run() {  # run LABEL VAR=VALUE...: lstm-lab --version and bench with those variables
  label=$1
  shift
  echo "=== $label"
  env -u OPENBLAS_CORETYPE -u LSTMLAB_BLAS_CORE -u LD_LIBRARY_PATH "$@" \
    "$build/lstm-lab" --version 2>&1 | grep -E '^(BLAS|CPU)'
  env -u OPENBLAS_CORETYPE -u LSTMLAB_BLAS_CORE -u LD_LIBRARY_PATH "$@" \
    "$build/lstm-lab" bench --cell "$cell" --repeats "$repeats" --threads "$threads" \
    --variants "$variants" 2>&1 | grep -vE '^(CPU|BLAS|builtin/x|products-only|the ceiling|step-products)'
}

run "OpenBLAS, the core that fits this CPU (lstm-lab's default)" LSTMLAB_BLAS_CORE=auto
run "OpenBLAS, the core it picks alone" LSTMLAB_BLAS_CORE=keep
if [ -e "$lib/blis-openmp/libblas.so.3" ]; then
  run "BLIS (openmp)" LD_LIBRARY_PATH="$lib/blis-openmp" BLIS_NUM_THREADS="$threads"
fi
if [ -e "$lib/atlas/libblas.so.3" ]; then
  run "ATLAS" LD_LIBRARY_PATH="$lib/atlas"
fi

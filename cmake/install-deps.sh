#!/usr/bin/env bash
# Installs the Debian 12 packages lstm-lab builds and runs with, only those that are missing, so a
# second run costs a second. Uses sudo only when not root. See README.md for why each is here.
#   cmake/install-deps.sh        what lstm-lab and its tests need
#   cmake/install-deps.sh fuzz   that and clang, for the fuzz targets (tools/fuzz_smoke.sh)
set -euo pipefail

packages=(
  build-essential cmake          # compiler and build system
  libtorch-dev                   # LibTorch 1.13 (CPU): tensors, autograd, torch::nn::LSTM
  libopenblas0-openmp            # fast BLAS for LibTorch's matrix products (Debian's default is the reference one)
  libfmt-dev                     # formatting of tables and messages
  libcxxopts-dev                 # command-line flags
  nlohmann-json3-dev             # weights files, run records, --json reports
  libcsv-dev                     # RFC 4180 CSV parsing for the csv task (quotes, newlines in fields)
  libgtest-dev                   # the test suite
  gnuplot-nox                    # loss and forecast plots (PNG through its pngcairo terminal)
  libgumbo-dev                   # the text task: HTML to text with an HTML5 parser
  libicu-dev                     # the text task: emoji and pictographs by Unicode property, case, whitespace
  pkg-config                     # finds gumbo for CMake
  libgloo-dev                    # gloo's headers, which LibTorch's c10d ProcessGroupGloo.hpp includes (data-parallel training)
)
if [ "${1:-}" = fuzz ]; then
  packages+=(clang-14 libclang-rt-14-dev)  # libFuzzer and clang's sanitizers
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "lstm-lab: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

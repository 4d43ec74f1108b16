#pragma once
// `bench --against-python PY`: nn.LSTM / nn.GRU of the PyTorch that PY imports, timed by the
// script the repository ships (tools/torch_rnn_bench.py) on bench's sizes, in bench's run.

#include "app/tools/bench.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace lstmlab {

struct PythonBench {
  std::string python;       ///< the interpreter as the user named it
  std::string skipped;      ///< why nothing was timed (no torch); empty when rows hold times
  std::string python_version, torch_version, blas;
  int threads = 0;
  std::vector<BenchRow> rows;  ///< variant "pytorch", one per size
};

/// Where the script lives (the source tree this lstm-lab was built from).
std::string python_bench_script();

/// Runs the script under `python` with argv (no shell) at options' sizes, cell, layers, dtype,
/// repeats and LibTorch's thread count. Throws std::invalid_argument when `python` cannot be run,
/// std::runtime_error when the script fails or writes something that is not its report.
PythonBench run_python_bench(const std::string& python, const BenchOptions& options);

}  // namespace lstmlab

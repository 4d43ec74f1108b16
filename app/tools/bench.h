#pragma once
// `lstm-lab bench`: forward and forward+backward time of the built-in layer, the scratch layer
// with autograd and the scratch layer with its hand-derived backward (fused), at named sizes, in
// one process, next to the machine's measured matrix-product rate and the time of the fused
// layer's matrix products alone.

#include "models/cell.h"

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace lstmlab {

struct BenchSize {
  std::string name;
  int64_t B, T, I, H;
};

/// seed002 (950, 50, 1, 64), d2l (1024, 32, 28, 32), mid (64, 50, 64, 256),
/// fastrnns (64, 100, 512, 512).
std::vector<BenchSize> default_bench_sizes();
/// "B,T,I,H" -> a size named "custom"; throws std::invalid_argument naming --size.
BenchSize parse_bench_size(const std::string& text);

struct BenchOptions {
  CellKind cell = CellKind::Lstm;
  std::vector<BenchSize> sizes = default_bench_sizes();
  int64_t repeats = 5;
  int64_t warmup = 1;
  int64_t layers = 1;
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat;
  std::vector<std::string> variants = {"builtin", "scratch-autograd", "scratch-fused",
                                       "products-only"};
  /// A Python interpreter whose torch's nn.LSTM / nn.GRU join the table (app/tools/python_bench.h).
  std::string against_python;
};

struct Timing {
  double median = 0, min = 0, max = 0;  ///< seconds
};

struct BenchRow {
  BenchSize size;
  std::string variant;
  Timing forward, forward_backward;
  double gflop_forward = 0, gflop_forward_backward = 0;  ///< work of the gate products
  double pct_forward = 0, pct_forward_backward = 0;      ///< achieved rate / matmul rate, in %
};

struct BenchReport {
  CellKind cell = CellKind::Lstm;
  std::string runtime;
  std::string clock;         ///< what timed it (app/device_timer.h)
  bool heap_kept = false;    ///< whether malloc kept freed memory (app/memory_policy.h)
  double matmul_gflops = 0;  ///< best rate of a large square product in the same dtype
  int64_t repeats = 0;
  std::vector<std::string> platform;  ///< CPU, BLAS and its core (app/platform/platform_report.h)
  std::string warning;                ///< the BLAS runs kernels below the CPU's; empty otherwise
  nlohmann::json platform_record;     ///< the same as --json and config.json record it
  /// --against-python: the interpreter, why it was skipped, or its torch and BLAS.
  std::string python, python_skipped, torch_version, torch_blas;
  int torch_threads = 0;
  std::vector<BenchRow> rows;  ///< python's rows have variant "pytorch"
};

/// FLOPs of the gate products of one forward: 2*T*B*(I+H)*G per layer with G = gates * H (4H for
/// the LSTM, 3H for the GRU); the backward does twice the forward's (a product for the input
/// gradient and one for the weight gradient of each).
double gate_flops_forward(const BenchSize& s, int64_t layers, int64_t gates = 4);

/// Throws std::invalid_argument naming the --size when its tensors would not fit in this
/// machine's memory (CPU), before any is allocated; run_bench calls it first.
void check_bench_fits(const BenchOptions& options);
BenchReport run_bench(const BenchOptions& options);
void print_bench(const BenchReport& report, std::ostream& out);
nlohmann::json bench_json(const BenchReport& report);

}  // namespace lstmlab

#pragma once
// `lstm-lab parity`: the claim that LSTMScratch and BuiltinLSTM compute the same function, with
// numbers. Every check copies the built-in layer's weights into the scratch layer through the
// weight map, then compares forward values, gradients and a short Adam training run.

#include "models/cell.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace lstmlab {

struct ParityOptions {
  CellKind cell = CellKind::Lstm;
  torch::Device device = torch::kCPU;
  std::vector<torch::ScalarType> dtypes = {torch::kDouble, torch::kFloat};
  int64_t train_steps = 5;  ///< Adam steps in the training check
  uint64_t seed = 0;
};

/// One compared quantity. rel = max|scratch - builtin| / max|builtin|: the error relative to the
/// quantity's scale, which stays meaningful where single elements are near zero.
struct ParityRow {
  std::string shape_case;  ///< e.g. "3 layers, batch 8"
  std::string dtype;
  std::string variant;     ///< which scratch path: "autograd" or "fused"
  std::string quantity;    ///< e.g. "forward output", "grad W_h (layer 2)", "train loss per step"
  double max_abs = 0;
  double max_rel = 0;
  double tolerance = 0;    ///< on max_rel
  bool pass = false;
};

struct ParityReport {
  CellKind cell = CellKind::Lstm;
  std::string runtime;  ///< LibTorch version, device, threads
  std::vector<ParityRow> rows;
  bool all_pass() const;
};

/// Relative tolerance for a dtype and a kind of quantity ("forward", "backward", "train").
double parity_tolerance(torch::ScalarType dtype, const std::string& kind);

ParityReport run_parity(const ParityOptions& options);
void print_parity_table(const ParityReport& report, std::ostream& out);
nlohmann::json parity_json(const ParityReport& report);

}  // namespace lstmlab

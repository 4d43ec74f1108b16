#include "app/tools/parity.h"

#include "app/platform/device.h"
#include "models/layer_factory.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <map>

namespace lstmlab {
namespace {

struct ShapeCase {
  std::string name;
  int64_t T, B, I, H, L;
  bool batch_first;
  bool unbatched;
  bool with_state;
};

// The shapes users meet: one and several layers, one and many sequences, unbatched, both layouts,
// zero and given initial state, and seed 003's (batch 2, seq 5, input 10, hidden 20).
std::vector<ShapeCase> shape_cases() {
  return {
      {"1 layer, batch 1", 6, 1, 3, 5, 1, false, false, false},
      {"1 layer, batch 8, h0/c0", 7, 8, 4, 6, 1, false, false, true},
      {"3 layers, batch 8, h0/c0", 5, 8, 3, 4, 3, false, false, true},
      {"2 layers, batch_first, h0/c0", 6, 5, 3, 4, 2, true, false, true},
      {"2 layers, unbatched, h0/c0", 6, 1, 3, 4, 2, false, true, true},
      {"seed 003: batch_first 2x5x10 -> 20", 5, 2, 10, 20, 1, true, false, false},
  };
}

std::vector<int64_t> input_shape(const ShapeCase& s) {
  if (s.unbatched) return {s.T, s.I};
  return s.batch_first ? std::vector<int64_t>{s.B, s.T, s.I} : std::vector<int64_t>{s.T, s.B, s.I};
}

std::vector<int64_t> state_shape(const ShapeCase& s) {
  return s.unbatched ? std::vector<int64_t>{s.L, s.H} : std::vector<int64_t>{s.L, s.B, s.H};
}

class Checker {
 public:
  Checker(ParityReport& report, const ShapeCase& s, torch::ScalarType dtype, std::string variant)
      : report_(report), case_(s.name), dtype_(dtype), variant_(std::move(variant)) {}

  void compare(const std::string& kind, const std::string& quantity, const torch::Tensor& scratch,
               const torch::Tensor& builtin) {
    ParityRow row{case_, dtype_name(dtype_), variant_, quantity, 0, 0,
                  parity_tolerance(dtype_, kind), false};
    if (!scratch.defined() || !builtin.defined() || scratch.sizes() != builtin.sizes()) {
      row.max_abs = row.max_rel = std::numeric_limits<double>::infinity();
    } else {
      auto a = scratch.detach().to(torch::kCPU, torch::kDouble);
      auto b = builtin.detach().to(torch::kCPU, torch::kDouble);
      row.max_abs = (a - b).abs().max().item<double>();
      const double scale = b.abs().max().item<double>();
      row.max_rel = scale > 0 ? row.max_abs / scale : row.max_abs;
    }
    row.pass = row.max_rel <= row.tolerance;
    report_.rows.push_back(row);
  }

 private:
  ParityReport& report_;
  std::string case_;
  torch::ScalarType dtype_;
  std::string variant_;
};

struct Pair {
  RecurrentLayerPtr builtin, scratch;
};

// The built-in layer draws; the scratch layer takes its weights through the map.
Pair make_pair(CellKind cell, const ShapeCase& s, torch::ScalarType dtype, torch::Device device,
               ScratchBackward mode) {
  auto options = RecurrentOptions(s.I, s.H).num_layers(s.L).batch_first(s.batch_first);
  Pair p{make_recurrent_layer(cell, LayerKind::Builtin, options),
         make_recurrent_layer(cell, LayerKind::Scratch, options, mode)};
  p.builtin->to(device, dtype);
  p.scratch->to(device, dtype);
  p.scratch->set_weights(p.builtin->get_weights());
  return p;
}

std::string layer_label(const std::string& what, size_t k) {
  return fmt::format("{} (layer {})", what, k);
}

void check_forward_backward(Checker& check, CellKind cell, const ShapeCase& s,
                            torch::ScalarType dtype, torch::Device device, ScratchBackward mode) {
  auto pair = make_pair(cell, s, dtype, device, mode);
  const bool cell_state = has_cell_state(cell);
  const auto opts = torch::TensorOptions().dtype(dtype).device(device);
  const auto x = torch::randn(input_shape(s), opts);
  const auto h0 = torch::randn(state_shape(s), opts);
  const auto c0 = torch::randn(state_shape(s), opts);

  struct Run {
    RecurrentOutput out;
    torch::Tensor dx, dh0, dc0;
    StackWeights grads;
  };
  // A loss that weighs every output element differently, so every gradient path is exercised.
  torch::Tensor w_out, w_h, w_c;
  auto run = [&](RecurrentLayerImpl& layer) {
    Run r;
    auto xi = x.clone().requires_grad_(true);
    auto hi = h0.clone().requires_grad_(true);
    auto ci = c0.clone().requires_grad_(true);
    std::optional<RecurrentState> state;
    if (s.with_state) state = RecurrentState{hi, cell_state ? ci : torch::Tensor()};
    r.out = layer.forward(xi, state);
    if (!w_out.defined()) {
      w_out = torch::randn_like(r.out.output);
      w_h = torch::randn_like(r.out.state.h);
      if (cell_state) w_c = torch::randn_like(r.out.state.c);
    }
    auto loss = (r.out.output * w_out).sum() + (r.out.state.h * w_h).sum();
    if (cell_state) loss = loss + (r.out.state.c * w_c).sum();
    layer.zero_grad();
    loss.backward();
    r.dx = xi.grad();
    r.dh0 = hi.grad();
    r.dc0 = ci.grad();
    r.grads = layer.get_weight_grads();
    return r;
  };
  const Run b = run(*pair.builtin);
  const Run sc = run(*pair.scratch);

  check.compare("forward", "forward output", sc.out.output, b.out.output);
  check.compare("forward", "forward h_n", sc.out.state.h, b.out.state.h);
  if (cell_state) check.compare("forward", "forward c_n", sc.out.state.c, b.out.state.c);
  check.compare("backward", "grad input", sc.dx, b.dx);
  if (s.with_state) {
    check.compare("backward", "grad h0", sc.dh0, b.dh0);
    if (cell_state) check.compare("backward", "grad c0", sc.dc0, b.dc0);
  }
  for (size_t k = 0; k < b.grads.size(); ++k) {
    check.compare("backward", layer_label("grad W_x", k), sc.grads[k].W_x, b.grads[k].W_x);
    check.compare("backward", layer_label("grad W_h", k), sc.grads[k].W_h, b.grads[k].W_h);
    check.compare("backward", layer_label("grad b", k), sc.grads[k].b, b.grads[k].b);
    if (cell == CellKind::Gru) {
      check.compare("backward", layer_label("grad b_hn", k), sc.grads[k].b_hn, b.grads[k].b_hn);
    }
  }
}

void check_training(Checker& check, CellKind cell, const ShapeCase& s, torch::ScalarType dtype,
                    torch::Device device, ScratchBackward mode, int64_t steps) {
  auto pair = make_pair(cell, s, dtype, device, mode);
  // Same parametrisation on both sides (see hold_recurrent_bias_at_zero), same batches, same Adam.
  pair.builtin->hold_recurrent_bias_at_zero();
  pair.scratch->set_weights(pair.builtin->get_weights());
  const auto opts = torch::TensorOptions().dtype(dtype).device(device);
  std::vector<torch::Tensor> xs, ys;
  for (int64_t k = 0; k < steps; ++k) {
    xs.push_back(torch::randn(input_shape(s), opts));
    auto out_shape = input_shape(s);
    out_shape.back() = s.H;
    ys.push_back(torch::randn(out_shape, opts));
  }
  auto train = [&](RecurrentLayerImpl& layer) {
    torch::optim::Adam adam(layer.parameters(), torch::optim::AdamOptions(1e-2));
    std::vector<double> losses;
    for (int64_t k = 0; k < steps; ++k) {
      auto loss = torch::mse_loss(layer.forward(xs[k]).output, ys[k]);
      adam.zero_grad();
      loss.backward();
      adam.step();
      losses.push_back(loss.item<double>());
    }
    return losses;
  };
  const auto loss_b = train(*pair.builtin);
  const auto loss_s = train(*pair.scratch);
  check.compare("train", fmt::format("train loss, {} Adam steps", steps),
                torch::tensor(loss_s, torch::kDouble), torch::tensor(loss_b, torch::kDouble));
  const auto wb = pair.builtin->get_weights();
  const auto ws = pair.scratch->get_weights();
  for (size_t k = 0; k < wb.size(); ++k) {
    check.compare("train", layer_label("trained W_x", k), ws[k].W_x, wb[k].W_x);
    check.compare("train", layer_label("trained W_h", k), ws[k].W_h, wb[k].W_h);
    check.compare("train", layer_label("trained b", k), ws[k].b, wb[k].b);
    if (cell == CellKind::Gru) {
      check.compare("train", layer_label("trained b_hn", k), ws[k].b_hn, wb[k].b_hn);
    }
  }
}

}  // namespace

bool ParityReport::all_pass() const {
  return !rows.empty() &&
         std::all_of(rows.begin(), rows.end(), [](const ParityRow& r) { return r.pass; });
}

double parity_tolerance(torch::ScalarType dtype, const std::string& kind) {
  const bool f64 = dtype == torch::kDouble;
  // Training compounds rounding over several steps, and Adam's division by sqrt(v) magnifies it
  // where a gradient is tiny; forward and single gradients are held to the design's figures.
  if (kind == "train") return f64 ? 1e-10 : 1e-4;
  return f64 ? 1e-12 : 1e-5;
}

ParityReport run_parity(const ParityOptions& options) {
  if (options.device.is_cuda()) disable_tf32();
  ParityReport report;
  report.runtime = describe_runtime(options.device);
  report.cell = options.cell;
  torch::manual_seed(options.seed);
  const std::vector<ScratchBackward> modes = {ScratchBackward::Autograd, ScratchBackward::Fused};
  for (auto dtype : options.dtypes) {
    for (auto mode : modes) {
      for (const auto& s : shape_cases()) {
        Checker check(report, s, dtype, to_string(mode));
        check_forward_backward(check, options.cell, s, dtype, options.device, mode);
        check_training(check, options.cell, s, dtype, options.device, mode, options.train_steps);
      }
    }
  }
  return report;
}

void print_parity_table(const ParityReport& report, std::ostream& out) {
  const bool gru = report.cell == CellKind::Gru;
  out << "parity: " << (gru ? "GRUScratch vs BuiltinGRU" : "LSTMScratch vs BuiltinLSTM") << " ("
      << report.runtime << ")\n";
  out << "rel = max|scratch - builtin| / max|builtin|\n\n";
  std::string last_group;
  for (const auto& r : report.rows) {
    const auto group = fmt::format("{} | {} | scratch {}", r.dtype, r.shape_case, r.variant);
    if (group != last_group) {
      out << "\n" << group << "\n";
      out << fmt::format("  {:<34} {:>11} {:>11} {:>9}  {}\n", "quantity", "max abs", "max rel",
                         "tol", "pass");
      last_group = group;
    }
    out << fmt::format("  {:<34} {:>11.3e} {:>11.3e} {:>9.0e}  {}\n", r.quantity, r.max_abs,
                       r.max_rel, r.tolerance, r.pass ? "ok" : "FAIL");
  }
  const auto failed = std::count_if(report.rows.begin(), report.rows.end(),
                                    [](const ParityRow& r) { return !r.pass; });
  // The figures to quote: the worst relative difference per dtype, scratch path and kind.
  out << "\nworst relative difference over all shapes:\n";
  std::map<std::string, double> worst;
  for (const auto& r : report.rows) {
    const auto kind = r.quantity.rfind("forward", 0) == 0 ? "forward"
                      : r.quantity.rfind("grad", 0) == 0  ? "gradients"
                                                          : "training";
    auto& w = worst[fmt::format("{} scratch {} {}", r.dtype, r.variant, kind)];
    w = std::max(w, r.max_rel);
  }
  for (const auto& [key, value] : worst) out << fmt::format("  {:<38} {:.3e}\n", key, value);
  out << fmt::format("\n{} checks, {} failed\n", report.rows.size(), failed);
}

nlohmann::json parity_json(const ParityReport& report) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : report.rows) {
    rows.push_back({{"case", r.shape_case},
                    {"dtype", r.dtype},
                    {"variant", r.variant},
                    {"quantity", r.quantity},
                    {"max_abs", r.max_abs},
                    {"max_rel", r.max_rel},
                    {"tolerance", r.tolerance},
                    {"pass", r.pass}});
  }
  return {{"runtime", report.runtime}, {"pass", report.all_pass()}, {"checks", rows}};
}

}  // namespace lstmlab

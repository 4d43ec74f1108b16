#include "app/tools/bench.h"

#include "app/platform/device.h"
#include "app/platform/device_timer.h"
#include "app/platform/memory_policy.h"
#include "app/platform/platform_report.h"
#include "app/tools/python_bench.h"
#include "app/train/model_size.h"
#include "data/memory_limits.h"
#include "models/layer_factory.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <sstream>

namespace lstmlab {
namespace {

// `fn` run `warmup` times untimed, then `repeats` times timed: median, min and max seconds.
Timing time_it(const std::function<void()>& fn, const torch::Device& device, int64_t warmup,
               int64_t repeats) {
  const DeviceTimer timer(device);
  for (int64_t i = 0; i < warmup; ++i) fn();
  std::vector<double> seconds;
  for (int64_t i = 0; i < repeats; ++i) seconds.push_back(timer.seconds(fn));
  std::sort(seconds.begin(), seconds.end());
  return {seconds[seconds.size() / 2], seconds.front(), seconds.back()};
}

// The rate of a 2048 x 2048 product from its fastest of 7 runs: the machine's best, so that a
// moment of interference cannot lower the yardstick and flatter every % beside it.
double measure_matmul_gflops(const torch::Device& device, torch::ScalarType dtype) {
  const int64_t n = 2048;
  const auto opts = torch::TensorOptions().device(device).dtype(dtype);
  const auto a = torch::randn({n, n}, opts);
  const auto b = torch::randn({n, n}, opts);
  auto c = torch::empty({n, n}, opts);
  const auto t = time_it([&] { torch::mm_out(c, a, b); }, device, 1, 7);
  return 2.0 * static_cast<double>(n * n * n) / t.min / 1e9;
}

}  // namespace

std::vector<BenchSize> default_bench_sizes() {
  return {{"seed002", 950, 50, 1, 64},
          {"d2l", 1024, 32, 28, 32},
          {"mid", 64, 50, 64, 256},
          {"fastrnns", 64, 100, 512, 512}};
}

BenchSize parse_bench_size(const std::string& text) {
  // Each item whole: "4x" or "4.5" is not 4, and a count past int64_t is not a count.
  std::vector<int64_t> v;
  std::stringstream ss(text + ",");  // a trailing comma then leaves an empty, refused, item
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int64_t value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < item.size() && std::isspace(static_cast<unsigned char>(item[used]))) ++used;
    v.push_back(used == item.size() && used > 0 ? value : 0);
  }
  if (v.size() != 4 || std::any_of(v.begin(), v.end(), [](int64_t x) { return x <= 0; })) {
    throw std::invalid_argument("--size '" + text + "' must be four positive integers B,T,I,H");
  }
  return {"custom", v[0], v[1], v[2], v[3]};
}

double gate_flops_forward(const BenchSize& s, int64_t layers, int64_t gates) {
  const double G = static_cast<double>(gates * s.H);
  const double rows = static_cast<double>(s.T * s.B);
  double flops = 2.0 * rows * static_cast<double>(s.I + s.H) * G;
  flops += static_cast<double>(layers - 1) * 2.0 * rows * static_cast<double>(2 * s.H) * G;
  return flops;
}

namespace {

/// The matrix products of the fused layer and nothing else, on random data of the layer's shapes:
/// forward, the input product over all steps and one recurrent product per step; backward, one
/// product per step for dh, then dx, dW_x and dW_h over all steps at once. Their rate is the
/// ceiling for any layer built on these products.
class GateProducts {
 public:
  GateProducts(const BenchSize& s, int64_t layers, int64_t gates, const torch::TensorOptions& opts)
      : T_(s.T) {
    const int64_t G = gates * s.H;
    for (int64_t l = 0; l < layers; ++l) {
      const int64_t in = l == 0 ? s.I : s.H;
      Layer layer;
      layer.x = torch::randn({s.T * s.B, in}, opts);
      layer.W_x = torch::randn({in, G}, opts);
      layer.W_h = torch::randn({s.H, G}, opts);
      layer.b = torch::randn({G}, opts);
      layer.out = torch::randn({s.T * s.B, s.H}, opts);
      layer.h = layer.out.view({s.T, s.B, s.H});
      layer.gates = torch::empty({s.T, s.B, G}, opts);
      layer.dgates = torch::randn({s.T, s.B, G}, opts);
      layer.dh = torch::empty({s.B, s.H}, opts);
      layer.h_steps = layer.h.unbind(0);
      layer.gate_steps = layer.gates.unbind(0);
      layer.dgate_steps = layer.dgates.unbind(0);
      layers_.push_back(layer);
    }
  }

  /// `which`: both kinds of product, or only the per-step ones ([B,H] x [H,G] forward,
  /// [B,G] x [G,H] backward), or only the all-steps ones (the input product forward; dx, dW_x and
  /// dW_h backward), so that a BLAS can be judged on each.
  enum class Which { All, Steps, AllSteps };

  void forward(Which which = Which::All) {
    for (auto& l : layers_) {
      if (which != Which::Steps) {
        auto gates_2d = l.gates.view({-1, l.gates.size(2)});
        torch::addmm_out(gates_2d, l.b, l.x, l.W_x);
      }
      if (which == Which::AllSteps) continue;
      for (int64_t t = 0; t < T_; ++t) l.gate_steps[t].addmm_(l.h_steps[t], l.W_h);
    }
  }

  void forward_backward(Which which = Which::All) {
    forward(which);
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
      auto& l = *it;
      if (which != Which::AllSteps) {
        const auto W_hT = l.W_h.t().contiguous();
        for (int64_t t = T_ - 1; t >= 0; --t) torch::mm_out(l.dh, l.dgate_steps[t], W_hT);
      }
      if (which == Which::Steps) continue;
      const auto dG = l.dgates.view({-1, l.dgates.size(2)});
      torch::mm(dG, l.W_x.t());
      torch::mm(l.x.t(), dG);
      torch::mm(l.out.t(), dG);
      dG.sum(0);
    }
  }

 private:
  struct Layer {
    torch::Tensor x, W_x, W_h, b;
    torch::Tensor out;  // [T * B, H]
    torch::Tensor h;    // out as [T, B, H]: step t's product reads a [B, H] hidden state
    torch::Tensor gates, dgates, dh;
    // Per-step views made once, as the fused layer makes them, so that the loops make none.
    std::vector<torch::Tensor> h_steps, gate_steps, dgate_steps;
  };
  int64_t T_;
  std::vector<Layer> layers_;
};

}  // namespace

void check_bench_fits(const BenchOptions& o) {
  const double value_bytes = static_cast<double>(c10::elementSize(o.dtype));
  const double G = static_cast<double>(gate_count(o.cell));
  for (const auto& s : o.sizes) {
    const double rows = static_cast<double>(s.T) * static_cast<double>(s.B);
    const auto H = static_cast<double>(s.H);
    const auto layers = static_cast<double>(o.layers);
    // The input and the output gradient, each layer's gates and states kept for the backward
    // (autograd keeps about three copies), and the weights four times over.
    const double values =
        rows * (static_cast<double>(s.I) + H) + 3 * rows * layers * (G + 2) * H +
        4 * recurrent_parameter_count(o.cell, static_cast<double>(s.I), H, layers);
    const double needed = values * value_bytes;
    const auto memory = static_cast<double>(physical_memory_bytes());
    if (o.device.is_cpu() && needed > memory) {
      throw std::invalid_argument(fmt::format(
          "--size {},{},{},{} with --layers {}: its tensors need about {}; this machine has {} "
          "of memory",
          s.B, s.T, s.I, s.H, o.layers, describe_bytes(needed), describe_bytes(memory)));
    }
  }
}

BenchReport run_bench(const BenchOptions& o) {
  check_bench_fits(o);
  BenchReport report;
  report.runtime = describe_runtime(o.device);
  report.cell = o.cell;
  report.clock = DeviceTimer(o.device).clock();
  report.heap_kept = freed_memory_kept();
  report.repeats = o.repeats;
  // Python first: a wrong interpreter fails before minutes of timing, and its rows join below.
  PythonBench python;
  if (!o.against_python.empty()) {
    python = run_python_bench(o.against_python, o);
    report.python = o.against_python;
    report.python_skipped = python.skipped;
    report.torch_version = python.torch_version;
    report.torch_blas = python.blas;
    report.torch_threads = python.threads;
  }
  const double rate_before = measure_matmul_gflops(o.device, o.dtype);
  torch::manual_seed(0);
  for (const auto& s : o.sizes) {
    const auto opts = torch::TensorOptions().device(o.device).dtype(o.dtype);
    const auto x = torch::randn({s.T, s.B, s.I}, opts);
    const auto grad_out = torch::randn({s.T, s.B, s.H}, opts);
    const double f_fwd = gate_flops_forward(s, o.layers, gate_count(o.cell));
    for (const auto& variant : o.variants) {
      BenchRow row{s, variant, {}, {}, 0, 0, 0, 0};
      double fwd_flops = f_fwd, fwd_bwd_flops = 3.0 * f_fwd;
      if (variant == "products-only" || variant == "step-products" ||
          variant == "all-steps-products") {
        using Which = GateProducts::Which;
        const Which which = variant == "step-products"        ? Which::Steps
                            : variant == "all-steps-products" ? Which::AllSteps
                                                              : Which::All;
        // Per step: [B,H] x [H,G] forward, [B,G] x [G,H] backward, in every layer.
        const double steps = 2.0 * static_cast<double>(s.T * s.B * s.H) *
                             static_cast<double>(gate_count(o.cell) * s.H) *
                             static_cast<double>(o.layers);
        if (which == Which::Steps) {
          fwd_flops = steps;
          fwd_bwd_flops = 2.0 * steps;
        } else if (which == Which::AllSteps) {
          fwd_flops = f_fwd - steps;
          fwd_bwd_flops = 3.0 * f_fwd - 2.0 * steps;
        }
        GateProducts products(s, o.layers, gate_count(o.cell), opts);
        row.forward = time_it([&] { products.forward(which); }, o.device, o.warmup, o.repeats);
        row.forward_backward =
            time_it([&] { products.forward_backward(which); }, o.device, o.warmup, o.repeats);
      } else {
        const auto options = RecurrentOptions(s.I, s.H).num_layers(o.layers);
        RecurrentLayerPtr layer =
            variant == "builtin"
                ? make_recurrent_layer(o.cell, LayerKind::Builtin, options)
                : make_recurrent_layer(o.cell, LayerKind::Scratch, options,
                                       variant == "scratch-fused" ? ScratchBackward::Fused
                                                                  : ScratchBackward::Autograd);
        layer->to(o.device, o.dtype);
        row.forward = time_it(
            [&] {
              torch::NoGradGuard no_grad;
              layer->forward(x);
            },
            o.device, o.warmup, o.repeats);
        const auto xg = x.clone().requires_grad_(true);
        row.forward_backward = time_it(
            [&] {
              layer->zero_grad();
              layer->forward(xg).output.backward(grad_out);
            },
            o.device, o.warmup, o.repeats);
      }
      row.gflop_forward = fwd_flops / 1e9;
      row.gflop_forward_backward = fwd_bwd_flops / 1e9;
      report.rows.push_back(row);
    }
  }
  for (auto row : python.rows) {
    const double f_fwd = gate_flops_forward(row.size, o.layers, gate_count(o.cell));
    row.gflop_forward = f_fwd / 1e9;
    row.gflop_forward_backward = 3.0 * f_fwd / 1e9;
    // Beside lstm-lab's rows of the same size.
    auto after = std::find_if(report.rows.rbegin(), report.rows.rend(), [&](const BenchRow& r) {
      return r.size.name == row.size.name && r.size.B == row.size.B && r.size.T == row.size.T &&
             r.size.I == row.size.I && r.size.H == row.size.H;
    });
    report.rows.insert(after.base(), row);
  }
  // Measured again after the layers, and the better of the two kept.
  report.matmul_gflops = std::max(rate_before, measure_matmul_gflops(o.device, o.dtype));
  // After the products: OpenBLAS reports the thread count its last product used.
  report.platform = platform_lines();
  report.warning = platform_warning();
  report.platform_record = platform_json();
  for (auto& row : report.rows) {
    row.pct_forward = 100.0 * row.gflop_forward / row.forward.median / report.matmul_gflops;
    row.pct_forward_backward =
        100.0 * row.gflop_forward_backward / row.forward_backward.median / report.matmul_gflops;
  }
  return report;
}

void print_bench(const BenchReport& r, std::ostream& out) {
  out << fmt::format("bench of the {} layers ({}); {}; median of {} after warm-up, [min - max] in ms\n",
                     r.cell == CellKind::Gru ? "GRU" : "LSTM", r.runtime, r.clock, r.repeats);
  for (const auto& line : r.platform) out << line << '\n';
  if (!r.warning.empty()) out << r.warning << '\n';
  out << fmt::format("matrix-product rate (2048x2048 mm with this BLAS and core, best of 14 runs "
                     "before and after the layers): {:.1f} GFLOP/s; heap: {}\n",
                     r.matmul_gflops,
                     r.heap_kept ? "freed memory kept for reuse" : "glibc defaults");
  const bool with_python = !r.python.empty() && r.python_skipped.empty();
  if (with_python) {
    out << fmt::format("pytorch: {} under {}, {} threads, {}\n", r.torch_version, r.python,
                       r.torch_threads, r.torch_blas);
  } else if (!r.python.empty()) {
    out << "pytorch: skipped: " << r.python_skipped << '\n';
  }
  out << '\n';
  out << fmt::format("{:<22} {:<17} {:>28} {:>6} {:>28} {:>6} {:>8}{}\n", "size (B,T,I,H)",
                     "layer", "forward ms", "% mm", "forward+backward ms", "% mm", "builtin/x",
                     with_python ? " pytorch/x" : "");
  for (const auto& row : r.rows) {
    auto same_size = [&](const BenchRow& other) {
      return other.size.name == row.size.name && other.size.B == row.size.B &&
             other.size.T == row.size.T && other.size.I == row.size.I && other.size.H == row.size.H;
    };
    const BenchRow* builtin = nullptr;
    const BenchRow* pytorch = nullptr;
    for (const auto& other : r.rows) {
      if (same_size(other) && other.variant == "builtin") builtin = &other;
      if (same_size(other) && other.variant == "pytorch") pytorch = &other;
    }
    const auto size = fmt::format("{} {},{},{},{}", row.size.name, row.size.B, row.size.T,
                                  row.size.I, row.size.H);
    auto cell = [](const Timing& t) {
      return fmt::format("{:9.2f} [{:.2f} - {:.2f}]", t.median * 1e3, t.min * 1e3, t.max * 1e3);
    };
    // No built-in row at this size (--variants left it out): no ratio.
    const std::string ratio =
        builtin ? fmt::format("{:.2f}x", builtin->forward_backward.median /
                                             row.forward_backward.median)
                : "-";
    const std::string py_ratio =
        pytorch ? fmt::format("{:.2f}x", pytorch->forward_backward.median /
                                             row.forward_backward.median)
                : "-";
    out << fmt::format("{:<22} {:<17} {:>28} {:>5.1f}% {:>28} {:>5.1f}% {:>8}{}\n", size,
                       row.variant, cell(row.forward), row.pct_forward,
                       cell(row.forward_backward), row.pct_forward_backward, ratio,
                       with_python ? fmt::format(" {:>9}", py_ratio) : "");
  }
  out << "\nbuiltin/x: built-in forward+backward time / this layer's (above 1: faster than built-in)\n";
  if (with_python) {
    out << "pytorch/x: the Python torch's forward+backward time / this layer's (above 1: faster "
           "than that PyTorch)\n";
  }
  out << "products-only: the fused layer's matrix products alone, on the same shapes; its % mm is\n"
         "the ceiling for a layer built on those products\n";
  const bool split = std::any_of(r.rows.begin(), r.rows.end(), [](const BenchRow& row) {
    return row.variant == "step-products" || row.variant == "all-steps-products";
  });
  if (split) {
    out << "step-products: only the per-step products ([B,H] x [H,G] forward, [B,G] x [G,H] "
           "backward); all-steps-products: only the input product of all steps (forward) and dx, "
           "dW_x, dW_h (backward); each % mm counts its own FLOPs\n";
  }
}

nlohmann::json bench_json(const BenchReport& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows) {
    auto timing = [](const Timing& t) {
      return nlohmann::json{{"median_s", t.median}, {"min_s", t.min}, {"max_s", t.max}};
    };
    rows.push_back({{"size", row.size.name},
                    {"B", row.size.B}, {"T", row.size.T}, {"I", row.size.I}, {"H", row.size.H},
                    {"variant", row.variant},
                    {"forward", timing(row.forward)},
                    {"forward_backward", timing(row.forward_backward)},
                    {"gflop_forward", row.gflop_forward},
                    {"gflop_forward_backward", row.gflop_forward_backward},
                    {"pct_of_matmul_forward", row.pct_forward},
                    {"pct_of_matmul_forward_backward", row.pct_forward_backward}});
  }
  nlohmann::json report = {{"cell", to_string(r.cell)}, {"runtime", r.runtime},
                           {"matmul_gflops", r.matmul_gflops}, {"clock", r.clock},
                           {"heap_kept", r.heap_kept}, {"repeats", r.repeats},
                           {"platform", r.platform_record}, {"rows", rows}};
  if (!r.python.empty()) {
    report["pytorch"] = {{"python", r.python}, {"skipped", r.python_skipped},
                         {"torch", r.torch_version}, {"blas", r.torch_blas},
                         {"threads", r.torch_threads}};
  }
  return report;
}

}  // namespace lstmlab

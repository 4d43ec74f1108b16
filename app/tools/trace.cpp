#include "app/tools/trace.h"

#include "models/lstm/lstm_scratch.h"
#include "app/io/weights_file.h"

#include <fmt/format.h>
#include <torch/torch.h>

namespace lstmlab {

StackWeights statquest_weights() {
  // Canonical columns are gates i, f, g, o. Seed 004 names them: input gate wpr*/bpr1, forget gate
  // wlr*/blr1, candidate ("potential memory") wp*/bp1, output gate wo*/bo1; *1 multiplies the
  // short-term memory h, *2 the input x.
  auto opts = torch::kDouble;
  auto W_x = torch::tensor({{1.65, 1.63, 0.94, -0.19}}, opts);  // [I=1, G=4]
  auto W_h = torch::tensor({{2.00, 2.70, 1.41, 4.38}}, opts);   // [H=1, G=4]
  auto b = torch::tensor({0.62, 1.62, -0.32, 0.59}, opts);       // [G=4]
  return {{W_x, W_h, b, {}}};
}

std::vector<std::vector<double>> statquest_sequences() {
  return {{0.0, 0.5, 0.25, 1.0}, {1.0, 0.5, 0.25, 1.0}};
}

namespace {

std::string percent(const torch::Tensor& t) {
  std::string s;
  for (int64_t j = 0; j < t.numel(); ++j) {
    s += fmt::format("{}{:6.2f}%", j ? " " : "", 100.0 * t[j].item<double>());
  }
  return s;
}

std::string values(const torch::Tensor& t) {
  std::string s;
  for (int64_t j = 0; j < t.numel(); ++j) s += fmt::format("{}{:+.4f}", j ? " " : "", t[j].item<double>());
  return s;
}

}  // namespace

std::vector<torch::Tensor> run_trace(const TraceOptions& options, std::ostream& out) {
  StackWeights stack = statquest_weights();
  std::string source = "seed 004's hand weights (StatQuest)";
  if (!options.weights_path.empty()) {
    stack = load_weights_json(options.weights_path).stack;
    source = options.weights_path;
  }
  auto sequences = options.sequences.empty() ? statquest_sequences() : options.sequences;
  const LayerWeights& w = stack.at(0);
  const int64_t I = w.W_x.size(0);
  const int64_t H = w.W_h.size(0);
  if (H > options.max_hidden) {
    throw std::invalid_argument(fmt::format(
        "trace: {} has hidden size {}; a trace is readable up to {} units", source, H,
        options.max_hidden));
  }
  if (stack.size() > 1) {
    out << fmt::format("note: {} holds {} layers; tracing layer 0\n", source, stack.size());
  }
  out << fmt::format("trace of a {}-input, {}-unit LSTM cell, weights from {}, zero initial state\n",
                     I, H, source);

  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> finals;
  for (size_t n = 0; n < sequences.size(); ++n) {
    const auto& seq = sequences[n];
    if (seq.empty() || seq.size() % static_cast<size_t>(I) != 0) {
      throw std::invalid_argument(fmt::format(
          "trace: sequence {} has {} numbers; with input size {} it needs a positive multiple of {}",
          n + 1, seq.size(), I, I));
    }
    const auto x = torch::tensor(seq, torch::kDouble).view({-1, 1, I});  // [T, B=1, I]
    auto h = torch::zeros({1, H}, torch::kDouble);
    auto c = torch::zeros({1, H}, torch::kDouble);
    out << fmt::format("\nsequence {}: [{}]\n", n + 1, fmt::join(seq, ", "));
    for (int64_t t = 0; t < x.size(0); ++t) {
      const auto s = lstm_cell(x[t], h, c, w, Activation::Tanh);
      out << fmt::format("step {}  input {}\n", t + 1, values(x[t][0]));
      out << fmt::format("  forget gate (% of long-term memory kept)   {}\n", percent(s.forget_gate[0]));
      out << fmt::format("  input gate (% of the candidate stored)     {}\n", percent(s.input_gate[0]));
      out << fmt::format("  candidate (potential long-term memory)     {}\n", values(s.candidate[0]));
      out << fmt::format("  new long-term memory c                     {}\n", values(s.c[0]));
      out << fmt::format("  output gate (% of memory shown)            {}\n", percent(s.output_gate[0]));
      out << fmt::format("  new short-term memory h                    {}\n", values(s.h[0]));
      h = s.h;
      c = s.c;
    }
    out << fmt::format("output after {} steps: {}\n", x.size(0), values(h[0]));
    finals.push_back(h[0].clone());
  }
  return finals;
}

}  // namespace lstmlab

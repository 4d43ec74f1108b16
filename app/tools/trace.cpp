#include "app/tools/trace.h"

#include "models/lstm/lstm_scratch.h"
#include "app/io/weights_file.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

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

std::string statquest_name(const std::string& tensor, int64_t gate) {
  static const char* const stems[] = {"pr", "lr", "p", "o"};  // i, f, g, o
  const std::string stem = stems[gate];
  if (tensor == "b") return "b" + stem + "1";
  return "w" + stem + (tensor == "W_h" ? "1" : "2");
}

namespace {

const char kGateLetters[] = "ifgo";

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split(const std::string& text, char delimiter) {
  std::vector<std::string> parts;
  std::string part;
  std::stringstream ss(text);
  while (std::getline(ss, part, delimiter)) parts.push_back(part);
  if (!text.empty() && text.back() == delimiter) parts.emplace_back();  // "1;" has an empty step
  return parts;
}

/// A finite number, or nothing.
std::optional<double> to_number(const std::string& item) {
  const auto text = trimmed(item);
  if (text.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string plural(size_t n, const std::string& word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// Gates are shares in (0, 1), the rest signed; both 7 wide so that columns line up.
std::string share(double v) { return fmt::format("{:7.4f}", v); }
std::string signed4(double v) { return fmt::format("{:+7.4f}", v); }

std::string row_of(const torch::Tensor& t, std::string (*format)(double)) {
  std::string s;
  for (int64_t j = 0; j < t.numel(); ++j) s += (j ? " " : "") + format(t[j].item<double>());
  return s;
}

std::string list_of(const std::vector<double>& v) {
  std::string s;
  for (size_t j = 0; j < v.size(); ++j) s += fmt::format("{}{:+.4f}", j ? ", " : "", v[j]);
  return "[" + s + "]";
}

// "[0, 0.5, 0.25, 1]" for one feature a step, "[1, 2; 3, 4]" for more: as --sequence reads it.
std::string sequence_text(const TraceSequence& seq) {
  std::vector<std::string> steps;
  for (const auto& step : seq) steps.push_back(fmt::format("{}", fmt::join(step, ", ")));
  return fmt::format("[{}]", fmt::join(steps, seq.at(0).size() == 1 ? ", " : "; "));
}

void print_lines(const LSTMStep& s, std::ostream& out) {
  const auto line = [&](const char* label, const torch::Tensor& t, std::string (*format)(double)) {
    out << fmt::format("  {:<46}{}\n", label, row_of(t[0], format));
  };
  line("forget gate (share of long-term memory kept)", s.forget_gate, share);
  line("input gate (share of the candidate stored)", s.input_gate, share);
  line("candidate (potential long-term memory)", s.candidate, signed4);
  line("new long-term memory c", s.c, signed4);
  line("output gate (share of memory shown)", s.output_gate, share);
  line("new short-term memory h", s.h, signed4);
}

void print_table(const LSTMStep& s, std::ostream& out) {
  out << fmt::format("  {:>5} {:>7} {:>7} {:>9} {:>7} {:>7} {:>7}\n", "unit", "forget", "input",
                     "candidate", "c", "output", "h");
  const auto at = [](const torch::Tensor& t, int64_t u) { return t[0][u].item<double>(); };
  for (int64_t u = 0; u < s.h.size(1); ++u) {
    out << fmt::format("  {:>5} {} {} {:>9} {} {} {}\n", u, share(at(s.forget_gate, u)),
                       share(at(s.input_gate, u)), signed4(at(s.candidate, u)), signed4(at(s.c, u)),
                       share(at(s.output_gate, u)), signed4(at(s.h, u)));
  }
}

/// "W_x[0,f]" for one unit, "W_x[0,f3]" for unit 3 of several; "b[f3]".
std::string canonical_name(const std::string& tensor, int64_t row, int64_t column, int64_t H) {
  const int64_t gate = column / H;
  const std::string col = H == 1 ? std::string(1, kGateLetters[gate])
                                 : fmt::format("{}{}", kGateLetters[gate], column % H);
  return tensor == "b" ? fmt::format("b[{}]", col) : fmt::format("{}[{},{}]", tensor, row, col);
}

void print_gradients(const LayerWeights& before, const TraceResult& r, double lr,
                     std::ostream& out) {
  const int64_t I = before.W_x.size(0);
  const int64_t H = before.W_h.size(0);
  struct Entry {
    std::string name;
    double value, grad, after;
  };
  std::vector<Entry> entries;
  auto add = [&](const std::string& tensor, const torch::Tensor& w, const torch::Tensor& g,
                 const torch::Tensor& a, int64_t row, int64_t column) {
    const auto pick = [&](const torch::Tensor& t) {
      return (t.dim() == 1 ? t[column] : t[row][column]).item<double>();
    };
    std::string name = canonical_name(tensor, row, column, H);
    if (I == 1 && H == 1) name = fmt::format("{:<5} {}", statquest_name(tensor, column), name);
    entries.push_back({name, pick(w), pick(g), pick(a)});
  };
  if (I == 1 && H == 1) {
    // The seed's order: forget, input, candidate, output; h weight, x weight, bias.
    for (int64_t gate : {1, 0, 2, 3}) {
      add("W_h", before.W_h, r.grad.W_h, r.after.W_h, 0, gate);
      add("W_x", before.W_x, r.grad.W_x, r.after.W_x, 0, gate);
      add("b", before.b, r.grad.b, r.after.b, 0, gate);
    }
  } else {
    for (int64_t k = 0; k < I; ++k) {
      for (int64_t j = 0; j < 4 * H; ++j) add("W_x", before.W_x, r.grad.W_x, r.after.W_x, k, j);
    }
    for (int64_t k = 0; k < H; ++k) {
      for (int64_t j = 0; j < 4 * H; ++j) add("W_h", before.W_h, r.grad.W_h, r.after.W_h, k, j);
    }
    for (int64_t j = 0; j < 4 * H; ++j) add("b", before.b, r.grad.b, r.after.b, 0, j);
  }
  size_t width = 6;
  for (const auto& e : entries) width = std::max(width, e.name.size());
  out << fmt::format("gradient of the loss, and one Adam step (lr {}) from the starting weights:\n",
                     lr);
  out << fmt::format("  {:<{}}  {:>10}  {:>12}  {:>10}\n", "weight", width, "value", "gradient",
                     "after Adam");
  for (const auto& e : entries) {
    out << fmt::format("  {:<{}}  {:+10.6f}  {:+12.4e}  {:+10.6f}\n", e.name, width, e.value,
                       e.grad, e.after);
  }
}

torch::Tensor initial_state(const std::vector<double>& values, const char* flag, int64_t H,
                            const std::string& source) {
  if (values.empty()) return torch::zeros({1, H}, torch::kDouble);
  if (static_cast<int64_t>(values.size()) != H) {
    throw std::invalid_argument(fmt::format("{}: {}, expected {} (the hidden size of {})", flag,
                                            plural(values.size(), "value"), H, source));
  }
  return torch::tensor(values, torch::kDouble).view({1, H});
}

[[noreturn]] void sequence_error(const std::string& text, const std::string& what) {
  throw std::invalid_argument(fmt::format("--sequence '{}': {}", text, what));
}

}  // namespace

std::vector<double> parse_number_list(const std::string& flag, const std::string& text) {
  std::vector<double> values;
  for (const auto& item : split(text, ',')) {
    const auto v = to_number(item);
    if (!v) {
      throw std::invalid_argument(fmt::format(
          "{} '{}': '{}' is not a number; expected comma-separated numbers", flag, text, item));
    }
    values.push_back(*v);
  }
  if (values.empty()) {
    throw std::invalid_argument(fmt::format("{} '': expected comma-separated numbers", flag));
  }
  return values;
}

TraceSequence parse_trace_sequence(const std::string& text, int64_t input_size) {
  const auto I = static_cast<size_t>(input_size);
  if (trimmed(text).empty()) {
    sequence_error(text, "no steps; expected numbers such as '0,0.5,0.25,1'");
  }
  // With one input feature, "0,0.5,0.25,1" is four steps: the seed's own way of writing it.
  const bool scalar_steps = I == 1 && text.find(';') == std::string::npos;
  const auto step_texts = split(text, scalar_steps ? ',' : ';');
  TraceSequence seq;
  for (size_t t = 0; t < step_texts.size(); ++t) {
    if (trimmed(step_texts[t]).empty()) {
      sequence_error(text, fmt::format("step {} is empty; expected {} per step", t + 1,
                                       plural(I, "number")));
    }
    const auto items =
        scalar_steps ? std::vector<std::string>{step_texts[t]} : split(step_texts[t], ',');
    std::vector<double> step;
    for (const auto& item : items) {
      const auto v = to_number(item);
      if (!v) {
        sequence_error(text, fmt::format("step {}: '{}' is not a number", t + 1, trimmed(item)));
      }
      step.push_back(*v);
    }
    if (!seq.empty() && step.size() != seq[0].size()) {
      sequence_error(text, fmt::format("step {} has {}, step 1 has {}; expected {} per step", t + 1,
                                       plural(step.size(), "feature"), seq[0].size(),
                                       plural(I, "feature")));
    }
    seq.push_back(std::move(step));
  }
  if (seq[0].size() != I) {
    std::string hint;
    if (seq.size() == 1 && seq[0].size() % I == 0) {
      hint = "; separate steps with ';' and features with ',', as in '1,2;3,4'";
    }
    sequence_error(text, fmt::format("step 1 has {}, expected {} (the weights' input size){}",
                                     plural(seq[0].size(), "feature"), I, hint));
  }
  return seq;
}

std::vector<TraceResult> run_trace(const TraceOptions& options, std::ostream& out) {
  StackWeights stack = statquest_weights();
  std::string source = "seed 004's hand weights (StatQuest)";
  if (!options.weights_path.empty()) {
    stack = load_weights_json(options.weights_path).stack;
    source = options.weights_path;
  }
  const LayerWeights& w0 = stack.at(0);
  const int64_t I = w0.W_x.size(0);
  const int64_t H = w0.W_h.size(0);

  // Every flag is checked before the first line is printed.
  std::vector<TraceSequence> sequences;
  for (const auto& text : options.sequences) sequences.push_back(parse_trace_sequence(text, I));
  if (sequences.empty()) {
    for (const auto& scalars : statquest_sequences()) {
      TraceSequence seq;
      for (double x : scalars) seq.push_back({x});
      sequences.push_back(std::move(seq));
    }
    if (I != 1) {
      throw std::invalid_argument(fmt::format(
          "--sequence: {} takes {} input features a step; give --sequence with steps split by ';' "
          "and features by ','", source, I));
    }
  }
  const auto h0 = initial_state(options.h0, "--h0", H, source);
  const auto c0 = initial_state(options.c0, "--c0", H, source);
  if (!(options.lr > 0) || !std::isfinite(options.lr)) {
    throw std::invalid_argument(fmt::format("--lr: {}, expected a positive number", options.lr));
  }
  const bool table = H > options.max_line_hidden;

  if (stack.size() > 1) {
    out << fmt::format("note: {} holds {} layers; tracing layer 0\n", source, stack.size());
  }
  const std::string state =
      options.h0.empty() && options.c0.empty()
          ? "zero initial state"
          : fmt::format("initial short-term memory h0 {}, long-term memory c0 {}",
                        list_of(options.h0.empty() ? std::vector<double>(H, 0.0) : options.h0),
                        list_of(options.c0.empty() ? std::vector<double>(H, 0.0) : options.c0));
  out << fmt::format("trace of a {}-input, {}-unit LSTM cell, weights from {}, {}\n", I, H, source,
                     state);
  if (table) {
    out << "columns: forget (share of long-term memory kept), input (share of the candidate "
           "stored), candidate (potential long-term memory), c (new long-term memory), output "
           "(share of memory shown), h (new short-term memory)\n";
  }

  const bool learn = options.target.has_value();
  std::vector<TraceResult> results;
  for (size_t n = 0; n < sequences.size(); ++n) {
    const auto& seq = sequences[n];
    // Fresh leaves for each sequence: every loss and Adam step starts from the file's weights.
    LayerWeights w{w0.W_x.detach().clone().requires_grad_(learn),
                   w0.W_h.detach().clone().requires_grad_(learn),
                   w0.b.detach().clone().requires_grad_(learn)};
    std::optional<torch::NoGradGuard> no_grad;
    if (!learn) no_grad.emplace();
    auto h = h0;
    auto c = c0;
    out << fmt::format("\nsequence {}: {}\n", n + 1, sequence_text(seq));
    for (size_t t = 0; t < seq.size(); ++t) {
      const auto x_t = torch::tensor(seq[t], torch::kDouble).view({1, I});  // [B=1, I]
      const auto s = lstm_cell(x_t, h, c, w, Activation::Tanh);
      out << fmt::format("step {}  input {}\n", t + 1, row_of(x_t[0], signed4));
      if (table) {
        print_table(s, out);
      } else {
        print_lines(s, out);
      }
      h = s.h;
      c = s.c;
    }
    out << fmt::format("output after {}: {}\n", plural(seq.size(), "step"), row_of(h[0], signed4));

    TraceResult r;
    r.h = h[0].detach().clone();
    r.c = c[0].detach().clone();
    if (learn) {
      const double target = *options.target;
      const auto loss = (h[0] - target).pow(2).mean();
      loss.backward();
      r.loss = loss.item<double>();
      r.grad = {w.W_x.grad().clone(), w.W_h.grad().clone(), w.b.grad().clone()};
      torch::optim::Adam adam({w.W_x, w.W_h, w.b}, torch::optim::AdamOptions(options.lr));
      adam.step();
      r.after = {w.W_x.detach().clone(), w.W_h.detach().clone(), w.b.detach().clone()};
      const auto what = H == 1 ? std::string("loss (h - target)^2")
                               : fmt::format("loss: mean over {} units of (h - target)^2", H);
      out << fmt::format("{} with target {}: {:.6f}\n", what, target, *r.loss);
      print_gradients(w0, r, options.lr, out);
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace lstmlab

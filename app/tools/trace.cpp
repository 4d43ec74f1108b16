#include "app/tools/trace.h"

#include "app/io/weights_file.h"
#include "app/train/model_size.h"
#include "models/gru/gru_scratch.h"
#include "models/layer_factory.h"
#include "models/lstm/lstm_scratch.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
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

/// One stage of a step as it is printed: a line in words, or a column of the table.
struct Stage {
  const char* label;   ///< the line: "forget gate (share of long-term memory kept)"
  const char* column;  ///< the table's header: "forget"
  torch::Tensor value;  ///< [1, H]
  std::string (*format)(double);
};

std::vector<Stage> stages_of(const LSTMStep& s) {
  return {{"forget gate (share of long-term memory kept)", "forget", s.forget_gate, share},
          {"input gate (share of the candidate stored)", "input", s.input_gate, share},
          {"candidate (potential long-term memory)", "candidate", s.candidate, signed4},
          {"new long-term memory c", "c", s.c, signed4},
          {"output gate (share of memory shown)", "output", s.output_gate, share},
          {"new short-term memory h", "h", s.h, signed4}};
}

std::vector<Stage> stages_of(const GRUStep& s) {
  return {{"reset gate (share of the old h the candidate sees)", "reset", s.reset_gate, share},
          {"update gate (share of the old h kept)", "update", s.update_gate, share},
          {"candidate (potential new h)", "candidate", s.candidate, signed4},
          {"new hidden state h", "h", s.h, signed4}};
}

const char* table_legend(CellKind cell) {
  return cell == CellKind::Lstm
             ? "columns: forget (share of long-term memory kept), input (share of the candidate "
               "stored), candidate (potential long-term memory), c (new long-term memory), output "
               "(share of memory shown), h (new short-term memory)\n"
             : "columns: reset (share of the old h the candidate sees), update (share of the old h "
               "kept), candidate (potential new h), h (new hidden state)\n";
}

void print_lines(const std::vector<Stage>& stages, std::ostream& out) {
  size_t width = 0;
  for (const auto& s : stages) width = std::max(width, std::string(s.label).size());
  for (const auto& s : stages) {
    out << fmt::format("  {:<{}}{}\n", s.label, width + 2, row_of(s.value[0], s.format));
  }
}

// One row a unit; a column is as wide as its header, and at least a number's 7.
void print_table(const std::vector<Stage>& stages, std::ostream& out) {
  const auto width = [](const Stage& s) { return std::max<size_t>(7, std::string(s.column).size()); };
  std::string header = fmt::format("  {:>5}", "unit");
  for (const auto& s : stages) header += fmt::format(" {:>{}}", s.column, width(s));
  out << header << '\n';
  for (int64_t u = 0; u < stages.at(0).value.size(1); ++u) {
    std::string row = fmt::format("  {:>5}", u);
    for (const auto& s : stages) {
      row += fmt::format(" {:>{}}", s.format(s.value[0][u].item<double>()), width(s));
    }
    out << row << '\n';
  }
}

const char* gate_letters(CellKind cell) { return cell == CellKind::Lstm ? "ifgo" : "rzn"; }

/// "W_x[0,f]" for one unit, "W_x[0,f3]" for unit 3 of several; "b[f3]"; the GRU's "b_hn[n3]".
std::string canonical_name(const std::string& tensor, int64_t row, int64_t column, int64_t H,
                           CellKind cell) {
  const int64_t gate = column / H;
  const char letter = gate_letters(cell)[gate];
  const std::string col = H == 1 ? std::string(1, letter) : fmt::format("{}{}", letter, column % H);
  if (tensor == "b" || tensor == "b_hn") return fmt::format("{}[{}]", tensor, col);
  return fmt::format("{}[{},{}]", tensor, row, col);
}

void print_gradients(const LayerWeights& before, const TraceResult& r, double lr, CellKind cell,
                     std::ostream& out) {
  const int64_t I = before.W_x.size(0);
  const int64_t H = before.W_h.size(0);
  const int64_t G = gate_count(cell) * H;
  const bool seed_names = cell == CellKind::Lstm && I == 1 && H == 1;
  struct Entry {
    std::string name;
    double value, grad, after;
  };
  std::vector<Entry> entries;
  // `column` indexes the canonical gate columns; b_hn holds only n's, the last H of them.
  auto add = [&](const std::string& tensor, const torch::Tensor& w, const torch::Tensor& g,
                 const torch::Tensor& a, int64_t row, int64_t column) {
    const int64_t at = tensor == "b_hn" ? column - 2 * H : column;
    const auto pick = [&](const torch::Tensor& t) {
      return (t.dim() == 1 ? t[at] : t[row][at]).item<double>();
    };
    std::string name = canonical_name(tensor, row, column, H, cell);
    if (seed_names) name = fmt::format("{:<5} {}", statquest_name(tensor, column), name);
    entries.push_back({name, pick(w), pick(g), pick(a)});
  };
  if (seed_names) {
    // The seed's order: forget, input, candidate, output; h weight, x weight, bias.
    for (int64_t gate : {1, 0, 2, 3}) {
      add("W_h", before.W_h, r.grad.W_h, r.after.W_h, 0, gate);
      add("W_x", before.W_x, r.grad.W_x, r.after.W_x, 0, gate);
      add("b", before.b, r.grad.b, r.after.b, 0, gate);
    }
  } else {
    for (int64_t k = 0; k < I; ++k) {
      for (int64_t j = 0; j < G; ++j) add("W_x", before.W_x, r.grad.W_x, r.after.W_x, k, j);
    }
    for (int64_t k = 0; k < H; ++k) {
      for (int64_t j = 0; j < G; ++j) add("W_h", before.W_h, r.grad.W_h, r.after.W_h, k, j);
    }
    for (int64_t j = 0; j < G; ++j) add("b", before.b, r.grad.b, r.after.b, 0, j);
    if (r.grad.b_hn.defined()) {
      for (int64_t j = 2 * H; j < G; ++j) {
        add("b_hn", before.b_hn, r.grad.b_hn, r.after.b_hn, 0, j);
      }
    }
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

int64_t trace_input_size(const std::string& text) {
  if (text.find(';') == std::string::npos) return 1;
  return static_cast<int64_t>(split(text.substr(0, text.find(';')), ',').size());
}

namespace {

/// The weights a trace runs, where they came from, and the cell they are for.
struct TracedCell {
  CellKind cell = CellKind::Lstm;
  LayerWeights weights;  ///< layer 0, float64
  std::string source;
  size_t layers = 1;
};

TracedCell traced_cell(const TraceOptions& options) {
  TracedCell t;
  if (!options.weights_path.empty()) {
    if (options.hidden || options.seed) {
      throw std::invalid_argument(fmt::format(
          "{}: {} sets the cell's size and values; give --hidden and --seed only without --weights",
          options.hidden ? "--hidden" : "--seed", options.weights_path));
    }
    const auto file = load_weights_json(options.weights_path);
    if (options.cell && *options.cell != file.cell) {
      throw std::invalid_argument(fmt::format("--cell {}: {} holds {} weights",
                                              to_string(*options.cell), options.weights_path,
                                              to_string(file.cell)));
    }
    t.cell = file.cell;
    t.weights = file.stack.at(0);
    t.source = options.weights_path;
    t.layers = file.stack.size();
    return t;
  }
  t.cell = options.cell.value_or(CellKind::Lstm);
  if (t.cell == CellKind::Lstm && !options.hidden && !options.seed) {
    t.weights = statquest_weights().at(0);
    t.source = "seed 004's hand weights (StatQuest)";
    return t;
  }
  const int64_t I = options.sequences.empty() ? 1 : trace_input_size(options.sequences.front());
  const int64_t H = options.hidden.value_or(1);
  if (H < 1) throw std::invalid_argument(fmt::format("--hidden {}: expected at least 1", H));
  check_model_fits(t.cell, static_cast<double>(I), static_cast<double>(H), 1, 8,
                   fmt::format("--hidden {}", H));
  const uint64_t seed = options.seed.value_or(0);
  torch::manual_seed(seed);
  const auto layer = make_recurrent_layer(
      t.cell, LayerKind::Scratch, RecurrentOptions(I, H).reset_after(options.reset_after));
  t.weights = layer->get_weights().at(0);
  t.source = fmt::format("the seeded init (seed {}: PyTorch's uniform within +-1/sqrt(H))", seed);
  return t;
}

std::string variant_text(const TracedCell& t, bool reset_after) {
  if (t.cell == CellKind::Lstm) return "LSTM cell";
  return reset_after ? "GRU cell (reset gate after the recurrent product, as PyTorch)"
                     : "GRU cell (reset gate before the recurrent product, as d2l)";
}

torch::Tensor as_leaf(const torch::Tensor& t, bool learn) {
  return t.defined() ? t.detach().to(torch::kDouble).clone().requires_grad_(learn) : t;
}

torch::Tensor grad_of(const torch::Tensor& t) {
  return t.defined() && t.grad().defined() ? t.grad().clone() : torch::Tensor();
}

torch::Tensor value_of(const torch::Tensor& t) {
  return t.defined() ? t.detach().clone() : t;
}

}  // namespace

std::vector<TraceResult> run_trace(const TraceOptions& options, std::ostream& out) {
  const TracedCell traced = traced_cell(options);
  const CellKind cell = traced.cell;
  const bool is_gru = cell == CellKind::Gru;
  const std::string& source = traced.source;
  const LayerWeights& w0 = traced.weights;
  const int64_t I = w0.W_x.size(0);
  const int64_t H = w0.W_h.size(0);

  // Every flag is checked before the first line is printed.
  if (!options.reset_after && !is_gru) {
    throw std::invalid_argument("--gru-reset before: the reset gate is the GRU's; trace an LSTM "
                                "without it, or give --cell gru");
  }
  if (is_gru && !options.c0.empty()) {
    throw std::invalid_argument("--c0: a GRU has no long-term memory, its state is h alone; give "
                                "--h0");
  }
  if (is_gru && !options.reset_after && w0.b_hn.defined() &&
      w0.b_hn.abs().max().item<double>() != 0) {
    throw std::invalid_argument(fmt::format(
        "--gru-reset before: {} has a non-zero recurrent bias of the candidate (b_hn), which d2l's "
        "variant has no place for; trace it with --gru-reset after", source));
  }
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

  if (traced.layers > 1) {
    out << fmt::format("note: {} holds {} layers; tracing layer 0\n", source, traced.layers);
  }
  const auto zeros_or = [&](const std::vector<double>& v) {
    return list_of(v.empty() ? std::vector<double>(H, 0.0) : v);
  };
  std::string state = "zero initial state";
  if (is_gru && !options.h0.empty()) {
    state = fmt::format("initial hidden state h0 {}", list_of(options.h0));
  } else if (!is_gru && (!options.h0.empty() || !options.c0.empty())) {
    state = fmt::format("initial short-term memory h0 {}, long-term memory c0 {}",
                        zeros_or(options.h0), zeros_or(options.c0));
  }
  out << fmt::format("trace of a {}-input, {}-unit {}, weights from {}, {}\n", I, H,
                     variant_text(traced, options.reset_after), source, state);
  if (table) out << table_legend(cell);

  const bool learn = options.target.has_value();
  // d2l's variant has no b_hn: it is neither used nor learnt.
  const bool has_b_hn = is_gru && options.reset_after;
  std::vector<TraceResult> results;
  for (size_t n = 0; n < sequences.size(); ++n) {
    const auto& seq = sequences[n];
    // Fresh leaves for each sequence: every loss and Adam step starts from the file's weights.
    LayerWeights w{as_leaf(w0.W_x, learn), as_leaf(w0.W_h, learn), as_leaf(w0.b, learn),
                   has_b_hn ? as_leaf(w0.b_hn, learn) : torch::Tensor()};
    std::optional<torch::NoGradGuard> no_grad;
    if (!learn) no_grad.emplace();
    auto h = h0;
    auto c = c0;
    out << fmt::format("\nsequence {}: {}\n", n + 1, sequence_text(seq));
    for (size_t t = 0; t < seq.size(); ++t) {
      const auto x_t = torch::tensor(seq[t], torch::kDouble).view({1, I});  // [B=1, I]
      std::vector<Stage> stages;
      if (is_gru) {
        const auto s = gru_cell(x_t, h, w, options.reset_after);
        stages = stages_of(s);
        h = s.h;
      } else {
        const auto s = lstm_cell(x_t, h, c, w, Activation::Tanh);
        stages = stages_of(s);
        h = s.h;
        c = s.c;
      }
      out << fmt::format("step {}  input {}\n", t + 1, row_of(x_t[0], signed4));
      if (table) {
        print_table(stages, out);
      } else {
        print_lines(stages, out);
      }
    }
    out << fmt::format("output after {}: {}\n", plural(seq.size(), "step"), row_of(h[0], signed4));

    TraceResult r;
    r.h = h[0].detach().clone();
    if (!is_gru) r.c = c[0].detach().clone();
    if (learn) {
      const double target = *options.target;
      const auto loss = (h[0] - target).pow(2).mean();
      loss.backward();
      r.loss = loss.item<double>();
      r.grad = {grad_of(w.W_x), grad_of(w.W_h), grad_of(w.b), grad_of(w.b_hn)};
      std::vector<torch::Tensor> params = {w.W_x, w.W_h, w.b};
      if (has_b_hn) params.push_back(w.b_hn);
      torch::optim::Adam adam(params, torch::optim::AdamOptions(options.lr));
      adam.step();
      r.after = {value_of(w.W_x), value_of(w.W_h), value_of(w.b), value_of(w.b_hn)};
      const auto what = H == 1 ? std::string("loss (h - target)^2")
                               : fmt::format("loss: mean over {} units of (h - target)^2", H);
      out << fmt::format("{} with target {}: {:.6f}\n", what, target, *r.loss);
      print_gradients(w0, r, options.lr, cell, out);
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace lstmlab

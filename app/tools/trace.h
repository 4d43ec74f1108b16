#pragma once
// `lstm-lab trace`: every stage of every step of an LSTM cell, as StatQuest's "LSTM by hand"
// prints it, from the scratch cell's own arithmetic; with a target, the seed's last lines too: the
// squared error, every weight's gradient (autograd, float64) and the weights after one Adam step.
//
// Letters: T time steps, I input features, H hidden units, G = 4H gate columns (i, f, g, o).

#include "models/recurrent_layer.h"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace lstmlab {

/// One sequence's inputs: [T][I].
using TraceSequence = std::vector<std::vector<double>>;

struct TraceOptions {
  std::string weights_path;  ///< JSON weights; empty: seed 004's hand weights
  /// `--sequence` texts, one a sequence: steps split by ';', features by ','; with input size 1 a
  /// text without ';' splits its steps at the commas ("0,0.5,0.25,1" is four steps). Empty: seed
  /// 004's two sequences.
  std::vector<std::string> sequences;
  std::vector<double> h0;  ///< initial short-term memory [H]; empty: zeros
  std::vector<double> c0;  ///< initial long-term memory [H]; empty: zeros
  /// With a target: loss = mean over the H units of (h_T - target)^2 (seed 004's (h - 0.5)^2 when
  /// H = 1), its gradient and one Adam step, for each sequence from the same starting weights.
  std::optional<double> target;
  double lr = 0.001;  ///< the Adam step's learning rate; seed 004's optim.Adam default
  int64_t max_line_hidden = 4;  ///< wider cells print a table per step, one row a unit
};

/// What one sequence left: the final state and, with a target, the loss and the Adam step.
struct TraceResult {
  torch::Tensor h, c;  ///< final short- and long-term memory [H]
  std::optional<double> loss;
  LayerWeights grad;   ///< d loss / d weights, canonical layout (with a target)
  LayerWeights after;  ///< the weights after one Adam step at options.lr (with a target)
};

/// Seed 004's one-unit LSTM (StatQuest): forget, input, candidate and output weights and biases,
/// as a canonical one-layer stack (I = 1, H = 1).
StackWeights statquest_weights();
/// Seed 004's two sequences of scalar inputs: company A [0, 0.5, 0.25, 1] and company B
/// [1, 0.5, 0.25, 1].
std::vector<std::vector<double>> statquest_sequences();
/// Seed 004's name of each canonical weight of a one-input, one-unit cell: "wlr1" is W_h[0, f].
/// `tensor` is "W_x", "W_h" or "b"; gate 0..3 is i, f, g, o.
std::string statquest_name(const std::string& tensor, int64_t gate);

/// A `--sequence` text read for a cell of `input_size` features. Throws std::invalid_argument,
/// one line naming --sequence, the step and what was expected, for a bad number, ragged steps, or
/// steps whose feature count is not input_size.
TraceSequence parse_trace_sequence(const std::string& text, int64_t input_size);
/// "1,-0.5" -> {1, -0.5}; throws std::invalid_argument naming `flag` on anything but finite
/// numbers.
std::vector<double> parse_number_list(const std::string& flag, const std::string& text);

/// Prints the trace; returns what each sequence left.
std::vector<TraceResult> run_trace(const TraceOptions& options, std::ostream& out);

}  // namespace lstmlab

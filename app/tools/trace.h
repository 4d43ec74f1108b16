#pragma once
// `lstm-lab trace`: every stage of every step of an LSTM or GRU cell, as StatQuest's "LSTM by hand"
// prints it, from the scratch cell's own arithmetic (lstm_cell, gru_cell); with a target, the
// seed's last lines too: the squared error, every weight's gradient (autograd, float64) and the
// weights after one Adam step.
//
// Letters: T time steps, I input features, H hidden units, G gate columns: 4H for the LSTM
// (i, f, g, o), 3H for the GRU (r, z, n).

#include "models/recurrent_layer.h"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace lstmlab {

/// One sequence's inputs: [T][I].
using TraceSequence = std::vector<std::vector<double>>;

struct TraceOptions {
  /// JSON weights; empty: seed 004's hand weights for the LSTM, the seeded init for the GRU (or
  /// for an LSTM given `hidden` or `seed`).
  std::string weights_path;
  /// The cell; absent: the weights file's, else the LSTM. A file of the other cell is refused.
  std::optional<CellKind> cell;
  /// GRU: PyTorch's reset gate after the recurrent product; false: d2l's, before it.
  bool reset_after = true;
  /// Without a weights file: the seeded init's hidden size (default 1) and seed (default 0). The
  /// input size is the features of a step of the first --sequence.
  std::optional<int64_t> hidden;
  std::optional<uint64_t> seed;
  /// `--sequence` texts, one a sequence: steps split by ';', features by ','; with input size 1 a
  /// text without ';' splits its steps at the commas ("0,0.5,0.25,1" is four steps). Empty: seed
  /// 004's two sequences.
  std::vector<std::string> sequences;
  std::vector<double> h0;  ///< initial short-term memory (the GRU's hidden state) [H]; empty: zeros
  std::vector<double> c0;  ///< initial long-term memory [H]; empty: zeros. The GRU has none.
  /// With a target: loss = mean over the H units of (h_T - target)^2 (seed 004's (h - 0.5)^2 when
  /// H = 1), its gradient and one Adam step, for each sequence from the same starting weights.
  std::optional<double> target;
  double lr = 0.001;  ///< the Adam step's learning rate; seed 004's optim.Adam default
  int64_t max_line_hidden = 4;  ///< wider cells print a table per step, one row a unit
};

/// What one sequence left: the final state and, with a target, the loss and the Adam step.
struct TraceResult {
  torch::Tensor h, c;  ///< final short- and long-term memory [H]; c undefined for the GRU
  std::optional<double> loss;
  /// d loss / d weights, canonical layout (with a target); b_hn for the GRU with its reset after
  LayerWeights grad;
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
/// The features a step of `text` holds, as parse_trace_sequence reads it: 1 without a ';', else
/// the numbers of the first step.
int64_t trace_input_size(const std::string& text);
/// "1,-0.5" -> {1, -0.5}; throws std::invalid_argument naming `flag` on anything but finite
/// numbers.
std::vector<double> parse_number_list(const std::string& flag, const std::string& text);

/// Prints the trace; returns what each sequence left.
std::vector<TraceResult> run_trace(const TraceOptions& options, std::ostream& out);

}  // namespace lstmlab

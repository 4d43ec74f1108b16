#pragma once
// `lstm-lab trace`: every stage of every step of a small LSTM, as StatQuest's "LSTM by hand"
// prints it, from the scratch cell's own arithmetic.

#include "models/recurrent_layer.h"

#include <ostream>
#include <string>
#include <vector>

namespace lstmlab {

struct TraceOptions {
  std::string weights_path;                   ///< JSON weights; empty: seed 004's hand weights
  std::vector<std::vector<double>> sequences;  ///< each a sequence of scalar inputs... or rows
  int64_t max_hidden = 4;                     ///< larger layers make an unreadable trace
};

/// Seed 004's one-unit LSTM (StatQuest): forget, input, candidate and output weights and biases,
/// as a canonical one-layer stack (I = 1, H = 1).
StackWeights statquest_weights();
/// Seed 004's two sequences: company A [0, 0.5, 0.25, 1] and company B [1, 0.5, 0.25, 1].
std::vector<std::vector<double>> statquest_sequences();

/// Prints the trace; returns the final h of each sequence ([H] each).
std::vector<torch::Tensor> run_trace(const TraceOptions& options, std::ostream& out);

}  // namespace lstmlab

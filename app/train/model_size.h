#pragma once
// What a model's tensors will take, known from its settings alone, so that a model too large for
// the machine is refused before a byte of it is allocated, with the size it would need.

#include "models/layer_factory.h"

#include <cstdint>
#include <string>

namespace lstmlab {

/// Weights of a stacked recurrent layer: G gates (4 LSTM, 3 GRU) of H units, each layer
/// G*H*(I + H) + 2*G*H (LibTorch's two biases, the larger count), I = H past the first layer.
/// A double: the count of a mistyped size overflows int64_t.
double recurrent_parameter_count(CellKind cell, double input_size, double hidden, double layers);

/// Training holds each weight four times over (the weight, its gradient, Adam's two moments).
/// Throws std::invalid_argument naming --hidden and --layers, the bytes they need and the
/// machine's memory, when that is more than the machine has. `what` names the flags in messages.
void check_model_fits(CellKind cell, double input_size, double hidden, double layers,
                      double bytes_per_value, const std::string& what);

}  // namespace lstmlab

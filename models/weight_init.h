#pragma once
// First weights of a recurrent stack, in the canonical layout, for each init scheme. Both layers draw
// through here, so a scheme means the same numbers whichever layer asks.

#include "models/recurrent_layer.h"

namespace lstmlab {

/// Draws from the global LibTorch generator (seed it with torch::manual_seed), always in float32 as
/// a freshly built PyTorch module does, then converts to `dtype`. See InitScheme for the schemes.
StackWeights initial_weights(CellKind cell, const RecurrentOptions& options,
                             torch::ScalarType dtype);

/// Keras' glorot_uniform: uniform(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)), into `t`
/// in place (from the global generator).
void glorot_uniform_(torch::Tensor& t, int64_t fan_in, int64_t fan_out);

/// Keras' Dense defaults on a Linear head: glorot_uniform kernel (fan_in = the head's inputs,
/// fan_out = its outputs) and zero bias. weight: [K, H] (PyTorch's layout), bias: [K].
void keras_dense_init(torch::Tensor& weight, torch::Tensor& bias);

}  // namespace lstmlab

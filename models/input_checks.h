#pragma once
// Checks every recurrent layer runs before any arithmetic, and the reshaping between the user's
// layout (batch_first or not, batched or not) and the time-major [T, B, *] layout the layers use.
// Messages name the layer, what was expected and what came.

#include "models/recurrent_layer.h"

#include <optional>
#include <string>

namespace lstmlab {

/// An input in the layers' working layout.
struct TimeMajorInput {
  torch::Tensor x;  ///< [T, B, I], or token ids [T, B]
  bool unbatched;   ///< the caller gave [T, I]
};

/// Checks rank, feature width, emptiness, dtype and device against `weight` (any parameter of the
/// layer), and returns the input as [T, B, I].
TimeMajorInput check_input(const std::string& layer, const torch::Tensor& input,
                           const RecurrentOptions& options, const torch::Tensor& weight);

/// Checks an initial state against the input's batch and `weight`'s dtype and device (any
/// parameter of the layer), returns it as [L, B, H] tensors, or zeros when absent. `has_cell`:
/// whether the state carries c (LSTM) or h alone (GRU).
RecurrentState check_state(const std::string& layer, const std::optional<RecurrentState>& state,
                           const TimeMajorInput& input, const RecurrentOptions& options,
                           bool has_cell, const torch::Tensor& weight);

/// [T, B, H] back to the caller's layout.
torch::Tensor restore_output(const torch::Tensor& output, const TimeMajorInput& input,
                             const RecurrentOptions& options);
/// [L, B, H] back to [L, H] when the input was unbatched.
RecurrentState restore_state(const RecurrentState& state, const TimeMajorInput& input);

}  // namespace lstmlab

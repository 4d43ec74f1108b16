#pragma once
// The contract every recurrent layer honours, so that a model can hold any of them.
//
// Letters used in shapes throughout models/:
//   T time steps, B batch, I input features, H hidden units, L layers,
//   G gate width = (gates per cell) * H, 4H for the LSTM.

#include "models/recurrent_options.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace lstmlab {

/// A recurrent state. h: [L, B, H] (or [L, H] for unbatched input). c: same shape for an LSTM,
/// undefined for a cell that has no separate memory (GRU).
struct RecurrentState {
  torch::Tensor h;
  torch::Tensor c;
};

/// output: [T, B, H] ([B, T, H] when batch_first, [T, H] unbatched): the last layer's h at each step.
struct RecurrentOutput {
  torch::Tensor output;
  RecurrentState state;
};

/// One layer's weights in the canonical layout (the scratch layer's own):
/// W_x: [I_k, G], W_h: [H, G], b: [G], gates in PyTorch's order (i, f, g, o for the LSTM),
/// where I_k is input_size for layer 0 and H above it.
struct LayerWeights {
  torch::Tensor W_x;
  torch::Tensor W_h;
  torch::Tensor b;
};
using StackWeights = std::vector<LayerWeights>;

class RecurrentLayerImpl : public torch::nn::Module {
 public:
  explicit RecurrentLayerImpl(std::string name) : torch::nn::Module(std::move(name)) {}

  /// input: [T, B, I] ([B, T, I] when batch_first) or unbatched [T, I].
  /// state: initial (h, c) of the shapes in RecurrentState; zeros when absent.
  virtual RecurrentOutput forward(const torch::Tensor& input,
                                  const std::optional<RecurrentState>& state = std::nullopt) = 0;

  virtual const RecurrentOptions& options() const = 0;
  /// "lstm" (later "gru"): what the weight map and the JSON files call the cell.
  virtual std::string cell_kind() const = 0;
  /// Gates per cell: 4 for the LSTM, 3 for the GRU.
  virtual int64_t gate_count() const = 0;

  /// A detached copy of the weights in the canonical layout.
  virtual StackWeights get_weights() const = 0;
  /// Overwrite the weights (any dtype; converted to the layer's) from the canonical layout.
  virtual void set_weights(const StackWeights& weights) = 0;
  /// The gradients of the last backward, in the canonical layout (undefined tensors where none).
  virtual StackWeights get_weight_grads() const = 0;
};

using RecurrentLayerPtr = std::shared_ptr<RecurrentLayerImpl>;

}  // namespace lstmlab

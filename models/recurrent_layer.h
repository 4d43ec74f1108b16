#pragma once
// The contract every recurrent layer honours, so that a model can hold any of them.
//
// Letters used in shapes throughout models/:
//   T time steps, B batch, I input features, H hidden units, L layers,
//   G gate width = (gates per cell) * H, 4H for the LSTM.

#include "models/cell.h"
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
/// W_x: [I_k, G], W_h: [H, G], b: [G], gates in PyTorch's order (i, f, g, o for the LSTM; r, z, n
/// for the GRU), where I_k is input_size for layer 0 and H above it. Input and recurrent biases
/// are merged into b wherever the cell adds them side by side; the GRU's recurrent bias of n sits
/// inside r * (h W_hn + b_hn) and cannot merge, so it stays apart as b_hn: [H] (undefined for the
/// LSTM).
struct LayerWeights {
  torch::Tensor W_x;
  torch::Tensor W_h;
  torch::Tensor b;
  torch::Tensor b_hn{};
};
using StackWeights = std::vector<LayerWeights>;

class RecurrentLayerImpl : public torch::nn::Module {
 public:
  explicit RecurrentLayerImpl(std::string name) : torch::nn::Module(std::move(name)) {}

  /// input: [T, B, I] ([B, T, I] when batch_first) or unbatched [T, I].
  /// state: initial (h, c) of the shapes in RecurrentState; zeros when absent.
  virtual RecurrentOutput forward(const torch::Tensor& input,
                                  const std::optional<RecurrentState>& state = std::nullopt) = 0;
  /// ids: integer token ids [T, B] ([B, T] when batch_first), each standing for the one-hot row
  /// of input_size features: forward() of that one-hot input in the weights' dtype. A layer that
  /// can gather weight rows for it (the fused scratch layers) never builds the one-hot tensor.
  virtual RecurrentOutput forward_tokens(
      const torch::Tensor& ids, const std::optional<RecurrentState>& state = std::nullopt) = 0;

  virtual const RecurrentOptions& options() const = 0;
  /// The cell this layer runs: what the weight map and the JSON files call it.
  virtual CellKind cell() const = 0;
  int64_t gate_count() const { return lstmlab::gate_count(cell()); }

  /// A detached copy of the weights in the canonical layout.
  virtual StackWeights get_weights() const = 0;
  /// Overwrite the weights (any dtype; converted to the layer's) from the canonical layout.
  virtual void set_weights(const StackWeights& weights) = 0;
  /// The gradients of the last backward, in the canonical layout (undefined tensors where none).
  virtual StackWeights get_weight_grads() const = 0;
  /// A built-in layer with two biases per gate where the scratch layer has one (PyTorch's bias_ih
  /// and bias_hh) moves their sum twice as fast under SGD or Adam: this folds the mergeable
  /// recurrent biases into the input ones and holds them at zero, so that it trains the scratch
  /// layer's parametrisation (`compare`, the parity training check). Nothing to do elsewhere.
  virtual void hold_recurrent_bias_at_zero() {}
};

using RecurrentLayerPtr = std::shared_ptr<RecurrentLayerImpl>;

}  // namespace lstmlab

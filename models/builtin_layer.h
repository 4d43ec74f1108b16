#pragma once
// The built-in layers' common part: a torch::nn::LSTM or GRU (cuDNN on CUDA) behind the layer
// contract, its weights read and written through the weight map under PyTorch's names. The
// wrappers add checks and the map, nothing to the arithmetic.

#include "models/stacked_layer.h"

#include <optional>
#include <string>

namespace lstmlab {

class BuiltinLayerImpl : public StackedLayerImpl {
 public:
  BuiltinLayerImpl(std::string name, const RecurrentOptions& options, CellKind cell);

  StackWeights get_weights() const final;
  /// copy_ into the module's own tensors, which keeps cuDNN's flattened weight buffer valid.
  void set_weights(const StackWeights& weights) final;
  StackWeights get_weight_grads() const final;
  /// Folds bias_hh into bias_ih wherever the two add side by side (all four LSTM gates; the GRU's
  /// r and z) and holds that part at zero: frozen for the LSTM, its gradient zeroed for the GRU,
  /// whose bias_hh of n is b_hn and trains.
  void hold_recurrent_bias_at_zero() final;
  bool recurrent_bias_held() const { return recurrent_bias_held_; }

 protected:
  /// The wrapped module, once the derived layer has registered it.
  void set_module(std::shared_ptr<torch::nn::Module> module) { module_ = std::move(module); }
  /// Under an init scheme other than torch's, the module's own draws are undone and the scheme's
  /// drawn instead, from the generator as it was before: pass what begin_draws() returned.
  std::optional<torch::Tensor> begin_draws() const;
  void end_draws(const std::optional<torch::Tensor>& generator_state);
  torch::Tensor param(const std::string& name) const;

 private:
  torch::Tensor reference_weight() const final { return param("weight_ih_l0"); }
  std::string extra_repr() const final;

  std::shared_ptr<torch::nn::Module> module_;
  bool recurrent_bias_held_ = false;
};

}  // namespace lstmlab

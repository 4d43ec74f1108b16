#pragma once
// BuiltinLSTM: torch::nn::LSTM (cuDNN on CUDA) behind the same contract as LSTMScratch. It adds
// checks and the weight map, nothing to the arithmetic.

#include "models/recurrent_layer.h"

#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <ostream>

namespace lstmlab {

class BuiltinLSTMImpl : public RecurrentLayerImpl {
 public:
  BuiltinLSTMImpl(int64_t input_size, int64_t hidden_size)
      : BuiltinLSTMImpl(RecurrentOptions(input_size, hidden_size)) {}
  /// Refuses activation=relu (torch::nn::LSTM's cell is fixed to tanh). init=d2l/keras are honoured
  /// by writing the weights through the map.
  explicit BuiltinLSTMImpl(const RecurrentOptions& options);

  void reset();
  void reset_parameters();

  RecurrentOutput forward(const torch::Tensor& input,
                          const std::optional<RecurrentState>& state = std::nullopt) override;

  const RecurrentOptions& options() const override { return options_; }
  std::string cell_kind() const override { return "lstm"; }
  int64_t gate_count() const override { return 4; }
  StackWeights get_weights() const override;
  void set_weights(const StackWeights& weights) override;
  StackWeights get_weight_grads() const override;
  void pretty_print(std::ostream& stream) const override;

  /// PyTorch's LSTM has two biases per layer whose sum is the scratch layer's one. Under SGD or Adam
  /// the pair moves twice as fast as one bias would, so two layers with the same function would
  /// train apart. This zeroes bias_hh and freezes it: the layer then trains the same
  /// parametrisation as LSTMScratch (what `compare` and the parity training check need).
  void hold_recurrent_bias_at_zero();
  bool recurrent_bias_held() const { return recurrent_bias_held_; }

  torch::nn::LSTM lstm{nullptr};

 private:
  torch::Tensor param(const std::string& name) const;

  RecurrentOptions options_;
  bool recurrent_bias_held_ = false;
};
TORCH_MODULE(BuiltinLSTM);

}  // namespace lstmlab

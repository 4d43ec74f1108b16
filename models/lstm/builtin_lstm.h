#pragma once
// BuiltinLSTM: torch::nn::LSTM (cuDNN on CUDA) behind the same contract as LSTMScratch.

#include "models/builtin_layer.h"

#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

namespace lstmlab {

class BuiltinLSTMImpl : public BuiltinLayerImpl {
 public:
  BuiltinLSTMImpl(int64_t input_size, int64_t hidden_size)
      : BuiltinLSTMImpl(RecurrentOptions(input_size, hidden_size)) {}
  /// Refuses activation=relu (torch::nn::LSTM's cell is fixed to tanh). init=d2l/keras are honoured
  /// by writing the weights through the map.
  explicit BuiltinLSTMImpl(const RecurrentOptions& options);

  torch::nn::LSTM lstm{nullptr};

 private:
  RecurrentOutput run(const torch::Tensor& x, const RecurrentState& initial) override;
};

TORCH_MODULE(BuiltinLSTM);

}  // namespace lstmlab

#pragma once
// SequenceRegressor: a recurrent layer and a Linear head on the last step's output, the model of
// seed 002 (nn.LSTM(1, 64, batch_first=True) + nn.Linear(64, 1)) and of seed 000 (LSTM + Dense(1)).

#include "models/recurrent_layer.h"

#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace lstmlab {

/// What the trainer needs of a model: batch-first input in, prediction out.
class SequenceModelImpl : public torch::nn::Module {
 public:
  explicit SequenceModelImpl(std::string name) : torch::nn::Module(std::move(name)) {}
  /// input: [B, T, I] -> prediction (task-shaped; [B, K] for a regressor).
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
  virtual RecurrentLayerImpl& recurrent() = 0;
};
using SequenceModelPtr = std::shared_ptr<SequenceModelImpl>;

class SequenceRegressorImpl : public SequenceModelImpl {
 public:
  /// `rnn` must be batch_first. It is registered first and the head second, the order in which the
  /// seed's Python module draws its initial weights, so the same seed gives the same numbers.
  SequenceRegressorImpl(RecurrentLayerPtr rnn, int64_t output_size);

  /// input: [B, T, I] -> [B, output_size]
  torch::Tensor forward(const torch::Tensor& input) override;
  RecurrentLayerImpl& recurrent() override { return *rnn; }
  void pretty_print(std::ostream& stream) const override;

  RecurrentLayerPtr rnn;
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(SequenceRegressor);

}  // namespace lstmlab

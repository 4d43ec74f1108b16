#pragma once
// SequenceRegressor: a recurrent layer and a Linear head on the last step's output, the model of
// seed 002 (nn.LSTM(1, 64, batch_first=True) + nn.Linear(64, 1)) and of seed 000 (LSTM + Dense(1)).

#include "models/heads/sequence_model.h"

#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace lstmlab {

class SequenceRegressorImpl : public RecurrentWithHeadImpl {
 public:
  /// `rnn` must be batch_first. It is registered first and the head second, the order in which the
  /// seed's Python module draws its initial weights, so the same seed gives the same numbers.
  SequenceRegressorImpl(RecurrentLayerPtr rnn, int64_t output_size);

  /// input: [B, T, I] -> prediction [B, output_size], from the last step's output.
  SequenceOutput run(const torch::Tensor& input,
                     const std::optional<RecurrentState>& state) override;
};
TORCH_MODULE(SequenceRegressor);

}  // namespace lstmlab

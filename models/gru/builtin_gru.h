#pragma once
// BuiltinGRU: torch::nn::GRU (cuDNN on CUDA) behind the same contract as GRUScratch.

#include "models/builtin_layer.h"

#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

namespace lstmlab {

class BuiltinGRUImpl : public BuiltinLayerImpl {
 public:
  BuiltinGRUImpl(int64_t input_size, int64_t hidden_size)
      : BuiltinGRUImpl(RecurrentOptions(input_size, hidden_size)) {}
  /// Refuses activation=relu and reset_after=false: torch::nn::GRU (and cuDNN) fix the candidate
  /// to tanh and apply the reset gate after the recurrent product.
  explicit BuiltinGRUImpl(const RecurrentOptions& options);

  torch::nn::GRU gru{nullptr};

 private:
  RecurrentOutput run(const torch::Tensor& x, const RecurrentState& initial) override;
};

TORCH_MODULE(BuiltinGRU);

}  // namespace lstmlab

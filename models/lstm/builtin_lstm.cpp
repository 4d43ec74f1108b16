#include "models/lstm/builtin_lstm.h"

#include <torch/torch.h>

namespace lstmlab {

BuiltinLSTMImpl::BuiltinLSTMImpl(const RecurrentOptions& options)
    : BuiltinLayerImpl("BuiltinLSTM", options, CellKind::Lstm) {
  TORCH_CHECK(options_.activation() == Activation::Tanh, name(),
              ": activation=relu is not available: torch::nn::LSTM (and cuDNN) fix the cell's "
              "nonlinearity to tanh. Use the scratch layer (--model scratch) for relu.");
  const auto generator_state = begin_draws();
  // Time-major inside; batch_first and unbatched inputs are reshaped by the shared checks.
  lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(options_.input_size(),
                                                                        options_.hidden_size())
                                                     .num_layers(options_.num_layers())
                                                     .dropout(options_.dropout())
                                                     .batch_first(false)));
  set_module(lstm.ptr());
  end_draws(generator_state);
}

RecurrentOutput BuiltinLSTMImpl::run(const torch::Tensor& x, const RecurrentState& initial) {
  auto [output, hc] = lstm->forward(x, std::make_tuple(initial.h, initial.c));
  return {output, {std::get<0>(hc), std::get<1>(hc)}};
}

}  // namespace lstmlab

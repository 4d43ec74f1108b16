#include "models/gru/builtin_gru.h"

#include <torch/torch.h>

namespace lstmlab {

BuiltinGRUImpl::BuiltinGRUImpl(const RecurrentOptions& options)
    : BuiltinLayerImpl("BuiltinGRU", options, CellKind::Gru) {
  TORCH_CHECK(options_.activation() == Activation::Tanh, name(),
              ": activation=relu is not available: torch::nn::GRU (and cuDNN) fix the candidate "
              "to tanh. Use the scratch layer (--model scratch) for relu.");
  TORCH_CHECK(options_.reset_after(), name(),
              ": reset_after=false (d2l's GRU, Keras reset_after=False) is not available: "
              "torch::nn::GRU applies the reset gate after the recurrent product. Use the scratch "
              "layer (--model scratch) for it.");
  const auto generator_state = begin_draws();
  gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(options_.input_size(),
                                                                     options_.hidden_size())
                                                  .num_layers(options_.num_layers())
                                                  .dropout(options_.dropout())
                                                  .batch_first(false)));
  set_module(gru.ptr());
  end_draws(generator_state);
}

RecurrentOutput BuiltinGRUImpl::run(const torch::Tensor& x, const RecurrentState& initial) {
  auto [output, h_n] = gru->forward(x, initial.h);
  return {output, {h_n, torch::Tensor()}};
}

}  // namespace lstmlab

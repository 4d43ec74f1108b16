#include "models/heads/sequence_regressor.h"

#include <c10/util/Exception.h>

namespace lstmlab {

SequenceRegressorImpl::SequenceRegressorImpl(RecurrentLayerPtr rnn_layer, int64_t output_size)
    : SequenceModelImpl("SequenceRegressor") {
  TORCH_CHECK(rnn_layer != nullptr, "SequenceRegressor: no recurrent layer given");
  TORCH_CHECK(rnn_layer->options().batch_first(),
              "SequenceRegressor: the recurrent layer must be batch_first");
  TORCH_CHECK(output_size > 0, "SequenceRegressor: output_size must be positive, got ", output_size);
  rnn = register_module("rnn", std::move(rnn_layer));
  head = register_module(
      "head", torch::nn::Linear(rnn->options().hidden_size(), output_size));
}

SequenceOutput SequenceRegressorImpl::run(const torch::Tensor& input,
                                          const std::optional<RecurrentState>& state) {
  auto out = rnn->forward(input, state);                          // output [B, T, H]
  return {head->forward(out.output.select(1, -1)), out.state};    // the last step: [B, K]
}

void SequenceRegressorImpl::pretty_print(std::ostream& stream) const {
  stream << "lstmlab::SequenceRegressor";
}

}  // namespace lstmlab

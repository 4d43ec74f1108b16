#include "models/heads/sequence_regressor.h"

#include <c10/util/Exception.h>

namespace lstmlab {

SequenceRegressorImpl::SequenceRegressorImpl(RecurrentLayerPtr rnn_layer, int64_t output_size)
    : RecurrentWithHeadImpl("SequenceRegressor", std::move(rnn_layer), output_size) {}

SequenceOutput SequenceRegressorImpl::run(const torch::Tensor& input,
                                          const std::optional<RecurrentState>& state) {
  auto out = rnn->forward(input, state);                          // output [B, T, H]
  return {head->forward(out.output.select(1, -1)), out.state};    // the last step: [B, K]
}


}  // namespace lstmlab

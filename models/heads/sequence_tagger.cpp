#include "models/heads/sequence_tagger.h"

#include <c10/util/Exception.h>

namespace lstmlab {

SequenceTaggerImpl::SequenceTaggerImpl(RecurrentLayerPtr rnn_layer, int64_t output_size)
    : RecurrentWithHeadImpl("SequenceTagger", std::move(rnn_layer), output_size) {}

SequenceOutput SequenceTaggerImpl::run(const torch::Tensor& input,
                                       const std::optional<RecurrentState>& state) {
  TORCH_CHECK(input.dim() == 3, "SequenceTagger: expected input of size [B, T, I], got ",
              input.sizes());
  auto out = rnn->forward(input, state);               // output [B, T, H]
  return {head->forward(out.output), out.state};       // every step: [B, T, V]
}


}  // namespace lstmlab

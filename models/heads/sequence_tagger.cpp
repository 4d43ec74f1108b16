#include "models/heads/sequence_tagger.h"

#include <c10/util/Exception.h>

namespace lstmlab {

SequenceTaggerImpl::SequenceTaggerImpl(RecurrentLayerPtr rnn_layer, int64_t output_size)
    : SequenceModelImpl("SequenceTagger") {
  TORCH_CHECK(rnn_layer != nullptr, "SequenceTagger: no recurrent layer given");
  TORCH_CHECK(rnn_layer->options().batch_first(),
              "SequenceTagger: the recurrent layer must be batch_first");
  TORCH_CHECK(output_size > 0, "SequenceTagger: output_size must be positive, got ", output_size);
  rnn = register_module("rnn", std::move(rnn_layer));
  head = register_module("head", torch::nn::Linear(rnn->options().hidden_size(), output_size));
}

SequenceOutput SequenceTaggerImpl::run(const torch::Tensor& input,
                                       const std::optional<RecurrentState>& state) {
  TORCH_CHECK(input.dim() == 3, "SequenceTagger: expected input of size [B, T, I], got ",
              input.sizes());
  auto out = rnn->forward(input, state);               // output [B, T, H]
  return {head->forward(out.output), out.state};       // every step: [B, T, V]
}

void SequenceTaggerImpl::pretty_print(std::ostream& stream) const {
  stream << "lstmlab::SequenceTagger";
}

}  // namespace lstmlab

#include "models/heads/sequence_model.h"

#include <c10/util/Exception.h>

namespace lstmlab {

RecurrentWithHeadImpl::RecurrentWithHeadImpl(std::string name, RecurrentLayerPtr rnn_layer,
                                             int64_t output_size)
    : SequenceModelImpl(std::move(name)) {
  TORCH_CHECK(rnn_layer != nullptr, this->name(), ": no recurrent layer given");
  TORCH_CHECK(rnn_layer->options().batch_first(), this->name(),
              ": the recurrent layer must be batch_first");
  TORCH_CHECK(output_size > 0, this->name(), ": output_size must be positive, got ", output_size);
  rnn = register_module("rnn", std::move(rnn_layer));
  head = register_module("head", torch::nn::Linear(rnn->options().hidden_size(), output_size));
}

}  // namespace lstmlab

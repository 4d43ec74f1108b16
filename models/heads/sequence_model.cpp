#include "models/heads/sequence_model.h"

#include "models/weight_init.h"

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
  // Under the Keras scheme the head is a Dense(K) as Keras builds it; otherwise PyTorch's Linear.
  if (rnn->options().init() == InitScheme::Keras) keras_dense_init(head->weight, head->bias);
}

ModelWeights SequenceModelImpl::get_model_weights() const {
  TORCH_CHECK(false, name(), ": has no recurrent layer and Linear head to take weights from");
  return {};
}

void SequenceModelImpl::set_model_weights(const ModelWeights&) {
  TORCH_CHECK(false, name(), ": has no recurrent layer and Linear head to set weights into");
}

ModelWeights RecurrentWithHeadImpl::get_model_weights() const {
  return {rnn->get_weights(), head->weight.detach().clone(), head->bias.detach().clone()};
}

void RecurrentWithHeadImpl::set_model_weights(const ModelWeights& w) {
  const auto& o = rnn->options();
  const int64_t K = head->weight.size(0);
  TORCH_CHECK(static_cast<int64_t>(w.stack.size()) == o.num_layers(), name(), ": the weights hold ",
              w.stack.size(), " recurrent layer(s) where the model has ", o.num_layers());
  const int64_t G = gate_count(rnn->cell()) * o.hidden_size();
  for (size_t k = 0; k < w.stack.size(); ++k) {
    const int64_t in = k == 0 ? o.input_size() : o.hidden_size();
    TORCH_CHECK(w.stack[k].W_x.sizes() == torch::IntArrayRef({in, G}), name(), ": layer ", k,
                " input kernel is ", w.stack[k].W_x.sizes(), " where the model (", o.input_size(),
                " inputs, ", o.hidden_size(), " units, ", to_string(rnn->cell()), ") needs [", in,
                ", ", G, "]");
  }
  TORCH_CHECK(w.head_weight.defined() && w.head_bias.defined(), name(),
              ": the weights have no head (the Linear / Dense layer on the recurrent output)");
  TORCH_CHECK(w.head_weight.sizes() == head->weight.sizes(), name(), ": the head's weight is ",
              w.head_weight.sizes(), " where the model needs ", head->weight.sizes(), " (", K,
              " outputs from ", o.hidden_size(), " units; a Keras Dense kernel is its transpose, [",
              o.hidden_size(), ", ", K, "])");
  TORCH_CHECK(w.head_bias.sizes() == head->bias.sizes(), name(), ": the head's bias is ",
              w.head_bias.sizes(), " where the model needs ", head->bias.sizes());
  rnn->set_weights(w.stack);
  torch::NoGradGuard no_grad;
  head->weight.copy_(w.head_weight);
  head->bias.copy_(w.head_bias);
}

}  // namespace lstmlab

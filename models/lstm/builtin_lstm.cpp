#include "models/lstm/builtin_lstm.h"

#include "models/input_checks.h"
#include "models/weight_init.h"
#include "models/weight_layout.h"

#include <torch/torch.h>

namespace lstmlab {

BuiltinLSTMImpl::BuiltinLSTMImpl(const RecurrentOptions& options)
    : RecurrentLayerImpl("BuiltinLSTM"), options_(options) {
  reset();
}

void BuiltinLSTMImpl::reset() {
  check_options(options_, name());
  TORCH_CHECK(options_.activation() == Activation::Tanh, name(),
              ": activation=relu is not available: torch::nn::LSTM (and cuDNN) fix the cell's "
              "nonlinearity to tanh. Use the scratch layer (--model scratch) for relu.");
  // torch::nn::LSTM draws its own weights when built. Under another scheme, put the generator back
  // afterwards so that the scheme's draws are the same numbers the scratch layer would get.
  std::optional<torch::Tensor> generator_state;
  if (options_.init() != InitScheme::Torch) {
    generator_state = at::detail::getDefaultCPUGenerator().get_state();
  }
  // Time-major inside; batch_first and unbatched inputs are reshaped by the shared checks.
  lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(options_.input_size(),
                                                                        options_.hidden_size())
                                                     .num_layers(options_.num_layers())
                                                     .dropout(options_.dropout())
                                                     .batch_first(false)));
  if (generator_state) {
    auto generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(*generator_state);
    reset_parameters();
  }
}

void BuiltinLSTMImpl::reset_parameters() {
  if (options_.init() == InitScheme::Torch) {
    lstm->reset_parameters();
  } else {
    set_weights(initial_lstm_weights(options_, torch::kFloat));
  }
}

torch::Tensor BuiltinLSTMImpl::param(const std::string& name) const {
  // named_parameters() returns a fresh dict: it must outlive the pointer find() gives into it.
  const auto params = lstm->named_parameters();
  const auto* p = params.find(name);
  TORCH_CHECK(p != nullptr, "BuiltinLSTM: torch::nn::LSTM has no parameter '", name, "'");
  return *p;
}

StackWeights BuiltinLSTMImpl::get_weights() const {
  std::map<std::string, torch::Tensor> named;
  for (const auto& item : lstm->named_parameters()) named[item.key()] = item.value().detach();
  return from_named(named, WeightNaming::PyTorch, gate_count(), name());
}

void BuiltinLSTMImpl::set_weights(const StackWeights& weights) {
  check_stack(weights, gate_count(), name() + ".set_weights");
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == options_.num_layers(), name(),
              ".set_weights: expected ", options_.num_layers(), " layers, got ", weights.size());
  torch::NoGradGuard no_grad;
  // copy_ into the existing tensors keeps cuDNN's flattened weight buffer valid.
  for (const auto& [key, value] : to_named(weights, WeightNaming::PyTorch)) {
    auto target = param(key);
    TORCH_CHECK(target.sizes() == value.sizes(), name(), ".set_weights: expected '", key,
                "' of size ", target.sizes(), ", got ", value.sizes());
    target.copy_(value);
  }
}

StackWeights BuiltinLSTMImpl::get_weight_grads() const {
  StackWeights grads;
  for (int64_t k = 0; k < options_.num_layers(); ++k) {
    const auto s = std::to_string(k);
    const auto g_ih = param("weight_ih_l" + s).grad();
    const auto g_hh = param("weight_hh_l" + s).grad();
    // Both biases receive the same gradient (that of the gate pre-activations): it is the gradient
    // of their sum, the scratch layer's b.
    const auto g_b = param("bias_ih_l" + s).grad();
    grads.push_back({g_ih.defined() ? g_ih.t() : g_ih, g_hh.defined() ? g_hh.t() : g_hh, g_b});
  }
  return grads;
}

void BuiltinLSTMImpl::hold_recurrent_bias_at_zero() {
  torch::NoGradGuard no_grad;
  for (int64_t k = 0; k < options_.num_layers(); ++k) {
    const auto s = std::to_string(k);
    auto bias_ih = param("bias_ih_l" + s);
    auto bias_hh = param("bias_hh_l" + s);
    bias_ih.add_(bias_hh);
    bias_hh.zero_();
    bias_hh.set_requires_grad(false);
  }
  recurrent_bias_held_ = true;
}

RecurrentOutput BuiltinLSTMImpl::forward(const torch::Tensor& input,
                                         const std::optional<RecurrentState>& state) {
  const auto in = check_input(name(), input, options_, param("weight_ih_l0"));
  const auto initial = check_state(name(), state, in, options_, /*has_cell=*/true);
  auto [output, hc] = lstm->forward(in.x, std::make_tuple(initial.h, initial.c));
  return {restore_output(output, in, options_),
          restore_state({std::get<0>(hc), std::get<1>(hc)}, in)};
}

void BuiltinLSTMImpl::pretty_print(std::ostream& stream) const {
  stream << "lstmlab::BuiltinLSTM(input_size=" << options_.input_size()
         << ", hidden_size=" << options_.hidden_size() << ", num_layers=" << options_.num_layers()
         << ", batch_first=" << (options_.batch_first() ? "true" : "false")
         << ", dropout=" << options_.dropout() << ", init=" << to_string(options_.init())
         << (recurrent_bias_held_ ? ", bias_hh held at 0" : "") << ")";
}

}  // namespace lstmlab

#include "models/builtin_layer.h"

#include "models/weight_init.h"
#include "models/weight_layout.h"

#include <torch/torch.h>

#include <map>

namespace lstmlab {

BuiltinLayerImpl::BuiltinLayerImpl(std::string name, const RecurrentOptions& options,
                                   CellKind cell)
    : StackedLayerImpl(std::move(name), options, cell) {
  TORCH_CHECK(options_.recurrent_activation() == GateActivation::Sigmoid, this->name(),
              ": recurrent_activation=hard_sigmoid is not available: LibTorch's layers (and cuDNN) "
              "fix the gates to sigmoid. Use the scratch LSTM (--model scratch --scratch-backward "
              "autograd) for it.");
}

std::optional<torch::Tensor> BuiltinLayerImpl::begin_draws() const {
  if (options_.init() == InitScheme::Torch) return std::nullopt;
  return at::detail::getDefaultCPUGenerator().get_state();
}

void BuiltinLayerImpl::end_draws(const std::optional<torch::Tensor>& generator_state) {
  if (!generator_state) return;
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(*generator_state);
  set_weights(initial_weights(cell(), options_, torch::kFloat));
}

torch::Tensor BuiltinLayerImpl::param(const std::string& key) const {
  TORCH_CHECK(module_ != nullptr, name(), ": no module registered");
  // named_parameters() returns a fresh dict: it must outlive the pointer find() gives into it.
  const auto params = module_->named_parameters();
  const auto* p = params.find(key);
  TORCH_CHECK(p != nullptr, name(), ": the wrapped module has no parameter '", key, "'");
  return *p;
}

StackWeights BuiltinLayerImpl::get_weights() const {
  std::map<std::string, torch::Tensor> named;
  for (const auto& item : module_->named_parameters()) named[item.key()] = item.value().detach();
  return from_named(named, WeightNaming::PyTorch, cell(), name());
}

void BuiltinLayerImpl::set_weights(const StackWeights& weights) {
  check_stack(weights, cell(), name() + ".set_weights");
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == options_.num_layers(), name(),
              ".set_weights: expected ", options_.num_layers(), " layers, got ", weights.size());
  torch::NoGradGuard no_grad;
  for (const auto& [key, value] : to_named(weights, WeightNaming::PyTorch, cell())) {
    auto target = param(key);
    TORCH_CHECK(target.sizes() == value.sizes(), name(), ".set_weights: expected '", key,
                "' of size ", target.sizes(), ", got ", value.sizes());
    target.copy_(value);
  }
}

StackWeights BuiltinLayerImpl::get_weight_grads() const {
  const int64_t H = options_.hidden_size();
  StackWeights grads;
  for (int64_t k = 0; k < options_.num_layers(); ++k) {
    const auto s = std::to_string(k);
    const auto g_ih = param("weight_ih_l" + s).grad();
    const auto g_hh = param("weight_hh_l" + s).grad();
    // bias_ih's gradient is that of the gate pre-activations: of the merged b, and of b_in.
    LayerWeights g{g_ih.defined() ? g_ih.t() : g_ih, g_hh.defined() ? g_hh.t() : g_hh,
                   param("bias_ih_l" + s).grad(), {}};
    if (cell() == CellKind::Gru) {
      const auto g_bhh = param("bias_hh_l" + s).grad();
      g.b_hn = g_bhh.defined() ? g_bhh.narrow(0, 2 * H, H) : g_bhh;
    }
    grads.push_back(g);
  }
  return grads;
}

void BuiltinLayerImpl::hold_recurrent_bias_at_zero() {
  const int64_t H = options_.hidden_size();
  // The part of bias_hh that merges into the input bias: all of it for the LSTM, r and z for the GRU.
  const int64_t merged = cell() == CellKind::Lstm ? gate_count() * H : 2 * H;
  torch::NoGradGuard no_grad;
  for (int64_t k = 0; k < options_.num_layers(); ++k) {
    const auto s = std::to_string(k);
    auto bias_ih = param("bias_ih_l" + s);
    auto bias_hh = param("bias_hh_l" + s);
    bias_ih.narrow(0, 0, merged).add_(bias_hh.narrow(0, 0, merged));
    bias_hh.narrow(0, 0, merged).zero_();
    if (merged == bias_hh.numel()) {
      bias_hh.set_requires_grad(false);
    } else if (!recurrent_bias_held_) {
      // A zero gradient leaves SGD and Adam (whose moments then stay zero) where they are.
      bias_hh.register_hook([merged](const torch::Tensor& grad) {
        auto held = grad.clone();
        held.narrow(0, 0, merged).zero_();
        return held;
      });
    }
  }
  recurrent_bias_held_ = true;
}

std::string BuiltinLayerImpl::extra_repr() const {
  if (!recurrent_bias_held_) return "";
  return cell() == CellKind::Lstm ? ", bias_hh held at 0" : ", bias_hh of r and z held at 0";
}

}  // namespace lstmlab

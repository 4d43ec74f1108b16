#include "app/train/keras_adam.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

namespace lstmlab {

OptimizerStateKey optimizer_state_key(const torch::Tensor& p) {
#if TORCH_VERSION_MAJOR >= 2
  return static_cast<void*>(p.unsafeGetTensorImpl());
#else
  std::ostringstream key;
  key << p.unsafeGetTensorImpl();
  return key.str();
#endif
}

void KerasAdamOptions::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(beta1);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(beta2);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(epsilon);
}

void KerasAdamOptions::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, beta1);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, beta2);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, epsilon);
}

void KerasAdamParamState::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(step);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(m);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(v);
}

void KerasAdamParamState::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(int64_t, step);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, m);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, v);
}

KerasAdam::KerasAdam(std::vector<torch::Tensor> params, KerasAdamOptions defaults)
    : Optimizer({torch::optim::OptimizerParamGroup(std::move(params))},
                std::make_unique<KerasAdamOptions>(defaults)) {
  TORCH_CHECK(defaults.lr() > 0, "KerasAdam: lr must be positive, got ", defaults.lr());
  TORCH_CHECK(defaults.beta1() >= 0 && defaults.beta1() < 1, "KerasAdam: beta1 must be in [0, 1), got ",
              defaults.beta1());
  TORCH_CHECK(defaults.beta2() >= 0 && defaults.beta2() < 1, "KerasAdam: beta2 must be in [0, 1), got ",
              defaults.beta2());
  TORCH_CHECK(defaults.epsilon() >= 0, "KerasAdam: epsilon must be 0 or positive, got ",
              defaults.epsilon());
}

float keras_adam_alpha(double lr, double beta1, double beta2, int64_t t) {
  // Keras casts lr and the betas to the variable's float32 and raises them to the float32 step.
  const float step = static_cast<float>(t);
  const float beta1_power = std::pow(static_cast<float>(beta1), step);
  const float beta2_power = std::pow(static_cast<float>(beta2), step);
  return static_cast<float>(lr) * std::sqrt(1.0f - beta2_power) / (1.0f - beta1_power);
}

torch::Tensor KerasAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const KerasAdamOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto& g = p.grad();
      const auto key = optimizer_state_key(p);
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto fresh = std::make_unique<KerasAdamParamState>();
        fresh->m(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->v(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(fresh)).first;
      }
      auto& s = static_cast<KerasAdamParamState&>(*it->second);
      s.step(s.step() + 1);
      const double alpha = keras_adam_alpha(options.lr(), options.beta1(), options.beta2(), s.step());
      // (1 - beta) as Keras writes it: a Python double, cast to the variable's dtype by the op.
      s.m().add_((g - s.m()).mul_(1.0 - options.beta1()));
      s.v().add_((g * g - s.v()).mul_(1.0 - options.beta2()));
      p.sub_((s.m() * alpha).div_(s.v().sqrt().add_(options.epsilon())));
    }
  }
  return loss;
}

void KerasAdam::save(torch::serialize::OutputArchive& archive) const { serialize(*this, archive); }

void KerasAdam::load(torch::serialize::InputArchive& archive) { serialize(*this, archive); }

}  // namespace lstmlab

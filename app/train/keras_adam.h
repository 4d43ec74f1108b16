#pragma once
// Keras' Adam (keras.optimizers.Adam), which is not torch::optim::Adam. Per step t (1-based):
//
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)      (in float32, as Keras computes it)
//   m += (g - m) * (1 - beta1)
//   v += (g^2 - v) * (1 - beta2)
//   w -= alpha * m / (sqrt(v) + epsilon)
//
// PyTorch divides by sqrt(v_hat) + eps with the bias correction inside the square root, so its
// epsilon acts on the corrected sqrt(v); Keras' acts on the uncorrected sqrt(v), which is
// sqrt(1 - beta2^t) times smaller early on. The two also default to different epsilons (1e-8
// against Keras' 1e-7; Keras 2.0 and 2.1 used 1e-8). Its state, and so a resumed run, is saved
// with the optimizer as LibTorch's own optimizers are.

#include <torch/optim/optimizer.h>
#include <torch/optim/serialize.h>
#include <torch/version.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

// LibTorch keys an optimizer's per-parameter state by the parameter's TensorImpl: by its printed
// address up to 1.13, by the pointer itself from 2.0 on.
#if TORCH_VERSION_MAJOR >= 2
using OptimizerStateKey = void*;
#else
using OptimizerStateKey = std::string;
#endif
/// The key of p's entry in a LibTorch optimizer's state().
OptimizerStateKey optimizer_state_key(const torch::Tensor& p);

struct KerasAdamOptions : public torch::optim::OptimizerCloneableOptions<KerasAdamOptions> {
  KerasAdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as torch::optim's options
  /// Default: 1e-3, Keras' default.
  TORCH_ARG(double, lr) = 1e-3;
  /// Default: 0.9.
  TORCH_ARG(double, beta1) = 0.9;
  /// Default: 0.999.
  TORCH_ARG(double, beta2) = 0.999;
  /// On the uncorrected sqrt(v). Default: 1e-7 (Keras 2.2 and later).
  TORCH_ARG(double, epsilon) = 1e-7;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double lr) override { this->lr(lr); }
};

struct KerasAdamParamState
    : public torch::optim::OptimizerCloneableParamState<KerasAdamParamState> {
  /// Steps taken (Keras' `iterations`).
  TORCH_ARG(int64_t, step) = 0;
  /// The first and second moments, in the parameter's dtype.
  TORCH_ARG(torch::Tensor, m);
  TORCH_ARG(torch::Tensor, v);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

class KerasAdam : public torch::optim::Optimizer {
 public:
  explicit KerasAdam(std::vector<torch::Tensor> params, KerasAdamOptions defaults = {});

  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  template <typename Self, typename Archive>
  static void serialize(Self& self, Archive& archive) {
    torch::optim::serialize<KerasAdamParamState, KerasAdamOptions>(archive, self);
  }
};

/// alpha of step t (1-based) in float32, the operations in Keras' order.
float keras_adam_alpha(double lr, double beta1, double beta2, int64_t t);

}  // namespace lstmlab

#include "app/train/fit_callbacks.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace lstmlab {

FitCallbacks::FitCallbacks(const TrainConfig& config)
    : config_(config),
      plateau_lr_(config.lr),
      plateau_best_(std::numeric_limits<double>::infinity()),
      stop_best_(std::numeric_limits<double>::infinity()) {}

bool FitCallbacks::needs_validation() const {
  return config_.early_stopping > 0 || config_.lr_schedule == "plateau";
}

double FitCallbacks::lr_for_epoch(int64_t epoch) const {
  const double lr0 = config_.lr;
  if (config_.lr_schedule == "plateau") return plateau_lr_;
  if (config_.lr_schedule == "step") {
    return lr0 * std::pow(config_.lr_factor, static_cast<double>(epoch / config_.lr_step));
  }
  if (config_.lr_schedule == "cosine") {
    const double pi = std::acos(-1.0);
    const double done = static_cast<double>(epoch) / static_cast<double>(config_.epochs);
    return config_.lr_min + (lr0 - config_.lr_min) * (1 + std::cos(pi * done)) / 2;
  }
  return lr0;
}

bool FitCallbacks::end_epoch(int64_t epoch, double val_loss,
                             const std::vector<torch::Tensor>& parameters) {
  if (config_.lr_schedule == "plateau") {
    const bool cooling = plateau_cooldown_ > 0;
    if (cooling) {
      --plateau_cooldown_;
      plateau_wait_ = 0;
    }
    if (val_loss < plateau_best_ - config_.lr_min_delta) {
      plateau_best_ = val_loss;
      plateau_wait_ = 0;
    } else if (plateau_cooldown_ == 0 && ++plateau_wait_ >= config_.lr_patience) {
      // Keras compares against min_lr in float32, its learning rate's dtype.
      if (static_cast<float>(plateau_lr_) > static_cast<float>(config_.lr_min)) {
        plateau_lr_ = std::max(plateau_lr_ * config_.lr_factor, config_.lr_min);
        plateau_cooldown_ = config_.lr_cooldown;
        plateau_wait_ = 0;
      }
    }
  }
  if (config_.early_stopping <= 0) return false;
  const auto keep = [&] {
    if (!config_.restore_best) return;
    torch::NoGradGuard no_grad;
    best_parameters_.clear();
    for (const auto& p : parameters) best_parameters_.push_back(p.detach().clone());
  };
  if (best_epoch_ == 0) {  // the first epoch is the best so far, whatever it scored
    keep();
    best_epoch_ = epoch + 1;
  }
  ++stop_wait_;
  if (val_loss < stop_best_ - config_.early_stopping_min_delta) {
    stop_best_ = val_loss;
    best_epoch_ = epoch + 1;
    keep();
    stop_wait_ = 0;
    return false;
  }
  if (stop_wait_ >= config_.early_stopping && epoch > 0) stopped_early_ = true;
  return stopped_early_;
}

torch::Tensor FitCallbacks::state() const {
  return torch::tensor({plateau_lr_, plateau_best_, static_cast<double>(plateau_wait_),
                        static_cast<double>(plateau_cooldown_), stop_best_,
                        static_cast<double>(stop_wait_), static_cast<double>(best_epoch_),
                        stopped_early_ ? 1.0 : 0.0},
                       torch::kDouble);
}

void FitCallbacks::load_state(const torch::Tensor& state, std::vector<torch::Tensor> best) {
  TORCH_CHECK(state.numel() == 8, "the checkpoint's schedule state holds ", state.numel(),
              " values where 8 were expected");
  const auto s = state.to(torch::kDouble).contiguous();
  const double* v = s.data_ptr<double>();
  plateau_lr_ = v[0];
  plateau_best_ = v[1];
  plateau_wait_ = static_cast<int64_t>(v[2]);
  plateau_cooldown_ = static_cast<int64_t>(v[3]);
  stop_best_ = v[4];
  stop_wait_ = static_cast<int64_t>(v[5]);
  best_epoch_ = static_cast<int64_t>(v[6]);
  stopped_early_ = v[7] != 0;
  best_parameters_ = std::move(best);
}

}  // namespace lstmlab

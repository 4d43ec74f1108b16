#pragma once
// What Keras users reach for in fit(): a learning-rate schedule and early stopping, both on the
// validation loss of each epoch, with state a checkpoint keeps so that a resumed run goes on as
// if it had never stopped.
//
// - plateau: Keras' ReduceLROnPlateau (mode min): after `lr_patience` epochs whose validation loss
//   is not below the best minus `lr_min_delta`, lr *= lr_factor (never below lr_min), then
//   `lr_cooldown` epochs in which no epoch counts;
// - step: lr = lr0 * lr_factor^floor(epoch / lr_step) (PyTorch's StepLR);
// - cosine: lr = lr_min + (lr0 - lr_min) (1 + cos(pi epoch / epochs)) / 2 (CosineAnnealingLR over
//   the run's epochs);
// - early stopping: Keras' EarlyStopping (mode min, baseline none): stop once `early_stopping`
//   epochs in a row have not improved on the best by more than `early_stopping_min_delta`; with
//   `restore_best` the best epoch's weights are the run's at the end, stopped early or not, as
//   Keras 3 does.

#include "app/train/run_config.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace lstmlab {

class FitCallbacks {
 public:
  explicit FitCallbacks(const TrainConfig& config);

  /// Whether anything here reads the validation loss (a run without one is refused).
  bool needs_validation() const;
  /// The learning rate epoch `epoch` (0-based) trains with.
  double lr_for_epoch(int64_t epoch) const;
  /// After epoch `epoch` (0-based): its validation loss and the model's parameters (kept when
  /// they are the best so far and restore_best is on). Returns true when training should stop.
  bool end_epoch(int64_t epoch, double val_loss, const std::vector<torch::Tensor>& parameters);

  bool stopped_early() const { return stopped_early_; }
  /// 1-based; 0 before any epoch.
  int64_t best_epoch() const { return best_epoch_; }
  /// The best epoch's parameters (restore_best only; empty otherwise).
  const std::vector<torch::Tensor>& best_parameters() const { return best_parameters_; }

  /// float64 [8]: the schedule's and early stopping's counters, for the checkpoint.
  torch::Tensor state() const;
  /// Takes back state() and the best parameters saved beside it.
  void load_state(const torch::Tensor& state, std::vector<torch::Tensor> best_parameters);

 private:
  TrainConfig config_;
  double plateau_lr_;
  double plateau_best_;
  int64_t plateau_wait_ = 0;
  int64_t plateau_cooldown_ = 0;
  double stop_best_;
  int64_t stop_wait_ = 0;
  int64_t best_epoch_ = 0;
  bool stopped_early_ = false;
  std::vector<torch::Tensor> best_parameters_;
};

}  // namespace lstmlab

#pragma once
// The one training loop, for every task and both layers:
//   batch -> forward -> loss -> zero_grad -> backward -> clip -> step -> log,
// evaluation on the validation split each epoch, a checkpoint at the end of each epoch.
// It knows a model (input -> prediction) and a dataset (batches), never a task's name.

#include "app/checkpoint.h"
#include "app/run_config.h"
#include "data/batch_loader.h"

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lstmlab {

struct EpochMetrics {
  int64_t epoch = 0;          ///< 1-based
  double train_loss = 0;      ///< Keras' figure: sample-weighted mean of each batch's loss, before its step
  double val_loss = 0;        ///< NaN when there is no validation split
  double val_rmse = 0;        ///< in the data's original units
  double val_mae = 0;
  double train_seconds = 0;
  double samples_per_s = 0;
};

struct Evaluation {
  double loss = 0, rmse = 0, mae = 0;  ///< NaN for an empty split
  torch::Tensor prediction, target;    ///< original units, CPU float64, [n, K]
};

/// Thrown when a loss is NaN or infinite; nothing is saved over the last good checkpoint.
class NonFiniteLoss : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TrainerHooks {
  /// Called after every optimizer step with the 0-based epoch and the batches done in it.
  std::function<void(int64_t epoch, int64_t step)> after_step;
};

/// Asks a running fit() to save a checkpoint at the end of the current step and return. Safe to
/// call from a signal handler.
void request_stop();
/// Clears a pending stop request.
void clear_stop_request();
/// Ctrl-C calls request_stop(); a second Ctrl-C ends the process at once.
void install_interrupt_handler();

class Trainer {
 public:
  /// Moves the model to the config's device and dtype and builds the optimizer. Creates
  /// `run_dir`, so that one that cannot be made fails here; fit() writes config.json there before
  /// its first step. `label` prefixes progress lines ("scratch: ").
  Trainer(SequenceModelPtr model, const Dataset& data, RunConfig config, std::string run_dir,
          std::ostream& log, bool quiet, std::string label = "", TrainerHooks hooks = {});

  /// Continues from `run_dir/checkpoint.pt`: weights, optimizer state, position, RNG, history.
  /// Refuses (std::invalid_argument) a config whose epochs are fewer than the run has done; a
  /// refused or failed resume writes nothing.
  void resume();

  /// Trains until config.train.epochs are complete or a stop is requested (stopped() then says
  /// so). Returns the metrics of every epoch so far, resumed ones included.
  const std::vector<EpochMetrics>& fit();
  bool stopped() const { return stopped_; }

  Evaluation evaluate(Split split);
  const std::vector<EpochMetrics>& history() const { return history_; }
  const std::string& run_dir() const { return run_dir_; }
  std::string checkpoint_path() const { return run_dir_ + "/checkpoint.pt"; }
  SequenceModelPtr model() const { return model_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }

 private:
  torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target) const;
  void save(const TrainPosition& position);
  void write_metrics_csv() const;
  /// config.json: every setting, the LibTorch version, device and threads, the model printed.
  void write_config() const;

  SequenceModelPtr model_;
  const Dataset& data_;
  RunConfig config_;
  std::string run_dir_;
  std::ostream& log_;
  bool quiet_;
  std::string label_;
  TrainerHooks hooks_;
  torch::Device device_;
  torch::ScalarType dtype_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  BatchLoader train_loader_;
  std::map<Split, BatchLoader> eval_loaders_;  ///< made on a split's first evaluation, then kept
  TrainPosition position_;
  std::vector<EpochMetrics> history_;
  bool stopped_ = false;
};

/// The held-out split a user looks at: test, else validation, else train.
Split held_out_split(const Dataset& data);

}  // namespace lstmlab

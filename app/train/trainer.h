#pragma once
// The one training loop, for every task and both layers:
//   batch -> forward -> loss -> zero_grad -> backward -> clip -> step -> log,
// evaluation on the validation split each epoch, a checkpoint at the end of each epoch.
// It knows a task through its contract (app/tasks/task.h): never which task it runs.

#include "app/tasks/task.h"
#include "app/train/checkpoint.h"
#include "app/train/fit_callbacks.h"
#include "app/train/run_config.h"
#include "data/batch_loader.h"

#include <optional>
#include <utility>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lstmlab {

class Communicator;

/// Named values in the task's column order: {"rmse", 0.01}, {"mae", 0.008}.
using MetricValues = std::vector<std::pair<std::string, double>>;
/// The value named `name`; NaN when there is none.
double metric_value(const MetricValues& values, const std::string& name);

struct EpochMetrics {
  int64_t epoch = 0;          ///< 1-based
  double train_loss = 0;      ///< Keras' figure: count-weighted mean of each batch's loss, before its step
  double val_loss = 0;        ///< NaN when there is no validation split
  MetricValues val_metrics;   ///< the task's metrics on the validation split, in its units
  double lr = 0;              ///< the learning rate the epoch trained with
  double train_seconds = 0;
  double examples_per_s = 0;  ///< samples (or tokens: the task's count) per second of training
};

struct Evaluation {
  double loss = 0;        ///< count-weighted mean; NaN for an empty split
  int64_t count = 0;      ///< samples (or tokens) evaluated
  MetricValues metrics;   ///< NaN each for an empty split
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
  /// `task` must outlive the trainer.
  ///
  /// With `comm` the trainer is one rank of a data-parallel run (app/dist/): every rank trains on
  /// its rows of the same global batch, the loss and its count and the gradients are summed over
  /// the ranks before each step, so that every rank takes the step one process would take on the
  /// whole batch; rank 0 alone makes and writes the run directory.
  Trainer(SequenceModelPtr model, const Task& task, RunConfig config, std::string run_dir,
          std::ostream& log, bool quiet, std::string label = "", TrainerHooks hooks = {},
          std::shared_ptr<Communicator> comm = nullptr);

  /// Continues from `run_dir/checkpoint.pt`: weights, optimizer state, position, RNG, history.
  /// Refuses (std::invalid_argument) a config whose epochs are fewer than the run has done; a
  /// refused or failed resume writes nothing.
  void resume();

  /// Trains until config.train.epochs are complete, early stopping ends the run
  /// (stopped_early()), or a stop is requested (stopped() then says so). With restore_best the
  /// model ends on the best epoch's weights. Returns the metrics of every epoch so far, resumed
  /// ones included.
  const std::vector<EpochMetrics>& fit();
  bool stopped() const { return stopped_; }
  bool stopped_early() const { return callbacks_.stopped_early(); }

  /// The loss and the task's metrics over a split, batch by batch, carrying the recurrent state
  /// across its batches when the task does. `predictions`, when given, is fed every batch. In a
  /// data-parallel run each rank evaluates its rows of each batch and the sums are added over the
  /// ranks (every rank calls it); `whole` evaluates every row here, alone.
  Evaluation evaluate(Split split, PredictionWriter* predictions = nullptr, bool whole = false);
  /// True for the process that writes the run directory: rank 0, or a run of one process.
  bool writes() const;
  /// "epoch,train_loss,val_loss,val_rmse,...,lr,train_seconds,samples_per_s"
  std::vector<std::string> history_columns() const;
  const std::vector<EpochMetrics>& history() const { return history_; }
  const std::string& run_dir() const { return run_dir_; }
  std::string checkpoint_path() const { return run_dir_ + "/checkpoint.pt"; }
  SequenceModelPtr model() const { return model_; }
  /// Seconds this process's fit() spent in the steps' collectives (the loss's and the gradients'
  /// all-reduce, waiting for the slowest rank included); 0 in one process.
  double collective_seconds() const { return collective_seconds_; }
  /// Seconds this process's fit() spent in training steps, resumed epochs' earlier part excluded.
  double step_seconds() const { return step_seconds_; }

 private:
  /// Every rank calls it (a carried state is gathered whole); rank 0 writes.
  void save(const TrainPosition& position);
  /// One step's loss, its count and a pending stop request, summed over the ranks.
  struct StepSums {
    double loss_sum = 0;
    int64_t count = 0;
    bool stop = false;
  };
  StepSums sum_over_ranks(double loss_sum, int64_t count, const std::string& where);
  void set_lr(double lr);
  /// Early stopping's best epoch back into the model (restore_best), then saved as the run's.
  void restore_best();
  torch::Tensor history_tensor() const;
  std::vector<EpochMetrics> history_from(const torch::Tensor& t) const;
  void write_metrics_csv() const;
  /// config.json: every setting, the LibTorch version, device and threads, the model printed.
  void write_config() const;

  SequenceModelPtr model_;
  const Task& task_;
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
  FitCallbacks callbacks_;
  TrainPosition position_;
  std::optional<RecurrentState> carried_;  ///< the state the last batch ended in (carrying tasks)
  std::vector<EpochMetrics> history_;
  bool stopped_ = false;
  std::shared_ptr<Communicator> comm_;  ///< null: one process
  int64_t carried_rows_ = 0;  ///< the global batch's rows the carried state belongs to
  double collective_seconds_ = 0;
  double step_seconds_ = 0;
};

/// The held-out split a user looks at: test, else validation, else train.
Split held_out_split(const Dataset& data);

}  // namespace lstmlab

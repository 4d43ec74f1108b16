#pragma once
// The Task contract: the one place that knows what is being learned. A task supplies its data, its
// model (head included), its loss as (mean, count) so that an epoch's mean weights each batch by
// what it holds (samples, or tokens), its metrics as named accumulators fed batch by batch in the
// units a user reads (RMSE in the data's units, accuracy, perplexity), and whether the recurrent
// state carries from one batch to the next. The trainer, metrics.csv, the checkpoint's history
// and the printed summaries take their columns from it; nothing outside app/tasks/ asks which task
// runs.

#include "app/train/run_config.h"
#include "data/dataset.h"
#include "models/heads/sequence_model.h"

#include <torch/types.h>

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace lstmlab {

/// A batch's loss: the mean over `count` samples (or tokens). Epoch means are sums of mean*count
/// over sums of count, as Keras reports them.
struct BatchLoss {
  torch::Tensor mean;  ///< a scalar with the graph, to backpropagate
  int64_t count = 0;
};

/// A metric accumulated over a split (torchmetrics' update/compute): no split is ever held whole.
class Metric {
 public:
  virtual ~Metric() = default;
  /// One batch: the model's prediction and the batch's target, as the loss sees them.
  virtual void update(const torch::Tensor& prediction, const torch::Tensor& target) = 0;
  /// The value over every batch so far; NaN when there was none.
  virtual double compute() const = 0;
  /// The sums the value is computed from (a sum and a count, say), so that ranks that each saw
  /// part of a split add theirs (torchmetrics' dist_reduce_fx="sum"). Empty when the metric is not
  /// a function of sums; a data-parallel run then evaluates the whole split on every rank.
  virtual std::vector<double> sums() const { return {}; }
  /// Replaces the sums by `sums` (every rank's, added).
  virtual void set_sums(const std::vector<double>& sums) { (void)sums; }
};

/// A loss a task trains with: its --loss and config.json name, and how plots and summaries label
/// it.
struct LossSpec {
  std::string name;   ///< "mse"
  std::string label;  ///< "MSE"
};

/// The loss named `name` among a task's; throws std::invalid_argument, one line naming --loss,
/// `task` ("the sine task") and the losses it takes.
const LossSpec& find_loss(const std::vector<LossSpec>& losses, const std::string& name,
                          const std::string& task);

struct MetricSpec {
  std::string name;   ///< the metrics.csv column after "val_": "rmse"
  std::string label;  ///< as printed: "RMSE"
};

/// Where the held-out predictions go (predictions.csv), batch by batch, in the data's units.
class PredictionWriter {
 public:
  virtual ~PredictionWriter() = default;
  virtual void write(const torch::Tensor& prediction, const torch::Tensor& target) = 0;
  /// Renames the finished file into place.
  virtual void commit() = 0;
};

class Task {
 public:
  virtual ~Task() = default;

  virtual const Dataset& data() const = 0;
  /// The model for this data, head included, from the run's model settings. Draws its initial
  /// weights from the global generator: seed it first.
  virtual SequenceModelPtr make_model(const ModelConfig& model) const = 0;
  /// The losses this task can train with (config.train.loss names one), its default first.
  virtual std::vector<LossSpec> losses() const = 0;
  /// The loss of one batch; `prediction` is what the model returned for `batch.input`.
  virtual BatchLoss loss(const torch::Tensor& prediction, const Batch& batch) const = 0;
  /// The metrics, in their column order, and fresh accumulators for them in the same order.
  virtual std::vector<MetricSpec> metrics() const = 0;
  virtual std::vector<std::unique_ptr<Metric>> make_metrics() const = 0;
  /// What a loss count counts: "samples" (the column samples_per_s) or "tokens".
  virtual std::string count_unit() const { return "samples"; }
  /// True when consecutive batches continue one another (a text cut into pieces): the trainer
  /// then hands each batch the state the last one ended in, detached, and starts every epoch and
  /// every evaluation from zeros.
  virtual bool carries_state() const { return false; }
  /// Writes what a run directory needs besides the trainer's files (the text task's vocab.tsv);
  /// called before the first step of every fit, resumed ones too.
  virtual void write_run_files(const std::string& run_dir) const { (void)run_dir; }
  /// Called after each epoch's evaluation and checkpoint, with the 1-based epoch; `log` is null
  /// when the run is quiet. The text task prints and keeps a sample here.
  virtual void after_epoch(SequenceModelImpl& model, int64_t epoch, const std::string& run_dir,
                           std::ostream* log) const {
    (void)model, (void)epoch, (void)run_dir, (void)log;
  }
  /// A writer for `path` (predictions.csv) of held-out predictions, or null when the task has none.
  virtual std::unique_ptr<PredictionWriter> prediction_writer(const std::string& path) const {
    (void)path;
    return nullptr;
  }
};

}  // namespace lstmlab

#pragma once
// A whole training run as `lstm-lab train` does it: data, seeded model, trainer, the final
// held-out evaluation, predictions.csv and the plots.

#include "app/train/trainer.h"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace lstmlab {

struct RunRequest {
  RunConfig config;
  std::string run_dir;
  bool resume = false;     ///< continue run_dir's checkpoint
  bool quiet = false;
  bool plots = true;
  std::string label;       ///< progress-line prefix
  SequenceModelPtr model;  ///< prebuilt (compare); null: built from config, seeded
  TrainerHooks hooks;
  /// One rank of a data-parallel run (app/dist/); null: one process. Rank 0 writes the run
  /// directory; every rank evaluates the final splits whole, without collectives.
  std::shared_ptr<Communicator> comm;
};

struct RunResult {
  std::vector<EpochMetrics> history;
  Split held_out = Split::Test;
  Evaluation evaluation;  ///< on the held-out split, after training
  std::map<Split, Evaluation> splits;  ///< every non-empty split, after training
  std::vector<MetricSpec> metrics;     ///< the task's, in order
  LossSpec loss;                       ///< the task's loss the run trained with
  bool stopped = false;   ///< Ctrl-C: a checkpoint was saved mid-run
  std::vector<std::string> notes;  ///< where the plots are, or how to get them
  int world_size = 1;              ///< ranks of a data-parallel run; 1: one process
  double step_seconds = 0;         ///< this process's training steps, in this fit
  double collective_seconds = 0;   ///< of which in the loss's and the gradients' all-reduce
  SequenceModelPtr model;
};

/// Builds the model (seeded) and, unless it resumes, starts it from config.model.init_weights when
/// set; trains; evaluates.
RunResult train_run(const RunRequest& request, std::ostream& log);

/// Sets `model`'s weights from the file config.model.init_weights names (nothing when empty).
/// Throws std::runtime_error naming the file and the part that does not fit.
void load_init_weights(const ModelConfig& config, SequenceModelImpl& model);

/// "RMSE 0.0048, MAE 0.0039": each metric of the task, by its label.
std::string describe_evaluation(const Evaluation& evaluation, const std::vector<MetricSpec>& specs);
double median_epoch_seconds(const std::vector<EpochMetrics>& history);
/// summary.json: the loss's name, the final metrics of every split, epochs done, time per epoch,
/// examples per second.
nlohmann::json run_summary(const RunResult& result, const std::string& count_unit);

}  // namespace lstmlab

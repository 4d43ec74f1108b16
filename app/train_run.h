#pragma once
// A whole training run as `lstm-lab train` does it: data, seeded model, trainer, the final
// held-out evaluation, predictions.csv and the plots.

#include "app/trainer.h"

#include <iosfwd>
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
};

struct RunResult {
  std::vector<EpochMetrics> history;
  Split held_out = Split::Test;
  Evaluation evaluation;  ///< on the held-out split, after training
  bool stopped = false;   ///< Ctrl-C: a checkpoint was saved mid-run
  std::vector<std::string> notes;  ///< where the plots are, or how to get them
  SequenceModelPtr model;
};

RunResult train_run(const RunRequest& request, std::ostream& log);

/// Writes `dir/predictions.csv` (index,target,prediction; original units, first target column).
void write_predictions_csv(const std::string& dir, const Evaluation& evaluation);

}  // namespace lstmlab

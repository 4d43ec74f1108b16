#pragma once
// `lstm-lab predict` on a task without a formula to roll forward (the csv task): the trained run's
// forecast for its held-out split (the test split, else validation), in the data's own units,
// written to forecast.csv by the task's prediction writer and drawn as truth against prediction
// over time.

#include "app/tools/forecast.h"

#include <iosfwd>
#include <string>

namespace lstmlab {

/// Loads `run_dir`'s config.json and checkpoint.pt (std::runtime_error naming the file when either
/// is missing or unreadable). Forecast::x is the sample index, truth and prediction the first
/// target value; rmse is the task's first metric over the split.
Forecast run_split_forecast(const std::string& run_dir, std::ostream& log, bool quiet = false);

}  // namespace lstmlab

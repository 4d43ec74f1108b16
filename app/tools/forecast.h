#pragma once
// `lstm-lab predict`: a trained run rolled forward past the end of its data, each prediction fed
// back as the newest input (autoregressive), written to forecast.csv and drawn.

#include <iosfwd>
#include <string>
#include <vector>

namespace lstmlab {

struct Forecast {
  std::vector<double> x, prediction, truth;  ///< truth: the noiseless sine at x
  std::string csv_path;
  std::string note;  ///< where the plot is, or how to get one
  double rmse = 0;   ///< prediction against truth
};

/// The sine task is rolled forward `steps` steps; any other task gives its held-out split's
/// forecast instead (app/tools/split_forecast.h) and `steps` does not apply.
/// Loads `run_dir`'s config.json and checkpoint.pt. Throws std::runtime_error naming the file when
/// either is missing or unreadable.
/// Progress on a terminal and a closing line go to `log` unless `quiet`.
Forecast run_forecast(const std::string& run_dir, int64_t steps, std::ostream& log,
                      bool quiet = false);

}  // namespace lstmlab

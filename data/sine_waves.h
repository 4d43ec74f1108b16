#pragma once
// The sine task of seed 002: y = sin(x) on numpy's linspace(x_start, x_end, points); each window
// of seq_len consecutive values predicts the value that follows it.

#include "data/dataset.h"

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace lstmlab {

struct SineOptions {
  /// Points of the series (--points). Default: 1000.
  int64_t points = 1000;
  /// First x, in radians (--x-start). Default: 0.
  double x_start = 0;
  /// Last x, included (--x-end). Default: 100.
  double x_end = 100;
  /// Values per input window (--seq-len). Default: 50.
  int64_t seq_len = 50;
  /// Standard deviation of Gaussian noise added to sin(x) (--noise). Default: 0.
  double noise = 0;
  /// Seed of the noise, independent of every other seed (--noise-seed). Default: 0.
  uint64_t noise_seed = 0;
  /// Fraction of the windows, the last in time, held out for validation and test
  /// (--test-fraction). Default: 0.2. At 0 every window trains, as in the seed.
  double test_fraction = 0.2;
};

/// Windows: for i in [0, points - seq_len): input y[i, i+seq_len), target y[i+seq_len].
/// The first windows train; the last round(test_fraction * windows) are held out, the earlier half
/// (the larger when odd) for validation, the later for test.
/// input [n, seq_len, 1], target [n, 1].
class SineWaves : public Dataset {
 public:
  /// Throws std::invalid_argument, one line naming the flag, for options outside their range.
  explicit SineWaves(SineOptions options = {});

  std::string name() const override { return "sine"; }
  int64_t size(Split split) const override;
  Batch examples(Split split, const torch::Tensor& indices) const override;
  int64_t input_size() const override { return 1; }
  int64_t target_size() const override { return 1; }
  std::string describe() const override;

  /// The whole series y, float64 [points], for forecasting beyond the windows.
  const torch::Tensor& series() const { return series_; }
  int64_t seq_len() const { return options_.seq_len; }
  /// Windows in all splits together: points - seq_len.
  int64_t num_windows() const { return inputs_.size(0); }
  /// Index of a split's first window among all windows (time order).
  int64_t first_window(Split split) const;
  const SineOptions& options() const { return options_; }

 private:
  SineOptions options_;
  torch::Tensor series_;   // [points]
  torch::Tensor inputs_;   // [windows, seq_len, 1]
  torch::Tensor targets_;  // [windows, 1]
  int64_t train_size_ = 0;
  int64_t validation_size_ = 0;
  int64_t test_size_ = 0;
};

/// Throws std::invalid_argument, naming the flag, if any option is out of range.
void check_options(const SineOptions& options);

}  // namespace lstmlab

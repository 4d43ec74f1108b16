#include "data/sine_waves.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace lstmlab {
namespace {

struct SplitSizes {
  int64_t train;
  int64_t validation;
  int64_t test;
};

// The held-out tail: round(fraction * windows), halves rounded towards validation.
SplitSizes split_sizes(int64_t windows, double test_fraction) {
  const auto held = static_cast<int64_t>(std::llround(test_fraction * static_cast<double>(windows)));
  return SplitSizes{windows - held, held - held / 2, held / 2};
}

// numpy.linspace(start, end, points)[i]: start + i * step, the last point exactly `end`.
double linspace_at(double start, double end, int64_t points, int64_t i) {
  if (i == points - 1) {
    return end;
  }
  const double step = (end - start) / static_cast<double>(points - 1);
  return static_cast<double>(i) * step + start;
}

}  // namespace

void check_options(const SineOptions& o) {
  if (o.points < 2) {
    throw std::invalid_argument(
        fmt::format("--points {} is too few: the series needs at least 2 points", o.points));
  }
  if (o.seq_len < 1) {
    throw std::invalid_argument(
        fmt::format("--seq-len {} is too short: a window needs at least 1 value", o.seq_len));
  }
  if (o.seq_len >= o.points) {
    throw std::invalid_argument(fmt::format(
        "--seq-len {} is {} the series (--points {}): it must be less than the number of points",
        o.seq_len, o.seq_len == o.points ? "as long as" : "longer than", o.points));
  }
  if (!std::isfinite(o.x_start)) {
    throw std::invalid_argument(fmt::format("--x-start {} must be a finite number", o.x_start));
  }
  if (!std::isfinite(o.x_end) || !(o.x_end > o.x_start)) {
    throw std::invalid_argument(fmt::format(
        "--x-end {} must be a finite number greater than --x-start {}", o.x_end, o.x_start));
  }
  if (!(o.noise >= 0) || !std::isfinite(o.noise)) {
    throw std::invalid_argument(fmt::format(
        "--noise {} must be a finite standard deviation >= 0 (0 for a clean sine)", o.noise));
  }
  if (!(o.test_fraction >= 0 && o.test_fraction < 1)) {
    throw std::invalid_argument(fmt::format(
        "--test-fraction {} must be in [0, 1): the fraction of windows held out for validation "
        "and test",
        o.test_fraction));
  }
  const int64_t windows = o.points - o.seq_len;
  if (split_sizes(windows, o.test_fraction).train == 0) {
    throw std::invalid_argument(fmt::format(
        "--test-fraction {} leaves no window to train on: it holds out all {} windows of "
        "--points {} with --seq-len {}; lower it, or use more points",
        o.test_fraction, windows, o.points, o.seq_len));
  }
}

SineWaves::SineWaves(SineOptions options) : options_(options) {
  check_options(options_);
  const int64_t P = options_.points;
  const int64_t T = options_.seq_len;
  const int64_t W = P - T;

  // sin per element with the C library, as np.sin does for float64 (no vectorised approximation).
  series_ = at::empty({P}, at::TensorOptions().dtype(at::kDouble));
  double* y = series_.data_ptr<double>();
  for (int64_t i = 0; i < P; ++i) {
    y[i] = std::sin(linspace_at(options_.x_start, options_.x_end, P, i));
  }
  if (options_.noise > 0) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options_.noise_seed);
    series_.add_(at::randn({P}, generator, at::TensorOptions().dtype(at::kDouble)),
                 options_.noise);
  }

  // Window i is y[i, i+T), its target y[i+T]: W = P - T windows.
  inputs_ = series_.unfold(0, T, 1).slice(0, 0, W).unsqueeze(-1).contiguous();  // [W, T, 1]
  targets_ = series_.slice(0, T).unsqueeze(-1).contiguous();                   // [W, 1]

  const SplitSizes sizes = split_sizes(W, options_.test_fraction);
  train_size_ = sizes.train;
  validation_size_ = sizes.validation;
  test_size_ = sizes.test;
}

int64_t SineWaves::size(Split split) const {
  switch (split) {
    case Split::Train:
      return train_size_;
    case Split::Validation:
      return validation_size_;
    case Split::Test:
      return test_size_;
  }
  return 0;
}

int64_t SineWaves::first_window(Split split) const {
  switch (split) {
    case Split::Train:
      return 0;
    case Split::Validation:
      return train_size_;
    case Split::Test:
      return train_size_ + validation_size_;
  }
  return 0;
}

Batch SineWaves::examples(Split split, const torch::Tensor& indices) const {
  check_indices(split, indices);
  const torch::Tensor rows = indices + first_window(split);
  return Batch{inputs_.index_select(0, rows), targets_.index_select(0, rows)};
}

std::string SineWaves::describe() const {
  const std::string noise =
      options_.noise > 0
          ? fmt::format(" + {} * N(0, 1) noise (seed {})", options_.noise, options_.noise_seed)
          : "";
  return fmt::format(
      "sine: {} points of sin(x){}, x in [{}, {}]; windows of {} -> next value; train {}, "
      "validation {}, test {}; input [n, {}, 1], target [n, 1]",
      options_.points, noise, options_.x_start, options_.x_end, options_.seq_len, train_size_,
      validation_size_, test_size_, options_.seq_len);
}

}  // namespace lstmlab

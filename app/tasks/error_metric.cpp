#include "app/tasks/error_metric.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace lstmlab {

std::vector<LossSpec> regression_losses() { return {{"mse", "MSE"}, {"mae", "MAE"}}; }

void ErrorMetric::update(const torch::Tensor& prediction, const torch::Tensor& target) {
  const auto error = data_.to_original_scale(prediction.to(torch::kCPU, torch::kDouble)) -
                     data_.to_original_scale(target.to(torch::kCPU, torch::kDouble));
  sum_ += (squared_ ? error.pow(2) : error.abs()).sum().item<double>();
  count_ += error.numel();
}

void ErrorMetric::set_sums(const std::vector<double>& sums) {
  sum_ = sums.at(0);
  count_ = static_cast<int64_t>(sums.at(1));
}

double ErrorMetric::compute() const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  const double mean = sum_ / static_cast<double>(count_);
  return squared_ ? std::sqrt(mean) : mean;
}

}  // namespace lstmlab

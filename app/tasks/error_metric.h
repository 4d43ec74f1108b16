#pragma once
// What the regression tasks (sine, csv) share: their losses, and RMSE and MAE in the data's own
// units (predictions and targets taken back through the dataset's scaling before they are
// compared, summed in float64 over every target value).

#include "app/tasks/task.h"
#include "data/dataset.h"

namespace lstmlab {

/// MSE (the default) or MAE of the scaled values the model sees (app/train/losses.h computes them).
std::vector<LossSpec> regression_losses();

class ErrorMetric : public Metric {
 public:
  /// squared: RMSE; otherwise MAE. `data` must outlive the metric.
  ErrorMetric(const Dataset& data, bool squared) : data_(data), squared_(squared) {}
  void update(const torch::Tensor& prediction, const torch::Tensor& target) override;
  double compute() const override;
  std::vector<double> sums() const override { return {sum_, static_cast<double>(count_)}; }
  void set_sums(const std::vector<double>& sums) override;

 private:
  const Dataset& data_;
  bool squared_;
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace lstmlab

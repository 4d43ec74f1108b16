#pragma once
// RMSE and MAE in the data's own units: predictions and targets are taken back through the
// dataset's scaling before they are compared, and summed in float64 over every target value.

#include "app/tasks/task.h"
#include "data/dataset.h"

namespace lstmlab {

class ErrorMetric : public Metric {
 public:
  /// squared: RMSE; otherwise MAE. `data` must outlive the metric.
  ErrorMetric(const Dataset& data, bool squared) : data_(data), squared_(squared) {}
  void update(const torch::Tensor& prediction, const torch::Tensor& target) override;
  double compute() const override;

 private:
  const Dataset& data_;
  bool squared_;
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace lstmlab

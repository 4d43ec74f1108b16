#pragma once
// A task over tensors a test already holds: a Dataset of given splits and a regression task (an
// LSTM or GRU and a Linear on the last step, MAE or MSE) driven through lstmlab::Trainer, for
// tests of the trainer's semantics that must not depend on any real task's reader.

#include "app/tasks/task.h"
#include "app/train/losses.h"
#include "app/train/run_config.h"
#include "data/dataset.h"
#include "models/heads/sequence_regressor.h"

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lstmlab::test {

/// input [n, T, I] and target [n, K] per split (any split may be absent: empty).
class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(std::map<Split, Batch> splits) : splits_(std::move(splits)) {}
  std::string name() const override { return "tensors"; }
  int64_t size(Split split) const override {
    const auto it = splits_.find(split);
    return it == splits_.end() ? 0 : it->second.input.size(0);
  }
  Batch examples(Split split, const torch::Tensor& indices) const override {
    check_indices(split, indices);
    const auto& s = splits_.at(split);
    return {s.input.index_select(0, indices), s.target.index_select(0, indices)};
  }
  int64_t input_size() const override { return any().input.size(2); }
  int64_t target_size() const override { return any().target.size(1); }
  std::string describe() const override { return "tensors"; }

 private:
  const Batch& any() const { return splits_.begin()->second; }
  std::map<Split, Batch> splits_;
};

/// No metrics: the loss is what these tests watch.
class TensorTask : public Task {
 public:
  TensorTask(std::map<Split, Batch> splits, std::string loss)
      : data_(std::move(splits)), loss_(std::move(loss)) {}
  const Dataset& data() const override { return data_; }
  SequenceModelPtr make_model(const ModelConfig& model) const override {
    return std::make_shared<SequenceRegressorImpl>(make_recurrent_layer(model, data_.input_size()),
                                                   data_.target_size());
  }
  BatchLoss loss(const torch::Tensor& prediction, const Batch& batch) const override {
    return {regression_loss(loss_, prediction, batch.target), batch.input.size(0)};
  }
  std::vector<LossSpec> losses() const override { return {{"mse", "MSE"}, {"mae", "MAE"}}; }
  std::vector<MetricSpec> metrics() const override { return {}; }
  std::vector<std::unique_ptr<Metric>> make_metrics() const override { return {}; }

 private:
  TensorDataset data_;
  std::string loss_;
};

}  // namespace lstmlab::test

#pragma once
// The dataset contract: a task knows its files (or formula) and hands out examples as tensors.
// Shapes (batch-first, CPU): input [n, T, I] float64; target [n, K], whose meaning is the task's:
// K float64 values to regress (sine: the next value, K = 1) or K int64 class indices, one a step
// (a tagger or a language model: K = T). n examples, T steps, I features per step.

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace lstmlab {

enum class Split { Train, Validation, Test };

/// "train", "validation", "test".
std::string to_string(Split split);

/// A batch of examples, batch-first: input [n, T, I], target [n, K] (values or class indices).
struct Batch {
  torch::Tensor input;
  torch::Tensor target;
};

/// A task's data. A task supplies its sizes and its examples; the loader does the batching,
/// shuffling and the move to the device and dtype.
class Dataset {
 public:
  virtual ~Dataset() = default;

  /// Short task name, as on the command line ("sine").
  virtual std::string name() const = 0;
  /// Number of examples in a split (0 for an empty split).
  virtual int64_t size(Split split) const = 0;
  /// The examples at `indices` (int64, 1-D, each in [0, size(split))), in that order:
  /// input [n, T, I] float64, target [n, K] float64 values or int64 classes, on the CPU.
  virtual Batch examples(Split split, const torch::Tensor& indices) const = 0;
  /// Features per time step (I).
  virtual int64_t input_size() const = 0;
  /// Entries per target (K): values to regress, or class indices (one a step for a tagger).
  virtual int64_t target_size() const = 0;
  /// One line: what the data is, the size of every split, and the shapes of input and target.
  virtual std::string describe() const = 0;
  /// Regression targets (or predictions) back in the units of the original data, for metrics
  /// such as RMSE. The identity unless a task scaled its data; class indices have no scale.
  virtual torch::Tensor to_original_scale(const torch::Tensor& target) const;

 protected:
  /// Throws c10::Error unless `indices` is a 1-D int64 tensor with every value in [0, size(split)).
  void check_indices(Split split, const torch::Tensor& indices) const;
};

}  // namespace lstmlab

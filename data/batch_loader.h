#pragma once
// Batches of one split of a dataset, on the device and in the dtype the trainer asks for.
// A shuffled epoch's order depends on (seed, epoch index) alone: epoch k is the same batches
// whether a run went straight through or was stopped and resumed, and the global RNG is never
// touched, so shuffling does not disturb the model's seeded initialisation or dropout.

#include "data/dataset.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace lstmlab {

struct LoaderOptions {
  /// Examples per batch; 0 puts the whole split in one batch. The last batch may be smaller.
  int64_t batch_size = 0;
  /// Draw a fresh order each epoch instead of the split's own (time) order.
  bool shuffle = false;
  /// Seed of the shuffled orders; together with the epoch index it fixes that epoch's order.
  uint64_t seed = 0;
  /// Where the batches go.
  torch::Device device = torch::kCPU;
  /// The dtype of floating-point inputs and targets (integer targets, such as class indices,
  /// keep theirs).
  torch::ScalarType dtype = torch::kFloat32;
};

class BatchLoader {
 public:
  /// Keeps a reference to `dataset`, which must outlive the loader, and the whole split, gathered
  /// and moved to the device and dtype once: an epoch then costs no transfer. Throws
  /// std::invalid_argument for a negative batch size (naming --batch-size) or a dtype that is not
  /// floating-point.
  BatchLoader(const Dataset& dataset, Split split, LoaderOptions options);

  /// Examples in the split.
  int64_t size() const { return size_; }
  /// Batches per epoch: ceil(size / batch_size), 1 for batch_size 0, 0 for an empty split.
  int64_t num_batches() const;
  /// The order in which epoch `epoch_index` visits the examples: int64 [size], a permutation of
  /// 0..size-1 (the identity when not shuffling).
  torch::Tensor order(int64_t epoch_index) const;
  /// Every batch of epoch `epoch_index`, each example exactly once, on the device and dtype asked
  /// for. The batches are views of the resident split (in order) or of one gather of it on the
  /// device (shuffled): read them, never write into them.
  std::vector<Batch> epoch(int64_t epoch_index) const;


 private:
  const Dataset& dataset_;
  Split split_;
  LoaderOptions options_;
  int64_t size_;
  Batch resident_;  ///< the split in its own order, on the device; empty tensors for an empty split
};

/// The seed of epoch `epoch_index`'s shuffle: a splitmix64 mix of both, so that neighbouring
/// seeds and neighbouring epochs give unrelated orders.
uint64_t epoch_seed(uint64_t seed, int64_t epoch_index);

}  // namespace lstmlab

#pragma once
// The pieces of DistributedDataParallel the trainer uses: which rows of a global batch a rank
// trains on, rank 0's weights on every rank before the first step, the gradients summed as one
// flat buffer a step, and a carried state gathered back whole for the checkpoint.
//
// Every rank draws the same global batch (the same seed and epoch give the same order) and takes
// a contiguous block of its rows, as torch.tensor_split does: the first rows % world ranks one row
// more. For the text task's sequential windows a row is a stream, so each rank carries its own
// streams from batch to batch.

#include "app/dist/communicator.h"
#include "data/dataset.h"
#include "models/recurrent_layer.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

/// Rank `rank`'s rows of a batch of `rows` over `world` ranks (empty when rows < world for the
/// last ranks).
RowRange shard_rows(int64_t rows, int rank, int world);
/// The rows `range` of a batch (views).
Batch shard(const Batch& batch, RowRange range);
/// A state [layers, rows, hidden]'s rows `range`; an undefined state stays undefined.
RecurrentState shard(const RecurrentState& state, RowRange range);

/// Rank 0's values into every rank's `tensors` (one flat buffer per dtype in one collective each).
void broadcast_from_rank0(Communicator& comm, const std::vector<torch::Tensor>& tensors,
                          const std::string& what);
/// Sums every parameter's gradient over the ranks as one flattened buffer; an undefined gradient
/// counts as zeros and is left defined.
void all_reduce_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters,
                          const std::string& what);
/// Every rank's rows of a [layers, rows, hidden] tensor, concatenated in rank order along dim 1:
/// the whole batch's state from each rank's shard of `total_rows` rows.
torch::Tensor gather_rows(Communicator& comm, const torch::Tensor& local, int64_t total_rows,
                          const std::string& what);

}  // namespace lstmlab

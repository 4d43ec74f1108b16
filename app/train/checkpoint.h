#pragma once
// checkpoint.pt: everything a stopped run needs to go on as if it had never stopped.
// Written to a temporary file, synced, renamed and the directory synced (app/io/atomic_file.h), so
// the last good checkpoint survives a kill at any byte of the write.

#include "models/recurrent_layer.h"

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

/// The layout of checkpoint.pt this lstm-lab writes; a higher one is refused on --resume.
/// 1: a LibTorch archive holding the payload archive and its checksum. 2: a header of our own
/// (magic line, format, payload length, checksum) before the payload archive.
inline constexpr int64_t kCheckpointFormat = 2;

/// Where a run stands: `epoch` epochs are complete and `step` batches of the next one are done
/// (step 0 at an epoch boundary), with the train-loss sums of those batches.
struct TrainPosition {
  int64_t epoch = 0;
  int64_t step = 0;
  double loss_sum = 0;       ///< sum over the done batches of batch loss * batch size
  int64_t loss_count = 0;    ///< samples in the done batches
  double seconds = 0;        ///< training time spent on the done batches
};

struct CheckpointExtras {
  TrainPosition position;
  torch::Tensor rng_state;   ///< the global CPU generator (dropout draws)
  torch::Tensor history;     ///< float64 [epochs, columns]: the metrics so far
  RecurrentState state{};    ///< mid-epoch, a carrying task's state; undefined otherwise
  torch::Tensor callbacks;   ///< float64: the lr schedule's and early stopping's state (fit_callbacks.h)
  std::vector<torch::Tensor> best_parameters;  ///< early stopping's best epoch (restore_best)
};

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const CheckpointExtras& extras);

/// Loads into `model` and `optimizer` (built as for the saved run). Throws std::runtime_error that
/// names the file when it is missing, truncated, corrupted or from another model.
CheckpointExtras load_checkpoint(const std::string& path, torch::nn::Module& model,
                                 torch::optim::Optimizer* optimizer);

}  // namespace lstmlab

#pragma once
// Text from a character language model: the prompt read in one pass (d2l's warm-up), then one
// token at a time, each fed back as the next input with the state carried.

#include "models/heads/sequence_model.h"

#include <ATen/core/Generator.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace lstmlab {

struct SamplingOptions {
  /// 0: greedy (the most likely token, as d2l's predict); otherwise logits / temperature.
  double temperature = 0;
  /// Sample among the k most likely tokens only; 0: all of them.
  int64_t top_k = 0;
};

/// The `length` tokens that follow `prompt` (ids, not empty). `model` takes [1, T, 1] ids and
/// returns logits [1, T, V]; it runs in eval mode, without gradients, and is handed back in the
/// mode it was in. `generator` draws the samples (unused when greedy).
std::vector<int64_t> continue_tokens(SequenceModelImpl& model, const std::vector<int64_t>& prompt,
                                     int64_t length, const SamplingOptions& options,
                                     at::Generator generator);

}  // namespace lstmlab

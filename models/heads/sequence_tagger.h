#pragma once
// SequenceTagger: a recurrent layer and a Linear head applied at every step, the model of a
// character-level language model (nn.LSTM(V, H, batch_first=True) + nn.Linear(H, V) on the whole
// output): one row of logits per step, not only for the last one.

#include "models/heads/sequence_model.h"

#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace lstmlab {

class SequenceTaggerImpl : public RecurrentWithHeadImpl {
 public:
  /// `rnn` must be batch_first. It is registered first and the head second, the order in which a
  /// Python module that builds them in that order draws its initial weights.
  SequenceTaggerImpl(RecurrentLayerPtr rnn, int64_t output_size);

  /// input: [B, T, I] -> prediction [B, T, output_size] (logits, one row per step), and the
  /// layer's final state, to hand the batch that continues this one.
  SequenceOutput run(const torch::Tensor& input,
                     const std::optional<RecurrentState>& state) override;
};
TORCH_MODULE(SequenceTagger);

}  // namespace lstmlab

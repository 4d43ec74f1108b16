#pragma once
// CharLanguageModel: a character-level language model, d2l's RNNLM: token ids encoded (one-hot
// over the vocabulary, or a learned embedding), a recurrent layer, and a Linear to the vocabulary
// at every step. It keeps the vocabulary's code points as a buffer, so a checkpoint or weights
// file of it says which characters its rows are.

#include "models/heads/sequence_model.h"

#include <torch/nn/modules/embedding.h>

#include <vector>

namespace lstmlab {

class CharLanguageModelImpl : public RecurrentWithHeadImpl {
 public:
  /// `rnn` must be batch_first and read `embedding_dim` features, or `code_points.size()` when
  /// `embedding_dim` is 0 (one-hot). `code_points`: the vocabulary in index order (-1: <unk>).
  CharLanguageModelImpl(RecurrentLayerPtr rnn, std::vector<int32_t> code_points,
                        int64_t embedding_dim = 0);

  /// input: [B, T, 1] token ids (any dtype) -> logits [B, T, V], and the final state.
  SequenceOutput run(const torch::Tensor& input,
                     const std::optional<RecurrentState>& state) override;

  int64_t vocab_size() const { return vocab_size_; }
  /// The code points the buffer holds now (after a load, the saved vocabulary's).
  std::vector<int32_t> code_points() const;

  torch::nn::Embedding embedding{nullptr};  ///< null for one-hot input

 private:
  int64_t vocab_size_;
  torch::Tensor code_points_;  ///< [V], registered as "code_points"
};
TORCH_MODULE(CharLanguageModel);

}  // namespace lstmlab

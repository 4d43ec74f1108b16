#include "models/heads/char_language_model.h"

#include <c10/util/Exception.h>
#include <torch/nn/functional/embedding.h>
#include <torch/torch.h>

namespace lstmlab {

CharLanguageModelImpl::CharLanguageModelImpl(RecurrentLayerPtr rnn_layer,
                                             std::vector<int32_t> code_points, int64_t embedding_dim)
    : RecurrentWithHeadImpl("CharLanguageModel", std::move(rnn_layer),
                            static_cast<int64_t>(code_points.size())),
      vocab_size_(static_cast<int64_t>(code_points.size())) {
  const int64_t features = embedding_dim > 0 ? embedding_dim : vocab_size_;
  TORCH_CHECK(rnn->options().input_size() == features, "CharLanguageModel: the recurrent layer reads ",
              rnn->options().input_size(), " features, the encoding gives ", features,
              embedding_dim > 0 ? " (--embedding)" : " (one-hot over the vocabulary)");
  if (embedding_dim > 0) {
    embedding = register_module("embedding", torch::nn::Embedding(vocab_size_, embedding_dim));
  }
  // Stored as float64: Module::to(dtype) converts buffers too, and every code point (< 2^21)
  // stays exact in float32 as well.
  std::vector<double> values(code_points.begin(), code_points.end());
  code_points_ = register_buffer("code_points", torch::tensor(values, torch::kDouble));
}

std::vector<int32_t> CharLanguageModelImpl::code_points() const {
  const auto c = code_points_.to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<int32_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

SequenceOutput CharLanguageModelImpl::run(const torch::Tensor& input,
                                          const std::optional<RecurrentState>& state) {
  TORCH_CHECK(input.dim() == 3 && input.size(2) == 1,
              "CharLanguageModel: expected token ids of size [B, T, 1], got ", input.sizes());
  const auto ids = input.squeeze(2).to(torch::kLong);  // [B, T]
  // One-hot input goes in as the ids: a layer that gathers W_x's rows never builds it.
  auto out = embedding ? rnn->forward(embedding->forward(ids), state)  // [B, T, H]
                       : rnn->forward_tokens(ids, state);
  return {head->forward(out.output), out.state};  // [B, T, V]
}

}  // namespace lstmlab

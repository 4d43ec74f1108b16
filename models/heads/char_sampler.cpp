#include "models/heads/char_sampler.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <limits>

namespace lstmlab {

std::vector<int64_t> continue_tokens(SequenceModelImpl& model, const std::vector<int64_t>& prompt,
                                     int64_t length, const SamplingOptions& options,
                                     at::Generator generator) {
  TORCH_CHECK(!prompt.empty(), "continue_tokens: the prompt is empty");
  TORCH_CHECK(length >= 0, "continue_tokens: length must not be negative, got ", length);
  TORCH_CHECK(options.temperature >= 0, "continue_tokens: temperature must not be negative, got ",
              options.temperature);
  const auto some = model.parameters().front();
  const auto as_input = [&](const std::vector<int64_t>& ids) {
    return torch::tensor(ids, torch::kLong).to(some.device(), some.scalar_type()).view({1, -1, 1});
  };
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  auto out = model.run(as_input(prompt), std::nullopt);
  std::vector<int64_t> tokens;
  tokens.reserve(static_cast<size_t>(length));
  for (int64_t i = 0; i < length; ++i) {
    auto logits = out.prediction.select(1, -1).squeeze(0).to(torch::kCPU, torch::kDouble);  // [V]
    int64_t next;
    if (options.temperature == 0) {
      next = logits.argmax().item<int64_t>();
    } else {
      logits = logits / options.temperature;
      if (options.top_k > 0 && options.top_k < logits.numel()) {
        const auto kth = std::get<0>(logits.topk(options.top_k)).min();
        logits = logits.masked_fill(logits < kth, -std::numeric_limits<double>::infinity());
      }
      next = torch::softmax(logits, 0).multinomial(1, false, generator).item<int64_t>();
    }
    tokens.push_back(next);
    out = model.run(as_input({next}), out.state);
  }
  if (was_training) model.train();
  return tokens;
}

}  // namespace lstmlab

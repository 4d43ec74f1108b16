#include "data/char_corpus.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

namespace lstmlab {
namespace {

// Starts of the sequential layout over tokens [begin, end): `streams` lanes, each of
// floor((end - begin - 1) / streams) tokens (one kept back for the last target), cut into windows.
torch::Tensor lane_starts(int64_t begin, int64_t end, int64_t streams, int64_t seq_len,
                          const char* part) {
  const int64_t lane = (end - begin - 1) / streams;
  const int64_t windows = lane / seq_len;
  if (windows == 0) {
    throw std::invalid_argument(fmt::format(
        "--seq-len {} with --batch-size {}: the {} part holds {} characters, fewer than "
        "batch x seq_len + 1 = {} (one window per stream); lower them or give more text",
        seq_len, streams, part, end - begin, streams * seq_len + 1));
  }
  const auto j = torch::arange(streams * windows, torch::kLong);
  return begin + j.remainder(streams) * lane + j.div(streams, "floor") * seq_len;
}

}  // namespace

std::string to_string(WindowLayout layout) {
  return layout == WindowLayout::Random ? "random" : "sequential";
}

WindowLayout parse_window_layout(const std::string& text) {
  if (text == "random") return WindowLayout::Random;
  if (text == "sequential") return WindowLayout::Sequential;
  throw std::invalid_argument("--windows '" + text + "' is not a layout (allowed: random, sequential)");
}

CharCorpus::CharCorpus(torch::Tensor ids, int64_t vocab_size, CharWindowsOptions o)
    : ids_(ids.to(torch::kLong).contiguous()), vocab_size_(vocab_size), options_(o) {
  const int64_t n = ids_.numel();
  const int64_t T = o.seq_len;
  if (T <= 0) throw std::invalid_argument(fmt::format("--seq-len must be positive, got {}", T));
  if (T + 1 > n) {
    throw std::invalid_argument(fmt::format(
        "--seq-len {} is longer than the corpus allows: it holds {} characters and one window "
        "needs seq_len + 1 = {}",
        T, n, T + 1));
  }
  if (o.layout == WindowLayout::Random) {
    if (o.train_windows <= 0 || o.val_windows < 0) {
      throw std::invalid_argument(fmt::format(
          "--train-windows must be positive and --val-windows not negative, got {} and {}",
          o.train_windows, o.val_windows));
    }
    const int64_t windows = n - T;  // d2l: range(len(corpus) - num_steps)
    const int64_t train = std::min(o.train_windows, windows);
    const int64_t val = std::min(o.val_windows, windows - train);
    starts_[Split::Train] = torch::arange(train, torch::kLong);
    starts_[Split::Validation] = torch::arange(train, train + val, torch::kLong);
  } else {
    if (o.streams <= 0) {
      throw std::invalid_argument(
          "--windows sequential needs --batch-size > 0: the batch is the number of parallel streams");
    }
    if (!(o.val_fraction >= 0 && o.val_fraction < 1)) {
      throw std::invalid_argument(fmt::format("--val-fraction must be in [0, 1), got {}", o.val_fraction));
    }
    const int64_t held = static_cast<int64_t>(static_cast<double>(n) * o.val_fraction);
    starts_[Split::Train] = lane_starts(0, n - held, o.streams, T, "training");
    starts_[Split::Validation] = held > 0 ? lane_starts(n - held, n, o.streams, T, "validation")
                                          : torch::empty({0}, torch::kLong);
  }
  starts_[Split::Test] = torch::empty({0}, torch::kLong);
}

int64_t CharCorpus::size(Split split) const { return starts_.at(split).numel(); }

torch::Tensor CharCorpus::starts(Split split) const { return starts_.at(split); }

Batch CharCorpus::examples(Split split, const torch::Tensor& indices) const {
  check_indices(split, indices);
  const auto first = starts_.at(split).index_select(0, indices);
  const auto where = first.unsqueeze(1) + torch::arange(options_.seq_len + 1, torch::kLong);
  const auto tokens = ids_.take(where);  // [n, T+1]
  return {tokens.narrow(1, 0, options_.seq_len).to(torch::kDouble).unsqueeze(-1),
          tokens.narrow(1, 1, options_.seq_len).contiguous()};
}

std::string CharCorpus::describe() const {
  return fmt::format(
      "text: {} characters, vocabulary {}, {} windows of {}: {} train, {} validation; input "
      "[n, {}, 1] token ids, target [n, {}] next tokens",
      ids_.numel(), vocab_size_, to_string(options_.layout), options_.seq_len, size(Split::Train),
      size(Split::Validation), options_.seq_len, options_.seq_len);
}

}  // namespace lstmlab

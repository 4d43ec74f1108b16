#pragma once
// A character corpus as language-model examples: token ids cut into windows of seq_len inputs
// and the seq_len tokens that follow each (the input shifted by one).
//
// Shapes: input [n, T, 1] (the token id, as float64: the model encodes it, one-hot or embedded),
// target [n, T] int64 (the next token at every step).
//
// Two layouts:
// - random (d2l v1.0's TimeMachine): window i is tokens [i, i+T] for every i in [0, N-T); the
//   first train_windows train, the next val_windows validate. Overlapping, shuffled by the loader.
// - sequential: the last val_fraction of the corpus is held out; each part is cut into `streams`
//   lanes of equal length (B, the batch size), each lane into consecutive windows of T, and
//   example j is window j / B of lane j % B. Read in order in batches of B, row b of batch k+1
//   continues row b of batch k, so a carried state is the right one (truncated BPTT).

#include "data/dataset.h"

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lstmlab {

enum class WindowLayout { Random, Sequential };

/// "random", "sequential"; parse throws std::invalid_argument naming --windows.
std::string to_string(WindowLayout layout);
WindowLayout parse_window_layout(const std::string& text);

struct CharWindowsOptions {
  WindowLayout layout = WindowLayout::Random;
  /// T (--seq-len). Default: 32 (d2l).
  int64_t seq_len = 32;
  /// random: windows for training and the validation windows after them. Defaults: d2l's.
  int64_t train_windows = 10000;
  int64_t val_windows = 5000;
  /// sequential: the lanes (the batch size) and the held-out tail.
  int64_t streams = 32;
  double val_fraction = 0.1;
};

class CharCorpus : public Dataset {
 public:
  /// `ids` int64 [N] in [0, vocab_size). Throws std::invalid_argument, one line naming the flag,
  /// when the corpus is too short for the windows asked for.
  CharCorpus(torch::Tensor ids, int64_t vocab_size, CharWindowsOptions options);

  std::string name() const override { return "text"; }
  int64_t size(Split split) const override;
  Batch examples(Split split, const torch::Tensor& indices) const override;
  int64_t input_size() const override { return 1; }
  int64_t target_size() const override { return options_.seq_len; }
  std::string describe() const override;

  int64_t vocab_size() const { return vocab_size_; }
  const CharWindowsOptions& options() const { return options_; }
  /// Where each example's first input token lies in the corpus: int64 [n].
  torch::Tensor starts(Split split) const;
  const torch::Tensor& ids() const { return ids_; }

 private:
  torch::Tensor ids_;
  int64_t vocab_size_;
  CharWindowsOptions options_;
  std::map<Split, torch::Tensor> starts_;
};

}  // namespace lstmlab

#pragma once
// `lstm-lab generate`: text from a trained text run, which needs nothing but its directory
// (config.json, vocab.tsv, checkpoint.pt).

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

struct GenerateRequest {
  std::string run_dir;
  std::string prompt;       ///< UTF-8, not empty
  int64_t length = 200;     ///< characters after the prompt
  double temperature = 0;   ///< 0: greedy
  int64_t top_k = 0;        ///< 0: every token
  uint64_t seed = 0;        ///< of the sampling, which touches no other generator
  bool map_unknown = false; ///< prompt characters outside the vocabulary read as <unk> (else an error)
};

struct GenerateResult {
  std::string text;  ///< the prompt and its continuation
  std::vector<std::string> warnings;
};

/// Throws std::invalid_argument (bad flags, a prompt outside the vocabulary) or std::runtime_error
/// (a directory that is not a finished or stopped text run), one line naming what is wrong.
GenerateResult generate_text(const GenerateRequest& request);

}  // namespace lstmlab

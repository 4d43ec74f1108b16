#pragma once
// The text task's settings (its section of config.json, and its flags): where the corpus comes
// from, how it is cleaned, its vocabulary, its windows and its encoding, and the samples printed
// while it trains. `lstm-lab corpus` reads the same source and cleaning flags.

#include "app/train/run_config.h"
#include "data/char_corpus.h"
#include "data/char_vocabulary.h"
#include "data/text_cleaning.h"

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace lstmlab {

struct TextOptions {
  std::string text_file;  ///< --text FILE
  std::string csv_file;   ///< --csv FILE (with --column): not yet readable
  std::string column;
  std::string html = "auto";  ///< auto (on for a CSV column, off for a text file), on, off
  bool urls = true;           ///< remove URLs (--keep-urls turns it off)
  bool emoji = true;
  bool fold_whitespace = true;
  bool lower = false;
  std::string preset;         ///< "" or "d2l"
  std::string on_invalid_utf8 = "error";  ///< error, replace
  int64_t min_count = 1;
  std::string windows = "random";
  int64_t seq_len = 32;
  int64_t train_windows = 10000;
  int64_t val_windows = 5000;
  double val_fraction = 0.1;
  int64_t embedding = 0;      ///< 0: one-hot
  int64_t sample_every = 0;   ///< epochs; 0: no samples while training
  int64_t sample_length = 100;
  std::string sample_prompt;  ///< empty: the corpus's first characters
};

nlohmann::json to_json(const TextOptions& options);
/// Missing keys take their defaults; unknown keys and bad values throw std::invalid_argument
/// naming `where` and the flag. A --csv source is refused here (not yet readable).
TextOptions text_options_from_json(const nlohmann::json& section, const std::string& where);

/// The source and cleaning flags (also `lstm-lab corpus`'s), in the "text" group.
void add_text_source_flags(cxxopts::Options& options);
/// --csv, for the corpus command (train and compare share the csv task's --csv).
void add_text_csv_flag(cxxopts::Options& options);
/// --preset d2l, for the corpus command (train and compare take the shared --preset).
void add_text_preset_flag(cxxopts::Options& options);
/// The rest of the task's flags: vocabulary, windows, encoding, samples.
void add_text_model_flags(cxxopts::Options& options);
/// Reads the flags add_text_source_flags added (and, when `model_flags`, the others).
TextOptions text_options_from_flags(const cxxopts::ParseResult& flags, bool model_flags);

/// The training settings this task changes from the global defaults, for flags not given: loss
/// cross-entropy, --clip 1, shuffled random windows, batch 32; the d2l preset's hidden 32, batch
/// 1024, SGD lr 4, 50 epochs. Throws std::invalid_argument for --loss other than cross-entropy
/// and for --shuffle with sequential windows.
void apply_text_training_defaults(RunConfig& config, const cxxopts::ParseResult& flags);

CleaningOptions cleaning_options(const TextOptions& options, bool markup_by_default);

struct PreparedCorpus {
  std::string source;  ///< as errors name it
  std::u32string text;
  CharVocabulary vocabulary;
};

/// The source read, cleaned, and its vocabulary built.
PreparedCorpus prepare_corpus(const TextOptions& options);

}  // namespace lstmlab

#include "app/tasks/text_options.h"

#include "app/io/json_file.h"
#include "data/corpus_source.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <memory>
#include <set>
#include <stdexcept>

namespace lstmlab {
namespace {

using nlohmann::json;

void check(const TextOptions& o, const std::string& where) {
  const auto bad = [&](const std::string& why) { return std::invalid_argument(where + ": " + why); };
  if (!o.csv_file.empty() || !o.column.empty()) {
    if (o.csv_file.empty()) throw bad("--column needs --csv FILE");
    if (o.column.empty()) throw bad("--csv needs --column NAME (the column that holds the text)");
    if (!o.text_file.empty()) throw bad("give --text or --csv, not both");
  } else if (o.text_file.empty()) {
    throw bad("the text task needs a corpus: --text FILE, or --csv FILE --column NAME");
  }
  if (o.html != "auto" && o.html != "on" && o.html != "off") {
    throw bad("--html '" + o.html + "' is not a setting (allowed: auto, on, off)");
  }
  if (!o.preset.empty() && o.preset != "d2l") {
    throw bad("--preset '" + o.preset + "' is not a preset (allowed: d2l)");
  }
  if (o.on_invalid_utf8 != "error" && o.on_invalid_utf8 != "replace") {
    throw bad("--on-invalid-utf8 '" + o.on_invalid_utf8 + "' is not a policy (allowed: error, replace)");
  }
  if (o.min_count < 1) throw bad(fmt::format("--min-count must be 1 or more, got {}", o.min_count));
  parse_window_layout(o.windows);
  if (o.seq_len <= 0) throw bad(fmt::format("--seq-len must be positive, got {}", o.seq_len));
  if (o.train_windows <= 0) throw bad(fmt::format("--train-windows must be positive, got {}", o.train_windows));
  if (o.val_windows < 0) throw bad(fmt::format("--val-windows must not be negative, got {}", o.val_windows));
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) {
    throw bad(fmt::format("--val-fraction must be in [0, 1), got {}", o.val_fraction));
  }
  if (o.embedding < 0) throw bad(fmt::format("--embedding must be 0 (one-hot) or positive, got {}", o.embedding));
  if (o.sample_every < 0) throw bad(fmt::format("--sample-every must not be negative, got {}", o.sample_every));
  if (o.sample_length <= 0) throw bad(fmt::format("--sample-length must be positive, got {}", o.sample_length));
}

}  // namespace

json to_json(const TextOptions& o) {
  return {{"text_file", o.text_file},       {"csv_file", o.csv_file},
          {"column", o.column},             {"html", o.html},
          {"urls", o.urls},                 {"emoji", o.emoji},
          {"fold_whitespace", o.fold_whitespace}, {"lower", o.lower},
          {"preset", o.preset},             {"on_invalid_utf8", o.on_invalid_utf8},
          {"min_count", o.min_count},       {"windows", o.windows},
          {"seq_len", o.seq_len},           {"train_windows", o.train_windows},
          {"val_windows", o.val_windows},   {"val_fraction", o.val_fraction},
          {"embedding", o.embedding},       {"sample_every", o.sample_every},
          {"sample_length", o.sample_length}, {"sample_prompt", o.sample_prompt}};
}

TextOptions text_options_from_json(const json& j, const std::string& where) {
  if (!j.is_null() && !j.is_object()) {
    throw std::invalid_argument(where + ": the text section must be an object, found " +
                                std::string(j.type_name()));
  }
  const json section = j.is_null() ? json::object() : j;
  const json known = to_json(TextOptions{});
  for (const auto& item : section.items()) {
    if (!known.contains(item.key())) {
      throw std::invalid_argument(where + ": the text section has no setting '" + item.key() + "'");
    }
  }
  TextOptions o;
  try {
    const auto read = [&](const char* key, auto& field) { read_setting(section, key, field); };
    read("text_file", o.text_file);
    read("csv_file", o.csv_file);
    read("column", o.column);
    read("html", o.html);
    read("urls", o.urls);
    read("emoji", o.emoji);
    read("fold_whitespace", o.fold_whitespace);
    read("lower", o.lower);
    read("preset", o.preset);
    read("on_invalid_utf8", o.on_invalid_utf8);
    read("min_count", o.min_count);
    read("windows", o.windows);
    read("seq_len", o.seq_len);
    read("train_windows", o.train_windows);
    read("val_windows", o.val_windows);
    read("val_fraction", o.val_fraction);
    read("embedding", o.embedding);
    read("sample_every", o.sample_every);
    read("sample_length", o.sample_length);
    read("sample_prompt", o.sample_prompt);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": text." + e.what());
  }
  check(o, where);
  return o;
}

void add_text_csv_flag(cxxopts::Options& options) {
  options.add_options("text")
      ("csv", "text: a CSV whose --column holds the corpus", cxxopts::value<std::string>());
}

void add_text_source_flags(cxxopts::Options& options) {
  options.add_options("text")
      ("text", "text: the corpus, a UTF-8 text file", cxxopts::value<std::string>())
      ("column", "text: the CSV column", cxxopts::value<std::string>())
      ("html", "text: HTML to text: auto (on for a CSV column), on, off", cxxopts::value<std::string>()->default_value("auto"))
      ("keep-urls", "text: keep URLs (removed by default)")
      ("keep-emoji", "text: keep emoji and pictographs (removed by default)")
      ("keep-whitespace", "text: keep whitespace runs (folded by default)")
      ("lower", "text: lower-case the corpus")
      ("on-invalid-utf8", "text: error or replace (U+FFFD)", cxxopts::value<std::string>()->default_value("error"))
      ("min-count", "text: characters seen fewer times become <unk>", cxxopts::value<int64_t>()->default_value("1"));
}

void add_text_preset_flag(cxxopts::Options& options) {
  options.add_options("text")
      ("preset", "text: d2l (d2l's Time Machine: letters only, lower case, its vocabulary)",
       cxxopts::value<std::string>()->default_value(""));
}

void add_text_model_flags(cxxopts::Options& options) {
  const TextOptions d;
  options.add_options("text")
      ("windows", "text: random (d2l's overlapping windows, shuffled) or sequential (streams, state carried)",
       cxxopts::value<std::string>()->default_value(d.windows))
      ("train-windows", "text: random windows for training", cxxopts::value<int64_t>()->default_value(std::to_string(d.train_windows)))
      ("val-windows", "text: random windows for validation, after the training ones",
       cxxopts::value<int64_t>()->default_value(std::to_string(d.val_windows)))
      ("embedding", "text: learned embedding of this size; 0 = one-hot", cxxopts::value<int64_t>()->default_value("0"))
      ("sample-every", "text: print a greedy sample every N epochs (kept in samples.txt); 0 = never",
       cxxopts::value<int64_t>()->default_value("0"))
      ("sample-length", "text: characters per sample", cxxopts::value<int64_t>()->default_value("100"))
      ("sample-prompt", "text: the samples' prompt (default: the corpus's first 15 characters)",
       cxxopts::value<std::string>()->default_value(""));
}

TextOptions text_options_from_flags(const cxxopts::ParseResult& f, bool model_flags) {
  TextOptions o;
  if (f.count("text")) o.text_file = f["text"].as<std::string>();
  if (f.count("csv")) o.csv_file = f["csv"].as<std::string>();
  if (f.count("column")) o.column = f["column"].as<std::string>();
  o.html = f["html"].as<std::string>();
  o.urls = f.count("keep-urls") == 0;
  o.emoji = f.count("keep-emoji") == 0;
  o.fold_whitespace = f.count("keep-whitespace") == 0;
  o.lower = f.count("lower") > 0;
  // train and compare share one --preset (app/cli/presets.cpp); only d2l's is the text task's.
  o.preset = f.count("preset") ? f["preset"].as<std::string>() : "";
  if (model_flags && o.preset != "d2l") o.preset.clear();
  o.on_invalid_utf8 = f["on-invalid-utf8"].as<std::string>();
  o.min_count = f["min-count"].as<int64_t>();
  if (!model_flags) return o;
  o.windows = f["windows"].as<std::string>();
  if (f.count("seq-len")) o.seq_len = f["seq-len"].as<int64_t>();  // the flag's shown default is sine's
  o.train_windows = f["train-windows"].as<int64_t>();
  o.val_windows = f["val-windows"].as<int64_t>();
  // --val-fraction is shared with the csv task, whose default (0) is not this task's.
  if (f.count("val-fraction")) o.val_fraction = f["val-fraction"].as<double>();
  o.embedding = f["embedding"].as<int64_t>();
  o.sample_every = f["sample-every"].as<int64_t>();
  o.sample_length = f["sample-length"].as<int64_t>();
  o.sample_prompt = f["sample-prompt"].as<std::string>();
  return o;
}

void apply_text_training_defaults(RunConfig& c, const cxxopts::ParseResult& f) {
  const auto o = text_options_from_json(c.task_options, "--task text");
  const bool d2l = o.preset == "d2l";
  const auto unless_given = [&](const char* flag, auto& field, auto value) {
    if (!f.count(flag)) field = value;
  };
  unless_given("clip", c.train.clip, 1.0);
  unless_given("batch-size", c.train.batch_size, int64_t{d2l ? 1024 : 32});
  if (parse_window_layout(o.windows) == WindowLayout::Random) {
    c.train.shuffle = true;  // d2l's training loader shuffles its windows each epoch
  } else if (f.count("shuffle")) {
    throw std::invalid_argument("--shuffle with --windows sequential: each batch continues the one "
                                "before it, so their order is fixed");
  }
  if (!d2l) return;
  unless_given("hidden", c.model.hidden, int64_t{32});
  unless_given("optimizer", c.train.optimizer, std::string("sgd"));
  unless_given("lr", c.train.lr, 4.0);
  unless_given("epochs", c.train.epochs, int64_t{50});
}

CleaningOptions cleaning_options(const TextOptions& o, bool markup_by_default) {
  CleaningOptions c;
  c.html = o.html == "on" || (o.html == "auto" && markup_by_default);
  c.urls = o.urls;
  c.emoji = o.emoji;
  c.fold_whitespace = o.fold_whitespace;
  c.lower = o.lower;
  c.d2l = o.preset == "d2l";
  c.on_invalid = o.on_invalid_utf8 == "replace" ? InvalidUtf8Policy::Replace : InvalidUtf8Policy::Error;
  return c;
}

PreparedCorpus prepare_corpus(const TextOptions& o) {
  std::unique_ptr<CorpusSource> source;
  if (o.csv_file.empty()) {
    source = std::make_unique<TextFileSource>(o.text_file);
  } else {
    source = std::make_unique<FieldsSource>(csv_column_source(o.csv_file, o.column));
  }
  PreparedCorpus p;
  p.source = source->describe();
  p.text = read_corpus(*source, cleaning_options(o, source->markup_by_default()));
  p.vocabulary = CharVocabulary::build(
      p.text, o.min_count, o.preset == "d2l" ? VocabularyOrder::D2l : VocabularyOrder::Frequency);
  return p;
}

}  // namespace lstmlab

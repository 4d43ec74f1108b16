#include "app/tasks/text_task.h"

#include "app/io/atomic_file.h"
#include "data/char_corpus.h"
#include "data/utf8.h"
#include "models/heads/char_language_model.h"
#include "models/heads/char_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <ostream>
#include <sstream>

namespace lstmlab {
namespace {

// Cross-entropy over the tokens, the task's only loss.
std::vector<LossSpec> text_losses() { return {{"cross-entropy", "cross-entropy"}}; }

using nlohmann::json;

// exp of the mean cross-entropy per token, summed in float64.
class Perplexity : public Metric {
 public:
  void update(const torch::Tensor& prediction, const torch::Tensor& target) override {
    const auto logits = prediction.reshape({-1, prediction.size(-1)}).to(torch::kDouble);
    sum_ += torch::nn::functional::cross_entropy(
                logits, target.reshape({-1}),
                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
    count_ += target.numel();
  }
  double compute() const override {
    if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
    return std::exp(sum_ / static_cast<double>(count_));
  }
  std::vector<double> sums() const override { return {sum_, static_cast<double>(count_)}; }
  void set_sums(const std::vector<double>& sums) override {
    sum_ = sums.at(0);
    count_ = static_cast<int64_t>(sums.at(1));
  }

 private:
  double sum_ = 0;
  int64_t count_ = 0;
};

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string one_line(std::string text) {
  std::string out;
  for (const char ch : text) out += ch == '\n' ? std::string("\\n") : std::string(1, ch);
  return out;
}

class TextTask : public Task {
 public:
  explicit TextTask(const RunConfig& config)
      : options_(text_options(config)),
        corpus_(prepare_corpus(options_)),
        data_(make_data(config)) {}

  const Dataset& data() const override { return data_; }

  SequenceModelPtr make_model(const ModelConfig& model) const override {
    return make_char_model(model, options_, corpus_.vocabulary.code_points());
  }

  BatchLoss loss(const torch::Tensor& prediction, const Batch& batch) const override {
    const auto target = batch.target.reshape({-1});
    auto mean = torch::nn::functional::cross_entropy(
        prediction.reshape({-1, prediction.size(-1)}), target);
    return {mean, target.numel()};
  }

  std::vector<LossSpec> losses() const override { return text_losses(); }
  std::vector<MetricSpec> metrics() const override { return {{"perplexity", "perplexity"}}; }
  std::vector<std::unique_ptr<Metric>> make_metrics() const override {
    std::vector<std::unique_ptr<Metric>> m;
    m.push_back(std::make_unique<Perplexity>());
    return m;
  }
  std::string count_unit() const override { return "tokens"; }
  bool carries_state() const override {
    return parse_window_layout(options_.windows) == WindowLayout::Sequential;
  }

  void write_run_files(const std::string& run_dir) const override {
    const auto path = run_dir + "/vocab.tsv";
    const auto tsv = corpus_.vocabulary.to_tsv();
    // A resumed run must read the corpus it started on.
    if (std::filesystem::exists(path) && read_whole_file(path) != tsv) {
      throw std::runtime_error(fmt::format(
          "{}: the vocabulary of {} as it reads now differs from the one this run started with; "
          "the corpus or its cleaning changed",
          path, corpus_.source));
    }
    write_file_atomically(path, tsv);
  }

  void after_epoch(SequenceModelImpl& model, int64_t epoch, const std::string& run_dir,
                   std::ostream* log) const override {
    if (options_.sample_every == 0 || epoch % options_.sample_every != 0) return;
    const auto prompt = sample_prompt();
    const auto ids = continue_tokens(model, corpus_.vocabulary.encode(prompt),
                                     options_.sample_length, SamplingOptions{},
                                     at::make_generator<at::CPUGeneratorImpl>(0));  // greedy
    const auto text = encode_utf8(prompt) + corpus_.vocabulary.decode(ids);
    const auto path = run_dir + "/samples.txt";
    const auto before = std::filesystem::exists(path) ? read_whole_file(path) : std::string();
    write_file_atomically(path, before + fmt::format("epoch {}: {}\n", epoch, one_line(text)));
    if (log) *log << fmt::format("  sample, epoch {}: {}\n", epoch, one_line(text));
  }

 private:
  CharCorpus make_data(const RunConfig& config) const {
    CharWindowsOptions w;
    w.layout = parse_window_layout(options_.windows);
    w.seq_len = options_.seq_len;
    w.train_windows = options_.train_windows;
    w.val_windows = options_.val_windows;
    w.streams = config.train.batch_size;
    w.val_fraction = options_.val_fraction;
    const auto ids = corpus_.vocabulary.encode(corpus_.text);
    return CharCorpus(torch::tensor(ids, torch::kLong), corpus_.vocabulary.size(), w);
  }

  std::u32string sample_prompt() const {
    if (!options_.sample_prompt.empty()) return decode_utf8(options_.sample_prompt);
    return corpus_.text.substr(0, 15);
  }

  TextOptions options_;
  PreparedCorpus corpus_;
  CharCorpus data_;
};

}  // namespace

TextOptions text_options(const RunConfig& config) {
  return text_options_from_json(config.task_options, "the text task's options");
}

SequenceModelPtr make_char_model(const ModelConfig& model, const TextOptions& options,
                                 const std::vector<int32_t>& code_points) {
  const auto features = options.embedding > 0 ? options.embedding
                                              : static_cast<int64_t>(code_points.size());
  return std::make_shared<CharLanguageModelImpl>(make_recurrent_layer(model, features), code_points,
                                                 options.embedding);
}

TaskEntry text_task_entry() {
  TaskEntry e;
  e.name = "text";
  e.summary = "seed 001: a character language model on a text corpus";
  e.add_flags = [](cxxopts::Options& options) {
    add_text_source_flags(options);
    add_text_model_flags(options);
  };
  e.options_from_flags = [](const cxxopts::ParseResult& f) {
    return to_json(text_options_from_flags(f, true));
  };
  e.check = [](const json& section, const std::string& where) {
    return to_json(text_options_from_json(section, where));
  };
  e.losses = text_losses();
  e.training_defaults = apply_text_training_defaults;
  e.make = [](const RunConfig& config) -> std::unique_ptr<Task> {
    return std::make_unique<TextTask>(config);
  };
  return e;
}

}  // namespace lstmlab

#include "app/tools/generate.h"

#include "app/platform/device.h"
#include "app/tasks/text_task.h"
#include "app/train/checkpoint.h"
#include "data/char_vocabulary.h"
#include "data/utf8.h"
#include "models/heads/char_language_model.h"
#include "models/heads/char_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <stdexcept>

namespace lstmlab {
namespace {

std::string describe_code_point(char32_t c) {
  std::string shown;
  if (c >= 0x20 && c != 0x7F) append_utf8(shown, c);
  return shown.empty() ? fmt::format("U+{:04X}", static_cast<uint32_t>(c))
                       : fmt::format("'{}' (U+{:04X})", shown, static_cast<uint32_t>(c));
}

}  // namespace

GenerateResult generate_text(const GenerateRequest& r) {
  if (r.prompt.empty()) throw std::invalid_argument("--prompt must not be empty");
  if (r.length < 0) throw std::invalid_argument(fmt::format("--length must not be negative, got {}", r.length));
  if (!(r.temperature >= 0)) {
    throw std::invalid_argument(fmt::format("--temperature must be 0 (greedy) or positive, got {}", r.temperature));
  }
  if (r.top_k < 0) throw std::invalid_argument(fmt::format("--top-k must be 0 (all) or positive, got {}", r.top_k));

  const auto config = read_run_config(r.run_dir);
  const auto vocab_path = r.run_dir + "/vocab.tsv";
  if (config.task != "text") {
    throw std::runtime_error(fmt::format(
        "{} is a run of the {} task, which has no vocabulary: generate needs a run of --task text",
        r.run_dir, config.task));
  }
  if (!std::filesystem::exists(vocab_path)) {
    throw std::runtime_error(fmt::format(
        "{} has no vocab.tsv: generate needs the vocabulary a text run saves there", r.run_dir));
  }
  const auto vocabulary = CharVocabulary::load(vocab_path);
  const auto model = make_char_model(config.model, text_options(config), vocabulary.code_points());
  // In the run's dtype first: a load keeps each tensor's dtype and would read the saved
  // vocabulary buffer's bytes as another type.
  model->to(torch::kCPU, parse_dtype(config.train.dtype));
  load_checkpoint(r.run_dir + "/checkpoint.pt", *model, nullptr);
  if (std::dynamic_pointer_cast<CharLanguageModelImpl>(model)->code_points() !=
      vocabulary.code_points()) {
    throw std::runtime_error(vocab_path + " does not match the vocabulary saved in " + r.run_dir +
                             "/checkpoint.pt");
  }

  std::u32string prompt;
  try {
    prompt = decode_utf8(r.prompt);
  } catch (const InvalidUtf8& e) {
    throw std::invalid_argument(std::string("--prompt: ") + e.what());
  }
  GenerateResult result;
  std::set<char32_t> unknown;
  for (const char32_t c : prompt) {
    if (!vocabulary.contains(c)) unknown.insert(c);
  }
  if (!unknown.empty()) {
    std::string list;
    for (const char32_t c : unknown) list += (list.empty() ? "" : ", ") + describe_code_point(c);
    const auto what = fmt::format("--prompt: {} not in the run's vocabulary of {} characters", list,
                                  vocabulary.size() - 1);
    if (!r.map_unknown) {
      throw std::invalid_argument(what + "; change the prompt or pass --unknown map to read them as <unk>");
    }
    result.warnings.push_back(what + "; read as <unk>");
  }
  const auto ids = continue_tokens(*model, vocabulary.encode(prompt), r.length,
                                   SamplingOptions{r.temperature, r.top_k},
                                   at::make_generator<at::CPUGeneratorImpl>(r.seed));
  result.text = r.prompt + vocabulary.decode(ids);
  return result;
}

}  // namespace lstmlab

#include "app/cli/cli.h"
#include "app/io/atomic_file.h"
#include "app/tasks/text_options.h"
#include "data/utf8.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace lstmlab {

int corpus_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab corpus",
                           "Clean a text source as the text task reads it: writes corpus.txt and "
                           "vocab.tsv (characters and their counts) to --out DIR.");
  add_text_source_flags(options);
  add_text_csv_flag(options);
  add_text_preset_flag(options);
  options.add_options()
      ("out", "directory for corpus.txt and vocab.tsv", cxxopts::value<std::string>())
      ("overwrite", "replace corpus.txt and vocab.tsv already in --out")
      ("quiet", "nothing on stdout; errors still on stderr");
  add_common_flags(options);
  cxxopts::ParseResult f;
  if (parse_common(options, argc, argv, f)) return 0;
  if (!f.count("out")) throw std::invalid_argument("--out DIR is required");
  const auto text = text_options_from_json(to_json(text_options_from_flags(f, false)), "the source");
  const auto dir = f["out"].as<std::string>();
  const auto corpus_path = dir + "/corpus.txt";
  const auto vocab_path = dir + "/vocab.tsv";
  for (const auto& path : {corpus_path, vocab_path}) {
    if (std::filesystem::exists(path) && !f.count("overwrite")) {
      throw std::invalid_argument("--out " + dir + ": " + path + " exists; pass --overwrite to replace it");
    }
  }
  const auto prepared = prepare_corpus(text);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::invalid_argument("--out " + dir + ": cannot create the directory: " + ec.message());
  write_file_atomically(corpus_path, encode_utf8(prepared.text));
  write_file_atomically(vocab_path, prepared.vocabulary.to_tsv());
  if (f.count("quiet")) return 0;
  std::cout << fmt::format("{}: {} characters, vocabulary {} (with <unk>); wrote {} and {}\n",
                           prepared.source, prepared.text.size(), prepared.vocabulary.size(),
                           corpus_path, vocab_path);
  return 0;
}

}  // namespace lstmlab

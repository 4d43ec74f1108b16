#include "app/cli/cli.h"
#include "app/tools/generate.h"

#include <iostream>

namespace lstmlab {

int generate_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab generate",
                           "Continue a prompt with a trained text run: lstm-lab generate RUN_DIR --prompt TEXT");
  options.add_options()
      ("run", "the run directory of a text run", cxxopts::value<std::string>())
      ("prompt", "the text to continue", cxxopts::value<std::string>())
      ("length", "characters to add", cxxopts::value<int64_t>()->default_value("200"))
      ("temperature", "0 = greedy (the most likely character); higher = more varied", cxxopts::value<double>()->default_value("0"))
      ("top-k", "sample among the k most likely characters; 0 = all", cxxopts::value<int64_t>()->default_value("0"))
      ("seed", "seed of the sampling", cxxopts::value<uint64_t>()->default_value("0"))
      ("unknown", "prompt characters outside the vocabulary: error, or map (to <unk>, with a warning)",
       cxxopts::value<std::string>()->default_value("error"));
  options.parse_positional({"run"});
  options.positional_help("RUN_DIR");
  add_common_flags(options);
  cxxopts::ParseResult f;
  if (parse_common(options, argc, argv, f)) return 0;
  if (!f.count("run")) throw std::invalid_argument("the run directory is required: lstm-lab generate RUN_DIR --prompt TEXT");
  if (!f.count("prompt")) throw std::invalid_argument("--prompt TEXT is required");
  const auto unknown = f["unknown"].as<std::string>();
  if (unknown != "error" && unknown != "map") {
    throw std::invalid_argument("--unknown '" + unknown + "' is not a policy (allowed: error, map)");
  }
  GenerateRequest request;
  request.run_dir = f["run"].as<std::string>();
  request.prompt = f["prompt"].as<std::string>();
  request.length = f["length"].as<int64_t>();
  request.temperature = f["temperature"].as<double>();
  request.top_k = f["top-k"].as<int64_t>();
  request.seed = f["seed"].as<uint64_t>();
  request.map_unknown = unknown == "map";
  const auto result = generate_text(request);
  for (const auto& w : result.warnings) std::cerr << "lstm-lab generate: warning: " << w << "\n";
  std::cout << result.text << std::endl;
  return 0;
}

}  // namespace lstmlab

// `lstm-lab export RUN_DIR --format keras|pytorch --out FILE.json`: a trained run's weights in the
// layout Python reads back (model.set_weights / load_state_dict), so the model goes home.

#include "app/cli/cli.h"
#include "app/io/weights_file.h"
#include "app/tasks/registry.h"
#include "app/train/checkpoint.h"
#include "app/train/run_config.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

namespace lstmlab {

int export_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab export",
                           "Write a trained run's weights as JSON in Keras or PyTorch layout.");
  options.positional_help("RUN_DIR");
  options.add_options()
      ("run", "a run directory written by train", cxxopts::value<std::string>())
      ("format", "keras ({\"lstm\": {kernel, recurrent_kernel, bias}, \"dense\": {kernel, bias}}) or "
                 "pytorch (a state_dict: lstm.weight_ih_l0, ..., fc.weight, fc.bias)",
       cxxopts::value<std::string>())
      ("out", "the JSON file to write (an existing file is refused unless --overwrite)",
       cxxopts::value<std::string>())
      ("overwrite", "replace --out if it exists");
  options.parse_positional({"run"});
  add_common_flags(options);
  cxxopts::ParseResult f;
  if (parse_common(options, argc, argv, f)) return 0;
  if (!f.count("run")) throw std::invalid_argument("the run directory is required: lstm-lab export RUN_DIR --format keras|pytorch --out FILE.json");
  if (!f.count("format")) throw std::invalid_argument("--format keras|pytorch is required");
  if (!f.count("out")) throw std::invalid_argument("--out FILE.json is required");
  const auto dir = f["run"].as<std::string>();
  const auto out = f["out"].as<std::string>();
  WeightNaming naming;
  try {
    naming = parse_naming(f["format"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--format: ") + e.what());
  }
  if (std::filesystem::exists(out) && !f.count("overwrite")) {
    throw std::invalid_argument("--out " + out + " exists; give --overwrite to replace it");
  }
  const auto config = read_run_config(dir);
  const auto task = make_task(config);
  auto model = task->make_model(config.model);
  load_checkpoint(dir + "/checkpoint.pt", *model, nullptr);
  save_model_weights_json(out, model->get_model_weights(), naming, config.model.cell);
  std::cout << fmt::format("{} weights of {} written to {}\n", to_string(naming), dir, out);
  return 0;
}

}  // namespace lstmlab

#include "app/cli/cli.h"
#include "app/platform/device.h"
#include "app/tools/parity.h"
#include "app/tools/trace.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace lstmlab {

int parity_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab parity",
                           "Check that LSTMScratch and BuiltinLSTM compute the same function: "
                           "forward, gradients and Adam training, float64 and float32.");
  options.add_options()
      ("cell", "lstm or gru", cxxopts::value<std::string>()->default_value("lstm"))
      ("device", "cpu or cuda", cxxopts::value<std::string>()->default_value("cpu"))
      ("dtype", "float64, float32 or both", cxxopts::value<std::string>()->default_value("both"))
      ("steps", "Adam steps in the training check", cxxopts::value<int64_t>()->default_value("5"))
      ("seed", "random seed", cxxopts::value<uint64_t>()->default_value("0"))
      ("json", "write the report as JSON to this file ('-' for stdout, no table)",
       cxxopts::value<std::string>());
  add_common_flags(options);
  cxxopts::ParseResult flags;
  if (parse_common(options, argc, argv, flags)) return 0;

  ParityOptions po;
  po.cell = parse_cell(flags["cell"].as<std::string>());
  po.device = resolve_device(flags["device"].as<std::string>());
  const auto dtype = flags["dtype"].as<std::string>();
  if (dtype != "both") po.dtypes = {parse_dtype(dtype)};
  po.train_steps = flags["steps"].as<int64_t>();
  if (po.train_steps < 1) throw std::invalid_argument("--steps must be at least 1");
  po.seed = flags["seed"].as<uint64_t>();

  JsonReport json(flags);
  const auto report = run_parity(po);
  if (!json.to_stdout()) print_parity_table(report, std::cout);
  if (json.wanted()) json.write(parity_json(report));
  return report.all_pass() ? 0 : 1;
}

namespace {

// "0,0.5,0.25,1" -> {0, 0.5, 0.25, 1}
std::vector<double> parse_sequence(const std::string& text) {
  std::vector<double> values;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      values.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw std::invalid_argument("--sequence '" + text + "': '" + item + "' is not a number");
    }
  }
  return values;
}

}  // namespace

int trace_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab trace",
                           "Print every gate of every step of a small LSTM (hidden <= 4). "
                           "Default: seed 004's hand weights on its two sequences.");
  options.add_options()
      ("weights", "JSON weights (PyTorch or Keras naming)", cxxopts::value<std::string>())
      ("sequence", "comma-separated inputs; repeat the flag for several sequences",
       cxxopts::value<std::vector<std::string>>());
  add_common_flags(options);
  cxxopts::ParseResult flags;
  if (parse_common(options, argc, argv, flags)) return 0;
  TraceOptions to;
  if (flags.count("weights")) to.weights_path = flags["weights"].as<std::string>();
  if (flags.count("sequence")) {
    for (const auto& s : flags["sequence"].as<std::vector<std::string>>()) {
      to.sequences.push_back(parse_sequence(s));
    }
  }
  run_trace(to, std::cout);
  return 0;
}

}  // namespace lstmlab

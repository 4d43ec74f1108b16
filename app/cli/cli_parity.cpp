#include "app/cli/cli.h"
#include "app/platform/device.h"
#include "app/tools/parity.h"
#include "app/tools/trace.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

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
  po.cell = parse_flag("cell", flags["cell"].as<std::string>(), parse_cell);
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

int trace_command(int argc, const char* const* argv) {
  cxxopts::Options options(
      "lstm-lab trace",
      "Print every gate of every step of an LSTM or GRU cell (a table per step above 4 units); "
      "with --target, the squared error, each weight's gradient and one Adam step. Default: seed "
      "004's hand weights (StatQuest) on its two sequences.");
  options.add_options()
      ("weights", "JSON weights (PyTorch or Keras naming); layer 0 is traced", cxxopts::value<std::string>())
      ("cell", "lstm or gru (default: the weights file's, else lstm)", cxxopts::value<std::string>())
      ("gru-reset", "GRU: after (PyTorch) or before (d2l) the recurrent product",
       cxxopts::value<std::string>()->default_value("after"))
      ("hidden", "without --weights: units of the seeded cell (default 1)", cxxopts::value<int64_t>())
      ("seed", "without --weights: seed of the seeded cell's weights (default 0)", cxxopts::value<uint64_t>())
      ("sequence", "one sequence: steps split by ';', features by ',' ('1,2;3,4' = 2 steps of 2); "
       "with one input feature commas split steps ('0,0.5,0.25,1' = 4 steps); repeat for more",
       cxxopts::value<std::string>())
      ("h0", "initial short-term memory (the GRU's hidden state), H comma-separated numbers (default zeros)", cxxopts::value<std::string>())
      ("c0", "initial long-term memory, H comma-separated numbers (default zeros; LSTM only)", cxxopts::value<std::string>())
      ("target", "print the loss mean((h_T - Y)^2) over the units, each weight's gradient and "
       "its value after one Adam step", cxxopts::value<std::string>(), "Y")
      ("lr", "learning rate of that Adam step (seed 004: optim.Adam's default)",
       cxxopts::value<std::string>()->default_value("0.001"));
  add_common_flags(options);
  cxxopts::ParseResult flags;
  if (parse_common(options, argc, argv, flags)) return 0;
  TraceOptions to;
  if (flags.count("weights")) to.weights_path = flags["weights"].as<std::string>();
  if (flags.count("cell")) to.cell = parse_flag("cell", flags["cell"].as<std::string>(), parse_cell);
  to.reset_after = parse_flag("gru-reset", flags["gru-reset"].as<std::string>(), parse_gru_reset);
  if (flags.count("hidden")) to.hidden = flags["hidden"].as<int64_t>();
  if (flags.count("seed")) to.seed = flags["seed"].as<uint64_t>();
  // A plain string flag keeps its commas; its repeats are read in order from the raw arguments
  // (a vector flag would split "0,0.5,0.25,1" into four sequences).
  for (const auto& kv : flags.arguments()) {
    if (kv.key() == "sequence") to.sequences.push_back(kv.value());
  }
  if (flags.count("h0")) to.h0 = parse_number_list("--h0", flags["h0"].as<std::string>());
  if (flags.count("c0")) to.c0 = parse_number_list("--c0", flags["c0"].as<std::string>());
  const auto scalar = [&](const std::string& flag) {
    const auto text = flags[flag].as<std::string>();
    const auto values = parse_number_list("--" + flag, text);
    if (values.size() != 1) {
      throw std::invalid_argument("--" + flag + " '" + text + "': expected one number");
    }
    return values[0];
  };
  if (flags.count("target")) to.target = scalar("target");
  to.lr = scalar("lr");
  run_trace(to, std::cout);
  return 0;
}

}  // namespace lstmlab

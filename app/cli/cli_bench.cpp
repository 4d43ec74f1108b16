#include "app/tools/bench.h"
#include "app/cli/cli.h"
#include "app/platform/device.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>

namespace lstmlab {

int bench_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab bench",
                           "Time the built-in layer, the scratch layer with autograd and the "
                           "fused scratch layer, forward and forward+backward, at named sizes.");
  options.add_options()
      ("size", "B,T,I,H; repeat for several; replaces the default grid unless --grid",
       cxxopts::value<std::vector<std::string>>())
      ("grid", "also run the default grid (seed002, d2l, mid, fastrnns) with --size")
      ("only", "run only these default sizes (comma-separated names)", cxxopts::value<std::string>())
      ("variants", "time only these (comma-separated): builtin, scratch-autograd, scratch-fused, "
       "products-only; or the products split: step-products, all-steps-products",
       cxxopts::value<std::vector<std::string>>())
      ("cell", "lstm or gru", cxxopts::value<std::string>()->default_value("lstm"))
      ("repeats", "timed repeats per measurement", cxxopts::value<int64_t>()->default_value("5"))
      ("layers", "stacked layers", cxxopts::value<int64_t>()->default_value("1"))
      ("device", "cpu or cuda", cxxopts::value<std::string>()->default_value("cpu"))
      ("dtype", "float32 or float64", cxxopts::value<std::string>()->default_value("float32"))
      ("against-python", "also time nn.LSTM / nn.GRU of this Python's torch (tools/torch_rnn_bench.py), "
       "in the same run and table; skipped with one line when it has no torch",
       cxxopts::value<std::string>())
      ("json", "also write the report as JSON to this file ('-': stdout only)",
       cxxopts::value<std::string>());
  add_common_flags(options);
  cxxopts::ParseResult f;
  if (parse_common(options, argc, argv, f)) return 0;

  BenchOptions bo;
  bo.cell = parse_flag("cell", f["cell"].as<std::string>(), parse_cell);
  bo.device = resolve_device(f["device"].as<std::string>());
  bo.dtype = parse_dtype(f["dtype"].as<std::string>());
  bo.repeats = f["repeats"].as<int64_t>();
  bo.layers = f["layers"].as<int64_t>();
  if (bo.repeats < 1) throw std::invalid_argument("--repeats must be at least 1");
  if (bo.layers < 1) throw std::invalid_argument("--layers must be at least 1");
  if (f.count("only")) {
    const auto names = "," + f["only"].as<std::string>() + ",";
    std::vector<BenchSize> chosen;
    for (const auto& s : default_bench_sizes()) {
      if (names.find("," + s.name + ",") != std::string::npos) chosen.push_back(s);
    }
    if (chosen.empty()) {
      throw std::invalid_argument("--only names none of seed002, d2l, mid, fastrnns");
    }
    bo.sizes = chosen;
  }
  if (f.count("variants")) {
    auto all = BenchOptions().variants;
    all.insert(all.end(), {"step-products", "all-steps-products"});
    bo.variants.clear();
    for (const auto& v : f["variants"].as<std::vector<std::string>>()) {
      if (std::find(all.begin(), all.end(), v) == all.end()) {
        throw std::invalid_argument("--variants: unknown '" + v + "' (choose from builtin, "
                                    "scratch-autograd, scratch-fused, products-only, "
                                    "step-products, all-steps-products)");
      }
      bo.variants.push_back(v);
    }
  }
  if (f.count("size")) {
    if (!f.count("grid") && !f.count("only")) bo.sizes.clear();
    // cxxopts splits a vector flag's value at commas and appends repeats: 4 values a size.
    const auto values = f["size"].as<std::vector<std::string>>();
    for (size_t k = 0; k < values.size(); k += 4) {
      std::string text = values[k];
      for (size_t m = k + 1; m < std::min(k + 4, values.size()); ++m) text += "," + values[m];
      bo.sizes.push_back(parse_bench_size(text));
    }
  }
  if (f.count("against-python")) bo.against_python = f["against-python"].as<std::string>();
  if (f.count("against-python") && bo.against_python.empty()) {
    throw std::invalid_argument("--against-python needs a Python interpreter, e.g. python3");
  }
  JsonReport json(f);
  const auto report = run_bench(bo);
  if (!report.python_skipped.empty()) {
    std::cerr << "lstm-lab bench: --against-python skipped: " << report.python_skipped << '\n';
  }
  if (!json.to_stdout()) print_bench(report, std::cout);
  if (json.wanted()) json.write(bench_json(report));
  return 0;
}

}  // namespace lstmlab

#include "app/tools/python_bench.h"

#include "app/platform/subprocess.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdexcept>

namespace lstmlab {

std::string python_bench_script() { return std::string(LSTMLAB_TOOLS_DIR) + "/torch_rnn_bench.py"; }

PythonBench run_python_bench(const std::string& python, const BenchOptions& o) {
  const auto script = python_bench_script();
  if (!std::filesystem::exists(script)) {
    throw std::runtime_error("--against-python: the script " + script +
                             " is missing (it ships in the source tree this lstm-lab was built from)");
  }
  if (!o.device.is_cpu()) throw std::invalid_argument("--against-python times the CPU: drop --device");
  std::vector<std::string> argv = {python, script, "--cell", to_string(o.cell),
                                   "--layers", std::to_string(o.layers),
                                   "--repeats", std::to_string(o.repeats),
                                   "--warmup", std::to_string(o.warmup),
                                   "--threads", std::to_string(at::get_num_threads()),
                                   "--dtype", o.dtype == torch::kDouble ? "float64" : "float32"};
  for (const auto& s : o.sizes) {
    argv.push_back("--size");
    argv.push_back(fmt::format("{}:{},{},{},{}", s.name, s.B, s.T, s.I, s.H));
  }
  ProcessOutput out;
  try {
    out = run_program(argv);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(std::string("--against-python: ") + e.what());
  }
  if (out.exit_status != 0) {
    throw std::runtime_error(fmt::format("--against-python {}: {} exited with status {} (its message is above)",
                                         python, script, out.exit_status));
  }
  PythonBench result;
  result.python = python;
  try {
    const auto report = nlohmann::json::parse(out.stdout_text);
    if (report.contains("skipped")) {
      result.skipped = report.at("skipped").get<std::string>();
      return result;
    }
    result.python_version = report.at("python").get<std::string>();
    result.torch_version = report.at("torch").get<std::string>();
    result.blas = report.at("blas").get<std::string>();
    result.threads = report.at("threads").get<int>();
    auto timing = [](const nlohmann::json& t) {
      return Timing{t.at("median_s").get<double>(), t.at("min_s").get<double>(),
                    t.at("max_s").get<double>()};
    };
    for (const auto& row : report.at("rows")) {
      BenchRow r;
      r.size = {row.at("size").get<std::string>(), row.at("B").get<int64_t>(),
                row.at("T").get<int64_t>(), row.at("I").get<int64_t>(), row.at("H").get<int64_t>()};
      r.variant = "pytorch";
      r.forward = timing(row.at("forward"));
      r.forward_backward = timing(row.at("forward_backward"));
      result.rows.push_back(r);
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("--against-python {}: {} wrote no report lstm-lab can read ({})",
                                         python, script, e.what()));
  }
  return result;
}

}  // namespace lstmlab

#include "app/platform/platform_report.h"

#include "app/platform/blas_core.h"
#include "app/platform/blas_info.h"
#include "app/platform/blas_startup.h"
#include "app/platform/cpu_features.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

namespace lstmlab {
namespace {

// Why the core is what it is: start-up's reason, or, where start-up did not run (the library
// used from the tests), what OpenBLAS picked.
std::string core_reason() {
  const auto& startup = blas_core_startup();
  return startup.ran ? startup.reason : "OpenBLAS's own choice (no start-up check in this program)";
}

}  // namespace

std::vector<std::string> platform_lines() {
  const auto& cpu = cpu_features();
  const auto blas = loaded_blas();
  std::vector<std::string> lines = {
      "CPU: " + describe_cpu_model(cpu) + ", " + describe_cpu_extensions(cpu),
      "BLAS: " + describe_blas(blas)};
  if (blas.is_openblas()) lines.push_back("BLAS core: " + blas.core + ": " + core_reason());
  return lines;
}

nlohmann::json platform_json() {
  const auto& cpu = cpu_features();
  const auto blas = loaded_blas();
  return {{"cpu",
           {{"model", cpu.brand}, {"vendor", cpu.vendor}, {"family", cpu.family},
            {"model_number", cpu.model}, {"extensions", describe_cpu_extensions(cpu)}}},
          {"blas",
           {{"vendor", blas.vendor}, {"version", blas.version}, {"core", blas.core},
            {"core_reason", blas.is_openblas() ? core_reason() : ""}, {"threads", blas.threads},
            {"library", blas.library}, {"config", blas.config}}},
          {"libtorch_threads", at::get_num_threads()}};
}

std::string platform_warning() { return slow_core_warning(cpu_features(), loaded_blas()); }

}  // namespace lstmlab

#include "app/platform/blas_core.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace lstmlab {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return text;
}

// OpenBLAS 0.3.21's x86-64 core names (driver/others/dynamic.c), by the widest vectors their
// kernels use.
const std::vector<std::pair<const char*, int>>& core_tiers() {
  static const std::vector<std::pair<const char*, int>> tiers = {
      {"Katmai", 0},     {"Coppermine", 0}, {"Northwood", 0},    {"Prescott", 0},
      {"Banias", 0},     {"Atom", 0},       {"Core2", 0},        {"Penryn", 0},
      {"Dunnington", 0}, {"Nehalem", 0},    {"Athlon", 0},       {"Opteron", 0},
      {"Opteron_SSE3", 0}, {"Barcelona", 0}, {"Nano", 0},        {"Bobcat", 0},
      {"Sandybridge", 1}, {"Bulldozer", 1}, {"Piledriver", 1},   {"Steamroller", 1},
      {"Haswell", 2},    {"Excavator", 2},  {"Zen", 2},
      {"SkylakeX", 3},   {"Cooperlake", 3}, {"SapphireRapids", 3}};
  return tiers;
}

}  // namespace

std::string fitting_openblas_core(const CpuFeatures& cpu) {
  if (!cpu.is_intel() && !cpu.is_amd()) return "";
  if (cpu.has_avx512_core()) return cpu.avx512_bf16 ? "Cooperlake" : "SkylakeX";
  if (cpu.avx2 && cpu.fma) return cpu.is_intel() ? "Haswell" : "Zen";
  return "";
}

int openblas_core_tier(const std::string& core) {
  const auto name = lowercase(core);
  for (const auto& [known, tier] : core_tiers()) {
    if (lowercase(known) == name) return tier;
  }
  return -1;
}

BlasCoreDecision decide_blas_core(const CpuFeatures& cpu, const BlasInfo& blas,
                                  const BlasCoreEnvironment& env) {
  auto keep = [](std::string reason) { return BlasCoreDecision{false, "", std::move(reason)}; };
  if (env.reexecuted_from) {
    return keep(fmt::format("already restarted once (OpenBLAS had picked {})", *env.reexecuted_from));
  }
  if (env.openblas_coretype) {
    return keep(fmt::format("{}={} was set outside lstm-lab", kOpenblasCoretype, *env.openblas_coretype));
  }
  const std::string asked = env.lstmlab_blas_core ? *env.lstmlab_blas_core : "auto";
  if (lowercase(asked) == "keep") return keep(fmt::format("{}=keep", kLstmlabBlasCore));
  if (!blas.is_openblas()) return keep(fmt::format("the BLAS is {}, not OpenBLAS", blas.vendor));
  if (!blas.dynamic_arch) {
    return keep("this OpenBLAS is built for one core (no DYNAMIC_ARCH): OPENBLAS_CORETYPE cannot change it");
  }
  if (!asked.empty() && lowercase(asked) != "auto") {
    if (openblas_core_tier(asked) < 0) {
      return keep(fmt::format("{}={} names no OpenBLAS core", kLstmlabBlasCore, asked));
    }
    if (lowercase(asked) == lowercase(blas.core)) {
      return keep(fmt::format("OpenBLAS already runs {}, as {} asks", blas.core, kLstmlabBlasCore));
    }
    return {true, asked, fmt::format("{}={}", kLstmlabBlasCore, asked)};
  }
  const auto fitting = fitting_openblas_core(cpu);
  if (fitting.empty()) return keep("the CPU has neither AVX2 nor AVX-512: OpenBLAS's choice stands");
  const int running = openblas_core_tier(blas.core);
  if (running < 0) return keep(fmt::format("OpenBLAS chose {}, a core this table does not rank", blas.core));
  if (running >= openblas_core_tier(fitting)) {
    return keep(fmt::format("OpenBLAS already picked {}, which fits this CPU", blas.core));
  }
  return {true, fitting,
          fmt::format("OpenBLAS fell back to {} on a CPU with {}", blas.core,
                      describe_cpu_extensions(cpu))};
}

std::string slow_core_warning(const CpuFeatures& cpu, const BlasInfo& blas) {
  if (!blas.is_openblas()) return "";
  const auto fitting = fitting_openblas_core(cpu);
  const int running = openblas_core_tier(blas.core);
  if (fitting.empty() || running < 0 || running >= openblas_core_tier(fitting)) return "";
  return fmt::format(
      "warning: OpenBLAS runs its {} kernels on a CPU with {}: matrix products run at a fraction "
      "of this CPU's rate; {}",
      blas.core, describe_cpu_extensions(cpu),
      blas.dynamic_arch ? fmt::format("unset {} and {} (lstm-lab then picks {}), or set {}={}",
                                      kLstmlabBlasCore, kOpenblasCoretype, fitting,
                                      kOpenblasCoretype, fitting)
                        : "this OpenBLAS is built for one core; install Debian's libopenblas0-openmp");
}

}  // namespace lstmlab

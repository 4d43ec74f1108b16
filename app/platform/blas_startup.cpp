#include "app/platform/blas_startup.h"

#include "app/platform/blas_core.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

#include <unistd.h>

namespace lstmlab {
namespace {

BlasCoreStartup& record() {
  static BlasCoreStartup startup;
  return startup;
}

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

}  // namespace

void choose_blas_core_at_startup(char** argv) {
  auto& r = record();
  r.ran = true;
  const BlasCoreEnvironment env{variable(kOpenblasCoretype), variable(kLstmlabBlasCore),
                                variable(kBlasCoreGuard)};
  const BlasInfo blas = loaded_blas();
  const auto decision = decide_blas_core(cpu_features(), blas, env);
  if (env.reexecuted_from) {
    r.reexecuted = true;
    r.picked_by_openblas = *env.reexecuted_from;
    const auto asked = variable(kLstmlabBlasCore);
    const bool named = asked && !asked->empty() && *asked != "auto";
    r.reason = std::string(named ? "the core LSTMLAB_BLAS_CORE names" : "the core that fits this CPU") +
               ", set by lstm-lab; OpenBLAS alone picked " + r.picked_by_openblas;
    unsetenv(kOpenblasCoretype);
    unsetenv(kBlasCoreGuard);
    return;
  }
  r.reason = decision.reason;
  if (!decision.reexecute) return;
  setenv(kOpenblasCoretype, decision.core.c_str(), 1);
  setenv(kBlasCoreGuard, blas.core.c_str(), 1);
  execv("/proc/self/exe", argv);
  const int error = errno;
  unsetenv(kOpenblasCoretype);
  unsetenv(kBlasCoreGuard);
  r.reason = decision.reason + "; restarting with " + kOpenblasCoretype + "=" + decision.core +
             " failed: " + std::strerror(error);
  std::cerr << "lstm-lab: could not restart with " << kOpenblasCoretype << '=' << decision.core
            << " (" << std::strerror(error) << "); going on with OpenBLAS's " << blas.core << '\n';
}

const BlasCoreStartup& blas_core_startup() { return record(); }

}  // namespace lstmlab

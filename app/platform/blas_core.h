#pragma once
// Which OpenBLAS kernel set ("core") fits this CPU, and whether lstm-lab should restart itself to
// get it. OpenBLAS built with DYNAMIC_ARCH picks its core when it loads; one that does not know
// the CPU (Debian 12's 0.3.21 on Xeons newer than it) falls back to SSE3 kernels at a fifth of the
// CPU's rate. OPENBLAS_CORETYPE names the core instead, but is read only at load time, so setting
// it means executing the program again. This file is the decision alone, a pure function of what
// it is given; app/platform/blas_startup.h acts on it.

#include "app/platform/blas_info.h"
#include "app/platform/cpu_features.h"

#include <optional>
#include <string>

namespace lstmlab {

/// The variables the decision reads; unset ones are std::nullopt (an empty value counts as set).
struct BlasCoreEnvironment {
  std::optional<std::string> openblas_coretype;  ///< OPENBLAS_CORETYPE: never overridden
  /// LSTMLAB_BLAS_CORE: "keep" (leave OpenBLAS's choice), "auto" or unset (the fitting core), or
  /// a core name to run instead (e.g. "SkylakeX", to compare kernels)
  std::optional<std::string> lstmlab_blas_core;
  /// The guard lstm-lab sets before its one re-execution, holding the core OpenBLAS had picked.
  std::optional<std::string> reexecuted_from;
};

struct BlasCoreDecision {
  bool reexecute = false;
  std::string core;    ///< the value for OPENBLAS_CORETYPE when reexecute
  std::string reason;  ///< one phrase saying why, for --version and bench
};

/// The variable names, in one place for start-up and the tests.
inline constexpr const char* kOpenblasCoretype = "OPENBLAS_CORETYPE";
inline constexpr const char* kLstmlabBlasCore = "LSTMLAB_BLAS_CORE";
inline constexpr const char* kBlasCoreGuard = "LSTMLAB_BLAS_CORE_REEXECUTED_FROM";

/// The core of OpenBLAS 0.3.21 that fits: "Cooperlake" (AVX-512 F/BW/DQ/VL with BF16),
/// "SkylakeX" (AVX-512 F/BW/DQ/VL), "Haswell" (Intel, AVX2 and FMA), "Zen" (AMD or Hygon, AVX2
/// and FMA); "" when the CPU has neither AVX2 nor AVX-512 (nothing to gain over the SSE cores).
std::string fitting_openblas_core(const CpuFeatures& cpu);

/// How far up a core's kernels reach: 0 SSE, 1 AVX, 2 AVX2, 3 AVX-512; -1 for a name this table
/// does not hold (left alone: OpenBLAS may know better). Case-insensitive, as OpenBLAS reads it.
int openblas_core_tier(const std::string& core);

/// Re-execute only when OpenBLAS (with DYNAMIC_ARCH) runs a core of a lower tier than the one
/// that fits the CPU, or another core than LSTMLAB_BLAS_CORE names, and neither the user nor the
/// environment set OPENBLAS_CORETYPE, LSTMLAB_BLAS_CORE is not "keep", and this process is not
/// already the re-executed one.
BlasCoreDecision decide_blas_core(const CpuFeatures& cpu, const BlasInfo& blas,
                                  const BlasCoreEnvironment& env);

/// One line when the BLAS runs kernels below what the CPU offers (a generic OpenBLAS core on an
/// AVX2 or AVX-512 CPU), saying what to do; "" otherwise.
std::string slow_core_warning(const CpuFeatures& cpu, const BlasInfo& blas);

}  // namespace lstmlab

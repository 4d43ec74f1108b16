#pragma once
// Which BLAS serves LibTorch's matrix products in this process, and what it says about itself.
// LibTorch on Debian calls the Fortran `sgemm_` of whatever libblas.so.3 the system's alternatives
// (or LD_LIBRARY_PATH) point at, so the answer is read from the library that serves that symbol.

#include <string>

namespace lstmlab {

struct BlasInfo {
  /// "OpenBLAS", "BLIS", "ATLAS", "MKL", "reference BLAS", or "unknown".
  std::string vendor = "unknown";
  std::string version;   ///< "0.3.21"; empty where the library does not say
  std::string core;      ///< OpenBLAS's kernel set (`openblas_get_corename`): "Prescott", "SkylakeX"
  std::string config;    ///< OpenBLAS's build line (`openblas_get_config`)
  bool dynamic_arch = false;  ///< OpenBLAS built to pick its core at load time (OPENBLAS_CORETYPE works)
  int threads = 0;       ///< the BLAS's own thread count; 0 where it does not say
  std::string library;   ///< the file that serves `sgemm_`, links resolved; empty if none is found

  bool is_openblas() const { return vendor == "OpenBLAS"; }
};

/// Asks the loaded BLAS now (its thread count follows LibTorch's OpenMP setting, so ask after it).
BlasInfo loaded_blas();

/// "OpenBLAS 0.3.21, core SkylakeX, 2 threads (/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3)".
std::string describe_blas(const BlasInfo& blas);

}  // namespace lstmlab

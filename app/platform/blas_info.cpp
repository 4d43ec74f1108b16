#include "app/platform/blas_info.h"

#include <fmt/format.h>

#include <dlfcn.h>

#include <filesystem>
#include <sstream>

namespace lstmlab {
namespace {

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// A symbol of the library `handle` or of the libraries it depends on: Debian's OpenBLAS
// libblas.so.3 is a thin layer over libopenblas.so.0, which holds `openblas_get_config`.
template <typename Fn>
Fn symbol(void* handle, const char* name) {
  return handle ? reinterpret_cast<Fn>(dlsym(handle, name)) : nullptr;
}

void read_openblas(void* handle, BlasInfo& blas) {
  const auto get_config = symbol<char* (*)()>(handle, "openblas_get_config");
  if (!get_config) return;
  blas.vendor = "OpenBLAS";
  blas.config = get_config() ? get_config() : "";
  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64"
  std::istringstream words(blas.config);
  std::string word;
  words >> word >> blas.version;
  blas.dynamic_arch = contains(blas.config, "DYNAMIC_ARCH");
  if (const auto corename = symbol<char* (*)()>(handle, "openblas_get_corename")) {
    blas.core = corename() ? corename() : "";
  }
  if (const auto threads = symbol<int (*)()>(handle, "openblas_get_num_threads")) {
    blas.threads = threads();
  }
}

}  // namespace

BlasInfo loaded_blas() {
  BlasInfo blas;
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where{};
  if (!sgemm || !dladdr(sgemm, &where) || !where.dli_fname) return blas;
  std::error_code ec;
  const auto real = std::filesystem::canonical(where.dli_fname, ec);
  blas.library = ec ? where.dli_fname : real.string();
  // Already loaded: this only hands back a reference, released below.
  void* handle = dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  read_openblas(handle, blas);
  if (!blas.is_openblas()) {
    const auto bli_version = symbol<const char* (*)()>(handle, "bli_info_get_version_str");
    const auto mkl_version = symbol<void (*)(char*, int)>(handle, "mkl_get_version_string");
    if (bli_version || contains(blas.library, "blis")) {
      blas.vendor = "BLIS";
      if (bli_version) blas.version = bli_version();
      if (const auto threads = symbol<long (*)()>(handle, "bli_thread_get_num_threads")) {
        blas.threads = static_cast<int>(threads());
      }
    } else if (mkl_version || contains(blas.library, "mkl")) {
      blas.vendor = "MKL";
      if (mkl_version) {
        char text[256] = {};
        mkl_version(text, sizeof text);
        blas.version = text;
      }
    } else if (symbol<void*>(handle, "ATL_xerbla") || contains(blas.library, "atlas")) {
      blas.vendor = "ATLAS";
    } else if (contains(blas.library, "/blas/libblas") || contains(blas.library, "libblas.so.3.")) {
      blas.vendor = "reference BLAS";  // netlib's, Debian's libblas3
    }
  }
  if (handle) dlclose(handle);
  return blas;
}

std::string describe_blas(const BlasInfo& b) {
  std::string text = b.vendor;
  if (!b.version.empty()) text += " " + b.version;
  if (!b.core.empty()) text += ", core " + b.core;
  if (b.threads > 0) text += fmt::format(", {} thread{}", b.threads, b.threads == 1 ? "" : "s");
  text += b.library.empty() ? " (no library serves sgemm_: LibTorch carries its own BLAS)"
                            : " (" + b.library + ")";
  return text;
}

}  // namespace lstmlab

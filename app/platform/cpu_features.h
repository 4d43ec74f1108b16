#pragma once
// What the CPU offers the matrix products, read from cpuid: its vendor, family and model, and the
// vector extensions that both the CPU and the operating system enable (a feature the OS does not
// save across context switches cannot be used, so it counts as absent).

#include <string>

namespace lstmlab {

struct CpuFeatures {
  std::string vendor;  ///< "GenuineIntel", "AuthenticAMD", "HygonGenuine", ...; "" off x86
  std::string brand;   ///< the processor name string, e.g. "Intel(R) Xeon(R) Processor"
  int family = 0, model = 0, stepping = 0;  ///< display family and model (extended fields added)
  bool avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_bf16 = false;
  bool amx_tile = false, amx_bf16 = false;

  bool is_intel() const { return vendor == "GenuineIntel"; }
  /// AMD and Hygon (whose Dhyana cores are Zen).
  bool is_amd() const { return vendor == "AuthenticAMD" || vendor == "HygonGenuine"; }
  /// AVX-512 F, BW, DQ and VL together: what OpenBLAS's SkylakeX kernels need.
  bool has_avx512_core() const { return avx512f && avx512bw && avx512dq && avx512vl; }
};

/// This machine's CPU, read once.
const CpuFeatures& cpu_features();

/// "Intel(R) Xeon(R) Processor (GenuineIntel family 6 model 207)".
std::string describe_cpu_model(const CpuFeatures& cpu);
/// "AVX2 FMA AVX-512 F/BW/DQ/VL BF16", the extensions that matter to the products; "SSE only".
std::string describe_cpu_extensions(const CpuFeatures& cpu);

}  // namespace lstmlab

// What cpuid says (app/platform/cpu_features.h) against what the kernel says in /proc/cpuinfo,
// and which BLAS serves sgemm_ (app/platform/blas_info.h) against the files mapped into this
// process.

#include "app/platform/blas_info.h"
#include "app/platform/cpu_features.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace lstmlab {
namespace {

// The first processor's "key : value" fields of /proc/cpuinfo.
std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto name = line.substr(0, colon);
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name == key) return colon + 2 <= line.size() ? line.substr(colon + 2) : "";
  }
  return "";
}

TEST(CpuFeatures, AgreeWithTheKernelsCpuinfo) {
  const auto flags_text = cpuinfo_field("flags");
  if (flags_text.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags on this machine";
  std::set<std::string> flags;
  std::istringstream words(flags_text);
  for (std::string w; words >> w;) flags.insert(w);
  const auto& cpu = cpu_features();
  EXPECT_EQ(cpu.vendor, cpuinfo_field("vendor_id"));
  EXPECT_EQ(cpu.family, std::stoi(cpuinfo_field("cpu family")));
  EXPECT_EQ(cpu.model, std::stoi(cpuinfo_field("model")));
  // The kernel lists a feature only where it also saves its registers, as cpu_features() checks.
  EXPECT_EQ(cpu.avx, flags.count("avx") == 1);
  EXPECT_EQ(cpu.avx2, flags.count("avx2") == 1);
  EXPECT_EQ(cpu.fma, flags.count("fma") == 1);
  EXPECT_EQ(cpu.avx512f, flags.count("avx512f") == 1);
  EXPECT_EQ(cpu.avx512bw, flags.count("avx512bw") == 1);
  EXPECT_EQ(cpu.avx512dq, flags.count("avx512dq") == 1);
  EXPECT_EQ(cpu.avx512vl, flags.count("avx512vl") == 1);
  EXPECT_EQ(cpu.avx512_bf16, flags.count("avx512_bf16") == 1);
  EXPECT_EQ(cpu.amx_tile, flags.count("amx_tile") == 1);
  EXPECT_EQ(cpu.brand, cpuinfo_field("model name"));
}

TEST(CpuFeatures, DescribedInOneLine) {
  CpuFeatures cpu;
  cpu.vendor = "GenuineIntel";
  cpu.brand = "Intel(R) Xeon(R) Processor";
  cpu.family = 6;
  cpu.model = 207;
  EXPECT_EQ(describe_cpu_model(cpu), "Intel(R) Xeon(R) Processor (GenuineIntel family 6 model 207)");
  EXPECT_EQ(describe_cpu_extensions(cpu), "SSE only");
  cpu.avx = cpu.avx2 = cpu.fma = cpu.avx512f = cpu.avx512bw = cpu.avx512dq = cpu.avx512vl = true;
  cpu.avx512_bf16 = true;
  EXPECT_EQ(describe_cpu_extensions(cpu), "AVX AVX2 FMA AVX-512 F/BW/DQ/VL BF16");
}

TEST(BlasInfo, NamesTheLibraryThatServesSgemm) {
  const auto blas = loaded_blas();
  ASSERT_FALSE(blas.library.empty()) << "LibTorch on Debian calls sgemm_ from libblas.so.3";
  // That file is mapped into this process.
  std::ifstream maps("/proc/self/maps");
  bool mapped = false;
  for (std::string line; std::getline(maps, line);) {
    mapped = mapped || line.find(blas.library) != std::string::npos;
  }
  EXPECT_TRUE(mapped) << blas.library;
  // Debian puts each BLAS's libblas.so.3 in a folder named after it.
  const auto in = [&](const char* folder) { return blas.library.find(folder) != std::string::npos; };
  if (in("/openblas")) {
    EXPECT_EQ(blas.vendor, "OpenBLAS");
    EXPECT_EQ(blas.config.rfind("OpenBLAS " + blas.version, 0), 0u) << blas.config;
    EXPECT_FALSE(blas.core.empty());
    EXPECT_GE(blas.threads, 1);
  } else if (in("/blis")) {
    EXPECT_EQ(blas.vendor, "BLIS");
  } else if (in("/atlas/")) {
    EXPECT_EQ(blas.vendor, "ATLAS");
  } else if (in("/blas/")) {
    EXPECT_EQ(blas.vendor, "reference BLAS");
  }
  EXPECT_NE(describe_blas(blas).find(blas.library), std::string::npos);
}

}  // namespace
}  // namespace lstmlab

// The BLAS core decision (app/platform/blas_core.h) as a table: the CPU, the core OpenBLAS
// reported, and the environment, against whether lstm-lab restarts and with which core. The
// expected cores are OpenBLAS 0.3.21's own names for the kernel sets that fit each CPU.

#include "app/platform/blas_core.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace lstmlab {
namespace {

CpuFeatures intel(int model) {
  CpuFeatures cpu;
  cpu.vendor = "GenuineIntel";
  cpu.family = 6;
  cpu.model = model;
  return cpu;
}

CpuFeatures with_avx2(CpuFeatures cpu) {
  cpu.avx = cpu.avx2 = cpu.fma = true;
  return cpu;
}

CpuFeatures with_avx512(CpuFeatures cpu, bool bf16) {
  cpu = with_avx2(cpu);
  cpu.avx512f = cpu.avx512bw = cpu.avx512dq = cpu.avx512vl = true;
  cpu.avx512_bf16 = bf16;
  return cpu;
}

// The development machine: family 6 model 207, AVX-512 with BF16, unknown to OpenBLAS 0.3.21.
const CpuFeatures kEmeraldRapids = with_avx512(intel(207), true);
const CpuFeatures kSkylakeX = with_avx512(intel(85), false);
const CpuFeatures kHaswell = with_avx2(intel(63));
CpuFeatures sandy_bridge() {
  CpuFeatures cpu = intel(42);
  cpu.avx = true;
  return cpu;
}
const CpuFeatures kSandyBridge = sandy_bridge();
const CpuFeatures kSseOnly = intel(23);
CpuFeatures amd(const char* vendor, bool avx512) {
  CpuFeatures cpu;
  cpu.vendor = vendor;
  cpu.family = 25;
  return avx512 ? with_avx512(cpu, true) : with_avx2(cpu);
}
const CpuFeatures kEpycZen3 = amd("AuthenticAMD", false);
const CpuFeatures kEpycZen4 = amd("AuthenticAMD", true);
const CpuFeatures kHygon = amd("HygonGenuine", false);
CpuFeatures zhaoxin() {
  CpuFeatures cpu = with_avx2(CpuFeatures{});
  cpu.vendor = "CentaurHauls";
  return cpu;
}
// Knights Landing: AVX-512 F without BW/DQ/VL, which SkylakeX's kernels use.
CpuFeatures knights_landing() {
  CpuFeatures cpu = with_avx2(intel(87));
  cpu.avx512f = true;
  return cpu;
}

BlasInfo openblas(const std::string& core, bool dynamic_arch = true) {
  BlasInfo blas;
  blas.vendor = "OpenBLAS";
  blas.version = "0.3.21";
  blas.core = core;
  blas.dynamic_arch = dynamic_arch;
  return blas;
}

BlasInfo blis() {
  BlasInfo blas;
  blas.vendor = "BLIS";
  return blas;
}

struct Case {
  const char* what;
  CpuFeatures cpu;
  BlasInfo blas;
  BlasCoreEnvironment env;
  bool reexecute;
  std::string core;  ///< OPENBLAS_CORETYPE of the restart; "" when none
};

const std::optional<std::string> unset = std::nullopt;
BlasCoreEnvironment env(std::optional<std::string> coretype, std::optional<std::string> asked,
                        std::optional<std::string> guard = std::nullopt) {
  return {std::move(coretype), std::move(asked), std::move(guard)};
}

TEST(BlasCore, TheDecisionTable) {
  const std::vector<Case> cases = {
      {"Prescott fallback on AVX-512 with BF16", kEmeraldRapids, openblas("Prescott"), env(unset, unset), true, "Cooperlake"},
      {"Prescott fallback on AVX-512", kSkylakeX, openblas("Prescott"), env(unset, unset), true, "SkylakeX"},
      {"Prescott fallback on Intel AVX2", kHaswell, openblas("Prescott"), env(unset, unset), true, "Haswell"},
      {"Prescott fallback on AMD AVX2", kEpycZen3, openblas("Prescott"), env(unset, unset), true, "Zen"},
      {"Prescott fallback on Hygon AVX2", kHygon, openblas("Prescott"), env(unset, unset), true, "Zen"},
      {"Nehalem fallback on AVX-512", kSkylakeX, openblas("Nehalem"), env(unset, unset), true, "SkylakeX"},
      {"Haswell kernels on AVX-512 with BF16", kEmeraldRapids, openblas("Haswell"), env(unset, unset), true, "Cooperlake"},
      {"Zen kernels on an AVX-512 Zen", kEpycZen4, openblas("Zen"), env(unset, unset), true, "Cooperlake"},
      {"AVX-512 F alone fits Haswell's", knights_landing(), openblas("Prescott"), env(unset, unset), true, "Haswell"},
      {"LSTMLAB_BLAS_CORE=auto is the default", kEmeraldRapids, openblas("Prescott"), env(unset, "auto"), true, "Cooperlake"},
      {"LSTMLAB_BLAS_CORE names a core", kEmeraldRapids, openblas("Prescott"), env(unset, "SkylakeX"), true, "SkylakeX"},
      {"LSTMLAB_BLAS_CORE may name a lower core", kEpycZen3, openblas("Zen"), env(unset, "Prescott"), true, "Prescott"},
      // Nothing changes:
      {"OpenBLAS already picked the fitting core (AMD EPYC)", kEpycZen3, openblas("Zen"), env(unset, unset), false, ""},
      {"OpenBLAS already picked the fitting core (Skylake-X)", kSkylakeX, openblas("SkylakeX"), env(unset, unset), false, ""},
      {"OpenBLAS already picked Cooperlake", kEmeraldRapids, openblas("Cooperlake"), env(unset, unset), false, ""},
      {"SkylakeX on a BF16 CPU is the same tier", kEmeraldRapids, openblas("SkylakeX"), env(unset, unset), false, ""},
      {"SapphireRapids is not lowered", kEmeraldRapids, openblas("SapphireRapids"), env(unset, unset), false, ""},
      {"a user's OPENBLAS_CORETYPE", kEmeraldRapids, openblas("Prescott"), env("Prescott", unset), false, ""},
      {"an empty OPENBLAS_CORETYPE is still the user's", kEmeraldRapids, openblas("Prescott"), env("", unset), false, ""},
      {"OPENBLAS_CORETYPE wins over LSTMLAB_BLAS_CORE", kEmeraldRapids, openblas("Prescott"), env("Haswell", "SkylakeX"), false, ""},
      {"LSTMLAB_BLAS_CORE=keep", kEmeraldRapids, openblas("Prescott"), env(unset, "keep"), false, ""},
      {"LSTMLAB_BLAS_CORE=KEEP", kEmeraldRapids, openblas("Prescott"), env(unset, "KEEP"), false, ""},
      {"the restarted process never restarts", kEmeraldRapids, openblas("Prescott"), env(unset, unset, "Prescott"), false, ""},
      {"the restarted process, core named", kEmeraldRapids, openblas("Prescott"), env(unset, "SkylakeX", "Prescott"), false, ""},
      {"LSTMLAB_BLAS_CORE names the running core", kSkylakeX, openblas("SkylakeX"), env(unset, "skylakex"), false, ""},
      {"LSTMLAB_BLAS_CORE names no core", kEmeraldRapids, openblas("Prescott"), env(unset, "Fastest"), false, ""},
      {"OpenBLAS built for one core", kEmeraldRapids, openblas("Prescott", false), env(unset, unset), false, ""},
      {"another BLAS", kEmeraldRapids, blis(), env(unset, unset), false, ""},
      {"an AVX-only CPU", kSandyBridge, openblas("Prescott"), env(unset, unset), false, ""},
      {"an SSE-only CPU", kSseOnly, openblas("Prescott"), env(unset, unset), false, ""},
      {"a vendor without a fitting core", zhaoxin(), openblas("Nano"), env(unset, unset), false, ""},
      {"a core name this table does not know", kEmeraldRapids, openblas("EmeraldRapids"), env(unset, unset), false, ""},
  };
  for (const auto& c : cases) {
    const auto d = decide_blas_core(c.cpu, c.blas, c.env);
    EXPECT_EQ(d.reexecute, c.reexecute) << c.what << ": " << d.reason;
    EXPECT_EQ(d.core, c.core) << c.what << ": " << d.reason;
    EXPECT_FALSE(d.reason.empty()) << c.what;
  }
}

TEST(BlasCore, ReasonsNameWhatDecided) {
  EXPECT_EQ(decide_blas_core(kEmeraldRapids, openblas("Prescott"), env("Haswell", unset)).reason,
            "OPENBLAS_CORETYPE=Haswell was set outside lstm-lab");
  EXPECT_EQ(decide_blas_core(kEpycZen3, openblas("Zen"), env(unset, unset)).reason,
            "OpenBLAS already picked Zen, which fits this CPU");
  EXPECT_EQ(decide_blas_core(kEmeraldRapids, openblas("Prescott"), env(unset, unset)).reason,
            "OpenBLAS fell back to Prescott on a CPU with AVX AVX2 FMA AVX-512 F/BW/DQ/VL BF16");
}

TEST(BlasCore, TiersFollowTheWidestVectors) {
  EXPECT_EQ(openblas_core_tier("Prescott"), 0);
  EXPECT_EQ(openblas_core_tier("Sandybridge"), 1);
  EXPECT_EQ(openblas_core_tier("Haswell"), 2);
  EXPECT_EQ(openblas_core_tier("zen"), 2);  // OpenBLAS reads OPENBLAS_CORETYPE ignoring case
  EXPECT_EQ(openblas_core_tier("SKYLAKEX"), 3);
  EXPECT_EQ(openblas_core_tier("Cooperlake"), 3);
  EXPECT_EQ(openblas_core_tier(""), -1);
  EXPECT_EQ(openblas_core_tier("Skylake"), -1);
}

TEST(BlasCore, AWarningOnlyWhenTheKernelsAreBelowTheCpu) {
  const auto warning = slow_core_warning(kEmeraldRapids, openblas("Prescott"));
  EXPECT_NE(warning.find("Prescott"), std::string::npos) << warning;
  EXPECT_NE(warning.find("OPENBLAS_CORETYPE=Cooperlake"), std::string::npos) << warning;
  EXPECT_NE(slow_core_warning(kEmeraldRapids, openblas("Prescott", false)).find("built for one core"),
            std::string::npos);
  EXPECT_EQ(slow_core_warning(kEmeraldRapids, openblas("Cooperlake")), "");
  EXPECT_EQ(slow_core_warning(kEpycZen3, openblas("Zen")), "");
  EXPECT_EQ(slow_core_warning(kSandyBridge, openblas("Prescott")), "");
  EXPECT_EQ(slow_core_warning(kEmeraldRapids, blis()), "");
}

}  // namespace
}  // namespace lstmlab

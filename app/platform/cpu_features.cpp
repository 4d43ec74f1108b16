#include "app/platform/cpu_features.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lstmlab {
namespace {

#if defined(__x86_64__) || defined(__i386__)
struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned subleaf = 0) {
  Regs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d)) return {};
  return r;
}

// The register state the OS saves (XCR0): AVX needs XMM and YMM (bits 1, 2), AVX-512 also the
// opmask and both halves of ZMM (bits 5, 6, 7), AMX the tile config and data (bits 17, 18).
uint64_t enabled_state() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool bit(unsigned reg, int n) { return (reg >> n) & 1u; }

std::string trimmed(const char* text) {
  std::string s(text);
  const auto first = s.find_first_not_of(' ');
  const auto last = s.find_last_not_of(' ');
  return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

CpuFeatures read_cpu() {
  CpuFeatures cpu;
  const Regs leaf0 = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor + 0, &leaf0.b, 4);
  std::memcpy(vendor + 4, &leaf0.d, 4);
  std::memcpy(vendor + 8, &leaf0.c, 4);
  cpu.vendor = vendor;

  const Regs leaf1 = cpuid(1);
  const unsigned base_family = (leaf1.a >> 8) & 0xf;
  const unsigned base_model = (leaf1.a >> 4) & 0xf;
  cpu.family = static_cast<int>(base_family == 0xf ? base_family + ((leaf1.a >> 20) & 0xff)
                                                   : base_family);
  cpu.model = static_cast<int>(base_family == 0x6 || base_family == 0xf
                                   ? base_model + (((leaf1.a >> 16) & 0xf) << 4)
                                   : base_model);
  cpu.stepping = static_cast<int>(leaf1.a & 0xf);

  const bool osxsave = bit(leaf1.c, 27);
  const uint64_t xcr0 = osxsave ? enabled_state() : 0;
  const bool ymm = (xcr0 & 0x6) == 0x6;
  const bool zmm = ymm && (xcr0 & 0xe0) == 0xe0;
  const bool tiles = (xcr0 & 0x60000) == 0x60000;

  const Regs leaf7 = leaf0.a >= 7 ? cpuid(7, 0) : Regs{};
  const Regs leaf7_1 = leaf0.a >= 7 && leaf7.a >= 1 ? cpuid(7, 1) : Regs{};
  cpu.avx = ymm && bit(leaf1.c, 28);
  cpu.fma = cpu.avx && bit(leaf1.c, 12);
  cpu.avx2 = cpu.avx && bit(leaf7.b, 5);
  cpu.avx512f = zmm && bit(leaf7.b, 16);
  cpu.avx512dq = cpu.avx512f && bit(leaf7.b, 17);
  cpu.avx512bw = cpu.avx512f && bit(leaf7.b, 30);
  cpu.avx512vl = cpu.avx512f && bit(leaf7.b, 31);
  cpu.avx512_bf16 = cpu.avx512f && bit(leaf7_1.a, 5);
  cpu.amx_tile = tiles && bit(leaf7.d, 24);
  cpu.amx_bf16 = cpu.amx_tile && bit(leaf7.d, 22);

  if (cpuid(0x80000000).a >= 0x80000004) {
    char brand[49] = {};
    for (unsigned k = 0; k < 3; ++k) {
      const Regs r = cpuid(0x80000002 + k);
      std::memcpy(brand + 16 * k + 0, &r.a, 4);
      std::memcpy(brand + 16 * k + 4, &r.b, 4);
      std::memcpy(brand + 16 * k + 8, &r.c, 4);
      std::memcpy(brand + 16 * k + 12, &r.d, 4);
    }
    cpu.brand = trimmed(brand);
  }
  return cpu;
}
#else
CpuFeatures read_cpu() { return {}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures cpu = read_cpu();
  return cpu;
}

std::string describe_cpu_model(const CpuFeatures& cpu) {
  if (cpu.vendor.empty()) return "unknown CPU (not x86)";
  return fmt::format("{} ({} family {} model {})", cpu.brand.empty() ? "unnamed CPU" : cpu.brand,
                     cpu.vendor, cpu.family, cpu.model);
}

std::string describe_cpu_extensions(const CpuFeatures& cpu) {
  std::string text;
  auto add = [&](bool present, const char* name) {
    if (present) text += text.empty() ? name : std::string(" ") + name;
  };
  add(cpu.avx, "AVX");
  add(cpu.avx2, "AVX2");
  add(cpu.fma, "FMA");
  if (cpu.avx512f) {
    std::string avx512 = "AVX-512 F";
    if (cpu.avx512bw) avx512 += "/BW";
    if (cpu.avx512dq) avx512 += "/DQ";
    if (cpu.avx512vl) avx512 += "/VL";
    add(true, avx512.c_str());
  }
  add(cpu.avx512_bf16, "BF16");
  add(cpu.amx_tile, cpu.amx_bf16 ? "AMX-BF16" : "AMX");
  return text.empty() ? "SSE only" : text;
}

}  // namespace lstmlab

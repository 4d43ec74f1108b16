#include "data/memory_limits.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace lstmlab {

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX;  // unknown: nothing is refused
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

std::string describe_bytes(double bytes) {
  if (bytes >= 1e15) return fmt::format("{:.3g} TB", bytes / 1e12);
  if (bytes >= 1e12) return fmt::format("{:.1f} TB", bytes / 1e12);
  if (bytes >= 1e9) return fmt::format("{:.1f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.1f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{:.0f} bytes", bytes);
}

void check_file_fits_in_memory(const std::string& path, double bytes_per_byte) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return;
  const double needed = static_cast<double>(size) * bytes_per_byte;
  const auto memory = static_cast<double>(physical_memory_bytes());
  if (needed > memory) {
    throw std::runtime_error(fmt::format(
        "{}: the file is {}; reading it needs about {} of memory and this machine has {}", path,
        describe_bytes(static_cast<double>(size)), describe_bytes(needed), describe_bytes(memory)));
  }
}

}  // namespace lstmlab

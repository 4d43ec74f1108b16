#pragma once
// What every fuzz target shares: the bytes as text, and a scratch file for the readers that take a
// path (weights, config.json, checkpoints), one per process so that fuzzers never share one.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace lstmlab::fuzz {

inline std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// A directory of this process's own under /dev/shm (memory) or the temporary directory.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    auto path = base / ("lstmlab_fuzz_" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
    return path.string();
  }();
  return dir;
}

/// Writes the bytes to `name` in the scratch directory and returns its path.
inline std::string scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  const auto path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();  // the harness itself failed, not the parser
  return path;
}

}  // namespace lstmlab::fuzz

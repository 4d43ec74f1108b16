// A run's config.json (app/train/run_config.h) on any bytes, as --resume, export, predict and
// generate read it: a configuration that validates and survives a round trip through to_json, or
// one exception naming the file.

#include "app/train/run_config.h"
#include "fuzz/fuzz_input.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lstmlab;
  static const std::string dir = [] {
    const auto d = fuzz::scratch_dir() + "/run";
    std::filesystem::create_directories(d);
    return d;
  }();
  const auto path = fuzz::scratch_file("run/config.json", data, size);
  RunConfig config;
  try {
    config = read_run_config(dir);
  } catch (const std::exception& e) {
    if (std::string(e.what()).find(path) == std::string::npos) std::abort();
    return 0;
  }
  try {
    validate(config);
  } catch (const std::invalid_argument&) {
    std::abort();  // read_run_config checks what validate checks: a file it accepts is valid
  }
  const auto written = to_json(config);
  const auto again = to_json(run_config_from_json(written, "round trip"));
  if (again != written) std::abort();
  return 0;
}

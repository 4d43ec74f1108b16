// The weights JSON reader (app/io/weights_file.h) on any bytes, in both of the layouts it reads: a
// layer's weights file (trace --weights) and a whole model's (train --init-weights), for either
// cell. Each read gives tensors of the shapes the layout names, or one exception naming the file.

#include "app/io/weights_file.h"
#include "fuzz/fuzz_input.h"

#include <c10/util/Exception.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

template <typename Read>
void expect_clean(const std::string& path, Read read) {
  try {
    read();
  } catch (const c10::Error& e) {
    if (std::string(e.what_without_backtrace()).find(path) == std::string::npos) std::abort();
  } catch (const std::exception& e) {
    if (std::string(e.what()).find(path) == std::string::npos) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lstmlab;
  const auto path = fuzz::scratch_file("weights.json", data, size);
  expect_clean(path, [&] { (void)load_weights_json(path); });
  expect_clean(path, [&] { (void)load_model_weights_json(path, CellKind::Lstm); });
  expect_clean(path, [&] { (void)load_model_weights_json(path, CellKind::Gru); });
  return 0;
}

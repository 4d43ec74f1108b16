// The flag parsers a user types numbers into: trace's --sequence (and --h0/--c0 through
// parse_number_list) and bench's --size. Any text is a parsed value or one std::invalid_argument
// that names the flag.

#include "app/tools/bench.h"
#include "app/tools/trace.h"
#include "fuzz/fuzz_input.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

void expect_named(const std::invalid_argument& e, const char* flag) {
  if (std::string(e.what()).find(flag) == std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lstmlab;
  const auto text = fuzz::text_of(data, size);
  try {
    const auto input_size = trace_input_size(text);
    const auto sequence = parse_trace_sequence(text, input_size);
    for (const auto& step : sequence) {
      if (static_cast<int64_t>(step.size()) != input_size) std::abort();
      for (const double x : step) {
        if (!std::isfinite(x)) std::abort();
      }
    }
  } catch (const std::invalid_argument& e) {
    expect_named(e, "--sequence");
  }
  try {
    for (const double x : parse_number_list("--h0", text)) {
      if (!std::isfinite(x)) std::abort();
    }
  } catch (const std::invalid_argument& e) {
    expect_named(e, "--h0");
  }
  try {
    const auto s = parse_bench_size(text);
    if (s.B <= 0 || s.T <= 0 || s.I <= 0 || s.H <= 0) std::abort();
  } catch (const std::invalid_argument& e) {
    expect_named(e, "--size");
  }
  return 0;
}

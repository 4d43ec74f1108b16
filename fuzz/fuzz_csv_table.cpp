// The CSV reader (data/csv_table.h) on any bytes: a table whose rows all have the header's width
// and whose lines rise, or one std::runtime_error naming the file.

#include "data/csv_table.h"
#include "fuzz/fuzz_input.h"

#include <cstdlib>
#include <stdexcept>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = lstmlab::fuzz::text_of(data, size);
  try {
    const auto table = lstmlab::parse_csv_table(text, "fuzz.csv");
    if (table.columns.empty() || table.rows.empty()) std::abort();  // documented as errors
    if (table.lines.size() != table.rows.size()) std::abort();
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (table.rows[r].size() != table.columns.size()) std::abort();
      if (table.lines[r] < 2 || (r > 0 && table.lines[r] <= table.lines[r - 1])) std::abort();
    }
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (table.column_index(table.columns[c]) != static_cast<int64_t>(c)) std::abort();
    }
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("fuzz.csv") == std::string::npos) std::abort();
  }
  return 0;
}

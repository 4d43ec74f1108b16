#include "data/csv_table.h"

#include "data/memory_limits.h"

#include <csv.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace lstmlab {
namespace {

// libcsv's state between rows (ROW_NOT_BEGUN in libcsv.c): nothing of the next row read yet.
constexpr int kRowNotBegun = 0;

// What the parser's callbacks build, and where in the file they are.
struct Reader {
  const std::string& path;
  CsvTable table;
  std::vector<std::string> row;
  int64_t line = 1;       // the physical line being fed
  int64_t row_line = 1;   // the line the row being read started on
  bool header_done = false;
  std::string error;  // the first error a callback met; thrown once libcsv has returned

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{} line {}: {}", path, row_line, what));
  }

  void throw_pending() const {
    if (!error.empty()) throw std::runtime_error(error);
  }

  void end_row() {
    if (!header_done) {
      std::set<std::string> seen;
      for (size_t c = 0; c < row.size(); ++c) {
        if (row[c].empty()) fail(fmt::format("column {} of the header has no name", c + 1));
        if (!seen.insert(row[c]).second) {
          fail(fmt::format("column {} of the header repeats the name '{}'", c + 1, row[c]));
        }
      }
      table.columns = std::move(row);
      header_done = true;
    } else {
      if (row.size() != table.columns.size()) {
        fail(fmt::format("{} field{} where the header (line 1) has {}", row.size(),
                         row.size() == 1 ? "" : "s", table.columns.size()));
      }
      table.rows.push_back(std::move(row));
      table.lines.push_back(row_line);
    }
    row.clear();
  }
};

// libcsv is C, so nothing may be thrown through it: a callback records its error and the
// parse loop throws it when libcsv has returned.
void on_field(void* text, size_t size, void* data) {
  auto* reader = static_cast<Reader*>(data);
  if (!reader->error.empty()) return;
  reader->row.emplace_back(static_cast<const char*>(text), size);
}

void on_row(int, void* data) {
  auto* reader = static_cast<Reader*>(data);
  if (!reader->error.empty()) return;
  try {
    reader->end_row();
  } catch (const std::exception& e) {
    reader->error = e.what();
    reader->row.clear();
  }
}

}  // namespace

int64_t CsvTable::column_index(const std::string& name) const {
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c] == name) return static_cast<int64_t>(c);
  }
  return -1;
}

CsvTable parse_csv_table(const std::string& text, const std::string& path) {
  std::string_view rest(text);
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // UTF-8 byte-order mark
  if (rest.find_first_not_of("\r\n") == std::string_view::npos) {
    throw std::runtime_error(
        fmt::format("{}: the file is empty; expected a header row naming the columns", path));
  }
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
    throw std::runtime_error(path + ": the CSV parser could not start (out of memory)");
  }
  struct Freed {
    csv_parser* p;
    ~Freed() { csv_free(p); }
  } freed{&parser};

  Reader reader{path, {}, {}, 1, 1, false, {}};
  reader.table.path = path;
  // One physical line at a time, so that the callbacks know the line they are on; a row starts on
  // the first line fed while the parser is between rows. A line ends at \n, \r\n, or a lone \r
  // (old Mac files), as libcsv ends a row at each: fed by \n alone, every row of a CR-only file
  // would be named after the header's line.
  while (!rest.empty()) {
    auto end = rest.find_first_of("\r\n");
    if (end != std::string_view::npos && rest[end] == '\r' && end + 1 < rest.size() &&
        rest[end + 1] == '\n') {
      ++end;
    }
    const auto piece = rest.substr(0, end == std::string_view::npos ? rest.size() : end + 1);
    if (parser.pstate == kRowNotBegun) reader.row_line = reader.line;
    const size_t used = csv_parse(&parser, piece.data(), piece.size(), on_field, on_row, &reader);
    reader.throw_pending();
    if (used != piece.size()) {
      throw std::runtime_error(fmt::format(
          "{} line {}, column {}: malformed quoted field (a quote inside an unquoted field, or "
          "text after a closing quote; a quote inside a quoted field is written \"\")",
          path, reader.line, reader.row.size() + 1));
    }
    rest.remove_prefix(piece.size());
    ++reader.line;
  }
  const int finished = csv_fini(&parser, on_field, on_row, &reader);
  reader.throw_pending();
  if (finished != 0) {
    throw std::runtime_error(fmt::format(
        "{} line {}: a quoted field in the row that starts here is never closed (unterminated "
        "quote)",
        path, reader.row_line));
  }
  if (reader.table.rows.empty()) {
    throw std::runtime_error(fmt::format(
        "{}: line 1 is a header with no data rows after it; expected at least one row of values",
        path));
  }
  return std::move(reader.table);
}

CsvTable read_csv_table(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    throw std::runtime_error(path + ": a directory, not a CSV file");
  }
  // Read whole, then kept as cells: about the file twice over plus each cell's string.
  check_file_fits_in_memory(path, 8.0);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the CSV file (no such file, or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_csv_table(text.str(), path);
}

}  // namespace lstmlab

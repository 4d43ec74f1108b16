#pragma once
// A CSV file read whole into text cells, with the line each row starts on, so that every later
// error (a missing value, a word in a numeric column) can name the file, the line and the column.
// RFC 4180 through libcsv: quoted fields holding commas, quotes ("") and newlines; \n or \r\n; a
// last line without a newline; UTF-8 with or without a byte-order mark. The first row is the
// header and names the columns. Blank lines are skipped, as pandas' read_csv skips them.

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

struct CsvTable {
  std::string path;                         ///< as given, for messages
  std::vector<std::string> columns;         ///< the header's names, in file order
  std::vector<std::vector<std::string>> rows;  ///< rows[r][c]: data row r (0-based), column c
  std::vector<int64_t> lines;               ///< lines[r]: the 1-based line data row r starts on

  /// Index of the column named `name`, or -1.
  int64_t column_index(const std::string& name) const;
};

/// Reads `path`. Throws std::runtime_error, one line naming the file and the line (and the
/// column where there is one), for: a file that cannot be opened, an empty file, a header with no
/// data rows, an unterminated quoted field, a malformed quoted field, a row whose field count
/// differs from the header's, an empty or repeated column name.
CsvTable read_csv_table(const std::string& path);
/// The same from text in memory; `path` names it in messages.
CsvTable parse_csv_table(const std::string& text, const std::string& path);

}  // namespace lstmlab

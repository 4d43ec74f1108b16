#include "data/corpus_source.h"

#include "data/csv_table.h"
#include "data/memory_limits.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lstmlab {

TextFileSource::TextFileSource(std::string path) : path_(std::move(path)) {
  if (std::filesystem::is_directory(path_)) {
    throw std::runtime_error("--text " + path_ + ": a directory, not a text file");
  }
  // The bytes, their code points (4 bytes each) and a cleaned copy of those.
  check_file_fits_in_memory(path_, 12.0);
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw std::runtime_error("--text " + path_ + ": cannot open the file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw std::runtime_error("--text " + path_ + ": cannot read the file");
  documents_.push_back(bytes.str());
}

std::string TextFileSource::locate(size_t, int64_t offset) const {
  return fmt::format("byte offset {}", offset);
}

FieldsSource::FieldsSource(std::string description, std::vector<std::string> fields)
    : description_(std::move(description)), fields_(std::move(fields)) {}

std::string FieldsSource::locate(size_t index, int64_t offset) const {
  return fmt::format("field {}, byte offset {} of the field", index + 1, offset);
}

std::u32string read_corpus(const CorpusSource& source, const CleaningOptions& options) {
  std::u32string corpus;
  int64_t raw_bytes = 0;
  const auto& documents = source.documents();
  for (size_t i = 0; i < documents.size(); ++i) {
    raw_bytes += static_cast<int64_t>(documents[i].size());
    std::u32string cleaned;
    try {
      cleaned = clean_text(documents[i], options);
    } catch (const InvalidUtf8& e) {
      const auto byte = static_cast<unsigned char>(documents[i][static_cast<size_t>(e.offset())]);
      // The file's contents, not the command line: a runtime error (exit 1).
      throw std::runtime_error(fmt::format(
          "{}: invalid UTF-8 at {} (0x{:02x}); fix the file or pass --on-invalid-utf8 replace",
          source.describe(), source.locate(i, e.offset()), static_cast<unsigned>(byte)));
    }
    if (cleaned.empty()) continue;
    if (!corpus.empty()) corpus.push_back(U'\n');
    corpus += cleaned;
  }
  if (corpus.empty()) {
    throw std::runtime_error(fmt::format(
        "{}: the corpus is empty after cleaning ({} document(s), {} bytes before); check the "
        "cleaning flags",
        source.describe(), documents.size(), raw_bytes));
  }
  return corpus;
}

FieldsSource csv_column_source(const std::string& path, const std::string& column) {
  auto table = read_csv_table(path);
  const auto index = table.column_index(column);
  if (index < 0) {
    throw std::runtime_error(fmt::format("{}: no column '{}' (the columns: {})", path, column,
                                         fmt::join(table.columns, ", ")));
  }
  std::vector<std::string> fields;
  fields.reserve(table.rows.size());
  for (auto& row : table.rows) fields.push_back(std::move(row[static_cast<size_t>(index)]));
  return FieldsSource(fmt::format("{}, column '{}'", path, column), std::move(fields));
}

}  // namespace lstmlab

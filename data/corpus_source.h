#pragma once
// Where a character corpus comes from: documents as UTF-8 strings, each cleaned on its own and
// joined by line breaks. A plain text file is one document; a list of fields (one column of a
// CSV, as the CSV reader hands it over) is one document per field.

#include "data/text_cleaning.h"

#include <string>
#include <vector>

namespace lstmlab {

class CorpusSource {
 public:
  virtual ~CorpusSource() = default;
  /// "timemachine.txt", "writeups.csv column Writeup": where errors point.
  virtual std::string describe() const = 0;
  /// The raw documents, in order.
  virtual const std::vector<std::string>& documents() const = 0;
  /// Whether the documents are HTML unless the user says otherwise (a CSV column of write-ups is;
  /// a text file is not).
  virtual bool markup_by_default() const = 0;
  /// Where document `index`'s byte `offset` is, for an error: "byte 12" or "field 3, byte 12".
  virtual std::string locate(size_t index, int64_t offset) const = 0;
};

/// A whole UTF-8 file. Throws std::runtime_error naming the file when it cannot be read.
class TextFileSource : public CorpusSource {
 public:
  explicit TextFileSource(std::string path);
  std::string describe() const override { return path_; }
  const std::vector<std::string>& documents() const override { return documents_; }
  bool markup_by_default() const override { return false; }
  std::string locate(size_t index, int64_t offset) const override;

 private:
  std::string path_;
  std::vector<std::string> documents_;
};

/// Fields as strings, one document each (field 1 is the first): a CSV column.
class FieldsSource : public CorpusSource {
 public:
  FieldsSource(std::string description, std::vector<std::string> fields);
  std::string describe() const override { return description_; }
  const std::vector<std::string>& documents() const override { return fields_; }
  bool markup_by_default() const override { return true; }
  std::string locate(size_t index, int64_t offset) const override;

 private:
  std::string description_;
  std::vector<std::string> fields_;
};

/// One column of a CSV file (RFC 4180, data/csv_table.h), each field one document. Throws
/// std::runtime_error naming the file and the columns there are when `column` is not one of them.
FieldsSource csv_column_source(const std::string& path, const std::string& column);

/// Every document cleaned and joined by '\n' (documents that clean to nothing are left out).
/// Invalid UTF-8 throws std::invalid_argument naming the source and the byte; a corpus empty
/// after cleaning throws std::invalid_argument saying so.
std::u32string read_corpus(const CorpusSource& source, const CleaningOptions& options);

}  // namespace lstmlab

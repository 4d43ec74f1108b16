#pragma once
// Files a user keeps (config.json, metrics.csv, reports) are written whole or not at all: to
// PATH.tmp first, then renamed over PATH, so a crash or a full disk leaves the old file in place.

#include <fstream>
#include <string>

namespace lstmlab {

class AtomicFile {
 public:
  /// Opens PATH.tmp now, so that an unwritable place fails before any work is done.
  explicit AtomicFile(std::string path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  /// Without commit(), the temporary is removed and PATH is left as it was.
  ~AtomicFile();

  std::ostream& stream() { return out_; }
  /// Closes the temporary and renames it to PATH; throws std::runtime_error naming the file.
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace lstmlab

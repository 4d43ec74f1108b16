#pragma once
// Files a user keeps (config.json, metrics.csv, reports, checkpoints) are written whole or not at
// all: to PATH.tmp first, synced to the disk, then renamed over PATH and the directory synced, so a
// crash, a kill at any byte, a power cut or a full disk leaves either the old file or the new one.

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

/// The last step of every atomic write: syncs `tmp`'s bytes (fsync), renames it over `path`, and
/// syncs the directory so that the rename itself is on the disk. Throws std::runtime_error naming
/// the file; `tmp` is removed on failure and `path` left as it was.
void publish_file(const std::string& tmp, const std::string& path);

}  // namespace lstmlab

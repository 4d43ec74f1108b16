#include "app/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace lstmlab {
namespace {

// fsync through a descriptor of its own: std::ofstream does not expose one. A descriptor opened
// read-only syncs the file's data as well (POSIX fsync works on the file, not the descriptor).
bool sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return rc == 0;
}

std::string parent_of(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

void publish_file(const std::string& tmp, const std::string& path) {
  if (!sync_path(tmp, O_RDONLY)) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot sync '" + tmp + "' to the disk: " + reason + "; '" + path +
                             "' is unchanged");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
  // Some file systems refuse fsync on a directory (EINVAL): the rename is then as durable as they
  // make it, and nothing is lost by going on.
  if (!sync_path(parent_of(path), O_RDONLY | O_DIRECTORY) && errno != EINVAL && errno != EBADF) {
    throw std::runtime_error("cannot sync the directory of '" + path + "': " + std::strerror(errno));
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    throw std::runtime_error("cannot write '" + path_ + "': " + std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  out_.close();
  std::remove(tmp_.c_str());
}

void AtomicFile::commit() {
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || out_.fail()) {
    std::remove(tmp_.c_str());
    committed_ = true;
    throw std::runtime_error("failed while writing '" + tmp_ + "' (disk full?); '" + path_ +
                             "' is unchanged");
  }
  committed_ = true;
  publish_file(tmp_, path_);
}

void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.stream() << text;
  file.commit();
}

}  // namespace lstmlab

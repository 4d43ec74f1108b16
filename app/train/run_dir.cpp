#include "app/train/run_dir.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <stdexcept>

namespace lstmlab {
namespace fs = std::filesystem;

bool holds_a_run(const std::string& dir) {
  std::error_code ec;
  const fs::path p(dir);
  return fs::exists(p / "config.json", ec) || fs::exists(p / "compare.csv", ec) ||
         fs::exists(p / "builtin" / "config.json", ec) ||
         fs::exists(p / "scratch" / "config.json", ec);
}

namespace {

std::string timestamp() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  return stamp;
}

void create_parents(const fs::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  if (ec) {
    throw std::invalid_argument(fmt::format("--out {}: cannot create '{}': {}", dir.string(),
                                            dir.parent_path().string(), ec.message()));
  }
}

std::string claim_given(const std::string& out, bool overwrite, bool& created) {
  const fs::path dir(out);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw std::invalid_argument(fmt::format("--out {}: a file of that name exists", out));
  }
  if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) {
    if (!holds_a_run(out)) {
      throw std::invalid_argument(fmt::format(
          "--out {}: the directory holds files that are not an lstm-lab run; lstm-lab writes "
          "only into a new or empty directory (and clears only its own runs with --overwrite)",
          out));
    }
    if (!overwrite) {
      throw std::invalid_argument(fmt::format(
          "--out {}: the directory holds a run; give --overwrite to replace it, "
          "or train --resume {} to continue it",
          out, out));
    }
    for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
    return out;
  }
  create_parents(dir);
  created = fs::create_directories(dir, ec);
  if (ec) throw std::invalid_argument(fmt::format("--out {}: cannot create it: {}", out, ec.message()));
  return out;
}

std::string claim(const std::optional<std::string>& out, const std::string& prefix, bool overwrite,
                  bool& created) {
  created = false;
  if (out) return claim_given(*out, overwrite, created);
  const std::string base = fmt::format("runs/{}-{}", prefix, timestamp());
  create_parents(fs::path(base));
  for (int n = 1; n < 10000; ++n) {
    const std::string candidate = n == 1 ? base : fmt::format("{}-{}", base, n);
    std::error_code ec;
    // create_directory is the claim: it says true to exactly one of two racing processes.
    if (fs::create_directory(candidate, ec)) {
      created = true;
      return candidate;
    }
    if (ec) throw std::invalid_argument(fmt::format("cannot create '{}': {}", candidate, ec.message()));
  }
  throw std::invalid_argument("no free run directory under " + base + "-N; give --out DIR");
}

}  // namespace

RunDirClaim::RunDirClaim(const std::optional<std::string>& out, const std::string& prefix,
                         bool overwrite)
    : dir_(claim(out, prefix, overwrite, created_)) {}

RunDirClaim::~RunDirClaim() {
  std::error_code ec;
  if (created_ && fs::is_empty(dir_, ec) && !ec) fs::remove(dir_, ec);
}

}  // namespace lstmlab

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

std::string claim_given(const std::string& out, bool overwrite) {
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
  fs::create_directories(dir, ec);
  if (ec) throw std::invalid_argument(fmt::format("--out {}: cannot create it: {}", out, ec.message()));
  return out;
}

}  // namespace

std::string claim_run_dir(const std::optional<std::string>& out, const std::string& prefix,
                          bool overwrite) {
  if (out) return claim_given(*out, overwrite);
  const std::string base = fmt::format("runs/{}-{}", prefix, timestamp());
  create_parents(fs::path(base));
  for (int n = 1; n < 10000; ++n) {
    const std::string candidate = n == 1 ? base : fmt::format("{}-{}", base, n);
    std::error_code ec;
    // create_directory is the claim: it says true to exactly one of two racing processes.
    if (fs::create_directory(candidate, ec)) return candidate;
    if (ec) throw std::invalid_argument(fmt::format("cannot create '{}': {}", candidate, ec.message()));
  }
  throw std::invalid_argument("no free run directory under " + base + "-N; give --out DIR");
}

}  // namespace lstmlab

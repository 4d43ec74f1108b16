#pragma once
// Paths for tests that write files or run directories: named after the test, the tag and this
// process, so that tests running side by side (ctest -j) never share one, and removed when the
// test passes; a failing test leaves its files to look at.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace lstmlab::test {

class TempPaths {
 public:
  TempPaths() = default;
  TempPaths(const TempPaths&) = delete;
  TempPaths& operator=(const TempPaths&) = delete;

  ~TempPaths() {
    if (::testing::Test::HasFailure()) return;
    std::error_code ignored;
    for (const auto& path : paths_) std::filesystem::remove_all(path, ignored);
  }

  /// <temp>/lstmlab_<test>_<tag>_<pid>, with nothing there yet (a leftover is removed).
  std::string path(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string test = info ? info->name() : "outside_a_test";
    auto path = ::testing::TempDir() + "lstmlab_" + test + "_" + tag + "_" + std::to_string(getpid());
    std::filesystem::remove_all(path);
    paths_.push_back(path);
    return path;
  }

 private:
  std::vector<std::string> paths_;
};

}  // namespace lstmlab::test

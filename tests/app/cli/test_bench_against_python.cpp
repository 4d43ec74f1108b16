// `bench --against-python PY` through the built lstm-lab: a Python without torch is one line and
// the rest of the bench runs; an interpreter that cannot run is one line, and the name never
// reaches a shell; with torch (LSTMLAB_TORCH_PYTHON, or a python3 that imports it) its rows and
// ratio join the table and the JSON report.

#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out, err;
};

// Runs `cd dir && lstm-lab <args>`, stdout and stderr apart.
Outcome lstm_lab(const std::string& dir, const std::string& args) {
  const auto err_file = dir + "/stderr.txt";
  const std::string command = "cd '" + dir + "' && '" + LSTMLAB_BINARY + "' " + args + " 2>'" +
                              err_file + "'";
  Outcome o;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return o;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) o.out.append(buffer, n);
  const int raw = pclose(pipe);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(err_file);
  std::stringstream text;
  text << in.rdbuf();
  o.err = text.str();
  return o;
}

size_t lines(const std::string& text) {
  size_t n = 0;
  for (char ch : text) n += ch == '\n';
  return n;
}

bool runs(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

class BenchAgainstPython : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_); }

 private:
  lstmlab::test::TempPaths paths_;  // before dir_, which it names

 protected:
  const std::string dir_ = paths_.path("bench");
};

TEST_F(BenchAgainstPython, APythonWithoutTorchIsOneLineAndTheBenchRuns) {
  if (!runs("python3 -c pass")) GTEST_SKIP() << "no python3 on PATH";
  // python3 without its site packages: no torch, wherever torch is installed.
  const auto python = dir_ + "/python-without-site";
  std::ofstream(python) << "#!/bin/sh\nexec python3 -S \"$@\"\n";
  chmod(python.c_str(), 0755);
  const auto o = lstm_lab(dir_, "bench --size 2,3,1,4 --repeats 1 --variants builtin --threads 1 "
                                "--against-python '" + python + "'");
  ASSERT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_EQ(lines(o.err), 1u) << o.err;
  EXPECT_NE(o.err.find("--against-python skipped"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("has no torch"), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("custom 2,3,1,4"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("pytorch/x"), std::string::npos) << o.out;
}

TEST_F(BenchAgainstPython, AnInterpreterThatCannotRunIsOneLineAndNoShellSeesIt) {
  const auto o = lstm_lab(dir_, "bench --size 2,3,1,4 --repeats 1 --variants builtin "
                                "--against-python 'python3; touch PWNED'");
  EXPECT_EQ(o.status, 2) << o.out << o.err;
  EXPECT_EQ(lines(o.err), 1u) << o.err;
  EXPECT_NE(o.err.find("cannot run 'python3; touch PWNED'"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir_ + "/PWNED"));
  EXPECT_EQ(o.out, "") << "the refusal comes before any timing";
}

TEST_F(BenchAgainstPython, WithTorchItsRowsAndRatioJoinTheTable) {
  const char* chosen = std::getenv("LSTMLAB_TORCH_PYTHON");
  std::string python = chosen ? chosen : "python3";
  if (!runs("'" + python + "' -c 'import torch'")) {
    GTEST_SKIP() << python << " has no torch (set LSTMLAB_TORCH_PYTHON to one that has)";
  }
  const auto json = dir_ + "/bench.json";
  const auto o = lstm_lab(dir_, "bench --size 2,3,1,4 --size 3,2,2,5 --repeats 1 --threads 1 "
                                "--variants builtin,scratch-fused --cell gru --against-python '" +
                                python + "' --json '" + json + "'");
  ASSERT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("pytorch/x"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("pytorch: "), std::string::npos) << o.out;
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  EXPECT_FALSE(report.at("pytorch").at("torch").get<std::string>().empty());
  EXPECT_EQ(report.at("pytorch").at("threads"), 1);
  int pytorch_rows = 0;
  for (const auto& row : report.at("rows")) {
    if (row.at("variant") != "pytorch") continue;
    ++pytorch_rows;
    EXPECT_GT(row.at("forward_backward").at("median_s").get<double>(), 0.0) << row.dump();
  }
  EXPECT_EQ(pytorch_rows, 2);
  EXPECT_EQ(report.at("rows").size(), 6u);
}

}  // namespace

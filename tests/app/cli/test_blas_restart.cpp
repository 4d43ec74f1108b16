// The start-up restart with another OpenBLAS core (app/platform/blas_startup.h), through the built
// lstm-lab: it happens once, keeps argv, stdin, the exit status and the process (a signal sent to
// the pid the parent started reaches the restarted program), and never overrides a user's
// OPENBLAS_CORETYPE. LSTMLAB_BLAS_CORE=<core> makes the restart happen on any machine with
// Debian's OpenBLAS; where OpenBLAS already runs the fitting core no restart happens by default.

#include "app/platform/blas_info.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

struct Outcome {
  int status = -1;
  std::string output;  ///< stdout and stderr together
};

// `lstm-lab <args>` with the start-up's variables cleared, then `vars` set (VAR=value ...).
Outcome run(const std::string& vars, const std::string& args, const std::string& stdin_file = "") {
  const std::string command =
      "env -u OPENBLAS_CORETYPE -u LSTMLAB_BLAS_CORE -u LSTMLAB_BLAS_CORE_REEXECUTED_FROM " + vars +
      " '" + LSTMLAB_BINARY + "' " + args + (stdin_file.empty() ? "" : " < '" + stdin_file + "'") +
      " 2>&1";
  Outcome o;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return o;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) o.output.append(buffer, n);
  const int raw = pclose(pipe);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return o;
}

// The core named on --version's "BLAS core: X: ..." line.
std::string core_of(const std::string& version_output) {
  const std::string tag = "BLAS core: ";
  const auto at = version_output.find(tag);
  if (at == std::string::npos) return "";
  const auto start = at + tag.size();
  return version_output.substr(start, version_output.find(':', start) - start);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BlasRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto blas = lstmlab::loaded_blas();
    if (!blas.is_openblas() || !blas.dynamic_arch) {
      GTEST_SKIP() << "the BLAS is not an OpenBLAS that picks its core at load time: "
                   << lstmlab::describe_blas(blas);
    }
    natural_ = core_of(run("LSTMLAB_BLAS_CORE=keep", "--version").output);
    ASSERT_FALSE(natural_.empty());
    // A core every x86-64 DYNAMIC_ARCH OpenBLAS has, other than the one it picks here.
    other_ = natural_ == "Prescott" ? "Core2" : "Prescott";
  }
  std::string temp(const std::string& name) { return paths_.path(name); }

  std::string natural_, other_;
  lstmlab::test::TempPaths paths_;
};

TEST_F(BlasRestart, RunsOnceWithTheNamedCore) {
  const auto o = run("LSTMLAB_BLAS_CORE=" + other_, "--version");
  ASSERT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(core_of(o.output), other_) << o.output;
  EXPECT_NE(o.output.find("set by lstm-lab; OpenBLAS alone picked " + natural_), std::string::npos)
      << o.output;
  // The restarted process does not restart again, even if its core still differs from the one
  // asked for: with the guard already set, OpenBLAS keeps its own pick.
  const auto guarded = run("LSTMLAB_BLAS_CORE=" + other_ +
                               " LSTMLAB_BLAS_CORE_REEXECUTED_FROM=" + natural_, "--version");
  ASSERT_EQ(guarded.status, 0) << guarded.output;
  EXPECT_EQ(core_of(guarded.output), natural_) << guarded.output;
}

TEST_F(BlasRestart, AUsersCoretypeIsNeverOverridden) {
  const auto o = run("OPENBLAS_CORETYPE=" + other_ + " LSTMLAB_BLAS_CORE=" + natural_, "--version");
  ASSERT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(core_of(o.output), other_) << o.output;
  EXPECT_NE(o.output.find("OPENBLAS_CORETYPE=" + other_ + " was set outside lstm-lab"),
            std::string::npos) << o.output;
}

TEST_F(BlasRestart, WhereOpenblasPickedTheFittingCoreNothingChanges) {
  const auto kept = run("LSTMLAB_BLAS_CORE=keep", "--version");
  const auto automatic = run("", "--version");
  ASSERT_EQ(automatic.status, 0) << automatic.output;
  if (automatic.output.find("OpenBLAS already picked") == std::string::npos) {
    GTEST_SKIP() << "OpenBLAS does not pick the fitting core on this CPU:\n" << automatic.output;
  }
  EXPECT_EQ(core_of(automatic.output), natural_);
  EXPECT_EQ(automatic.output.find("set by lstm-lab"), std::string::npos) << automatic.output;
  EXPECT_EQ(core_of(kept.output), natural_);
}

TEST_F(BlasRestart, ArgvAndTheExitStatusSurvive) {
  const std::string restart = "LSTMLAB_BLAS_CORE=" + other_;
  // An argument with a space and quotes comes back byte for byte in the refusal.
  const auto unknown = run(restart, "'un \"known'");
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("unknown command 'un \"known'"), std::string::npos) << unknown.output;
  const auto flag = run(restart, "parity --no-such-flag");
  EXPECT_EQ(flag.status, 2) << flag.output;
  EXPECT_NE(flag.output.find("no-such-flag"), std::string::npos) << flag.output;
  const std::string trace = "trace --sequence 1 --c0 2 --h0 1 --target 0.5";
  const auto restarted = run(restart, trace);
  const auto kept = run("LSTMLAB_BLAS_CORE=keep", trace);
  ASSERT_EQ(restarted.status, 0) << restarted.output;
  EXPECT_EQ(restarted.output, kept.output);
  EXPECT_NE(restarted.output.find("0.9974"), std::string::npos) << restarted.output;  // seed 004's forget gate
}

TEST_F(BlasRestart, StdinReachesTheRestartedProgram) {
  // One input, one unit, PyTorch's names: weights only the restarted program can read, from stdin.
  const auto weights = temp("weights.json");
  std::ofstream(weights) << R"({"weight_ih_l0": [[0.5], [1.0], [-0.5], [2.0]],
    "weight_hh_l0": [[0.25], [0.5], [1.5], [-1.0]],
    "bias_ih_l0": [0.1, 0.2, 0.3, 0.4], "bias_hh_l0": [0.0, 0.0, 0.0, 0.0]})";
  const std::string trace = "trace --weights /dev/stdin --sequence 1,0.5";
  const auto restarted = run("LSTMLAB_BLAS_CORE=" + other_, trace, weights);
  ASSERT_EQ(restarted.status, 0) << restarted.output;
  const auto kept = run("LSTMLAB_BLAS_CORE=keep", trace, weights);
  ASSERT_EQ(kept.status, 0) << kept.output;
  EXPECT_EQ(restarted.output, kept.output);
  EXPECT_NE(restarted.output.find("1-input, 1-unit"), std::string::npos) << restarted.output;
}

TEST_F(BlasRestart, ASignalToThePidReachesTheRestartedProgram) {
  const auto dir = temp("run");
  const auto log = temp("log");
  std::vector<std::string> env_strings = {"LSTMLAB_BLAS_CORE=" + other_};
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (entry.rfind("OPENBLAS_CORETYPE=", 0) == 0 || entry.rfind("LSTMLAB_BLAS_CORE", 0) == 0) continue;
    env_strings.push_back(entry);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {"lstm-lab", "train", "--no-plots", "--epochs", "100000",
                                   "--points", "100", "--seq-len", "10", "--hidden", "4",
                                   "--threads", "1", "--out", dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT, 0644);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, LSTMLAB_BINARY, &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (read_file(log).find("epoch 2/") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  // Ctrl-C's own exit: the restarted program installed its handler and saved a checkpoint.
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << status << "\n" << read_file(log);
  // config.json names the core that ran.
  const auto config = nlohmann::json::parse(read_file(dir + "/config.json"));
  EXPECT_EQ(config.at("platform").at("blas").at("core"), other_) << config.dump(2);
  EXPECT_EQ(config.at("platform").at("blas").at("vendor"), "OpenBLAS");
  EXPECT_FALSE(config.at("platform").at("cpu").at("vendor").get<std::string>().empty());
}

}  // namespace

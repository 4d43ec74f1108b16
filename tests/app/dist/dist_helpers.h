#pragma once
// Ranks of lstm-lab started by hand, as torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT set), or the --nproc launcher, each a child process the test can wait
// for with a deadline, signal, and read the stderr of. Tiny runs on loopback, on free ports.

#include "app/dist/free_port.h"
#include "app/platform/device.h"
#include "app/tasks/registry.h"
#include "app/train/checkpoint.h"
#include "app/train/run_config.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lstmlab::test {

/// Each lstm-lab these tests start loads LibTorch once, not twice: a set OPENBLAS_CORETYPE keeps the
/// start-up from executing itself again with the BLAS core that fits the CPU (app/platform/
/// blas_startup.h). Prescott runs on every x86-64 CPU; these runs are too small to mind its speed.
/// Called in each test, so that the other tests of the binary keep the user's environment.
inline void start_quickly() { ::setenv("OPENBLAS_CORETYPE", "Prescott", 0); }

inline std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// lstm-lab started with `args` (split at spaces: no quoting) and `env` added to this process's
/// environment; stdout to /dev/null, stderr to `err_path`.
class Child {
 public:
  Child(const std::string& args, const std::map<std::string, std::string>& env,
        std::string err_path)
      : err_path_(std::move(err_path)) {
    auto words = split_words(args);
    words.insert(words.begin(), LSTMLAB_BINARY);
    pid_ = ::fork();
    if (pid_ == 0) {
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      std::freopen("/dev/null", "w", stdout);
      std::freopen(err_path_.c_str(), "w", stderr);
      std::vector<char*> argv;
      for (auto& w : words) argv.push_back(w.data());
      argv.push_back(nullptr);
      ::execv(LSTMLAB_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (!status_ && pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  /// The exit status (-signal when a signal ended it), or none when `limit` passed first.
  std::optional<int> wait_for(std::chrono::duration<double> limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!status_) {
      int raw = 0;
      if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
        status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : -WTERMSIG(raw);
        break;
      }
      if (std::chrono::steady_clock::now() > end) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return status_;
  }
  std::string err() const { return slurp(err_path_); }

 private:
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// torchrun's variables for rank `rank` of `world` meeting on 127.0.0.1:`port`.
inline std::map<std::string, std::string> rank_env(int rank, int world, uint16_t port) {
  return {{"RANK", std::to_string(rank)},       {"WORLD_SIZE", std::to_string(world)},
          {"LOCAL_RANK", std::to_string(rank)}, {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}};
}

/// Waits until `path` exists (a rank has finished an epoch), at most `limit`.
inline bool wait_for_file(const std::string& path, std::chrono::duration<double> limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (std::ifstream(path).good()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

/// The weights a run directory's checkpoint holds, in float64, read into the model its
/// config.json builds.
inline std::vector<torch::Tensor> run_weights(const std::string& dir) {
  const auto config = read_run_config(dir);
  const auto task = make_task(config);
  auto model = task->make_model(config.model);
  model->to(parse_dtype(config.train.dtype));  // as the run saved it
  load_checkpoint(dir + "/checkpoint.pt", *model, nullptr);
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters()) out.push_back(p.detach().to(torch::kDouble).clone());
  return out;
}

}  // namespace lstmlab::test

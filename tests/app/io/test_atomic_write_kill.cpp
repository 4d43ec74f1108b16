// A kill at any byte of a write leaves a whole file: a child process writes checkpoint.pt (and a
// text file through AtomicFile) over and over, alternating two versions, and is killed with
// SIGKILL at drawn moments; the file must then be exactly one of the versions (or the one it had
// before). And a checkpoint cut at any byte, as a copy that stopped would leave it, is refused
// with one message naming it, never read as something else.

#include "app/io/atomic_file.h"
#include "app/tasks/registry.h"
#include "app/tasks/sine_task.h"
#include "app/train/checkpoint.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

lstmlab::RunConfig tiny_config() {
  lstmlab::RunConfig c;
  auto sine = lstmlab::sine_options(c);
  sine.points = 40;
  sine.seq_len = 4;
  lstmlab::set_sine_options(c, sine);
  c.model.hidden = 3;
  return c;
}

struct Versions {
  lstmlab::SequenceModelPtr model;
  std::unique_ptr<torch::optim::Adam> adam;
};

/// A model whose weights are all `value`, with an optimizer.
Versions version(const lstmlab::Task& task, double value) {
  Versions v;
  v.model = task.make_model(tiny_config().model);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : v.model->parameters()) p.fill_(value);
  }
  v.adam = std::make_unique<torch::optim::Adam>(v.model->parameters(), torch::optim::AdamOptions(0.01));
  return v;
}

lstmlab::CheckpointExtras extras() {
  lstmlab::CheckpointExtras e;
  e.position.epoch = 1;
  e.rng_state = at::detail::getDefaultCPUGenerator().get_state();
  e.history = torch::zeros({1, 7}, torch::kDouble);
  return e;
}

/// The value every weight of the checkpoint at `path` has, or NaN when they differ.
double loaded_value(const lstmlab::Task& task, const std::string& path) {
  auto m = task.make_model(tiny_config().model);
  lstmlab::load_checkpoint(path, *m, nullptr);
  const double first = m->parameters().front().flatten()[0].item<double>();
  for (const auto& p : m->parameters()) {
    if (!torch::all(p == first).item<bool>()) return std::nan("");
  }
  return first;
}

/// Forks a child that runs `write(k)` for k = 0, 1, 2, ... until killed; kills it after `delay`.
template <typename Write>
void kill_while_writing(Write write, std::chrono::microseconds delay) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    for (int k = 0;; ++k) write(k);
  }
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself: " << status;
}

class AtomicWriteKill : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = paths_.path("writes");
    fs::create_directories(dir_);
    at::set_num_threads(1);  // a forked child must not need the parent's thread pool
  }
  std::string dir_;
  lstmlab::test::TempPaths paths_;
};

TEST_F(AtomicWriteKill, ACheckpointKilledMidWriteIsTheOldOrTheNewNeverHalf) {
  const auto task = lstmlab::make_task(tiny_config());
  const auto path = dir_ + "/checkpoint.pt";
  auto a = version(*task, 0.25), b = version(*task, 0.5), c = version(*task, 0.75);
  lstmlab::save_checkpoint(path, *a.model, *a.adam, extras());
  std::mt19937 draw(7);
  std::uniform_int_distribution<int> micros(500, 40000);
  int torn_writes = 0;  // kills that left a temporary behind: they landed inside a write
  for (int kill = 0; kill < 12; ++kill) {
    kill_while_writing(
        [&](int k) {
          auto& v = k % 2 ? b : c;
          lstmlab::save_checkpoint(path, *v.model, *v.adam, extras());
        },
        std::chrono::microseconds(micros(draw)));
    torn_writes += fs::exists(path + ".tmp");
    double value = 0;
    ASSERT_NO_THROW(value = loaded_value(*task, path)) << "kill " << kill;
    EXPECT_TRUE(value == 0.25 || value == 0.5 || value == 0.75) << "kill " << kill << ": " << value;
  }
  std::cout << "[ kills ] 12 kills of a checkpoint writer, " << torn_writes
            << " inside a write (a temporary left behind); every checkpoint.pt whole\n";
}

TEST_F(AtomicWriteKill, AFileKilledMidWriteIsTheOldOrTheNewNeverHalf) {
  const auto path = dir_ + "/metrics.csv";
  // Large enough that a write takes many system calls.
  const std::string one(1 << 20, '1'), two(1 << 20, '2');
  lstmlab::write_file_atomically(path, "before");
  std::mt19937 draw(11);
  std::uniform_int_distribution<int> micros(200, 20000);
  for (int kill = 0; kill < 12; ++kill) {
    kill_while_writing([&](int k) { lstmlab::write_file_atomically(path, k % 2 ? one : two); },
                       std::chrono::microseconds(micros(draw)));
    const auto text = read_file(path);
    EXPECT_TRUE(text == "before" || text == one || text == two)
        << "kill " << kill << ": " << text.size() << " bytes of a torn file";
  }
}

TEST_F(AtomicWriteKill, ACheckpointCutAtAnyByteIsRefusedNamingTheFile) {
  const auto task = lstmlab::make_task(tiny_config());
  const auto whole = dir_ + "/whole.pt";
  auto a = version(*task, 0.25);
  lstmlab::save_checkpoint(whole, *a.model, *a.adam, extras());
  const auto bytes = read_file(whole);
  const auto cut = dir_ + "/cut.pt";
  // Every byte near the ends (headers, the zip's directory) and a stride through the middle.
  std::vector<size_t> lengths;
  for (size_t n = 0; n < bytes.size(); ++n) {
    if (n < 64 || n + 64 >= bytes.size() || n % 61 == 0) lengths.push_back(n);
  }
  for (const size_t n : lengths) {
    std::ofstream(cut, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(n));
    auto m = task->make_model(tiny_config().model);
    try {
      lstmlab::load_checkpoint(cut, *m, nullptr);
      ADD_FAILURE() << "a checkpoint cut at byte " << n << " of " << bytes.size() << " was read";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
  }
}

}  // namespace

// Crash anywhere, resume, and end where an uninterrupted run ends. For the sine, csv and text
// tasks, a tiny `lstm-lab train` is killed with SIGKILL (no handler runs, nothing is flushed) at
// points drawn from a fixed seed: a moment inside the training steps, while checkpoint.pt.tmp is
// being written, right after a checkpoint is published and before metrics.csv follows it, and
// while metrics.csv.tmp is written; each time `train --resume` goes on. The final weights must
// equal the uninterrupted run's bit for bit, and metrics.csv its losses and metrics exactly.
// The kills aim with inotify (the run directory's events) or a drawn delay; where each one landed
// is read from what it left (a temporary file, the epochs the checkpoint holds) and printed.

#include "app/tasks/registry.h"
#include "app/train/checkpoint.h"
#include "app/train/run_config.h"
#include "tests/cli_run.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kFixtures =
    (fs::path(__FILE__).parent_path().parent_path().parent_path() / "data/fixtures").string();

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Where a kill is aimed.
enum class KillAt {
  Step,             ///< a drawn moment of the training (steps, most of its time)
  CheckpointWrite,  ///< checkpoint.pt.tmp created or written to
  AfterCheckpoint,  ///< checkpoint.pt renamed into place: the epoch's end, metrics.csv not yet
  MetricsWrite,     ///< metrics.csv.tmp created
};

const char* describe(KillAt at) {
  switch (at) {
    case KillAt::Step: return "during a step";
    case KillAt::CheckpointWrite: return "during a checkpoint write";
    case KillAt::AfterCheckpoint: return "between epochs (checkpoint published, metrics.csv not)";
    case KillAt::MetricsWrite: return "during the metrics.csv write";
  }
  return "?";
}

/// The run directory's file events, read without blocking.
struct Watch {
  int fd = -1;
  int wd = -1;
  explicit Watch(const std::string& dir) {
    fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    wd = inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MODIFY | IN_MOVED_TO | IN_CLOSE_WRITE);
  }
  ~Watch() {
    if (fd >= 0) close(fd);
  }
  /// Reads what is there; true when an event on `name` of one of `mask` arrived.
  bool saw(const std::string& name, uint32_t mask) {
    alignas(inotify_event) char buffer[8192];
    bool hit = false;
    for (;;) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (char* p = buffer; p < buffer + n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(p);
        if ((e->mask & mask) && e->len > 0 && name == e->name) hit = true;
        p += sizeof(inotify_event) + e->len;
      }
    }
    return hit;
  }
};

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"lstm-lab"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, LSTMLAB_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

/// Exit status of `pid` if it has ended (-2 for a signal), else -1 without waiting.
int reap(pid_t pid, bool wait) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, wait ? 0 : WNOHANG);
  if (r == 0) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -2;
}

struct Landed {
  bool killed = false;      ///< false: the run ended before the kill point came
  std::string where;        ///< what the directory showed after the kill
};

/// Runs `args`, kills it at `at` (the `nth` such event, or `delay` into the training), and says
/// where the kill landed. `dir` is the run directory (made by the run for a fresh one).
Landed run_and_kill(const std::vector<std::string>& args, const std::string& dir, KillAt at,
                    int nth, double delay) {
  // The watch needs the directory: a fresh run makes it itself, so it is made here first (an
  // empty directory is what --out takes).
  fs::create_directories(dir);
  Watch watch(dir);
  const pid_t pid = spawn(args);
  EXPECT_GT(pid, 0);
  if (pid <= 0) return {};
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  // Training starts once config.json is there; a drawn delay counts from then.
  std::optional<Clock::time_point> training_since;
  int seen = 0;
  Landed landed;
  while (Clock::now() < deadline) {
    if (reap(pid, false) != -1) return landed;  // ended first
    if (!training_since && fs::exists(dir + "/config.json")) training_since = Clock::now();
    bool fire = false;
    switch (at) {
      case KillAt::Step:
        fire = training_since &&
               std::chrono::duration<double>(Clock::now() - *training_since).count() >= delay;
        break;
      case KillAt::CheckpointWrite:
        seen += watch.saw("checkpoint.pt.tmp", IN_CREATE | IN_MODIFY);
        fire = seen >= nth;
        break;
      case KillAt::AfterCheckpoint:
        seen += watch.saw("checkpoint.pt", IN_MOVED_TO);
        fire = seen >= nth;
        break;
      case KillAt::MetricsWrite:
        seen += watch.saw("metrics.csv.tmp", IN_CREATE | IN_MODIFY);
        fire = seen >= nth;
        break;
    }
    if (fire) {
      kill(pid, SIGKILL);
      landed.killed = reap(pid, true) == -2;
      break;
    }
    pollfd p{watch.fd, POLLIN, 0};
    poll(&p, 1, at == KillAt::Step ? 1 : 50);
  }
  if (!landed.killed) {
    kill(pid, SIGKILL);
    reap(pid, true);
    ADD_FAILURE() << "the run neither ended nor reached its kill point in time";
    return landed;
  }
  std::ostringstream where;
  for (const char* tmp : {"checkpoint.pt.tmp", "metrics.csv.tmp", "config.json.tmp"}) {
    if (fs::exists(dir + "/" + tmp)) where << tmp << " left at " << fs::file_size(dir + "/" + tmp) << " bytes; ";
  }
  where << (fs::exists(dir + "/checkpoint.pt") ? "a checkpoint to resume from" : "no checkpoint yet");
  landed.where = where.str();
  return landed;
}

/// metrics.csv without its timing columns (train_seconds, *_per_s), which no two runs share.
std::string metrics_without_timings(const std::string& dir) {
  std::istringstream in(read_file(dir + "/metrics.csv"));
  std::string out;
  std::vector<size_t> keep;
  bool header = true;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (header) {
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] != "train_seconds" && cells[i].find("_per_s") == std::string::npos) keep.push_back(i);
      }
      header = false;
    }
    for (const size_t i : keep) out += (i < cells.size() ? cells[i] : "?") + ",";
    out += "\n";
  }
  return out;
}

/// The run's final weights, read back through its checkpoint into the model its config builds.
std::vector<torch::Tensor> final_weights(const std::string& dir) {
  const auto config = lstmlab::read_run_config(dir);
  const auto task = lstmlab::make_task(config);
  auto model = task->make_model(config.model);
  model->to(config.train.dtype == "float64" ? torch::kDouble : torch::kFloat);
  lstmlab::load_checkpoint(dir + "/checkpoint.pt", *model, nullptr);
  return model->parameters();
}

struct CrashCase {
  std::string task;
  std::vector<std::string> flags;  ///< the run's flags, --out left out
};

void PrintTo(const CrashCase& c, std::ostream* out) { *out << c.task; }

class CrashResume : public ::testing::TestWithParam<CrashCase> {
 protected:
  lstmlab::test::TempPaths paths_;
};

TEST_P(CrashResume, KilledAnywhereAndResumedEndsBitForBitWhereAnUninterruptedRunEnds) {
  const auto& c = GetParam();
  const auto reference = paths_.path("reference");
  auto args = c.flags;
  args.insert(args.end(), {"--out", reference});
  // The uninterrupted run, timed from its config.json on: the span a drawn kill falls in.
  double training_seconds = 0;
  {
    const pid_t pid = spawn(args);
    ASSERT_GT(pid, 0);
    std::optional<Clock::time_point> since;
    int status = -1;
    while ((status = reap(pid, false)) == -1) {
      if (!since && fs::exists(reference + "/config.json")) since = Clock::now();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(status, 0) << "the uninterrupted run failed";
    if (since) training_seconds = std::chrono::duration<double>(Clock::now() - *since).count();
  }
  const auto expected_weights = final_weights(reference);
  const auto expected_metrics = metrics_without_timings(reference);

  // A fixed seed per task: the same kill points every run of the suite.
  std::mt19937 draw(static_cast<unsigned>(std::hash<std::string>{}(c.task) & 0xffff));
  std::uniform_int_distribution<int> epoch_of(1, 2);
  std::uniform_real_distribution<double> moment(0.0, 0.4 * training_seconds);
  const std::vector<KillAt> schedule = {KillAt::Step, KillAt::CheckpointWrite, KillAt::Step,
                                        KillAt::AfterCheckpoint, KillAt::MetricsWrite,
                                        KillAt::CheckpointWrite};
  const auto dir = paths_.path("crashed");
  auto first = c.flags;
  first.insert(first.end(), {"--out", dir});
  const std::vector<std::string> resume = {"train", "--resume", dir, "--quiet", "--no-plots"};
  int landed_count = 0;
  for (size_t k = 0; k < schedule.size(); ++k) {
    const auto at = schedule[k];
    const int nth = epoch_of(draw);
    const double delay = moment(draw);
    const auto landed = run_and_kill(k == 0 ? first : resume, dir, at, nth, delay);
    std::cout << "[ kill " << k + 1 << " ] " << c.task << ": aimed " << describe(at);
    if (at == KillAt::Step) std::cout << " (" << delay << " s into training)";
    else std::cout << " (occurrence " << nth << ")";
    std::cout << ": " << (landed.killed ? "killed; " + landed.where : "the run ended first") << "\n";
    landed_count += landed.killed;
    if (!landed.killed) break;
  }
  EXPECT_GE(landed_count, 2) << "too few kills landed to test anything";
  // Resumed to the end, however many times it was cut.
  const pid_t pid = spawn(resume);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(reap(pid, true), 0) << "the last resume failed";
  EXPECT_FALSE(fs::exists(dir + "/checkpoint.pt.tmp")) << "a finished run left a temporary file";
  EXPECT_TRUE(fs::exists(dir + "/summary.json"));
  EXPECT_EQ(metrics_without_timings(dir), expected_metrics);
  const auto weights = final_weights(dir);
  ASSERT_EQ(weights.size(), expected_weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_TRUE(torch::equal(weights[i], expected_weights[i]))
        << "parameter " << i << " differs by up to "
        << (weights[i] - expected_weights[i]).abs().max().item<double>();
  }
}

std::string text_corpus() {
  static const std::string path = [] {
    const auto p = (fs::temp_directory_path() / ("lstmlab_crash_corpus_" + std::to_string(getpid()) + ".txt")).string();
    std::ofstream out(p);
    for (int i = 0; i < 12; ++i) out << "the time traveller held his glass and spoke of the fourth dimension. ";
    return p;
  }();
  return path;
}

const std::vector<std::string> kCommon = {"--quiet", "--no-plots", "--threads", "1"};

std::vector<std::string> with_common(std::vector<std::string> flags) {
  flags.insert(flags.begin(), "train");
  flags.insert(flags.end(), kCommon.begin(), kCommon.end());
  return flags;
}

INSTANTIATE_TEST_SUITE_P(
    Tasks, CrashResume,
    ::testing::Values(
        // Two layers with dropout and a shuffled order: the RNG state and the epoch's order must
        // come back from the checkpoint too.
        CrashCase{"sine", with_common({"--task", "sine", "--points", "240", "--seq-len", "8",
                                       "--hidden", "6", "--layers", "2", "--dropout", "0.25",
                                       "--batch-size", "8", "--shuffle", "--epochs", "8"})},
        CrashCase{"csv", with_common({"--task", "csv", "--csv",
                                      kFixtures + "/pollution_head300.csv", "--target",
                                      "pollution", "--ignore", "date", "--categorical",
                                      "wnd_dir", "--train-rows", "200", "--val-fraction", "0.1",
                                      "--hidden", "6", "--batch-size", "10", "--epochs", "8"})},
        // Sequential windows carry the recurrent state from batch to batch.
        CrashCase{"text", with_common({"--task", "text", "--text", text_corpus(), "--seq-len", "8",
                                       "--windows", "sequential", "--hidden", "8",
                                       "--batch-size", "4", "--epochs", "8"})}),
    [](const ::testing::TestParamInfo<CrashCase>& param_info) { return param_info.param.task; });

}  // namespace

// What a user sees when a data-parallel run goes wrong: a rank killed or stopped mid-run ends the
// others within a bounded time, with a message naming it; a busy port, a master nobody serves and a
// backend this build lacks are one line each; and half of torchrun's contract is refused.

#include "app/dist/communicator.h"
#include "tests/app/dist/dist_helpers.h"
#include "tests/cli_run.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <dirent.h>
#include <string>

namespace {

using lstmlab::test::Child;
using lstmlab::test::lstm_lab;
using lstmlab::test::rank_env;
using namespace std::chrono_literals;

// Many short epochs: a run that is still going when the test strikes.
const std::string kLong = "train --task sine --points 60 --seq-len 5 --hidden 3 --epochs 100000 "
                          "--batch-size 8 --threads 1 --quiet --no-plots";

int lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(DistFaults, AKilledRankEndsTheOtherWithAMessageNamingIt) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const auto dir = paths.path("run");
  const auto port = lstmlab::free_local_port();
  Child r0(kLong + " --out " + dir, rank_env(0, 2, port), paths.path("r0.err"));
  Child r1(kLong + " --out " + dir, rank_env(1, 2, port), paths.path("r1.err"));
  ASSERT_TRUE(lstmlab::test::wait_for_file(dir + "/metrics.csv", 60s)) << r0.err() << r1.err();
  r1.signal(SIGKILL);
  const auto start = std::chrono::steady_clock::now();
  const auto status = r0.wait_for(20s);
  ASSERT_TRUE(status.has_value()) << "rank 0 still running 20 s after rank 1 was killed";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(*status, 1);
  const auto err = r0.err();
  EXPECT_NE(err.find("rank 1 stopped responding"), std::string::npos) << err;
  EXPECT_EQ(lines(err), 1) << err;
}

TEST(DistFaults, AStoppedRankEndsTheOtherWithinTheTimeout) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const auto dir = paths.path("run");
  const auto port = lstmlab::free_local_port();
  const auto args = kLong + " --dist-timeout 2 --out " + dir;
  Child r0(args, rank_env(0, 2, port), paths.path("r0.err"));
  Child r1(args, rank_env(1, 2, port), paths.path("r1.err"));
  ASSERT_TRUE(lstmlab::test::wait_for_file(dir + "/metrics.csv", 60s)) << r0.err() << r1.err();
  r1.signal(SIGSTOP);  // hangs: its sockets stay open
  const auto start = std::chrono::steady_clock::now();
  const auto status = r0.wait_for(30s);
  r1.signal(SIGKILL);
  ASSERT_TRUE(status.has_value()) << "rank 0 still running 30 s after rank 1 stopped";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
  EXPECT_EQ(*status, 1);
  EXPECT_NE(r0.err().find("rank 1 stopped responding"), std::string::npos) << r0.err();
}

// The launcher's children, found through /proc.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  for (dirent* e; proc && (e = readdir(proc));) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(pid);
  }
  if (proc) closedir(proc);
  return out;
}

TEST(DistFaults, TheLauncherEndsEveryRankWhenOneIsKilledAndNamesIt) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const auto dir = paths.path("run");
  Child launcher(kLong + " --nproc 2 --out " + dir, {}, paths.path("launcher.err"));
  ASSERT_TRUE(lstmlab::test::wait_for_file(dir + "/metrics.csv", 60s)) << launcher.err();
  const auto ranks = children_of(launcher.pid());
  ASSERT_EQ(ranks.size(), 2u);
  // The rank that is not rank 0: its environment says RANK=1.
  pid_t victim = -1;
  for (const auto pid : ranks) {
    const auto env = lstmlab::test::slurp("/proc/" + std::to_string(pid) + "/environ");
    const std::string entry("\0RANK=1\0", 8);
    if (env.rfind(entry.substr(1), 0) == 0 || env.find(entry) != std::string::npos) {
      victim = pid;
    }
  }
  ASSERT_GT(victim, 0);
  kill(victim, SIGKILL);
  const auto status = launcher.wait_for(20s);
  ASSERT_TRUE(status.has_value()) << "the launcher still runs 20 s after rank 1 was killed";
  EXPECT_EQ(*status, 1);
  const auto err = launcher.err();
  EXPECT_NE(err.find("rank 1 (pid " + std::to_string(victim) + ") was ended by signal 9"),
            std::string::npos)
      << err;
  for (const auto pid : ranks) EXPECT_NE(kill(pid, 0), 0) << "rank pid " << pid << " outlived the launcher";
}

TEST(DistFaults, ABusyPortIsOneLine) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto port = ntohs(addr.sin_port);
  Child r0(kLong + " --dist-timeout 3 --out " + paths.path("run"), rank_env(0, 2, port),
           paths.path("r0.err"));
  const auto status = r0.wait_for(20s);
  close(fd);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  EXPECT_NE(r0.err().find("MASTER_PORT " + std::to_string(port) + " is busy"), std::string::npos)
      << r0.err();
  EXPECT_EQ(lines(r0.err()), 1) << r0.err();
}

TEST(DistFaults, AMasterNobodyServesIsOneLineWithinTheTimeout) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const auto port = lstmlab::free_local_port();
  Child r1(kLong + " --dist-timeout 1", rank_env(1, 2, port), paths.path("r1.err"));
  const auto status = r1.wait_for(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  EXPECT_NE(r1.err().find("rank 1: cannot reach the master at 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r1.err();
  EXPECT_EQ(lines(r1.err()), 1) << r1.err();
}

TEST(DistFaults, RefusalsAreOneLineBeforeAnyRankStarts) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const auto dir = paths.path("run");
  // NCCL: refused where the build lacks it, and where no GPU is visible to a build that has it.
  const auto backends = lstmlab::available_backends();
  const bool nccl_built = std::find(backends.begin(), backends.end(), "nccl") != backends.end();
  auto o = lstm_lab(kLong + " --nproc 2 --dist-backend nccl --out '" + dir + "'", true);
  if (!nccl_built || !torch::cuda::is_available()) {
    EXPECT_EQ(o.status, 2);
    EXPECT_NE(o.output.find(nccl_built ? "--dist-backend nccl: no CUDA device is visible"
                                       : "--dist-backend nccl: this lstm-lab was built against a "
                                         "LibTorch without NCCL"),
              std::string::npos)
        << o.output;
  }
  o = lstm_lab(kLong + " --nproc 0", true);
  EXPECT_NE(o.output.find("--nproc must be at least 1"), std::string::npos) << o.output;
  o = lstm_lab("train --task sine --nproc 2 --dist-timeout 0", true);
  EXPECT_NE(o.output.find("--dist-timeout must be a positive"), std::string::npos) << o.output;
  // A rank's own failure (its data cannot be read) comes back prefixed, then named last.
  o = lstm_lab("train --task text --text /nonexistent --nproc 2 --out '" + dir + "'", true);
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.output.find("] lstm-lab train: "), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("/nonexistent"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("lstm-lab train: rank "), std::string::npos) << o.output;
}

TEST(DistFaults, HalfOfTorchrunsContractIsRefused) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  Child c(kLong, {{"RANK", "0"}}, paths.path("c.err"));
  ASSERT_EQ(c.wait_for(20s), 2);
  EXPECT_NE(c.err().find("RANK is set but WORLD_SIZE is not"), std::string::npos) << c.err();
  Child d(kLong, {{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}}, paths.path("d.err"));
  ASSERT_EQ(d.wait_for(20s), 2);
  EXPECT_NE(d.err().find("RANK='2': expected a whole number in [0, 1]"), std::string::npos) << d.err();
  Child e(kLong + " --nproc 2", rank_env(0, 2, 1), paths.path("e.err"));
  ASSERT_EQ(e.wait_for(20s), 2);
  EXPECT_NE(e.err().find("--nproc: this process is already rank 0 of 2"), std::string::npos) << e.err();
}

}  // namespace

#include "app/dist/local_launcher.h"

#include "app/dist/free_port.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <thread>

namespace lstmlab {
namespace {

std::atomic<int> g_interrupts{0};

extern "C" void count_interrupt(int) { g_interrupts.fetch_add(1); }

struct Rank {
  int index = 0;
  pid_t pid = -1;
  int err_fd = -1;       ///< read end of its stderr; -1 once closed
  std::string partial;   ///< a line not yet ended
  std::string last_line; ///< the last whole line it wrote
  std::optional<int> wait_status;
};

std::string describe_exit(const Rank& r) {
  const int s = *r.wait_status;
  if (WIFSIGNALED(s)) {
    return fmt::format("rank {} (pid {}) was ended by signal {} ({})", r.index, r.pid, WTERMSIG(s),
                       strsignal(WTERMSIG(s)));
  }
  return fmt::format("rank {} (pid {}) exited with status {}", r.index, r.pid, WEXITSTATUS(s));
}

bool failed(const Rank& r) {
  return r.wait_status && !(WIFEXITED(*r.wait_status) && WEXITSTATUS(*r.wait_status) == 0);
}

[[noreturn]] void exec_rank(const LaunchRequest& request, int index, int err_write,
                            const std::string& addr, const std::string& port) {
  ::setpgid(0, 0);  // the terminal's Ctrl-C reaches the launcher alone, which hands it on once
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::dup2(err_write, STDERR_FILENO);
  ::close(err_write);
  ::setenv("RANK", std::to_string(index).c_str(), 1);
  ::setenv("LOCAL_RANK", std::to_string(index).c_str(), 1);
  ::setenv("WORLD_SIZE", std::to_string(request.nproc).c_str(), 1);
  ::setenv("LOCAL_WORLD_SIZE", std::to_string(request.nproc).c_str(), 1);
  ::setenv("MASTER_ADDR", addr.c_str(), 1);
  ::setenv("MASTER_PORT", port.c_str(), 1);
  std::vector<std::string> args = {"lstm-lab"};
  args.insert(args.end(), request.args.begin(), request.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  const auto message = fmt::format("lstm-lab: cannot start rank {}: {}\n", index, std::strerror(errno));
  (void)!::write(STDERR_FILENO, message.data(), message.size());
  ::_exit(127);
}

}  // namespace

int launch_local_ranks(const LaunchRequest& request, std::ostream& err) {
  const char* env_addr = std::getenv("MASTER_ADDR");
  const char* env_port = std::getenv("MASTER_PORT");
  const std::string addr = env_addr && *env_addr ? env_addr : "127.0.0.1";
  const std::string port =
      env_port && *env_port ? env_port : std::to_string(free_local_port());

  struct sigaction on{}, old_int{}, old_term{};
  on.sa_handler = count_interrupt;
  sigemptyset(&on.sa_mask);
  g_interrupts = 0;
  ::sigaction(SIGINT, &on, &old_int);
  ::sigaction(SIGTERM, &on, &old_term);

  std::vector<Rank> ranks(static_cast<size_t>(request.nproc));
  err.flush();
  for (int i = 0; i < request.nproc; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("--nproc: cannot make a pipe");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("--nproc: cannot start rank {}", i));
    if (pid == 0) {
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      ::close(fds[0]);
      exec_rank(request, i, ::dup(fds[1]), addr, port);
    }
    ::close(fds[1]);
    ranks[static_cast<size_t>(i)] = Rank{i, pid, fds[0], {}, {}, std::nullopt};
  }

  const auto send_all = [&](int sig) {
    for (const auto& r : ranks) {
      if (!r.wait_status) ::kill(r.pid, sig);
    }
  };
  std::optional<size_t> first_failure;
  int interrupts_sent = 0;
  auto kill_deadline = std::chrono::steady_clock::time_point::max();
  const auto emit = [&](Rank& r, const std::string& line) {
    r.last_line = line;
    // After a failure the others' lines are their reaction to it: the failed rank's line is the news.
    if (!first_failure || *first_failure == static_cast<size_t>(r.index)) {
      err << "[rank " << r.index << "] " << line << "\n" << std::flush;
    }
  };
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<size_t> owner;
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i].err_fd >= 0) {
        fds.push_back({ranks[i].err_fd, POLLIN, 0});
        owner.push_back(i);
      }
    }
    const bool all_exited =
        std::all_of(ranks.begin(), ranks.end(), [](const Rank& r) { return r.wait_status.has_value(); });
    if (fds.empty() && all_exited) break;
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 100);
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& r = ranks[owner[k]];
      char buffer[4096];
      const ssize_t n = ::read(r.err_fd, buffer, sizeof buffer);
      if (n <= 0) {
        if (!r.partial.empty()) emit(r, r.partial);
        r.partial.clear();
        ::close(r.err_fd);
        r.err_fd = -1;
        continue;
      }
      r.partial.append(buffer, static_cast<size_t>(n));
      for (size_t nl; (nl = r.partial.find('\n')) != std::string::npos;) {
        emit(r, r.partial.substr(0, nl));
        r.partial.erase(0, nl + 1);
      }
    }
    // Reap; a rank a signal ended is the likelier cause than one that reported the broken link.
    std::vector<size_t> now_failed;
    for (size_t i = 0; i < ranks.size(); ++i) {
      auto& r = ranks[i];
      if (r.wait_status) continue;
      int status = 0;
      if (::waitpid(r.pid, &status, WNOHANG) == r.pid) {
        r.wait_status = status;
        if (failed(r)) now_failed.push_back(i);
      }
    }
    if (!first_failure && !now_failed.empty() && g_interrupts == 0) {
      first_failure = now_failed.front();
      for (const auto i : now_failed) {
        if (WIFSIGNALED(*ranks[i].wait_status)) first_failure = i;
      }
      send_all(SIGTERM);
      kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    if (std::chrono::steady_clock::now() > kill_deadline) send_all(SIGKILL);
    for (; interrupts_sent < g_interrupts; ++interrupts_sent) send_all(SIGINT);
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);

  if (first_failure) {
    const auto& r = ranks[*first_failure];
    err << fmt::format("lstm-lab train: {}{}; the other ranks were stopped\n", describe_exit(r),
                       r.last_line.empty() || WIFSIGNALED(*r.wait_status) ? "" : ": " + r.last_line);
    return WIFEXITED(*r.wait_status) ? WEXITSTATUS(*r.wait_status) : 1;
  }
  int status = 0;
  for (const auto& r : ranks) {
    const int code = WIFEXITED(*r.wait_status) ? WEXITSTATUS(*r.wait_status) : 1;
    if (code != 0 && status == 0) status = code;
  }
  return g_interrupts > 0 && status != 0 ? 130 : status;
}

}  // namespace lstmlab

#pragma once
// Which rank is to blame when a collective fails. Every rank bumps a counter of its own in the
// rendezvous store a few times a second from a thread of its own, and a rank that fails leaves its
// message there before it exits. A rank whose collective broke (a peer's socket closed, or the
// timeout ran out) then reads the counters twice: a rank whose counter stands still is dead or
// stopped; a rank with a message failed and says why; a store that cannot be reached means rank 0,
// which holds it, is gone.

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace lstmlab {

class PeerWatch {
 public:
  /// Starts beating at once. `where` ("127.0.0.1:29500") names the store in messages.
  PeerWatch(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size, std::string where,
            std::chrono::milliseconds period = std::chrono::milliseconds(250));
  ~PeerWatch();
  PeerWatch(const PeerWatch&) = delete;
  PeerWatch& operator=(const PeerWatch&) = delete;

  /// Stops the beating thread (before the last collective, so the store is not used after it).
  void stop();
  /// Leaves this rank's message for the others (best effort: the store may be gone).
  void report_failure(const std::string& message);
  /// One clause naming the ranks that failed or stopped beating ("rank 1 stopped responding
  /// (killed, or stopped)"); waits a few periods to see the counters move.
  std::string diagnose();

 private:
  void beat_loop();
  std::string key(const char* what, int rank) const;

  c10::intrusive_ptr<c10d::Store> store_;
  int rank_;
  int world_size_;
  std::string where_;
  std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lstmlab

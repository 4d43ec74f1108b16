#include "app/dist/peer_watch.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

namespace lstmlab {

PeerWatch::PeerWatch(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size,
                     std::string where, std::chrono::milliseconds period)
    : store_(std::move(store)),
      rank_(rank),
      world_size_(world_size),
      where_(std::move(where)),
      period_(period) {
  thread_ = std::thread([this] { beat_loop(); });
}

PeerWatch::~PeerWatch() { stop(); }

void PeerWatch::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string PeerWatch::key(const char* what, int rank) const {
  return fmt::format("lstmlab/{}/{}", what, rank);
}

void PeerWatch::beat_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      store_->add(key("beat", rank_), 1);
    } catch (const std::exception&) {
      return;  // the store is gone: diagnose() says so when a collective fails
    }
    lock.lock();
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

void PeerWatch::report_failure(const std::string& message) {
  try {
    const std::vector<uint8_t> bytes(message.begin(), message.end());
    store_->set(key("failed", rank_), bytes);
  } catch (const std::exception&) {
    // The store went with rank 0: the others learn that instead.
  }
}

std::string PeerWatch::diagnose() {
  try {
    const auto read_beats = [&] {
      std::vector<int64_t> beats;
      for (int r = 0; r < world_size_; ++r) beats.push_back(store_->add(key("beat", r), 0));
      return beats;
    };
    std::vector<std::string> failed;
    const auto before = read_beats();
    std::this_thread::sleep_for(period_ * 5);
    const auto after = read_beats();
    std::vector<int> silent;
    for (int r = 0; r < world_size_; ++r) {
      if (r == rank_) continue;
      if (store_->check({key("failed", r)})) {
        const auto bytes = store_->get(key("failed", r));
        failed.push_back(fmt::format("rank {} failed: {}", r, std::string(bytes.begin(), bytes.end())));
      } else if (after[static_cast<size_t>(r)] == before[static_cast<size_t>(r)]) {
        silent.push_back(r);
      }
    }
    if (!silent.empty()) {
      failed.push_back(fmt::format("rank{} {} stopped responding (killed, crashed or stopped)",
                                   silent.size() > 1 ? "s" : "", fmt::join(silent, ", ")));
    }
    if (failed.empty()) return "every other rank is still running (one may be stuck in its work)";
    return fmt::format("{}", fmt::join(failed, "; "));
  } catch (const std::exception&) {
    if (rank_ == 0) return "the rendezvous store failed";
    return fmt::format("rank 0 is gone (its rendezvous store at {} no longer answers)", where_);
  }
}

}  // namespace lstmlab

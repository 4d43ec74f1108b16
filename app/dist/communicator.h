#pragma once
// The ranks of a data-parallel run and the collectives they run, on PyTorch's own distributed
// engine (c10d): a TCPStore on rank 0 where the ranks meet, and a process group over it, Gloo for
// CPU tensors or NCCL for CUDA ones where the LibTorch was built with it. Every collective waits at
// most the timeout; a failure is one DistError naming what was being exchanged and which rank
// is to blame (app/dist/peer_watch.h).

#include "app/dist/dist_env.h"

#include <torch/types.h>
#include <torch/version.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace c10d {
class Backend;
class ProcessGroup;
class Store;
}  // namespace c10d

namespace lstmlab {

class PeerWatch;

/// A collective, the rendezvous or a peer failed; the message is one line that starts with this
/// rank ("rank 0: ...").
class DistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommOptions {
  std::string backend = "gloo";  ///< gloo or nccl (--dist-backend)
  std::chrono::milliseconds timeout{60000};  ///< the rendezvous and every collective (--dist-timeout)
};

/// "gloo", and "nccl" where this LibTorch has it.
std::vector<std::string> available_backends();
/// Throws std::invalid_argument naming --dist-backend for a backend this build cannot run.
void check_backend(const std::string& backend);

class Communicator {
 public:
  /// Meets the other ranks: rank 0 serves the store at MASTER_ADDR:MASTER_PORT and waits for
  /// the rest; the others connect to it. Throws DistError for a busy port, a master that cannot be
  /// reached, or ranks that do not all arrive within the timeout.
  Communicator(const DistEnv& env, const CommOptions& options);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return env_.rank; }
  int size() const { return env_.world_size; }
  const std::string& backend() const { return options_.backend; }
  const DistEnv& env() const { return env_; }
  std::chrono::milliseconds timeout() const { return options_.timeout; }

  /// Sums `tensor` (contiguous) over the ranks, in place. `what` names it in errors ("the
  /// gradients (epoch 2, step 5)").
  void all_reduce_sum(torch::Tensor& tensor, const std::string& what);
  /// Rank `root`'s `tensor` into every rank's, in place.
  void broadcast(torch::Tensor& tensor, int root, const std::string& what);
  /// Every rank's `tensor` (the same shape on each), in rank order.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor, const std::string& what);
  /// Waits for every rank; called last, so that rank 0's store outlives every use of it.
  void finish();
  /// Leaves this rank's failure for the other ranks to report.
  void report_failure(const std::string& message);

 private:
  [[noreturn]] void fail(const std::string& what, const std::exception& e);

  DistEnv env_;
  CommOptions options_;
  c10::intrusive_ptr<c10d::Store> store_;
  // LibTorch 2.x made ProcessGroupGloo and ProcessGroupNCCL backends behind a ProcessGroup.
#if TORCH_VERSION_MAJOR >= 2
  c10::intrusive_ptr<c10d::Backend> group_;
#else
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
#endif
  std::unique_ptr<PeerWatch> watch_;
  bool finished_ = false;
};

}  // namespace lstmlab

#include "app/dist/communicator.h"

#include "app/dist/peer_watch.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/cuda.h>
#ifdef LSTMLAB_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <dlfcn.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace lstmlab {
namespace {

std::string first_line(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10 ? c10->what_without_backtrace() : e.what();
  const auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

bool mentions(const std::string& text, const char* what) {
  return text.find(what) != std::string::npos;
}

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

// NCCL reduces CUDA tensors only: a CPU tensor (a loss sum, a count) travels through the GPU.
torch::Tensor on_backend(const torch::Tensor& t, const std::string& backend) {
  return backend == "nccl" && !t.is_cuda() ? t.to(torch::kCUDA) : t;
}

// c10d's sockets log every failed bind and connect attempt before they throw; the one line made
// from the exception says it all, so the logs are held at FATAL while the ranks meet: glog's
// FLAGS_minloglevel where LibTorch logs through glog (Debian's 1.13), c10's own
// FLAGS_caffe2_log_level, which also gates c10d's messages, where it does not (LibTorch 2.x). The
// flags are looked up in the process, so a LibTorch without one needs nothing.
class QuietLogs {
 public:
  QuietLogs() {
    for (const char* symbol : {"_ZN3fLI17FLAGS_minloglevelE", "FLAGS_caffe2_log_level"}) {
      if (auto* level = static_cast<int*>(::dlsym(RTLD_DEFAULT, symbol))) {
        saved_.emplace_back(level, std::exchange(*level, 3));
      }
    }
  }
  ~QuietLogs() {
    for (const auto& [level, value] : saved_) *level = value;
  }
  QuietLogs(const QuietLogs&) = delete;
  QuietLogs& operator=(const QuietLogs&) = delete;

 private:
  std::vector<std::pair<int*, int>> saved_;
};

}  // namespace

std::vector<std::string> available_backends() {
#ifdef LSTMLAB_WITH_NCCL
  return {"gloo", "nccl"};
#else
  return {"gloo"};
#endif
}

void check_backend(const std::string& backend) {
  const auto names = available_backends();
  if (std::find(names.begin(), names.end(), backend) != names.end()) {
    if (backend == "nccl" && !torch::cuda::is_available()) {
      throw std::invalid_argument(
          "--dist-backend nccl: no CUDA device is visible to this process, and NCCL reduces CUDA "
          "tensors only; use --dist-backend gloo here, or run on a GPU machine");
    }
    return;
  }
  if (backend == "nccl") {
    throw std::invalid_argument(
        "--dist-backend nccl: this lstm-lab was built against a LibTorch without NCCL (Debian's "
        "libtorch-dev is CPU only); use --dist-backend gloo, or build against a CUDA LibTorch");
  }
  throw std::invalid_argument(fmt::format("--dist-backend '{}' is not a backend (allowed: {})",
                                          backend, fmt::join(names, ", ")));
}

Communicator::Communicator(const DistEnv& env, const CommOptions& options)
    : env_(env), options_(options) {
  check_backend(options_.backend);
  const auto where = fmt::format("{}:{}", env_.master_addr, env_.master_port);
  QuietLogs quiet;
  try {
    c10d::TCPStoreOptions o;
    o.port = env_.master_port;
    o.isServer = env_.rank == 0;
    o.numWorkers = static_cast<size_t>(env_.world_size);
    o.waitWorkers = true;
    o.timeout = options_.timeout;
    store_ = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, o);
  } catch (const std::exception& e) {
    const auto text = first_line(e);
    if (env_.rank == 0 && (mentions(text, "in use") || mentions(text, "EADDRINUSE"))) {
      throw DistError(fmt::format(
          "rank 0: MASTER_PORT {} is busy on {} (another run or program holds it): choose another "
          "port (MASTER_PORT=..., or --nproc picks a free one when MASTER_PORT is unset)",
          env_.master_port, env_.master_addr));
    }
    if (env_.rank == 0 && (mentions(text, "clients joined") || mentions(text, "waiting for"))) {
      throw DistError(fmt::format(
          "rank 0: not every one of the {} ranks reached the store at {} within {:g} s "
          "(--dist-timeout): start every rank with the same WORLD_SIZE, MASTER_ADDR and MASTER_PORT ({})",
          env_.world_size, where, seconds(options_.timeout), text));
    }
    if (env_.rank == 0) {
      throw DistError(fmt::format("rank 0: cannot serve the rendezvous store at {}: {}", where, text));
    }
    throw DistError(fmt::format(
        "rank {}: cannot reach the master at {} within {:g} s (--dist-timeout): is rank 0 running "
        "there with the same MASTER_PORT, and is the port open? ({})",
        env_.rank, where, seconds(options_.timeout), text));
  }
  try {
    // The group's keys under a prefix of their own; PeerWatch's beside them.
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("lstmlab/group", store_);
    if (options_.backend == "gloo") {
      auto o = c10d::ProcessGroupGloo::Options::create(options_.timeout);
      // Loopback for a one-machine run; otherwise the interface the master is reached through.
      const bool local = env_.master_addr == "127.0.0.1" || env_.master_addr == "localhost";
      o->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                 : c10d::ProcessGroupGloo::createDefaultDevice());
      o->threads = 1;
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env_.rank, env_.world_size, o);
    } else {
#ifdef LSTMLAB_WITH_NCCL
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = options_.timeout;
      group_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, env_.rank, env_.world_size, o);
#endif
    }
  } catch (const std::exception& e) {
    throw DistError(fmt::format("rank {}: the {} process group could not connect the ranks: {}",
                                env_.rank, options_.backend, first_line(e)));
  }
  watch_ = std::make_unique<PeerWatch>(store_, env_.rank, env_.world_size, where);
}

Communicator::~Communicator() {
  if (watch_) watch_->stop();
}

void Communicator::fail(const std::string& what, const std::exception& e) {
  const auto blame = watch_ ? watch_->diagnose() : std::string("no diagnosis");
  throw DistError(fmt::format("rank {}: exchanging {} failed: {} ({}: {})", env_.rank, what, blame,
                              options_.backend, first_line(e)));
}

void Communicator::all_reduce_sum(torch::Tensor& tensor, const std::string& what) {
  std::vector<torch::Tensor> tensors = {on_backend(tensor, options_.backend)};
  try {
    c10d::AllreduceOptions o;
    o.timeout = options_.timeout;
    group_->allreduce(tensors, o)->wait(options_.timeout);
  } catch (const std::exception& e) {
    fail(what, e);
  }
  if (!tensors[0].is_same(tensor)) tensor.copy_(tensors[0]);
}

void Communicator::broadcast(torch::Tensor& tensor, int root, const std::string& what) {
  std::vector<torch::Tensor> tensors = {on_backend(tensor, options_.backend)};
  try {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.timeout = options_.timeout;
    group_->broadcast(tensors, o)->wait(options_.timeout);
  } catch (const std::exception& e) {
    fail(what, e);
  }
  if (!tensors[0].is_same(tensor)) tensor.copy_(tensors[0]);
}

std::vector<torch::Tensor> Communicator::all_gather(const torch::Tensor& tensor,
                                                    const std::string& what) {
  std::vector<torch::Tensor> inputs = {on_backend(tensor.contiguous(), options_.backend)};
  std::vector<std::vector<torch::Tensor>> outputs(1);
  for (int r = 0; r < env_.world_size; ++r) outputs[0].push_back(torch::empty_like(inputs[0]));
  try {
    c10d::AllgatherOptions o;
    o.timeout = options_.timeout;
    group_->allgather(outputs, inputs, o)->wait(options_.timeout);
  } catch (const std::exception& e) {
    fail(what, e);
  }
  for (auto& t : outputs[0]) t = t.to(tensor.device());
  return outputs[0];
}

void Communicator::finish() {
  if (finished_) return;
  finished_ = true;
  watch_->stop();
  auto done = torch::zeros({1}, torch::kDouble);
  all_reduce_sum(done, "the end of the run");
}

void Communicator::report_failure(const std::string& message) {
  if (watch_) watch_->report_failure(message);
}

}  // namespace lstmlab

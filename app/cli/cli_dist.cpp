#include "app/cli/dist_flags.h"

#include "app/dist/dist_env.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>
#include <thread>

namespace lstmlab {

void add_dist_flags(cxxopts::Options& options) {
  options.add_options("distributed")
      ("nproc", "start N ranks of this run on this machine, data-parallel over c10d (as torchrun "
                "--nproc-per-node N starts them); --batch-size is the global batch",
       cxxopts::value<int>())
      ("dist-backend", "the c10d backend: " + fmt::format("{}", fmt::join(available_backends(), ", ")) +
                       " (gloo: CPU tensors; nccl: CUDA, in a LibTorch built with it)",
       cxxopts::value<std::string>()->default_value("gloo"))
      ("dist-timeout", "seconds a rank waits for the others, at the rendezvous and in every "
                       "collective, before it stops naming the rank at fault",
       cxxopts::value<double>()->default_value("60"));
}

std::vector<std::string> rank_arguments(int argc, const char* const* argv, int nproc) {
  std::vector<std::string> args;
  bool threads = false;
  for (int i = 0; i < argc; ++i) {  // argv[0] is the command, "train"
    const std::string a = argv[i];
    if (a == "--nproc") {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--nproc=", 0) == 0) continue;
    if (a == "--threads" || a.rfind("--threads=", 0) == 0) threads = true;
    args.push_back(a);
  }
  if (!threads) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    args.push_back("--threads");
    args.push_back(std::to_string(std::max(1, cores / nproc)));
  }
  return args;
}

std::shared_ptr<Communicator> join_ranks(const cxxopts::ParseResult& flags) {
  const auto env = dist_env_from_environment();
  const auto backend = flags["dist-backend"].as<std::string>();
  check_backend(backend);
  const double timeout = flags["dist-timeout"].as<double>();
  if (!(timeout > 0) || !std::isfinite(timeout)) {
    throw std::invalid_argument(fmt::format("--dist-timeout must be a positive number of seconds, got {}", timeout));
  }
  if (!env) return nullptr;
  CommOptions options;
  options.backend = backend;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::llround(timeout * 1000)));
  return std::make_shared<Communicator>(*env, options);
}

}  // namespace lstmlab

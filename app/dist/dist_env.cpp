#include "app/dist/dist_env.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace lstmlab {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

int64_t number(const char* name, const std::string& text, int64_t low, int64_t high) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || value < low || value > high) {
    throw std::invalid_argument(fmt::format("{}='{}': expected a whole number in [{}, {}]", name,
                                            text, low, high));
  }
  return value;
}

}  // namespace

std::optional<DistEnv> dist_env_from_environment() {
  const auto rank = variable("RANK");
  const auto world = variable("WORLD_SIZE");
  const auto slurm_rank = variable("SLURM_PROCID");
  const auto slurm_world = variable("SLURM_NTASKS");
  DistEnv env;
  const char* rank_name = "RANK";
  const char* world_name = "WORLD_SIZE";
  const char* local_name = "LOCAL_RANK";
  std::optional<std::string> r = rank, w = world;
  if (!rank && !world) {
    if (!slurm_rank || !slurm_world) return std::nullopt;
    r = slurm_rank, w = slurm_world;
    rank_name = "SLURM_PROCID", world_name = "SLURM_NTASKS", local_name = "SLURM_LOCALID";
    env.source = "Slurm's variables";
  } else {
    if (!rank || !world) {
      throw std::invalid_argument(fmt::format(
          "{} is set but {} is not: a rank needs both (torchrun sets RANK, WORLD_SIZE, "
          "LOCAL_RANK, MASTER_ADDR and MASTER_PORT)",
          rank ? "RANK" : "WORLD_SIZE", rank ? "WORLD_SIZE" : "RANK"));
    }
    env.source = "torchrun's variables";
  }
  env.world_size = static_cast<int>(number(world_name, *w, 1, 1 << 20));
  env.rank = static_cast<int>(number(rank_name, *r, 0, env.world_size - 1));
  const auto local = variable(local_name);
  env.local_rank = local ? static_cast<int>(number(local_name, *local, 0, 1 << 20)) : 0;
  if (const auto addr = variable("MASTER_ADDR")) {
    env.master_addr = *addr;
  } else if (env.source == "Slurm's variables") {
    const auto nodes = variable("SLURM_NNODES");
    if (nodes && *nodes != "1") {
      throw std::invalid_argument(
          "MASTER_ADDR is not set and this Slurm job spans " + *nodes +
          " nodes: export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1) "
          "before srun");
    }
  } else if (env.world_size > 1) {
    throw std::invalid_argument(
        "RANK and WORLD_SIZE are set but MASTER_ADDR is not: every rank needs the address of "
        "rank 0 (torchrun sets it; by hand, MASTER_ADDR=127.0.0.1 on one machine)");
  }
  if (const auto port = variable("MASTER_PORT")) {
    env.master_port = static_cast<uint16_t>(number("MASTER_PORT", *port, 1, 65535));
  }
  return env;
}

std::string describe(const DistEnv& env) {
  return fmt::format("rank {} of {} (local rank {}), master {}:{}", env.rank, env.world_size,
                     env.local_rank, env.master_addr, env.master_port);
}

}  // namespace lstmlab

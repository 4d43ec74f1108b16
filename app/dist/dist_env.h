#pragma once
// Where this process stands in a data-parallel run, read from the environment the way torchrun
// hands it to each rank: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Under Slurm
// (srun, one task per rank) SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID stand in for the first
// three when torchrun's are absent.

#include <cstdint>
#include <optional>
#include <string>

namespace lstmlab {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  uint16_t master_port = 29500;  ///< torchrun's default
  std::string source;            ///< "torchrun's variables", "Slurm's variables": for messages
};

/// The rendezvous this process was started for, or none when neither RANK/WORLD_SIZE nor
/// SLURM_PROCID/SLURM_NTASKS is set (a plain single-process run). Throws std::invalid_argument,
/// one line naming the variable, for a value that is not a number, a rank outside the world, a
/// port outside 1..65535, or half a contract (RANK without WORLD_SIZE). Under Slurm without
/// MASTER_ADDR, a single-node job meets on 127.0.0.1 and a multi-node one is refused with the
/// line to add.
std::optional<DistEnv> dist_env_from_environment();

/// "rank 1 of 2 (local rank 1), master 127.0.0.1:29500".
std::string describe(const DistEnv& env);

}  // namespace lstmlab

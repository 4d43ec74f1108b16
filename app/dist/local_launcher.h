#pragma once
// `lstm-lab train --nproc N`: this executable started N times on this machine, as torchrun
// --nproc-per-node N --no-python would start it: each rank with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set (MASTER_ADDR and MASTER_PORT kept when the
// user set them, else 127.0.0.1 and a free port). Each rank's stderr comes back line by line as
// "[rank k] ...". The first rank to fail ends the others, and its line is repeated last; Ctrl-C
// is handed to every rank once (they stop together at the end of a step, rank 0 saves the
// checkpoint), a second Ctrl-C ends them at once. A rank dies with its launcher.

#include <iosfwd>
#include <string>
#include <vector>

namespace lstmlab {

struct LaunchRequest {
  int nproc = 2;
  /// The arguments each rank runs with, after the executable ("train", "--task", ...).
  std::vector<std::string> args;
};

/// Starts the ranks, forwards their stderr to `err`, waits for every one. Returns 0 when every
/// rank succeeded, 130 when they were stopped by Ctrl-C, otherwise the first failed rank's exit
/// status (1 for a rank a signal ended).
int launch_local_ranks(const LaunchRequest& request, std::ostream& err);

}  // namespace lstmlab

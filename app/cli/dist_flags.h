#pragma once
// train's data-parallel flags: --nproc (this machine's ranks, started here), --dist-backend and
// --dist-timeout (how the ranks talk), and the rendezvous a rank reads from its environment.

#include "app/dist/communicator.h"

#include <cxxopts.hpp>

#include <memory>
#include <string>
#include <vector>

namespace lstmlab {

void add_dist_flags(cxxopts::Options& options);

/// The arguments every rank of `--nproc N` runs with (argv[0] the command): this command's, less --nproc, with
/// --threads (cores / N, at least 1) added unless given.
std::vector<std::string> rank_arguments(int argc, const char* const* argv, int nproc);

/// The process group this process is a rank of, when torchrun's (or Slurm's) variables say it is
/// one; null otherwise. Throws std::invalid_argument for bad flags or variables, DistError when the
/// ranks cannot meet.
std::shared_ptr<Communicator> join_ranks(const cxxopts::ParseResult& flags);

}  // namespace lstmlab

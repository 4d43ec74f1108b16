#pragma once
// One whole training run as `lstm-lab train --quiet --no-plots` does it, for tests that drive
// train_run directly.

#include "app/train/train_run.h"

#include <sstream>
#include <string>
#include <utility>

namespace lstmlab::test {

inline RunResult quiet_run(const RunConfig& config, const std::string& dir, bool resume = false,
                           TrainerHooks hooks = {}) {
  RunRequest request;
  request.config = config;
  request.run_dir = dir;
  request.resume = resume;
  request.quiet = true;
  request.plots = false;
  request.hooks = std::move(hooks);
  std::ostringstream log;
  return train_run(request, log);
}

}  // namespace lstmlab::test

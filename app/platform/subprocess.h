#pragma once
// Running another program with an argument vector (never through a shell, so no user string is
// ever parsed as a command) and collecting what it writes to stdout.

#include <string>
#include <vector>

namespace lstmlab {

struct ProcessOutput {
  int exit_status = -1;   ///< the program's exit status; -1 when a signal ended it
  std::string stdout_text;
};

/// Runs argv[0] (searched on PATH when it has no '/') with argv, this process's environment,
/// stdin and stderr; waits for it. Throws std::runtime_error naming the program when it cannot
/// be started.
ProcessOutput run_program(const std::vector<std::string>& argv);

}  // namespace lstmlab

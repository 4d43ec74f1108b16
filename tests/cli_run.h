#pragma once
// Runs the lstm-lab executable as a user would, through popen, for the command-line tests.

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace lstmlab::test {

struct Outcome {
  int status = -1;     ///< the exit status; -1 when the process did not exit normally
  std::string output;  ///< stdout and stderr together, or stderr alone
};

/// Runs `lstm-lab <args>`. With `stderr_only` stdout is discarded, so the output is what the user
/// sees on stderr.
inline Outcome lstm_lab(const std::string& args, bool stderr_only = false) {
  const std::string command = std::string("'") + LSTMLAB_BINARY + "' " + args +
                              (stderr_only ? " 2>&1 >/dev/null" : " 2>&1");
  Outcome o;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    ADD_FAILURE() << "popen failed: " << command;
    return o;
  }
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) o.output.append(buffer, n);
  const int raw = pclose(pipe);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return o;
}

}  // namespace lstmlab::test

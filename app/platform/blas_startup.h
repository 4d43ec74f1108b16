#pragma once
// Acting on the BLAS core decision (app/platform/blas_core.h) at the top of main: set
// OPENBLAS_CORETYPE and execute the same program again, once, so that OpenBLAS loads with the core
// that fits the CPU. Executing /proc/self/exe in place keeps the process: its id, argv, stdin and
// every open file, its parent's wait for the exit status, its signal mask and ignored signals
// (nothing else is installed this early).

#include <string>

namespace lstmlab {

/// What start-up found and did, for --version, bench and config.json.
struct BlasCoreStartup {
  bool ran = false;          ///< choose_blas_core_at_startup ran in this process
  bool reexecuted = false;   ///< this process is the re-executed one
  std::string picked_by_openblas;  ///< the core OpenBLAS chose on its own, when lstm-lab changed it
  std::string reason;        ///< why the core is what it is (the decision's reason)
};

/// Decides from this process's CPU, BLAS and environment; when the decision is to re-execute,
/// sets OPENBLAS_CORETYPE and the guard and does not return, unless the exec fails (then one line
/// on stderr, the variables it set are removed, and the program goes on with the core it has).
/// In the re-executed process it removes both variables again, so that what this process starts
/// sees the environment the user gave.
void choose_blas_core_at_startup(char** argv);

const BlasCoreStartup& blas_core_startup();

}  // namespace lstmlab

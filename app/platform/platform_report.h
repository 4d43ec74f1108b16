#pragma once
// What ran: the CPU, the BLAS with its core and threads, and how the core was chosen, as lines
// for `--version` and bench's header and as the `platform` record of config.json and --json.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace lstmlab {

/// "CPU: ...", "BLAS: ...", "BLAS core: ..." (the last only for OpenBLAS).
std::vector<std::string> platform_lines();

/// {"cpu": {model, vendor, family, model_number, extensions},
///  "blas": {vendor, version, core, core_reason, threads, library, config}, "libtorch_threads"}.
nlohmann::json platform_json();

/// slow_core_warning for this process; "" when the BLAS runs what the CPU offers.
std::string platform_warning();

}  // namespace lstmlab

#pragma once
// Sizes checked before they are allocated: a file too large for this machine's memory, or a model
// whose tensors would not fit, is one clear error that says how much it would need, not a
// std::bad_alloc (or the kernel's OOM killer) minutes later.

#include <cstdint>
#include <string>

namespace lstmlab {

/// The machine's physical memory in bytes (what a CPU run can ever hold).
uint64_t physical_memory_bytes();

/// "1.5 GB", "12.0 MB", "800 bytes": decimal units, as a user reads sizes.
std::string describe_bytes(double bytes);

/// Throws std::runtime_error naming `path` when reading it whole would take more memory than
/// the machine has: its size times `bytes_per_byte` (what the reader keeps for each byte of the
/// file, e.g. 4 for code points). A file that cannot be measured is left to the reader's error.
void check_file_fits_in_memory(const std::string& path, double bytes_per_byte);

}  // namespace lstmlab

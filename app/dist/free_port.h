#pragma once
// A TCP port no program listens on right now, for a rendezvous on this machine (--nproc without
// MASTER_PORT, and the tests).

#include <cstdint>

namespace lstmlab {

/// Asks the kernel for an unused port on 127.0.0.1 and releases it. Throws std::runtime_error when
/// no socket can be bound.
uint16_t free_local_port();

}  // namespace lstmlab

#pragma once
// First weights of a recurrent stack, in the canonical layout, for each init scheme. Both layers draw
// through here, so a scheme means the same numbers whichever layer asks.

#include "models/recurrent_layer.h"

namespace lstmlab {

/// Draws from the global LibTorch generator (seed it with torch::manual_seed), always in float32 as
/// a freshly built PyTorch module does, then converts to `dtype`. See InitScheme for the schemes.
StackWeights initial_weights(CellKind cell, const RecurrentOptions& options,
                             torch::ScalarType dtype);

}  // namespace lstmlab

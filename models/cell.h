#pragma once
// The cell axis: which recurrent cell a layer runs. A cell fixes its gate count, whether it keeps
// a cell state beside h, and how its biases map (models/weight_layout.h).

#include "models/enum_names.h"

#include <cstdint>
#include <string>

namespace lstmlab {

enum class CellKind { Lstm, Gru };

/// "lstm" or "gru": the --cell spelling and the weights files' "cell".
const EnumNames<CellKind>& cell_names();
std::string to_string(CellKind cell);
/// Throws std::invalid_argument naming the choices.
CellKind parse_cell(const std::string& text);

/// Gates per cell: 4 (i, f, g, o) for the LSTM, 3 (r, z, n) for the GRU.
constexpr int64_t gate_count(CellKind cell) { return cell == CellKind::Lstm ? 4 : 3; }
/// Whether the state carries c beside h (the LSTM's long-term memory).
constexpr bool has_cell_state(CellKind cell) { return cell == CellKind::Lstm; }

}  // namespace lstmlab

#pragma once
// Building a recurrent layer chosen at run time: a cell (lstm, gru) and a kind (scratch, builtin).

#include "models/cell.h"
#include "models/recurrent_layer.h"
#include "models/stacked_layer.h"

#include <string>

namespace lstmlab {

enum class LayerKind { Scratch, Builtin };
const EnumNames<LayerKind>& layer_kind_names();
std::string to_string(LayerKind kind);
/// "scratch" or "builtin"; throws std::invalid_argument naming the choices.
LayerKind parse_layer_kind(const std::string& text);

/// The scratch layer gets `backward`; the built-in one ignores it.
RecurrentLayerPtr make_recurrent_layer(CellKind cell, LayerKind kind,
                                       const RecurrentOptions& options,
                                       ScratchBackward backward = ScratchBackward::Fused);

}  // namespace lstmlab

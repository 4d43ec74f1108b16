#include "models/layer_factory.h"

#include "models/gru/builtin_gru.h"
#include "models/gru/gru_scratch.h"
#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"

#include <stdexcept>

namespace lstmlab {

std::string to_string(LayerKind kind) { return kind == LayerKind::Scratch ? "scratch" : "builtin"; }

LayerKind parse_layer_kind(const std::string& text) {
  if (text == "scratch") return LayerKind::Scratch;
  if (text == "builtin") return LayerKind::Builtin;
  throw std::invalid_argument("--model '" + text + "' is not a model (allowed: scratch, builtin)");
}

RecurrentLayerPtr make_recurrent_layer(CellKind cell, LayerKind kind,
                                       const RecurrentOptions& options, ScratchBackward backward) {
  if (kind == LayerKind::Builtin) {
    if (cell == CellKind::Gru) return std::make_shared<BuiltinGRUImpl>(options);
    return std::make_shared<BuiltinLSTMImpl>(options);
  }
  std::shared_ptr<ScratchStackImpl> layer;
  if (cell == CellKind::Gru) {
    layer = std::make_shared<GRUScratchImpl>(options);
  } else {
    layer = std::make_shared<LSTMScratchImpl>(options);
  }
  layer->set_backward_mode(backward);
  return layer;
}

}  // namespace lstmlab

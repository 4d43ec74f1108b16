#include "models/layer_factory.h"

#include "models/gru/builtin_gru.h"
#include "models/gru/gru_scratch.h"
#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"

#include <stdexcept>

namespace lstmlab {

const EnumNames<LayerKind>& layer_kind_names() {
  static const EnumNames<LayerKind> names(
      "model", {{LayerKind::Scratch, "scratch"}, {LayerKind::Builtin, "builtin"}});
  return names;
}

std::string to_string(LayerKind kind) { return layer_kind_names().name(kind); }
LayerKind parse_layer_kind(const std::string& text) { return layer_kind_names().parse(text); }

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

#pragma once
// Weights files: the weight map's tensors as JSON, in PyTorch or Keras naming, read strictly.

#include "models/weight_layout.h"

#include <string>

namespace lstmlab {

/// A weights file: metadata plus the tensors in one naming. Tensors are nested JSON arrays, as
/// Python's `{k: v.tolist() for k, v in state_dict.items()}` or Keras' `w.numpy().tolist()` write.
struct WeightsFile {
  CellKind cell = CellKind::Lstm;
  WeightNaming naming = WeightNaming::PyTorch;
  StackWeights stack;
};

/// Written to `path + ".tmp"` and renamed, so a crash never leaves half a file.
void save_weights_json(const std::string& path, const StackWeights& stack, WeightNaming naming,
                       CellKind cell = CellKind::Lstm);
/// The naming is recognised from the names. Doubles are read exactly; tensors come back float64.
/// The cell comes from the file's metadata ("lstm-lab": {"cell": "gru"}), else from Keras' names.
WeightsFile load_weights_json(const std::string& path);

}  // namespace lstmlab

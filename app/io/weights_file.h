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

/// A whole model's weights file, in either layout a Python user has at hand:
/// - Keras: {"lstm": {"kernel": [I, G], "recurrent_kernel": [H, G], "bias": [G]}, "dense":
///   {"kernel": [H, K], "bias": [K]}}, the arrays as get_weights() gives them; "lstm" is a list,
///   first layer first, for a stack; a GRU is "gru" with its bias [2, 3H] or [3H];
/// - PyTorch: a whole model's state_dict as json.dump({k: v.tolist() ...}) writes it:
///   "lstm.weight_ih_l0", ... under any one module prefix (or none), and the head's "fc.weight"
///   [K, H] and "fc.bias" [K] under any name.
/// A missing part (the layer, a layer's tensor, the head) is one error naming it and the file.
/// `cell` is the model's: the file is read as that cell's layout.
ModelWeights load_model_weights_json(const std::string& path, CellKind cell);
/// Keras: as above; PyTorch: "lstm.weight_ih_l0", ... (or "gru."), "fc.weight", "fc.bias", as
/// seed 002's module names them. No metadata, so that Python reads it back as it is.
void save_model_weights_json(const std::string& path, const ModelWeights& weights,
                             WeightNaming naming, CellKind cell);

}  // namespace lstmlab

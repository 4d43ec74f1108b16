#pragma once
// Weights files: the weight map's tensors as JSON, in PyTorch or Keras naming, read strictly.

#include "models/weight_layout.h"

#include <string>

namespace lstmlab {

/// A weights file: metadata plus the tensors in one naming. Tensors are nested JSON arrays, as
/// Python's `{k: v.tolist() for k, v in state_dict.items()}` or Keras' `w.numpy().tolist()` write.
struct WeightsFile {
  std::string cell = "lstm";
  WeightNaming naming = WeightNaming::PyTorch;
  StackWeights stack;
};

/// Written to `path + ".tmp"` and renamed, so a crash never leaves half a file.
void save_weights_json(const std::string& path, const StackWeights& stack, WeightNaming naming,
                       const std::string& cell = "lstm");
/// The naming is recognised from the names. Doubles are read exactly; tensors come back float64.
WeightsFile load_weights_json(const std::string& path, int64_t gates = 4);

}  // namespace lstmlab

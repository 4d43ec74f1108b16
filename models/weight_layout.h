#pragma once
// The one map between weight layouts, both ways, for any number of layers:
//
//   canonical (scratch)     built-in (PyTorch state_dict)          Keras
//   W_x: [I, G]             weight_ih_l{k}: [G, I] = W_x^T          kernel: [I, G] = W_x
//   W_h: [H, G]             weight_hh_l{k}: [G, H] = W_h^T          recurrent_kernel: [H, G] = W_h
//   b:   [G]                bias_ih_l{k} + bias_hh_l{k} = b         bias: [G] = b
//
// For the LSTM all three keep the gates in one order (i, f, g, o; Keras calls g "c"), so the map is
// transposes and the bias split. Going to PyTorch naming the whole bias goes to bias_ih and bias_hh
// is zero.
//
// The GRU (gates r, z, n in the canonical and PyTorch order; Keras orders its columns z, r, h):
//   b = [b_ir + b_hr, b_iz + b_hz, b_in], b_hn = bias_hh's n part;
//   Keras reset_after=True: bias [2, 3H], row 0 the input biases and row 1 the recurrent ones;
//   Keras reset_after=False: bias [3H], and b_hn is zero (the d2l variant has none).

#include "models/recurrent_layer.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lstmlab {

enum class WeightNaming { PyTorch, Keras };
const EnumNames<WeightNaming>& naming_names();
std::string to_string(WeightNaming naming);
/// "pytorch" or "keras"; throws std::invalid_argument naming the choices.
WeightNaming parse_naming(const std::string& text);

/// Name -> tensor, in the order the layout lists them.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Checks that a stack is a well-formed canonical stack of `cell` (G = gates * H, layer k > 0 fed
/// by H, b_hn of [H] for the GRU).
void check_stack(const StackWeights& stack, CellKind cell, const std::string& where);

NamedTensors to_named(const StackWeights& stack, WeightNaming naming, CellKind cell);
/// `where` names the source (a file) in error messages. Throws c10::Error on a missing name, an
/// unknown name or a wrong shape.
StackWeights from_named(const std::map<std::string, torch::Tensor>& named, WeightNaming naming,
                        CellKind cell, const std::string& where);

/// A whole model's weights: the recurrent stack (canonical) and the Linear head on it, in
/// PyTorch's Linear layout (Keras' Dense kernel is head_weight transposed).
struct ModelWeights {
  StackWeights stack;
  torch::Tensor head_weight;  ///< [K, H]
  torch::Tensor head_bias;    ///< [K]
};

/// Keras calls its stacked layers lstm, lstm_1, lstm_2, ... (gru, gru_1, ... for the GRU).
std::string keras_layer_prefix(int64_t layer, CellKind cell = CellKind::Lstm);

}  // namespace lstmlab

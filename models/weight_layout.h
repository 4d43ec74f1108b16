#pragma once
// The one map between weight layouts, both ways, for any number of layers:
//
//   canonical (scratch)     built-in (PyTorch state_dict)          Keras
//   W_x: [I, G]             weight_ih_l{k}: [G, I] = W_x^T          kernel: [I, G] = W_x
//   W_h: [H, G]             weight_hh_l{k}: [G, H] = W_h^T          recurrent_kernel: [H, G] = W_h
//   b:   [G]                bias_ih_l{k} + bias_hh_l{k} = b         bias: [G] = b
//
// All three keep the gates in one order (i, f, g, o; Keras calls g "c"), so the map is transposes
// and the bias split. Going to PyTorch naming the whole bias goes to bias_ih and bias_hh is zero.

#include "models/recurrent_layer.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lstmlab {

enum class WeightNaming { PyTorch, Keras };
std::string to_string(WeightNaming naming);
/// "pytorch" or "keras"; throws std::invalid_argument naming the choices.
WeightNaming parse_naming(const std::string& text);

/// Name -> tensor, in the order the layout lists them.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Checks that a stack is a well-formed canonical LSTM stack (G = gates * H, layer k > 0 fed by H).
void check_stack(const StackWeights& stack, int64_t gates, const std::string& where);

NamedTensors to_named(const StackWeights& stack, WeightNaming naming);
/// `where` names the source (a file) in error messages. Throws c10::Error on a missing name, an
/// unknown name or a wrong shape.
StackWeights from_named(const std::map<std::string, torch::Tensor>& named, WeightNaming naming,
                        int64_t gates, const std::string& where);

/// Keras calls its stacked layers lstm, lstm_1, lstm_2, ...
std::string keras_layer_prefix(int64_t layer);

}  // namespace lstmlab

#include "app/io/weights_file.h"

#include "app/io/atomic_file.h"
#include "app/io/json_file.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <stdexcept>

namespace lstmlab {
namespace {

using nlohmann::json;

json tensor_to_json(const torch::Tensor& t) {
  auto d = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  if (d.dim() == 1) {
    const double* p = d.data_ptr<double>();
    return json(std::vector<double>(p, p + d.numel()));
  }
  json rows = json::array();
  for (int64_t r = 0; r < d.size(0); ++r) rows.push_back(tensor_to_json(d[r]));
  return rows;
}

// Leaves must all sit at one depth and every row at a depth must have one length.
void flatten_json(const json& j, std::vector<double>& values, std::vector<int64_t>& shape,
                  size_t depth, const std::string& name, const std::string& where) {
  if (j.is_number()) {
    TORCH_CHECK(depth == shape.size(), where, ": '", name,
                "' is a ragged array (numbers and rows mixed at depth ", depth, ")");
    values.push_back(j.get<double>());
    return;
  }
  TORCH_CHECK(j.is_array(), where, ": '", name, "' must be a (nested) array of numbers, found ",
              j.type_name());
  const auto n = static_cast<int64_t>(j.size());
  if (depth == shape.size()) {
    TORCH_CHECK(values.empty(), where, ": '", name,
                "' is a ragged array (numbers and rows mixed at depth ", depth, ")");
    shape.push_back(n);
  } else {
    TORCH_CHECK(depth < shape.size() && shape[depth] == n, where, ": '", name,
                "' is a ragged array (rows of ", depth < shape.size() ? shape[depth] : 0, " and ",
                n, " entries)");
  }
  for (const auto& item : j) flatten_json(item, values, shape, depth + 1, name, where);
}

torch::Tensor tensor_from_json(const json& j, const std::string& name, const std::string& where) {
  std::vector<double> values;
  std::vector<int64_t> shape;
  flatten_json(j, values, shape, 0, name, where);
  int64_t expected = 1;
  for (auto d : shape) expected *= d;
  TORCH_CHECK(static_cast<int64_t>(values.size()) == expected, where, ": '", name,
              "' is a ragged array (", values.size(), " numbers for a shape of ",
              torch::IntArrayRef(shape), ")");
  return torch::tensor(values, torch::kDouble).reshape(shape);
}

// Keras spells one variable several ways: "lstm_1/lstm_cell_1/kernel:0" (TF2 Keras 2, with a
// cell name made unique and a ":0" suffix), "sequential/lstm_1/lstm_cell/kernel" (Keras 3, under
// the model's name). All become "lstm_1/lstm_cell/kernel"; PyTorch names pass unchanged.
std::string keras_canonical_name(std::string name) {
  if (name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0) name.resize(name.size() - 2);
  for (const std::string marker : {"/lstm_cell", "/gru_cell"}) {
    const auto cell = name.find(marker);
    if (cell == std::string::npos) continue;
    const auto layer = name.rfind('/', cell == 0 ? 0 : cell - 1);
    if (layer != std::string::npos && cell > 0) name.erase(0, layer + 1);
    const auto start = name.find(marker) + marker.size();
    const auto end = name.find('/', start);
    if (end != std::string::npos) name.erase(start, end - start);
    return name;
  }
  return name;
}

const char* kKerasLayerKeys[] = {"kernel", "recurrent_kernel", "bias"};

// One Keras layer's object {"kernel", "recurrent_kernel", "bias"} into the flat names the weight
// map reads ("lstm_1/lstm_cell/kernel").
void add_keras_layer(const json& layer, int64_t k, CellKind cell, const std::string& path,
                     std::map<std::string, torch::Tensor>& named) {
  const auto where = fmt::format("'{}'{}", to_string(cell), k > 0 || layer.is_array() ? fmt::format("[{}]", k) : "");
  TORCH_CHECK(layer.is_object(), path, ": ", where, " must be an object with \"kernel\", "
              "\"recurrent_kernel\" and \"bias\", found ", layer.type_name());
  for (const auto& item : layer.items()) {
    TORCH_CHECK(std::find(std::begin(kKerasLayerKeys), std::end(kKerasLayerKeys), item.key()) !=
                    std::end(kKerasLayerKeys),
                path, ": ", where, " has an unexpected entry '", item.key(),
                "' (expected kernel, recurrent_kernel, bias)");
  }
  const auto prefix = keras_layer_prefix(k, cell) + "/" + to_string(cell) + "_cell/";
  for (const char* key : kKerasLayerKeys) {
    TORCH_CHECK(layer.contains(key), path, ": ", where, " has no \"", key, "\"");
    named[prefix + key] = tensor_from_json(layer.at(key), where + "." + key, path);
  }
}

ModelWeights keras_model_weights(const json& doc, CellKind cell, const std::string& path) {
  const auto layer_key = to_string(cell);
  for (const auto& item : doc.items()) {
    TORCH_CHECK(item.key() == layer_key || item.key() == "dense", path,
                ": a Keras weights file holds \"", layer_key, "\" and \"dense\", found '",
                item.key(), "'", item.key() == "lstm" || item.key() == "gru"
                                      ? " (the model's cell is " + layer_key + ")" : "");
  }
  TORCH_CHECK(doc.contains(layer_key), path, ": no \"", layer_key,
              "\" entry: the recurrent layer's kernel, recurrent_kernel and bias are missing");
  TORCH_CHECK(doc.contains("dense"), path, ": no \"dense\" entry: the head's kernel [H, K] and "
              "bias [K] are missing");
  std::map<std::string, torch::Tensor> named;
  const json& layers = doc.at(layer_key);
  if (layers.is_array()) {
    TORCH_CHECK(!layers.empty(), path, ": \"", layer_key, "\" is an empty list of layers");
    for (size_t k = 0; k < layers.size(); ++k) {
      add_keras_layer(layers.at(k), static_cast<int64_t>(k), cell, path, named);
    }
  } else {
    add_keras_layer(layers, 0, cell, path, named);
  }
  ModelWeights w;
  w.stack = from_named(named, WeightNaming::Keras, cell, path);
  const json& dense = doc.at("dense");
  TORCH_CHECK(dense.is_object() && dense.contains("kernel") && dense.contains("bias") &&
                  dense.size() == 2,
              path, ": \"dense\" must be an object with exactly \"kernel\" [H, K] and \"bias\" [K]");
  const auto kernel = tensor_from_json(dense.at("kernel"), "dense.kernel", path);
  TORCH_CHECK(kernel.dim() == 2, path, ": expected 'dense.kernel' of 2 dimensions [H, K], got ",
              kernel.sizes());
  w.head_weight = kernel.t().contiguous();
  w.head_bias = tensor_from_json(dense.at("bias"), "dense.bias", path);
  return w;
}

// A state_dict: the recurrent layer's tensors under one prefix ("lstm.", "model.rnn.", or none),
// and a Linear's ".weight" and ".bias" under another.
ModelWeights pytorch_model_weights(const json& doc, CellKind cell, const std::string& path) {
  std::map<std::string, torch::Tensor> all;
  for (const auto& [key, value] : doc.items()) all[key] = tensor_from_json(value, key, path);
  std::string prefix;
  bool found = false;
  for (const auto& item : all) {
    const auto at = item.first.find("weight_hh_l0");
    if (at == std::string::npos || at + 12 != item.first.size()) continue;
    const auto candidate = item.first.substr(0, at);
    TORCH_CHECK(!found || candidate == prefix, path, ": two recurrent layers, '", prefix,
                "weight_hh_l0' and '", item.first, "'; a model here has one");
    prefix = candidate;
    found = true;
  }
  std::string keys;
  for (const auto& item : all) keys += (keys.empty() ? "" : ", ") + item.first;
  TORCH_CHECK(found, path, ": no recurrent layer: expected PyTorch names such as "
              "'lstm.weight_ih_l0' or Keras' {\"", to_string(cell), "\": ..., \"dense\": ...}, found ",
              keys);
  std::map<std::string, torch::Tensor> layer, rest;
  for (const auto& [key, tensor] : all) {
    const bool ours = key.rfind(prefix, 0) == 0 &&
                      (key.find("weight_", prefix.size()) == prefix.size() ||
                       key.find("bias_", prefix.size()) == prefix.size());
    (ours ? layer[key.substr(prefix.size())] : rest[key]) = tensor;
  }
  ModelWeights w;
  w.stack = from_named(layer, WeightNaming::PyTorch, cell, path);
  std::string head;
  for (const auto& item : rest) {
    const auto& key = item.first;
    if (key.size() > 6 && key.compare(key.size() - 6, 6, "weight") == 0) {
      TORCH_CHECK(head.empty(), path, ": two candidate heads, '", head, "weight' and '", key,
                  "'; a model here has one Linear after the recurrent layer");
      head = key.substr(0, key.size() - 6);
    }
  }
  TORCH_CHECK(!head.empty(), path, ": the recurrent layer ('", prefix,
              "weight_ih_l0', ...) is there but the head is missing: expected a Linear's "
              "'<name>.weight' [K, H] and '<name>.bias' [K], such as 'fc.weight' and 'fc.bias'");
  TORCH_CHECK(rest.count(head + "bias"), path, ": the head '", head, "weight' has no '", head,
              "bias'");
  for (const auto& item : rest) {
    TORCH_CHECK(item.first == head + "weight" || item.first == head + "bias", path,
                ": unexpected tensor '", item.first, "' of size ", item.second.sizes(),
                " beside the recurrent layer '", prefix, "...' and the head '", head, "...'");
  }
  w.head_weight = rest.at(head + "weight");
  w.head_bias = rest.at(head + "bias");
  TORCH_CHECK(w.head_weight.dim() == 2 && w.head_bias.dim() == 1, path, ": expected '", head,
              "weight' of 2 dimensions and '", head, "bias' of 1, got ", w.head_weight.sizes(),
              " and ", w.head_bias.sizes());
  return w;
}

}  // namespace

ModelWeights load_model_weights_json(const std::string& path, CellKind cell) {
  // The deepest the Keras layout needs: the top object, the list of layers, a layer, a matrix's
  // rows and their numbers.
  const json doc = read_json_file(path, 5);
  TORCH_CHECK(doc.is_object(), path, ": expected a JSON object, found ", doc.type_name());
  const bool keras = doc.contains("dense") || doc.contains("lstm") || doc.contains("gru");
  return keras ? keras_model_weights(doc, cell, path) : pytorch_model_weights(doc, cell, path);
}

void save_model_weights_json(const std::string& path, const ModelWeights& weights,
                             WeightNaming naming, CellKind cell) {
  json doc = json::object();
  const auto named = to_named(weights.stack, naming, cell);
  if (naming == WeightNaming::PyTorch) {
    for (const auto& [name, tensor] : named) doc[to_string(cell) + "." + name] = tensor_to_json(tensor);
    doc["fc.weight"] = tensor_to_json(weights.head_weight);
    doc["fc.bias"] = tensor_to_json(weights.head_bias);
  } else {
    json layers = json::array();
    for (size_t k = 0; k < named.size(); k += 3) {
      layers.push_back({{"kernel", tensor_to_json(named[k].second)},
                        {"recurrent_kernel", tensor_to_json(named[k + 1].second)},
                        {"bias", tensor_to_json(named[k + 2].second)}});
    }
    doc[to_string(cell)] = layers.size() == 1 ? layers[0] : layers;
    doc["dense"] = {{"kernel", tensor_to_json(weights.head_weight.t())},
                    {"bias", tensor_to_json(weights.head_bias)}};
  }
  AtomicFile file(path);
  file.stream() << doc.dump(1) << '\n';
  file.commit();
}

void save_weights_json(const std::string& path, const StackWeights& stack, WeightNaming naming,
                       CellKind cell) {
  json doc;
  doc["lstm-lab"] = {{"cell", to_string(cell)},
                     {"naming", to_string(naming)},
                     {"input_size", stack.at(0).W_x.size(0)},
                     {"hidden_size", stack.at(0).W_h.size(0)},
                     {"num_layers", stack.size()}};
  for (const auto& [name, tensor] : to_named(stack, naming, cell)) doc[name] = tensor_to_json(tensor);
  AtomicFile file(path);
  file.stream() << doc.dump(1) << '\n';
  file.commit();
}

WeightsFile load_weights_json(const std::string& path) {
  // The deepest a layout needs: the top object, then a matrix's rows and their numbers.
  const json doc = read_json_file(path, 3);
  TORCH_CHECK(doc.is_object(), path, ": expected a JSON object of name -> nested array, found ",
              doc.type_name());
  WeightsFile file;
  bool cell_named = false;
  std::map<std::string, torch::Tensor> named;
  for (const auto& [key, value] : doc.items()) {
    if (key == "lstm-lab") {
      TORCH_CHECK(value.is_object(), path, ": 'lstm-lab' must be an object of metadata, found ",
                  value.type_name());
      if (value.contains("cell")) {
        const json& cell = value.at("cell");
        TORCH_CHECK(cell.is_string(), path,
                    ": 'lstm-lab'.'cell' must be a string such as \"lstm\", found ", cell.type_name());
        try {
          file.cell = parse_cell(cell.get<std::string>());
        } catch (const std::invalid_argument& e) {
          TORCH_CHECK(false, path, ": 'lstm-lab'.'cell': ", e.what());
        }
        cell_named = true;
      }
      continue;
    }
    named[keras_canonical_name(key)] = tensor_from_json(value, key, path);
  }
  // PyTorch names start weight_/bias_; everything else is read as Keras.
  file.naming = WeightNaming::Keras;
  for (const auto& item : named) {
    if (item.first.rfind("weight_", 0) == 0 || item.first.rfind("bias_", 0) == 0) {
      file.naming = WeightNaming::PyTorch;
    }
  }
  // Without metadata a Keras GRU names itself (gru/gru_cell/...); anything else is an LSTM.
  if (!cell_named && named.count("gru/gru_cell/kernel")) file.cell = CellKind::Gru;
  file.stack = from_named(named, file.naming, file.cell, path);
  return file;
}

}  // namespace lstmlab

#include "models/weight_layout.h"

#include "models/json_file.h"

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>

namespace lstmlab {
namespace {

using nlohmann::json;

struct LayerNames {
  std::string input, recurrent, bias, second_bias;  // second_bias: PyTorch's bias_hh only
};

LayerNames names_for(int64_t k, WeightNaming naming) {
  if (naming == WeightNaming::PyTorch) {
    const auto s = std::to_string(k);
    return {"weight_ih_l" + s, "weight_hh_l" + s, "bias_ih_l" + s, "bias_hh_l" + s};
  }
  const auto p = keras_layer_prefix(k) + "/lstm_cell/";
  return {p + "kernel", p + "recurrent_kernel", p + "bias", ""};
}

const torch::Tensor& lookup(const std::map<std::string, torch::Tensor>& named,
                            const std::string& name, const std::string& where, int64_t layers) {
  auto it = named.find(name);
  TORCH_CHECK(it != named.end(), where, ": no tensor named '", name, "' (a ", layers,
              "-layer stack needs it)");
  return it->second;
}

void expect_size(const torch::Tensor& t, std::vector<int64_t> expected, const std::string& name,
                 const std::string& where) {
  TORCH_CHECK(t.sizes() == torch::IntArrayRef(expected), where, ": expected '", name,
              "' of size ", torch::IntArrayRef(expected), ", got ", t.sizes());
}

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
  const auto cell = name.find("/lstm_cell");
  if (cell == std::string::npos) return name;
  const auto layer = name.rfind('/', cell == 0 ? 0 : cell - 1);
  if (layer != std::string::npos && cell > 0) name.erase(0, layer + 1);
  const auto start = name.find("/lstm_cell") + 10;
  const auto end = name.find('/', start);
  if (end != std::string::npos) name.erase(start, end - start);
  return name;
}

}  // namespace

std::string to_string(WeightNaming naming) {
  return naming == WeightNaming::PyTorch ? "pytorch" : "keras";
}

WeightNaming parse_naming(const std::string& text) {
  if (text == "pytorch") return WeightNaming::PyTorch;
  if (text == "keras") return WeightNaming::Keras;
  throw std::invalid_argument("unknown weight naming '" + text + "' (allowed: pytorch, keras)");
}

std::string keras_layer_prefix(int64_t layer) {
  return layer == 0 ? "lstm" : "lstm_" + std::to_string(layer);
}

void check_stack(const StackWeights& stack, int64_t gates, const std::string& where) {
  TORCH_CHECK(!stack.empty(), where, ": no layers");
  TORCH_CHECK(stack[0].W_h.dim() >= 1 && stack[0].W_h.size(0) > 0, where,
              ": the hidden size is 0 (layer 0 W_h is ", stack[0].W_h.sizes(),
              "); a layer needs at least one unit");
  TORCH_CHECK(stack[0].W_x.dim() >= 1 && stack[0].W_x.size(0) > 0, where,
              ": the input size is 0 (layer 0 W_x is ", stack[0].W_x.sizes(),
              "); a layer needs at least one input");
  const int64_t H = stack[0].W_h.size(0);
  for (size_t k = 0; k < stack.size(); ++k) {
    const auto& w = stack[k];
    const auto layer = fmt::format("layer {}", k);
    TORCH_CHECK(w.W_x.dim() == 2 && w.W_h.dim() == 2 && w.b.dim() == 1, where, ": ", layer,
                " expects W_x and W_h of 2 dimensions and b of 1, got ", w.W_x.sizes(), ", ",
                w.W_h.sizes(), ", ", w.b.sizes());
    expect_size(w.W_h, {H, gates * H}, layer + " W_h", where);
    if (k > 0) expect_size(w.W_x, {H, gates * H}, layer + " W_x", where);
    TORCH_CHECK(w.W_x.size(1) == gates * H, where, ": ", layer, " expects W_x with ", gates * H,
                " columns, got ", w.W_x.sizes());
    expect_size(w.b, {gates * H}, layer + " b", where);
  }
}

NamedTensors to_named(const StackWeights& stack, WeightNaming naming) {
  NamedTensors named;
  for (size_t k = 0; k < stack.size(); ++k) {
    const auto& w = stack[k];
    const auto n = names_for(static_cast<int64_t>(k), naming);
    if (naming == WeightNaming::PyTorch) {
      named.emplace_back(n.input, w.W_x.t().contiguous());
      named.emplace_back(n.recurrent, w.W_h.t().contiguous());
      named.emplace_back(n.bias, w.b.clone());
      named.emplace_back(n.second_bias, torch::zeros_like(w.b));
    } else {
      named.emplace_back(n.input, w.W_x.clone());
      named.emplace_back(n.recurrent, w.W_h.clone());
      named.emplace_back(n.bias, w.b.clone());
    }
  }
  return named;
}

StackWeights from_named(const std::map<std::string, torch::Tensor>& named, WeightNaming naming,
                        int64_t gates, const std::string& where) {
  // Layers are 0..L-1 with no gaps; L is read off the names present.
  int64_t layers = 0;
  while (named.count(names_for(layers, naming).recurrent)) ++layers;
  TORCH_CHECK(layers > 0, where, ": no '", names_for(0, naming).recurrent, "' found; expected ",
              to_string(naming), " names such as ", names_for(0, naming).input);
  std::set<std::string> used;
  StackWeights stack;
  for (int64_t k = 0; k < layers; ++k) {
    const auto n = names_for(k, naming);
    const auto& input = lookup(named, n.input, where, layers);
    const auto& recurrent = lookup(named, n.recurrent, where, layers);
    const auto& bias = lookup(named, n.bias, where, layers);
    used.insert({n.input, n.recurrent, n.bias});
    LayerWeights w;
    if (naming == WeightNaming::PyTorch) {
      TORCH_CHECK(input.dim() == 2 && recurrent.dim() == 2, where, ": expected '", n.input,
                  "' and '", n.recurrent, "' of 2 dimensions, got ", input.sizes(), " and ",
                  recurrent.sizes());
      const auto& bias_hh = lookup(named, n.second_bias, where, layers);
      used.insert(n.second_bias);
      expect_size(bias_hh, {bias.numel()}, n.second_bias, where);
      w = {input.t().contiguous(), recurrent.t().contiguous(), bias + bias_hh};
    } else {
      w = {input.clone(), recurrent.clone(), bias.clone()};
    }
    stack.push_back(w);
  }
  for (const auto& [name, tensor] : named) {
    TORCH_CHECK(used.count(name), where, ": unexpected tensor '", name, "' of size ",
                tensor.sizes(), " for a ", layers, "-layer ", to_string(naming), " stack");
  }
  check_stack(stack, gates, where);
  return stack;
}

void save_weights_json(const std::string& path, const StackWeights& stack, WeightNaming naming,
                       const std::string& cell) {
  json doc;
  doc["lstm-lab"] = {{"cell", cell},
                     {"naming", to_string(naming)},
                     {"input_size", stack.at(0).W_x.size(0)},
                     {"hidden_size", stack.at(0).W_h.size(0)},
                     {"num_layers", stack.size()}};
  for (const auto& [name, tensor] : to_named(stack, naming)) doc[name] = tensor_to_json(tensor);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw std::runtime_error("cannot write weights file '" + tmp + "'");
    out << doc.dump(1) << '\n';
    if (!out) throw std::runtime_error("failed while writing weights file '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "'");
  }
}

WeightsFile load_weights_json(const std::string& path, int64_t gates) {
  // The deepest a layout needs: the top object, then a matrix's rows and their numbers.
  const json doc = read_json_file(path, 3);
  TORCH_CHECK(doc.is_object(), path, ": expected a JSON object of name -> nested array, found ",
              doc.type_name());
  WeightsFile file;
  std::map<std::string, torch::Tensor> named;
  for (const auto& [key, value] : doc.items()) {
    if (key == "lstm-lab") {
      TORCH_CHECK(value.is_object(), path, ": 'lstm-lab' must be an object of metadata, found ",
                  value.type_name());
      if (value.contains("cell")) {
        const json& cell = value.at("cell");
        TORCH_CHECK(cell.is_string(), path,
                    ": 'lstm-lab'.'cell' must be a string such as \"lstm\", found ", cell.type_name());
        file.cell = cell.get<std::string>();
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
  file.stack = from_named(named, file.naming, gates, path);
  return file;
}

}  // namespace lstmlab

#include "app/io/weights_file.h"

#include "app/io/atomic_file.h"
#include "app/io/json_file.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

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

}  // namespace

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

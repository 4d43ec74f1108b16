#include "models/weight_layout.h"


#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <set>
#include <stdexcept>

namespace lstmlab {
namespace {

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

}  // namespace lstmlab

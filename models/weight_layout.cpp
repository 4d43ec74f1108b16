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

LayerNames names_for(int64_t k, WeightNaming naming, CellKind cell) {
  if (naming == WeightNaming::PyTorch) {
    const auto s = std::to_string(k);
    return {"weight_ih_l" + s, "weight_hh_l" + s, "bias_ih_l" + s, "bias_hh_l" + s};
  }
  const auto p = keras_layer_prefix(k, cell) + "/" + to_string(cell) + "_cell/";
  return {p + "kernel", p + "recurrent_kernel", p + "bias", ""};
}

// Keras' GRU columns are z, r, h; ours r, z, n. The swap of the first two blocks is its own inverse.
torch::Tensor swap_rz(const torch::Tensor& t, int64_t H) {
  return torch::cat({t.narrow(-1, H, H), t.narrow(-1, 0, H), t.narrow(-1, 2 * H, H)}, -1);
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

const EnumNames<WeightNaming>& naming_names() {
  static const EnumNames<WeightNaming> names(
      "weight naming", {{WeightNaming::PyTorch, "pytorch"}, {WeightNaming::Keras, "keras"}});
  return names;
}

std::string to_string(WeightNaming naming) { return naming_names().name(naming); }
WeightNaming parse_naming(const std::string& text) { return naming_names().parse(text); }

std::string keras_layer_prefix(int64_t layer, CellKind cell) {
  const auto base = to_string(cell);
  return layer == 0 ? base : base + "_" + std::to_string(layer);
}

void check_stack(const StackWeights& stack, CellKind cell, const std::string& where) {
  const int64_t gates = gate_count(cell);
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
    if (cell == CellKind::Gru) {
      TORCH_CHECK(w.b_hn.defined(), where, ": ", layer, " of a GRU needs b_hn, the recurrent bias of n");
      expect_size(w.b_hn, {H}, layer + " b_hn", where);
    }
  }
}

NamedTensors to_named(const StackWeights& stack, WeightNaming naming, CellKind cell) {
  NamedTensors named;
  for (size_t k = 0; k < stack.size(); ++k) {
    const auto& w = stack[k];
    const auto n = names_for(static_cast<int64_t>(k), naming, cell);
    const int64_t H = w.W_h.size(0);
    if (naming == WeightNaming::PyTorch) {
      named.emplace_back(n.input, w.W_x.t().contiguous());
      named.emplace_back(n.recurrent, w.W_h.t().contiguous());
      named.emplace_back(n.bias, w.b.clone());
      auto bias_hh = torch::zeros_like(w.b);
      if (cell == CellKind::Gru) bias_hh.narrow(0, 2 * H, H).copy_(w.b_hn);
      named.emplace_back(n.second_bias, bias_hh);
    } else if (cell == CellKind::Lstm) {
      named.emplace_back(n.input, w.W_x.clone());
      named.emplace_back(n.recurrent, w.W_h.clone());
      named.emplace_back(n.bias, w.b.clone());
    } else {
      // reset_after=True: [2, 3H], input biases then recurrent ones; only h's recurrent one is ours.
      auto recurrent_bias = torch::zeros_like(w.b);
      recurrent_bias.narrow(0, 2 * H, H).copy_(w.b_hn);
      named.emplace_back(n.input, swap_rz(w.W_x, H));
      named.emplace_back(n.recurrent, swap_rz(w.W_h, H));
      named.emplace_back(n.bias, torch::stack({swap_rz(w.b, H), swap_rz(recurrent_bias, H)}));
    }
  }
  return named;
}

StackWeights from_named(const std::map<std::string, torch::Tensor>& named, WeightNaming naming,
                        CellKind cell, const std::string& where) {
  // Layers are 0..L-1 with no gaps; L is read off the names present.
  int64_t layers = 0;
  while (named.count(names_for(layers, naming, cell).recurrent)) ++layers;
  TORCH_CHECK(layers > 0, where, ": no '", names_for(0, naming, cell).recurrent, "' found; expected ",
              to_string(naming), " names such as ", names_for(0, naming, cell).input);
  std::set<std::string> used;
  StackWeights stack;
  for (int64_t k = 0; k < layers; ++k) {
    const auto n = names_for(k, naming, cell);
    const auto& input = lookup(named, n.input, where, layers);
    const auto& recurrent = lookup(named, n.recurrent, where, layers);
    const auto& bias = lookup(named, n.bias, where, layers);
    used.insert({n.input, n.recurrent, n.bias});
    LayerWeights w;
    TORCH_CHECK(input.dim() == 2 && recurrent.dim() == 2, where, ": expected '", n.input, "' and '",
                n.recurrent, "' of 2 dimensions, got ", input.sizes(), " and ", recurrent.sizes());
    const int64_t H = naming == WeightNaming::PyTorch ? recurrent.size(1) : recurrent.size(0);
    const int64_t G = gate_count(cell) * H;
    if (naming == WeightNaming::PyTorch) {
      const auto& bias_hh = lookup(named, n.second_bias, where, layers);
      used.insert(n.second_bias);
      expect_size(bias_hh, {bias.numel()}, n.second_bias, where);
      w = {input.t().contiguous(), recurrent.t().contiguous(), bias + bias_hh, {}};
      if (cell == CellKind::Gru && bias.numel() == G) {
        w.b.narrow(0, 2 * H, H).copy_(bias.narrow(0, 2 * H, H));  // b_in alone
        w.b_hn = bias_hh.narrow(0, 2 * H, H).clone();
      }
    } else if (cell == CellKind::Lstm) {
      w = {input.clone(), recurrent.clone(), bias.clone(), {}};
    } else {
      TORCH_CHECK(input.size(-1) == G && recurrent.size(-1) == G, where, ": expected '", n.input,
                  "' and '", n.recurrent, "' with ", G, " columns (z, r, h), got ", input.sizes(),
                  " and ", recurrent.sizes());
      TORCH_CHECK((bias.dim() == 2 && bias.size(0) == 2 && bias.size(1) == G) ||
                      (bias.dim() == 1 && bias.size(0) == G),
                  where, ": expected '", n.bias, "' of size [2, ", G, "] (reset_after=True) or [",
                  G, "] (reset_after=False), got ", bias.sizes());
      w.W_x = swap_rz(input, H);
      w.W_h = swap_rz(recurrent, H);
      if (bias.dim() == 2) {
        const auto in_bias = swap_rz(bias[0], H);
        const auto rec_bias = swap_rz(bias[1], H);
        w.b = in_bias.clone();
        w.b.narrow(0, 0, 2 * H).add_(rec_bias.narrow(0, 0, 2 * H));
        w.b_hn = rec_bias.narrow(0, 2 * H, H).clone();
      } else {
        w.b = swap_rz(bias, H);
        w.b_hn = torch::zeros({H}, bias.options());
      }
    }
    stack.push_back(w);
  }
  for (const auto& [name, tensor] : named) {
    TORCH_CHECK(used.count(name), where, ": unexpected tensor '", name, "' of size ",
                tensor.sizes(), " for a ", layers, "-layer ", to_string(naming), " stack");
  }
  check_stack(stack, cell, where);
  return stack;
}

}  // namespace lstmlab

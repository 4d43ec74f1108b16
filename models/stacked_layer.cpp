#include "models/stacked_layer.h"

#include "models/input_checks.h"
#include "models/kernels/token_rows.h"
#include "models/weight_init.h"
#include "models/weight_layout.h"

#include <torch/torch.h>

#include <stdexcept>

namespace lstmlab {

const EnumNames<ScratchBackward>& scratch_backward_names() {
  static const EnumNames<ScratchBackward> names(
      "scratch backward", {{ScratchBackward::Fused, "fused"}, {ScratchBackward::Autograd, "autograd"}});
  return names;
}

std::string to_string(ScratchBackward mode) { return scratch_backward_names().name(mode); }
ScratchBackward parse_scratch_backward(const std::string& text) {
  return scratch_backward_names().parse(text);
}

StackedLayerImpl::StackedLayerImpl(std::string name, const RecurrentOptions& options,
                                   CellKind cell)
    : RecurrentLayerImpl(std::move(name)), options_(options), cell_(cell) {
  check_options(options_, this->name());
}

RecurrentOutput StackedLayerImpl::forward(const torch::Tensor& input,
                                          const std::optional<RecurrentState>& state) {
  const auto in = check_input(name(), input, options_, reference_weight());
  const auto initial =
      check_state(name(), state, in, options_, has_cell_state(cell_), reference_weight());
  const auto out = run(in.x, initial);
  return {restore_output(out.output, in, options_), restore_state(out.state, in)};
}

RecurrentOutput StackedLayerImpl::forward_tokens(const torch::Tensor& ids,
                                                 const std::optional<RecurrentState>& state) {
  const auto weight = reference_weight();
  TORCH_CHECK(ids.defined() && ids.dim() == 2 && is_token_ids(ids), name(),
              ": expected token ids of size ",
              options_.batch_first() ? "(batch, seq_len)" : "(seq_len, batch)",
              " in an integer dtype, got ", ids.defined() ? ids.sizes() : torch::IntArrayRef{},
              ids.defined() ? " of dtype " + std::string(c10::toString(ids.scalar_type())) : "");
  if (!gathers_token_rows()) {
    return forward(torch::one_hot(ids.to(torch::kLong), options_.input_size()).to(weight.options()),
                   state);
  }
  TORCH_CHECK(ids.device() == weight.device(), name(), ": the token ids are on ", ids.device(),
              " but the layer's weights are on ", weight.device(), "; move one with .to(device)");
  const TimeMajorInput in{options_.batch_first() ? ids.transpose(0, 1) : ids, false};
  TORCH_CHECK(in.x.size(0) > 0 && in.x.size(1) > 0, name(),
              ": expected at least one time step and one sequence, got token ids of size ",
              ids.sizes());
  const auto initial = check_state(name(), state, in, options_, has_cell_state(cell_), weight);
  const auto out = run(in.x, initial);
  return {restore_output(out.output, in, options_), out.state};
}

void StackedLayerImpl::pretty_print(std::ostream& stream) const {
  stream << "lstmlab::" << name() << "(input_size=" << options_.input_size()
         << ", hidden_size=" << options_.hidden_size() << ", num_layers=" << options_.num_layers()
         << ", batch_first=" << (options_.batch_first() ? "true" : "false")
         << ", dropout=" << options_.dropout();
  if (cell_ == CellKind::Lstm) stream << ", activation=" << to_string(options_.activation());
  if (options_.recurrent_activation() != GateActivation::Sigmoid) {
    stream << ", recurrent_activation=" << to_string(options_.recurrent_activation());
  }
  if (cell_ == CellKind::Gru) stream << ", reset_after=" << (options_.reset_after() ? "true" : "false");
  stream << ", init=" << to_string(options_.init()) << extra_repr() << ")";
}

ScratchStackImpl::ScratchStackImpl(std::string name, const RecurrentOptions& options,
                                   CellKind cell)
    : StackedLayerImpl(std::move(name), options, cell) {
  reset();
}

void ScratchStackImpl::reset() {
  const int64_t H = options_.hidden_size();
  const int64_t G = gate_count() * H;
  W_x_.clear();
  W_h_.clear();
  b_.clear();
  b_hn_.clear();
  for (int64_t k = 0; k < options_.num_layers(); ++k) {
    const int64_t in = k == 0 ? options_.input_size() : H;
    const auto s = std::to_string(k);
    W_x_.push_back(register_parameter("W_x_l" + s, torch::empty({in, G})));
    W_h_.push_back(register_parameter("W_h_l" + s, torch::empty({H, G})));
    b_.push_back(register_parameter("b_l" + s, torch::empty({G})));
    if (cell() == CellKind::Gru) b_hn_.push_back(register_parameter("b_hn_l" + s, torch::empty({H})));
  }
  reset_parameters();
}

void ScratchStackImpl::reset_parameters() {
  set_weights(initial_weights(cell(), options_, torch::kFloat));
}

LayerWeights ScratchStackImpl::layer(int64_t k) const {
  const auto i = static_cast<size_t>(k);
  return {W_x_.at(i), W_h_.at(i), b_.at(i), b_hn_.empty() ? torch::Tensor() : b_hn_.at(i)};
}

StackWeights ScratchStackImpl::get_weights() const {
  StackWeights stack;
  for (size_t k = 0; k < W_x_.size(); ++k) {
    const auto w = layer(static_cast<int64_t>(k));
    stack.push_back({w.W_x.detach().clone(), w.W_h.detach().clone(), w.b.detach().clone(),
                     w.b_hn.defined() ? w.b_hn.detach().clone() : w.b_hn});
  }
  return stack;
}

void ScratchStackImpl::set_weights(const StackWeights& weights) {
  check_stack(weights, cell(), name() + ".set_weights");
  TORCH_CHECK(weights.size() == W_x_.size(), name(), ".set_weights: expected ", W_x_.size(),
              " layers, got ", weights.size());
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < W_x_.size(); ++k) {
    TORCH_CHECK(weights[k].W_x.sizes() == W_x_[k].sizes(), name(), ".set_weights: layer ", k,
                " expects W_x of size ", W_x_[k].sizes(), ", got ", weights[k].W_x.sizes());
    TORCH_CHECK(weights[k].W_h.sizes() == W_h_[k].sizes(), name(), ".set_weights: layer ", k,
                " expects W_h of size ", W_h_[k].sizes(), ", got ", weights[k].W_h.sizes());
    W_x_[k].copy_(weights[k].W_x);
    W_h_[k].copy_(weights[k].W_h);
    b_[k].copy_(weights[k].b);
    if (!b_hn_.empty()) b_hn_[k].copy_(weights[k].b_hn);
  }
}

StackWeights ScratchStackImpl::get_weight_grads() const {
  StackWeights grads;
  for (size_t k = 0; k < W_x_.size(); ++k) {
    grads.push_back({W_x_[k].grad(), W_h_[k].grad(), b_[k].grad(),
                     b_hn_.empty() ? torch::Tensor() : b_hn_[k].grad()});
  }
  return grads;
}

RecurrentOutput ScratchStackImpl::run(const torch::Tensor& x_in, const RecurrentState& initial) {
  const int64_t L = options_.num_layers();
  const bool cell_state = initial.c.defined();
  std::vector<torch::Tensor> h_n, c_n;
  torch::Tensor x = x_in;
  for (int64_t k = 0; k < L; ++k) {
    auto [out, h_T, c_T] =
        run_layer(layer(k), x, initial.h[k], cell_state ? initial.c[k] : torch::Tensor());
    h_n.push_back(h_T);
    if (cell_state) c_n.push_back(c_T);
    if (k + 1 < L && options_.dropout() > 0.0) {
      out = torch::dropout(out, options_.dropout(), is_training());
    }
    x = out;
  }
  return {x, {torch::stack(h_n), cell_state ? torch::stack(c_n) : torch::Tensor()}};
}

std::string ScratchStackImpl::extra_repr() const {
  return ", backward=" + to_string(backward_mode_);
}

}  // namespace lstmlab

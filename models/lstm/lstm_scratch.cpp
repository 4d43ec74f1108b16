#include "models/lstm/lstm_scratch.h"

#include "models/input_checks.h"
#include "models/lstm/lstm_fused.h"
#include "models/weight_init.h"
#include "models/weight_layout.h"

#include <torch/torch.h>

#include <stdexcept>

namespace lstmlab {
namespace {

torch::Tensor activate(const torch::Tensor& t, Activation act) {
  return act == Activation::Tanh ? torch::tanh(t) : torch::relu(t);
}

}  // namespace

std::string to_string(ScratchBackward mode) {
  return mode == ScratchBackward::Autograd ? "autograd" : "fused";
}

ScratchBackward parse_scratch_backward(const std::string& text) {
  if (text == "autograd") return ScratchBackward::Autograd;
  if (text == "fused") return ScratchBackward::Fused;
  throw std::invalid_argument("unknown scratch backward '" + text +
                              "' (allowed: fused, autograd)");
}

LSTMStep lstm_cell_projected(const torch::Tensor& xw_t, const torch::Tensor& h,
                             const torch::Tensor& c, const torch::Tensor& W_h, Activation act) {
  const auto gates = torch::addmm(xw_t, h, W_h);  // [B, G]: the step's one matrix product
  const auto parts = gates.chunk(4, 1);
  LSTMStep step;
  step.input_gate = torch::sigmoid(parts[0]);
  step.forget_gate = torch::sigmoid(parts[1]);
  step.candidate = activate(parts[2], act);
  step.output_gate = torch::sigmoid(parts[3]);
  step.c = step.forget_gate * c + step.input_gate * step.candidate;
  step.h = step.output_gate * activate(step.c, act);
  return step;
}

LSTMStep lstm_cell(const torch::Tensor& x_t, const torch::Tensor& h, const torch::Tensor& c,
                   const LayerWeights& w, Activation act) {
  return lstm_cell_projected(torch::addmm(w.b, x_t, w.W_x), h, c, w.W_h, act);
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_layer_autograd(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const LayerWeights& w, Activation act) {
  const int64_t T = x.size(0);
  const int64_t B = x.size(1);
  const int64_t I = x.size(2);
  const int64_t G = w.W_x.size(1);
  // Every step's input projection in one matrix product: [T*B, I] x [I, G].
  const auto xw = torch::addmm(w.b, x.reshape({T * B, I}), w.W_x).view({T, B, G});
  std::vector<torch::Tensor> outputs;
  outputs.reserve(static_cast<size_t>(T));
  torch::Tensor h = h0;
  torch::Tensor c = c0;
  for (int64_t t = 0; t < T; ++t) {
    auto step = lstm_cell_projected(xw[t], h, c, w.W_h, act);
    h = step.h;
    c = step.c;
    outputs.push_back(h);
  }
  return {torch::stack(outputs), h, c};
}

LSTMScratchImpl::LSTMScratchImpl(const RecurrentOptions& options)
    : RecurrentLayerImpl("LSTMScratch"), options_(options) {
  reset();
}

void LSTMScratchImpl::reset() {
  check_options(options_, name());
  const int64_t H = options_.hidden_size();
  const int64_t G = 4 * H;
  W_x_.clear();
  W_h_.clear();
  b_.clear();
  for (int64_t k = 0; k < options_.num_layers(); ++k) {
    const int64_t in = k == 0 ? options_.input_size() : H;
    const auto s = std::to_string(k);
    W_x_.push_back(register_parameter("W_x_l" + s, torch::empty({in, G})));
    W_h_.push_back(register_parameter("W_h_l" + s, torch::empty({H, G})));
    b_.push_back(register_parameter("b_l" + s, torch::empty({G})));
  }
  reset_parameters();
}

void LSTMScratchImpl::reset_parameters() {
  set_weights(initial_lstm_weights(options_, torch::kFloat));
}

StackWeights LSTMScratchImpl::get_weights() const {
  StackWeights stack;
  for (size_t k = 0; k < W_x_.size(); ++k) {
    stack.push_back({W_x_[k].detach().clone(), W_h_[k].detach().clone(), b_[k].detach().clone()});
  }
  return stack;
}

void LSTMScratchImpl::set_weights(const StackWeights& weights) {
  check_stack(weights, gate_count(), name() + ".set_weights");
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
  }
}

StackWeights LSTMScratchImpl::get_weight_grads() const {
  StackWeights grads;
  for (size_t k = 0; k < W_x_.size(); ++k) {
    grads.push_back({W_x_[k].grad(), W_h_[k].grad(), b_[k].grad()});
  }
  return grads;
}

RecurrentOutput LSTMScratchImpl::forward(const torch::Tensor& input,
                                         const std::optional<RecurrentState>& state) {
  const auto in = check_input(name(), input, options_, W_x_[0]);
  const auto initial = check_state(name(), state, in, options_, /*has_cell=*/true);
  const int64_t L = options_.num_layers();
  std::vector<torch::Tensor> h_n, c_n;
  torch::Tensor x = in.x;
  for (int64_t k = 0; k < L; ++k) {
    const auto w = layer(k);
    auto [out, h_T, c_T] =
        backward_mode_ == ScratchBackward::Fused
            ? lstm_layer_fused(x, initial.h[k], initial.c[k], w.W_x, w.W_h, w.b,
                               options_.activation())
            : lstm_layer_autograd(x, initial.h[k], initial.c[k], w, options_.activation());
    h_n.push_back(h_T);
    c_n.push_back(c_T);
    if (k + 1 < L && options_.dropout() > 0.0) {
      out = torch::dropout(out, options_.dropout(), is_training());
    }
    x = out;
  }
  return {restore_output(x, in, options_),
          restore_state({torch::stack(h_n), torch::stack(c_n)}, in)};
}

void LSTMScratchImpl::pretty_print(std::ostream& stream) const {
  stream << "lstmlab::LSTMScratch(input_size=" << options_.input_size()
         << ", hidden_size=" << options_.hidden_size() << ", num_layers=" << options_.num_layers()
         << ", batch_first=" << (options_.batch_first() ? "true" : "false")
         << ", dropout=" << options_.dropout() << ", activation=" << to_string(options_.activation())
         << ", init=" << to_string(options_.init())
         << ", backward=" << to_string(backward_mode_) << ")";
}

}  // namespace lstmlab

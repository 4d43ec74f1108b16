#include "models/gru/gru_scratch.h"

#include "models/gru/gru_fused.h"

#include <torch/torch.h>

namespace lstmlab {

GRUStep gru_cell(const torch::Tensor& x_t, const torch::Tensor& h, const LayerWeights& w,
                 bool reset_after) {
  const int64_t H = w.W_h.size(0);
  const auto xw = torch::addmm(w.b, x_t, w.W_x);  // [B, G]: every gate's input part and bias
  GRUStep s;
  if (reset_after) {
    const auto hw = torch::mm(h, w.W_h);  // [B, G]: the step's one recurrent product
    s.reset_gate = torch::sigmoid(xw.narrow(1, 0, H) + hw.narrow(1, 0, H));
    s.update_gate = torch::sigmoid(xw.narrow(1, H, H) + hw.narrow(1, H, H));
    s.candidate = torch::tanh(xw.narrow(1, 2 * H, H) + s.reset_gate * (hw.narrow(1, 2 * H, H) + w.b_hn));
  } else {
    const auto hw = torch::mm(h, w.W_h.narrow(1, 0, 2 * H));  // r and z
    s.reset_gate = torch::sigmoid(xw.narrow(1, 0, H) + hw.narrow(1, 0, H));
    s.update_gate = torch::sigmoid(xw.narrow(1, H, H) + hw.narrow(1, H, H));
    s.candidate = torch::tanh(xw.narrow(1, 2 * H, H) +
                              torch::mm(s.reset_gate * h, w.W_h.narrow(1, 2 * H, H)));
  }
  s.h = (1 - s.update_gate) * s.candidate + s.update_gate * h;
  return s;
}

std::tuple<torch::Tensor, torch::Tensor> gru_layer_autograd(const torch::Tensor& x,
                                                            const torch::Tensor& h0,
                                                            const LayerWeights& w,
                                                            bool reset_after) {
  std::vector<torch::Tensor> outputs;
  outputs.reserve(static_cast<size_t>(x.size(0)));
  torch::Tensor h = h0;
  for (int64_t t = 0; t < x.size(0); ++t) {
    h = gru_cell(x[t], h, w, reset_after).h;
    outputs.push_back(h);
  }
  return {torch::stack(outputs), h};
}

GRUScratchImpl::GRUScratchImpl(const RecurrentOptions& options)
    : ScratchStackImpl("GRUScratch", options, CellKind::Gru) {
  TORCH_CHECK(options_.activation() == Activation::Tanh, name(),
              ": activation=relu is not available: the GRU's candidate is tanh");
  TORCH_CHECK(options_.recurrent_activation() == GateActivation::Sigmoid, name(),
              ": recurrent_activation=hard_sigmoid is for the scratch LSTM; the GRU's gates are "
              "sigmoid");
  if (!options_.reset_after()) {
    torch::NoGradGuard no_grad;
    for (auto& b_hn : b_hn_) {
      b_hn.zero_();
      b_hn.set_requires_grad(false);
    }
  }
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> GRUScratchImpl::run_layer(
    const LayerWeights& w, const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor&) {
  const bool reset_after = options_.reset_after();
  auto [out, h_T] = backward_mode() == ScratchBackward::Fused
                        ? gru_layer_fused(x, h0, w.W_x, w.W_h, w.b, w.b_hn, reset_after)
                        : gru_layer_autograd(x, h0, w, reset_after);
  return {out, h_T, torch::Tensor()};
}

}  // namespace lstmlab

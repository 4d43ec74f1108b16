#include "models/lstm/lstm_scratch.h"

#include "models/lstm/lstm_fused.h"

#include <torch/torch.h>


namespace lstmlab {
namespace {

torch::Tensor activate(const torch::Tensor& t, Activation act) {
  return act == Activation::Tanh ? torch::tanh(t) : torch::relu(t);
}

// Keras' hard_sigmoid up to 2.2: a straight line through (0, 0.5) of slope 0.2, clipped to [0, 1].
torch::Tensor gate(const torch::Tensor& t, GateActivation act) {
  return act == GateActivation::Sigmoid ? torch::sigmoid(t) : torch::clamp(t * 0.2 + 0.5, 0.0, 1.0);
}

}  // namespace

LSTMStep lstm_cell_projected(const torch::Tensor& xw_t, const torch::Tensor& h,
                             const torch::Tensor& c, const torch::Tensor& W_h, Activation act,
                             GateActivation gate_act) {
  const auto gates = torch::addmm(xw_t, h, W_h);  // [B, G]: the step's one matrix product
  const auto parts = gates.chunk(4, 1);
  LSTMStep step;
  step.input_gate = gate(parts[0], gate_act);
  step.forget_gate = gate(parts[1], gate_act);
  step.candidate = activate(parts[2], act);
  step.output_gate = gate(parts[3], gate_act);
  step.c = step.forget_gate * c + step.input_gate * step.candidate;
  step.h = step.output_gate * activate(step.c, act);
  return step;
}

LSTMStep lstm_cell(const torch::Tensor& x_t, const torch::Tensor& h, const torch::Tensor& c,
                   const LayerWeights& w, Activation act, GateActivation gate_act) {
  return lstm_cell_projected(torch::addmm(w.b, x_t, w.W_x), h, c, w.W_h, act, gate_act);
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_layer_autograd(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const LayerWeights& w, Activation act, GateActivation gate_act) {
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
    auto step = lstm_cell_projected(xw[t], h, c, w.W_h, act, gate_act);
    h = step.h;
    c = step.c;
    outputs.push_back(h);
  }
  return {torch::stack(outputs), h, c};
}

LSTMScratchImpl::LSTMScratchImpl(const RecurrentOptions& options)
    : ScratchStackImpl("LSTMScratch", options, CellKind::Lstm) {}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> LSTMScratchImpl::run_layer(
    const LayerWeights& w, const torch::Tensor& x, const torch::Tensor& h0,
    const torch::Tensor& c0) {
  const auto gate_act = options_.recurrent_activation();
  if (backward_mode() == ScratchBackward::Fused) {
    TORCH_CHECK(gate_act == GateActivation::Sigmoid, name(),
                ": recurrent_activation hard_sigmoid runs on the autograd path only; the fused "
                "path computes sigmoid gates (use --scratch-backward autograd)");
    return lstm_layer_fused(x, h0, c0, w.W_x, w.W_h, w.b, options_.activation());
  }
  return lstm_layer_autograd(x, h0, c0, w, options_.activation(), gate_act);
}

}  // namespace lstmlab

#pragma once
// LSTMScratch: the LSTM arithmetic written out, on fused weights.
//
// Shapes: T time, B batch, I input features, H hidden units, G = 4H gate columns in the order
// i (input gate), f (forget gate), g (candidate, d2l's "input node" c), o (output gate).
//
//   gates = x_t W_x + h_{t-1} W_h + b                    [B, G]
//   i, f, o = gate_act(gates_i), gate_act(gates_f), gate_act(gates_o)   (sigmoid or hard_sigmoid)
//   g = act(gates_g)
//   c_t = f * c_{t-1} + i * g
//   h_t = o * act(c_t)

#include "models/stacked_layer.h"

#include <torch/nn/pimpl.h>

#include <ostream>
#include <tuple>

namespace lstmlab {

/// Everything one step computes, for tracing and for teaching. All [B, H].
struct LSTMStep {
  torch::Tensor input_gate, forget_gate, candidate, output_gate;  // i, f, g, o
  torch::Tensor c, h;                                              // new long- and short-term memory
};

/// One step from raw input. x_t: [B, I]; h, c: [B, H]; w: one layer's canonical weights.
LSTMStep lstm_cell(const torch::Tensor& x_t, const torch::Tensor& h, const torch::Tensor& c,
                   const LayerWeights& w, Activation act,
                   GateActivation gate_act = GateActivation::Sigmoid);

/// One step from a precomputed input projection xw_t = x_t W_x + b: [B, G]. The sequence function
/// uses this, so its time loop holds one addmm for the four gates.
LSTMStep lstm_cell_projected(const torch::Tensor& xw_t, const torch::Tensor& h,
                             const torch::Tensor& c, const torch::Tensor& W_h, Activation act,
                             GateActivation gate_act = GateActivation::Sigmoid);

/// One layer over a sequence with autograd doing the backward.
/// x: [T, B, I]; h0, c0: [B, H]. Returns {out [T, B, H], h_T, c_T}.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_layer_autograd(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const LayerWeights& w, Activation act, GateActivation gate_act = GateActivation::Sigmoid);

class LSTMScratchImpl : public ScratchStackImpl {
 public:
  LSTMScratchImpl(int64_t input_size, int64_t hidden_size)
      : LSTMScratchImpl(RecurrentOptions(input_size, hidden_size)) {}
  /// recurrent_activation hard_sigmoid runs on the autograd path only: the fused path refuses it.
  explicit LSTMScratchImpl(const RecurrentOptions& options);

  /// d2l's per-gate names, as views into the fused weights of layer `k` (no copies):
  /// W_x* [I_k, H], W_h* [H, H], b_* [H]; i input gate, f forget gate, o output gate, c input node.
  torch::Tensor W_xi(int64_t k = 0) const { return gate(W_x_.at(k), 0); }
  torch::Tensor W_xf(int64_t k = 0) const { return gate(W_x_.at(k), 1); }
  torch::Tensor W_xc(int64_t k = 0) const { return gate(W_x_.at(k), 2); }
  torch::Tensor W_xo(int64_t k = 0) const { return gate(W_x_.at(k), 3); }
  torch::Tensor W_hi(int64_t k = 0) const { return gate(W_h_.at(k), 0); }
  torch::Tensor W_hf(int64_t k = 0) const { return gate(W_h_.at(k), 1); }
  torch::Tensor W_hc(int64_t k = 0) const { return gate(W_h_.at(k), 2); }
  torch::Tensor W_ho(int64_t k = 0) const { return gate(W_h_.at(k), 3); }
  torch::Tensor b_i(int64_t k = 0) const { return gate(b_.at(k), 0); }
  torch::Tensor b_f(int64_t k = 0) const { return gate(b_.at(k), 1); }
  torch::Tensor b_c(int64_t k = 0) const { return gate(b_.at(k), 2); }
  torch::Tensor b_o(int64_t k = 0) const { return gate(b_.at(k), 3); }

 private:
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> run_layer(
      const LayerWeights& w, const torch::Tensor& x, const torch::Tensor& h0,
      const torch::Tensor& c0) override;
};

TORCH_MODULE(LSTMScratch);

}  // namespace lstmlab

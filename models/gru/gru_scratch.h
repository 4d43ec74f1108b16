#pragma once
// GRUScratch: the GRU arithmetic written out on fused weights, PyTorch's formulation.
//
// Shapes: T time, B batch, I input features, H hidden units, G = 3H gate columns in the order
// r (reset gate), z (update gate), n (candidate).
//
//   r = sigmoid(x_t W_xr + h W_hr + b_r)          b_r = b_ir + b_hr (merged)
//   z = sigmoid(x_t W_xz + h W_hz + b_z)
//   n = tanh(x_t W_xn + b_in + r * (h W_hn + b_hn))           reset after the product (default)
//   n = tanh(x_t W_xn + b_in + (r * h) W_hn)                  reset before (d2l, Keras
//                                                              reset_after=False)
//   h' = (1 - z) * n + z * h

#include "models/stacked_layer.h"

#include <torch/nn/pimpl.h>

namespace lstmlab {

/// Everything one step computes, for tracing and teaching. All [B, H].
struct GRUStep {
  torch::Tensor reset_gate, update_gate, candidate, h;  // r, z, n, new h
};

/// One step from raw input. x_t: [B, I]; h: [B, H]; w: one layer's canonical weights.
GRUStep gru_cell(const torch::Tensor& x_t, const torch::Tensor& h, const LayerWeights& w,
                 bool reset_after);

/// One layer over a sequence with autograd doing the backward. x: [T, B, I]; h0: [B, H].
/// Returns {out [T, B, H], h_T}.
std::tuple<torch::Tensor, torch::Tensor> gru_layer_autograd(const torch::Tensor& x,
                                                            const torch::Tensor& h0,
                                                            const LayerWeights& w,
                                                            bool reset_after);

class GRUScratchImpl : public ScratchStackImpl {
 public:
  GRUScratchImpl(int64_t input_size, int64_t hidden_size)
      : GRUScratchImpl(RecurrentOptions(input_size, hidden_size)) {}
  /// Refuses activation=relu (the candidate is tanh). reset_after=false runs d2l's variant; its
  /// b_hn is held at zero, since (r * h) W_hn has no bias of its own.
  explicit GRUScratchImpl(const RecurrentOptions& options);

  /// d2l's per-gate names, as views into the fused weights of layer `k` (no copies):
  /// W_x* [I_k, H], W_h* [H, H], b_* [H]; r reset gate, z update gate, h candidate.
  torch::Tensor W_xr(int64_t k = 0) const { return gate(W_x_.at(k), 0); }
  torch::Tensor W_xz(int64_t k = 0) const { return gate(W_x_.at(k), 1); }
  torch::Tensor W_xh(int64_t k = 0) const { return gate(W_x_.at(k), 2); }
  torch::Tensor W_hr(int64_t k = 0) const { return gate(W_h_.at(k), 0); }
  torch::Tensor W_hz(int64_t k = 0) const { return gate(W_h_.at(k), 1); }
  torch::Tensor W_hh(int64_t k = 0) const { return gate(W_h_.at(k), 2); }
  torch::Tensor b_r(int64_t k = 0) const { return gate(b_.at(k), 0); }
  torch::Tensor b_z(int64_t k = 0) const { return gate(b_.at(k), 1); }
  torch::Tensor b_h(int64_t k = 0) const { return gate(b_.at(k), 2); }

 private:
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> run_layer(
      const LayerWeights& w, const torch::Tensor& x, const torch::Tensor& h0,
      const torch::Tensor& c0) override;
};

TORCH_MODULE(GRUScratch);

}  // namespace lstmlab

#pragma once
// The fused GRU layer: one layer over a whole sequence with a hand-derived backward through time,
// the GRU counterpart of models/lstm/lstm_fused.h: a few large matrix products, one or two small ones
// per step and one fused element-wise pass per product, instead of autograd's dozen small ops.
//
// Letters (the legend of models/recurrent_layer.h): T time steps, B batch, I input features,
// H hidden units, G = 3H gate width, the gates side by side in PyTorch's order r, z, n.
//
// Bias layout: b [3H] = [b_ir + b_hr, b_iz + b_hz, b_in], the r and z biases merged since they
// only ever add; b_hn [H] apart, because with the reset gate after the product it sits inside
// r * (h W_hn + b_hn). From torch::nn::GRU: W_x = weight_ih^T, W_h = weight_hh^T,
// b = bias_ih + [bias_hh_r, bias_hh_z, 0], b_hn = bias_hh_n.

#include <torch/types.h>

#include <tuple>

namespace lstmlab {

/// One GRU layer over a whole sequence, differentiable w.r.t. every tensor argument, with a
/// hand-derived backward through time (a custom torch::autograd::Function).
/// x: [T, B, I], or token ids [T, B] for one-hot rows of W_x (models/kernels/token_rows.h);
/// h0: [B, H]; W_x: [I, 3H]; W_h: [H, 3H]; b: [3H]; b_hn: [H] or undefined (zeros).
/// Returns {out [T, B, H], h_T [B, H]}.
///
/// reset_after = true (torch::nn::GRU, Keras reset_after=True): one [B, H] x [H, 3H] product a step,
///   r = sigmoid(x W_xr + h W_hr + b_r),  z = sigmoid(x W_xz + h W_hz + b_z),
///   n = tanh(x W_xn + b_in + r * (h W_hn + b_hn)),  h' = (1 - z) * n + z * h.
/// reset_after = false (d2l, Keras reset_after=False): n = tanh(x W_xn + b_in + (r * h) W_hn), two
///   products a step (r and z first, then n from r * h). b_hn has no place there: it must be
///   undefined or all zeros (c10::Error otherwise), and its grad is undefined.
///
/// On the CPU in float32 and float64 the element-wise gate arithmetic is a raw loop parallelised
/// over the batch rows, and the backward's [T, B, 4H] (or 3H) gate grads go to the per-thread
/// buffer of models/kernels/cpu_rows.h; elsewhere the arithmetic is the ATen-op form of
/// gru_layer_fused_reference_ops. Differentiable once: a backward run with create_graph=true
/// throws c10::Error.
std::tuple<torch::Tensor, torch::Tensor> gru_layer_fused(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& W_x,
    const torch::Tensor& W_h, const torch::Tensor& b, const torch::Tensor& b_hn,
    bool reset_after = true);

/// The same layer, forward and backward, with the element-wise gate arithmetic written as ATen ops
/// on tensor slices on every device and dtype: the path gru_layer_fused takes off the CPU (and for
/// dtypes other than float32/float64). Exposed so that the CPU tests can hold it to the raw loop.
std::tuple<torch::Tensor, torch::Tensor> gru_layer_fused_reference_ops(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& W_x,
    const torch::Tensor& W_h, const torch::Tensor& b, const torch::Tensor& b_hn,
    bool reset_after = true);

}  // namespace lstmlab

#pragma once
// The fast scratch LSTM layer: one layer over a whole sequence with a hand-derived backward through
// time, so that training pays for a few large matrix products, one small product per step and one
// fused element-wise pass per step, instead of autograd's dozen small ops and allocations per step.
//
// Letters (the legend of models/recurrent_layer.h): T time steps, B batch, I input features,
// H hidden units, G = 4H gate width, the gates side by side in the order i, f, g, o.

#include "models/recurrent_options.h"

#include <torch/types.h>

#include <tuple>

namespace lstmlab {

/// One LSTM layer over a whole sequence, differentiable w.r.t. every argument, with a hand-derived
/// backward through time (a custom torch::autograd::Function).
/// x: [T, B, I], or token ids [T, B] for one-hot rows of W_x (models/kernels/token_rows.h);
/// h0, c0: [B, H]; W_x: [I, 4H]; W_h: [H, 4H]; b: [4H]; gates in order i, f, g, o.
/// Returns {out [T, B, H], h_T [B, H], c_T [B, H]}.
///
/// On the CPU in float32 and float64 the element-wise gate arithmetic is a raw loop parallelised
/// over the batch rows, and the backward keeps its [T, B, 4H] scratch buffer per thread between
/// calls (the largest seen) rather than page-faulting a fresh one in each time; elsewhere the
/// arithmetic is the ATen-op form of lstm_layer_fused_reference_ops.
/// Differentiable once: a backward run with create_graph=true throws c10::Error.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_layer_fused(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const torch::Tensor& W_x, const torch::Tensor& W_h, const torch::Tensor& b, Activation act);

/// The same layer, forward and backward, with the element-wise gate arithmetic written as ATen ops
/// on tensor slices on every device and dtype: the path lstm_layer_fused takes off the CPU (and for
/// dtypes other than float32/float64). Exposed so that the CPU tests can hold it to the raw loop.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_layer_fused_reference_ops(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const torch::Tensor& W_x, const torch::Tensor& W_h, const torch::Tensor& b, Activation act);

}  // namespace lstmlab

#pragma once
// The fused time loop, written once for every cell over its StepPolicy
// (models/kernels/step_policy.h): forward in time_loop_forward.cpp, backward through time in
// time_loop_backward.cpp.
//
// Forward: A = x W_x + b for all T*B rows in one product, then per step and phase one recurrent
// product and one element-wise pass. Backward, t = T-1 .. 0: per phase one pass and one product,
// dh (and dc) carried from step to step; then the weight and input grads over all T*B rows at
// once: dx = dA W_x^T, dW_x = x^T dA, db = sum dA, dW_h from the policy.
//
// Letters as in step_policy.h.

#include "models/kernels/step_policy.h"

#include <torch/types.h>

namespace lstmlab {

/// RawRows for CPU float32/float64, TensorOps everywhere else.
StepExecutor default_executor(const torch::Tensor& x);

/// One layer's inputs, each contiguous. x [T, B, I], or token ids [T, B] (int64) standing for
/// one-hot rows (models/kernels/token_rows.h); h0 [B, H]; c0 [B, H] (cells with a cell state, else
/// undefined); W_x [I, G]; W_h [H, G]; b [G].
struct LayerInputs {
  torch::Tensor x, h0, c0, W_x, W_h, b;
};

/// Runs the forward and returns what its backward needs (out is the layer's output).
SequenceBuffers time_loop_forward(StepPolicy& policy, StepExecutor executor,
                                  const LayerInputs& in);

/// Which grads a caller wants (autograd's needs_input_grad).
struct GradsWanted {
  bool x = true, h0 = true, c0 = true, W_x = true, W_h = true, b = true, recurrent_bias = true;
};

/// The layer's grads; those not wanted are undefined.
struct LayerGrads {
  torch::Tensor x, h0, c0, W_x, W_h, b, recurrent_bias;
};

/// The incoming grads; any may be undefined (zero). dout [T, B, H], any layout; dh_T, dc_T [B, H].
struct OutputGrads {
  torch::Tensor dout, dh_T, dc_T;
};

/// Backward through time from the forward's buffers.
LayerGrads time_loop_backward(StepPolicy& policy, StepExecutor executor, const LayerInputs& in,
                              const SequenceBuffers& buffers, const OutputGrads& grads,
                              const GradsWanted& wanted);

/// h_{0..T-1}^T d: [H, N], the product most cells' dW_h is; d is columns [offset, offset + width)
/// of dgates [T, B, D]. In two pieces (h0, then out's steps 0 .. T-2) so that nothing is copied.
torch::Tensor prev_states_times(const torch::Tensor& h0, const torch::Tensor& out,
                                const torch::Tensor& dgates, int64_t offset, int64_t width);

}  // namespace lstmlab

#pragma once
// What a recurrent cell supplies to the fused time loop (models/kernels/time_loop.h): its widths,
// its recurrent products and its element-wise steps, forward and backward. The loop owns the rest
// (the all-steps input product, the per-step products, the saved buffers, the walk back through
// time, the carried state grads, the weight grads and the row splitting), written once for every
// cell, as Haste's `Run` drives its `Iterate`.
//
// A step is a short list of phases: each forward phase is one recurrent product followed by one
// element-wise pass over the step's rows; each backward phase is one element-wise pass followed by
// one product. The LSTM and the PyTorch GRU have one phase each way; the d2l GRU, whose reset gate
// enters before its n product, has two.
//
// Letters: T time steps, B batch, I input features, H hidden units, G gate width (4H LSTM, 3H GRU),
// D the row width of the gate grads (G, or more where a cell keeps extra grads beside them),
// E the width of what a step saves for the backward besides gates and states (0 if nothing).

#include "models/kernels/cpu_rows.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace lstmlab {

/// How the element-wise passes run. The time loop is the same for each; only the pass differs.
enum class StepExecutor {
  RawRows,      ///< CPU float/double: the policy's row loops, split over the intra-op threads
  TensorOps,    ///< any device and dtype: the policy's ATen ops on the step's tensors
  CudaKernels,  ///< CUDA float/double: one fused kernel launch a phase (models/kernels/cuda/)
};

/// The widths of one cell, for a layer of H hidden units.
struct CellWidths {
  int64_t gates;        ///< G: gate pre-activations (then activations) of one row
  int64_t grad_width;   ///< D >= G: a row of the gate grads, ending in dA = dL/d(x W_x + b) [G]
  int64_t saved_width;  ///< E: what one step keeps besides gates, h and c ([T, B, E]); 0: nothing
  bool has_cell_state;  ///< an LSTM's c: saved c_0 .. c_T, its grad carried back beside dh
};

/// Which state a forward product multiplies.
enum class ProductSource {
  PreviousState,  ///< h_{t-1}
  Saved,          ///< this step's saved [B, E] block, written by the phase before (d2l's r * h)
};

/// One forward phase's recurrent product. Into the gates: gates_t[:, gate_offset, +N) += src W.
/// Apart (bias defined): u = src W + bias, a [B, N] buffer the element-wise pass reads.
struct ForwardProduct {
  ProductSource source;
  torch::Tensor weight;  ///< [H, N]
  int64_t gate_offset = 0;
  torch::Tensor bias;  ///< [N] when apart; undefined when into the gates
};

/// Where a backward product goes.
enum class GradTarget {
  State,    ///< dh, the grad carried to h_{t-1}: skipped at t = 0 when nothing wants dh0
  Scratch,  ///< a [B, H] buffer the next phase's pass reads (d2l's dq)
};

/// One backward phase's product: target (+)= dgates_t[:, grad_offset, +N) weight_t.
struct BackwardProduct {
  torch::Tensor weight_t;  ///< [N, H]
  int64_t grad_offset = 0;
  int64_t width = 0;  ///< N
  GradTarget target = GradTarget::State;
  bool accumulate = false;  ///< add to the target, or overwrite it
};

/// One forward step's buffers for the row loops; each [B, width] at row stride width.
/// gates [G]: pre-activations in, activations out; u [N]: the apart product (or null);
/// h_prev, h, c_prev, c [H] (c_* null without a cell state); saved [E] out (null when E = 0).
template <typename scalar_t>
struct ForwardRows {
  scalar_t* gates;
  const scalar_t* u;
  const scalar_t* h_prev;
  scalar_t* h;
  const scalar_t* c_prev;
  scalar_t* c;
  scalar_t* saved;
  int64_t H;
};

/// One backward step's buffers for the row loops. gates, h_prev, c_prev, c, saved as the forward
/// left them; dout: this step's out grad (any layout); dh [B, H]: the grad carried to h_t less
/// dout_t, which the pass reads and may rewrite before the State product; dc [B, H]: carried,
/// in and out (null without a cell state); dq [B, H]: the Scratch product; dgates [B, D] out.
template <typename scalar_t>
struct BackwardRows {
  const scalar_t* gates;
  const scalar_t* h_prev;
  const scalar_t* c_prev;
  const scalar_t* c;
  const scalar_t* saved;
  StridedRows<scalar_t> dout;
  scalar_t* dh;
  scalar_t* dc;
  const scalar_t* dq;
  scalar_t* dgates;
  int64_t H;
};

/// The same steps as tensors, for the TensorOps executor: step t of each buffer, [B, width].
/// In the backward, dh is the whole grad of h_t (dout_t already added).
struct StepTensors {
  int64_t t;
  torch::Tensor h_prev, h, c_prev, c, u;  // undefined where a cell has none
  torch::Tensor dh, dc, dq;               // backward only
};

/// The whole-sequence buffers a layer's forward leaves for its backward.
/// gates [T, B, G] activations; out [T, B, H] h_1 .. h_T; cells [T + 1, B, H] c_0 .. c_T (or
/// undefined); saved [T, B, E] (or undefined).
struct SequenceBuffers {
  torch::Tensor gates, out, cells, saved;
};

/// The cell's side of the fused time loop. One object serves one layer call (it may hold per-call
/// views and scratch for its TensorOps passes, made once so that the time loop makes none).
class StepPolicy {
 public:
  virtual ~StepPolicy() = default;

  virtual CellWidths widths() const = 0;

  /// The forward phases' products, from W_h [H, G] (and any recurrent bias the cell holds).
  virtual std::vector<ForwardProduct> forward_products(const torch::Tensor& W_h) const = 0;
  /// The backward phases' products, as many as forward phases.
  virtual std::vector<BackwardProduct> backward_products(const torch::Tensor& W_h) const = 0;

  /// RawRows: phase `phase` of a step over rows [begin, end).
  virtual void forward_rows(int phase, const ForwardRows<float>& s, int64_t begin,
                            int64_t end) const = 0;
  virtual void forward_rows(int phase, const ForwardRows<double>& s, int64_t begin,
                            int64_t end) const = 0;
  virtual void backward_rows(int phase, const BackwardRows<float>& s, int64_t begin,
                             int64_t end) const = 0;
  virtual void backward_rows(int phase, const BackwardRows<double>& s, int64_t begin,
                             int64_t end) const = 0;

  /// CudaKernels: whether this cell has them in this build (a CUDA LibTorch, LSTMLAB_WITH_CUDA).
  virtual bool has_kernels() const { return false; }
  /// CudaKernels: phase `phase` of a step over all `B` rows as one launch on `stream` (a
  /// cudaStream_t); the buffers are device pointers in the RawRows layout. Throws c10::Error when
  /// the launch fails. Called only where has_kernels().
  virtual void forward_kernel(int /*phase*/, const ForwardRows<float>& /*s*/, int64_t /*B*/,
                              void* /*stream*/) const {}
  virtual void forward_kernel(int /*phase*/, const ForwardRows<double>& /*s*/, int64_t /*B*/,
                              void* /*stream*/) const {}
  virtual void backward_kernel(int /*phase*/, const BackwardRows<float>& /*s*/, int64_t /*B*/,
                               void* /*stream*/) const {}
  virtual void backward_kernel(int /*phase*/, const BackwardRows<double>& /*s*/, int64_t /*B*/,
                               void* /*stream*/) const {}

  /// TensorOps: called once before a time loop with the sequence buffers (and, backward, the
  /// [T, B, D] gate grads), so that the passes below can slice them once.
  virtual void bind_forward_ops(const SequenceBuffers& buffers) = 0;
  virtual void bind_backward_ops(const SequenceBuffers& buffers, const torch::Tensor& dgates) = 0;
  virtual void forward_ops(int phase, const StepTensors& s) = 0;
  virtual void backward_ops(int phase, const StepTensors& s) = 0;

  /// dL/dW_h [H, G] in W_h's column order, from the gate grads dgates [T, B, D]; h0 and the
  /// buffers give the states each step read (prev_states_times in time_loop.h serves most cells).
  virtual torch::Tensor recurrent_weight_grad(const torch::Tensor& h0,
                                              const SequenceBuffers& buffers,
                                              const torch::Tensor& dgates) const = 0;
  /// The grad of a recurrent bias the cell keeps apart (GRU's b_hn); undefined if none.
  virtual torch::Tensor recurrent_bias_grad(const torch::Tensor& /*dgates*/) const { return {}; }
};

}  // namespace lstmlab

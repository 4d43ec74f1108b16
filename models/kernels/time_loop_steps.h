#pragma once
// What the fused time loop's forward and backward (time_loop_forward.cpp, time_loop_backward.cpp)
// both read off a layer call: its sizes, and where each step's block of a buffer lies.

#include "models/kernels/time_loop.h"

#include <cstdint>

#if LSTMLAB_WITH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace lstmlab {

/// The executor a loop runs: a cell without CUDA kernels (d2l's GRU) runs TensorOps on CUDA.
inline StepExecutor executor_for(StepExecutor requested, const StepPolicy& policy) {
  return requested == StepExecutor::CudaKernels && !policy.has_kernels() ? StepExecutor::TensorOps
                                                                         : requested;
}

/// Where a CUDA executor launches its kernels: LibTorch's current stream on x's device, so that
/// they queue behind the step's matrix products.
inline void* cuda_stream_of(const torch::Tensor& x) {
#if LSTMLAB_WITH_CUDA
  return c10::cuda::getCurrentCUDAStream(x.device().index()).stream();
#else
  (void)x;
  return nullptr;
#endif
}

/// The sizes of one layer call. Letters as in step_policy.h.
struct LoopSizes {
  int64_t T, B, I, H;
  CellWidths widths;

  LoopSizes(const StepPolicy& policy, const LayerInputs& in)
      : T(in.x.size(0)),
        B(in.x.size(1)),
        I(in.W_x.size(0)),
        H(in.W_h.size(0)),
        widths(policy.widths()) {}
};

/// Step t's [B, W] block of a [S, B, W] buffer, or null where the cell has no such buffer.
template <typename scalar_t>
scalar_t* step_or_null(const torch::Tensor& buffer, int64_t t) {
  return buffer.defined() ? step_ptr<scalar_t>(buffer, t) : nullptr;
}

/// h_{t-1}: h0 at t = 0, else out's step t-1.
template <typename scalar_t>
scalar_t* previous_state(const LayerInputs& in, const SequenceBuffers& buffers, int64_t t) {
  return t == 0 ? in.h0.data_ptr<scalar_t>() : step_ptr<scalar_t>(buffers.out, t - 1);
}

/// Step t's tensors for a TensorOps pass: the states it reads and writes.
inline StepTensors step_tensors(int64_t t, const torch::Tensor& h_prev, const torch::Tensor& h,
                                const std::vector<torch::Tensor>& cell_steps) {
  StepTensors step;
  step.t = t;
  step.h_prev = h_prev;
  step.h = h;
  if (!cell_steps.empty()) {
    step.c_prev = cell_steps[t];
    step.c = cell_steps[t + 1];
  }
  return step;
}

}  // namespace lstmlab

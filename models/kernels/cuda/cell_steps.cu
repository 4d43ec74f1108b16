// The CUDA launches of models/kernels/cuda/cell_steps.h: one thread an element (row, unit), a 1-D
// grid over B * H, each thread calling the element math the CPU tests check.

#include "models/kernels/cuda/cell_steps.h"

#include "models/kernels/cell_element_math.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace lstmlab {
namespace cuda {
namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t elements) { return static_cast<int>((elements + kThreads - 1) / kThreads); }

template <typename T>
__global__ void lstm_step_kernel(LstmStep<T> s) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= s.B * s.H) return;
  cell_math::lstm_forward(s.gates, s.c_prev, s.c, s.act_c, s.h, s.H, e / s.H, e % s.H, s.use_tanh);
}

template <typename T>
__global__ void lstm_step_grad_kernel(LstmStepGrad<T> s) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= s.B * s.H) return;
  const int64_t r = e / s.H;
  const int64_t j = e % s.H;
  const T dout_e = s.dout[r * s.dout_row_stride + j * s.dout_col_stride];
  cell_math::lstm_backward(s.gates, s.c_prev, s.c, s.act_c, s.dh, dout_e, s.dc, s.dgates, s.H, r, j,
                           s.use_tanh);
}

template <typename T>
__global__ void gru_step_kernel(GruStep<T> s) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= s.B * s.H) return;
  cell_math::gru_forward(s.gates, s.u, s.h_prev, s.h, s.u_n, s.H, e / s.H, e % s.H);
}

template <typename T>
__global__ void gru_step_grad_kernel(GruStepGrad<T> s) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= s.B * s.H) return;
  const int64_t r = e / s.H;
  const int64_t j = e % s.H;
  const T dout_e = s.dout[r * s.dout_row_stride + j * s.dout_col_stride];
  cell_math::gru_backward(s.gates, s.u_n, s.h_prev, s.dh, dout_e, s.dgates, s.H, r, j);
}

template <typename Kernel, typename Step>
int launch(Kernel kernel, const Step& step, void* stream) {
  const int64_t elements = step.B * step.H;
  if (elements == 0) return 0;
  kernel<<<blocks_for(elements), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(step);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

template <typename T>
int launch_lstm_step(const LstmStep<T>& step, void* stream) {
  return launch(lstm_step_kernel<T>, step, stream);
}
template <typename T>
int launch_lstm_step_grad(const LstmStepGrad<T>& step, void* stream) {
  return launch(lstm_step_grad_kernel<T>, step, stream);
}
template <typename T>
int launch_gru_step(const GruStep<T>& step, void* stream) {
  return launch(gru_step_kernel<T>, step, stream);
}
template <typename T>
int launch_gru_step_grad(const GruStepGrad<T>& step, void* stream) {
  return launch(gru_step_grad_kernel<T>, step, stream);
}

const char* error_text(int rc) { return cudaGetErrorString(static_cast<cudaError_t>(rc)); }

template int launch_lstm_step<float>(const LstmStep<float>&, void*);
template int launch_lstm_step<double>(const LstmStep<double>&, void*);
template int launch_lstm_step_grad<float>(const LstmStepGrad<float>&, void*);
template int launch_lstm_step_grad<double>(const LstmStepGrad<double>&, void*);
template int launch_gru_step<float>(const GruStep<float>&, void*);
template int launch_gru_step<double>(const GruStep<double>&, void*);
template int launch_gru_step_grad<float>(const GruStepGrad<float>&, void*);
template int launch_gru_step_grad<double>(const GruStepGrad<double>&, void*);

}  // namespace cuda
}  // namespace lstmlab

#pragma once
// The fused element-wise step of the LSTM and the PyTorch GRU on a CUDA device: one kernel launch
// a step each way, beside the step's one matrix product, as Haste's and cuDNN's layers run. Raw
// device pointers and a stream, no LibTorch: the layer's CUDA executor (a thin LibTorch-facing
// wrapper) hands them the time loop's buffers (layouts in models/kernels/step_policy.h). The
// arithmetic per element is models/kernels/cell_element_math.h, tested on the CPU.
// Defined in cell_steps.cu for float and double; built only where the LibTorch has CUDA.

#include <cstdint>

namespace lstmlab {
namespace cuda {

/// One LSTM step's buffers, device pointers. gates [B, 4H]: pre-activations in, activations out;
/// act_c [B, H]: act(c) out (tanh only, else null); dout [B, H] at (row_stride, col_stride).
template <typename T>
struct LstmStep {
  T* gates;
  const T* c_prev;
  T* c;
  T* act_c;
  T* h;
  int64_t B, H;
  bool use_tanh;
};

template <typename T>
struct LstmStepGrad {
  const T* gates;
  const T* c_prev;
  const T* c;
  const T* act_c;
  const T* dh;
  const T* dout;
  int64_t dout_row_stride, dout_col_stride;
  T* dc;      ///< [B, H] in and out
  T* dgates;  ///< [B, 4H] out
  int64_t B, H;
  bool use_tanh;
};

/// One GRU step (reset after the product): gates [B, 3H] x W_x + b in, activations out;
/// u [B, 3H] = h_{t-1} W_h + [0, 0, b_hn]; u_n [B, H] out.
template <typename T>
struct GruStep {
  T* gates;
  const T* u;
  const T* h_prev;
  T* h;
  T* u_n;
  int64_t B, H;
};

template <typename T>
struct GruStepGrad {
  const T* gates;
  const T* u_n;
  const T* h_prev;
  const T* dout;
  int64_t dout_row_stride, dout_col_stride;
  T* dh;      ///< [B, H] in (carried, less dout) and out (dh_t z)
  T* dgates;  ///< [B, 4H] out: du_n, dr, dz, dn
  int64_t B, H;
};

/// Launch on `stream` (a cudaStream_t); returns the launch's cudaError_t as an int (0: success),
/// so that this header needs no CUDA include.
template <typename T>
int launch_lstm_step(const LstmStep<T>& step, void* stream);
template <typename T>
int launch_lstm_step_grad(const LstmStepGrad<T>& step, void* stream);
template <typename T>
int launch_gru_step(const GruStep<T>& step, void* stream);
template <typename T>
int launch_gru_step_grad(const GruStepGrad<T>& step, void* stream);

/// CUDA's name and message for a launch's result.
const char* error_text(int rc);

}  // namespace cuda
}  // namespace lstmlab

#pragma once
// One element (row r, unit j) of the LSTM's and the PyTorch GRU's fused step, forward and
// backward, as functions a CUDA kernel calls per thread (models/kernels/cuda/cell_steps.cu) and a
// CPU test calls per element against autograd (tests/models/kernels/test_cell_element_math.cpp).
// They are the equations of the CPU row loops of models/lstm/lstm_step.cpp and
// models/gru/gru_step.cpp, on the same buffer layouts (models/kernels/step_policy.h), with the
// math library's exp and tanh; the row loops use gate_exp's inline exponential and are arranged in
// passes for the CPU's vector units, so the two are written apart. Plain C++ with no LibTorch:
// nvcc compiles it as device code.

#if defined(__CUDACC__)
#define LSTMLAB_HOST_DEVICE __host__ __device__
#else
#define LSTMLAB_HOST_DEVICE
#endif

#include <cmath>
#include <cstdint>

namespace lstmlab {
namespace cell_math {

// exp and tanh of T's own precision: CUDA's overloads on the device, the standard library's here.
template <typename T>
LSTMLAB_HOST_DEVICE inline T exp_of(T v) {
#if defined(__CUDA_ARCH__)
  return ::exp(v);
#else
  return std::exp(v);
#endif
}

template <typename T>
LSTMLAB_HOST_DEVICE inline T tanh_of(T v) {
#if defined(__CUDA_ARCH__)
  return ::tanh(v);
#else
  return std::tanh(v);
#endif
}

template <typename T>
LSTMLAB_HOST_DEVICE inline T sigmoid(T v) {
  return T(1) / (T(1) + exp_of(-v));
}

template <typename T>
LSTMLAB_HOST_DEVICE inline T relu(T v) {
  return v < T(0) ? T(0) : v;  // NaN passes, as in torch::relu
}

/// The LSTM's candidate and cell activation: tanh, or relu for the Keras port.
template <typename T>
LSTMLAB_HOST_DEVICE inline T activate(T v, bool use_tanh) {
  return use_tanh ? tanh_of(v) : relu(v);
}

/// act'(v) from a = act(v).
template <typename T>
LSTMLAB_HOST_DEVICE inline T activation_grad(T a, bool use_tanh) {
  return use_tanh ? T(1) - a * a : (a > T(0) ? T(1) : T(0));
}

/// LSTM forward, one element. gates: row r of [B, 4H] in i, f, g, o order, pre-activations in,
/// activations out; c_prev, c: [B, H]; act_c: [B, H] act(c) kept for the backward (tanh only; null
/// for relu, which the backward recomputes); h: [B, H]. `e` = r * H + j.
template <typename T>
LSTMLAB_HOST_DEVICE inline void lstm_forward(T* gates, const T* c_prev, T* c, T* act_c, T* h,
                                             int64_t H, int64_t r, int64_t j, bool use_tanh) {
  T* row = gates + r * 4 * H;
  const T i = sigmoid(row[j]);
  const T f = sigmoid(row[H + j]);
  const T g = activate(row[2 * H + j], use_tanh);
  const T o = sigmoid(row[3 * H + j]);
  row[j] = i;
  row[H + j] = f;
  row[2 * H + j] = g;
  row[3 * H + j] = o;
  const int64_t e = r * H + j;
  const T ct = f * c_prev[e] + i * g;
  const T a = activate(ct, use_tanh);
  c[e] = ct;
  if (act_c) act_c[e] = a;
  h[e] = o * a;
}

/// LSTM backward, one element. gates: the forward's activations; dh: [B, H] the grad carried to
/// h_t (less dout); dout_e: this step's output grad at the element; dc: [B, H] carried, in (the
/// grad of c_t) and out (of c_{t-1}); dgates: row r of [B, 4H] out, the pre-activation grads.
template <typename T>
LSTMLAB_HOST_DEVICE inline void lstm_backward(const T* gates, const T* c_prev, const T* c,
                                              const T* act_c, const T* dh, T dout_e, T* dc,
                                              T* dgates, int64_t H, int64_t r, int64_t j,
                                              bool use_tanh) {
  const T* row = gates + r * 4 * H;
  T* drow = dgates + r * 4 * H;
  const int64_t e = r * H + j;
  const T i = row[j];
  const T f = row[H + j];
  const T g = row[2 * H + j];
  const T o = row[3 * H + j];
  const T a = act_c ? act_c[e] : relu(c[e]);
  const T dht = dh[e] + dout_e;
  const T dct = dc[e] + dht * o * activation_grad(a, use_tanh);
  drow[j] = dct * g * i * (T(1) - i);
  drow[H + j] = dct * c_prev[e] * f * (T(1) - f);
  drow[2 * H + j] = dct * i * activation_grad(g, use_tanh);
  drow[3 * H + j] = dht * a * o * (T(1) - o);
  dc[e] = dct * f;
}

/// GRU forward (PyTorch's, reset after the product), one element. gates: row r of [B, 3H] in r,
/// z, n order, x W_x + b in, activations out; u: row r of [B, 3H], h_{t-1} W_h + [0, 0, b_hn];
/// h_prev, h: [B, H]; u_n: [B, H] the n block of u, kept for the backward.
template <typename T>
LSTMLAB_HOST_DEVICE inline void gru_forward(T* gates, const T* u, const T* h_prev, T* h, T* u_n,
                                            int64_t H, int64_t r, int64_t j) {
  T* row = gates + r * 3 * H;
  const T* urow = u + r * 3 * H;
  const T rt = sigmoid(row[j] + urow[j]);
  const T zt = sigmoid(row[H + j] + urow[H + j]);
  const T un = urow[2 * H + j];
  const T nt = tanh_of(row[2 * H + j] + rt * un);
  row[j] = rt;
  row[H + j] = zt;
  row[2 * H + j] = nt;
  const int64_t e = r * H + j;
  u_n[e] = un;
  h[e] = nt + zt * (h_prev[e] - nt);
}

/// GRU backward, one element. dh: [B, H] the grad carried to h_t (less dout) in, the part of the
/// grad of h_{t-1} that flows through z out (dh_t z; the product adds the rest); dgates: row r of
/// [B, 4H] out: du_n, dr, dz, dn (dn and du_n the grads of n's two pre-activation parts).
template <typename T>
LSTMLAB_HOST_DEVICE inline void gru_backward(const T* gates, const T* u_n, const T* h_prev, T* dh,
                                             T dout_e, T* dgates, int64_t H, int64_t r,
                                             int64_t j) {
  const T* row = gates + r * 3 * H;
  T* drow = dgates + r * 4 * H;
  const int64_t e = r * H + j;
  const T rt = row[j];
  const T zt = row[H + j];
  const T nt = row[2 * H + j];
  const T dht = dh[e] + dout_e;
  const T dn = dht * (T(1) - zt) * (T(1) - nt * nt);
  drow[j] = dn * rt;
  drow[H + j] = dn * u_n[e] * rt * (T(1) - rt);
  drow[2 * H + j] = dht * (h_prev[e] - nt) * zt * (T(1) - zt);
  drow[3 * H + j] = dn;
  dh[e] = dht * zt;
}

}  // namespace cell_math
}  // namespace lstmlab

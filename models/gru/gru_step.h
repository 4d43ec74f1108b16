#pragma once
// The GRU's step for the fused time loop (models/kernels/time_loop.h), PyTorch's formulation with
// the reset gate after the recurrent product (reset_after, torch::nn::GRU, Keras reset_after=True)
// or d2l's with it before (Keras reset_after=False): its widths, its recurrent products and its
// element-wise gate arithmetic, forward and backward, as raw row loops and as ATen ops.
//
// Letters: T time steps, B batch, I input features, H hidden units, G = 3H gate width, each row of
// G holding the gates r, z, n side by side. h_{t-1} is the state a step reads (h_0 = h0).
//
// Forward, per step (a_t = x_t W_x + b [B, G] of every step is the loop's one product before it):
//   reset after the product, one product, apart from the gates:  u = h_{t-1} W_h + [0, 0, b_hn]
//     r = sigmoid(a_r + u_r),  z = sigmoid(a_z + u_z),  n = tanh(a_n + r u_n)
//   reset before it, two phases, each product into the gates:
//     r, z from a_rz + h_{t-1} W_h,rz;  q = r h_{t-1};  then n = tanh(a_n + q W_h,n)
//   h_t = (1 - z) n + z h_{t-1}, computed as n + z (h_{t-1} - n)
// Saved: r, z, n [T, B, G]; u_n (after) or q (before) [T, B, H]; out = h_1 .. h_T.
// Backward, t = T-1 .. 0, with dh = dout_t + the grad step t+1 sent back to h_t (at t = T-1, the
// h_T grad); dr, dz, dn are the grads of the pre-activations:
//   dz = dh (h_{t-1} - n) z(1-z),  dn = dh (1-z)(1-n^2)
//   after:   dr = dn u_n r(1-r),  du_n = dn r;   dh_{t-1} = dh z + [dr, dz, du_n] W_h^T
//   before:  dq = dn W_h,n^T,  dr = dq h_{t-1} r(1-r);   dh_{t-1} = dh z + dq r + [dr, dz] W_h,rz^T
// and over all T*B rows, with dA = [dr, dz, dn] the grad of a_t (the loop's dW_x, db, dx):
//   after:   dW_h = h_{0..T-1}^T [dr, dz, du_n],  db_hn = sum du_n
//   before:  dW_h = [h_{0..T-1}^T [dr, dz],  q^T dn]
//
// The after backward writes each row's grads as [du_n, dr, dz, dn] (D = 4H): columns H..4H are dA
// in W_x's order and columns 0..3H are the grad of u in the order n, r, z, so both products read
// one buffer in place; the per-step product takes W_h^T with its rows in that order, and dW_h comes
// out in it and is put back in r, z, n order (one [H, 3H] copy).

#include "models/kernels/step_policy.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>

namespace lstmlab {

/// The GRU's step policy for one layer call of H hidden units. b_hn [H]: the recurrent n bias
/// (reset_after; undefined or zeros otherwise, and unused); a backward's policy needs none.
std::unique_ptr<StepPolicy> make_gru_step(int64_t hidden_size, bool reset_after,
                                          torch::Tensor b_hn = {});

}  // namespace lstmlab

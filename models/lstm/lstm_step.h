#pragma once
// The LSTM's step for the fused time loop (models/kernels/time_loop.h): its widths, its one
// recurrent product and its element-wise gate arithmetic, forward and backward, as raw row loops
// and as ATen ops.
//
// Letters: T time steps, B batch, I input features, H hidden units, G = 4H gate width, each row of
// G holding the gates i, f, g, o side by side.
//
// Forward, per step (the x part of every step is the loop's one product before it):
//   gates_t = x_t W_x + b + h_{t-1} W_h                       [B, G], activated in place and saved
//   i, f, o = sigmoid(.), g = act(.);  c_t = f c_{t-1} + i g;  h_t = o act(c_t)
// Backward, t = T-1 .. 0, with dh = dout_t + dG_{t+1} W_h^T (dh_T from the h_T grad) and dc carried
// (from the c_T grad):
//   dc += dh o act'(c_t)
//   do = dh act(c_t) o(1-o),  di = dc g i(1-i),  df = dc c_{t-1} f(1-f),  dg = dc i act'(g)
//   dc <- dc f
// and the loop's products: dh_{t-1} = dG W_h^T, dW_h = h_{0..T-1}^T dG.
// act'(v) is read off a = act(v): tanh 1 - a^2, relu [a > 0] (0 at 0, as torch).

#include "models/kernels/step_policy.h"
#include "models/recurrent_options.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>

namespace lstmlab {

/// The LSTM's step policy for one layer call of H hidden units.
std::unique_ptr<StepPolicy> make_lstm_step(int64_t hidden_size, Activation act);

}  // namespace lstmlab

#pragma once
// The argument checks of a fused layer call (models/lstm/lstm_fused.h, models/gru/gru_fused.h),
// written once: each names the layer, what it expected and what it got.

#include "models/kernels/time_loop.h"

#include <torch/types.h>

#include <cstdint>

namespace lstmlab {

/// x [T, B, I] floating with T, B, I > 0, or token ids [T, B] each in [0, I); W_h [H, kH];
/// W_x [I, kH]; b [kH]; h0 [B, H]; c0 [B, H] when the cell has a cell state (else not looked at);
/// each of x's dtype (W_h's for token ids) and device.
/// k: gates per hidden unit (4 LSTM, 3 GRU). Throws c10::Error naming `layer`.
void check_layer_inputs(const char* layer, int64_t k, bool has_cell_state, const LayerInputs& in);

/// `name` of x's dtype and device (or undefined). Throws c10::Error naming `layer`.
void check_like_x(const char* layer, const char* name, const torch::Tensor& t,
                  const torch::Tensor& x);

}  // namespace lstmlab

#pragma once
// Token ids as a fused layer's input (models/kernels/time_loop.h): x [T, B] of integer ids stands
// for one-hot rows over W_x's I rows, so x W_x is a gather of W_x's rows and x^T dA a sum of dA's
// rows per id. For a character model over a vocabulary of a few dozen letters that replaces the
// one-hot tensor and two [T*B, I] x [I, G] products, whose I is too thin for a fast product, with
// one pass over the rows each way.
//
// Letters as in models/kernels/step_policy.h; N = T*B rows.

#include "models/kernels/cpu_rows.h"

#include <torch/types.h>

#include <cstdint>

namespace lstmlab {

/// Whether a layer input is token ids (an integral dtype) rather than features.
inline bool is_token_ids(const torch::Tensor& x) {
  return x.defined() && at::isIntegralType(x.scalar_type(), /*includeBool=*/false);
}

/// The input as the time loop reads it: ids as contiguous int64, features contiguous.
torch::Tensor contiguous_layer_input(const torch::Tensor& x);

/// Throws c10::Error naming `layer` unless every id lies in [0, I). CPU ids only: on a GPU the
/// gather's own device-side bounds check stands in, without a sync per call.
void check_token_ids(const char* layer, const torch::Tensor& ids, int64_t I);

/// rows [n, G] (contiguous) = W_x[ids] + b for the n ids at `ids`, on the CPU in float32/float64:
/// a loop body for RowSplitter over [begin, end).
template <typename scalar_t>
void gather_token_rows(const int64_t* ids, const scalar_t* W_x, const scalar_t* b, scalar_t* rows,
                       int64_t G, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const scalar_t* source = W_x + ids[r] * G;
    scalar_t* target = rows + r * G;
    for (int64_t j = 0; j < G; ++j) target[j] = source[j] + b[j];
  }
}

/// rows [N, G] = W_x[ids] + b on any device and dtype (ATen ops). ids [N] int64.
void gather_token_rows(const torch::Tensor& ids, const torch::Tensor& W_x, const torch::Tensor& b,
                       torch::Tensor& rows);

/// x^T dA for one-hot x: [I, G], row i the sum of dA's rows [N, G] (any row stride) whose id is i.
torch::Tensor token_rows_grad(const torch::Tensor& ids, const torch::Tensor& dA, int64_t I);

}  // namespace lstmlab

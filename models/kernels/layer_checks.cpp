#include "models/kernels/layer_checks.h"

#include "models/kernels/token_rows.h"

#include <c10/util/Exception.h>

namespace lstmlab {

void check_like_x(const char* layer, const char* name, const torch::Tensor& t,
                  const torch::Tensor& x) {
  if (!t.defined()) return;
  TORCH_CHECK(t.scalar_type() == x.scalar_type(), layer, ": expected ", name, " of dtype ",
              x.scalar_type(), " (that of x), got ", t.scalar_type());
  TORCH_CHECK(t.device() == x.device(), layer, ": expected ", name, " on ", x.device(),
              " (that of x), got ", t.device());
}

void check_layer_inputs(const char* layer, int64_t k, bool has_cell_state, const LayerInputs& in) {
  const torch::Tensor& x = in.x;
  for (const auto* t : {&in.x, &in.h0, &in.W_x, &in.W_h, &in.b}) {
    TORCH_CHECK(t->defined(), layer, ": x, h0, ", has_cell_state ? "c0, " : "",
                "W_x, W_h and b must be defined tensors");
  }
  TORCH_CHECK(!has_cell_state || in.c0.defined(), layer,
              ": x, h0, c0, W_x, W_h and b must be defined tensors");
  const bool tokens = is_token_ids(x);
  if (tokens) {
    TORCH_CHECK(x.dim() == 2, layer, ": expected a floating-point x of shape [T, B, I] or token ids "
                "of shape [T, B], got ", x.scalar_type(), " of shape ", x.sizes());
    TORCH_CHECK(x.size(0) > 0 && x.size(1) > 0, layer,
                ": expected token ids of shape [T, B] with T, B > 0, got ", x.sizes());
  } else {
    TORCH_CHECK(x.dim() == 3, layer, ": expected x of shape [T, B, I] (or token ids [T, B]), got ",
                x.sizes());
    TORCH_CHECK(x.size(0) > 0 && x.size(1) > 0 && x.size(2) > 0, layer,
                ": expected x of shape [T, B, I] with T, B, I > 0, got ", x.sizes());
  }
  const int64_t B = x.size(1);
  const torch::Tensor& W_h = in.W_h;
  TORCH_CHECK(W_h.dim() == 2 && W_h.size(0) > 0 && W_h.size(1) == k * W_h.size(0), layer,
              ": expected W_h of shape [H, ", k, "H], got ", W_h.sizes());
  const int64_t H = W_h.size(0);
  const int64_t G = k * H;
  if (tokens) {
    TORCH_CHECK(in.W_x.dim() == 2 && in.W_x.size(0) > 0 && in.W_x.size(1) == G, layer,
                ": expected W_x of shape [I, ", k, "H] = [I, ", G, "], got ", in.W_x.sizes());
  } else {
    const int64_t I = x.size(2);
    TORCH_CHECK(in.W_x.dim() == 2 && in.W_x.size(0) == I && in.W_x.size(1) == G, layer,
                ": expected W_x of shape [I, ", k, "H] = [", I, ", ", G, "], got ",
                in.W_x.sizes());
  }
  TORCH_CHECK(in.b.dim() == 1 && in.b.size(0) == G, layer, ": expected b of shape [", k, "H] = [",
              G, "], got ", in.b.sizes());
  const auto check_state = [&](const char* name, const torch::Tensor& state) {
    TORCH_CHECK(state.dim() == 2 && state.size(0) == B && state.size(1) == H, layer,
                ": expected ", name, " of shape [B, H] = [", B, ", ", H, "], got ", state.sizes());
  };
  check_state("h0", in.h0);
  if (has_cell_state) check_state("c0", in.c0);
  // Token ids: the weights' dtype is the layer's, and every id must name a row of W_x.
  const torch::Tensor& like = tokens ? W_h : x;
  TORCH_CHECK(at::isFloatingType(like.scalar_type()), layer, ": expected a floating-point ",
              tokens ? "W_h" : "x", ", got ", like.scalar_type());
  if (tokens) {
    TORCH_CHECK(x.device() == W_h.device(), layer, ": expected token ids on ", W_h.device(),
                " (that of W_h), got ", x.device());
    check_token_ids(layer, x, in.W_x.size(0));
  }
  check_like_x(layer, "h0", in.h0, like);
  if (has_cell_state) check_like_x(layer, "c0", in.c0, like);
  check_like_x(layer, "W_x", in.W_x, like);
  if (!tokens) check_like_x(layer, "W_h", in.W_h, like);
  check_like_x(layer, "b", in.b, like);
}

}  // namespace lstmlab

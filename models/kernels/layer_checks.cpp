#include "models/kernels/layer_checks.h"

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
  TORCH_CHECK(x.dim() == 3, layer, ": expected x of shape [T, B, I], got ", x.sizes());
  const int64_t T = x.size(0);
  const int64_t B = x.size(1);
  const int64_t I = x.size(2);
  TORCH_CHECK(T > 0 && B > 0 && I > 0, layer,
              ": expected x of shape [T, B, I] with T, B, I > 0, got ", x.sizes());
  const torch::Tensor& W_h = in.W_h;
  TORCH_CHECK(W_h.dim() == 2 && W_h.size(0) > 0 && W_h.size(1) == k * W_h.size(0), layer,
              ": expected W_h of shape [H, ", k, "H], got ", W_h.sizes());
  const int64_t H = W_h.size(0);
  const int64_t G = k * H;
  TORCH_CHECK(in.W_x.dim() == 2 && in.W_x.size(0) == I && in.W_x.size(1) == G, layer,
              ": expected W_x of shape [I, ", k, "H] = [", I, ", ", G, "], got ", in.W_x.sizes());
  TORCH_CHECK(in.b.dim() == 1 && in.b.size(0) == G, layer, ": expected b of shape [", k, "H] = [",
              G, "], got ", in.b.sizes());
  const auto check_state = [&](const char* name, const torch::Tensor& state) {
    TORCH_CHECK(state.dim() == 2 && state.size(0) == B && state.size(1) == H, layer,
                ": expected ", name, " of shape [B, H] = [", B, ", ", H, "], got ", state.sizes());
  };
  check_state("h0", in.h0);
  if (has_cell_state) check_state("c0", in.c0);
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), layer, ": expected a floating-point x, got ",
              x.scalar_type());
  check_like_x(layer, "h0", in.h0, x);
  if (has_cell_state) check_like_x(layer, "c0", in.c0, x);
  check_like_x(layer, "W_x", in.W_x, x);
  check_like_x(layer, "W_h", in.W_h, x);
  check_like_x(layer, "b", in.b, x);
}

}  // namespace lstmlab

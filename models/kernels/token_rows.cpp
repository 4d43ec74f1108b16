#include "models/kernels/token_rows.h"

#include <ATen/Dispatch.h>
#include <c10/util/Exception.h>

namespace lstmlab {

using torch::Tensor;

Tensor contiguous_layer_input(const Tensor& x) {
  return is_token_ids(x) ? x.to(at::kLong).contiguous() : x.contiguous();
}

void check_token_ids(const char* layer, const Tensor& ids, int64_t I) {
  if (!ids.device().is_cpu() || ids.numel() == 0) return;
  // Two reductions in place; the offending position is looked for only when there is one.
  const auto [lowest, highest] = at::aminmax(ids);
  if (lowest.item<int64_t>() >= 0 && highest.item<int64_t>() < I) return;
  const Tensor outside = ((ids < 0) | (ids >= I)).reshape(-1);
  const int64_t r = outside.nonzero().select(1, 0)[0].item<int64_t>();
  TORCH_CHECK(false, layer, ": token id ", ids.reshape(-1)[r].item<int64_t>(), " at position ", r,
              " of the input lies outside [0, ", I, "), the rows of W_x");
}

void gather_token_rows(const Tensor& ids, const Tensor& W_x, const Tensor& b, Tensor& rows) {
  at::index_select_out(rows, W_x, 0, ids);
  rows.add_(b);
}

Tensor token_rows_grad(const Tensor& ids, const Tensor& dA, int64_t I) {
  const int64_t N = dA.size(0);
  const int64_t G = dA.size(1);
  Tensor grad = at::zeros({I, G}, dA.options());
  const bool raw = dA.device().is_cpu() &&
                   (dA.scalar_type() == at::kFloat || dA.scalar_type() == at::kDouble) &&
                   dA.stride(1) == 1;
  if (!raw) return grad.index_add_(0, ids, dA);
  // Columns split over the threads, so that no two write the same element; each reads its
  // columns of every row.
  RowSplitter columns(G, N);
  AT_DISPATCH_FLOATING_TYPES(dA.scalar_type(), "token_rows_grad", [&] {
    const int64_t* id = ids.data_ptr<int64_t>();
    const scalar_t* source = dA.data_ptr<scalar_t>();
    const int64_t stride = dA.stride(0);
    scalar_t* target = grad.data_ptr<scalar_t>();
    columns.run([&](int64_t begin, int64_t end) {
      for (int64_t r = 0; r < N; ++r) {
        const scalar_t* row = source + r * stride;
        scalar_t* sum = target + id[r] * G;
        for (int64_t j = begin; j < end; ++j) sum[j] += row[j];
      }
    });
  });
  return grad;
}

}  // namespace lstmlab

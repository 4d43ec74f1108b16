#include "models/kernels/cpu_rows.h"

namespace lstmlab {

torch::Tensor kept_cpu_buffer(int64_t numel, at::ScalarType dtype) {
  thread_local torch::Tensor kept[2];  // float, double
  torch::Tensor& buffer = kept[dtype == at::kDouble ? 1 : 0];
  if (!buffer.defined() || buffer.numel() < numel) {
    buffer = torch::Tensor();  // the old one goes first: never both at once
    buffer = at::empty({numel}, at::TensorOptions().dtype(dtype));
  }
  return buffer.narrow(0, 0, numel);
}

}  // namespace lstmlab

#include "data/dataset.h"

#include <c10/util/Exception.h>

namespace lstmlab {

std::string to_string(Split split) {
  switch (split) {
    case Split::Train:
      return "train";
    case Split::Validation:
      return "validation";
    case Split::Test:
      return "test";
  }
  return "unknown split";
}

torch::Tensor Dataset::to_original_scale(const torch::Tensor& target) const { return target; }

void Dataset::check_indices(Split split, const torch::Tensor& indices) const {
  TORCH_CHECK(indices.defined(), name(), ": the indices of the ", to_string(split),
              " examples are undefined");
  TORCH_CHECK(indices.dim() == 1 && indices.scalar_type() == torch::kLong, name(),
              ": expected indices as a 1-D int64 tensor, got ", indices.scalar_type(),
              " of size ", indices.sizes());
  if (indices.numel() == 0) {
    return;
  }
  const int64_t n = size(split);
  const int64_t lowest = indices.min().item<int64_t>();
  const int64_t highest = indices.max().item<int64_t>();
  TORCH_CHECK(lowest >= 0 && highest < n, name(), ": the ", to_string(split), " split has ", n,
              " examples, so indices must lie in [0, ", n, "), got indices from ", lowest,
              " to ", highest);
}

}  // namespace lstmlab

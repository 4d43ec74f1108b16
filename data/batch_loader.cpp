#include "data/batch_loader.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace lstmlab {
namespace {

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

torch::Tensor to_device(const torch::Tensor& t, const LoaderOptions& options) {
  if (t.is_floating_point()) {
    return t.to(options.device, options.dtype);
  }
  return t.to(options.device);
}

}  // namespace

uint64_t epoch_seed(uint64_t seed, int64_t epoch_index) {
  return splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(epoch_index));
}

BatchLoader::BatchLoader(const Dataset& dataset, Split split, LoaderOptions options)
    : dataset_(dataset), split_(split), options_(options), size_(dataset.size(split)) {
  if (options_.batch_size < 0) {
    throw std::invalid_argument("--batch-size " + std::to_string(options_.batch_size) +
                                " is negative: give a positive number of examples per batch, "
                                "or 0 for the whole split in one batch");
  }
  if (!at::isFloatingType(options_.dtype)) {
    throw std::invalid_argument(std::string("--dtype ") + c10::toString(options_.dtype) +
                                " is not a floating-point type: use float32 or float64");
  }
  if (size_ == 0) return;
  const Batch all = dataset_.examples(split_, at::arange(size_, at::TensorOptions().dtype(at::kLong)));
  TORCH_CHECK(all.input.size(0) == size_ && all.target.size(0) == size_, dataset_.name(),
              ": asked for ", size_, " ", to_string(split_), " examples, got input of size ",
              all.input.sizes(), " and target of size ", all.target.sizes());
  resident_ = Batch{to_device(all.input, options_), to_device(all.target, options_)};
}

int64_t BatchLoader::num_batches() const {
  if (size_ == 0) {
    return 0;
  }
  if (options_.batch_size == 0) {
    return 1;
  }
  return (size_ + options_.batch_size - 1) / options_.batch_size;
}

torch::Tensor BatchLoader::order(int64_t epoch_index) const {
  TORCH_CHECK(epoch_index >= 0, "BatchLoader: expected an epoch index >= 0, got ", epoch_index);
  const auto long_cpu = at::TensorOptions().dtype(at::kLong).device(at::kCPU);
  if (!options_.shuffle) {
    return at::arange(size_, long_cpu);
  }
  // A private generator: the global one (torch::manual_seed) is left exactly where it was.
  at::Generator generator =
      at::make_generator<at::CPUGeneratorImpl>(epoch_seed(options_.seed, epoch_index));
  return at::randperm(size_, generator, long_cpu);
}

std::vector<Batch> BatchLoader::epoch(int64_t epoch_index) const {
  std::vector<Batch> batches;
  const torch::Tensor visit = order(epoch_index);
  if (size_ == 0) {
    return batches;
  }
  torch::Tensor input = resident_.input;
  torch::Tensor target = resident_.target;
  if (options_.shuffle) {  // one gather on the device; the batches are slices of it
    const torch::Tensor on_device = visit.to(input.device());
    input = input.index_select(0, on_device);
    target = target.index_select(0, on_device);
  }
  const int64_t step = options_.batch_size == 0 ? size_ : options_.batch_size;
  batches.reserve(static_cast<size_t>(num_batches()));
  for (int64_t start = 0; start < size_; start += step) {
    const int64_t end = std::min(start + step, size_);
    batches.push_back(Batch{input.slice(0, start, end), target.slice(0, start, end)});
  }
  return batches;
}

}  // namespace lstmlab

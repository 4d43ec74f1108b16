#include "app/platform/device.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <stdexcept>
#include <thread>

namespace lstmlab {

torch::Device resolve_device(const std::string& text) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(text);
  } catch (const std::exception&) {
    throw std::invalid_argument("--device '" + text + "' is not a device (allowed: cpu, cuda, cuda:N)");
  }
  if (device.is_cpu()) return device;
  if (!device.is_cuda()) {
    throw std::invalid_argument("--device '" + text + "' is not supported (allowed: cpu, cuda, cuda:N)");
  }
  if (!at::hasCUDA()) {
    throw std::runtime_error(fmt::format(
        "--device {}: this lstm-lab was built against a LibTorch {} without CUDA (or this machine "
        "has no usable NVIDIA driver); rebuild with a CUDA LibTorch on CMAKE_PREFIX_PATH, or use "
        "--device cpu",
        text, TORCH_VERSION));
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (count == 0 || (device.has_index() && device.index() >= count)) {
    throw std::runtime_error(fmt::format("--device {}: {} CUDA device(s) visible", text, count));
  }
  return device;
}

torch::ScalarType parse_dtype(const std::string& text) {
  if (text == "float32") return torch::kFloat;
  if (text == "float64") return torch::kDouble;
  throw std::invalid_argument("--dtype '" + text + "' is not supported (allowed: float32, float64)");
}

std::string dtype_name(torch::ScalarType dtype) {
  return dtype == torch::kDouble ? "float64" : dtype == torch::kFloat ? "float32" : "other";
}

void disable_tf32() {
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
}

std::string describe_runtime(const torch::Device& device) {
  std::string line = fmt::format("LibTorch {}, device {}, {} CPU threads", TORCH_VERSION,
                                 device.str(), at::get_num_threads());
  if (device.is_cuda()) {
    line += fmt::format(", cuDNN {}, TF32 {}", at::detail::getCUDAHooks().versionCuDNN(),
                        at::globalContext().allowTF32CuDNN() ? "on" : "off");
  }
  return line;
}

int set_thread_count(int threads) {
  if (threads < 0) throw std::invalid_argument("--threads must be 0 (all cores) or positive");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Past a few threads a core there is nothing to gain, and OpenMP spends minutes creating
  // tens of thousands of them.
  const int most = 4 * cores;
  if (threads > most) {
    throw std::invalid_argument(fmt::format(
        "--threads {}: at most {} on this machine (4 per hardware thread, {} here); 0 uses them all",
        threads, most, cores));
  }
  if (threads == 0) threads = cores;
  at::set_num_threads(threads);
  return threads;
}

}  // namespace lstmlab

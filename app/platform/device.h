#pragma once
// Choosing where tensors live, and saying plainly why a choice cannot be honoured.

#include <torch/types.h>

#include <string>

namespace lstmlab {

/// "cpu", "cuda" or "cuda:N". Throws std::runtime_error naming the reason when CUDA was asked for
/// on a LibTorch built without it or on a machine with no GPU.
torch::Device resolve_device(const std::string& text);

/// "float32" or "float64"; throws std::invalid_argument naming the choices.
torch::ScalarType parse_dtype(const std::string& text);
std::string dtype_name(torch::ScalarType dtype);

/// Turns TF32 off for cuBLAS and cuDNN (parity must compare full float32 arithmetic).
void disable_tf32();

/// One line: LibTorch version, device, and on CUDA the GPU and cuDNN version.
std::string describe_runtime(const torch::Device& device);

/// Sets LibTorch's intra-op thread count; 0 means every core of this machine.
int set_thread_count(int threads);

}  // namespace lstmlab

#pragma once
// How the process's heap treats the large tensors that training allocates and frees every step.

namespace lstmlab {

/// Asks glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel:
/// no mmap for large blocks (M_MMAP_MAX 0) and no trimming of the heap (M_TRIM_THRESHOLD).
/// Without this every tensor above the mmap threshold (128 KiB to 32 MiB) is a fresh mapping whose
/// pages fault in and are zeroed on first touch, every step. Measured on the 2-core machine of
/// docs/figures.md (`LSTMLAB_KEEP_FREED_MEMORY=0 lstm-lab bench` against `lstm-lab bench`): 29% of
/// the built-in layer's forward at the seed002 size, 74% of the scratch autograd layer's
/// forward+backward. The price: the process keeps its peak heap until it exits, as a caching
/// allocator (jemalloc, PyTorch's CUDA allocator) does.
/// Returns false where it does not apply (not glibc, or glibc refused a setting).
bool keep_freed_memory_for_reuse();

/// Whether keep_freed_memory_for_reuse has run and taken effect in this process.
bool freed_memory_kept();

}  // namespace lstmlab

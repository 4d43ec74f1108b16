#pragma once
// The CPU machinery of the fused time loop (models/kernels/time_loop.h) and the cells' row loops
// (models/lstm/lstm_step.cpp, models/gru/gru_step.cpp): batch rows split over the intra-op
// threads, a kept scratch buffer for the backward, the fixed-run column loop the vectorizer takes,
// and the attributes that build the float row loops for AVX2.
//
// Letters: B batch rows, G gate width of one row (4H for the LSTM, 3H for the GRU).

#include <ATen/Parallel.h>
#include <ATen/TensorIterator.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <optional>

namespace lstmlab {

// Element-wise work (gate elements) a parallel task should at least get before a second thread
// pays off: a fork/join costs a few microseconds, a gate element a few nanoseconds.
constexpr int64_t kMinGateElementsPerTask = 16384;

/// Runs fn(begin, end) over slices of the batch rows [0, B) on the intra-op threads, in slices of
/// at least kMinGateElementsPerTask / G rows (G: the gate elements of one row), so that a small
/// batch runs inline.
///
/// at::parallel_for is a header template: with the OpenMP backend it runs threads only in a
/// translation unit compiled with -fopenmp, and silently runs serially in one compiled without.
/// Lacking that, the rows go through TensorIterator::for_each, whose at::parallel_for is compiled
/// inside libtorch and so uses its thread pool whatever flags this file was built with.
class RowSplitter {
 public:
  RowSplitter(int64_t B, int64_t G)
      : rows_(B), grain_(std::max<int64_t>(1, kMinGateElementsPerTask / std::max<int64_t>(1, G))) {
#ifndef INTRA_OP_PARALLEL
    if (rows_ > grain_ && at::get_num_threads() > 1) {
      row_ids_ = at::arange(rows_, at::TensorOptions().dtype(at::kLong));
      iter_.emplace(at::TensorIteratorConfig()
                        .add_output(row_ids_)
                        .resize_outputs(false)
                        .check_all_same_dtype(false)
                        .build());
    }
#endif
  }

  template <typename F>
  void run(const F& fn) {
#ifdef INTRA_OP_PARALLEL
    at::parallel_for(0, rows_, grain_, fn);
#else
    if (!iter_) {
      fn(int64_t{0}, rows_);
      return;
    }
    // data[0]: row ids (int64), strides[0] apart within a run of size0, strides[1] between runs.
    const auto loop = [&fn](char** data, const int64_t* strides, int64_t size0, int64_t size1) {
      for (int64_t outer = 0; outer < size1; ++outer) {
        const char* ids = data[0] + outer * strides[1];
        const int64_t first = *reinterpret_cast<const int64_t*>(ids);
        if (strides[0] == static_cast<int64_t>(sizeof(int64_t))) {
          fn(first, first + size0);  // consecutive ids: the arange is contiguous
          continue;
        }
        for (int64_t k = 0; k < size0; ++k) {
          const int64_t row = *reinterpret_cast<const int64_t*>(ids + k * strides[0]);
          fn(row, row + 1);
        }
      }
    };
    iter_->for_each(at::TensorIteratorBase::loop2d_t(loop), grain_);
#endif
  }

 private:
  int64_t rows_;
  int64_t grain_;
#ifndef INTRA_OP_PARALLEL
  torch::Tensor row_ids_;  // [B] 0 .. B-1
  std::optional<at::TensorIterator> iter_;
#endif
};

/// A [numel] CPU buffer of the given dtype (float or double) kept per thread between calls, the
/// largest asked for: a backward's gate grads [T, B, G]. Fresh, a buffer of tens of MB comes from
/// mmap and is page-faulted in on every call: 50 of the LSTM backward's 280 ms at B,T,I,H =
/// 64,100,512,512 (2 threads). One buffer per thread and dtype, shared by every fused layer: a
/// caller takes it once and lets go before the next caller on its thread (a second call returns
/// the same memory). Safe so: each backward takes it inside one call that runs start to end on its
/// thread, and nothing that call returns views it.
torch::Tensor kept_cpu_buffer(int64_t numel, at::ScalarType dtype);

/// Where one step of an incoming grad lies: [B, H] at `data` with the given strides, any layout
/// (an expanded or transposed grad is read in place, not copied).
template <typename scalar_t>
struct StridedRows {
  const scalar_t* data;
  int64_t row_stride;
  int64_t col_stride;
};

/// t: [S, B, W] contiguous; the [B, W] block of one step.
template <typename scalar_t>
scalar_t* step_ptr(const torch::Tensor& t, int64_t step) {
  return t.data_ptr<scalar_t>() + step * t.stride(0);
}

// "No dependence between iterations": lets GCC's -O2 vectorizer take the fixed runs of
// for_each_column without the aliasing checks it may not add at -O2. The row loops that use it
// touch column j only in each iteration, and read and write disjoint buffers.
#if defined(__clang__)
#define LSTMLAB_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define LSTMLAB_IVDEP _Pragma("GCC ivdep")
#else
#define LSTMLAB_IVDEP
#endif
// Inline body into the runs even where it is long (a backward's is), or nothing is vectorized;
// and the row loops into the AVX2 build of their caller, or they run the baseline build.
#if defined(__GNUC__)
#define LSTMLAB_FLATTEN __attribute__((flatten))
#define LSTMLAB_ALWAYS_INLINE __attribute__((always_inline))
#else
#define LSTMLAB_FLATTEN
#define LSTMLAB_ALWAYS_INLINE
#endif

// In float the row loops are built twice where the toolchain can pick a version at load time (GCC
// on x86-64 glibc): for AVX2, 8 floats an instruction, and for the x86-64 baseline, 4; the CPU
// decides which runs. The exponentials alone, 512 at a time: 1.5 ns an element for the baseline,
// 0.6 for AVX2. Double runs the baseline: its exp is a library call either way.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define LSTMLAB_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define LSTMLAB_AVX2_CLONE
#endif

/// body(j) for j in [0, n): in runs of a fixed 8, which the vectorizer takes (at -O2 it needs a
/// known trip count: the divides and multiplies then go 4 (float) or 2 (double) to an instruction),
/// then the rest one by one.
template <typename F>
LSTMLAB_FLATTEN LSTMLAB_ALWAYS_INLINE inline void for_each_column(int64_t n, const F& body) {
  constexpr int64_t kRun = 8;
  int64_t j = 0;
  for (; j + kRun <= n; j += kRun) {
    LSTMLAB_IVDEP
    for (int64_t k = 0; k < kRun; ++k) body(j + k);
  }
  for (; j < n; ++j) body(j);
}

}  // namespace lstmlab

#pragma once
// series_to_supervised (seed 000, after machinelearningmastery's): a table of rows in time order
// framed as supervised samples. Sample j reads every feature at rows t-n_in .. t-1 as its input
// and every target at rows t .. t+n_out-1 as its target. A window whose rows are not consecutive
// in the original file (a row dropped between them) is no sample: it would join two stretches of
// time as if they touched.
// Letters: R rows, C columns, F features, K targets, S samples.

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace lstmlab {

struct SupervisedFrame {
  torch::Tensor input;   ///< float64 [S, n_in, F]
  torch::Tensor target;  ///< float64 [S, n_out * K]: step 0's targets, then step 1's, ...
  std::vector<int64_t> first_row;   ///< per sample: the row (of `values`) of the input's first step
  std::vector<int64_t> target_row;  ///< per sample: the row of time t, its first target
};

/// values: float64 [R, C] in time order; row_ids: R increasing numbers, consecutive where the rows
/// touch in time (the rows' indices in the file); features, targets: columns of `values`.
/// Throws std::invalid_argument for n_in or n_out below 1 or a column out of range.
SupervisedFrame series_to_supervised(const torch::Tensor& values,
                                     const std::vector<int64_t>& row_ids,
                                     const std::vector<int64_t>& features,
                                     const std::vector<int64_t>& targets, int64_t n_in,
                                     int64_t n_out);

}  // namespace lstmlab

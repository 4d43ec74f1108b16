#include "data/supervised_frame.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <stdexcept>

namespace lstmlab {

SupervisedFrame series_to_supervised(const torch::Tensor& values,
                                     const std::vector<int64_t>& row_ids,
                                     const std::vector<int64_t>& features,
                                     const std::vector<int64_t>& targets, int64_t n_in,
                                     int64_t n_out) {
  if (n_in < 1 || n_out < 1) {
    throw std::invalid_argument(
        fmt::format("series_to_supervised: n_in and n_out must be at least 1, got {} and {}", n_in,
                    n_out));
  }
  const int64_t R = values.size(0);
  const int64_t C = values.size(1);
  if (static_cast<int64_t>(row_ids.size()) != R) {
    throw std::invalid_argument(fmt::format(
        "series_to_supervised: {} row ids for {} rows", row_ids.size(), R));
  }
  for (const auto c : features) {
    if (c < 0 || c >= C) throw std::invalid_argument(fmt::format("series_to_supervised: feature column {} of {}", c, C));
  }
  for (const auto c : targets) {
    if (c < 0 || c >= C) throw std::invalid_argument(fmt::format("series_to_supervised: target column {} of {}", c, C));
  }
  const int64_t span = n_in + n_out;
  SupervisedFrame frame;
  for (int64_t j = 0; j + span <= R; ++j) {
    if (row_ids[j + span - 1] - row_ids[j] != span - 1) continue;  // crosses a dropped row
    frame.first_row.push_back(j);
    frame.target_row.push_back(j + n_in);
  }
  const int64_t S = static_cast<int64_t>(frame.first_row.size());
  const auto F = static_cast<int64_t>(features.size());
  const auto K = static_cast<int64_t>(targets.size());
  const auto v = values.to(torch::kDouble).contiguous();
  const auto acc = v.accessor<double, 2>();
  frame.input = torch::empty({S, n_in, F}, torch::kDouble);
  frame.target = torch::empty({S, n_out * K}, torch::kDouble);
  auto in = frame.input.accessor<double, 3>();
  auto out = frame.target.accessor<double, 2>();
  for (int64_t s = 0; s < S; ++s) {
    const int64_t j = frame.first_row[s];
    for (int64_t t = 0; t < n_in; ++t) {
      for (int64_t f = 0; f < F; ++f) in[s][t][f] = acc[j + t][features[f]];
    }
    for (int64_t t = 0; t < n_out; ++t) {
      for (int64_t k = 0; k < K; ++k) out[s][t * K + k] = acc[j + n_in + t][targets[k]];
    }
  }
  return frame;
}

}  // namespace lstmlab

#pragma once
// Per-column scaling as scikit-learn's MinMaxScaler (to [0, 1]) and StandardScaler (zero mean,
// unit population standard deviation) do it: x' = (x - offset) / scale, a column with no spread
// getting scale 1 as scikit-learn gives it. Fitted on some rows, applied to all, inverted for the
// numbers a user reads.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

enum class ScaleKind { None, MinMax, Standard };

/// "none", "minmax", "standard"; throws std::invalid_argument naming --scale otherwise.
ScaleKind parse_scale_kind(const std::string& name);
std::string to_string(ScaleKind kind);

class ColumnScaler {
 public:
  ColumnScaler() = default;
  /// Fits each column of `rows` (float64 [R, C], R >= 1).
  ColumnScaler(ScaleKind kind, const torch::Tensor& rows);

  /// [R, C] -> the same scaled.
  torch::Tensor transform(const torch::Tensor& values) const;
  /// Back to original units; `columns[k]` is the fitted column that column k of `values` holds.
  torch::Tensor inverse(const torch::Tensor& values, const std::vector<int64_t>& columns) const;

  const torch::Tensor& offset() const { return offset_; }  ///< float64 [C]
  const torch::Tensor& scale() const { return scale_; }    ///< float64 [C]

 private:
  torch::Tensor offset_, scale_;
};

}  // namespace lstmlab

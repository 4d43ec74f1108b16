#include "data/column_scaler.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace lstmlab {

ScaleKind parse_scale_kind(const std::string& name) {
  if (name == "none") return ScaleKind::None;
  if (name == "minmax") return ScaleKind::MinMax;
  if (name == "standard") return ScaleKind::Standard;
  throw std::invalid_argument("--scale '" + name + "' is not a scaling (allowed: minmax, standard, none)");
}

std::string to_string(ScaleKind kind) {
  switch (kind) {
    case ScaleKind::None:
      return "none";
    case ScaleKind::MinMax:
      return "minmax";
    case ScaleKind::Standard:
      return "standard";
  }
  return "unknown";
}

ColumnScaler::ColumnScaler(ScaleKind kind, const torch::Tensor& rows) {
  const auto r = rows.to(torch::kDouble);
  const int64_t C = r.size(1);
  offset_ = torch::zeros({C}, torch::kDouble);
  scale_ = torch::ones({C}, torch::kDouble);
  if (kind == ScaleKind::None || r.size(0) == 0) return;
  if (kind == ScaleKind::MinMax) {
    offset_ = std::get<0>(r.min(0));
    scale_ = std::get<0>(r.max(0)) - offset_;
  } else {
    offset_ = r.mean(0);
    scale_ = r.std(0, /*unbiased=*/false);
  }
  scale_ = torch::where(scale_ == 0, torch::ones_like(scale_), scale_);
}

torch::Tensor ColumnScaler::transform(const torch::Tensor& values) const {
  return (values.to(torch::kDouble) - offset_) / scale_;
}

torch::Tensor ColumnScaler::inverse(const torch::Tensor& values,
                                    const std::vector<int64_t>& columns) const {
  const auto index = torch::tensor(columns, torch::kLong);
  return values.to(torch::kDouble) * scale_.index_select(0, index) + offset_.index_select(0, index);
}

}  // namespace lstmlab

#include "data/label_encoder.h"

#include <algorithm>
#include <stdexcept>

namespace lstmlab {

LabelEncoder::LabelEncoder(const std::vector<std::string>& values) : classes_(values) {
  std::sort(classes_.begin(), classes_.end());
  classes_.erase(std::unique(classes_.begin(), classes_.end()), classes_.end());
}

int64_t LabelEncoder::code(const std::string& value) const {
  const auto it = std::lower_bound(classes_.begin(), classes_.end(), value);
  if (it == classes_.end() || *it != value) {
    throw std::invalid_argument("'" + value + "' is not one of the label encoder's classes");
  }
  return it - classes_.begin();
}

}  // namespace lstmlab

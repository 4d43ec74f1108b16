#pragma once
// Text categories to numbers as scikit-learn's LabelEncoder does it: the classes are the distinct
// values sorted (byte order, which for UTF-8 is code-point order, as numpy sorts them) and each
// value's code is its class's position, 0..k-1.

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

class LabelEncoder {
 public:
  LabelEncoder() = default;
  /// The classes of `values`.
  explicit LabelEncoder(const std::vector<std::string>& values);

  const std::vector<std::string>& classes() const { return classes_; }
  /// The code of `value`; throws std::invalid_argument if it is not a class.
  int64_t code(const std::string& value) const;

 private:
  std::vector<std::string> classes_;
};

}  // namespace lstmlab

#pragma once
// One table of spellings per enum, read both ways: what the flags, config.json and the weights
// files write for a value, the value a spelling means, and the list an error shows. An enum's
// table is the only place its names are written.

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lstmlab {

template <typename E>
class EnumNames {
 public:
  /// `what` names the setting in errors: "cell" gives "unknown cell 'x' (allowed: lstm, gru)".
  EnumNames(std::string what, std::vector<std::pair<E, std::string>> entries)
      : what_(std::move(what)), entries_(std::move(entries)) {}

  const std::string& name(E value) const {
    for (const auto& [v, name] : entries_) {
      if (v == value) return name;
    }
    throw std::logic_error(what_ + ": a value with no name in its table");
  }

  /// Throws std::invalid_argument naming the text and every allowed spelling.
  E parse(const std::string& text) const {
    for (const auto& [v, name] : entries_) {
      if (name == text) return v;
    }
    throw std::invalid_argument("unknown " + what_ + " '" + text + "' (allowed: " + allowed() + ")");
  }

  /// "lstm, gru": the spellings in the table's order.
  std::string allowed() const {
    std::string list;
    for (const auto& entry : entries_) list += (list.empty() ? "" : ", ") + entry.second;
    return list;
  }

 private:
  std::string what_;
  std::vector<std::pair<E, std::string>> entries_;
};

}  // namespace lstmlab

#include "models/cell.h"

#include <stdexcept>

namespace lstmlab {

std::string to_string(CellKind cell) { return cell == CellKind::Lstm ? "lstm" : "gru"; }

CellKind parse_cell(const std::string& text) {
  if (text == "lstm") return CellKind::Lstm;
  if (text == "gru") return CellKind::Gru;
  throw std::invalid_argument("unknown cell '" + text + "' (allowed: lstm, gru)");
}

}  // namespace lstmlab

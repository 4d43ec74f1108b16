#include "models/cell.h"

#include <stdexcept>

namespace lstmlab {

const EnumNames<CellKind>& cell_names() {
  static const EnumNames<CellKind> names("cell", {{CellKind::Lstm, "lstm"}, {CellKind::Gru, "gru"}});
  return names;
}

std::string to_string(CellKind cell) { return cell_names().name(cell); }
CellKind parse_cell(const std::string& text) { return cell_names().parse(text); }

}  // namespace lstmlab

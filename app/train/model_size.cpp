#include "app/train/model_size.h"

#include "data/memory_limits.h"

#include <fmt/format.h>

#include <stdexcept>

namespace lstmlab {

double recurrent_parameter_count(CellKind cell, double input_size, double hidden, double layers) {
  const double G = (cell == CellKind::Gru ? 3.0 : 4.0) * hidden;
  const double first = G * (input_size + hidden) + 2 * G;
  const double next = G * (hidden + hidden) + 2 * G;
  return first + (layers - 1) * next;
}

void check_model_fits(CellKind cell, double input_size, double hidden, double layers,
                      double bytes_per_value, const std::string& what) {
  const double parameters = recurrent_parameter_count(cell, input_size, hidden, layers);
  const double needed = 4 * parameters * bytes_per_value;
  const auto memory = static_cast<double>(physical_memory_bytes());
  if (needed > memory) {
    throw std::invalid_argument(fmt::format(
        "{}: the model would have {:.3g} weights, and training it needs {} (weights, gradients "
        "and Adam's two moments); this machine has {} of memory",
        what, parameters, describe_bytes(needed), describe_bytes(memory)));
  }
}

}  // namespace lstmlab

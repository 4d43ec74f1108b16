#include "app/tasks/task.h"

#include <fmt/format.h>

#include <stdexcept>

namespace lstmlab {

const LossSpec& find_loss(const std::vector<LossSpec>& losses, const std::string& name,
                          const std::string& task) {
  std::string allowed;
  for (const auto& loss : losses) {
    if (loss.name == name) return loss;
    allowed += (allowed.empty() ? "" : ", ") + loss.name;
  }
  throw std::invalid_argument(
      fmt::format("--loss '{}' is not a loss {} takes (allowed: {})", name, task, allowed));
}

}  // namespace lstmlab

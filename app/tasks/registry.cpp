#include "app/tasks/registry.h"

#include "app/tasks/csv_task.h"
#include "app/tasks/sine_task.h"
#include "app/tasks/text_task.h"

#include <stdexcept>

namespace lstmlab {

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> entries = {sine_task_entry(), csv_task_entry(),
                                                 text_task_entry()};
  return entries;
}

std::string task_names() {
  std::string names;
  for (const auto& entry : task_registry()) names += (names.empty() ? "" : ", ") + entry.name;
  return names;
}

const TaskEntry& find_task(const std::string& name) {
  for (const auto& entry : task_registry()) {
    if (entry.name == name) return entry;
  }
  throw std::invalid_argument("--task '" + name + "' is not a task (allowed: " + task_names() + ")");
}

std::unique_ptr<Task> make_task(const RunConfig& config) {
  validate(config);
  return find_task(config.task).make(config);
}

}  // namespace lstmlab

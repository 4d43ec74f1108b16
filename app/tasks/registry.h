#pragma once
// The tasks lstm-lab knows, by their --task name. A task is one file in app/tasks/ plus one line in
// registry.cpp: its flags, its section of config.json, and how to build it.

#include "app/tasks/task.h"

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lstmlab {

struct TaskEntry {
  std::string name;     ///< --task NAME, and the name of its section of config.json
  std::string summary;  ///< one line for --help
  /// The losses --loss may name for it, its default first; the same as its Task::losses().
  std::vector<LossSpec> losses;
  /// Adds the task's own flags, in a group of its name.
  std::function<void(cxxopts::Options&)> add_flags;
  /// The task's section of config.json from those flags.
  std::function<nlohmann::json(const cxxopts::ParseResult&)> options_from_flags;
  /// Checks a section (missing keys take their defaults; unknown keys and values out of range are
  /// refused, std::invalid_argument naming `where`) and returns it whole.
  std::function<nlohmann::json(const nlohmann::json&, const std::string& where)> check;
  /// Optional: the training settings the task sets for flags the user did not give (the text
  /// task's loss, clipping and presets), applied before the config is validated.
  std::function<void(RunConfig&, const cxxopts::ParseResult&)> training_defaults;
  std::function<std::unique_ptr<Task>(const RunConfig&)> make;
};

const std::vector<TaskEntry>& task_registry();
/// Throws std::invalid_argument naming --task and the tasks there are.
const TaskEntry& find_task(const std::string& name);
/// "sine" (comma-separated names, for messages and --help).
std::string task_names();
/// The config's task, built; its options are checked first.
std::unique_ptr<Task> make_task(const RunConfig& config);

}  // namespace lstmlab

#pragma once
// Tests set the sine task's options through its section of the config, as a user's flags do.

#include "app/tasks/sine_task.h"

#include <functional>

namespace lstmlab::test {

/// edit_sine(c, [](SineOptions& s) { s.points = 120; });
inline void edit_sine(RunConfig& config, const std::function<void(SineOptions&)>& edit) {
  auto options = sine_options(config);
  edit(options);
  set_sine_options(config, options);
}

}  // namespace lstmlab::test

#pragma once
// The sine task of seed 002: windows of sin(x) predicting the next value, a recurrent layer and a
// Linear head on the last step, MSE (or MAE) loss, RMSE and MAE in the series' units.

#include "app/tasks/registry.h"
#include "data/sine_waves.h"

namespace lstmlab {

TaskEntry sine_task_entry();

/// The sine section of a config, with defaults for what it leaves out.
SineOptions sine_options(const RunConfig& config);
void set_sine_options(RunConfig& config, const SineOptions& options);

}  // namespace lstmlab

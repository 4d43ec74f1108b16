#pragma once
// The csv task of seed 000: any CSV time series, framed by series_to_supervised, a recurrent layer
// and a Linear head on the last step predicting the target column(s) n_out steps ahead; MSE or MAE
// on the scaled values; RMSE and MAE in the target's own units.

#include "app/tasks/registry.h"
#include "data/csv_series.h"

namespace lstmlab {

TaskEntry csv_task_entry();

/// The csv section of a config, with defaults for what it leaves out.
CsvSeriesOptions csv_options(const RunConfig& config);
void set_csv_options(RunConfig& config, const CsvSeriesOptions& options);

}  // namespace lstmlab

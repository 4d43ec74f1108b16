#include "app/tools/forecast.h"

#include "app/io/atomic_file.h"
#include "app/train/checkpoint.h"
#include "app/platform/device.h"
#include "app/tasks/sine_task.h"
#include "app/tools/plots.h"
#include "app/tools/split_forecast.h"
#include "app/train/progress.h"
#include "app/train/run_config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <ostream>

namespace lstmlab {

Forecast run_forecast(const std::string& run_dir, int64_t steps, std::ostream& log, bool quiet) {
  if (steps < 1) throw std::invalid_argument("--steps must be at least 1");
  const auto config = read_run_config(run_dir);
  const auto task = make_task(config);
  const auto* sine = dynamic_cast<const SineWaves*>(&task->data());
  if (!sine) return run_split_forecast(run_dir, log, quiet);  // no formula: the held-out split

  const auto device = resolve_device(config.train.device);
  const auto dtype = parse_dtype(config.train.dtype);
  auto model = task->make_model(config.model);
  const auto options = sine_options(config);
  model->to(device, dtype);
  load_checkpoint(run_dir + "/checkpoint.pt", *model, nullptr);
  model->eval();
  torch::NoGradGuard no_grad;

  const auto& series = sine->series();
  const int64_t T = sine->seq_len();
  const int64_t points = series.size(0);
  const double dx = (options.x_end - options.x_start) / static_cast<double>(points - 1);
  auto window = series.narrow(0, points - T, T).to(device, dtype).view({1, T, 1}).clone();
  Forecast f;
  Progress progress(log, Progress::detect(quiet), "", 1);
  for (int64_t k = 1; k <= steps; ++k) {
    progress.count("forecast step", k, steps);
    const double next = model->forward(window).item<double>();
    const double x = options.x_end + static_cast<double>(k) * dx;
    f.x.push_back(x);
    f.prediction.push_back(next);
    f.truth.push_back(std::sin(x));
    // Slide: drop the oldest value, append the prediction.
    window = torch::cat({window.narrow(1, 1, T - 1),
                         torch::full({1, 1, 1}, next, window.options())}, 1);
  }
  progress.clear();
  double se = 0;
  for (size_t i = 0; i < f.x.size(); ++i) se += std::pow(f.prediction[i] - f.truth[i], 2);
  f.rmse = std::sqrt(se / static_cast<double>(f.x.size()));

  f.csv_path = run_dir + "/forecast.csv";
  {
    AtomicFile csv(f.csv_path);
    csv.stream() << "step,x,prediction,truth\n";
    for (size_t i = 0; i < f.x.size(); ++i) {
      csv.stream() << fmt::format("{},{:.10g},{:.10g},{:.10g}\n", i + 1, f.x[i], f.prediction[i],
                                  f.truth[i]);
    }
    csv.commit();
  }
  PlotSpec plot{run_dir, "forecast",
                fmt::format("{}-step autoregressive forecast past x = {}", steps, options.x_end),
                "x", "value", false, {}};
  plot.series.push_back({"forecast.csv", 2, 4, "sin(x)", "lines lw 3"});
  plot.series.push_back({"forecast.csv", 2, 3, "forecast", "linespoints pt 7 ps 0.5"});
  f.note = draw_plot(plot);
  if (!quiet) log << fmt::format("forecast: {} steps from x = {:.4g}; RMSE against sin(x) {:.4g}\n", steps,
                     options.x_end, f.rmse);
  return f;
}

}  // namespace lstmlab

#include "app/train_run.h"

#include "app/plots.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <ostream>

namespace lstmlab {

std::string default_run_dir(const std::string& prefix) {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  return fmt::format("runs/{}-{}", prefix, stamp);
}

void write_predictions_csv(const std::string& dir, const Evaluation& evaluation) {
  std::ofstream out(dir + "/predictions.csv");
  out << "index,target,prediction\n";
  if (!evaluation.prediction.defined()) return;
  auto t = evaluation.target.select(1, 0).contiguous();
  auto p = evaluation.prediction.select(1, 0).contiguous();
  for (int64_t i = 0; i < t.size(0); ++i) {
    out << fmt::format("{},{:.10g},{:.10g}\n", i, t[i].item<double>(), p[i].item<double>());
  }
}

RunResult train_run(const RunRequest& request, std::ostream& log) {
  const auto& config = request.config;
  auto data = make_dataset(config);
  SequenceModelPtr model = request.model;
  if (!model) {
    torch::manual_seed(config.train.seed);
    model = make_model(config, *data);
  }
  Trainer trainer(model, *data, config, request.run_dir, log, request.quiet, request.label,
                  request.hooks);
  if (request.resume) trainer.resume();
  if (!request.quiet && !request.resume) log << request.label << data->describe() << "\n";

  RunResult result;
  result.model = model;
  result.history = trainer.fit();
  result.stopped = trainer.stopped();
  if (result.stopped) return result;

  result.held_out = held_out_split(*data);
  result.evaluation = trainer.evaluate(result.held_out);
  write_predictions_csv(request.run_dir, result.evaluation);
  if (request.plots) {
    const auto& dir = request.run_dir;
    PlotSpec loss{dir + "/loss.png", dir + "/loss.gp", "loss per epoch", "epoch",
                  config.train.loss, true, {}};
    loss.series.push_back({dir + "/metrics.csv", 1, 2, "train"});
    if (data->size(Split::Validation) > 0) {
      loss.series.push_back({dir + "/metrics.csv", 1, 3, "validation"});
    }
    result.notes.push_back(draw_plot(loss));
    PlotSpec pred{dir + "/predictions.png", dir + "/predictions.gp",
                  fmt::format("predictions on the {} split", to_string(result.held_out)),
                  "window", "value", false, {}};
    pred.series.push_back({dir + "/predictions.csv", 1, 2, "truth", "lines lw 4"});
    pred.series.push_back({dir + "/predictions.csv", 1, 3, "prediction", "lines lw 1.5 dt 2"});
    result.notes.push_back(draw_plot(pred));
  }
  return result;
}

}  // namespace lstmlab

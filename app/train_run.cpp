#include "app/train_run.h"

#include "app/atomic_file.h"
#include "app/plots.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <ostream>

namespace lstmlab {

void write_predictions_csv(const std::string& dir, const Evaluation& evaluation) {
  AtomicFile file(dir + "/predictions.csv");
  auto& out = file.stream();
  out << "index,target,prediction\n";
  if (evaluation.prediction.defined()) {
    auto t = evaluation.target.select(1, 0).contiguous();
    auto p = evaluation.prediction.select(1, 0).contiguous();
    for (int64_t i = 0; i < t.size(0); ++i) {
      out << fmt::format("{},{:.10g},{:.10g}\n", i, t[i].item<double>(), p[i].item<double>());
    }
  }
  file.commit();
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
    PlotSpec loss{dir, "loss", "loss per epoch", "epoch", config.train.loss, true, {}};
    loss.series.push_back({"metrics.csv", 1, 2, "train"});
    if (data->size(Split::Validation) > 0) {
      loss.series.push_back({"metrics.csv", 1, 3, "validation"});
    }
    result.notes.push_back(draw_plot(loss));
    PlotSpec pred{dir, "predictions",
                  fmt::format("predictions on the {} split", to_string(result.held_out)),
                  "window", "value", false, {}};
    pred.series.push_back({"predictions.csv", 1, 2, "truth", "lines lw 4"});
    pred.series.push_back({"predictions.csv", 1, 3, "prediction", "lines lw 1.5 dt 2"});
    result.notes.push_back(draw_plot(pred));
  }
  return result;
}

}  // namespace lstmlab

#include "app/train/train_run.h"

#include "app/dist/communicator.h"
#include "app/io/atomic_file.h"
#include "app/io/weights_file.h"
#include "app/tasks/registry.h"
#include "app/tools/plots.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <ostream>

namespace lstmlab {

namespace {

nlohmann::json evaluation_json(const Evaluation& e) {
  nlohmann::json j = {{"loss", e.loss}, {"count", e.count}};
  for (const auto& [name, value] : e.metrics) j[name] = value;
  return j;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::nth_element(values.begin(), values.begin() + static_cast<long>(values.size() / 2),
                   values.end());
  return values[values.size() / 2];
}

}  // namespace

double median_epoch_seconds(const std::vector<EpochMetrics>& history) {
  std::vector<double> s;
  for (const auto& m : history) s.push_back(m.train_seconds);
  return median(s);
}

nlohmann::json run_summary(const RunResult& r, const std::string& count_unit) {
  nlohmann::json splits = nlohmann::json::object();
  for (const auto& [split, e] : r.splits) splits[to_string(split)] = evaluation_json(e);
  std::vector<double> rates;
  for (const auto& m : r.history) rates.push_back(m.examples_per_s);
  nlohmann::json summary = {{"loss", r.loss.name},
                            {"epochs", r.history.size()},
                            {"held_out", to_string(r.held_out)},
                            {"splits", splits},
                            {"seconds_per_epoch_median", median_epoch_seconds(r.history)},
                            {count_unit + "_per_s_median", median(rates)}};
  if (r.world_size > 1) {
    // Rank 0's view: the all-reduce calls include waiting for the slowest rank.
    summary["distributed"] = {
        {"world_size", r.world_size},
        {"step_seconds", r.step_seconds},
        {"allreduce_seconds", r.collective_seconds},
        {"allreduce_share", r.step_seconds > 0 ? r.collective_seconds / r.step_seconds : 0.0}};
  }
  return summary;
}

std::string describe_evaluation(const Evaluation& e, const std::vector<MetricSpec>& specs) {
  std::string text;
  for (const auto& spec : specs) {
    text += fmt::format("{}{} {:.6g}", text.empty() ? "" : ", ", spec.label,
                        metric_value(e.metrics, spec.name));
  }
  return text;
}

void load_init_weights(const ModelConfig& config, SequenceModelImpl& model) {
  const auto& path = config.init_weights;
  if (path.empty()) return;
  try {
    model.set_model_weights(load_model_weights_json(path, config.cell));
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    // Errors of the file itself name it already; the model's shape checks name the model.
    throw std::runtime_error(what.rfind(path, 0) == 0 ? what : "--init-weights " + path + ": " + what);
  }
}

RunResult train_run(const RunRequest& request, std::ostream& log) {
  const auto& config = request.config;
  const auto task = make_task(config);
  const Dataset& data = task->data();
  // A run killed before its first checkpoint has its config.json alone: resuming it starts it
  // over from that config, seeded as before, which is what the uninterrupted run did.
  const bool from_checkpoint =
      request.resume && std::filesystem::exists(request.run_dir + "/checkpoint.pt");
  SequenceModelPtr model = request.model;
  if (!model) {
    torch::manual_seed(config.train.seed);
    model = task->make_model(config.model);
    if (!from_checkpoint) load_init_weights(config.model, *model);
  }
  Trainer trainer(model, *task, config, request.run_dir, log, request.quiet, request.label,
                  request.hooks, request.comm);
  if (from_checkpoint) trainer.resume();
  if (!request.quiet && !from_checkpoint) log << request.label << data.describe() << "\n";

  RunResult result;
  result.model = model;
  result.metrics = task->metrics();
  result.loss = find_loss(task->losses(), config.train.loss, "the " + config.task + " task");
  result.history = trainer.fit();
  result.stopped = trainer.stopped();
  result.world_size = request.comm ? request.comm->size() : 1;
  result.step_seconds = trainer.step_seconds();
  result.collective_seconds = trainer.collective_seconds();
  if (result.stopped) return result;

  const auto& dir = request.run_dir;
  // Every rank holds the same weights now: each evaluates whole, rank 0 writes.
  const bool writes = trainer.writes();
  const bool whole = request.comm != nullptr;
  result.held_out = held_out_split(data);
  const auto predictions = writes ? task->prediction_writer(dir + "/predictions.csv") : nullptr;
  result.evaluation = trainer.evaluate(result.held_out, predictions.get(), whole);
  if (predictions) predictions->commit();
  for (const auto split : {Split::Train, Split::Validation, Split::Test}) {
    if (data.size(split) == 0) continue;
    result.splits[split] =
        split == result.held_out ? result.evaluation : trainer.evaluate(split, nullptr, whole);
  }
  if (!writes) return result;
  write_file_atomically(dir + "/summary.json",
                        run_summary(result, task->count_unit()).dump(2) + "\n");
  if (request.plots) {
    PlotSpec loss{dir, "loss", "loss per epoch", "epoch", result.loss.label, true, {}};
    loss.series.push_back({"metrics.csv", 1, 2, "train"});
    if (data.size(Split::Validation) > 0) {
      loss.series.push_back({"metrics.csv", 1, 3, "validation"});
    }
    result.notes.push_back(draw_plot(loss));
    // A language model's loss reads better as perplexity: exp of the mean cross-entropy.
    const auto& specs = result.metrics;
    for (size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].name != "perplexity") continue;
      PlotSpec ppl{dir, "perplexity", "perplexity per epoch", "epoch", "perplexity", true, {}};
      ppl.series.push_back({"metrics.csv", 1, 2, "train", "lines", "(exp($2))"});
      if (data.size(Split::Validation) > 0) {
        ppl.series.push_back({"metrics.csv", 1, 4 + static_cast<int>(i), "validation"});
      }
      result.notes.push_back(draw_plot(ppl));
    }
    if (predictions) {
      PlotSpec pred{dir, "predictions",
                    fmt::format("predictions on the {} split", to_string(result.held_out)),
                    "window", "value", false, {}};
      pred.series.push_back({"predictions.csv", 1, 2, "truth", "lines lw 4"});
      pred.series.push_back({"predictions.csv", 1, 3, "prediction", "lines lw 1.5 dt 2"});
      result.notes.push_back(draw_plot(pred));
    }
  }
  return result;
}

}  // namespace lstmlab

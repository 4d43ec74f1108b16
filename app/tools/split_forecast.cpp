#include "app/tools/split_forecast.h"

#include "app/platform/device.h"
#include "app/tasks/registry.h"
#include "app/tools/plots.h"
#include "app/train/checkpoint.h"
#include "app/train/run_config.h"
#include "app/train/trainer.h"
#include "data/batch_loader.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <ostream>

namespace lstmlab {
namespace {

// Hands each batch to the task's writer and keeps the first target value for the caller.
class KeepingWriter : public PredictionWriter {
 public:
  KeepingWriter(const Dataset& data, std::unique_ptr<PredictionWriter> inner, Forecast& f)
      : data_(data), inner_(std::move(inner)), f_(f) {}
  void write(const torch::Tensor& prediction, const torch::Tensor& target) override {
    inner_->write(prediction, target);
    const auto p = data_.to_original_scale(prediction.to(torch::kCPU, torch::kDouble));
    const auto t = data_.to_original_scale(target.to(torch::kCPU, torch::kDouble));
    for (int64_t i = 0; i < p.size(0); ++i) {
      f_.x.push_back(static_cast<double>(f_.x.size()));
      f_.prediction.push_back(p[i][0].item<double>());
      f_.truth.push_back(t[i][0].item<double>());
    }
  }
  void commit() override { inner_->commit(); }

 private:
  const Dataset& data_;
  std::unique_ptr<PredictionWriter> inner_;
  Forecast& f_;
};

}  // namespace

Forecast run_split_forecast(const std::string& run_dir, std::ostream& log, bool quiet) {
  const auto config = read_run_config(run_dir);
  const auto task = make_task(config);
  const Dataset& data = task->data();
  const auto device = resolve_device(config.train.device);
  const auto dtype = parse_dtype(config.train.dtype);
  auto model = task->make_model(config.model);
  model->to(device, dtype);
  load_checkpoint(run_dir + "/checkpoint.pt", *model, nullptr);
  model->eval();
  torch::NoGradGuard no_grad;

  const Split split = held_out_split(data);
  Forecast f;
  f.csv_path = run_dir + "/forecast.csv";
  auto inner = task->prediction_writer(f.csv_path);
  if (!inner) throw std::runtime_error("predict: the " + config.task + " task writes no predictions");
  KeepingWriter writer(data, std::move(inner), f);
  auto metrics = task->make_metrics();
  const BatchLoader loader(data, split, LoaderOptions{config.train.batch_size, false, 0, device, dtype});
  for (const auto& batch : loader.epoch(0)) {
    const auto prediction = model->forward(batch.input);
    for (auto& metric : metrics) metric->update(prediction, batch.target);
    writer.write(prediction, batch.target);
  }
  writer.commit();
  const auto specs = task->metrics();
  f.rmse = metrics.empty() ? 0.0 : metrics.front()->compute();

  PlotSpec plot{run_dir, "forecast",
                fmt::format("{} split: truth and prediction over time", to_string(split)),
                "sample (time order)", "value", false, {}};
  plot.series.push_back({"forecast.csv", 1, 2, "truth", "lines lw 2"});
  plot.series.push_back({"forecast.csv", 1, 3, "prediction", "lines lw 1 dt 2"});
  f.note = draw_plot(plot);
  if (!quiet) {
    log << fmt::format("forecast: the {} split, {} samples; {} {:.6g}\n", to_string(split),
                       f.x.size(), specs.empty() ? "error" : specs.front().label, f.rmse);
  }
  return f;
}

}  // namespace lstmlab

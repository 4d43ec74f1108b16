#include "app/tasks/sine_task.h"

#include "app/io/atomic_file.h"
#include "app/io/json_file.h"
#include "app/tasks/error_metric.h"
#include "app/train/losses.h"
#include "models/heads/sequence_regressor.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <set>

namespace lstmlab {
namespace {

using nlohmann::json;

json to_json(const SineOptions& o) {
  return {{"points", o.points},   {"x_start", o.x_start}, {"x_end", o.x_end},
          {"seq_len", o.seq_len}, {"noise", o.noise},     {"noise_seed", o.noise_seed},
          {"test_fraction", o.test_fraction}};
}

SineOptions sine_options_from_json(const json& j, const std::string& where) {
  if (!j.is_null() && !j.is_object()) {
    throw std::invalid_argument(where + ": the sine section must be an object, found " +
                                std::string(j.type_name()));
  }
  SineOptions o;
  const json section = j.is_null() ? json::object() : j;
  const std::set<std::string> known = {"points", "x_start", "x_end", "seq_len",
                                       "noise",  "noise_seed", "test_fraction"};
  for (const auto& item : section.items()) {
    if (!known.count(item.key())) {
      throw std::invalid_argument(where + ": the sine section has no setting '" + item.key() + "'");
    }
  }
  try {
    const auto read = [&](const char* key, auto& field) { read_setting(section, key, field); };
    read("points", o.points);
    read("x_start", o.x_start);
    read("x_end", o.x_end);
    read("seq_len", o.seq_len);
    read("noise", o.noise);
    read("noise_seed", o.noise_seed);
    read("test_fraction", o.test_fraction);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": sine." + e.what());
  }
  check_options(o);
  return o;
}

// The sample count weights epoch means.
class SineTask : public Task {
 public:
  explicit SineTask(const RunConfig& config)
      : data_(sine_options(config)), loss_(config.train.loss) {}

  const Dataset& data() const override { return data_; }

  SequenceModelPtr make_model(const ModelConfig& model) const override {
    return std::make_shared<SequenceRegressorImpl>(make_recurrent_layer(model, data_.input_size()),
                                                   data_.target_size());
  }

  std::vector<LossSpec> losses() const override { return regression_losses(); }

  BatchLoss loss(const torch::Tensor& prediction, const Batch& batch) const override {
    return {regression_loss(loss_, prediction, batch.target), batch.input.size(0)};
  }

  std::vector<MetricSpec> metrics() const override { return {{"rmse", "RMSE"}, {"mae", "MAE"}}; }

  std::vector<std::unique_ptr<Metric>> make_metrics() const override {
    std::vector<std::unique_ptr<Metric>> m;
    m.push_back(std::make_unique<ErrorMetric>(data_, true));
    m.push_back(std::make_unique<ErrorMetric>(data_, false));
    return m;
  }

  std::unique_ptr<PredictionWriter> prediction_writer(const std::string& path) const override {
    return std::make_unique<CsvPredictions>(data_, path);
  }

 private:
  // index,target,prediction in the series' units (the first target column).
  class CsvPredictions : public PredictionWriter {
   public:
    CsvPredictions(const Dataset& data, const std::string& path) : data_(data), file_(path) {
      file_.stream() << "index,target,prediction\n";
    }
    void write(const torch::Tensor& prediction, const torch::Tensor& target) override {
      const auto p = data_.to_original_scale(prediction.to(torch::kCPU, torch::kDouble));
      const auto t = data_.to_original_scale(target.to(torch::kCPU, torch::kDouble));
      const auto pc = p.select(1, 0).contiguous();
      const auto tc = t.select(1, 0).contiguous();
      const double* pp = pc.data_ptr<double>();
      const double* tp = tc.data_ptr<double>();
      for (int64_t i = 0; i < pc.size(0); ++i) {
        file_.stream() << fmt::format("{},{:.10g},{:.10g}\n", index_++, tp[i], pp[i]);
      }
    }
    void commit() override { file_.commit(); }

   private:
    const Dataset& data_;
    AtomicFile file_;
    int64_t index_ = 0;
  };

  SineWaves data_;
  std::string loss_;
};

}  // namespace

SineOptions sine_options(const RunConfig& config) {
  return sine_options_from_json(config.task_options, "the sine task's options");
}

void set_sine_options(RunConfig& config, const SineOptions& options) {
  config.task = "sine";
  config.task_options = to_json(options);
}

TaskEntry sine_task_entry() {
  TaskEntry e;
  e.name = "sine";
  e.summary = "seed 002: windows of sin(x) predict the next value";
  e.losses = regression_losses();
  e.add_flags = [](cxxopts::Options& options) {
    const SineOptions d;
    options.add_options("sine")
        ("points", "sine: points of the series", cxxopts::value<int64_t>()->default_value(std::to_string(d.points)))
        ("x-start", "sine: first x (radians)", cxxopts::value<double>()->default_value("0"))
        ("x-end", "sine: last x, included", cxxopts::value<double>()->default_value("100"))
        ("seq-len", "values per input window", cxxopts::value<int64_t>()->default_value(std::to_string(d.seq_len)))
        ("noise", "sine: std of Gaussian noise added", cxxopts::value<double>()->default_value("0"))
        ("noise-seed", "sine: seed of the noise", cxxopts::value<uint64_t>()->default_value("0"))
        ("test-fraction", "held-out tail (validation then test); 0 trains on all, as seed 002",
         cxxopts::value<double>()->default_value("0.2"));
  };
  e.options_from_flags = [](const cxxopts::ParseResult& f) {
    SineOptions o;
    o.points = f["points"].as<int64_t>();
    o.x_start = f["x-start"].as<double>();
    o.x_end = f["x-end"].as<double>();
    o.seq_len = f["seq-len"].as<int64_t>();
    o.noise = f["noise"].as<double>();
    o.noise_seed = f["noise-seed"].as<uint64_t>();
    o.test_fraction = f["test-fraction"].as<double>();
    return to_json(o);
  };
  e.check = [](const json& section, const std::string& where) {
    return to_json(sine_options_from_json(section, where));
  };
  e.make = [](const RunConfig& config) -> std::unique_ptr<Task> {
    return std::make_unique<SineTask>(config);
  };
  return e;
}

}  // namespace lstmlab

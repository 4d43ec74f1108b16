#include "app/tasks/csv_task.h"

#include "app/io/atomic_file.h"
#include "app/io/json_file.h"
#include "app/tasks/error_metric.h"
#include "app/train/losses.h"
#include "app/train/trainer.h"
#include "models/heads/sequence_regressor.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>

namespace lstmlab {
namespace {

using nlohmann::json;

json to_json(const CsvSeriesOptions& o) {
  return {{"path", o.path},
          {"targets", o.targets},
          {"features", o.features},
          {"ignore", o.ignore},
          {"categorical", o.categorical},
          {"missing", o.missing},
          {"n_in", o.n_in},
          {"n_out", o.n_out},
          {"scale", o.scale},
          {"scale_fit", o.scale_fit},
          {"train_rows", o.train_rows},
          {"train_fraction", o.train_fraction},
          {"val_fraction", o.val_fraction},
          {"frame_after_split", o.frame_after_split}};
}

CsvSeriesOptions csv_options_from_json(const json& j, const std::string& where) {
  if (!j.is_null() && !j.is_object()) {
    throw std::invalid_argument(where + ": the csv section must be an object, found " +
                                std::string(j.type_name()));
  }
  CsvSeriesOptions o;
  const json section = j.is_null() ? json::object() : j;
  const std::set<std::string> known = {"path",    "targets",   "features",   "ignore",
                                       "categorical", "missing", "n_in",   "n_out",
                                       "scale",   "scale_fit", "train_rows", "train_fraction",
                                       "val_fraction", "frame_after_split"};
  for (const auto& item : section.items()) {
    if (!known.count(item.key())) {
      throw std::invalid_argument(where + ": the csv section has no setting '" + item.key() + "'");
    }
  }
  try {
    const auto read = [&](const char* key, auto& field) { read_setting(section, key, field); };
    read("path", o.path);
    read("targets", o.targets);
    read("features", o.features);
    read("ignore", o.ignore);
    read("categorical", o.categorical);
    read("missing", o.missing);
    read("n_in", o.n_in);
    read("n_out", o.n_out);
    read("scale", o.scale);
    read("scale_fit", o.scale_fit);
    read("train_rows", o.train_rows);
    read("train_fraction", o.train_fraction);
    read("val_fraction", o.val_fraction);
    read("frame_after_split", o.frame_after_split);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": csv." + e.what());
  }
  check_options(o);
  return o;
}

// "a,b" -> {"a", "b"}; spaces around a name are dropped, an empty name is refused.
std::vector<std::string> column_list(const std::string& text, const char* flag) {
  std::vector<std::string> names;
  if (text.empty()) return names;
  size_t start = 0;
  while (true) {
    const auto end = text.find(',', start);
    auto name = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const auto first = name.find_first_not_of(" \t");
    const auto last = name.find_last_not_of(" \t");
    name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
    if (name.empty()) {
      throw std::invalid_argument(fmt::format("--{} '{}': an empty column name", flag, text));
    }
    names.push_back(name);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return names;
}

class CsvTask : public Task {
 public:
  explicit CsvTask(const RunConfig& config)
      : data_(csv_options(config)), loss_(config.train.loss) {}

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
    return std::make_unique<CsvPredictions>(data_, held_out_split(data_), path);
  }

 private:
  // The held-out split in the target's units, one sample a row: index, the first target and its
  // prediction (the columns a plot reads), the file's line of that target, then every further
  // target value and its prediction.
  class CsvPredictions : public PredictionWriter {
   public:
    CsvPredictions(const CsvSeries& data, Split split, const std::string& path)
        : data_(data), lines_(data.target_lines(split)), labels_(data.target_labels()), file_(path) {
      auto& out = file_.stream();
      out << "index," << labels_[0] << "," << labels_[0] << "_prediction,line";
      for (size_t k = 1; k < labels_.size(); ++k) out << "," << labels_[k] << "," << labels_[k] << "_prediction";
      out << "\n";
    }
    void write(const torch::Tensor& prediction, const torch::Tensor& target) override {
      const auto p = data_.to_original_scale(prediction).contiguous();
      const auto t = data_.to_original_scale(target).contiguous();
      const auto pa = p.accessor<double, 2>();
      const auto ta = t.accessor<double, 2>();
      auto& out = file_.stream();
      for (int64_t i = 0; i < p.size(0); ++i, ++index_) {
        const auto line = index_ < static_cast<int64_t>(lines_.size()) ? lines_[index_] : -1;
        out << fmt::format("{},{:.10g},{:.10g},{}", index_, ta[i][0], pa[i][0], line);
        for (int64_t k = 1; k < p.size(1); ++k) out << fmt::format(",{:.10g},{:.10g}", ta[i][k], pa[i][k]);
        out << "\n";
      }
    }
    void commit() override { file_.commit(); }

   private:
    const CsvSeries& data_;
    std::vector<int64_t> lines_;
    std::vector<std::string> labels_;
    AtomicFile file_;
    int64_t index_ = 0;
  };

  CsvSeries data_;
  std::string loss_;
};

}  // namespace

CsvSeriesOptions csv_options(const RunConfig& config) {
  return csv_options_from_json(config.task_options, "the csv task's options");
}

void set_csv_options(RunConfig& config, const CsvSeriesOptions& options) {
  config.task = "csv";
  config.task_options = to_json(options);
}

TaskEntry csv_task_entry() {
  TaskEntry e;
  e.name = "csv";
  e.summary = "seed 000: any CSV time series, series_to_supervised, scaled, split in time";
  e.losses = regression_losses();
  e.add_flags = [](cxxopts::Options& options) {
    const CsvSeriesOptions d;
    options.add_options("csv")
        ("csv", "csv: the CSV file (a header row names the columns); the text task reads its --column", cxxopts::value<std::string>())
        ("target", "csv: column(s) to predict, NAME[,NAME..]", cxxopts::value<std::string>())
        ("features", "csv: input columns (default: every column not ignored, targets included)",
         cxxopts::value<std::string>())
        ("ignore", "csv: columns left out, e.g. No,year,month,day,hour or a date", cxxopts::value<std::string>())
        ("categorical", "csv: text columns label-encoded (classes sorted, codes 0..k-1)",
         cxxopts::value<std::string>())
        ("missing", "csv: missing values (empty, NA, nan): error, zero, ffill or drop",
         cxxopts::value<std::string>()->default_value(d.missing))
        ("n-in", "csv: steps of input per sample", cxxopts::value<int64_t>()->default_value("1"))
        ("n-out", "csv: steps of target per sample", cxxopts::value<int64_t>()->default_value("1"))
        ("scale", "csv: minmax, standard or none", cxxopts::value<std::string>()->default_value(d.scale))
        ("scale-fit", "csv: fit the scaling on the train rows or on all rows (the tutorial)",
         cxxopts::value<std::string>()->default_value(d.scale_fit))
        ("train-rows", "csv: the first N samples train (rows with --frame-after-split)",
         cxxopts::value<int64_t>())
        ("train-fraction", "csv: fraction of the samples that train (default 0.8)",
         cxxopts::value<double>())
        ("val-fraction", "csv: fraction validating after them; the rest is test (text, sequential windows: the held-out tail, default 0.1)",
         cxxopts::value<double>()->default_value("0"))
        ("frame-after-split", "csv: split the rows first, then frame each split (seed 000's order)");
  };
  e.options_from_flags = [](const cxxopts::ParseResult& f) {
    CsvSeriesOptions o;
    if (f.count("csv")) {
      const auto given = f["csv"].as<std::string>();
      // Recorded whole, so that --resume and predict find it from any directory.
      o.path = given.empty() ? given : std::filesystem::absolute(given).lexically_normal().string();
    }
    if (f.count("target")) o.targets = column_list(f["target"].as<std::string>(), "target");
    if (f.count("features")) o.features = column_list(f["features"].as<std::string>(), "features");
    if (f.count("ignore")) o.ignore = column_list(f["ignore"].as<std::string>(), "ignore");
    if (f.count("categorical")) o.categorical = column_list(f["categorical"].as<std::string>(), "categorical");
    o.missing = f["missing"].as<std::string>();
    o.n_in = f["n-in"].as<int64_t>();
    o.n_out = f["n-out"].as<int64_t>();
    o.scale = f["scale"].as<std::string>();
    o.scale_fit = f["scale-fit"].as<std::string>();
    if (f.count("train-rows") && f.count("train-fraction")) {
      throw std::invalid_argument("--train-rows and --train-fraction both set the training split; give one");
    }
    if (f.count("train-rows")) {
      o.train_rows = f["train-rows"].as<int64_t>();
      if (o.train_rows < 1) {
        throw std::invalid_argument(fmt::format("--train-rows must be positive, got {}", o.train_rows));
      }
    }
    if (f.count("train-fraction")) o.train_fraction = f["train-fraction"].as<double>();
    o.val_fraction = f["val-fraction"].as<double>();
    o.frame_after_split = f.count("frame-after-split") > 0;
    return to_json(o);
  };
  e.check = [](const json& section, const std::string& where) {
    return to_json(csv_options_from_json(section, where));
  };
  e.make = [](const RunConfig& config) -> std::unique_ptr<Task> {
    return std::make_unique<CsvTask>(config);
  };
  return e;
}

}  // namespace lstmlab

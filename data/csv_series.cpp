#include "data/csv_series.h"

#include "data/supervised_frame.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <stdexcept>

namespace lstmlab {
namespace {

std::string lower(std::string text) {
  for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

// A whole field as a finite number, or nothing.
std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

int64_t column_named(const CsvTable& table, const std::string& name, const char* flag) {
  const auto c = table.column_index(name);
  if (c < 0) {
    throw std::invalid_argument(fmt::format("{} '{}' is not a column of {} (its columns: {})", flag,
                                            name, table.path, fmt::join(table.columns, ", ")));
  }
  return c;
}

int64_t rounded(double fraction, int64_t n) {
  return static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
}

}  // namespace

bool is_missing_value(const std::string& text) {
  const auto t = lower(text);
  return t.empty() || t == "na" || t == "n/a" || t == "nan" || t == "null";
}

void check_options(const CsvSeriesOptions& o) {
  if (o.path.empty()) throw std::invalid_argument("--task csv needs --csv FILE, the CSV series to learn");
  if (o.targets.empty()) {
    throw std::invalid_argument("--task csv needs --target NAME[,NAME..], the column(s) to predict");
  }
  const std::set<std::string> missing = {"error", "zero", "ffill", "drop"};
  if (!missing.count(o.missing)) {
    throw std::invalid_argument("--missing '" + o.missing +
                                "' is not a way to treat missing values (allowed: error, zero, ffill, drop)");
  }
  if (o.n_in < 1) throw std::invalid_argument(fmt::format("--n-in must be at least 1, got {}", o.n_in));
  if (o.n_out < 1) throw std::invalid_argument(fmt::format("--n-out must be at least 1, got {}", o.n_out));
  parse_scale_kind(o.scale);
  if (o.scale_fit != "train" && o.scale_fit != "all") {
    throw std::invalid_argument("--scale-fit '" + o.scale_fit + "' is not allowed (allowed: train, all)");
  }
  if (o.train_rows < 0) {
    throw std::invalid_argument(fmt::format(
        "--train-rows must be positive (or 0 to use --train-fraction), got {}", o.train_rows));
  }
  if (!(o.train_fraction > 0 && o.train_fraction <= 1)) {
    throw std::invalid_argument(fmt::format("--train-fraction must be in (0, 1], got {}", o.train_fraction));
  }
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) {
    throw std::invalid_argument(fmt::format("--val-fraction must be in [0, 1), got {}", o.val_fraction));
  }
  if (o.train_rows == 0 && o.train_fraction + o.val_fraction > 1 + 1e-12) {
    throw std::invalid_argument(fmt::format(
        "--train-fraction {} and --val-fraction {} add up to more than 1", o.train_fraction,
        o.val_fraction));
  }
}

CsvSeries::CsvSeries(CsvSeriesOptions options) : options_(std::move(options)) {
  check_options(options_);
  const auto table = read_csv_table(options_.path);
  const auto& path = table.path;

  // Columns by name: what is read (features, then targets that are not features) and how.
  std::set<int64_t> ignored, categorical;
  for (const auto& name : options_.ignore) ignored.insert(column_named(table, name, "--ignore"));
  for (const auto& name : options_.categorical) categorical.insert(column_named(table, name, "--categorical"));
  std::vector<int64_t> feature_columns, target_columns;
  if (options_.features.empty()) {
    for (int64_t c = 0; c < static_cast<int64_t>(table.columns.size()); ++c) {
      if (!ignored.count(c)) feature_columns.push_back(c);
    }
  } else {
    for (const auto& name : options_.features) {
      const auto c = column_named(table, name, "--features");
      if (ignored.count(c)) {
        throw std::invalid_argument(fmt::format("--features names '{}', which --ignore leaves out", name));
      }
      feature_columns.push_back(c);
    }
  }
  if (feature_columns.empty()) {
    throw std::invalid_argument(fmt::format("--ignore leaves no column of {} to read", path));
  }
  for (const auto& name : options_.targets) {
    const auto c = column_named(table, name, "--target");
    if (ignored.count(c)) {
      throw std::invalid_argument(fmt::format("--target '{}' is also in --ignore", name));
    }
    target_columns.push_back(c);
  }
  std::vector<int64_t> used = feature_columns;
  for (const auto c : target_columns) {
    if (std::find(used.begin(), used.end(), c) == used.end()) used.push_back(c);
  }
  const auto position = [&](int64_t c) {
    return static_cast<int64_t>(std::find(used.begin(), used.end(), c) - used.begin());
  };
  std::vector<int64_t> feature_positions, target_positions;
  for (const auto c : feature_columns) {
    feature_positions.push_back(position(c));
    feature_names_.push_back(table.columns[c]);
  }
  for (const auto c : target_columns) {
    target_positions.push_back(position(c));
    target_names_.push_back(table.columns[c]);
  }

  // Categories: classes from every value present, missing ones aside.
  for (const auto c : used) {
    if (!categorical.count(c)) continue;
    std::vector<std::string> present;
    for (const auto& row : table.rows) {
      if (!is_missing_value(row[c])) present.push_back(row[c]);
    }
    encoders_.emplace(table.columns[c], LabelEncoder(present));
  }

  // Values, row by row, with the missing ones treated as --missing says.
  const auto R = static_cast<int64_t>(table.rows.size());
  const auto U = static_cast<int64_t>(used.size());
  std::vector<double> values;
  values.reserve(static_cast<size_t>(R * U));
  std::vector<int64_t> row_ids;
  std::vector<std::optional<double>> last(static_cast<size_t>(U));
  for (int64_t r = 0; r < R; ++r) {
    const auto& row = table.rows[r];
    std::vector<double> parsed(static_cast<size_t>(U));
    bool keep = true;
    for (int64_t u = 0; u < U; ++u) {
      const int64_t c = used[u];
      const auto& text = row[c];
      const auto where = [&] {
        return fmt::format("{} line {}, column {} ('{}')", path, table.lines[r], c + 1, table.columns[c]);
      };
      std::optional<double> value;
      if (!is_missing_value(text)) {
        if (categorical.count(c)) {
          value = static_cast<double>(encoders_.at(table.columns[c]).code(text));
        } else {
          value = parse_number(text);
          if (!value) {
            throw std::runtime_error(fmt::format(
                "{}: '{}' is not a number; name the column in --categorical to label-encode it, "
                "or in --ignore to leave it out",
                where(), text));
          }
        }
      } else if (options_.missing == "error") {
        throw std::runtime_error(fmt::format(
            "{}, data row {}: missing value '{}'; choose --missing drop, zero or ffill", where(),
            r + 1, text));
      } else if (options_.missing == "zero") {
        value = 0.0;
      } else if (options_.missing == "ffill") {
        value = last[u];  // nothing before a column's first value: the row is dropped
      }
      if (value) {
        last[u] = value;
        parsed[u] = *value;
      } else {
        keep = false;
      }
    }
    if (!keep) continue;
    values.insert(values.end(), parsed.begin(), parsed.end());
    row_ids.push_back(r);
  }
  rows_ = static_cast<int64_t>(row_ids.size());
  dropped_rows_ = R - rows_;
  const int64_t span = options_.n_in + options_.n_out;
  if (rows_ < span) {
    throw std::invalid_argument(fmt::format(
        "{}: {} usable rows ({} dropped as missing) are too few for one sample of --n-in {} and "
        "--n-out {}",
        path, rows_, dropped_rows_, options_.n_in, options_.n_out));
  }
  const auto all = torch::from_blob(values.data(), {rows_, U}, torch::kDouble).clone();

  // Split, scale (fitted where --scale-fit says), frame.
  const auto kind = parse_scale_kind(options_.scale);
  std::vector<SupervisedFrame> parts;
  std::vector<std::vector<int64_t>> part_ids;
  if (!options_.frame_after_split) {
    const auto windows = series_to_supervised(all, row_ids, feature_positions, target_positions,
                                              options_.n_in, options_.n_out);
    const auto S = static_cast<int64_t>(windows.first_row.size());
    if (S == 0) {
      throw std::invalid_argument(fmt::format(
          "{}: no window of {} consecutive rows is left once missing rows are dropped", path, span));
    }
    train_size_ = options_.train_rows > 0 ? options_.train_rows : rounded(options_.train_fraction, S);
    if (options_.train_rows > S) {
      throw std::invalid_argument(fmt::format(
          "--train-rows {} is more than the {} samples {} gives with --n-in {} and --n-out {}",
          options_.train_rows, S, path, options_.n_in, options_.n_out));
    }
    if (train_size_ < 1) {
      throw std::invalid_argument(fmt::format(
          "--train-fraction {} of {} samples leaves none to train on", options_.train_fraction, S));
    }
    validation_size_ = std::min(rounded(options_.val_fraction, S), S - train_size_);
    test_size_ = S - train_size_ - validation_size_;
    const int64_t fit_rows =
        options_.scale_fit == "all" ? rows_ : windows.first_row[train_size_ - 1] + span;
    scaler_ = ColumnScaler(kind, all.narrow(0, 0, fit_rows));
    parts.push_back(series_to_supervised(scaler_.transform(all), row_ids, feature_positions,
                                         target_positions, options_.n_in, options_.n_out));
    part_ids.push_back(row_ids);
  } else {
    const int64_t train_rows =
        options_.train_rows > 0 ? options_.train_rows : rounded(options_.train_fraction, rows_);
    if (train_rows > rows_) {
      throw std::invalid_argument(fmt::format(
          "--train-rows {} is more than the {} usable rows of {}", train_rows, rows_, path));
    }
    const int64_t val_rows = std::min(rounded(options_.val_fraction, rows_), rows_ - train_rows);
    scaler_ = ColumnScaler(kind, all.narrow(0, 0, options_.scale_fit == "all" ? rows_ : train_rows));
    const auto scaled = scaler_.transform(all);
    const int64_t bounds[] = {0, train_rows, train_rows + val_rows, rows_};
    int64_t sizes[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
      const int64_t n = bounds[k + 1] - bounds[k];
      std::vector<int64_t> ids(row_ids.begin() + bounds[k], row_ids.begin() + bounds[k + 1]);
      parts.push_back(series_to_supervised(scaled.narrow(0, bounds[k], n), ids, feature_positions,
                                           target_positions, options_.n_in, options_.n_out));
      part_ids.push_back(std::move(ids));
      sizes[k] = static_cast<int64_t>(parts.back().first_row.size());
    }
    train_size_ = sizes[0];
    validation_size_ = sizes[1];
    test_size_ = sizes[2];
    if (train_size_ < 1) {
      throw std::invalid_argument(fmt::format(
          "--frame-after-split: the {} training rows give no sample of --n-in {} and --n-out {}",
          train_rows, options_.n_in, options_.n_out));
    }
  }
  std::vector<torch::Tensor> inputs, targets;
  for (size_t k = 0; k < parts.size(); ++k) {
    inputs.push_back(parts[k].input);
    targets.push_back(parts[k].target);
    for (const auto row : parts[k].target_row) lines_.push_back(table.lines[part_ids[k][row]]);
  }
  input_ = torch::cat(inputs, 0);
  target_ = torch::cat(targets, 0);
  for (int64_t t = 0; t < options_.n_out; ++t) {
    target_scaler_columns_.insert(target_scaler_columns_.end(), target_positions.begin(),
                                  target_positions.end());
  }
}

int64_t CsvSeries::size(Split split) const {
  switch (split) {
    case Split::Train:
      return train_size_;
    case Split::Validation:
      return validation_size_;
    case Split::Test:
      return test_size_;
  }
  return 0;
}

int64_t CsvSeries::first(Split split) const {
  switch (split) {
    case Split::Train:
      return 0;
    case Split::Validation:
      return train_size_;
    case Split::Test:
      return train_size_ + validation_size_;
  }
  return 0;
}

Batch CsvSeries::examples(Split split, const torch::Tensor& indices) const {
  check_indices(split, indices);
  const auto global = indices + first(split);
  return {input_.index_select(0, global), target_.index_select(0, global)};
}

torch::Tensor CsvSeries::to_original_scale(const torch::Tensor& target) const {
  return scaler_.inverse(target.to(torch::kCPU, torch::kDouble), target_scaler_columns_);
}

std::vector<std::string> CsvSeries::target_labels() const {
  std::vector<std::string> labels;
  for (int64_t t = 0; t < options_.n_out; ++t) {
    for (const auto& name : target_names_) {
      labels.push_back(t == 0 ? name : fmt::format("{}(t+{})", name, t));
    }
  }
  return labels;
}

std::vector<int64_t> CsvSeries::target_lines(Split split) const {
  const auto begin = lines_.begin() + first(split);
  return {begin, begin + size(split)};
}

std::string CsvSeries::describe() const {
  std::string categories;
  for (const auto& [name, encoder] : encoders_) {
    categories += fmt::format("; {} label-encoded ({})", name, fmt::join(encoder.classes(), " "));
  }
  return fmt::format(
      "csv {}: {} rows ({} dropped, --missing {}), {} samples of {} x {} features ({}) -> {} "
      "({} step{}); train {}, validation {}, test {}; {} scaled, fitted on {} rows{}",
      options_.path, rows_ + dropped_rows_, dropped_rows_, options_.missing,
      train_size_ + validation_size_ + test_size_, options_.n_in, feature_names_.size(),
      fmt::join(feature_names_, ","), fmt::join(target_names_, ","), options_.n_out,
      options_.n_out == 1 ? "" : "s", train_size_, validation_size_, test_size_, options_.scale,
      options_.scale_fit == "all" ? "all" : "the training", categories);
}

}  // namespace lstmlab

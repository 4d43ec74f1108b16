#pragma once
// The csv task's data (seed 000): any CSV time series, one row per time step in file order, framed
// by series_to_supervised, scaled per column, split chronologically into train, validation and
// test. Columns are chosen by name; text categories are label-encoded; missing values (empty, NA,
// N/A, nan, null) are refused, zeroed, carried forward or dropped with the windows across them.
// Shapes: input [n, n_in, F], target [n, n_out * K] (F features, K targets; step 0's targets
// first), float64, scaled; to_original_scale() gives targets back in the file's units.

#include "data/column_scaler.h"
#include "data/csv_table.h"
#include "data/dataset.h"
#include "data/label_encoder.h"

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lstmlab {

struct CsvSeriesOptions {
  /// The CSV file (--csv). Required.
  std::string path;
  /// Columns to predict (--target NAME[,NAME..]). Required.
  std::vector<std::string> targets;
  /// Input columns (--features). Default: every column not in `ignore`, targets included.
  std::vector<std::string> features;
  /// Columns never read (--ignore), e.g. a date or a row number.
  std::vector<std::string> ignore;
  /// Text columns label-encoded (--categorical).
  std::vector<std::string> categorical;
  /// error (default: the first missing value is an error naming it), zero, ffill (carry the last
  /// value forward; rows before a column's first value are dropped), drop (drop the row, and every
  /// window across it) (--missing).
  std::string missing = "error";
  /// Steps of input per sample (--n-in). Default: 1, as seed 000.
  int64_t n_in = 1;
  /// Steps of target per sample (--n-out). Default: 1.
  int64_t n_out = 1;
  /// minmax (default, to [0, 1]), standard or none (--scale).
  std::string scale = "minmax";
  /// train (default: fitted on the rows the training samples read) or all (the tutorial's way)
  /// (--scale-fit).
  std::string scale_fit = "train";
  /// Training samples, the first in time (--train-rows); 0: use train_fraction.
  int64_t train_rows = 0;
  /// Fraction of the samples that train, when train_rows is 0 (--train-fraction). Default: 0.8.
  double train_fraction = 0.8;
  /// Fraction of the samples, after the training ones, that validate (--val-fraction). Default: 0;
  /// the rest is the test split.
  double val_fraction = 0;
  /// Seed 000's own order (--frame-after-split): split the rows first (train_rows then counts
  /// rows), then frame each split alone, so each split loses its first n_in + n_out - 1 rows as
  /// samples. Default: frame first, then split the samples (the tutorial's order).
  bool frame_after_split = false;
};

/// Throws std::invalid_argument, one line naming the flag, for options outside their range.
void check_options(const CsvSeriesOptions& options);

/// True for the texts read as a missing value: empty, NA, N/A, nan, null (any case).
bool is_missing_value(const std::string& text);

class CsvSeries : public Dataset {
 public:
  /// Reads and frames the file. Throws std::runtime_error naming the file, the line and the column
  /// for bad data, std::invalid_argument naming the flag for options that do not fit the file.
  explicit CsvSeries(CsvSeriesOptions options);

  std::string name() const override { return "csv"; }
  int64_t size(Split split) const override;
  Batch examples(Split split, const torch::Tensor& indices) const override;
  int64_t input_size() const override { return static_cast<int64_t>(feature_names_.size()); }
  int64_t target_size() const override { return target_.size(1); }
  std::string describe() const override;
  torch::Tensor to_original_scale(const torch::Tensor& target) const override;

  /// Names of the target values in their order: "pollution", or "pollution(t+1)" for later steps.
  std::vector<std::string> target_labels() const;
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  /// The 1-based line of the file that holds each sample's first target (time t), in a split.
  std::vector<int64_t> target_lines(Split split) const;
  /// The classes of each label-encoded column, by name.
  const std::map<std::string, LabelEncoder>& encoders() const { return encoders_; }
  const ColumnScaler& scaler() const { return scaler_; }
  const CsvSeriesOptions& options() const { return options_; }
  /// Rows of the file left out (dropped as missing, or before a column's first value with ffill).
  int64_t dropped_rows() const { return dropped_rows_; }

 private:
  int64_t first(Split split) const;

  CsvSeriesOptions options_;
  std::vector<std::string> feature_names_, target_names_;
  std::vector<int64_t> target_scaler_columns_;  ///< per target value: its column of the scaler
  std::map<std::string, LabelEncoder> encoders_;
  ColumnScaler scaler_;
  torch::Tensor input_;   // [S, n_in, F], every split, in time order
  torch::Tensor target_;  // [S, n_out * K]
  std::vector<int64_t> lines_;  // [S]
  int64_t rows_ = 0;
  int64_t dropped_rows_ = 0;
  int64_t train_size_ = 0, validation_size_ = 0, test_size_ = 0;
};

}  // namespace lstmlab

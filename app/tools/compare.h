#pragma once
// `lstm-lab compare`: both layers from identical initial weights (copied through the weight map)
// on identical batches; per-epoch losses side by side, their largest difference, final metrics and
// the speed of each.

#include "app/train/train_run.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace lstmlab {

struct CompareResult {
  RunResult builtin, scratch;
  std::vector<double> rel_diffs;  ///< per epoch, |scratch - builtin| / |builtin| of the train loss
  double max_rel_diff = 0;        ///< the largest of rel_diffs (inf when one is NaN)
  int64_t worst_epoch = 0;
  int64_t first_epoch_over = 0;  ///< the first epoch whose difference exceeds the tolerance; 0: none
  double tolerance = 0;
  double builtin_epoch_seconds = 0;  ///< median train seconds per epoch
  double scratch_epoch_seconds = 0;
  bool pass() const { return max_rel_diff <= tolerance; }
};

/// The trajectory tolerance: float64 agrees to rounding that grows slowly over the epochs; float32
/// rounding (~6e-8 per operation) compounds through Adam's steps.
double compare_tolerance(const std::string& dtype);

/// `config.model.kind` is ignored: both are trained. Writes out_dir/{builtin,scratch}/ (each a full
/// run directory), out_dir/compare.csv and out_dir/loss.png.
CompareResult run_compare(const RunConfig& config, const std::string& out_dir, bool quiet,
                          bool plots, std::ostream& log);

/// "largest per-epoch train-loss difference: ...: agree" (or DIVERGED), one line.
std::string compare_verdict(const CompareResult& result, const RunConfig& config);
void print_compare(const CompareResult& result, const RunConfig& config, std::ostream& out);

}  // namespace lstmlab
